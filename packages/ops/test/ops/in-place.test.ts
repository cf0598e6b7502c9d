// SPDX-License-Identifier: MIT
// The in-place Tensor methods copy_, fill_, zero_, add_, mul_ (CPU here; the CUDA path runs in
// test/cuda), their autograd rules, and Tensor.to() with a device and a dtype at once.
import { describe, expect, it } from 'vitest';
import {
  DisposedTensorError,
  DTypeMismatchError,
  InvalidArgumentError,
  NotImplementedError,
  ShapeMismatchError,
  noGrad,
  sum,
  tensor,
  zeros,
} from '../../src/index.js';

const values = (t: { toTypedArray(): ArrayLike<number> }) => Array.from(t.toTypedArray());

describe('copy_', () => {
  it('copies in place and returns this; views of the memory see it', () => {
    const t = zeros([2, 2]);
    const view = t.reshape([4]);
    expect(
      t.copy_(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe(t);
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(values(view)).toEqual([1, 2, 3, 4]);
  });

  it('converts the dtype (rounding once to float32)', () => {
    const t = zeros([3]);
    t.copy_(tensor([0.1, 1 / 3, 2], { dtype: 'float64' }));
    expect(values(t)).toEqual([Math.fround(0.1), Math.fround(1 / 3), 2]);
    const d = zeros([2], { dtype: 'float64' });
    d.copy_(tensor([0.5, 0.25]));
    expect(d.dtype).toBe('float64');
    expect(values(d)).toEqual([0.5, 0.25]);
  });

  it('copying a tensor onto itself (or its detached alias) changes nothing', () => {
    const t = tensor([1, 2]);
    t.copy_(t.detach());
    expect(values(t)).toEqual([1, 2]);
  });

  it('rejects another shape, a disposed source and a non-tensor', () => {
    const t = zeros([2, 2]);
    expect(() => t.copy_(zeros([4]))).toThrow(ShapeMismatchError);
    expect(() => t.copy_(zeros([4]))).toThrow(/copy_\(\): expected src of shape \[2, 2\], but got shape \[4\]/);
    const gone = zeros([2, 2]);
    gone.dispose();
    expect(() => t.copy_(gone)).toThrow(DisposedTensorError);
    expect(() => t.copy_([1, 2] as never)).toThrow(InvalidArgumentError);
  });

  it('a leaf that requires grad: refused with grad mode on, allowed under noGrad', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    expect(() => p.copy_(tensor([3, 4]))).toThrow(InvalidArgumentError);
    expect(() => p.copy_(tensor([3, 4]))).toThrow(/a leaf that requires grad .* noGrad\(\)/);
    noGrad(() => p.copy_(tensor([3, 4])));
    expect(values(p)).toEqual([3, 4]);
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
  });

  it('a result of a recorded op, or a source that requires grad, is refused with grad mode on', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const y = p.mul(2);
    expect(() => y.copy_(tensor([0, 0]))).toThrow(/in-place ops are not recorded by autograd/);
    expect(() => zeros([2]).copy_(p)).toThrow(/expected src not to require grad/);
    const t = zeros([2]);
    noGrad(() => t.copy_(p));
    expect(values(t)).toEqual([1, 2]);
    expect(t.requiresGrad).toBe(false);
  });

  it('a CUDA source or target fails with the CUDA message when no CUDA device is usable', () => {
    expect(() => zeros([2]).to('cuda')).toThrow(NotImplementedError);
  });
});

describe('fill_ and zero_', () => {
  it('fill every element, rounded to the dtype', () => {
    const t = zeros([2, 3]);
    expect(t.fill_(0.1)).toBe(t);
    expect(values(t)).toEqual(new Array(6).fill(Math.fround(0.1)));
    expect(values(t.zero_())).toEqual([0, 0, 0, 0, 0, 0]);
    const empty = zeros([0]);
    expect(empty.fill_(1).numel).toBe(0);
  });

  it('reject a non-number and a parameter with grad mode on', () => {
    expect(() => zeros([1]).fill_('1' as never)).toThrow(/fill_\(\): expected value to be a number/);
    const p = zeros([1], { requiresGrad: true });
    expect(() => p.zero_()).toThrow(/zero_\(\): expected a tensor that does not require grad/);
    noGrad(() => p.fill_(5));
    expect(values(p)).toEqual([5]);
  });
});

describe('add_ and mul_', () => {
  it('add_(tensor, alpha), add_(number, alpha), with broadcasting of other', () => {
    const t = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    t.add_(
      tensor(
        [
          [10, 20],
          [30, 40],
        ],
        { dtype: 'float64' },
      ),
    );
    expect(t.toArray()).toEqual([
      [11, 22],
      [33, 44],
    ]);
    t.add_(tensor([1, 2], { dtype: 'float64' }), -2);
    expect(t.toArray()).toEqual([
      [9, 18],
      [31, 40],
    ]);
    t.add_(1, 0.5);
    expect(t.toArray()).toEqual([
      [9.5, 18.5],
      [31.5, 40.5],
    ]);
    t.add_(
      tensor(
        [
          [1, 1],
          [1, 1],
        ],
        { dtype: 'float64' },
      ),
      0.5,
    );
    expect(t.toArray()).toEqual([
      [10, 19],
      [32, 41],
    ]);
  });

  it('mul_(number) and mul_(tensor)', () => {
    const t = tensor([1, 2, 3], { dtype: 'float64' });
    expect(t.mul_(2)).toBe(t);
    expect(values(t)).toEqual([2, 4, 6]);
    t.mul_(tensor([1, 0.5, -1], { dtype: 'float64' }));
    expect(values(t)).toEqual([2, 2, -6]);
    t.mul_(tensor([10], { dtype: 'float64' }));
    expect(values(t)).toEqual([20, 20, -60]);
  });

  it('a plain SGD step on a parameter under noGrad', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    sum(p.mul(tensor([3, -1], { dtype: 'float64' }))).backward();
    expect(() => p.add_(p.grad!, -0.1)).toThrow(InvalidArgumentError);
    noGrad(() => p.add_(p.grad!, -0.1));
    expect(values(p)[0]).toBeCloseTo(0.7, 15);
    expect(values(p)[1]).toBeCloseTo(2.1, 15);
  });

  it('reject other of another dtype, a shape that does not broadcast to self, a non-tensor', () => {
    const t = zeros([2, 2]);
    expect(() => t.add_(zeros([2, 2], { dtype: 'float64' }))).toThrow(DTypeMismatchError);
    expect(() => t.add_(zeros([3]))).toThrow(ShapeMismatchError);
    expect(() => t.mul_(zeros([2, 2, 2]))).toThrow(/other that broadcasts to self's shape \[2, 2\]/);
    expect(() => t.add_('x' as never)).toThrow(InvalidArgumentError);
    expect(() => t.add_(zeros([2, 2]), 'a' as never)).toThrow(/expected alpha to be a number/);
  });
});

describe('to() with a device and a dtype', () => {
  it('CPU to CPU with a dtype is a cast; the same device and dtype is this', () => {
    const t = tensor([0.5, 1.5]);
    expect(t.to({ device: 'cpu', dtype: 'float32' })).toBe(t);
    const d = t.to({ device: 'cpu', dtype: 'float64' });
    expect(d.dtype).toBe('float64');
    expect(values(d)).toEqual([0.5, 1.5]);
  });
});

describe('data()', () => {
  it('resolves to a copy of the values, and rejects after dispose()', async () => {
    const t = tensor([1, 2, 3]);
    const v = await t.data();
    v[0] = 9;
    expect(values(t)).toEqual([1, 2, 3]);
    t.dispose();
    await expect(t.data()).rejects.toThrow(DisposedTensorError);
  });
});
