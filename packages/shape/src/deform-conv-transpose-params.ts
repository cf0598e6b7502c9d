// SPDX-License-Identifier: MIT
// Checks of a transposed deformable convolution call (tvdcn-reference §3.5, §5). The shared implementation
// is in deform-conv-params.ts; this file only states the transposed contract.

import {
  checkDeformConvNdArgs,
  type DeformConvParams,
  type DeformConvShapes,
  type DeformConvTransposeHyperparameters,
  type SpatialDim,
} from './deform-conv-params.js';

/**
 * Validates the shapes and hyper-parameters of a transposed deformable convolution
 * (`deformConvTranspose{1,2,3}d`, arXiv 2210.09446) and returns the resolved geometry.
 *
 * Layouts: weight `[inChannels, outChannels / groups, *kernelSize]`, `outChannels = weight.shape[1] * groups`;
 * offset `[B, offsetGroups * N * K, *inSize]` and mask `[B, maskGroups * K, *inSize]` live on the INPUT grid.
 * Output size per dimension: `(in - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + outputPadding`.
 *
 * Stricter than tvdcn (api.md): `weight.shape[0]` must equal `inChannels`; `outputPadding` must be smaller
 * than `max(stride, dilation)`; `offsetGroups` and `maskGroups` must divide `outChannels` as well as
 * `inChannels` (the kernels split output channels into offset/mask groups); the output size must be
 * positive; `bias` must be `[outChannels]`.
 *
 * @param op - public op name used as the message prefix, e.g. `'deformConvTranspose2d'`
 * @param dim - N, the number of spatial dimensions
 * @param shapes - shapes of input, weight and the optional offset, mask and bias
 * @param options - stride, padding, outputPadding, dilation (numbers or N-arrays), groups
 * @returns the resolved {@link DeformConvParams} (`transposed: true`)
 * @throws {@link ShapeMismatchError} for shapes that do not fit together
 * @throws {@link InvalidArgumentError} for a bad hyper-parameter
 *
 * @example
 * ```ts
 * const p = checkDeformConvTransposeArgs('deformConvTranspose2d', 2, {
 *   input: [4, 3, 8, 8], weight: [3, 5, 3, 3], offset: [4, 18, 8, 8], mask: [4, 9, 8, 8],
 * });
 * p.outputShape; // [4, 5, 10, 10]
 * ```
 */
export function checkDeformConvTransposeArgs(
  op: string,
  dim: SpatialDim,
  shapes: DeformConvShapes,
  options?: DeformConvTransposeHyperparameters,
): DeformConvParams {
  return checkDeformConvNdArgs(op, dim, shapes, options, true);
}
