// SPDX-License-Identifier: MIT
// CPU sum over any set of dimensions, accumulating in float64 whatever the dtype.

import type { KernelTensor } from '../kernel-backend.js';
import type { Storage } from '../../tensor/storage.js';
import { numelOf } from '../../tensor/layout.js';
import { allocCpu, arrayOf } from './cpu-storage.js';

/** @internal Sum of `x` over `dims` (sorted, unique); the kept dimensions stay in order. */
export function sumCpu(x: KernelTensor, dims: readonly number[]): Storage {
  const X = arrayOf(x.storage);
  const shape = x.shape;
  const reduced = new Array<boolean>(shape.length).fill(false);
  for (const d of dims) reduced[d] = true;
  let outNumel = 1;
  for (let d = 0; d < shape.length; d++) if (!reduced[d]) outNumel *= shape[d];
  const out = allocCpu(x.storage.dtype, outNumel);
  const O = out.data;
  const n = X.length;
  if (n === 0 || outNumel === 0) return out;

  if (outNumel === 1) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += X[i];
    O[0] = acc;
    return out;
  }

  // Merge neighbouring dimensions that are both reduced or both kept: the input becomes alternating
  // blocks [.., R, K, R, K] with R reduced and K kept, walked row by row along the last block.
  const sizes: number[] = [];
  const isReduced: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && isReduced[last] === reduced[d]) sizes[last] *= shape[d];
    else {
      sizes.push(shape[d]);
      isReduced.push(reduced[d]);
    }
  }
  const nd = sizes.length;
  // Output strides of each merged dimension (0 for reduced ones).
  const outStrides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    if (!isReduced[d]) {
      outStrides[d] = s;
      s *= sizes[d];
    }
  }
  const inner = sizes[nd - 1];
  const innerReduced = isReduced[nd - 1];
  const acc = new Float64Array(outNumel);
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  for (let p = 0; p < n; p += inner) {
    if (innerReduced) {
      let t = 0;
      for (let i = 0; i < inner; i++) t += X[p + i];
      acc[o] += t;
    } else {
      for (let i = 0; i < inner; i++) acc[o + i] += X[p + i];
    }
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < sizes[d]) {
        o += outStrides[d];
        break;
      }
      idx[d] = 0;
      o -= outStrides[d] * (sizes[d] - 1);
    }
  }
  O.set(acc);
  return out;
}

/** @internal Number of elements a {@link sumCpu} over `dims` adds per output element. */
export function reducedCount(shape: readonly number[], dims: readonly number[]): number {
  return numelOf(dims.map((d) => shape[d]));
}
