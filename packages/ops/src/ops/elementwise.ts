// SPDX-License-Identifier: MIT
// Elementwise ops with gradients: add, sub, mul, div (NumPy/PyTorch broadcasting, numbers accepted),
// neg, exp, log, sigmoid, tanh, relu, abs, square, sqrt, pow. The loops are the device's kernels; the
// gradients are at the end of this file, one per recorded kernel.

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import type { GradFn } from '../autograd/grad-fn.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import type { BinaryOp, UnaryOp } from '../backends/kernel-backend.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, isTensor, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { broadcastShapes, expectSameDeviceAndDType, expectTensor } from './op-utils.js';
import { sumTo } from './primitives.js';

/** What a unary op saves for its backward. */
type Save = 'input' | 'output' | 'none';

/** The unary kernels that are recorded (each has a gradient below); `sign` is not differentiable. */
type DifferentiableUnaryOp = Exclude<UnaryOp, 'sign'>;

/** The binary kernels that are recorded (the fused `*Backward` kernels are not). */
type DifferentiableBinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** @internal `kernel(x, alpha)` elementwise, recorded as op `kernel` with attrs `{ alpha }`. */
export function unaryApply(op: string, kernel: DifferentiableUnaryOp, x: Tensor, alpha: number, save: Save): Tensor {
  const kx = expectTensor(op, x, 'input');
  const out = fromStorage(getKernels(x.device).unary(kernel, kx.storage, alpha), x.shape);
  if (shouldRecord([x])) {
    const saved = save === 'input' ? [x] : save === 'output' ? [out] : [];
    recordOp(out, unaryGradients[kernel], [x], saved, { alpha });
  }
  return out;
}

/**
 * `kernel(a, b)` with broadcasting, recorded as op `kernel` when `record`; saves the inputs
 * that the other input's gradient needs (mul, div). Only the differentiable kernels may be recorded.
 */
function binaryApply(op: string, kernel: DifferentiableBinaryOp, a: Tensor, b: Tensor): Tensor;
function binaryApply(op: string, kernel: BinaryOp, a: Tensor, b: Tensor, record: false): Tensor;
function binaryApply(op: string, kernel: BinaryOp, a: Tensor, b: Tensor, record = true): Tensor {
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
    recordOp(out, binaryGradients[kernel as DifferentiableBinaryOp], [a, b], saved, null);
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

// #region gradients
// Each is written with differentiable ops, so that a backward with createGraph can be differentiated
// again; when the graph is not recorded, the activations use fused kernels instead (one pass, not three).

/** `composed()` while recording a graph (createGraph), else the fused kernel `kernel(g, s)`. */
function fusedOr(kernel: BinaryOp, g: Tensor, s: Tensor, composed: () => Tensor): Tensor {
  return isGradEnabled() ? composed() : binaryApply('backward', kernel, g, s, false);
}

const binaryGradients: Readonly<Record<DifferentiableBinaryOp, GradFn<null>>> = {
  add: {
    opName: 'add',
    backward: (g, { needsGrad, inputShapes }) => [
      needsGrad[0] ? sumTo(g, inputShapes[0]) : null,
      needsGrad[1] ? sumTo(g, inputShapes[1]) : null,
    ],
  },
  sub: {
    opName: 'sub',
    backward: (g, { needsGrad, inputShapes }) => [
      needsGrad[0] ? sumTo(g, inputShapes[0]) : null,
      needsGrad[1] ? sumTo(neg(g), inputShapes[1]) : null,
    ],
  },
  mul: {
    opName: 'mul',
    backward: (g, { needsGrad, inputShapes, saved }) => {
      const [a, b] = saved;
      return [
        needsGrad[0] ? sumTo(mul(g, b as Tensor), inputShapes[0]) : null,
        needsGrad[1] ? sumTo(mul(g, a as Tensor), inputShapes[1]) : null,
      ];
    },
  },
  div: {
    opName: 'div',
    backward: (g, { needsGrad, inputShapes, saved }) => {
      const [a, b] = saved as [Tensor | null, Tensor];
      return [
        needsGrad[0] ? sumTo(div(g, b), inputShapes[0]) : null,
        // d(a / b)/db = -a / b²
        needsGrad[1] ? sumTo(neg(mul(g, div(a as Tensor, square(b)))), inputShapes[1]) : null,
      ];
    },
  },
};

interface ScalarAttrs {
  alpha: number;
}

/** The gradient of a unary kernel: `f(g, saved, attrs)`, computed only when needed. */
function unary(opName: string, f: (g: Tensor, saved: Tensor, attrs: ScalarAttrs) => Tensor): GradFn<ScalarAttrs> {
  return {
    opName,
    backward: (g, { needsGrad, saved, attrs }) => [needsGrad[0] ? f(g, saved[0] as Tensor, attrs) : null],
  };
}

const unaryGradients: Readonly<Record<DifferentiableUnaryOp, GradFn<ScalarAttrs>>> = {
  neg: unary('neg', (g) => neg(g)),
  addScalar: unary('addScalar', (g) => g),
  mulScalar: unary('mulScalar', (g, _, { alpha }) => mul(g, alpha)),
  divScalar: unary('divScalar', (g, _, { alpha }) => div(g, alpha)),
  rsubScalar: unary('rsubScalar', (g) => neg(g)),
  // d(alpha / x)/dx = -alpha / x²
  rdivScalar: unary('rdivScalar', (g, x, { alpha }) => mul(div(g, square(x)), -alpha)),
  // d(x ** p)/dx = p * x ** (p - 1)
  powScalar: unary('powScalar', (g, x, { alpha }) => (alpha === 0 ? mul(g, 0) : mul(g, mul(pow(x, alpha - 1), alpha)))),
  exp: unary('exp', (g, y) => mul(g, y)),
  log: unary('log', (g, x) => div(g, x)),
  square: unary('square', (g, x) => mul(g, mul(x, 2))),
  sqrt: unary('sqrt', (g, y) => div(g, mul(y, 2))),
  // sigmoid' = s (1 - s); tanh' = 1 - t²
  sigmoid: unary('sigmoid', (g, s) => fusedOr('sigmoidBackward', g, s, () => mul(g, mul(s, sub(1, s))))),
  tanh: unary('tanh', (g, t) => fusedOr('tanhBackward', g, t, () => mul(g, sub(1, square(t))))),
  // The derivative of relu and abs is piecewise constant: the step is a constant of the graph.
  relu: unary('relu', (g, x) =>
    fusedOr('reluBackward', g, x, () =>
      mul(
        g,
        noGrad(() => sign(relu(x))),
      ),
    ),
  ),
  abs: unary('abs', (g, x) =>
    fusedOr('absBackward', g, x, () =>
      mul(
        g,
        noGrad(() => sign(x)),
      ),
    ),
  ),
};

// #endregion
