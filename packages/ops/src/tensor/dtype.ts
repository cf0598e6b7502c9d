// SPDX-License-Identifier: MIT
// Element types of a tensor and the typed arrays that hold them on the CPU. Not for conversion
// between types (see backends/); this file only names and checks them.

import {
  formatExpected,
  formatOpPrefix,
  formatValue,
  InvalidArgumentError,
  NotImplementedError,
  OutOfMemoryError,
} from '@tvdcn/shape';

/**
 * Element type of a tensor. `'float16'` and `'bfloat16'` exist only on CUDA (values read back from
 * them widen to float32).
 */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16';

/** The dtypes a CPU tensor can have. */
export type CpuDType = 'float32' | 'float64';

/** The typed array that holds a CPU tensor's values, or that values of any dtype are read into. */
export type TypedArray = Float32Array | Float64Array;

/** All dtypes, in order. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

/** @internal Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
};

/** @internal The typed array constructor for the values of each dtype read back to the CPU. */
export const DTYPE_TO_ARRAY: Readonly<Record<DType, Float32ArrayConstructor | Float64ArrayConstructor>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Float32Array,
  bfloat16: Float32Array,
};

/** True for any {@link DType}. */
export function isDType(value: unknown): value is DType {
  return value === 'float32' || value === 'float64' || value === 'float16' || value === 'bfloat16';
}

/** True for the half-precision types, which exist only on CUDA. */
export function isHalfDType(dtype: DType): dtype is 'float16' | 'bfloat16' {
  return dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * @internal Checks a user-given dtype.
 * @throws {@link InvalidArgumentError} when `value` is not a {@link DType}
 */
export function parseDType(op: string, value: unknown): DType {
  if (isDType(value)) return value;
  throw new InvalidArgumentError(
    formatExpected(op, `dtype to be one of 'float32', 'float64', 'float16', 'bfloat16'`, formatValue(value)),
    'dtype',
  );
}

/**
 * @internal Throws for half types on the CPU.
 * @throws {@link NotImplementedError}
 */
export function expectCpuDType(op: string, dtype: DType): CpuDType {
  if (dtype === 'float32' || dtype === 'float64') return dtype;
  throw new NotImplementedError(
    `${op}(): expected dtype 'float32' or 'float64' on the CPU, but got '${dtype}'; ` +
      `half-precision tensors exist only on CUDA: use dtype 'float32' on the CPU`,
  );
}

/** @internal The dtype of a typed array. */
export function dtypeOfArray(data: TypedArray): CpuDType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

/**
 * @internal A zero-filled host array of `numel` values of `dtype` (float32 for half types). Sizes the
 * engine cannot hold (more than a typed array's maximum length, or memory exhausted) throw an
 * {@link OutOfMemoryError} naming the op and the size, instead of V8's untyped `RangeError`.
 */
export function allocateHostArray(op: string, dtype: DType, numel: number): TypedArray {
  const Ctor = DTYPE_TO_ARRAY[dtype];
  if (!Number.isSafeInteger(numel) || numel < 0) {
    throw new OutOfMemoryError(`${formatOpPrefix(op)}cannot allocate a tensor of ${numel} elements`);
  }
  try {
    return new Ctor(numel);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const bytes = numel * Ctor.BYTES_PER_ELEMENT;
    throw new OutOfMemoryError(
      `${formatOpPrefix(op)}cannot allocate a ${dtype} tensor of ${numel} elements (${bytes} bytes) on the CPU: ${e.message}`,
      { cause: e },
    );
  }
}
