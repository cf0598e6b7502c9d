// SPDX-License-Identifier: MIT
// DeformConvTranspose1d/2d/3d (tvdcn-reference §7.3, arXiv 2210.09446): a transposed convolution layer
// whose offset and mask are given to `forward`. The generated-offset layers are in
// packed-deform-conv-transpose.ts.

import type { Tensor } from '@tvdcn/ops';
import type { IntOrTuple } from '@tvdcn/shape';
import { CONV_TRANSPOSE_OPTION_KEYS, type ConvTransposeLayerOptions, ConvNdBase } from './conv.js';
import type { SpatialDim } from '@tvdcn/shape';

/** Options of {@link DeformConvTranspose1d}, {@link DeformConvTranspose2d} and {@link DeformConvTranspose3d}. */
export type DeformConvTransposeLayerOptions = ConvTransposeLayerOptions;

/**
 * @internal Shared implementation of the DeformConvTranspose layers.
 */
export abstract class DeformConvTransposeNd extends ConvNdBase {
  protected constructor(
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: DeformConvTransposeLayerOptions | undefined,
  ) {
    super(
      { typeName: `DeformConvTranspose${dim}d`, dim, transposed: true, optionKeys: CONV_TRANSPOSE_OPTION_KEYS },
      inChannels,
      outChannels,
      kernelSize,
      options,
    );
  }

  /**
   * The transposed deformable convolution of `input`.
   *
   * @param input - `[batch, inChannels, *inSize]`, or `[inChannels, *inSize]` unbatched
   * @param offset - `[batch, offsetGroups * N * K, *inSize]`: offsets live on the input grid (default null)
   * @param mask - `[batch, maskGroups * K, *inSize]` (default null)
   * @param outputSize - the wanted output size (N spatial entries, or N + 1 / N + 2 with the leading
   *   dimensions, which are ignored); chooses the output padding instead of the constructor's
   * @returns `[batch, outChannels, *outSize]` (or without `batch`)
   * @throws {@link InvalidArgumentError} for an `outputSize` outside the sizes this layer can produce
   * @throws {@link ShapeMismatchError} for tensors whose shapes do not fit
   */
  forward(
    input: Tensor,
    offset: Tensor | null = null,
    mask: Tensor | null = null,
    outputSize?: readonly number[] | null,
  ): Tensor {
    return this.convTransposeForward(input, offset, mask, outputSize);
  }
}

/**
 * 1D transposed deformable convolution layer (https://arxiv.org/abs/2210.09446), tvdcn's
 * `DeformConvTranspose1d`.
 *
 * @example
 * ```ts
 * const conv = new DeformConvTranspose1d(3, 5, 3, { stride: 2 });
 * conv.forward(rand([4, 3, 8]), rand([4, 3, 8])).shape; // [4, 5, 17]
 * ```
 */
export class DeformConvTranspose1d extends DeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - kW
   * @param options - stride, padding, outputPadding, dilation, groups, bias, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters (and a `paddingMode` other than `'zeros'`)
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: DeformConvTransposeLayerOptions,
  ) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2D transposed deformable convolution layer (https://arxiv.org/abs/2210.09446), tvdcn's
 * `DeformConvTranspose2d`.
 *
 * @example
 * ```ts
 * const conv = new DeformConvTranspose2d(3, 5, 3);
 * conv.forward(rand([4, 3, 8, 8]), rand([4, 18, 8, 8]), rand([4, 9, 8, 8])).shape; // [4, 5, 10, 10]
 * ```
 */
export class DeformConvTranspose2d extends DeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kH, kW]`, or one number for both
   * @param options - stride, padding, outputPadding, dilation, groups, bias, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters (and a `paddingMode` other than `'zeros'`)
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: DeformConvTransposeLayerOptions,
  ) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3D transposed deformable convolution layer (https://arxiv.org/abs/2210.09446), tvdcn's
 * `DeformConvTranspose3d`.
 */
export class DeformConvTranspose3d extends DeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kD, kH, kW]`, or one number for all
   * @param options - stride, padding, outputPadding, dilation, groups, bias, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters (and a `paddingMode` other than `'zeros'`)
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: DeformConvTransposeLayerOptions,
  ) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
