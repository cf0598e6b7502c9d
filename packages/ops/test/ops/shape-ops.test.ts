// SPDX-License-Identifier: MIT
// Shape and layout ops: reshape family, permute/transpose, narrow/slice, cat/stack, broadcastTo;
// values, errors and gradcheck.

import { describe, expect, it } from 'vitest';
import {
  arange,
  broadcastTo,
  cat,
  flatten,
  gradcheck,
  InvalidArgumentError,
  mul,
  narrow,
  permute,
  reshape,
  ShapeMismatchError,
  slice,
  squeeze,
  stack,
  sum,
  tensor,
  transpose,
  unsqueeze,
  view,
  zeros,
  DeviceMismatchError,
  DTypeMismatchError,
} from '../../src/index.js';
import { padMap } from '../../src/ops/pad.js';
import { identityMap, indexMap, mapsAlong, rangeMap } from '../../src/ops/shape-ops.js';
import { param } from './helpers.js';

const m = arange(6).reshape([2, 3]); // [[0, 1, 2], [3, 4, 5]]

describe('reshape family', () => {
  it('view, flatten, squeeze, unsqueeze', () => {
    expect(view(m, [3, 2]).toArray()).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(flatten(zeros([2, 3, 4]), 1).shape).toEqual([2, 12]);
    expect(flatten(zeros([2, 3, 4]), 0, 1).shape).toEqual([6, 4]);
    expect(flatten(tensor(1)).shape).toEqual([1]);
    expect(squeeze(zeros([1, 3, 1])).shape).toEqual([3]);
    expect(squeeze(zeros([1, 3, 1]), -1).shape).toEqual([1, 3]);
    expect(squeeze(zeros([1, 3, 1]), 1).shape).toEqual([1, 3, 1]);
    expect(unsqueeze(zeros([3]), 0).shape).toEqual([1, 3]);
    expect(unsqueeze(zeros([3]), -1).shape).toEqual([3, 1]);
    expect(() => flatten(zeros([2, 3]), 1, 0)).toThrow(/startDim <= endDim/);
    expect(() => unsqueeze(zeros([3]), 3)).toThrow(InvalidArgumentError);
  });

  it('gradcheck', () => {
    expect(gradcheck((t) => mul(reshape(t, [3, 2]), reshape(t, [3, 2])), [param([2, 3])])).toBe(true);
    expect(gradcheck((t) => unsqueeze(flatten(t), 1), [param([2, 3])])).toBe(true);
  });
});

describe('permute and transpose', () => {
  it('values', () => {
    expect(transpose(m, 0, 1).toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const t = arange(24).reshape([2, 3, 4]);
    const p = permute(t, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    // p[k][i][j] = t[i][j][k] = 12 i + 4 j + k
    expect((p.toArray() as number[][][])[3][1][2]).toBe(12 + 8 + 3);
    expect(permute(t, [-1, 0, 1]).shape).toEqual([4, 2, 3]);
  });
  it('errors', () => {
    expect(() => permute(m, [0, 0])).toThrow(
      /permute\(\): expected dims to be a permutation of the 2 dimensions, but got \[0, 0\]/,
    );
    expect(() => permute(m, [0])).toThrow(InvalidArgumentError);
  });
  it('gradcheck', () => {
    expect(gradcheck((t) => permute(t, [1, 2, 0]), [param([2, 3, 4])])).toBe(true);
    expect(gradcheck((t) => transpose(t, -1, 0), [param([2, 3])])).toBe(true);
  });
});

describe('narrow and slice', () => {
  it('values', () => {
    expect(narrow(arange(10), 0, 2, 3).toArray()).toEqual([2, 3, 4]);
    expect(narrow(m, 1, -2, 2).toArray()).toEqual([
      [1, 2],
      [4, 5],
    ]);
    expect(slice(arange(10), 0, 1, 8, 3).toArray()).toEqual([1, 4, 7]);
    expect(slice(arange(10), 0, -3).toArray()).toEqual([7, 8, 9]);
    expect(slice(arange(10), 0, null, 100).numel).toBe(10);
    expect(slice(m, 1, 2, 1).shape).toEqual([2, 0]);
  });
  it('errors', () => {
    expect(() => narrow(m, 1, 2, 2)).toThrow(
      /narrow\(\): expected start and length within dimension 1 of size 3, but got start = 2, length = 2/,
    );
    expect(() => slice(m, 0, 0, 2, 0)).toThrow(/step to be positive/);
    expect(() => narrow(tensor(1), 0, 0, 1)).toThrow(InvalidArgumentError);
  });
  it('gradcheck', () => {
    expect(gradcheck((t) => narrow(t, 1, 1, 2), [param([2, 4])])).toBe(true);
    expect(gradcheck((t) => slice(t, 0, 0, 5, 2), [param([5, 2])])).toBe(true);
  });
});

// The maps of narrow, slice, pad and cat's gradient for dimensions longer than 2^31 (a tensor that long does
// not fit in CI's memory, so the maps are built here without one; the int64 kernels they select are
// checked on small tensors in test/native/tensor-kernels.test.ts).
describe('index maps of the gather ops', () => {
  it('Int32Array up to 2^31 entries in the indexed dimension, Float64Array beyond', () => {
    expect(indexMap(3, 2 ** 31)).toBeInstanceOf(Int32Array);
    expect(indexMap(3, 2 ** 31 + 1)).toBeInstanceOf(Float64Array);
    expect([...identityMap(3)]).toEqual([0, 1, 2]);
    // narrow(x, 1, 2^32, 2) of x with shape [2, 2^33]: no identity map of 2^33 entries is built
    const maps = mapsAlong([2, 2 ** 33], 1, rangeMap(2, 2 ** 32, 1, 2 ** 33));
    expect(maps.map((m) => [m.constructor, [...m]])).toEqual([
      [Int32Array, [0, 1]],
      [Float64Array, [2 ** 32, 2 ** 32 + 1]],
    ]);
  });
  it('entries next to and above 2^31 keep their exact values', () => {
    const top = rangeMap(3, 2 ** 31 - 3, 1, 2 ** 31);
    expect(top).toBeInstanceOf(Int32Array);
    expect([...top]).toEqual([2 ** 31 - 3, 2 ** 31 - 2, 2 ** 31 - 1]);
    // narrow(x, d, 2^32 + 5, 3) and slice(x, d, 2^32 + 5, null, 7) of a dimension of 2^33
    expect([...rangeMap(3, 2 ** 32 + 5, 1, 2 ** 33)]).toEqual([2 ** 32 + 5, 2 ** 32 + 6, 2 ** 32 + 7]);
    const stepped = rangeMap(3, 2 ** 32 + 5, 7, 2 ** 33);
    expect(stepped).toBeInstanceOf(Float64Array);
    expect([...stepped]).toEqual([2 ** 32 + 5, 2 ** 32 + 12, 2 ** 32 + 19]);
    // pad(x, [-(size - 2), 1]) of a last dimension of 3e9: the two last entries, then the constant
    const crop = padMap('constant', 3e9, -(3e9 - 2), 1);
    expect(crop).toBeInstanceOf(Float64Array);
    expect([...crop]).toEqual([3e9 - 2, 3e9 - 1, -1]);
    // Near 2^53 (the largest whole numbers a Float64Array holds exactly)
    expect([...rangeMap(2, 2 ** 53 - 3, 1, 2 ** 53 - 1)]).toEqual([2 ** 53 - 3, 2 ** 53 - 2]);
  });
});

describe('cat, stack, broadcastTo', () => {
  it('values', () => {
    expect(cat([m, tensor([[6, 7, 8]])]).toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(cat([m, tensor([[9], [9]])], 1).toArray()).toEqual([
      [0, 1, 2, 9],
      [3, 4, 5, 9],
    ]);
    expect(cat([m, m], -1).shape).toEqual([2, 6]);
    expect(stack([tensor([1, 2]), tensor([3, 4])]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(broadcastTo(tensor([1, 2]), [3, 2]).toArray()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(broadcastTo(tensor([[1], [2]]), [2, 2]).toArray()).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
  it('errors', () => {
    expect(() => cat([])).toThrow(/cat\(\): expected tensors to be a non-empty array of Tensors/);
    expect(() => cat([m, zeros([2, 2])])).toThrow(ShapeMismatchError);
    expect(() => cat([m, zeros([3, 3])], 1)).toThrow(
      /cat\(\): expected tensors of one rank with equal sizes except in dimension 1, but got tensors\[0\] with shape \[2, 3\] and tensors\[1\] with shape \[3, 3\]/,
    );
    expect(() => cat([m, zeros([1, 3], { dtype: 'float64' })])).toThrow(DTypeMismatchError);
    expect(() => stack([zeros([2]), zeros([3])])).toThrow(/stack\(\): expected tensors of one shape/);
    expect(() => broadcastTo(zeros([3]), [2, 2])).toThrow(ShapeMismatchError);
    expect(DeviceMismatchError).toBeDefined();
  });
  it('gradcheck', () => {
    expect(gradcheck((a, b) => cat([a, b], 1), [param([2, 3]), param([2, 1])])).toBe(true);
    expect(gradcheck((a, b) => stack([a, b], 1), [param([2, 3]), param([2, 3])])).toBe(true);
    expect(gradcheck((a) => broadcastTo(a, [4, 2, 3]), [param([2, 1])])).toBe(true);
    expect(gradcheck((a) => sum(cat([a, a, a]), 0), [param([2, 2])])).toBe(true);
  });
});
