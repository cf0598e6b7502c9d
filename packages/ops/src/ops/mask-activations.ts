// SPDX-License-Identifier: MIT
// The mask activations of tvdcn-reference §6: maskSoftmax1d/2d/3d (softmax over each mask group's K
// kernel points, through the native kernel, with its gradient) and maskSigmoid (scale * sigmoid, composed
// of differentiable ops: no gradient of its own).

import { checkMaskSigmoidScale, checkMaskSoftmaxArgs, type SpatialDim } from '@tvdcn/shape';
import type { GradFn } from '../autograd/grad-fn.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { mul, sigmoid, sub, unaryApply } from './elementwise.js';
import { expectTensor } from './op-utils.js';
import { reshapeApply, sumApply } from './primitives.js';

/** What the mask softmax backward needs. */
interface MaskSoftmaxAttrs {
  maskGroups: number;
  kernelPoints: number;
}

/** @internal The dim-generic mask softmax. See NOTE [ Unbatched inputs ] in deform-conv.ts. */
export function maskSoftmaxNd(
  op: string,
  dim: SpatialDim,
  mask: Tensor,
  kernelSize: number | readonly number[],
): Tensor {
  const km = expectTensor(op, mask, 'mask');
  const p = checkMaskSoftmaxArgs(op, dim, mask.shape, kernelSize);
  const m = p.batched ? mask : reshapeApply(op, mask, [1, ...mask.shape]);
  const kernels = getKernels(mask.device, op);
  // An empty mask has nothing to normalise: skip the kernel.
  const storage =
    mask.numel === 0
      ? kernels.zeros(mask.device, mask.dtype, 0)
      : kernels.maskSoftmaxForward({ storage: km.storage, shape: m.shape }, p.maskGroups, p.kernelPoints);
  const out = fromStorage(storage, m.shape);
  if (shouldRecord([m])) {
    const attrs: MaskSoftmaxAttrs = { maskGroups: p.maskGroups, kernelPoints: p.kernelPoints };
    recordOp(out, maskSoftmaxGrad, [m], [out], attrs);
  }
  return p.batched ? out : reshapeApply(op, out, mask.shape);
}

/**
 * maskSoftmax → `s * (g - sum_K(g * s))` per group and position, through the native kernel; with
 * createGraph, the same formula from differentiable ops.
 */
const maskSoftmaxGrad: GradFn<MaskSoftmaxAttrs> = {
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

/**
 * Softmax of a 1D deformable-convolution mask over each mask group's kernel points (DCNv3-style
 * normalisation, Wang et al. 2022, https://arxiv.org/abs/2211.05778): tvdcn's `mask_softmax1d`.
 *
 * @param mask - `[batch, maskGroups * kW, outW]`, or `[maskGroups * kW, outW]` unbatched (unlike tvdcn)
 * @param kernelSize - `kW` (a number or `[kW]`)
 * @returns the same shape; each group's K values at each position sum to 1
 * @throws {@link ShapeMismatchError} when `mask.shape[1]` is not a positive multiple of K
 * @throws {@link InvalidArgumentError} for a bad `kernelSize`
 * @throws {@link NativeLoadError} when the native binary cannot be loaded
 * @example `maskSoftmax1d(zeros([2, 6, 5]), 3).shape` → `[2, 6, 5]` (all values 1/3)
 */
export const maskSoftmax1d = defineOp(
  'maskSoftmax1d',
  (op, mask: Tensor, kernelSize: number | readonly number[]): Tensor => maskSoftmaxNd(op, 1, mask, kernelSize),
);

/**
 * Softmax of a 2D deformable-convolution mask over each mask group's `kH * kW` kernel points: tvdcn's
 * `mask_softmax2d` (Wang et al. 2022, https://arxiv.org/abs/2211.05778).
 *
 * @param mask - `[batch, maskGroups * kH * kW, outH, outW]`, or unbatched without `batch`
 * @param kernelSize - `[kH, kW]` or one number for both
 * @returns the same shape
 * @throws See {@link maskSoftmax1d}.
 * @example `maskSoftmax2d(zeros([1, 9, 4, 4]), 3).toTypedArray()[0]` → `0.111...` (1/9)
 */
export const maskSoftmax2d = defineOp(
  'maskSoftmax2d',
  (op, mask: Tensor, kernelSize: number | readonly number[]): Tensor => maskSoftmaxNd(op, 2, mask, kernelSize),
);

/**
 * Softmax of a 3D deformable-convolution mask over each mask group's `kD * kH * kW` kernel points:
 * tvdcn's `mask_softmax3d`.
 *
 * @param mask - `[batch, maskGroups * kD * kH * kW, outD, outH, outW]`, or unbatched without `batch`
 * @param kernelSize - `[kD, kH, kW]` or one number for all
 * @returns the same shape
 * @throws See {@link maskSoftmax1d}.
 * @example `maskSoftmax3d(zeros([1, 8, 2, 2, 2]), 2).shape` → `[1, 8, 2, 2, 2]`
 */
export const maskSoftmax3d = defineOp(
  'maskSoftmax3d',
  (op, mask: Tensor, kernelSize: number | readonly number[]): Tensor => maskSoftmaxNd(op, 3, mask, kernelSize),
);

/**
 * `scale * sigmoid(mask)`: tvdcn's `mask_sigmoid`. The default scale 2 makes a zero-initialised mask
 * generator give mask 1 (an ordinary convolution).
 *
 * @param mask - any shape
 * @param scale - positive (default 2)
 * @throws {@link InvalidArgumentError} for a scale that is not a positive finite number
 * @example `maskSigmoid(zeros([2])).toArray()` → `[1, 1]`
 */
export const maskSigmoid = defineOp('maskSigmoid', (op, mask: Tensor, scale: number = 2): Tensor => {
  expectTensor(op, mask, 'mask');
  const s = checkMaskSigmoidScale(op, scale);
  return unaryApply(op, 'mulScalar', sigmoid(mask), s, 'none');
});
