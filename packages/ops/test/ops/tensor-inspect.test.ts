// SPDX-License-Identifier: MIT
// console.log / util.inspect of a tensor: its values as PyTorch prints them (one format, aligned columns,
// elided above 1000 elements), then shape, dtype, device and requiresGrad.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { arange, ones, tensor, zeros } from '../../src/index.js';

describe('util.inspect(tensor)', () => {
  it('a small float tensor, PyTorch-style (4 decimals, aligned, continuation indented)', () => {
    const t = tensor([
      [1, -2.5],
      [3.25, 4],
    ]);
    expect(inspect(t)).toBe(
      'tensor([[ 1.0000, -2.5000],\n' + '        [ 3.2500,  4.0000]], shape=[2, 2], dtype=float32, device=cpu)',
    );
  });

  it('integral values print as "1." and a scalar without brackets', () => {
    expect(inspect(tensor([1, 2, 30], { dtype: 'float64' }))).toBe(
      'tensor([ 1.,  2., 30.], shape=[3], dtype=float64, device=cpu)',
    );
    expect(inspect(tensor(0.5))).toBe('tensor(0.5000, shape=[], dtype=float32, device=cpu)');
  });

  it('scientific notation when magnitudes span more than 1000x, nan and inf as Python writes them', () => {
    expect(inspect(tensor([1e-5, 1, Number.NaN, Number.POSITIVE_INFINITY], { dtype: 'float64' }))).toBe(
      'tensor([1.0000e-05, 1.0000e+00,        nan,        inf], shape=[4], dtype=float64, device=cpu)',
    );
  });

  it('requiresGrad is shown when set; a disposed tensor shows <disposed>', () => {
    const w = ones([2], { requiresGrad: true });
    expect(inspect(w)).toBe('tensor([1., 1.], shape=[2], dtype=float32, device=cpu, requiresGrad=true)');
    const d = zeros([2, 2]);
    d.dispose();
    expect(inspect(d)).toBe('tensor(<disposed>, shape=[2, 2], dtype=float32, device=cpu)');
    expect(inspect(zeros([0, 3]))).toBe('tensor([], shape=[0, 3], dtype=float32, device=cpu)');
  });

  it('3-D tensors separate their blocks with a blank line', () => {
    expect(inspect(arange(0, 8).reshape([2, 2, 2]))).toBe(
      'tensor([[[0., 1.],\n' +
        '         [2., 3.]],\n' +
        '\n' +
        '        [[4., 5.],\n' +
        '         [6., 7.]]], shape=[2, 2, 2], dtype=float32, device=cpu)',
    );
  });

  it('large tensors are elided to 3 entries at each end of every dimension', () => {
    const text = inspect(arange(0, 2000).reshape([40, 50]));
    expect(text).toBe(
      'tensor([[   0.,    1.,    2.,  ...,   47.,   48.,   49.],\n' +
        '        [  50.,   51.,   52.,  ...,   97.,   98.,   99.],\n' +
        '        [ 100.,  101.,  102.,  ...,  147.,  148.,  149.],\n' +
        '        ...,\n' +
        '        [1850., 1851., 1852.,  ..., 1897., 1898., 1899.],\n' +
        '        [1900., 1901., 1902.,  ..., 1947., 1948., 1949.],\n' +
        '        [1950., 1951., 1952.,  ..., 1997., 1998., 1999.]], shape=[40, 50], dtype=float32, device=cpu)',
    );
  });

  it('long rows wrap at 80 columns like PyTorch', () => {
    const text = inspect(arange(0, 20, 1, { dtype: 'float64' }).mul(1.5));
    const lines = text.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(0, -1)) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[1].startsWith('        ')).toBe(true);
    expect(text).toContain('28.5000]');
  });

  it('colours numbers when util.inspect is asked to', () => {
    expect(inspect(tensor([1]), { colors: true })).toBe(
      'tensor([\u001b[33m1.\u001b[39m], shape=[1], dtype=float32, device=cpu)',
    );
  });

  it('toString() stays the one-line summary', () => {
    expect(String(tensor([1, 2]))).toBe('Tensor(shape=[2], dtype=float32, device=cpu)');
  });
});
