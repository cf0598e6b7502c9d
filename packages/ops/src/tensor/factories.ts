// SPDX-License-Identifier: MIT
// Functions that create tensors: from data (tensor), filled (zeros, ones, full), random (rand, randn,
// uniform, normal), ranges (arange) and *Like variants. Random numbers come from random.ts.

import {
  formatExpected,
  formatShape,
  formatValue,
  InvalidArgumentError,
  isShape,
  ShapeMismatchError,
} from '@tvdcn/shape';
import { getKernels } from '../backends/registry.js';
import { parseDevice, type Device } from './device.js';
import { allocateHostArray, expectCpuDType, parseDType, type DType, type TypedArray } from './dtype.js';
import { numelOf } from './layout.js';
import { fillNormal, fillUniform, type Generator, resolveGenerator } from './random.js';
import { fromStorage, isTensor, storageOf, type NestedArray, type Tensor } from './tensor.js';

/** Options of every factory. */
export interface TensorOptions {
  /** Element type (default `'float32'`, or the typed array's type for `tensor()`). */
  dtype?: DType;
  /** Device (default `'cpu'`). */
  device?: Device;
  /** Make the result a leaf that accumulates gradients (default false). */
  requiresGrad?: boolean;
}

/** Options of the random factories ({@link rand}, {@link randn}, {@link uniform}, {@link normal}, ...). */
export interface RandomOptions extends TensorOptions {
  /** The generator to draw from (default: the default generator, which {@link manualSeed} seeds). */
  generator?: Generator;
}

/** Options of {@link tensor}. */
export interface TensorDataOptions extends TensorOptions {
  /** Shape of the result; default: inferred from nesting (or `[length]` for a typed array, `[]` for a number). */
  shape?: readonly number[];
  /**
   * For a typed array of the result's dtype on the CPU: false shares it with the tensor (zero-copy;
   * later writes to it change the tensor). Default true (a copy).
   */
  copy?: boolean;
}

/** @internal Checks a shape argument and returns a frozen copy. */
export function checkShape(op: string, shape: unknown, argument = 'shape'): readonly number[] {
  // isShape reads every index, holes included ([1, , 2] is not a shape), and accepts safe integers only.
  if (!isShape(shape)) {
    throw new InvalidArgumentError(
      formatExpected(op, `${argument} to be an array of non-negative integers`, formatValue(shape)),
      argument,
    );
  }
  const copy = new Array<number>(shape.length);
  let numel = 1;
  for (let i = 0; i < shape.length; i++) {
    copy[i] = shape[i] as number;
    numel *= copy[i] as number;
  }
  if (!Number.isSafeInteger(numel)) {
    throw new InvalidArgumentError(
      formatExpected(op, `${argument} to have at most Number.MAX_SAFE_INTEGER elements`, formatValue(shape)),
      argument,
    );
  }
  return Object.freeze(copy);
}

/** Resolved options: dtype, device and the CPU array type to fill. */
function resolve(
  op: string,
  opts: TensorOptions | undefined,
  defaultDType: DType = 'float32',
): { dtype: DType; device: Device } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError(formatExpected(op, 'options to be an object', formatValue(opts)), 'options');
  }
  const dtype = opts?.dtype === undefined ? defaultDType : parseDType(op, opts.dtype);
  const device = opts?.device === undefined ? 'cpu' : parseDevice(opts.device, op);
  getKernels(device, op);
  if (device === 'cpu') expectCpuDType(op, dtype);
  if (opts?.requiresGrad !== undefined && typeof opts.requiresGrad !== 'boolean') {
    throw new InvalidArgumentError(
      formatExpected(op, 'requiresGrad to be a boolean', formatValue(opts.requiresGrad)),
      'requiresGrad',
    );
  }
  return { dtype, device };
}

/** Wraps CPU values (in the host array type of `dtype`) into a tensor on `device`. */
function finish(
  values: TypedArray,
  shape: readonly number[],
  dtype: DType,
  device: Device,
  opts: TensorOptions | undefined,
  adopt = true,
): Tensor {
  const storage = getKernels(device).fromArray(device, dtype, values, adopt);
  const t = fromStorage(storage, shape);
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A host array for `numel` values of `dtype` (float32 for half types, converted on upload). */
function hostArray(dtype: DType, numel: number, op = 'tensor'): TypedArray {
  return allocateHostArray(op, dtype, numel);
}

/** Infers the shape of a nested array from its first elements. */
function inferShape(data: NestedArray | number): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/** Copies a nested array of `shape` into `out`, checking that it is rectangular and numeric. */
function flatten(data: NestedArray, shape: readonly number[], out: TypedArray): void {
  let k = 0;
  const walk = (level: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof level !== 'number') {
        throw new InvalidArgumentError(
          formatExpected('tensor', `data${path} to be a number`, formatValue(level)),
          'data',
        );
      }
      out[k++] = level;
      return;
    }
    if (!Array.isArray(level) || level.length !== shape[dim]) {
      throw new ShapeMismatchError(
        formatExpected(
          'tensor',
          `a rectangular nested array of shape ${formatShape(shape)}: data${path} to be an array of length ${shape[dim]}`,
          formatValue(level),
        ),
      );
    }
    if (dim === shape.length - 1) {
      for (let i = 0; i < level.length; i++) {
        const v: unknown = level[i];
        if (typeof v !== 'number') {
          throw new InvalidArgumentError(
            formatExpected('tensor', `data${path}[${i}] to be a number`, formatValue(v)),
            'data',
          );
        }
        out[k++] = v;
      }
      return;
    }
    for (let i = 0; i < level.length; i++) walk(level[i], dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
}

/**
 * A tensor from a number, a nested array of numbers, or a typed array.
 *
 * @param data - a number (a scalar, shape `[]`), nested arrays (shape inferred; must be rectangular), or a
 *   `Float32Array`/`Float64Array` (shape `[length]` unless `opts.shape`; dtype from the array unless `opts.dtype`)
 * @param opts - `dtype` (default float32, or the typed array's), `device` (default `'cpu'`), `requiresGrad`,
 *   `shape` (same element count as the data), `copy` (default true)
 * @throws {@link ShapeMismatchError} for ragged nested arrays, or a `shape` with another element count
 * @throws {@link InvalidArgumentError} for non-numeric data or bad options
 * @throws {@link NotImplementedError} for half dtypes on the CPU and for CUDA (not implemented yet)
 * @example
 * ```ts
 * tensor([[1, 2, 3], [4, 5, 6]]).shape;                  // [2, 3]
 * tensor(new Float64Array(6), { shape: [2, 3] }).dtype;  // 'float64'
 * ```
 */
export function tensor(data: number | NestedArray | TypedArray, opts?: TensorDataOptions): Tensor {
  const isTyped = data instanceof Float32Array || data instanceof Float64Array;
  const defaultDType: DType = data instanceof Float64Array ? 'float64' : 'float32';
  const { dtype, device } = resolve('tensor', opts, defaultDType);
  const shapeOpt = opts?.shape === undefined ? undefined : checkShape('tensor', opts.shape);
  let values: TypedArray;
  let inferred: readonly number[];
  let adopt = false;
  if (typeof data === 'number') {
    values = hostArray(dtype, 1);
    values[0] = data;
    inferred = [];
  } else if (isTyped) {
    const typed = data as TypedArray;
    inferred = [typed.length];
    adopt = opts?.copy === false;
    values = typed;
  } else if (Array.isArray(data)) {
    inferred = inferShape(data);
    values = hostArray(dtype, numelOf(inferred));
    flatten(data, inferred, values);
  } else {
    throw new InvalidArgumentError(
      formatExpected(
        'tensor',
        'data to be a number, a nested array of numbers, a Float32Array or a Float64Array',
        formatValue(data),
      ),
      'data',
    );
  }
  let shape = inferred;
  if (shapeOpt !== undefined) {
    if (numelOf(shapeOpt) !== values.length) {
      throw new ShapeMismatchError(
        formatExpected(
          'tensor',
          `shape ${formatShape(shapeOpt)} to hold ${values.length} elements (the data's count)`,
          `${numelOf(shapeOpt)} elements`,
        ),
      );
    }
    shape = shapeOpt;
  }
  return finish(values, shape, dtype, device, opts, isTyped ? adopt : true);
}

/** A tensor of `shape` filled with `value`. */
function filled(op: string, shape: unknown, value: number, opts: TensorOptions | undefined): Tensor {
  const s = checkShape(op, shape);
  const { dtype, device } = resolve(op, opts);
  const kernels = getKernels(device, op);
  const storage = kernels.zeros(device, dtype, numelOf(s));
  if (value !== 0) kernels.fill(storage, value);
  const t = fromStorage(storage, s);
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor of zeros.
 * @param shape - e.g. `[batch, channels, height, width]`
 * @throws {@link InvalidArgumentError} for a bad shape or options
 * @example `zeros([2, 3]).toArray()` → `[[0, 0, 0], [0, 0, 0]]`
 */
export function zeros(shape: readonly number[], opts?: TensorOptions): Tensor {
  return filled('zeros', shape, 0, opts);
}

/** A tensor of ones. See {@link zeros}. */
export function ones(shape: readonly number[], opts?: TensorOptions): Tensor {
  return filled('ones', shape, 1, opts);
}

/**
 * A tensor filled with `value`.
 * @throws {@link InvalidArgumentError} for a non-number `value`, a bad shape or options
 */
export function full(shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
  if (typeof value !== 'number') {
    throw new InvalidArgumentError(formatExpected('full', 'value to be a number', formatValue(value)), 'value');
  }
  return filled('full', shape, value, opts);
}

function randomTensor(
  op: string,
  shape: unknown,
  opts: RandomOptions | undefined,
  fill: (a: TypedArray, gen: Generator) => void,
): Tensor {
  const s = checkShape(op, shape);
  const { dtype, device } = resolve(op, opts);
  const gen = resolveGenerator(op, opts?.generator);
  const values = hostArray(dtype, numelOf(s), op);
  fill(values, gen);
  return finish(values, s, dtype, device, opts);
}

function expectFinite(op: string, argument: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new InvalidArgumentError(formatExpected(op, `${argument} to be a finite number`, formatValue(value)), argument);
}

/**
 * Uniform random numbers in [0, 1) (seed with {@link manualSeed}, or draw from a {@link Generator}).
 * @example `rand([2, 3]).shape` → `[2, 3]`
 */
export function rand(shape: readonly number[], opts?: RandomOptions): Tensor {
  return randomTensor('rand', shape, opts, (a, gen) => fillUniform(a, 0, 1, gen));
}

/** Standard normal random numbers, N(0, 1) (seed with {@link manualSeed}, or draw from a {@link Generator}). */
export function randn(shape: readonly number[], opts?: RandomOptions): Tensor {
  return randomTensor('randn', shape, opts, (a, gen) => fillNormal(a, 0, 1, gen));
}

/**
 * Uniform random numbers in [low, high) (PyTorch's `uniform_`, as used by layer initialisation).
 * @throws {@link InvalidArgumentError} when `low > high` or either is not finite
 */
export function uniform(shape: readonly number[], low: number, high: number, opts?: RandomOptions): Tensor {
  const lo = expectFinite('uniform', 'low', low);
  const hi = expectFinite('uniform', 'high', high);
  if (lo > hi) {
    throw new InvalidArgumentError(formatExpected('uniform', 'low <= high', `low = ${lo}, high = ${hi}`), 'low');
  }
  return randomTensor('uniform', shape, opts, (a, gen) => fillUniform(a, lo, hi, gen));
}

/**
 * Normal random numbers N(mean, std²).
 * @throws {@link InvalidArgumentError} for a negative `std` or non-finite arguments
 */
export function normal(shape: readonly number[], mean = 0, std = 1, opts?: RandomOptions): Tensor {
  const m = expectFinite('normal', 'mean', mean);
  const s = expectFinite('normal', 'std', std);
  if (s < 0) throw new InvalidArgumentError(formatExpected('normal', 'std >= 0', formatValue(std)), 'std');
  return randomTensor('normal', shape, opts, (a, gen) => fillNormal(a, m, s, gen));
}

/**
 * `[start, start + step, ...]` up to `end` (excluded), like `torch.arange`. With one argument, the range is
 * `[0, end)`.
 * @throws {@link InvalidArgumentError} for a zero step, non-finite bounds, or a step of the wrong sign
 * @example `arange(5).toArray()` → `[0, 1, 2, 3, 4]`; `arange(1, 2, 0.25).numel` → `4`
 */
export function arange(start: number, end?: number, step = 1, opts?: TensorOptions): Tensor {
  let lo = expectFinite('arange', 'start', start);
  let hi: number;
  if (end === undefined) {
    hi = lo;
    lo = 0;
  } else {
    hi = expectFinite('arange', 'end', end);
  }
  const st = expectFinite('arange', 'step', step);
  if (st === 0 || (hi - lo) * st < 0) {
    throw new InvalidArgumentError(
      formatExpected(
        'arange',
        'a non-zero step with the sign of end - start',
        `start = ${lo}, end = ${hi}, step = ${st}`,
      ),
      'step',
    );
  }
  const n = Math.max(0, Math.ceil((hi - lo) / st));
  return randomTensor('arange', [n], opts, (a) => {
    for (let i = 0; i < n; i++) a[i] = lo + i * st;
  });
}

/** Shape, dtype and device of `like`, overridden by `opts`. */
function likeOptions<O extends TensorOptions>(op: string, like: Tensor, opts: O | undefined): O {
  if (!isTensor(like)) {
    throw new InvalidArgumentError(formatExpected(op, 'a Tensor', formatValue(like)), 'tensor');
  }
  storageOf(like, op, 'tensor');
  return { dtype: like.dtype, device: like.device, ...opts } as O;
}

/** Zeros of the shape, dtype and device of `like` (overridable by `opts`). */
export function zerosLike(like: Tensor, opts?: TensorOptions): Tensor {
  return filled('zerosLike', like.shape, 0, likeOptions('zerosLike', like, opts));
}

/** Ones of the shape, dtype and device of `like` (overridable by `opts`). */
export function onesLike(like: Tensor, opts?: TensorOptions): Tensor {
  return filled('onesLike', like.shape, 1, likeOptions('onesLike', like, opts));
}

/** `value` everywhere, with the shape, dtype and device of `like` (overridable by `opts`). */
export function fullLike(like: Tensor, value: number, opts?: TensorOptions): Tensor {
  return full(like.shape, value, likeOptions('fullLike', like, opts));
}

/** Uniform [0, 1) numbers with the shape, dtype and device of `like`. */
export function randLike(like: Tensor, opts?: RandomOptions): Tensor {
  return rand(like.shape, likeOptions('randLike', like, opts));
}

/** Standard normal numbers with the shape, dtype and device of `like`. */
export function randnLike(like: Tensor, opts?: RandomOptions): Tensor {
  return randn(like.shape, likeOptions('randnLike', like, opts));
}
