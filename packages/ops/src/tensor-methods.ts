// SPDX-License-Identifier: MIT
// Installs the ops behind the Tensor methods (x.add(y), x.sum(), x.reshape(s), x.backward(), ...). The
// Tensor class (tensor/tensor.ts) sits below the ops and autograd and must not import them; this module,
// above both, hands them over. index.ts calls installTensorMethods() once at load. A new Tensor method
// that calls an op: declare it in tensor.ts's TensorMethodOps and wire it here.

import { backward } from './autograd/tape.js';
import { cast, clone, toDevice } from './ops/conversion.js';
import { abs, add, div, exp, log, mul, neg, pow, relu, sigmoid, sqrt, square, sub, tanh } from './ops/elementwise.js';
import { addInPlace, copyInPlace, fillInPlace, mulInPlace } from './ops/in-place.js';
import { mean, sum } from './ops/reduce.js';
import { flatten, permute, reshape, squeeze, transpose, unsqueeze, view } from './ops/shape-ops.js';
import { installTensorMethodOps } from './tensor/tensor.js';

/** @internal Installs the ops behind the Tensor methods (idempotent). */
export function installTensorMethods(): void {
  installTensorMethodOps({
    cast,
    toDevice,
    clone,
    reshape,
    copyInPlace,
    fillInPlace,
    addInPlace,
    mulInPlace,
    add,
    sub,
    mul,
    div,
    neg,
    pow,
    exp,
    log,
    abs,
    square,
    sqrt,
    sigmoid,
    tanh,
    relu,
    sum,
    mean,
    view,
    flatten,
    squeeze,
    unsqueeze,
    permute,
    transpose,
    backward,
  });
}
