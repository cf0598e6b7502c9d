// SPDX-License-Identifier: MIT
// PackedDeformConvTranspose1d/2d/3d (tvdcn-reference §7.5): transposed deformable convolution layers that
// generate their own offset (and mask) on the input grid with pointwise (kernel 1) convolutions,
// zero-initialised so that a new layer starts as the plain transposed convolution.

import type { Tensor } from '@tvdcn/ops';
import type { IntOrTuple } from '@tvdcn/shape';
import {
  CONV_TRANSPOSE_OPTION_KEYS,
  type ConvNd,
  ConvNdBase,
  type ConvTransposeLayerOptions,
  type SpatialDims,
} from './conv.js';
import type { JsonValue } from './module.js';
import {
  type Activation,
  PACKED_OPTION_KEYS,
  type PackedOptions,
  PackedParts,
  resolvePackedOptions,
  zeroConv,
} from './packed-deform-conv.js';

/** Options of the PackedDeformConvTranspose layers. */
export interface PackedDeformConvTransposeLayerOptions extends ConvTransposeLayerOptions, PackedOptions {}

const PACKED_CONV_TRANSPOSE_OPTION_KEYS = [...CONV_TRANSPOSE_OPTION_KEYS, ...PACKED_OPTION_KEYS];

/**
 * @internal Shared implementation of the PackedDeformConvTranspose layers.
 */
export abstract class PackedDeformConvTransposeNd extends ConvNdBase {
  readonly #parts: PackedParts;

  protected constructor(
    dim: SpatialDims,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: PackedDeformConvTransposeLayerOptions | undefined,
  ) {
    super(
      { typeName: `PackedDeformConvTranspose${dim}d`, dim, transposed: true, optionKeys: PACKED_CONV_TRANSPOSE_OPTION_KEYS },
      inChannels,
      outChannels,
      kernelSize,
      options,
    );
    const setup = resolvePackedOptions(`new ${this.typeName}`, dim, this.inChannels, this.outChannels, this.kernelSize, options ?? {});
    this.#parts = new PackedParts(
      this,
      setup,
      (generatorOut, groups) =>
        zeroConv(dim, this.inChannels, generatorOut, 1, {
          groups,
          bias: setup.generatorBias,
          device: options?.device,
          dtype: options?.dtype,
        }),
      dim,
      this.kernelPoints,
    );
  }

  /** Groups of input channels with their own offsets. */
  get offsetGroups(): number {
    return this.#parts.setup.offsetGroups;
  }

  /** Groups of input channels with their own mask. */
  get maskGroups(): number {
    return this.#parts.setup.maskGroups;
  }

  /** Whether offsets are generated. */
  get deformable(): boolean {
    return this.#parts.setup.deformable;
  }

  /** Whether a mask is generated. */
  get modulated(): boolean {
    return this.#parts.setup.modulated;
  }

  /** The offset generator: a pointwise (kernel 1) convolution of the input; null when not deformable. */
  get offsetGenerator(): ConvNd | null {
    return this.#parts.offsetGenerator;
  }

  /** The mask generator: a pointwise convolution of the input; null when not modulated. */
  get maskGenerator(): ConvNd | null {
    return this.#parts.maskGenerator;
  }

  /** The activation applied to the generated offset, or null. */
  get offsetActivation(): Activation | null {
    return this.#parts.setup.offsetActivation;
  }

  /** The activation applied to the generated mask, or null. */
  get maskActivation(): Activation | null {
    return this.#parts.setup.maskActivation;
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
    const { offset, mask } = this.#parts.generate(input);
    return this.convTransposeForward(input, offset, mask, outputSize);
  }

  /** Re-draws weight and bias (PyTorch's initialisation) and zeroes the generators, in place. */
  override resetParameters(): void {
    super.resetParameters();
    this.#parts.zeroGenerators();
  }

  /** @internal The packed layer's extra repr fields. */
  protected override reprExtras(): { offsetGroups: number; maskGroups: number; deformable: boolean; modulated: boolean } {
    return this.#parts.reprExtras();
  }

  /** @internal The JSON config: the convolution's plus the packed options. */
  protected override config(): { [key: string]: JsonValue } {
    return { ...super.config(), ...this.#parts.config(`${this.typeName}.toJSON`) };
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
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvTransposeLayerOptions) {
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
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvTransposeLayerOptions) {
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
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvTransposeLayerOptions) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
