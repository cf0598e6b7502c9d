// SPDX-License-Identifier: MIT
// Unit tests of the CPU kernels against plain loops: broadcasting rows, coalescing, sums over
// dimension sets, strided copies, gather and its scatter-add adjoint.

import { describe, expect, it } from 'vitest';
import { CpuStorage } from '../../tensor/storage.js';
import { cpuKernels } from './cpu-backend.js';
import { coalesce } from '../../tensor/layout.js';

const st = (values: number[]): CpuStorage => new CpuStorage(Float64Array.from(values));
const arr = (s: { numel: number }): number[] => Array.from(cpuKernels.read(s as CpuStorage));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('coalesce', () => {
  it('merges contiguous dims, drops size-1 dims, keeps broadcast boundaries', () => {
    expect(
      coalesce(
        [2, 3, 4],
        [
          [12, 4, 1],
          [12, 4, 1],
        ],
      ),
    ).toEqual({ shape: [24], strides: [[1], [1]] });
    expect(
      coalesce(
        [2, 1, 4],
        [
          [4, 4, 1],
          [0, 0, 1],
        ],
      ),
    ).toEqual({
      shape: [2, 4],
      strides: [
        [4, 1],
        [0, 1],
      ],
    });
    expect(coalesce([1, 1], [[1, 1]])).toEqual({ shape: [1], strides: [[1]] });
  });
});

describe('binary broadcasting', () => {
  it('[2,3,1] - [3,4]', () => {
    const a = st(range(6));
    const b = st(range(12).map((v) => v * 10));
    const out = cpuKernels.binary('sub', { storage: a, shape: [2, 3, 1] }, { storage: b, shape: [3, 4] }, [2, 3, 4]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(i * 3 + j - (j * 4 + k) * 10);
    expect(arr(out)).toEqual(expected);
  });
  it('fused backward kernels', () => {
    const g = { storage: st([1, 2, 3]), shape: [3] };
    const s = { storage: st([0.5, -1, 0]), shape: [3] };
    expect(arr(cpuKernels.binary('sigmoidBackward', g, s, [3]))).toEqual([0.25, -4, 0]);
    expect(arr(cpuKernels.binary('reluBackward', g, s, [3]))).toEqual([1, 0, 0]);
    expect(arr(cpuKernels.binary('absBackward', g, s, [3]))).toEqual([1, -2, 0]);
    expect(arr(cpuKernels.binary('tanhBackward', g, s, [3]))).toEqual([0.75, 0, 3]);
  });
});

describe('sum over dimension sets', () => {
  const x = { storage: st(range(2 * 3 * 4 * 5)), shape: [2, 3, 4, 5] };
  const ref = (dims: number[]): number[] => {
    const shape = x.shape;
    const outShape = shape.map((s, d) => (dims.includes(d) ? 1 : s));
    const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
    for (let i = 0; i < 120; i++) {
      const idx = [Math.floor(i / 60), Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5];
      let o = 0;
      for (let d = 0; d < 4; d++) o = o * outShape[d] + (dims.includes(d) ? 0 : idx[d]);
      out[o] += i;
    }
    return out;
  };
  for (const dims of [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2], [1, 2, 3], [0, 1, 2, 3]]) {
    it(`dims=[${dims}]`, () => {
      expect(arr(cpuKernels.sum(x, dims))).toEqual(ref(dims));
    });
  }
});

describe('copyStrided, gather, scatterAdd', () => {
  it('copyStrided transposes and writes at an offset', () => {
    const src = st(range(6)); // [2, 3]
    const dst = cpuKernels.zeros('cpu', 'float64', 8);
    cpuKernels.copyStrided(src, 0, [1, 3], dst, 2, [2, 1], [3, 2]);
    expect(arr(dst)).toEqual([0, 0, 0, 3, 1, 4, 2, 5]);
  });
  it('scatterAdd is the adjoint of gather: <gather(x), g> = <x, scatterAdd(g)>', () => {
    const x = { storage: st(range(12).map((v) => Math.sin(v))), shape: [3, 4] };
    const maps = [Int32Array.from([2, -1, 0, 0]), Int32Array.from([1, 1, 3, -1, 0])];
    const y = cpuKernels.gather(x, maps, [4, 5], 0);
    const g = { storage: st(range(20).map((v) => Math.cos(v))), shape: [4, 5] };
    const gx = cpuKernels.scatterAdd(g, maps, [3, 4]);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
    expect(dot(arr(y), arr(g.storage))).toBeCloseTo(dot(arr(x.storage), arr(gx)), 12);
  });
});
