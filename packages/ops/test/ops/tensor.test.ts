// SPDX-License-Identifier: MIT
// The Tensor API: factories, reading values, conversion, views, dispose, the seeded generator.

import { describe, expect, it } from 'vitest';
import {
  arange,
  DisposedTensorError,
  full,
  fullLike,
  Generator,
  InvalidArgumentError,
  isTensor,
  manualSeed,
  normal,
  NotImplementedError,
  ones,
  onesLike,
  rand,
  randLike,
  randn,
  randnLike,
  ShapeMismatchError,
  sum,
  tensor,
  uniform,
  zeros,
  zerosLike,
  DTypeMismatchError,
} from '../../src/index.js';

describe('factories', () => {
  it('tensor() infers shape and dtype from nested arrays, numbers and typed arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(t.ndim).toBe(2);
    expect(t.numel).toBe(6);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const s = tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(3.5);
    expect(s.toArray()).toBe(3.5);
    const d = tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] });
    expect(d.dtype).toBe('float64');
    expect(d.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(tensor([1, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  it('tensor() copies typed arrays unless copy is false', () => {
    const data = new Float32Array([1, 2, 3]);
    const copied = tensor(data);
    const shared = tensor(data, { copy: false });
    data[0] = 42;
    expect(copied.toTypedArray()[0]).toBe(1);
    expect(shared.toTypedArray()[0]).toBe(42);
    // A dtype change always converts.
    const converted = tensor(data, { copy: false, dtype: 'float64' });
    data[1] = 7;
    expect(converted.toTypedArray()[1]).toBe(2);
  });

  it('tensor() rejects ragged, non-numeric data and mismatched shapes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeMismatchError);
    expect(() => tensor([[1, 2], [3]])).toThrow(
      /tensor\(\): expected a rectangular nested array of shape \[2, 2\]: data\[1\] to be an array of length 2/,
    );
    expect(() => tensor([1, 'a' as unknown as number])).toThrow(InvalidArgumentError);
    expect(() => tensor([1, 'a' as unknown as number])).toThrow(/data\[1\] to be a number, but got 'a' \(string\)/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/shape \[2, 2\] to hold 3 elements/);
    expect(() => tensor('x' as unknown as number)).toThrow(InvalidArgumentError);
  });

  it('zeros, ones, full and the *Like variants', () => {
    expect(zeros([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(ones([3]).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7, { dtype: 'float64' }).toArray()).toEqual([7, 7]);
    const like = tensor([[1, 2]], { dtype: 'float64' });
    expect(zerosLike(like).dtype).toBe('float64');
    expect(onesLike(like).shape).toEqual([1, 2]);
    expect(fullLike(like, 3, { dtype: 'float32' }).dtype).toBe('float32');
    expect(zeros([0, 3]).numel).toBe(0);
    expect(() => zeros([2, -1])).toThrow(
      /zeros\(\): expected shape to be an array of non-negative integers, but got \[2, -1\]/,
    );
    expect(() => zeros([1.5])).toThrow(InvalidArgumentError);
  });

  it('arange follows torch.arange', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25, { dtype: 'float64' }).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(() => arange(0, 5, 0)).toThrow(/non-zero step/);
    expect(() => arange(0, 5, -1)).toThrow(InvalidArgumentError);
  });

  it('rand/randn/uniform/normal are reproducible under manualSeed and have the right moments', () => {
    manualSeed(1234);
    const a = Array.from(randn([1000], { dtype: 'float64' }).toTypedArray());
    manualSeed(1234);
    const b = Array.from(randn([1000], { dtype: 'float64' }).toTypedArray());
    expect(a).toEqual(b);
    const meanA = a.reduce((s, v) => s + v, 0) / a.length;
    const varA = a.reduce((s, v) => s + (v - meanA) ** 2, 0) / a.length;
    expect(Math.abs(meanA)).toBeLessThan(0.15);
    expect(Math.abs(varA - 1)).toBeLessThan(0.15);
    const r = rand([10000]).toTypedArray();
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r)).toBeLessThan(1);
    const u = uniform([1000], -2, 3).toTypedArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    const n = Array.from(normal([2000], 5, 0.5, { dtype: 'float64' }).toTypedArray());
    expect(Math.abs(n.reduce((s, v) => s + v, 0) / n.length - 5)).toBeLessThan(0.1);
    manualSeed(1);
    const c = rand([4]).toTypedArray();
    manualSeed(2);
    expect(Array.from(rand([4]).toTypedArray())).not.toEqual(Array.from(c));
    expect(() => manualSeed(1.5)).toThrow(InvalidArgumentError);
    expect(() => uniform([2], 1, 0)).toThrow(/low <= high/);
  });

  it('a Generator is a stream of its own: reproducible from its seed, independent of manualSeed', () => {
    const values = (t: { toTypedArray(): ArrayLike<number> }): number[] => Array.from(t.toTypedArray());
    const g = new Generator().manualSeed(7);
    const a = values(rand([6], { generator: g, dtype: 'float64' }));
    expect(values(rand([6], { generator: new Generator().manualSeed(7), dtype: 'float64' }))).toEqual(a);
    expect(values(rand([6], { generator: new Generator().manualSeed(8), dtype: 'float64' }))).not.toEqual(a);
    // Drawing from g leaves the default generator where it was.
    manualSeed(1);
    const d = values(randn([5]));
    manualSeed(1);
    randn([50], { generator: g });
    expect(values(randn([5]))).toEqual(d);
    // manualSeed returns the default generator: passing it draws the same numbers as passing nothing.
    expect(values(randn([5], { generator: manualSeed(1) }))).toEqual(d);
    // Every random factory takes it, and restarting the seed restarts the stream.
    const draw = (gen: Generator): number[][] => [
      values(uniform([3], -2, 2, { generator: gen })),
      values(normal([3], 1, 2, { generator: gen })),
      values(randLike(zeros([2]), { generator: gen })),
      values(randnLike(zeros([2]), { generator: gen })),
    ];
    const first = draw(g.manualSeed(3));
    expect(draw(g.manualSeed(3))).toEqual(first);
    expect(g.initialSeed()).toBe(3);
    expect(new Generator().manualSeed(-1).initialSeed()).toBe(4294967295);
    expect(() => g.manualSeed(0.5)).toThrow(InvalidArgumentError);
    expect(() => rand([2], { generator: {} as Generator })).toThrow(/rand\(\): expected generator to be a Generator/);
  });

  it('half dtypes and CUDA are refused clearly without a usable GPU', () => {
    expect(() => zeros([2], { dtype: 'float16' })).toThrow(NotImplementedError);
    expect(() => zeros([2], { dtype: 'bfloat16' })).toThrow(/half-precision tensors exist only on CUDA/);
    expect(() => zeros([2], { device: 'cuda' })).toThrow(NotImplementedError);
    expect(() => zeros([2], { device: 'cuda:1' })).toThrow(/'cuda:1'.*expected a usable CUDA device/);
    expect(() => zeros([2], { device: 'gpu' as 'cuda' })).toThrow(InvalidArgumentError);
    expect(() => zeros([2], { dtype: 'int32' as 'float32' })).toThrow(/dtype to be one of/);
    expect(() => ones([2]).cuda()).toThrow(NotImplementedError);
    expect(() => ones([2]).to('float16')).toThrow(NotImplementedError);
  });
});

describe('reading values', () => {
  it('toTypedArray is a copy, cpuData is the tensor itself', () => {
    const t = tensor([1, 2, 3]);
    const copy = t.toTypedArray();
    copy[0] = 100;
    expect(t.toArray()).toEqual([1, 2, 3]);
    const own = t.cpuData();
    own[0] = 100;
    expect(t.toArray()).toEqual([100, 2, 3]);
  });

  it('data() resolves to the values', async () => {
    const t = tensor([1, 2], { dtype: 'float64' });
    const values = await t.data();
    expect(values).toBeInstanceOf(Float64Array);
    expect(Array.from(values)).toEqual([1, 2]);
  });

  it('data(out) writes the values into out and resolves with out', async () => {
    const t = tensor([1, 2, 3], { dtype: 'float64' });
    const out = new Float64Array(3).fill(-7);
    const values = await t.data(out);
    expect(values).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 3]);
    // A view of a larger buffer is fine, and the rest of the buffer is left alone.
    const big = new Float32Array(5).fill(9);
    await tensor([4, 5, 6]).data(big.subarray(1, 4));
    expect(Array.from(big)).toEqual([9, 4, 5, 6, 9]);
  });

  it('data(out) rejects an out of the wrong type, length or memory, naming out', async () => {
    const t = tensor([1, 2, 3]);
    await expect(t.data(new Float64Array(3))).rejects.toThrow(InvalidArgumentError);
    await expect(t.data(new Float64Array(3))).rejects.toThrow(
      /data\(\): expected a Float32Array of 3 elements \(the tensor's float32 values\), but got a Float64Array of 3 elements/,
    );
    await expect(t.data(new Float32Array(4))).rejects.toThrow(/but got a Float32Array of 4 elements/);
    await expect(t.data([1, 2, 3] as unknown as Float32Array)).rejects.toThrow(InvalidArgumentError);
    await expect(t.data(t.cpuData() as Float32Array)).rejects.toThrow(/shares no memory with the tensor/);
    const own = tensor([1, 2, 3, 4]).reshape([2, 2]);
    await expect(own.data(new Float32Array(4))).resolves.toBeInstanceOf(Float32Array);
    try {
      await t.data(new Float32Array(2));
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidArgumentError).argument).toBe('out');
    }
  });

  it('item() needs exactly one element', () => {
    expect(tensor([[5]]).item()).toBe(5);
    expect(() => tensor([1, 2]).item()).toThrow(ShapeMismatchError);
    expect(() => tensor([1, 2]).item()).toThrow(
      /item\(\): expected a tensor with one element, but got shape \[2\] \(2 elements\)/,
    );
  });

  it('toString summarises', () => {
    expect(String(zeros([2, 3], { requiresGrad: true }))).toBe(
      'Tensor(shape=[2, 3], dtype=float32, device=cpu, requiresGrad=true)',
    );
    expect(isTensor(zeros([1]))).toBe(true);
    expect(isTensor({ shape: [1] })).toBe(false);
  });
});

describe('conversion and views', () => {
  it('to() converts dtype, returns this when nothing changes', () => {
    const t = tensor([1.5, 2.5]);
    expect(t.to('cpu')).toBe(t);
    expect(t.cpu()).toBe(t);
    expect(t.to('float32')).toBe(t);
    const d = t.to('float64');
    expect(d.dtype).toBe('float64');
    expect(d.toArray()).toEqual([1.5, 2.5]);
    expect(t.to({ device: 'cpu', dtype: 'float64' }).dtype).toBe('float64');
    expect(() => t.to('tpu' as 'cpu')).toThrow(InvalidArgumentError);
  });

  it('to(dtype) is differentiable', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    sum(x.to('float64')).backward();
    expect(x.grad?.dtype).toBe('float32');
    expect(x.grad?.toArray()).toEqual([1, 1]);
  });

  it('reshape shares memory and infers -1; detach shares memory; clone copies', () => {
    const t = arange(6);
    const r = t.reshape([2, -1]);
    expect(r.shape).toEqual([2, 3]);
    t.cpuData()[0] = 9;
    expect(r.toArray()).toEqual([
      [9, 1, 2],
      [3, 4, 5],
    ]);
    const d = t.detach();
    expect(d.requiresGrad).toBe(false);
    d.cpuData()[1] = 8;
    expect(t.toTypedArray()[1]).toBe(8);
    const c = t.clone();
    c.cpuData()[2] = 7;
    expect(t.toTypedArray()[2]).toBe(2);
    expect(() => t.reshape([4, 2])).toThrow(
      /reshape\(\): expected a shape with 6 elements \(like the input's \[6\]\), but got \[4, 2\] \(8 elements\)/,
    );
    expect(() => t.reshape([-1, -1])).toThrow(InvalidArgumentError);
    expect(() => t.reshape([4, -1])).toThrow(ShapeMismatchError);
  });
});

describe('dispose', () => {
  it('later use throws DisposedTensorError naming the next step; metadata stays readable', () => {
    const t = ones([2, 2]);
    t.dispose();
    t.dispose(); // idempotent
    expect(t.isDisposed).toBe(true);
    expect(t.shape).toEqual([2, 2]);
    expect(() => t.toTypedArray()).toThrow(DisposedTensorError);
    expect(() => t.toTypedArray()).toThrow(
      /toTypedArray\(\): the tensor was disposed; call keep\(\) on it inside tidy\(\)/,
    );
    expect(() => sum(t)).toThrow(/sum\(\): expected input to be a live tensor, but it was disposed/);
    expect(() => t.reshape([4])).toThrow(DisposedTensorError);
    return expect(t.data()).rejects.toThrow(DisposedTensorError);
  });

  it('Symbol.dispose disposes (using declarations)', () => {
    const t = ones([1]);
    t[Symbol.dispose]();
    expect(t.isDisposed).toBe(true);
  });

  it('a view keeps the shared memory alive', () => {
    const t = arange(4);
    const v = t.reshape([2, 2]);
    t.dispose();
    expect(v.toArray()).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});

describe('requiresGrad and grad', () => {
  it('only leaves can stop requiring grad', () => {
    const x = ones([2], { requiresGrad: true });
    const y = sum(x);
    expect(y.requiresGrad).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(/only leaves can stop requiring grad: use detach\(\)/);
    x.requiresGrad = false;
    expect(x.requiresGrad).toBe(false);
    expect(() => {
      x.requiresGrad = 1 as unknown as boolean;
    }).toThrow(InvalidArgumentError);
  });

  it('the grad setter checks shape, dtype and device', () => {
    const x = ones([2], { requiresGrad: true });
    x.grad = zeros([2]);
    expect(x.grad?.toArray()).toEqual([0, 0]);
    expect(() => {
      x.grad = zeros([3]);
    }).toThrow(ShapeMismatchError);
    expect(() => {
      x.grad = zeros([2], { dtype: 'float64' });
    }).toThrow(DTypeMismatchError);
    x.grad = null;
    expect(x.grad).toBeNull();
  });
});
