// SPDX-License-Identifier: MIT
// sum and mean: values over all, one, several and negative dimensions, keepdim, errors, gradcheck.

import { describe, expect, it } from 'vitest';
import { arange, gradcheck, InvalidArgumentError, mean, sum, tensor, zeros } from '../../src/index.js';
import { expectClose, param } from './helpers.js';

describe('sum and mean', () => {
  const x = arange(24, undefined, 1, { dtype: 'float64' }).reshape([2, 3, 4]);

  it('over everything', () => {
    expect(sum(x).item()).toBe(276);
    expect(sum(x).shape).toEqual([]);
    expect(mean(x).item()).toBe(11.5);
  });

  it('over one dimension, with and without keepdim, negative indices', () => {
    expect(sum(x, 0).toArray()).toEqual([
      [12, 14, 16, 18],
      [20, 22, 24, 26],
      [28, 30, 32, 34],
    ]);
    expect(sum(x, -1).toArray()).toEqual([
      [6, 22, 38],
      [54, 70, 86],
    ]);
    expect(sum(x, 1, true).shape).toEqual([2, 1, 4]);
    expect(mean(x, 2).toArray()).toEqual([
      [1.5, 5.5, 9.5],
      [13.5, 17.5, 21.5],
    ]);
  });

  it('over several dimensions (kept dimension in the middle, reduced inner)', () => {
    expect(sum(x, [0, 2]).toArray()).toEqual([60, 92, 124]);
    expect(sum(x, [2, 0], true).shape).toEqual([1, 3, 1]);
    expect(mean(x, [0, 1]).toArray()).toEqual([10, 11, 12, 13]);
  });

  it('float32 sums accumulate in float64', () => {
    const t = tensor(new Float32Array(1 << 20).fill(0.1));
    expect(Math.abs(sum(t).item() - 104857.6)).toBeLessThan(0.01);
  });

  it('edge cases: empty and scalar', () => {
    expect(sum(zeros([0, 3])).item()).toBe(0);
    expect(sum(zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0]);
    expect(Number.isNaN(mean(zeros([0])).item())).toBe(true);
    expect(sum(tensor(5), 0).item()).toBe(5);
  });

  it('errors name the dimension', () => {
    expect(() => sum(x, 3)).toThrow(InvalidArgumentError);
    expect(() => sum(x, 3)).toThrow(
      /sum\(\): expected dim to be an integer in \[-3, 2\] \(for 3 dimensions\), but got 3 \(number\)/,
    );
    expect(() => sum(x, [1, -2])).toThrow(/dim to list each dimension once/);
    expect(() => mean(x, 1.5)).toThrow(InvalidArgumentError);
  });

  it('gradcheck', () => {
    const p = param([2, 3, 4]);
    expect(gradcheck((t) => sum(t), [p])).toBe(true);
    expect(gradcheck((t) => sum(t, 1), [p])).toBe(true);
    expect(gradcheck((t) => sum(t, [0, 2], true), [p])).toBe(true);
    expect(gradcheck((t) => mean(t, -1), [p])).toBe(true);
    expect(gradcheck((t) => mean(t), [p])).toBe(true);
    expectClose(sum(p, [0, 1, 2]), [sum(p).item()]);
  });
});
