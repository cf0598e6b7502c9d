// SPDX-License-Identifier: MIT
// deformConvTranspose1d/2d/3d: one-line wrappers over deformConvNd (ops/deform-conv.ts) with
// transposed = true, which records the transposed gradient of deform-conv.grad.ts.

import type { Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { deformConvNd, type DeformConvTransposeOptions } from './deform-conv.js';

/**
 * 1D transposed deformable convolution (Blumberg et al. 2022, https://arxiv.org/abs/2210.09446):
 * tvdcn's `deform_conv_transpose1d`. Each input position scatters `W^T x` to its regular output
 * position plus a learned offset, split linearly between the two neighbours; it is the adjoint of
 * {@link deformConv1d} with the same weight, offset and mask.
 *
 * @param input - `[batch, inChannels, inW]`, or `[inChannels, inW]` unbatched
 * @param weight - `[inChannels, outChannels / groups, kW]`
 * @param options - `offset` `[batch, offsetGroups * kW, inW]` and `mask` `[batch, maskGroups * kW, inW]`
 *   (on the INPUT grid), `bias` `[outChannels]`, `stride` (1), `padding` (0), `outputPadding` (0),
 *   `dilation` (1), `groups` (1)
 * @returns `[batch, outChannels, outW]` with `outChannels = weight.shape[1] * groups` and
 *   `outW = (inW - 1) * stride - 2 * padding + dilation * (kW - 1) + 1 + outputPadding`
 * @throws {@link ShapeMismatchError} for shapes that do not fit, including `outChannels` not divisible by
 *   the offset or mask groups
 * @throws {@link InvalidArgumentError} for bad hyper-parameters, e.g. `outputPadding >= max(stride, dilation)`
 * @throws {@link DTypeMismatchError}, {@link DeviceMismatchError}, {@link NativeLoadError}
 * @example
 * ```ts
 * deformConvTranspose1d(randn([2, 3, 8]), randn([3, 5, 3]), { stride: 2 }).shape; // [2, 5, 17]
 * ```
 */
export const deformConvTranspose1d = defineOp(
  'deformConvTranspose1d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvTransposeOptions): Tensor =>
    deformConvNd(op, 1, true, input, weight, options),
);

/**
 * 2D transposed deformable convolution (Blumberg et al. 2022, https://arxiv.org/abs/2210.09446):
 * tvdcn's `deform_conv_transpose2d`, with bilinear splatting. With `offset` and `mask` null it equals
 * an ordinary `conv_transpose2d`.
 *
 * @param input - `[batch, inChannels, inH, inW]`, or `[inChannels, inH, inW]` unbatched
 * @param weight - `[inChannels, outChannels / groups, kH, kW]`
 * @param options - `offset` `[batch, offsetGroups * 2 * kH * kW, inH, inW]`, `mask`
 *   `[batch, maskGroups * kH * kW, inH, inW]`, `bias` `[outChannels]`, `stride`, `padding`,
 *   `outputPadding`, `dilation`, `groups` (see {@link deformConvTranspose1d})
 * @returns `[batch, outChannels, outH, outW]` (unbatched: without `batch`)
 * @throws See {@link deformConvTranspose1d}.
 * @example
 * ```ts
 * const y = deformConvTranspose2d(randn([4, 3, 8, 8]), randn([3, 5, 3, 3]), {
 *   offset: randn([4, 18, 8, 8]), mask: rand([4, 9, 8, 8]),
 * });
 * y.shape; // [4, 5, 10, 10]
 * ```
 */
export const deformConvTranspose2d = defineOp(
  'deformConvTranspose2d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvTransposeOptions): Tensor =>
    deformConvNd(op, 2, true, input, weight, options),
);

/**
 * 3D transposed deformable convolution (Blumberg et al. 2022, https://arxiv.org/abs/2210.09446):
 * tvdcn's `deform_conv_transpose3d`, with trilinear splatting.
 *
 * @param input - `[batch, inChannels, inD, inH, inW]`, or unbatched without `batch`
 * @param weight - `[inChannels, outChannels / groups, kD, kH, kW]`
 * @param options - `offset` `[batch, offsetGroups * 3 * kD * kH * kW, inD, inH, inW]`, `mask`
 *   `[batch, maskGroups * kD * kH * kW, inD, inH, inW]`, and the rest as {@link deformConvTranspose1d}
 * @returns `[batch, outChannels, outD, outH, outW]` (unbatched: without `batch`)
 * @throws See {@link deformConvTranspose1d}.
 * @example
 * ```ts
 * deformConvTranspose3d(randn([1, 2, 4, 4, 4]), randn([2, 3, 3, 3, 3])).shape; // [1, 3, 6, 6, 6]
 * ```
 */
export const deformConvTranspose3d = defineOp(
  'deformConvTranspose3d',
  (op, input: Tensor, weight: Tensor, options?: DeformConvTransposeOptions): Tensor =>
    deformConvNd(op, 3, true, input, weight, options),
);
