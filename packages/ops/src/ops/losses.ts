// SPDX-License-Identifier: MIT
// Regression losses: mseLoss and l1Loss (PyTorch's F.mse_loss and F.l1_loss), composed from the
// elementwise ops and reductions, so their gradients come from those.

import { formatExpected, formatShape, formatValue, InvalidArgumentError, ShapeMismatchError } from '@tvdcn/shape';
import { sameShape, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { abs, square, sub } from './elementwise.js';
import { expectOptions, expectTensor } from './op-utils.js';
import { mean, sum } from './reduce.js';

/** How a loss reduces its elementwise values. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of the losses. */
export interface LossOptions {
  /** `'mean'` (default), `'sum'` or `'none'` (the elementwise losses, of the input's shape). */
  reduction?: Reduction;
}

function lossBody(
  op: string,
  input: Tensor,
  target: Tensor,
  options: LossOptions | undefined,
  elementwise: (d: Tensor) => Tensor,
): Tensor {
  expectTensor(op, input, 'input');
  expectTensor(op, target, 'target');
  const { reduction = 'mean' } = expectOptions(op, options, ['reduction']);
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new InvalidArgumentError(
      formatExpected(op, `reduction to be 'mean', 'sum' or 'none'`, formatValue(reduction)),
      'reduction',
    );
  }
  // PyTorch broadcasts with a warning; a mismatch here is almost always a bug, so it is an error.
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `target of the input's shape ${formatShape(input.shape)}`,
        `target with shape ${formatShape(target.shape)}`,
      ),
    );
  }
  const values = elementwise(sub(input, target));
  if (reduction === 'none') return values;
  return reduction === 'sum' ? sum(values) : mean(values);
}

/**
 * Mean squared error: `reduce((input - target) ** 2)`.
 * @param input - any shape
 * @param target - the same shape (no broadcasting), device and dtype
 * @param options - `reduction` (default `'mean'`)
 * @throws {@link ShapeMismatchError} when the shapes differ
 * @throws {@link InvalidArgumentError} for an unknown reduction
 * @example `mseLoss(tensor([1, 2]), tensor([1, 4])).item()` → `2`
 */
export const mseLoss = defineOp(
  'mseLoss',
  (op, input: Tensor, target: Tensor, options?: LossOptions): Tensor => lossBody(op, input, target, options, square),
);

/**
 * Mean absolute error: `reduce(|input - target|)`. See {@link mseLoss}.
 * @example `l1Loss(tensor([1, 2]), tensor([1, 4])).item()` → `1`
 */
export const l1Loss = defineOp(
  'l1Loss',
  (op, input: Tensor, target: Tensor, options?: LossOptions): Tensor => lossBody(op, input, target, options, abs),
);
