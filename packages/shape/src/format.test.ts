import { describe, expect, it } from 'vitest';
import { formatExpected, formatOpPrefix, formatShape, formatValue } from './format.js';

describe('formatShape', () => {
  it.each([
    [[2, 18, 8, 8], '[2, 18, 8, 8]'],
    [[], '[]'],
    [[0], '[0]'],
    [[-1, 1.5], '[-1, 1.5]'],
  ])('formatShape(%j) = %s', (shape, expected) => {
    expect(formatShape(shape)).toBe(expected);
  });
});

describe('formatValue', () => {
  it.each<[unknown, string]>([
    [-1, '-1 (number)'],
    [0, '0 (number)'],
    [-0, '-0 (number)'],
    [1.5, '1.5 (number)'],
    [Number.NaN, 'NaN (number)'],
    [Number.POSITIVE_INFINITY, 'Infinity (number)'],
    ['abc', "'abc' (string)"],
    [[1, 2], '[1, 2] (array)'],
    [[], '[] (array)'],
    [[1, 'a', [2]], "[1, 'a', [2]] (array)"],
    [null, 'null'],
    [undefined, 'undefined'],
    [true, 'true (boolean)'],
    [10n, '10n (bigint)'],
    [{ a: 1 }, '{...} (object)'],
    [new Float32Array(3), 'Float32Array(3) (Float32Array)'],
    [new Map(), 'Map {...} (Map)'],
  ])('formatValue(%o) = %s', (value, expected) => {
    expect(formatValue(value)).toBe(expected);
  });

  it('formats functions and symbols', () => {
    function foo(): void {}
    expect(formatValue(foo)).toBe('function foo (function)');
    expect(formatValue(Symbol('s'))).toBe('Symbol(s) (symbol)');
  });

  it('elides long arrays', () => {
    const long = Array.from({ length: 20 }, (_, i) => i);
    expect(formatValue(long)).toBe('[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ... 4 more] (array)');
  });

  // Issue 9, finding 2: the formatter itself threw a TypeError on these.
  it('never throws, whatever the value', () => {
    const oddCtor = Object.assign([1, 2, 3], { constructor: 1 });
    expect(formatValue(oddCtor)).toBe('[1, 2, 3] (array)');
    expect(formatShape(oddCtor)).toBe('[1, 2, 3]');
    const { proxy, revoke } = Proxy.revocable([1], {});
    revoke();
    expect(formatValue(proxy)).toBe('a value that cannot be read (object)');
    const getter = Object.defineProperty([0], 'length', { value: 2 });
    expect(formatValue(getter)).toBe('[0, undefined] (array)');
    const throwing = new Proxy([1, 2], {
      get: () => {
        throw new Error('boom');
      },
    });
    expect(formatValue(throwing)).toBe('a value that cannot be read (object)');
    const ctorGetter = {
      get constructor(): never {
        throw new Error('boom');
      },
    };
    expect(formatValue(ctorGetter)).toBe('{...} (object)');
    expect(formatValue(Object.create(null))).toBe('{...} (object)');
    expect(formatValue('x'.repeat(100))).toBe(`'${'x'.repeat(64)}...' (100 chars) (string)`);
  });

  it('does not recurse forever into nested arrays', () => {
    expect(formatValue([[[[[1]]]]])).toBe('[[[[...]]]] (array)');
  });
});

describe('formatOpPrefix / formatExpected', () => {
  it('prefixes with op()', () => {
    expect(formatOpPrefix('deformConv2d')).toBe('deformConv2d(): ');
    expect(formatOpPrefix('new DeformConv2d')).toBe('new DeformConv2d(): ');
    expect(formatOpPrefix('')).toBe('');
  });

  it('builds "<op>(): expected <requirement>, but got <actual>"', () => {
    expect(formatExpected('deformConv2d', 'groups to be a positive integer', '0 (number)')).toBe(
      'deformConv2d(): expected groups to be a positive integer, but got 0 (number)',
    );
    expect(formatExpected('', 'x', 'y')).toBe('expected x, but got y');
  });
});
