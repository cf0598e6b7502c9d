// SPDX-License-Identifier: MIT
// Elementwise ops: values (against Math), broadcasting, numbers as operands, errors, and gradcheck of
// every op in float64 (with broadcasting for the binary ones).

import { describe, expect, it } from 'vitest';
import {
  abs,
  add,
  DTypeMismatchError,
  div,
  exp,
  gradcheck,
  InvalidArgumentError,
  log,
  manualSeed,
  mul,
  neg,
  pow,
  relu,
  ShapeMismatchError,
  sigmoid,
  sqrt,
  square,
  sub,
  tanh,
  tensor,
  zeros,
  type Tensor,
} from '../../src/index.js';
import { expectClose, f64, param } from './helpers.js';

const X = [-1.5, -0.25, 0.5, 2];

describe('unary ops: values', () => {
  const cases: Array<[string, (t: Tensor) => Tensor, (v: number) => number]> = [
    ['neg', neg, (v) => -v],
    ['exp', exp, Math.exp],
    ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['tanh', tanh, Math.tanh],
    ['relu', relu, (v) => Math.max(v, 0)],
    ['abs', abs, Math.abs],
    ['square', square, (v) => v * v],
    ['pow 3', (t) => pow(t, 3), (v) => v ** 3],
    ['pow 0.5 of |x|', (t) => pow(abs(t), 0.5), (v) => Math.abs(v) ** 0.5],
  ];
  for (const [name, op, ref] of cases) {
    it(`${name} x=[4] float64`, () => {
      expectClose(op(f64(X)), X.map(ref));
    });
  }
  it('log and sqrt of positives; NaN below 0', () => {
    expectClose(log(f64([1, Math.E, 10])), [0, 1, Math.log(10)]);
    expectClose(sqrt(f64([4, 2])), [2, Math.SQRT2]);
    expect(Number.isNaN(sqrt(f64([-1])).item())).toBe(true);
  });
  it('float32 results are rounded to float32', () => {
    const y = sigmoid(tensor([0.3]));
    expect(y.dtype).toBe('float32');
    expect(y.item()).toBe(Math.fround(1 / (1 + Math.exp(-Math.fround(0.3)))));
  });
  it('pow needs a number exponent', () => {
    expect(() => pow(f64([1]), '2' as unknown as number)).toThrow(
      /pow\(\): expected exponent to be a number, but got '2' \(string\)/,
    );
  });
});

describe('binary ops: values and broadcasting', () => {
  it('same shape, [2,3] with [3], [2,1] with [1,3], [4,1,3] with [2,1]', () => {
    const a = f64([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(
      add(
        a,
        f64([
          [1, 1, 1],
          [2, 2, 2],
        ]),
      ).toArray(),
    ).toEqual([
      [2, 3, 4],
      [6, 7, 8],
    ]);
    expect(sub(a, f64([1, 2, 3])).toArray()).toEqual([
      [0, 0, 0],
      [3, 3, 3],
    ]);
    expect(mul(f64([[1], [2]]), f64([[1, 10, 100]])).toArray()).toEqual([
      [1, 10, 100],
      [2, 20, 200],
    ]);
    const big = mul(zeros([4, 1, 3], { dtype: 'float64' }), f64([[1], [2]]));
    expect(big.shape).toEqual([4, 2, 3]);
    expect(div(f64([[2], [4]]), f64([1, 2])).toArray()).toEqual([
      [2, 1],
      [4, 2],
    ]);
  });

  it('a general broadcast (strided rows) matches the loop definition', () => {
    manualSeed(3);
    const a = param([3, 1, 4, 1]);
    const b = param([2, 1, 5]);
    const out = mul(a, b);
    expect(out.shape).toEqual([3, 2, 4, 5]);
    const av = a.toTypedArray();
    const bv = b.toTypedArray();
    const expected: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++)
        for (let k = 0; k < 4; k++) for (let l = 0; l < 5; l++) expected.push(av[i * 4 + k] * bv[j * 5 + l]);
    expectClose(out, expected);
  });

  it('numbers on either side', () => {
    const t = f64([1, 2, 4]);
    expect(add(t, 1).toArray()).toEqual([2, 3, 5]);
    expect(add(1, t).toArray()).toEqual([2, 3, 5]);
    expect(sub(t, 1).toArray()).toEqual([0, 1, 3]);
    expect(sub(1, t).toArray()).toEqual([0, -1, -3]);
    expect(mul(2, t).toArray()).toEqual([2, 4, 8]);
    expect(div(t, 4).toArray()).toEqual([0.25, 0.5, 1]);
    expect(div(4, t).toArray()).toEqual([4, 2, 1]);
    expect(() => add(1, 2)).toThrow(/add\(\): expected input or other to be a Tensor, but got two numbers 1 and 2/);
  });

  it('errors: shapes that do not broadcast, mixed dtypes, non-tensors', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeMismatchError);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(
      /add\(\): expected shapes that broadcast .*, but got input with shape \[2, 3\] and other with shape \[4\]/,
    );
    expect(() => mul(zeros([2]), zeros([2], { dtype: 'float64' }))).toThrow(DTypeMismatchError);
    expect(() => mul(zeros([2]), zeros([2], { dtype: 'float64' }))).toThrow(
      /mul\(\): expected all tensors of one dtype, but got input of dtype float32 and other of dtype float64/,
    );
    expect(() => add({} as Tensor, zeros([1]))).toThrow(InvalidArgumentError);
  });
});

describe('gradcheck (float64)', () => {
  manualSeed(7);
  const unary: Array<[string, (t: Tensor) => Tensor]> = [
    ['neg', neg],
    ['exp', exp],
    ['log', (t) => log(add(abs(t), 0.5))],
    ['sigmoid', sigmoid],
    ['tanh', tanh],
    ['relu', relu],
    ['abs', abs],
    ['square', square],
    ['sqrt', (t) => sqrt(add(abs(t), 0.5))],
    ['pow 3', (t) => pow(t, 3)],
    ['pow -1.5 of |x|+1', (t) => pow(add(abs(t), 1), -1.5)],
    ['pow 0', (t) => pow(t, 0)],
    ['addScalar', (t) => add(t, 2)],
    ['rsubScalar', (t) => sub(2, t)],
    ['mulScalar', (t) => mul(t, -3)],
    ['divScalar', (t) => div(t, 4)],
    ['rdivScalar', (t) => div(3, add(abs(t), 1))],
  ];
  for (const [name, fn] of unary) {
    it(`${name} x=[2,3]`, () => {
      // Values away from 0, where relu and abs are not differentiable.
      const x = f64(
        [
          [-1.3, -0.6, 0.4],
          [0.9, 1.7, -2.2],
        ],
        true,
      );
      expect(gradcheck(fn, [x])).toBe(true);
    });
  }

  const binary: Array<[string, (a: Tensor, b: Tensor) => Tensor]> = [
    ['add', add],
    ['sub', sub],
    ['mul', mul],
    ['div', (a, b) => div(a, add(abs(b), 0.5))],
  ];
  const shapes: Array<[number[], number[]]> = [
    [
      [2, 3],
      [2, 3],
    ],
    [[2, 3], [3]],
    [
      [2, 1],
      [1, 3],
    ],
    [
      [3, 1, 2],
      [2, 1],
    ],
    [[2, 3], []],
  ];
  for (const [name, fn] of binary) {
    for (const [sa, sb] of shapes) {
      it(`${name} a=[${sa}] b=[${sb}]`, () => {
        expect(gradcheck(fn, [param(sa), param(sb)])).toBe(true);
      });
    }
  }

  it('only one side requiring grad', () => {
    const a = param([2, 3]);
    const b = f64([1, 2, 3]);
    expect(gradcheck((x) => mul(x, b), [a])).toBe(true);
    expect(gradcheck((x) => div(b, add(abs(x), 1)), [a])).toBe(true);
  });
});
