// SPDX-License-Identifier: MIT
// CPU data movement: strided copies (permute, narrow, cat, broadcast) and index-map gathers with their
// scatter-add adjoint (pad in every mode, and its gradient).

import type { IndexMap, KernelTensor } from '../kernel-backend.js';
import type { Storage } from '../../tensor/storage.js';
import { coalesce, contiguousStrides, numelOf } from '../../tensor/layout.js';
import { allocCpu, arrayOf } from './cpu-storage.js';

/** @internal Strided copy; see KernelBackend.copyStrided. */
export function copyStridedCpu(
  src: Storage,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: Storage,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const n = numelOf(shape);
  if (n === 0) return;
  const S = arrayOf(src);
  const D = arrayOf(dst);
  const c = coalesce(shape, [srcStrides, dstStrides]);
  const sizes = c.shape;
  const [ss, ds] = c.strides;
  const nd = sizes.length;
  const inner = sizes[nd - 1];
  const si = ss[nd - 1];
  const di = ds[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let p = srcOffset;
  let q = dstOffset;
  for (let done = 0; done < n; done += inner) {
    if (si === 1 && di === 1) {
      D.set(S.subarray(p, p + inner), q);
    } else {
      for (let i = 0, a = p, b = q; i < inner; i++, a += si, b += di) D[b] = S[a];
    }
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < sizes[d]) {
        p += ss[d];
        q += ds[d];
        break;
      }
      idx[d] = 0;
      p -= ss[d] * (sizes[d] - 1);
      q -= ds[d] * (sizes[d] - 1);
    }
  }
}

/**
 * Input offset of the outer coordinates `idx` (all but the last dimension), or -1 when one of them maps
 * outside the input.
 */
function rowBase(maps: readonly IndexMap[], idx: readonly number[], xStrides: readonly number[]): number {
  let base = 0;
  for (let d = 0; d < idx.length; d++) {
    const m = maps[d][idx[d]];
    if (m < 0) return -1;
    base += m * xStrides[d];
  }
  return base;
}

/** Advances the odometer `idx` over `outShape[0 .. idx.length)`. */
function nextRow(idx: number[], outShape: readonly number[]): void {
  for (let d = idx.length - 1; d >= 0; d--) {
    if (++idx[d] < outShape[d]) return;
    idx[d] = 0;
  }
}

/** @internal Index-map gather; see KernelBackend.gather. */
export function gatherCpu(
  x: KernelTensor,
  maps: readonly IndexMap[],
  outShape: readonly number[],
  value: number,
): Storage {
  const out = allocCpu(x.storage.dtype, numelOf(outShape));
  const O = out.data;
  if (O.length === 0) return out;
  const X = arrayOf(x.storage);
  if (outShape.length === 0) {
    O[0] = X[0];
    return out;
  }
  const nd = outShape.length;
  const inner = outShape[nd - 1];
  const last = maps[nd - 1];
  const xStrides = contiguousStrides(x.shape);
  const idx = new Array<number>(nd - 1).fill(0);
  for (let o = 0; o < O.length; o += inner) {
    const base = rowBase(maps, idx, xStrides);
    if (base < 0) {
      O.fill(value, o, o + inner);
    } else {
      for (let i = 0; i < inner; i++) {
        const m = last[i];
        O[o + i] = m < 0 ? value : X[base + m];
      }
    }
    nextRow(idx, outShape);
  }
  return out;
}

/** @internal Adjoint of {@link gatherCpu}: accumulates `g` into a zero tensor of `xShape`. */
export function scatterAddCpu(g: KernelTensor, maps: readonly IndexMap[], xShape: readonly number[]): Storage {
  const out = allocCpu(g.storage.dtype, numelOf(xShape));
  const X = out.data;
  const G = arrayOf(g.storage);
  const outShape = g.shape;
  if (G.length === 0 || X.length === 0) return out;
  if (outShape.length === 0) {
    X[0] += G[0];
    return out;
  }
  const nd = outShape.length;
  const inner = outShape[nd - 1];
  const last = maps[nd - 1];
  const xStrides = contiguousStrides(xShape);
  const idx = new Array<number>(nd - 1).fill(0);
  for (let o = 0; o < G.length; o += inner) {
    const base = rowBase(maps, idx, xStrides);
    if (base >= 0) {
      for (let i = 0; i < inner; i++) {
        const m = last[i];
        if (m >= 0) X[base + m] += G[o + i];
      }
    }
    nextRow(idx, outShape);
  }
  return out;
}
