// SPDX-License-Identifier: MIT
// PackedDeformConv1d/2d/3d (tvdcn-reference §7.4): deformable convolution layers that generate their own
// offset (and mask) with ordinary convolutions of the input, zero-initialised so that a new layer starts
// as the plain convolution; and PackedDeformConvBase, the one definition of the regular and the transposed
// packed layers (packed-deform-conv-transpose.ts adds only the transposed forward).

import { type DType, isTensor, type Tensor } from '@tvdcn/ops';
import {
  type IntOrTuple,
  InvalidArgumentError,
  ShapeMismatchError,
  expectPositiveInteger,
  formatShape,
  formatValue,
} from '@tvdcn/shape';
import {
  CONV_CLASSES,
  CONV_OPTION_KEYS,
  CONV_TRANSPOSE_OPTION_KEYS,
  type ConvLayerOptions,
  type ConvNd,
  ConvNdBase,
  type ConvTransposeLayerOptions,
  expectBoolean,
} from './conv.js';
import type { SpatialDim } from '@tvdcn/shape';
import { zeros_ } from './init.js';
import { MaskSigmoid, MaskSoftmax1d, MaskSoftmax2d, MaskSoftmax3d } from './mask-activations.js';
import { type JsonValue, Module } from './module.js';

/** An activation given as a plain function (cannot be serialised by `toJSON()`). */
export type ActivationFunction = (input: Tensor) => Tensor;

/** An activation given as a module: any {@link Module} whose `forward` maps one tensor to one tensor. */
export type ActivationModule = Module & {
  /** The activation applied to the generated offset or mask. */
  forward(input: Tensor): Tensor;
};

/** An offset or mask activation: a module (serialisable when it has a JSON form) or a function. */
export type Activation = ActivationModule | ActivationFunction;

/**
 * The `maskActivation` option: `'sigmoid'` ({@link MaskSigmoid} with scale 2, the default), `'softmax'`
 * ({@link MaskSoftmax2d} over the kernel points, DCNv3), a module, a function, or null (the raw generator
 * output).
 */
export type MaskActivationOption = 'sigmoid' | 'softmax' | Activation | null;

/** Options the packed layers add to those of the plain layers. */
export interface PackedOptions {
  /** Groups of input channels with their own offsets (default 1); divides `inChannels` and `outChannels`. */
  offsetGroups?: number;
  /** Groups of input channels with their own mask (default 1); divides `inChannels` and `outChannels`. */
  maskGroups?: number;
  /** Give the offset and mask generators a bias (default false). */
  generatorBias?: boolean;
  /** Generate offsets (default true); false gives the plain (modulated) convolution. */
  deformable?: boolean;
  /** Generate a mask (DCNv2; default false). */
  modulated?: boolean;
  /** Applied to the generated offset (default null: none). */
  offsetActivation?: Activation | null;
  /** Applied to the generated mask (default `'sigmoid'`). */
  maskActivation?: MaskActivationOption;
}

/** Options of {@link PackedDeformConv1d}, {@link PackedDeformConv2d} and {@link PackedDeformConv3d}. */
export interface PackedDeformConvLayerOptions extends ConvLayerOptions, PackedOptions {}

/** The option keys of {@link PackedOptions}. */
export const PACKED_OPTION_KEYS = [
  'offsetGroups',
  'maskGroups',
  'generatorBias',
  'deformable',
  'modulated',
  'offsetActivation',
  'maskActivation',
] as const;

const PACKED_CONV_OPTION_KEYS = [...CONV_OPTION_KEYS, ...PACKED_OPTION_KEYS];
const PACKED_CONV_TRANSPOSE_OPTION_KEYS = [...CONV_TRANSPOSE_OPTION_KEYS, ...PACKED_OPTION_KEYS];

const MASK_SOFTMAX_CLASSES = { 1: MaskSoftmax1d, 2: MaskSoftmax2d, 3: MaskSoftmax3d } as const;

/** @internal Applies an activation module or function. */
export function applyActivation(activation: Activation, input: Tensor): Tensor {
  return typeof activation === 'function' ? activation(input) : activation.forward(input);
}

/**
 * Applies `activation` to `raw`, a tensor of the layer's own, then disposes `raw` unless the activation
 * returned it. Intermediate tensors are disposed at once rather than left to the garbage collector: what
 * autograd saved or queued work still uses keeps its memory until then, and a forward leaves less garbage
 * (a server's event loop pays for every collection).
 */
function activateAndRelease(activation: Activation, raw: Tensor): Tensor {
  const out = applyActivation(activation, raw);
  if (out !== raw) raw.dispose();
  return out;
}

/** @internal Runs `conv` on the generated offset and mask, then disposes them (see activateAndRelease). */
export function withGenerated(
  generated: { offset: Tensor | null; mask: Tensor | null },
  conv: (offset: Tensor | null, mask: Tensor | null) => Tensor,
): Tensor {
  const { offset, mask } = generated;
  try {
    return conv(offset, mask);
  } finally {
    offset?.dispose();
    mask?.dispose();
  }
}

/** @internal The JSON form of an activation; functions have none. */
export function activationJSON(op: string, argument: string, activation: Activation | null): JsonValue {
  if (activation === null) return null;
  if (typeof activation === 'function') {
    throw new InvalidArgumentError(
      `${op}(): expected ${argument} to be null or a module with a JSON form, but got ${formatValue(activation)}; ` +
        'a function cannot be serialised: use a module (MaskSigmoid, MaskSoftmax2d, Sigmoid, Tanh, ReLU, or a ' +
        'Module subclass with config())',
      argument,
    );
  }
  return activation.toJSON();
}

/** @internal What the packed layers resolve from their options. */
export interface PackedSetup {
  offsetGroups: number;
  maskGroups: number;
  generatorBias: boolean;
  deformable: boolean;
  modulated: boolean;
  offsetActivation: Activation | null;
  maskActivation: Activation | null;
}

/**
 * @internal Checks the packed options (tvdcn-reference §7.4): groups dividing both channel counts, and
 * the activations (`'sigmoid'` / `'softmax'` become modules).
 */
export function resolvePackedOptions(
  op: string,
  dim: SpatialDim,
  inChannels: number,
  outChannels: number,
  kernelSize: readonly number[],
  options: PackedOptions,
): PackedSetup {
  const offsetGroups = expectPositiveInteger(op, 'offsetGroups', options.offsetGroups ?? 1);
  const maskGroups = expectPositiveInteger(op, 'maskGroups', options.maskGroups ?? 1);
  for (const [argument, groups] of [
    ['offsetGroups', offsetGroups],
    ['maskGroups', maskGroups],
  ] as const) {
    for (const [name, channels] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (channels % groups !== 0) {
        throw new InvalidArgumentError(
          `${op}(): expected ${name} to be divisible by ${argument} = ${groups}, but got ${name} = ${channels}`,
          argument,
        );
      }
    }
  }
  const offsetActivation = options.offsetActivation ?? null;
  if (offsetActivation !== null && typeof offsetActivation !== 'function' && !(offsetActivation instanceof Module)) {
    throw new InvalidArgumentError(
      `${op}(): expected offsetActivation to be a Module, a function or null (no activation is built in for ` +
        `offsets), but got ${formatValue(offsetActivation)}`,
      'offsetActivation',
    );
  }
  const requested = options.maskActivation === undefined ? 'sigmoid' : options.maskActivation;
  let maskActivation: Activation | null;
  if (requested === 'sigmoid') maskActivation = new MaskSigmoid(2);
  else if (requested === 'softmax') maskActivation = new MASK_SOFTMAX_CLASSES[dim](kernelSize);
  else if (requested === null || typeof requested === 'function' || requested instanceof Module)
    maskActivation = requested;
  else {
    throw new InvalidArgumentError(
      `${op}(): expected maskActivation to be 'sigmoid', 'softmax', a Module, a function or null, but got ${formatValue(requested)}`,
      'maskActivation',
    );
  }
  return {
    offsetGroups,
    maskGroups,
    generatorBias: expectBoolean(op, 'generatorBias', options.generatorBias, false),
    deformable: expectBoolean(op, 'deformable', options.deformable, true),
    modulated: expectBoolean(op, 'modulated', options.modulated, false),
    offsetActivation,
    maskActivation,
  };
}

/**
 * @internal A zero-initialised generator convolution (weights made on the CPU, zeroed, then moved to the
 * layer's device and dtype).
 */
export function zeroConv(
  dim: SpatialDim,
  inChannels: number,
  outChannels: number,
  kernelSize: IntOrTuple,
  options: ConvLayerOptions,
): ConvNd {
  const { device = 'cpu', dtype = 'float32', ...rest } = options;
  const cpuDType: DType = dtype === 'float64' ? 'float64' : 'float32';
  const conv = new CONV_CLASSES[dim](inChannels, outChannels, kernelSize, { ...rest, dtype: cpuDType });
  for (const p of conv.parameters()) zeros_(p);
  if (device !== 'cpu' || dtype !== cpuDType) conv.to({ device, dtype });
  return conv;
}

/**
 * @internal The packed layers' shared state: generators and activations registered in tvdcn's order
 * (`offset_generator`, `mask_generator`, then the activations that are modules), their forward, repr
 * fields, JSON config and re-initialisation.
 */
export class PackedParts {
  readonly setup: PackedSetup;
  readonly offsetGenerator: ConvNd | null;
  readonly maskGenerator: ConvNd | null;
  readonly #owner: ConvNdBase;

  constructor(
    owner: ConvNdBase,
    setup: PackedSetup,
    makeGenerator: (outChannels: number, groups: number) => ConvNd,
    dim: SpatialDim,
    kernelPoints: number,
  ) {
    this.setup = setup;
    this.#owner = owner;
    this.offsetGenerator = setup.deformable
      ? makeGenerator(dim * kernelPoints * setup.offsetGroups, setup.offsetGroups)
      : null;
    this.maskGenerator = setup.modulated ? makeGenerator(kernelPoints * setup.maskGroups, setup.maskGroups) : null;
    owner.registerModule('offset_generator', this.offsetGenerator);
    owner.registerModule('mask_generator', this.maskGenerator);
    if (setup.offsetActivation instanceof Module) owner.registerModule('offset_activation', setup.offsetActivation);
    if (setup.maskActivation instanceof Module) owner.registerModule('mask_activation', setup.maskActivation);
  }

  /**
   * Checks `input` against the layer, so that a wrong input is reported as the layer's (not as a
   * mismatch with the offset generator's weight, which runs first).
   * @throws {@link InvalidArgumentError} when `input` is not a tensor
   * @throws {@link ShapeMismatchError} for a wrong number of dimensions or of channels
   */
  checkInput(input: Tensor): void {
    const { typeName, dim, inChannels } = this.#owner;
    const op = `${typeName}.forward`;
    if (!isTensor(input)) {
      throw new InvalidArgumentError(`${op}(): expected input to be a Tensor, but got ${formatValue(input)}`, 'input');
    }
    if (input.ndim !== dim + 1 && input.ndim !== dim + 2) {
      throw new ShapeMismatchError(
        `${op}(): expected input to have ${dim + 1} (unbatched) or ${dim + 2} (batched) dimensions ` +
          `[batch?, inChannels, ${['L', 'H, W', 'D, H, W'][dim - 1]}], but got input with shape ${formatShape(input.shape)}`,
      );
    }
    const c = input.ndim === dim + 2 ? 1 : 0;
    if (input.shape[c] !== inChannels) {
      throw new ShapeMismatchError(
        `${op}(): expected input.shape[${c}] (inChannels) to equal ${inChannels}, but got input with shape ` +
          formatShape(input.shape),
      );
    }
  }

  /** The generated offset and mask for `input` (null when not deformable / not modulated). */
  generate(input: Tensor): { offset: Tensor | null; mask: Tensor | null } {
    this.checkInput(input);
    const { offsetActivation, maskActivation } = this.setup;
    let offset: Tensor | null = null;
    let mask: Tensor | null = null;
    if (this.offsetGenerator !== null) {
      offset = this.offsetGenerator.forward(input);
      if (offsetActivation !== null) offset = activateAndRelease(offsetActivation, offset);
    }
    if (this.maskGenerator !== null) {
      mask = this.maskGenerator.forward(input);
      if (maskActivation !== null) mask = activateAndRelease(maskActivation, mask);
    }
    return { offset, mask };
  }

  /** Zeroes the generators' parameters in place. */
  zeroGenerators(): void {
    for (const generator of [this.offsetGenerator, this.maskGenerator]) {
      if (generator !== null) for (const p of generator.parameters()) zeros_(p);
    }
  }

  reprExtras(): { offsetGroups: number; maskGroups: number; deformable: boolean; modulated: boolean } {
    const { offsetGroups, maskGroups, deformable, modulated } = this.setup;
    return { offsetGroups, maskGroups, deformable, modulated };
  }

  config(op: string): { [key: string]: JsonValue } {
    const { offsetGroups, maskGroups, generatorBias, deformable, modulated, offsetActivation, maskActivation } =
      this.setup;
    return {
      offsetGroups,
      maskGroups,
      generatorBias,
      deformable,
      modulated,
      offsetActivation: activationJSON(op, 'offsetActivation', offsetActivation),
      maskActivation: activationJSON(op, 'maskActivation', maskActivation),
    };
  }
}

/**
 * @internal The one definition of the packed layers, regular and transposed, 1D to 3D: the generators,
 * their options, getters, re-initialisation, repr and JSON config. The regular layers' generators are
 * convolutions with the layer's kernel size, stride, padding and dilation (offset and mask on the output
 * grid); the transposed layers' are pointwise (kernel 1) convolutions (offset and mask on the input grid).
 * Subclasses add only `forward`.
 */
export abstract class PackedDeformConvBase extends ConvNdBase {
  readonly #parts: PackedParts;

  protected constructor(
    transposed: boolean,
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ((ConvLayerOptions | ConvTransposeLayerOptions) & PackedOptions) | undefined,
  ) {
    super(
      {
        typeName: `PackedDeformConv${transposed ? 'Transpose' : ''}${dim}d`,
        dim,
        transposed,
        optionKeys: transposed ? PACKED_CONV_TRANSPOSE_OPTION_KEYS : PACKED_CONV_OPTION_KEYS,
      },
      inChannels,
      outChannels,
      kernelSize,
      options,
    );
    const setup = resolvePackedOptions(
      `new ${this.typeName}`,
      dim,
      this.inChannels,
      this.outChannels,
      this.kernelSize,
      options ?? {},
    );
    const common = { bias: setup.generatorBias, device: options?.device, dtype: options?.dtype };
    const padding = typeof this.padding === 'string' ? this.padding : [...this.padding];
    this.#parts = new PackedParts(
      this,
      setup,
      (generatorOut, groups) =>
        transposed
          ? zeroConv(dim, this.inChannels, generatorOut, 1, { ...common, groups })
          : zeroConv(dim, this.inChannels, generatorOut, [...this.kernelSize], {
              ...common,
              stride: [...this.stride],
              padding,
              dilation: [...this.dilation],
              groups,
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

  /**
   * The offset generator, null when not deformable: a convolution with this layer's kernel size, stride,
   * padding and dilation (regular layers), or a pointwise (kernel 1) convolution (transposed layers).
   */
  get offsetGenerator(): ConvNd | null {
    return this.#parts.offsetGenerator;
  }

  /** The mask generator (as the offset generator); null when not modulated. */
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
   * Re-draws weight and bias (PyTorch's initialisation) and zeroes the generators, in place: the layer
   * then computes the plain (transposed) convolution (mask 1 with `'sigmoid'`, 1/K with `'softmax'`).
   */
  override resetParameters(): void {
    super.resetParameters();
    this.#parts.zeroGenerators();
  }

  /** @internal The generated offset and mask for `input`. */
  protected generate(input: Tensor): { offset: Tensor | null; mask: Tensor | null } {
    return this.#parts.generate(input);
  }

  /** @internal The packed layer's extra repr fields. */
  protected override reprExtras(): {
    offsetGroups: number;
    maskGroups: number;
    deformable: boolean;
    modulated: boolean;
  } {
    return this.#parts.reprExtras();
  }

  /** @internal The JSON config: the convolution's plus the packed options. */
  protected override config(): { [key: string]: JsonValue } {
    return { ...super.config(), ...this.#parts.config(`${this.typeName}.toJSON`) };
  }
}

/**
 * @internal Shared implementation of {@link PackedDeformConv1d}, {@link PackedDeformConv2d} and
 * {@link PackedDeformConv3d}.
 */
export abstract class PackedDeformConvNd extends PackedDeformConvBase {
  protected constructor(
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: PackedDeformConvLayerOptions | undefined,
  ) {
    super(false, dim, inChannels, outChannels, kernelSize, options);
  }

  /**
   * Generates the offset (and mask) from `input` and applies the deformable convolution. The generators
   * see the unpadded input; the main convolution pads it per `paddingMode`.
   *
   * @param input - `[batch, inChannels, *inSize]`, or `[inChannels, *inSize]` unbatched
   * @returns `[batch, outChannels, *outSize]` (or without `batch`)
   */
  forward(input: Tensor): Tensor {
    return withGenerated(this.generate(input), (offset, mask) => this.convForward(input, offset, mask));
  }
}

/**
 * 1D deformable convolution that generates its own offset (and mask) with ordinary convolutions of the
 * input (tvdcn's `PackedDeformConv1d`). At initialisation it computes the plain convolution.
 *
 * @example
 * ```ts
 * const conv = new PackedDeformConv1d(3, 16, 5, { modulated: true, maskActivation: 'softmax' });
 * conv.forward(rand([2, 3, 128])).shape; // [2, 16, 124]
 * ```
 */
export class PackedDeformConv1d extends PackedDeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - kW
   * @param options - those of {@link DeformConv1d}, and offsetGroups, maskGroups, generatorBias, deformable,
   *   modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvLayerOptions) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2D deformable convolution that generates its own offset (and mask) with ordinary convolutions of the
 * input (tvdcn's `PackedDeformConv2d`). At initialisation it computes the plain convolution.
 *
 * @example
 * ```ts
 * const conv = new PackedDeformConv2d(3, 8, 3, { padding: 1, modulated: true });
 * conv.forward(rand([2, 3, 32, 32])).shape; // [2, 8, 32, 32]
 * ```
 */
export class PackedDeformConv2d extends PackedDeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kH, kW]`, or one number for both
   * @param options - those of {@link DeformConv2d}, and offsetGroups, maskGroups, generatorBias, deformable,
   *   modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvLayerOptions) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3D deformable convolution that generates its own offset (and mask) with ordinary convolutions of the
 * input (tvdcn's `PackedDeformConv3d`). At initialisation it computes the plain convolution.
 */
export class PackedDeformConv3d extends PackedDeformConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kD, kH, kW]`, or one number for all
   * @param options - those of {@link DeformConv3d}, and offsetGroups, maskGroups, generatorBias, deformable,
   *   modulated, offsetActivation, maskActivation
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters or activations
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: PackedDeformConvLayerOptions) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
