// SPDX-License-Identifier: MIT
// Small helpers shared by the op test suites: float64 tensors from nested data, closeness checks.

import { expect } from 'vitest';
import { randn, tensor, type NestedArray, type Tensor } from '../../src/index.js';

/** A float64 tensor (requiring grad when asked). */
export function f64(data: number | NestedArray, requiresGrad = false): Tensor {
  return tensor(data, { dtype: 'float64', requiresGrad });
}

/** A float64 standard-normal tensor that requires grad. */
export function param(shape: readonly number[]): Tensor {
  return randn(shape, { dtype: 'float64', requiresGrad: true });
}

/** Expects every value of `actual` within `tol` (absolute + relative) of `expected`. */
export function expectClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  tol = 1e-10,
): void {
  const a = 'toTypedArray' in actual ? (actual as Tensor).toTypedArray() : actual;
  const e = 'toTypedArray' in expected ? (expected as Tensor).toTypedArray() : expected;
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    if (!(diff <= tol * (1 + Math.abs(e[i]))) && !(Number.isNaN(a[i]) && Number.isNaN(e[i]))) {
      expect.fail(`element ${i}: got ${a[i]}, expected ${e[i]} (tolerance ${tol})`);
    }
  }
}
