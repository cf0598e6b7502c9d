// SPDX-License-Identifier: MIT
// The primitives other ops and their gradients are built from: reshape (a view), broadcast (a copy),
// sum over dimensions, and sumTo, which reduces a broadcast gradient back to an input's shape. Their
// gradients are each other (the gradient of a broadcast is a sum, the gradient of a sum a reshape and a
// broadcast), so they live in one file, which imports no other op: every op file may import it.
// The public ops over them (reshape, broadcastTo, sum, ...) are in shape-ops.ts and reduce.ts.

import { formatExpected, formatShape, ShapeMismatchError } from '@tvdcn/shape';
import type { GradFn } from '../autograd/grad-fn.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import { getKernels } from '../backends/registry.js';
import { contiguousStrides, numelOf } from '../tensor/layout.js';
import { fromStorage, sameShape, type Tensor } from '../tensor/tensor.js';
import { expectTensor } from './op-utils.js';

// #region reshape

/** @internal A tensor sharing `x`'s memory with `shape` (same element count, checked by the caller). */
export function reshapeApply(op: string, x: Tensor, shape: readonly number[]): Tensor {
  const kx = expectTensor(op, x, 'input');
  const out = fromStorage(kx.storage, shape);
  if (shouldRecord([x])) recordOp(out, reshapeGrad, [x], [], null);
  return out;
}

/** reshape → reshape back. */
const reshapeGrad: GradFn<null> = {
  opName: 'reshape',
  backward: (g, { needsGrad, inputShapes }) => [needsGrad[0] ? reshapeApply('reshape', g, inputShapes[0]) : null],
};

// #endregion

// #region broadcast

/** @internal `x` broadcast to `shape` (a copy), recorded as 'broadcastTo'. */
export function broadcastApply(op: string, x: Tensor, shape: readonly number[]): Tensor {
  const kx = expectTensor(op, x, 'input');
  const lead = shape.length - x.ndim;
  const ok = lead >= 0 && x.shape.every((s, i) => s === 1 || s === shape[i + lead]);
  if (!ok) {
    throw new ShapeMismatchError(
      formatExpected(op, `a shape that input ${formatShape(x.shape)} broadcasts to`, formatShape(shape)),
    );
  }
  const own = contiguousStrides(x.shape);
  const srcStrides = shape.map((s, i) => (i < lead || (x.shape[i - lead] === 1 && s !== 1) ? 0 : own[i - lead]));
  const kernels = getKernels(x.device);
  const storage = kernels.zeros(x.device, x.dtype, numelOf(shape));
  kernels.copyStrided(kx.storage, 0, srcStrides, storage, 0, contiguousStrides(shape), shape);
  const out = fromStorage(storage, shape);
  if (shouldRecord([x])) recordOp(out, broadcastToGrad, [x], [], null);
  return out;
}

/** broadcastTo → the gradient summed over the broadcast dimensions. */
const broadcastToGrad: GradFn<null> = {
  opName: 'broadcastTo',
  backward: (g, { needsGrad, inputShapes }) => [needsGrad[0] ? sumTo(g, inputShapes[0]) : null],
};

// #endregion

// #region sum

/** @internal Attributes of a recorded sum. */
interface SumAttrs {
  /** Reduced dimensions, sorted, non-negative. */
  dims: readonly number[];
  keepdim: boolean;
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
  if (shouldRecord([x])) recordOp(out, sumGrad, [x], [], { dims, keepdim } satisfies SumAttrs);
  return out;
}

/**
 * sum → the output gradient broadcast back over the reduced dimensions (mean is a sum and a division).
 */
const sumGrad: GradFn<SumAttrs> = {
  opName: 'sum',
  backward: (g, { needsGrad, inputShapes, attrs }) => {
    if (!needsGrad[0]) return [null];
    const shape = inputShapes[0];
    // Put the reduced dimensions back as size 1, then broadcast.
    const kept = attrs.keepdim
      ? g
      : reshapeApply(
          'sum',
          g,
          shape.map((s, d) => (attrs.dims.includes(d) ? 1 : s)),
        );
    return [broadcastApply('sum', kept, shape)];
  },
};

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

// #endregion
