// SPDX-License-Identifier: MIT
// The shape ops that were functions only (narrow, slice, broadcastTo) as Tensor methods: the same values
// as the functions, and gradients that flow back through them.
import { describe, expect, it } from 'vitest';
import {
  arange,
  broadcastTo,
  InvalidArgumentError,
  narrow,
  ShapeMismatchError,
  slice,
  tensor,
} from '../../src/index.js';

describe('Tensor shape methods', () => {
  const x = () => arange(0, 24, 1, { dtype: 'float64' }).reshape([2, 3, 4]);

  it('narrow, slice and broadcastTo equal their functions', () => {
    expect(x().narrow(1, 1, 2).toArray()).toEqual(narrow(x(), 1, 1, 2).toArray());
    expect(x().narrow(-1, -2, 2).toArray()).toEqual([
      [
        [2, 3],
        [6, 7],
        [10, 11],
      ],
      [
        [14, 15],
        [18, 19],
        [22, 23],
      ],
    ]);
    expect(x().slice(2, 1, null, 2).toArray()).toEqual(slice(x(), 2, 1, null, 2).toArray());
    expect(x().slice(0, -1).toArray()).toEqual([(x().toArray() as number[][][])[1]]);
    expect(x().slice(1).shape).toEqual([2, 3, 4]);
    const row = tensor([1, 2, 3]);
    expect(row.broadcastTo([2, 3]).toArray()).toEqual(broadcastTo(row, [2, 3]).toArray());
    expect(row.broadcastTo([2, 3]).toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('gradients flow back through the methods', () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    a.narrow(1, 0, 2).sum().backward();
    expect(a.grad!.toArray()).toEqual([
      [1, 1, 0],
      [1, 1, 0],
    ]);
    const b = tensor([1, 2, 3, 4, 5], { dtype: 'float64', requiresGrad: true });
    b.slice(0, 0, null, 2)
      .mul(tensor([1, 10, 100], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(b.grad!.toArray()).toEqual([1, 0, 10, 0, 100]);
    const c = tensor([2, 3], { dtype: 'float64', requiresGrad: true });
    c.broadcastTo([4, 2]).sum().backward();
    expect(c.grad!.toArray()).toEqual([4, 4]);
  });

  it('errors name the method and the argument', () => {
    expect(() => x().narrow(1, 2, 5)).toThrow(InvalidArgumentError);
    expect(() => x().narrow(1, 2, 5)).toThrow(/^narrow\(\): /);
    expect(() => x().slice(0, 0, 2, 0)).toThrow(/^slice\(\): .*step/);
    expect(() => tensor([1, 2]).broadcastTo([3, 3])).toThrow(ShapeMismatchError);
  });
});
