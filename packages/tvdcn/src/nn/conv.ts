// SPDX-License-Identifier: MIT
// The convolution base shared by every layer (PyTorch's `_ConvNd`, tvdcn-reference §7.1): hyper-parameter
// checks, the `weight` and `bias` parameters and their initialisation, the repr, the JSON config, and the
// forward calls into @tvdcn/ops (padding modes, 'same'/'valid', outputSize). Also the plain Conv1d/2d/3d,
// which the packed layers use as offset and mask generators.

import {
  type DeformConvOptions,
  type DeformConvTransposeOptions,
  type Device,
  type DType,
  type Tensor,
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  pad,
} from '@tvdcn/ops';
import {
  type IntOrTuple,
  InvalidArgumentError,
  type PaddingMode,
  type ResolvedPadding,
  ShapeMismatchError,
  checkPaddingMode,
  expectPositiveInteger,
  formatShape,
  formatValue,
  intTuple,
  outputPaddingFor,
  resolvePadding,
  type SpatialDim,
} from '@tvdcn/shape';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { type JsonValue, Module } from './module.js';
import { createParameter } from './parameter.js';

/**
 * Options of the regular (non-transposed) layers, PyTorch's `_ConvNd` arguments in camelCase.
 */
export interface ConvLayerOptions {
  /** Positive integer(s) (default 1). */
  stride?: IntOrTuple;
  /**
   * Zero-padding on both sides (default 0), or `'valid'` (none) or `'same'` (output size = input size;
   * stride 1 only). An odd total padding in `'same'` puts the extra element at the end, as PyTorch does.
   */
  padding?: IntOrTuple | 'same' | 'valid';
  /** Positive integer(s) (default 1). */
  dilation?: IntOrTuple;
  /** Positive integer dividing `inChannels` and `outChannels` (default 1). */
  groups?: number;
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** How the input is padded (default `'zeros'`): `'zeros'`, `'reflect'`, `'replicate'` or `'circular'`. */
  paddingMode?: PaddingMode;
  /** Device of the parameters (default `'cpu'`). */
  device?: Device;
  /** Dtype of the parameters (default `'float32'`). */
  dtype?: DType;
}

/** Options of the transposed layers: those of {@link ConvLayerOptions} without padding strings, and `outputPadding`. */
export interface ConvTransposeLayerOptions extends Omit<ConvLayerOptions, 'padding' | 'paddingMode'> {
  /** `dilation * (kernelSize - 1) - padding` zeros are added to both sides of the input (default 0). */
  padding?: IntOrTuple;
  /**
   * Extra size added to one side of the output (default 0); each entry smaller than `max(stride, dilation)`.
   * `forward(..., outputSize)` computes it instead.
   */
  outputPadding?: IntOrTuple;
  /** Only `'zeros'` (the default) is supported by transposed convolutions. */
  paddingMode?: 'zeros';
}

/** @internal What a concrete layer tells the base about itself. */
export interface ConvSpec {
  /** Class name, e.g. `'DeformConv2d'`. */
  typeName: string;
  dim: SpatialDim;
  transposed: boolean;
  /** The option keys the constructor accepts (unknown keys are errors). */
  optionKeys: readonly string[];
}

/** The option keys of {@link ConvLayerOptions}. */
export const CONV_OPTION_KEYS = [
  'stride',
  'padding',
  'dilation',
  'groups',
  'bias',
  'paddingMode',
  'device',
  'dtype',
] as const;

/** The option keys of {@link ConvTransposeLayerOptions}. */
export const CONV_TRANSPOSE_OPTION_KEYS = [...CONV_OPTION_KEYS, 'outputPadding'] as const;

type ForwardFn = (input: Tensor, weight: Tensor, options?: DeformConvOptions) => Tensor;
type TransposeForwardFn = (input: Tensor, weight: Tensor, options?: DeformConvTransposeOptions) => Tensor;

const DEFORM_CONV: Record<SpatialDim, ForwardFn> = { 1: deformConv1d, 2: deformConv2d, 3: deformConv3d };

const DEFORM_CONV_TRANSPOSE: Record<SpatialDim, TransposeForwardFn> = {
  1: deformConvTranspose1d,
  2: deformConvTranspose2d,
  3: deformConvTranspose3d,
};

/** Formats a list as a Python tuple: `(3, 3)`, `(3,)`. */
export function pythonTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

/**
 * @internal Throws for option keys a constructor does not know (a misspelt option would otherwise be
 * ignored silently).
 */
export function checkOptionKeys(op: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `${op}(): expected options to be an object, but got ${formatValue(options)}`,
      'options',
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${op}(): expected options among ${allowed.join(', ')}, but got the unknown option '${key}'`,
        key,
      );
    }
  }
  return options as Record<string, unknown>;
}

/** Checks a boolean option. */
export function expectBoolean(op: string, argument: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(
      `${op}(): expected ${argument} to be a boolean, but got ${formatValue(value)}`,
      argument,
    );
  }
  return value;
}

/**
 * @internal The base of every convolution layer (PyTorch's `_ConvNd`): hyper-parameters, `weight` and
 * `bias`, PyTorch's initialisation, the repr and the forward calls. Concrete layers add `forward`.
 */
export abstract class ConvNdBase extends Module {
  /** Number of spatial dimensions. */
  readonly dim: SpatialDim;
  /** C_in. */
  readonly inChannels: number;
  /** C_out. */
  readonly outChannels: number;
  /** One entry per spatial dimension. */
  readonly kernelSize: readonly number[];
  /** One entry per spatial dimension. */
  readonly stride: readonly number[];
  /** One entry per spatial dimension, or `'same'` / `'valid'` as given. */
  readonly padding: readonly number[] | 'same' | 'valid';
  /** One entry per spatial dimension. */
  readonly dilation: readonly number[];
  /** True for the transposed layers. */
  readonly transposed: boolean;
  /** One entry per spatial dimension (zeros for the regular layers). */
  readonly outputPadding: readonly number[];
  /** G. */
  readonly groups: number;
  /** How the input is padded. */
  readonly paddingMode: PaddingMode;

  readonly #typeName: string;
  /** Per-side padding amounts (used by the regular layers only). */
  readonly #resolved: ResolvedPadding;

  protected constructor(
    spec: ConvSpec,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: ConvLayerOptions | ConvTransposeLayerOptions | undefined,
  ) {
    super();
    const { dim, transposed, typeName } = spec;
    const op = `new ${typeName}`;
    const o = checkOptionKeys(op, options, spec.optionKeys);
    this.#typeName = typeName;
    this.dim = dim;
    this.transposed = transposed;
    this.inChannels = expectPositiveInteger(op, 'inChannels', inChannels);
    this.outChannels = expectPositiveInteger(op, 'outChannels', outChannels);
    this.kernelSize = Object.freeze(intTuple(op, 'kernelSize', kernelSize, dim, { min: 1 }));
    this.stride = Object.freeze(intTuple(op, 'stride', (o.stride ?? 1) as IntOrTuple, dim, { min: 1 }));
    this.dilation = Object.freeze(intTuple(op, 'dilation', (o.dilation ?? 1) as IntOrTuple, dim, { min: 1 }));
    this.groups = expectPositiveInteger(op, 'groups', o.groups ?? 1);
    if (this.inChannels % this.groups !== 0) {
      throw new InvalidArgumentError(
        `${op}(): expected inChannels to be divisible by groups = ${this.groups}, but got inChannels = ${this.inChannels}`,
        'groups',
      );
    }
    if (this.outChannels % this.groups !== 0) {
      throw new InvalidArgumentError(
        `${op}(): expected outChannels to be divisible by groups = ${this.groups}, but got outChannels = ${this.outChannels}`,
        'groups',
      );
    }
    const padding = o.padding ?? 0;
    if (transposed) {
      if (typeof padding === 'string') {
        throw new InvalidArgumentError(
          `${op}(): expected padding to be a non-negative integer or an array of ${dim} non-negative integers ` +
            `('same' and 'valid' exist only for regular convolutions), but got ${formatValue(padding)}`,
          'padding',
        );
      }
      this.padding = Object.freeze(intTuple(op, 'padding', padding as IntOrTuple, dim, { min: 0 }));
      this.#resolved = resolvePadding(op, this.padding, this.kernelSize, this.dilation, this.stride, dim);
      const outputPadding = intTuple(op, 'outputPadding', (o.outputPadding ?? 0) as IntOrTuple, dim, { min: 0 });
      const limits = this.stride.map((s, i) => Math.max(s, this.dilation[i]));
      if (outputPadding.some((p, i) => p >= limits[i])) {
        throw new InvalidArgumentError(
          `${op}(): expected outputPadding to be smaller than max(stride, dilation) = ${formatShape(limits)} ` +
            `in every dimension, but got ${formatShape(outputPadding)}`,
          'outputPadding',
        );
      }
      this.outputPadding = Object.freeze(outputPadding);
    } else {
      this.#resolved = resolvePadding(
        op,
        padding as IntOrTuple | 'same' | 'valid',
        this.kernelSize,
        this.dilation,
        this.stride,
        dim,
      );
      this.padding =
        typeof padding === 'string' ? (padding as 'same' | 'valid') : Object.freeze([...this.#resolved.left]);
      this.outputPadding = Object.freeze(new Array<number>(dim).fill(0));
    }
    this.paddingMode = checkPaddingMode(op, o.paddingMode ?? 'zeros');
    if (transposed && this.paddingMode !== 'zeros') {
      throw new InvalidArgumentError(
        `${op}(): expected paddingMode to be 'zeros' (the only mode of transposed convolutions), but got ${formatValue(this.paddingMode)}`,
        'paddingMode',
      );
    }
    const bias = expectBoolean(op, 'bias', o.bias, true);
    const factory = { device: o.device as Device | undefined, dtype: o.dtype as DType | undefined };
    const weightShape = transposed
      ? [this.inChannels, this.outChannels / this.groups, ...this.kernelSize]
      : [this.outChannels, this.inChannels / this.groups, ...this.kernelSize];
    this.registerParameter(
      'weight',
      createParameter(weightShape, (t) => this.#initWeight(t), factory),
    );
    this.registerParameter(
      'bias',
      bias ? createParameter([this.outChannels], (t) => this.#initBias(t, weightShape), factory) : null,
    );
  }

  override get typeName(): string {
    return this.#typeName;
  }

  /**
   * The weight: `[outChannels, inChannels / groups, *kernelSize]`, or `[inChannels, outChannels / groups,
   * *kernelSize]` for the transposed layers (PyTorch's layout).
   */
  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }

  /** The bias `[outChannels]`, or null when made with `bias: false`. */
  get bias(): Tensor | null {
    return this.param('bias');
  }

  /** K, the number of kernel points: the product of `kernelSize`. */
  get kernelPoints(): number {
    return this.kernelSize.reduce((a, b) => a * b, 1);
  }

  /** PyTorch's `_reversed_padding_repeated_twice`: `[left, right]` per dimension, last dimension first. */
  get reversedPaddingRepeatedTwice(): readonly number[] {
    return this.#resolved.reversedPaddingRepeatedTwice;
  }

  /** kaiming_uniform(a = √5): U(-1/√fanIn, 1/√fanIn). */
  #initWeight(t: Tensor): void {
    kaimingUniform_(t, { a: Math.sqrt(5) });
  }

  /** U(-1/√fanIn, 1/√fanIn) with the weight's fan-in (left alone when it is 0). */
  #initBias(t: Tensor, weightShape: readonly number[]): void {
    const { fanIn } = calculateFanInAndFanOut(weightShape);
    if (fanIn === 0) return;
    const bound = 1 / Math.sqrt(fanIn);
    uniform_(t, -bound, bound);
  }

  /**
   * Re-draws the weight and bias in place with PyTorch's initialisation (`_ConvNd.reset_parameters`):
   * weight ~ kaiming_uniform(a = √5) = U(-1/√fanIn, 1/√fanIn), bias ~ U(-1/√fanIn, 1/√fanIn), with
   * `fanIn = weight.shape[1] * K`. The values are drawn on the CPU (so a seed gives the same weights on
   * every device) and copied into the parameters wherever they live.
   */
  resetParameters(): void {
    this.#initWeight(this.weight);
    const bias = this.bias;
    if (bias !== null) this.#initBias(bias, this.weight.shape);
  }

  /** @internal tvdcn's extra repr fields (offset/mask groups, deformable, modulated); none by default. */
  protected reprExtras(): { offsetGroups?: number; maskGroups?: number; deformable?: boolean; modulated?: boolean } {
    return {};
  }

  /**
   * PyTorch's `extra_repr` of `_ConvNd`, with tvdcn's additions: `in, out, kernel_size=(..), stride=(..)`,
   * then only what differs from the defaults.
   */
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pythonTuple(this.kernelSize)}, stride=${pythonTuple(this.stride)}`;
    const padding = this.padding;
    if (typeof padding === 'string') s += `, padding=${padding}`;
    else if (padding.some((p) => p !== 0)) s += `, padding=${pythonTuple(padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pythonTuple(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pythonTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    const extras = this.reprExtras();
    if (extras.offsetGroups !== undefined && extras.offsetGroups !== 1) s += `, offset_groups=${extras.offsetGroups}`;
    if (extras.maskGroups !== undefined && extras.maskGroups !== 1) s += `, mask_groups=${extras.maskGroups}`;
    if (this.bias === null) s += ', bias=False';
    if (extras.deformable === false) s += ', deformable=False';
    if (extras.modulated === false) s += ', modulated=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }

  protected override config(): { [key: string]: JsonValue } {
    const config: { [key: string]: JsonValue } = {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: typeof this.padding === 'string' ? this.padding : [...this.padding],
      dilation: [...this.dilation],
    };
    if (this.transposed) config.outputPadding = [...this.outputPadding];
    config.groups = this.groups;
    config.bias = this.bias !== null;
    if (!this.transposed) config.paddingMode = this.paddingMode;
    config.dtype = this.weight.dtype;
    return config;
  }

  /**
   * The regular convolution of `input` with this layer's weight and bias (tvdcn's `_conv_forward`):
   * a non-zeros `paddingMode` pads the input with `pad()` and convolves without padding; an asymmetric
   * `'same'` pads the extra element at the end with zeros and convolves with the symmetric part.
   */
  protected convForward(input: Tensor, offset: Tensor | null, mask: Tensor | null): Tensor {
    const fn = DEFORM_CONV[this.dim];
    const options = {
      offset,
      mask,
      bias: this.bias,
      stride: [...this.stride],
      dilation: [...this.dilation],
      groups: this.groups,
    };
    const resolved = this.#resolved;
    if (this.paddingMode !== 'zeros') {
      const padded = pad(input, [...resolved.reversedPaddingRepeatedTwice], this.paddingMode);
      return fn(padded, this.weight, { ...options, padding: 0 });
    }
    if (resolved.symmetric) return fn(input, this.weight, { ...options, padding: [...resolved.left] });
    const extra: number[] = [];
    for (let i = this.dim - 1; i >= 0; i--) extra.push(0, resolved.right[i] - resolved.left[i]);
    return fn(pad(input, extra, 'constant'), this.weight, { ...options, padding: [...resolved.left] });
  }

  /**
   * The transposed convolution of `input` with this layer's weight and bias; `outputSize` (N, N + 1 or
   * N + 2 entries) chooses the output padding as PyTorch's `_output_padding`.
   */
  protected convTransposeForward(
    input: Tensor,
    offset: Tensor | null,
    mask: Tensor | null,
    outputSize: readonly number[] | null | undefined,
  ): Tensor {
    let outputPadding = [...this.outputPadding];
    if (outputSize !== undefined && outputSize !== null) {
      const op = `${this.typeName}.forward`;
      if (input.ndim !== this.dim + 1 && input.ndim !== this.dim + 2) {
        throw new ShapeMismatchError(
          `${op}(): expected input to have ${this.dim + 1} (unbatched) or ${this.dim + 2} (batched) dimensions, ` +
            `but got input with shape ${formatShape(input.shape)}`,
        );
      }
      outputPadding = outputPaddingFor(
        op,
        outputSize,
        input.shape.slice(-this.dim),
        this.kernelSize,
        this.stride,
        this.padding as readonly number[],
        this.dilation,
      );
    }
    return DEFORM_CONV_TRANSPOSE[this.dim](input, this.weight, {
      offset,
      mask,
      bias: this.bias,
      stride: [...this.stride],
      padding: [...(this.padding as readonly number[])],
      outputPadding,
      dilation: [...this.dilation],
      groups: this.groups,
    });
  }
}

/**
 * The common base of {@link Conv1d}, {@link Conv2d} and {@link Conv3d}: the type of the packed layers'
 * `offsetGenerator` and `maskGenerator`. Not constructed directly.
 */
export abstract class ConvNd extends ConvNdBase {
  protected constructor(
    dim: SpatialDim,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options?: ConvLayerOptions,
  ) {
    super(
      { typeName: `Conv${dim}d`, dim, transposed: false, optionKeys: CONV_OPTION_KEYS },
      inChannels,
      outChannels,
      kernelSize,
      options,
    );
  }

  /**
   * The ordinary convolution (the deformable op with no offset and no mask).
   * @param input - `[batch, inChannels, *inSize]` or `[inChannels, *inSize]`
   * @returns `[batch, outChannels, *outSize]` (or without `batch`)
   */
  forward(input: Tensor): Tensor {
    return this.convForward(input, null, null);
  }
}

/**
 * An ordinary 1D convolution (PyTorch's `nn.Conv1d`), computed by `deformConv1d` with no offset and no
 * mask. The packed layers use it to generate offsets and masks.
 *
 * @example
 * ```ts
 * new Conv1d(3, 8, 3, { padding: 'same' }).forward(randn([2, 3, 16])).shape; // [2, 8, 16]
 * ```
 */
export class Conv1d extends ConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - kW
   * @param options - stride, padding, dilation, groups, bias, paddingMode, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: ConvLayerOptions) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * An ordinary 2D convolution (PyTorch's `nn.Conv2d`), computed by `deformConv2d` with no offset and no
 * mask. The packed layers use it to generate offsets and masks.
 *
 * @example
 * ```ts
 * new Conv2d(3, 8, 3, { padding: 1 }).forward(randn([2, 3, 16, 16])).shape; // [2, 8, 16, 16]
 * ```
 */
export class Conv2d extends ConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kH, kW]` or one number for both
   * @param options - stride, padding, dilation, groups, bias, paddingMode, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: ConvLayerOptions) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * An ordinary 3D convolution (PyTorch's `nn.Conv3d`), computed by `deformConv3d` with no offset and no
 * mask. The packed layers use it to generate offsets and masks.
 */
export class Conv3d extends ConvNd {
  /**
   * @param inChannels - C_in
   * @param outChannels - C_out
   * @param kernelSize - `[kD, kH, kW]` or one number for all
   * @param options - stride, padding, dilation, groups, bias, paddingMode, device, dtype
   * @throws {@link InvalidArgumentError} for invalid hyper-parameters
   */
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, options?: ConvLayerOptions) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}

/** @internal The plain convolution class of each dimension. */
export const CONV_CLASSES = { 1: Conv1d, 2: Conv2d, 3: Conv3d } as const;
