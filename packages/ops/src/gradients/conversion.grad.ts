// SPDX-License-Identifier: MIT
// Gradients of the copies (ops/conversion.ts): back to the input's dtype or device; clone is the identity.

import type { GradConfig } from '../autograd/gradient-registry.js';
import { cast, toDevice } from '../ops/conversion.js';
import type { Device } from '../tensor/device.js';
import type { DType } from '../tensor/dtype.js';

const castGrad: GradConfig<{ dtype: DType }> = {
  opName: 'cast',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? cast(g, attrs.dtype) : null],
};

const cloneGrad: GradConfig<null> = {
  opName: 'clone',
  backward: (g, { needsGrad }) => [needsGrad[0] ? g : null],
};

/** The link from an unpacked saved tensor to its origin (see SavedTensor.unpack). */
const identityGrad: GradConfig<null> = {
  opName: 'identity',
  backward: (g, { needsGrad }) => [needsGrad[0] ? g : null],
};

const toDeviceGrad: GradConfig<{ device: Device }> = {
  opName: 'toDevice',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? toDevice(g, attrs.device) : null],
};

/** @internal */
export const conversionGradients: readonly GradConfig<never>[] = [
  castGrad,
  cloneGrad,
  identityGrad,
  toDeviceGrad,
] as unknown as readonly GradConfig<never>[];
