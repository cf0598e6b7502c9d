// SPDX-License-Identifier: MIT
// Reductions with gradients: sum and mean over all or some dimensions, and the internal sumTo() that
// reduces a broadcast gradient back to an input's shape.

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, sameShape, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { unaryApply } from './elementwise.js';
import { numelOf } from '../tensor/layout.js';
import { expectTensor, normalizeDim } from './op-utils.js';
import { reshapeApply } from './shape-ops.js';

/** @internal Attributes of a recorded sum. */
export interface SumAttrs {
  /** Reduced dimensions, sorted, non-negative. */
  dims: readonly number[];
  keepdim: boolean;
}

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

/** The result shape of reducing `dims`. */
function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (dims.includes(d)) {
      if (keepdim) out.push(1);
    } else {
      out.push(shape[d]);
    }
  }
  return out;
}

/** @internal Sum over `dims` (sorted, unique), recorded as op 'sum'. */
export function sumApply(op: string, x: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  const kx = expectTensor(op, x, 'input');
  const shape = reducedShape(x.shape, dims, keepdim);
  const out = fromStorage(getKernels(x.device).sum(kx, dims), shape);
  if (shouldRecord([x])) recordOp(out, 'sum', [x], [], { dims, keepdim } satisfies SumAttrs);
  return out;
}

/**
 * @internal Sums a gradient of a broadcast result back to `shape` (the dimensions that were added or
 * were 1). Returns `g` itself when the shapes match.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  const summed = sumApply('sumTo', g, dims, false);
  return sameShape(summed.shape, shape) ? summed : reshapeApply('sumTo', summed, shape);
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
