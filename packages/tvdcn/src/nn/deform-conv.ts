// SPDX-License-Identifier: MIT
// DeformConv1d/2d/3d (tvdcn-reference §7.2): a convolution layer whose offset and mask are given to
// `forward`. The generated-offset layers are in packed-deform-conv.ts.

import type { Tensor } from '@tvdcn/ops';
import type { IntOrTuple } from '@tvdcn/shape';
import { CONV_OPTION_KEYS, type ConvLayerOptions, ConvNdBase } from './conv.js';
import type { SpatialDim } from '@tvdcn/shape';

/** Options of {@link DeformConv1d}, {@link DeformConv2d} and {@link DeformConv3d}. */
export type DeformConvLayerOptions = ConvLayerOptions;

/**
 * @internal Shared implementation of {@link DeformConv1d}, {@link DeformConv2d} and {@link DeformConv3d}.
 */
export abstract class DeformConvNd extends ConvNdBase {
  protected constructor(
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: DeformConvLayerOptions | undefined,
  ) {
    super(
      { typeName: `DeformConv${dim}d`, dim, transposed: false, optionKeys: CONV_OPTION_KEYS },
      inChannels,
      outChannels,
      kernelSize,
      options,
    );
  }

  /**
   * The deformable convolution of `input` (DCNv1, or DCNv2 with a mask).
   *
   * @param input - `[batch, inChannels, *inSize]`, or `[inChannels, *inSize]` unbatched
   * @param offset - `[batch, offsetGroups * N * K, *outSize]` (default null: no deformation). Channels hold,
   *   per offset group and kernel point in row-major kernel order, the N displacements (dy, dx for 2D)
   * @param mask - `[batch, maskGroups * K, *outSize]` (default null: no modulation)
   * @returns `[batch, outChannels, *outSize]` (or without `batch`)
   * @throws {@link ShapeMismatchError} for tensors whose shapes do not fit (see `deformConv2d`)
   */
  forward(input: Tensor, offset: Tensor | null = null, mask: Tensor | null = null): Tensor {
    return this.convForward(input, offset, mask);
  }
}

/**
 * 1D deformable convolution layer (https://arxiv.org/abs/1811.11168), tvdcn's `DeformConv1d`: the offset
 * and the optional mask are inputs of `forward`.
 *
 * @example
 * ```ts
 * const conv = new DeformConv1d(3, 16, 3);
 * conv.forward(rand([2, 3, 64]), rand([2, 3, 62])).shape; // [2, 16, 62]
 * ```
 */
export class DeformConv1d extends DeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - kW
   * @param options - stride, padding (numbers, `'same'` or `'valid'`), dilation, groups, bias, paddingMode,
   *   device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: DeformConvLayerOptions) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2D deformable convolution layer (https://arxiv.org/abs/1811.11168), tvdcn's `DeformConv2d`: the offset
 * and the optional mask are inputs of `forward`.
 *
 * @example
 * ```ts
 * const conv = new DeformConv2d(3, 16, 3);
 * const out = conv.forward(rand([2, 3, 64, 64]), rand([2, 18, 62, 62]), rand([2, 9, 62, 62]));
 * out.shape; // [2, 16, 62, 62]
 * ```
 */
export class DeformConv2d extends DeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kH, kW]`, or one number for both
   * @param options - stride, padding (numbers, `'same'` or `'valid'`), dilation, groups, bias, paddingMode,
   *   device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: DeformConvLayerOptions) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3D deformable convolution layer (https://arxiv.org/abs/1811.11168), tvdcn's `DeformConv3d`: the offset
 * and the optional mask are inputs of `forward`.
 *
 * @example
 * ```ts
 * const conv = new DeformConv3d(3, 5, 3);
 * conv.forward(rand([4, 3, 10, 10, 10]), rand([4, 81, 8, 8, 8])).shape; // [4, 5, 8, 8, 8]
 * ```
 */
export class DeformConv3d extends DeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kD, kH, kW]`, or one number for all
   * @param options - stride, padding (numbers, `'same'` or `'valid'`), dilation, groups, bias, paddingMode,
   *   device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: DeformConvLayerOptions) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
