// SPDX-License-Identifier: MIT
// Every check of a (transposed) deformable convolution call, on shapes and hyper-parameters only, and the
// resolved geometry handed to the native code (tvdcn-reference §3.1, §3.5; api.md for the stricter rules).
//
// NOTE [ Why checks live in TS ]
// Every shape and hyper-parameter check runs here, once, before any native call, so messages use public
// names and whole shapes (style.md §9.9). The native code re-checks only what could read or write out of
// bounds; if one of those checks fires, a check here is missing.

import { InvalidArgumentError, ShapeMismatchError } from './errors.js';
import { formatExpected, formatShape, formatValue } from './format.js';
import { convOutputSize, convTransposeOutputSize } from './conv-output-size.js';
import { expectPositiveInteger, expectShape, intTuple, safeProduct } from './validate.js';

/** Number of spatial dimensions N of an op. */
export type SpatialDim = 1 | 2 | 3;

/**
 * Shapes of the tensors of a deformable convolution call (tvdcn-reference §3.1 and §3.5).
 * `offset`, `mask` and `bias` are absent (`null` or `undefined`) when not given.
 */
export interface DeformConvShapes {
  /** `[B, inChannels, *inSize]`, or `[inChannels, *inSize]` unbatched. */
  input: readonly number[];
  /** Regular: `[outChannels, inChannels / groups, *kernelSize]`; transposed: `[inChannels, outChannels / groups, *kernelSize]`. */
  weight: readonly number[];
  /** `[B, offsetGroups * N * K, *sp]` (unbatched without `B`); `sp` is the output size (regular) or the input size (transposed). */
  offset?: readonly number[] | null;
  /** `[B, maskGroups * K, *sp]` (unbatched without `B`); `sp` as for `offset`. */
  mask?: readonly number[] | null;
  /** `[outChannels]`. */
  bias?: readonly number[] | null;
}

/** Hyper-parameters of a deformable convolution: a number (broadcast) or one entry per spatial dimension. */
export interface DeformConvHyperparameters {
  /** Positive integer(s) up to 2^40 (default 1). */
  stride?: number | readonly number[];
  /** Non-negative integer(s) up to 2^40, on both sides (default 0). */
  padding?: number | readonly number[];
  /** Positive integer(s) up to 2^40 (default 1). */
  dilation?: number | readonly number[];
  /** Positive integer dividing the channel counts (default 1). */
  groups?: number;
}

/** Hyper-parameters of a transposed deformable convolution. */
export interface DeformConvTransposeHyperparameters extends DeformConvHyperparameters {
  /** Non-negative integer(s) smaller than `max(stride, dilation)` in every dimension (default 0). */
  outputPadding?: number | readonly number[];
}

/** The validated geometry of a deformable convolution call: all the native code receives. */
export interface DeformConvParams {
  /** Public op name used as error prefix, e.g. `'deformConv2d'`. */
  op: string;
  /** N, the number of spatial dimensions. */
  dim: SpatialDim;
  /** True for the transposed op. */
  transposed: boolean;
  /** False when the input had N + 1 dimensions. */
  batched: boolean;
  /** B (1 when unbatched). */
  batch: number;
  /** C_in. */
  inChannels: number;
  /** C_out. */
  outChannels: number;
  /** G. */
  groups: number;
  /** k, `weight.shape[2..]`. */
  kernelSize: number[];
  /** Per spatial dimension. */
  stride: number[];
  /** Per spatial dimension, on both sides. */
  padding: number[];
  /** Per spatial dimension. */
  dilation: number[];
  /** Per spatial dimension; zeros for the regular op. */
  outputPadding: number[];
  /** in_sp, the spatial size of the input. */
  inSize: number[];
  /** out_sp, the spatial size of the output. */
  outSize: number[];
  /** OG = offset.shape[1] / (N * K); 1 when offset is absent. */
  offsetGroups: number;
  /** MG = mask.shape[1] / K; 1 when mask is absent. */
  maskGroups: number;
  /** True when an offset is given. */
  deformable: boolean;
  /** True when a mask is given. */
  modulated: boolean;
  /** True when a bias is given. */
  hasBias: boolean;
  /** K = prod(kernelSize). */
  kernelPoints: number;
  /** The shape the op returns: `[B, outChannels, *outSize]`, or `[outChannels, *outSize]` when unbatched. */
  outputShape: number[];
}

/** Largest stride, padding or dilation (2^40), as the native kernels accept. */
const MAX_CONV_HYPERPARAMETER = 2 ** 40;

/** Kernel dimension symbols in spatial order: `kW`; `kH, kW`; `kD, kH, kW`. */
const KERNEL_SYMBOLS: Record<SpatialDim, readonly string[]> = {
  1: ['kW'],
  2: ['kH', 'kW'],
  3: ['kD', 'kH', 'kW'],
};

/** Formats a list of numbers as `[a, b]`, for the `name = [..]` parts of messages. */
const fmt = formatShape;

/**
 * Shared implementation of {@link checkDeformConvArgs} and {@link checkDeformConvTransposeArgs}.
 * @internal
 */
export function checkDeformConvNdArgs(
  op: string,
  dim: SpatialDim,
  shapes: DeformConvShapes,
  options: DeformConvTransposeHyperparameters | undefined,
  transposed: boolean,
): DeformConvParams {
  // --- arguments themselves ---
  if (dim !== 1 && dim !== 2 && dim !== 3) {
    throw new InvalidArgumentError(formatExpected(op, 'dim to be 1, 2 or 3', formatValue(dim)), 'dim');
  }
  if (typeof shapes !== 'object' || shapes === null) {
    throw new InvalidArgumentError(
      formatExpected(op, 'shapes to be an object { input, weight, offset?, mask?, bias? }', formatValue(shapes)),
      'shapes',
    );
  }
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new InvalidArgumentError(formatExpected(op, 'options to be an object', formatValue(options)), 'options');
  }
  const opts: DeformConvTransposeHyperparameters = options ?? {};
  const n = dim;
  const ks = KERNEL_SYMBOLS[n];

  const input = expectShape(op, 'input', shapes.input);
  const weight = expectShape(op, 'weight', shapes.weight);
  const offset = shapes.offset == null ? null : expectShape(op, 'offset', shapes.offset);
  const mask = shapes.mask == null ? null : expectShape(op, 'mask', shapes.mask);
  const bias = shapes.bias == null ? null : expectShape(op, 'bias', shapes.bias);

  // --- ranks ---
  if (input.length !== n + 1 && input.length !== n + 2) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `input to have ${n + 1} (unbatched) or ${n + 2} (batched) dimensions`,
        `input with shape ${fmt(input)}`,
      ),
    );
  }
  if (weight.length !== n + 2) {
    const layout = transposed
      ? `[inChannels, outChannels / groups, ${ks.join(', ')}]`
      : `[outChannels, inChannels / groups, ${ks.join(', ')}]`;
    throw new ShapeMismatchError(
      formatExpected(op, `weight to have ${n + 2} dimensions ${layout}`, `weight with shape ${fmt(weight)}`),
    );
  }

  // --- hyper-parameters ---
  const stride = intTuple(op, 'stride', opts.stride ?? 1, n, { min: 1 });
  const padding = intTuple(op, 'padding', opts.padding ?? 0, n, { min: 0 });
  const dilation = intTuple(op, 'dilation', opts.dilation ?? 1, n, { min: 1 });
  // The kernels index with 64-bit integers: 2^40 keeps every coordinate product exact.
  for (const [name, values] of [
    ['stride', stride],
    ['padding', padding],
    ['dilation', dilation],
  ] as const) {
    if (values.some((v) => v > MAX_CONV_HYPERPARAMETER)) {
      throw new InvalidArgumentError(
        formatExpected(
          op,
          `${name} to be at most 2^40 = ${MAX_CONV_HYPERPARAMETER} in every dimension`,
          `${name} = ${fmt(values)}`,
        ),
        name,
      );
    }
  }
  const groups = expectPositiveInteger(op, 'groups', opts.groups ?? 1);
  let outputPadding = new Array<number>(n).fill(0);
  if (transposed) {
    outputPadding = intTuple(op, 'outputPadding', opts.outputPadding ?? 0, n, { min: 0 });
    const limit = stride.map((s, i) => Math.max(s, dilation[i]));
    if (outputPadding.some((p, i) => p >= limit[i])) {
      throw new InvalidArgumentError(
        formatExpected(
          op,
          `outputPadding to be smaller than max(stride, dilation) = ${fmt(limit)} in every dimension`,
          `outputPadding = ${fmt(outputPadding)}`,
        ),
        'outputPadding',
      );
    }
  }

  // --- input and kernel ---
  const batched = input.length === n + 2;
  const cAxis = batched ? 1 : 0; // channel axis of input, offset and mask
  const batch = batched ? input[0] : 1;
  const inChannels = input[cAxis];
  const inSize = input.slice(cAxis + 1);
  const kernelSize = weight.slice(2);
  if (kernelSize.some((k) => k <= 0)) {
    const where = ks.map((_, i) => `weight.shape[${i + 2}]`).join(', ');
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `the kernel size ${ks.join(', ')} (${where}) to be positive`,
        `weight with shape ${fmt(weight)}`,
      ),
    );
  }
  const kernelPoints = kernelSize.reduce((a, b) => a * b, 1);

  // --- channels and groups ---
  const inChannelsName = `input.shape[${cAxis}] (inChannels)`;
  let outChannels: number;
  if (!transposed) {
    if (weight[1] * groups !== inChannels) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `${inChannelsName} to equal weight.shape[1] * groups = ` + `${weight[1]} * ${groups} = ${weight[1] * groups}`,
          `input with shape ${fmt(input)} and weight with shape ${fmt(weight)}`,
        ),
      );
    }
    if (weight[0] % groups !== 0) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `weight.shape[0] (outChannels) to be divisible by groups = ${groups}`,
          `weight with shape ${fmt(weight)}`,
        ),
      );
    }
    outChannels = weight[0];
  } else {
    if (weight[0] !== inChannels) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `weight.shape[0] to equal ${inChannelsName} = ${inChannels}`,
          `weight with shape ${fmt(weight)} and input with shape ${fmt(input)}`,
        ),
      );
    }
    if (weight[0] % groups !== 0) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `weight.shape[0] (inChannels) to be divisible by groups = ${groups}`,
          `weight with shape ${fmt(weight)}`,
        ),
      );
    }
    outChannels = weight[1] * groups;
  }

  // --- output size ---
  const outSize = transposed
    ? convTransposeOutputSize(inSize, kernelSize, stride, padding, outputPadding, dilation)
    : convOutputSize(inSize, kernelSize, stride, padding, dilation);
  if (outSize.some((size) => size <= 0)) {
    const formula = transposed
      ? `(inSize - 1) * stride - 2 * padding + dilation * (kernelSize - 1) + 1 + outputPadding with ` +
        `inSize = ${fmt(inSize)}, kernelSize = ${fmt(kernelSize)}, stride = ${fmt(stride)}, ` +
        `padding = ${fmt(padding)}, outputPadding = ${fmt(outputPadding)}, dilation = ${fmt(dilation)}`
      : `floor((inSize + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) + 1 with ` +
        `inSize = ${fmt(inSize)}, kernelSize = ${fmt(kernelSize)}, stride = ${fmt(stride)}, ` +
        `padding = ${fmt(padding)}, dilation = ${fmt(dilation)}`;
    throw new ShapeMismatchError(formatExpected(op, 'a positive output size', `${fmt(outSize)} = ${formula}`));
  }

  // Sizes are exact only as safe integers: check them (and the element count) before anything is allocated.
  const outputShape = batched ? [batch, outChannels, ...outSize] : [outChannels, ...outSize];
  if (!outSize.every((size) => Number.isSafeInteger(size)) || safeProduct(outputShape) === null) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `an output with at most Number.MAX_SAFE_INTEGER = ${Number.MAX_SAFE_INTEGER} elements`,
        `an output of shape ${fmt(outputShape)}`,
      ),
    );
  }

  // --- offset and mask ---
  // Both live on the output grid (regular) or the input grid (transposed): tvdcn-reference §3.1, §3.5.
  const gridSize = transposed ? inSize : outSize;
  const gridName = transposed ? 'input size' : 'output size';
  const checkGrouped = (
    name: 'offset' | 'mask',
    shape: readonly number[],
    factor: number,
    factorText: () => string, // built only for a message: string work on every call costs the hot path
  ): number => {
    if (shape.length !== input.length) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `${name} to have ${input.length} dimensions (${batched ? 'batched' : 'unbatched'}, like input)`,
          `${name} with shape ${fmt(shape)}`,
        ),
      );
    }
    if (batched && shape[0] !== batch) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `${name}.shape[0] to equal the batch size input.shape[0] = ${batch}`,
          `${name} with shape ${fmt(shape)}`,
        ),
      );
    }
    const channels = shape[cAxis];
    if (channels === 0 || channels % factor !== 0) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `${name}.shape[${cAxis}] to be a ${channels === 0 ? 'positive ' : ''}multiple of ` +
            `${factorText()} = ${factor}`,
          `${name} with shape ${fmt(shape)}`,
        ),
      );
    }
    const groupCount = channels / factor;
    const groupName = name === 'offset' ? 'offsetGroups' : 'maskGroups';
    const notDivisible = (countName: string, count: number): ShapeMismatchError =>
      new ShapeMismatchError(
        formatExpected(
          op,
          `${countName} to be divisible by ${groupName}`,
          `${countName} = ${count} and ${groupName} = ${name}.shape[${cAxis}] / (${factorText()}) = ` +
            `${channels} / ${factor} = ${groupCount}`,
        ),
      );
    if (inChannels % groupCount !== 0) throw notDivisible('inChannels', inChannels);
    if (transposed && outChannels % groupCount !== 0) throw notDivisible('outChannels', outChannels);
    const spatial = shape.slice(cAxis + 1);
    if (spatial.some((size, i) => size !== gridSize[i])) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `the spatial size of ${name} to equal the ${gridName} ${fmt(gridSize)}`,
          `${name} with shape ${fmt(shape)}`,
        ),
      );
    }
    return groupCount;
  };
  const offsetGroups =
    offset === null ? 1 : checkGrouped('offset', offset, n * kernelPoints, () => `${n} * ${ks.join(' * ')}`);
  const maskGroups = mask === null ? 1 : checkGrouped('mask', mask, kernelPoints, () => ks.join(' * '));

  // --- bias ---
  if (bias !== null && (bias.length !== 1 || bias[0] !== outChannels)) {
    throw new ShapeMismatchError(
      formatExpected(op, `bias to have shape [${outChannels}] ([outChannels])`, `bias with shape ${fmt(bias)}`),
    );
  }

  return {
    op,
    dim: n,
    transposed,
    batched,
    batch,
    inChannels,
    outChannels,
    groups,
    kernelSize,
    stride,
    padding,
    dilation,
    outputPadding,
    inSize,
    outSize,
    offsetGroups,
    maskGroups,
    deformable: offset !== null,
    modulated: mask !== null,
    hasBias: bias !== null,
    kernelPoints,
    outputShape,
  };
}

/**
 * Validates the shapes and hyper-parameters of a deformable convolution (`deformConv{1,2,3}d`) and returns
 * the resolved geometry. The checks of tvdcn (tvdcn-reference §3.1) plus api.md's stricter ones: the output
 * size must be positive (floor division, as PyTorch), and `bias` must be `[outChannels]`.
 *
 * Groups of offset and mask are inferred from the channel counts: `offsetGroups = offset.shape[1] / (N * K)`,
 * `maskGroups = mask.shape[1] / K`; both must divide `inChannels`. A batch size of 0 is valid.
 *
 * @param op - public op name used as the message prefix, e.g. `'deformConv2d'`
 * @param dim - N, the number of spatial dimensions
 * @param shapes - shapes of input, weight and the optional offset, mask and bias
 * @param options - stride, padding, dilation (numbers or N-arrays), groups
 * @returns the resolved {@link DeformConvParams}
 * @throws {@link ShapeMismatchError} for shapes that do not fit together, e.g.
 *   `deformConv2d(): expected offset.shape[1] to be a multiple of 2 * kH * kW = 18, but got offset with shape [2, 20, 8, 8]`
 * @throws {@link InvalidArgumentError} for a bad hyper-parameter (NaN, fractional, negative, wrong-length
 *   array, not a number) or a shape that is not an array of non-negative integers
 *
 * @example
 * ```ts
 * const p = checkDeformConvArgs('deformConv2d', 2, {
 *   input: [4, 3, 10, 10], weight: [5, 3, 3, 3], offset: [4, 18, 8, 8], mask: [4, 9, 8, 8], bias: [5],
 * });
 * p.outputShape; // [4, 5, 8, 8]
 * ```
 */
export function checkDeformConvArgs(
  op: string,
  dim: SpatialDim,
  shapes: DeformConvShapes,
  options?: DeformConvHyperparameters,
): DeformConvParams {
  return checkDeformConvNdArgs(op, dim, shapes, options, false);
}
