// SPDX-License-Identifier: MIT
// PackedDeformConvTranspose1d/2d/3d (tvdcn-reference §7.5): transposed deformable convolution layers that
// generate their own offset (and mask) on the input grid with pointwise (kernel 1) convolutions,
// zero-initialised so that a new layer starts as the plain transposed convolution.

import type { Tensor } from '@tvdcn/ops';
import type { IntOrTuple } from '@tvdcn/shape';
import type { SpatialDim } from '@tvdcn/shape';
import type { ConvTransposeLayerOptions } from './conv.js';
import { PackedDeformConvBase, type PackedOptions, withGenerated } from './packed-deform-conv.js';

/** Options of the PackedDeformConvTranspose layers. */
export interface PackedDeformConvTransposeLayerOptions extends ConvTransposeLayerOptions, PackedOptions {}

/**
 * @internal Shared implementation of the PackedDeformConvTranspose layers (PackedDeformConvBase with the
 * transposed forward).
 */
export abstract class PackedDeformConvTransposeNd extends PackedDeformConvBase {
  protected constructor(
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: PackedDeformConvTransposeLayerOptions | undefined,
  ) {
    super(true, dim, inChannels, outChannels, kernelSize, options);
  }

  /**
   * Generates the offset (and mask) on the input grid and applies the transposed deformable convolution.
   *
   * @param input - `[batch, inChannels, *inSize]`, or `[inChannels, *inSize]` unbatched
   * @param outputSize - the wanted output size (N, N + 1 or N + 2 entries); chooses the output padding
   * @returns `[batch, outChannels, *outSize]` (or without `batch`)
   * @throws {@link InvalidArgumentError} for an `outputSize` this layer cannot produce
   */
  forward(input: Tensor, outputSize?: readonly number[] | null): Tensor {
    return withGenerated(this.generate(input), (offset, mask) =>
      this.convTransposeForward(input, offset, mask, outputSize),
    );
  }
}

/**
 * 1D transposed deformable convolution that generates its own offset (and mask) with pointwise
 * convolutions of the input (tvdcn's `PackedDeformConvTranspose1d`).
 *
 * @example
 * ```ts
 * const conv = new PackedDeformConvTranspose1d(3, 5, 3, { stride: 2, modulated: true });
 * conv.forward(rand([2, 3, 8])).shape; // [2, 5, 17]
 * ```
 */
export class PackedDeformConvTranspose1d extends PackedDeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - kW
   * @param options - those of {@link DeformConvTranspose1d}, and offsetGroups, maskGroups, generatorBias,
   *   deformable, modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: PackedDeformConvTransposeLayerOptions,
  ) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2D transposed deformable convolution that generates its own offset (and mask) with pointwise
 * convolutions of the input (tvdcn's `PackedDeformConvTranspose2d`).
 *
 * @example
 * ```ts
 * const conv = new PackedDeformConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
 * conv.forward(rand([1, 4, 8, 8])).shape; // [1, 2, 16, 16]
 * ```
 */
export class PackedDeformConvTranspose2d extends PackedDeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kH, kW]`, or one number for both
   * @param options - those of {@link DeformConvTranspose2d}, and offsetGroups, maskGroups, generatorBias,
   *   deformable, modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: PackedDeformConvTransposeLayerOptions,
  ) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3D transposed deformable convolution that generates its own offset (and mask) with pointwise
 * convolutions of the input (tvdcn's `PackedDeformConvTranspose3d`).
 */
export class PackedDeformConvTranspose3d extends PackedDeformConvTransposeNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kD, kH, kW]`, or one number for all
   * @param options - those of {@link DeformConvTranspose3d}, and offsetGroups, maskGroups, generatorBias,
   *   deformable, modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: PackedDeformConvTransposeLayerOptions,
  ) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
