// SPDX-License-Identifier: MIT
// CPU elementwise kernels in TypeScript over typed arrays: one tight loop per op, chosen by a switch
// outside the loop (never a per-element callback). Broadcasting walks rows of the coalesced shape.

import type { BinaryOp, KernelTensor, UnaryOp } from '../kernel-backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import type { Storage } from '../../tensor/storage.js';
import { broadcastStrides, coalesce, numelOf } from '../../tensor/layout.js';
import { allocCpu, arrayOf } from './cpu-storage.js';

/** @internal `out = op(x, alpha)` elementwise. */
export function unaryCpu(op: UnaryOp, x: Storage, alpha: number): Storage {
  const out = allocCpu(x.dtype, x.numel);
  const X = arrayOf(x);
  const O = out.data;
  const n = X.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) O[i] = -X[i];
      break;
    case 'exp':
      for (let i = 0; i < n; i++) O[i] = Math.exp(X[i]);
      break;
    case 'log':
      for (let i = 0; i < n; i++) O[i] = Math.log(X[i]);
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) O[i] = 1 / (1 + Math.exp(-X[i]));
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) O[i] = Math.tanh(X[i]);
      break;
    case 'relu':
      // NaN stays NaN, as in PyTorch.
      for (let i = 0; i < n; i++) {
        const v = X[i];
        O[i] = v > 0 || v !== v ? v : 0;
      }
      break;
    case 'abs':
      for (let i = 0; i < n; i++) O[i] = Math.abs(X[i]);
      break;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const v = X[i];
        O[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v;
      }
      break;
    case 'square':
      for (let i = 0; i < n; i++) O[i] = X[i] * X[i];
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) O[i] = Math.sqrt(X[i]);
      break;
    case 'addScalar':
      for (let i = 0; i < n; i++) O[i] = X[i] + alpha;
      break;
    case 'mulScalar':
      for (let i = 0; i < n; i++) O[i] = X[i] * alpha;
      break;
    case 'divScalar':
      for (let i = 0; i < n; i++) O[i] = X[i] / alpha;
      break;
    case 'rsubScalar':
      for (let i = 0; i < n; i++) O[i] = alpha - X[i];
      break;
    case 'rdivScalar':
      for (let i = 0; i < n; i++) O[i] = alpha / X[i];
      break;
    case 'powScalar':
      if (alpha === 2) for (let i = 0; i < n; i++) O[i] = X[i] * X[i];
      else if (alpha === 1) O.set(X);
      else if (alpha === 0.5) for (let i = 0; i < n; i++) O[i] = Math.sqrt(X[i]);
      else for (let i = 0; i < n; i++) O[i] = X[i] ** alpha;
      break;
    default:
      throw new Error(`internal error: unknown unary op '${String(op)}', please report`);
  }
  return out;
}

/**
 * One row of a binary op: `O[o + i] = op(A[ia + i * sa], B[ib + i * sb])` for `i < n`.
 * Strides are 0 for a broadcast operand.
 */
function binaryRow(
  op: BinaryOp,
  A: TypedArray,
  ia: number,
  sa: number,
  B: TypedArray,
  ib: number,
  sb: number,
  O: TypedArray,
  o: number,
  n: number,
): void {
  const end = o + n;
  switch (op) {
    case 'add':
      for (; o < end; o++, ia += sa, ib += sb) O[o] = A[ia] + B[ib];
      break;
    case 'sub':
      for (; o < end; o++, ia += sa, ib += sb) O[o] = A[ia] - B[ib];
      break;
    case 'mul':
      for (; o < end; o++, ia += sa, ib += sb) O[o] = A[ia] * B[ib];
      break;
    case 'div':
      for (; o < end; o++, ia += sa, ib += sb) O[o] = A[ia] / B[ib];
      break;
    case 'sigmoidBackward':
      for (; o < end; o++, ia += sa, ib += sb) {
        const s = B[ib];
        O[o] = A[ia] * s * (1 - s);
      }
      break;
    case 'tanhBackward':
      for (; o < end; o++, ia += sa, ib += sb) {
        const t = B[ib];
        O[o] = A[ia] * (1 - t * t);
      }
      break;
    case 'reluBackward':
      for (; o < end; o++, ia += sa, ib += sb) O[o] = B[ib] > 0 ? A[ia] : 0;
      break;
    case 'absBackward':
      for (; o < end; o++, ia += sa, ib += sb) {
        const v = B[ib];
        O[o] = v > 0 ? A[ia] : v < 0 ? -A[ia] : 0;
      }
      break;
    default:
      throw new Error(`internal error: unknown binary op '${String(op)}', please report`);
  }
}

/** @internal `op(a, b)` with NumPy broadcasting to `outShape`. */
export function binaryCpu(op: BinaryOp, a: KernelTensor, b: KernelTensor, outShape: readonly number[]): Storage {
  const n = numelOf(outShape);
  const out = allocCpu(a.storage.dtype, n);
  if (n === 0) return out;
  const A = arrayOf(a.storage);
  const B = arrayOf(b.storage);
  const O = out.data;
  const na = A.length;
  const nb = B.length;
  // Fast paths: no broadcasting (equal element counts imply equal layouts), or a one-element operand.
  if ((na === n || na === 1) && (nb === n || nb === 1)) {
    binaryRow(op, A, 0, na === 1 ? 0 : 1, B, 0, nb === 1 ? 0 : 1, O, 0, n);
    return out;
  }
  const c = coalesce(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
  const shape = c.shape;
  const [stA, stB] = c.strides;
  const nd = shape.length;
  const inner = shape[nd - 1];
  const sa = stA[nd - 1];
  const sb = stB[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += inner) {
    binaryRow(op, A, ia, sa, B, ib, sb, O, o, inner);
    // Odometer over the outer dimensions.
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        ia += stA[d];
        ib += stB[d];
        break;
      }
      idx[d] = 0;
      ia -= stA[d] * (shape[d] - 1);
      ib -= stB[d] * (shape[d] - 1);
    }
  }
  return out;
}

/** @internal `dst += src`, same element count. */
export function addInPlaceCpu(dst: Storage, src: Storage): void {
  const D = arrayOf(dst);
  const S = arrayOf(src);
  const n = D.length;
  for (let i = 0; i < n; i++) D[i] += S[i];
}

/** @internal A copy in `dtype`. */
export function castCpu(x: Storage, dtype: DType): Storage {
  const out = allocCpu(dtype, x.numel);
  out.data.set(arrayOf(x));
  return out;
}
