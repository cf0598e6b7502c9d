// SPDX-License-Identifier: MIT
// Argument checks shared by the ops: tensor arguments, one device and one dtype for all of them,
// broadcasting, dimension indices and option objects. Each throws the documented error class with a
// message in the `<op>(): expected ..., but got ...` grammar.

import {
  DTypeMismatchError,
  DeviceMismatchError,
  formatExpected,
  formatShape,
  formatValue,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@tvdcn/shape';
import type { KernelTensor } from '../backends/kernel-backend.js';
import { storageOf, type Tensor } from '../tensor/tensor.js';

/** @internal Checks that `value` is a live tensor and returns its kernel view. */
export function expectTensor(op: string, value: unknown, argument: string): KernelTensor {
  const t = value as Tensor;
  const storage = storageOf(t, op, argument);
  // Also when the op computes nothing (an empty output): a detached buffer is an error either way.
  storage.assertUsable();
  return { storage, shape: t.shape };
}

/**
 * @internal Checks that every given tensor is on the device and of the dtype of the first one.
 * @throws {@link DeviceMismatchError}, {@link DTypeMismatchError}
 */
export function expectSameDeviceAndDType(
  op: string,
  tensors: ReadonlyArray<readonly [string, Tensor | null | undefined]>,
): void {
  let first: readonly [string, Tensor] | null = null;
  for (const [name, t] of tensors) {
    if (t == null) continue;
    if (first === null) {
      first = [name, t];
      continue;
    }
    if (t.device !== first[1].device) {
      throw new DeviceMismatchError(
        formatExpected(
          op,
          `all tensors on one device`,
          `${first[0]} on ${first[1].device} and ${name} on ${t.device} (no implicit copies: move one with to())`,
        ),
      );
    }
    if (t.dtype !== first[1].dtype) {
      throw new DTypeMismatchError(
        formatExpected(
          op,
          `all tensors of one dtype`,
          `${first[0]} of dtype ${first[1].dtype} and ${name} of dtype ${t.dtype} (no implicit conversion: convert one with to())`,
        ),
      );
    }
  }
}

/**
 * @internal The broadcast shape of two shapes (NumPy rules: align right; sizes equal or one is 1).
 * @throws {@link ShapeMismatchError}
 */
export function broadcastShapes(
  op: string,
  a: readonly number[],
  b: readonly number[],
  names: readonly [string, string] = ['a', 'b'],
): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `shapes that broadcast (equal sizes or 1 in each dimension, aligned right)`,
          `${names[0]} with shape ${formatShape(a)} and ${names[1]} with shape ${formatShape(b)}`,
        ),
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * @internal A dimension index in `[-ndim, ndim)` made non-negative (`ndim` is the rank it indexes into).
 * @throws {@link InvalidArgumentError}
 */
export function normalizeDim(op: string, dim: unknown, ndim: number, argument = 'dim'): number {
  const lo = -Math.max(ndim, 1);
  const hi = Math.max(ndim, 1) - 1;
  if (typeof dim === 'number' && Number.isInteger(dim) && dim >= lo && dim <= hi) {
    return dim < 0 ? dim + Math.max(ndim, 1) : dim;
  }
  throw new InvalidArgumentError(
    formatExpected(op, `${argument} to be an integer in [${lo}, ${hi}] (for ${ndim} dimensions)`, formatValue(dim)),
    argument,
  );
}

/**
 * @internal Checks an options object: absent, or an object with only the `allowed` keys.
 * @throws {@link InvalidArgumentError}
 */
export function expectOptions<T extends object>(
  op: string,
  value: T | undefined | null,
  allowed: readonly string[],
): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(formatExpected(op, 'options to be an object', formatValue(value)), 'options');
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(formatExpected(op, `options among ${allowed.join(', ')}`, `'${key}'`), key);
    }
  }
  return value;
}
