// SPDX-License-Identifier: MIT
// Gradient of the transposed deformable convolution: the same native backward as the regular op
// (params.transposed selects the transposed formulas, tvdcn-reference §5).

import type { GradConfig } from '../autograd/gradient-registry.js';
import type { DeformConvAttrs } from '../ops/deform-conv.js';
import { deformConvNdBackward } from './deform-conv.grad.js';

const deformConvTransposeGrad: GradConfig<DeformConvAttrs> = {
  opName: 'deformConvTranspose',
  backward: deformConvNdBackward,
};

/** @internal */
export const deformConvTransposeGradients: readonly GradConfig<never>[] = [
  deformConvTransposeGrad,
] as unknown as readonly GradConfig<never>[];
