// SPDX-License-Identifier: MIT
// The Tensor method forms equal the functional ops and carry gradients the same way.
import { describe, expect, it } from 'vitest';
import { add, mean, mul, permute, sum, tensor } from '../../src/index.js';

describe('Tensor methods', () => {
  const a = () =>
    tensor(
      [
        [1, -2, 3],
        [4, 5, -6],
      ],
      { dtype: 'float64', requiresGrad: true },
    );

  it('x.sum().backward() fills x.grad with ones', () => {
    const x = a();
    x.sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('each method equals its function', () => {
    const x = a();
    const y = tensor([10, 20, 30], { dtype: 'float64' });
    expect(x.add(y).toArray()).toEqual(add(x, y).toArray());
    expect(x.mul(2).toArray()).toEqual(mul(x, 2).toArray());
    expect(x.sub(1).toArray()).toEqual([
      [0, -3, 2],
      [3, 4, -7],
    ]);
    expect(x.div(2).toArray()).toEqual([
      [0.5, -1, 1.5],
      [2, 2.5, -3],
    ]);
    expect(x.neg().abs().toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.relu().toArray()).toEqual([
      [1, 0, 3],
      [4, 5, 0],
    ]);
    expect(x.square().sqrt().toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.pow(2).toArray()).toEqual(x.square().toArray());
    expect(x.exp().log().toTypedArray()[4]).toBeCloseTo(5, 12);
    expect(x.sigmoid().toTypedArray()[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(x.tanh().toTypedArray()[0]).toBeCloseTo(Math.tanh(1), 12);
    expect(x.sum(1).toArray()).toEqual(sum(x, 1).toArray());
    expect(x.mean(0, true).toArray()).toEqual(mean(x, 0, true).toArray());
    expect(x.permute([1, 0]).toArray()).toEqual(permute(x, [1, 0]).toArray());
    expect(x.transpose(0, 1).shape).toEqual([3, 2]);
    expect(x.view([3, 2]).shape).toEqual([3, 2]);
    expect(x.flatten().shape).toEqual([6]);
    expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(x.unsqueeze(0).squeeze(0).shape).toEqual([2, 3]);
  });

  it('gradients flow through chained methods', () => {
    const x = a();
    x.mul(x).mean().backward();
    const expected = [1, -2, 3, 4, 5, -6].map((v) => (2 * v) / 6);
    x.grad!.toTypedArray().forEach((g, i) => {
      expect(g).toBeCloseTo(expected[i], 14);
    });
  });
});
