// SPDX-License-Identifier: MIT
// Gradient of the mask softmax: `s * (g - sum_K(g * s))` per group and position, through the native
// kernel; with createGraph, the same formula from differentiable ops (maskSigmoid is composed of
// differentiable ops and needs no gradient of its own).

import { isGradEnabled } from '../autograd/grad-mode.js';
import type { GradConfig } from '../autograd/gradient-registry.js';
import { getKernels } from '../backends/registry.js';
import { mul, sub } from '../ops/elementwise.js';
import type { MaskSoftmaxAttrs } from '../ops/mask-activations.js';
import { expectTensor } from '../ops/op-utils.js';
import { sumApply } from '../ops/reduce.js';
import { reshapeApply } from '../ops/shape-ops.js';
import { fromStorage, type Tensor } from '../tensor/tensor.js';

const maskSoftmaxGrad: GradConfig<MaskSoftmaxAttrs> = {
  opName: 'maskSoftmax',
  backward: (g, { needsGrad, saved, attrs }) => {
    if (!needsGrad[0]) return [null];
    const s = saved[0] as Tensor;
    const kernels = getKernels(g.device, 'maskSoftmax');
    if (g.numel === 0) return [fromStorage(kernels.zeros(g.device, g.dtype, 0), g.shape)];
    if (isGradEnabled()) {
      // [B, MG * K, ...] viewed as [B, MG, K, rest]: reduce over K.
      const grouped = [
        g.shape[0],
        attrs.maskGroups,
        attrs.kernelPoints,
        g.numel / (g.shape[0] * attrs.maskGroups * attrs.kernelPoints),
      ];
      const gs = reshapeApply('maskSoftmax', g, grouped);
      const ss = reshapeApply('maskSoftmax', s, grouped);
      const dot = sumApply('maskSoftmax', mul(gs, ss), [2], true);
      return [reshapeApply('maskSoftmax', mul(ss, sub(gs, dot)), g.shape)];
    }
    const out = kernels.maskSoftmaxBackward(
      expectTensor('maskSoftmax', s, 'saved'),
      expectTensor('maskSoftmax', g, 'gradOutput'),
      attrs.maskGroups,
      attrs.kernelPoints,
    );
    return [fromStorage(out, g.shape)];
  },
};

/** @internal */
export const maskActivationGradients: readonly GradConfig<never>[] = [
  maskSoftmaxGrad,
] as unknown as readonly GradConfig<never>[];
