// SPDX-License-Identifier: MIT
// Reductions: sum and mean over all or some dimensions. Both record the primitive sum (primitives.ts,
// with its gradient); mean divides after it.

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { unaryApply } from './elementwise.js';
import { numelOf } from '../tensor/layout.js';
import { expectTensor, normalizeDim } from './op-utils.js';
import { sumApply } from './primitives.js';

/** The reduced dimensions: all when `dim` is undefined or null. */
function reducedDims(op: string, dim: number | readonly number[] | null | undefined, ndim: number): number[] {
  if (dim === undefined || dim === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dim === 'number' ? [dim] : dim;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      formatExpected(op, 'dim to be an integer or an array of integers', formatValue(dim)),
      'dim',
    );
  }
  const dims = list.map((d) => normalizeDim(op, d, ndim));
  const unique = [...new Set(dims)].sort((a, b) => a - b);
  if (unique.length !== dims.length) {
    throw new InvalidArgumentError(formatExpected(op, 'dim to list each dimension once', formatValue(dim)), 'dim');
  }
  // A scalar reduces over nothing.
  return ndim === 0 ? [] : unique;
}

/**
 * Sum of the elements over `dim` (all dimensions when omitted), accumulated in float64.
 *
 * @param input - any shape
 * @param dim - a dimension or a list of them (negative counts from the end); default all
 * @param keepdim - keep the reduced dimensions with size 1 (default false)
 * @throws {@link InvalidArgumentError} for a dimension out of range or listed twice
 * @example
 * ```ts
 * sum(ones([2, 3])).item();         // 6
 * sum(ones([2, 3]), 1).shape;       // [2]
 * sum(ones([2, 3]), 1, true).shape; // [2, 1]
 * ```
 */
export const sum = defineOp(
  'sum',
  (op, input: Tensor, dim?: number | readonly number[] | null, keepdim: boolean = false): Tensor => {
    expectTensor(op, input, 'input');
    return sumApply(op, input, reducedDims(op, dim, input.ndim), keepdim);
  },
);

/**
 * Mean of the elements over `dim` (all when omitted); NaN for an empty reduction. See {@link sum}.
 * @example `mean(tensor([1, 2, 3, 6])).item()` → `3`
 */
export const mean = defineOp(
  'mean',
  (op, input: Tensor, dim?: number | readonly number[] | null, keepdim: boolean = false): Tensor => {
    expectTensor(op, input, 'input');
    const dims = reducedDims(op, dim, input.ndim);
    const count = numelOf(dims.map((d) => input.shape[d]));
    const total = sumApply(op, input, dims, keepdim);
    return unaryApply(op, 'divScalar', total, count, 'none');
  },
);
