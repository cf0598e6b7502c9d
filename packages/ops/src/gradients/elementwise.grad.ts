// SPDX-License-Identifier: MIT
// Gradients of the elementwise ops (ops/elementwise.ts). Each is written with differentiable ops, so
// that a backward with createGraph can be differentiated again; when the graph is not recorded, the
// activations use fused kernels instead (one pass instead of three).

import type { GradConfig } from '../autograd/gradient-registry.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import type { BinaryOp } from '../backends/kernel-backend.js';
import { binaryApply, div, mul, neg, pow, relu, sign, square, sub } from '../ops/elementwise.js';
import { sumTo } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

interface ScalarAttrs {
  alpha: number;
}

/** `composed()` while recording a graph (createGraph), else the fused kernel `kernel(g, s)`. */
function fusedOr(kernel: BinaryOp, g: Tensor, s: Tensor, composed: () => Tensor): Tensor {
  return isGradEnabled() ? composed() : binaryApply('backward', kernel, g, s, false);
}

const addGrad: GradConfig<null> = {
  opName: 'add',
  backward: (g, { needsGrad, inputShapes }) => [
    needsGrad[0] ? sumTo(g, inputShapes[0]) : null,
    needsGrad[1] ? sumTo(g, inputShapes[1]) : null,
  ],
};

const subGrad: GradConfig<null> = {
  opName: 'sub',
  backward: (g, { needsGrad, inputShapes }) => [
    needsGrad[0] ? sumTo(g, inputShapes[0]) : null,
    needsGrad[1] ? sumTo(neg(g), inputShapes[1]) : null,
  ],
};

const mulGrad: GradConfig<null> = {
  opName: 'mul',
  backward: (g, { needsGrad, inputShapes, saved }) => {
    const [a, b] = saved;
    return [
      needsGrad[0] ? sumTo(mul(g, b as Tensor), inputShapes[0]) : null,
      needsGrad[1] ? sumTo(mul(g, a as Tensor), inputShapes[1]) : null,
    ];
  },
};

const divGrad: GradConfig<null> = {
  opName: 'div',
  backward: (g, { needsGrad, inputShapes, saved }) => {
    const [a, b] = saved as [Tensor | null, Tensor];
    return [
      needsGrad[0] ? sumTo(div(g, b), inputShapes[0]) : null,
      // d(a / b)/db = -a / b²
      needsGrad[1] ? sumTo(neg(mul(g, div(a as Tensor, square(b)))), inputShapes[1]) : null,
    ];
  },
};

/** A gradient of one input, computed only when needed. */
function unary<A>(opName: string, f: (g: Tensor, saved: Tensor, attrs: A) => Tensor): GradConfig<A> {
  return {
    opName,
    backward: (g, { needsGrad, saved, attrs }) => [needsGrad[0] ? f(g, saved[0] as Tensor, attrs) : null],
  };
}

const negGrad = unary<ScalarAttrs>('neg', (g) => neg(g));
const addScalarGrad = unary<ScalarAttrs>('addScalar', (g) => g);
const mulScalarGrad = unary<ScalarAttrs>('mulScalar', (g, _, { alpha }) => mul(g, alpha));
const divScalarGrad = unary<ScalarAttrs>('divScalar', (g, _, { alpha }) => div(g, alpha));
const rsubScalarGrad = unary<ScalarAttrs>('rsubScalar', (g) => neg(g));
// d(alpha / x)/dx = -alpha / x²
const rdivScalarGrad = unary<ScalarAttrs>('rdivScalar', (g, x, { alpha }) => mul(div(g, square(x)), -alpha));
// d(x ** p)/dx = p * x ** (p - 1)
const powScalarGrad = unary<ScalarAttrs>('powScalar', (g, x, { alpha }) =>
  alpha === 0 ? mul(g, 0) : mul(g, mul(pow(x, alpha - 1), alpha)),
);
const expGrad = unary<ScalarAttrs>('exp', (g, y) => mul(g, y));
const logGrad = unary<ScalarAttrs>('log', (g, x) => div(g, x));
const squareGrad = unary<ScalarAttrs>('square', (g, x) => mul(g, mul(x, 2)));
const sqrtGrad = unary<ScalarAttrs>('sqrt', (g, y) => div(g, mul(y, 2)));
// sigmoid' = s (1 - s); tanh' = 1 - t²
const sigmoidGrad = unary<ScalarAttrs>('sigmoid', (g, s) =>
  fusedOr('sigmoidBackward', g, s, () => mul(g, mul(s, sub(1, s)))),
);
const tanhGrad = unary<ScalarAttrs>('tanh', (g, t) => fusedOr('tanhBackward', g, t, () => mul(g, sub(1, square(t)))));
// The derivative of relu and abs is piecewise constant: the step is a constant of the graph.
const reluGrad = unary<ScalarAttrs>('relu', (g, x) =>
  fusedOr('reluBackward', g, x, () =>
    mul(
      g,
      noGrad(() => sign(relu(x))),
    ),
  ),
);
const absGrad = unary<ScalarAttrs>('abs', (g, x) =>
  fusedOr('absBackward', g, x, () =>
    mul(
      g,
      noGrad(() => sign(x)),
    ),
  ),
);

/** @internal */
export const elementwiseGradients: readonly GradConfig<never>[] = [
  addGrad,
  subGrad,
  mulGrad,
  divGrad,
  negGrad,
  addScalarGrad,
  mulScalarGrad,
  divScalarGrad,
  rsubScalarGrad,
  rdivScalarGrad,
  powScalarGrad,
  expGrad,
  logGrad,
  squareGrad,
  sqrtGrad,
  sigmoidGrad,
  tanhGrad,
  reluGrad,
  absGrad,
] as unknown as readonly GradConfig<never>[];
