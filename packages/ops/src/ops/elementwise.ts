// SPDX-License-Identifier: MIT
// Elementwise ops with gradients: add, sub, mul, div (NumPy/PyTorch broadcasting, numbers accepted),
// neg, exp, log, sigmoid, tanh, relu, abs, square, sqrt, pow. The loops are the device's kernels; the
// gradients are in gradients/elementwise.grad.ts.

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import type { BinaryOp, UnaryOp } from '../backends/kernel-backend.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, isTensor, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { broadcastShapes, expectSameDeviceAndDType, expectTensor } from './op-utils.js';

/** What a unary op saves for its backward. */
type Save = 'input' | 'output' | 'none';

/** @internal `kernel(x, alpha)` elementwise, recorded as op `kernel` with attrs `{ alpha }`. */
export function unaryApply(op: string, kernel: UnaryOp, x: Tensor, alpha: number, save: Save): Tensor {
  const kx = expectTensor(op, x, 'input');
  const out = fromStorage(getKernels(x.device).unary(kernel, kx.storage, alpha), x.shape);
  if (shouldRecord([x])) {
    recordOp(out, kernel, [x], save === 'input' ? [x] : save === 'output' ? [out] : [], { alpha });
  }
  return out;
}

/**
 * @internal `kernel(a, b)` with broadcasting, recorded as op `kernel` when `record`; saves the inputs
 * that the other input's gradient needs (mul, div).
 */
export function binaryApply(op: string, kernel: BinaryOp, a: Tensor, b: Tensor, record = true): Tensor {
  const ka = expectTensor(op, a, 'input');
  const kb = expectTensor(op, b, 'other');
  expectSameDeviceAndDType(op, [
    ['input', a],
    ['other', b],
  ]);
  const shape = broadcastShapes(op, a.shape, b.shape, ['input', 'other']);
  const out = fromStorage(getKernels(a.device).binary(kernel, ka, kb, shape), shape);
  if (record && shouldRecord([a, b])) {
    let saved: (Tensor | null)[] = [];
    if (kernel === 'mul') saved = [b.requiresGrad ? a : null, a.requiresGrad ? b : null];
    else if (kernel === 'div') saved = [b.requiresGrad ? a : null, b];
    recordOp(out, kernel, [a, b], saved, null);
  }
  return out;
}

/** Splits `(a, b)` where either may be a number; both numbers is an error. */
function operands(op: string, a: Tensor | number, b: Tensor | number): [Tensor, number, boolean] | [Tensor, Tensor] {
  const aIsNumber = typeof a === 'number';
  const bIsNumber = typeof b === 'number';
  if (aIsNumber && bIsNumber) {
    throw new InvalidArgumentError(
      formatExpected(op, 'input or other to be a Tensor', `two numbers ${a} and ${b}`),
      'input',
    );
  }
  if (bIsNumber) return [a as Tensor, b, false];
  if (aIsNumber) return [b as Tensor, a, true];
  if (!isTensor(a))
    throw new InvalidArgumentError(formatExpected(op, 'input to be a Tensor or a number', formatValue(a)), 'input');
  return [a, b];
}

/**
 * `input + other`, elementwise with broadcasting (NumPy/PyTorch rules). Either may be a number.
 * Both tensors must be on one device and of one dtype (no promotion).
 * @throws {@link ShapeMismatchError} for shapes that do not broadcast
 * @throws {@link DTypeMismatchError}, {@link DeviceMismatchError}
 * @example `add(zeros([2, 3]), tensor([1, 2, 3])).shape` → `[2, 3]`
 */
export const add = defineOp('add', (op, input: Tensor | number, other: Tensor | number): Tensor => {
  const p = operands(op, input, other);
  if (typeof p[1] === 'number') return unaryApply(op, 'addScalar', p[0], p[1], 'none');
  return binaryApply(op, 'add', p[0], p[1]);
});

/** `input - other`, elementwise with broadcasting; either may be a number. See {@link add}. */
export const sub = defineOp('sub', (op, input: Tensor | number, other: Tensor | number): Tensor => {
  const p = operands(op, input, other);
  if (typeof p[1] === 'number') {
    return p[2] ? unaryApply(op, 'rsubScalar', p[0], p[1], 'none') : unaryApply(op, 'addScalar', p[0], -p[1], 'none');
  }
  return binaryApply(op, 'sub', p[0], p[1]);
});

/** `input * other`, elementwise with broadcasting; either may be a number. See {@link add}. */
export const mul = defineOp('mul', (op, input: Tensor | number, other: Tensor | number): Tensor => {
  const p = operands(op, input, other);
  if (typeof p[1] === 'number') return unaryApply(op, 'mulScalar', p[0], p[1], 'none');
  return binaryApply(op, 'mul', p[0], p[1]);
});

/** `input / other` (true division), elementwise with broadcasting; either may be a number. See {@link add}. */
export const div = defineOp('div', (op, input: Tensor | number, other: Tensor | number): Tensor => {
  const p = operands(op, input, other);
  if (typeof p[1] === 'number') {
    return p[2] ? unaryApply(op, 'rdivScalar', p[0], p[1], 'input') : unaryApply(op, 'divScalar', p[0], p[1], 'none');
  }
  return binaryApply(op, 'div', p[0], p[1]);
});

/** `-input`. */
export const neg = defineOp('neg', (op, input: Tensor): Tensor => unaryApply(op, 'neg', input, 0, 'none'));

/** `e ** input`. */
export const exp = defineOp('exp', (op, input: Tensor): Tensor => unaryApply(op, 'exp', input, 0, 'output'));

/** Natural logarithm (NaN below 0, -Infinity at 0). */
export const log = defineOp('log', (op, input: Tensor): Tensor => unaryApply(op, 'log', input, 0, 'input'));

/** `1 / (1 + e ** -input)`. */
export const sigmoid = defineOp(
  'sigmoid',
  (op, input: Tensor): Tensor => unaryApply(op, 'sigmoid', input, 0, 'output'),
);

/** Hyperbolic tangent. */
export const tanh = defineOp('tanh', (op, input: Tensor): Tensor => unaryApply(op, 'tanh', input, 0, 'output'));

/** `max(input, 0)`; the gradient at 0 is 0 (as PyTorch). */
export const relu = defineOp('relu', (op, input: Tensor): Tensor => unaryApply(op, 'relu', input, 0, 'input'));

/** `|input|`; the gradient at 0 is 0 (as PyTorch). */
export const abs = defineOp('abs', (op, input: Tensor): Tensor => unaryApply(op, 'abs', input, 0, 'input'));

/** `input * input`. */
export const square = defineOp('square', (op, input: Tensor): Tensor => unaryApply(op, 'square', input, 0, 'input'));

/** Square root (NaN below 0). */
export const sqrt = defineOp('sqrt', (op, input: Tensor): Tensor => unaryApply(op, 'sqrt', input, 0, 'output'));

/**
 * `input ** exponent` for a number `exponent`.
 * @throws {@link InvalidArgumentError} when `exponent` is not a number
 * @example `pow(tensor([2, 3]), 2).toArray()` → `[4, 9]`
 */
export const pow = defineOp('pow', (op, input: Tensor, exponent: number): Tensor => {
  if (typeof exponent !== 'number' || Number.isNaN(exponent)) {
    throw new InvalidArgumentError(formatExpected(op, 'exponent to be a number', formatValue(exponent)), 'exponent');
  }
  return unaryApply(op, 'powScalar', input, exponent, 'input');
});

/** @internal `sign(input)` (-1, 0 or 1; NaN stays NaN). Not differentiable: never recorded. */
export function sign(input: Tensor): Tensor {
  const kx = expectTensor('sign', input, 'input');
  return fromStorage(getKernels(input.device).unary('sign', kx.storage, 0), input.shape);
}
