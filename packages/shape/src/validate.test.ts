import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import { InvalidArgumentError } from './errors.js';
import {
  expectInteger,
  expectNonNegativeInteger,
  expectPositiveInteger,
  expectPositiveNumber,
  expectShape,
  intTuple,
  isInteger,
  isNonNegativeInteger,
  isPositiveInteger,
  isPositiveNumber,
  isShape,
} from './validate.js';

const CODE = 'ERR_DCN_INVALID_ARGUMENT';
const OP = 'deformConv2d';

describe('predicates', () => {
  it.each<[unknown, boolean, boolean, boolean, boolean]>([
    // value, isInteger, isPositiveInteger, isNonNegativeInteger, isPositiveNumber
    [1, true, true, true, true],
    [0, true, false, true, false],
    [-0, true, false, true, false],
    [-3, true, false, false, false],
    [1.5, false, false, false, true],
    [Number.NaN, false, false, false, false],
    [Number.POSITIVE_INFINITY, false, false, false, false],
    [Number.NEGATIVE_INFINITY, false, false, false, false],
    ['1', false, false, false, false],
    [null, false, false, false, false],
    [undefined, false, false, false, false],
    [[1], false, false, false, false],
    [1n, false, false, false, false],
  ])('%o', (value, int, pos, nonNeg, posNum) => {
    expect(isInteger(value)).toBe(int);
    expect(isPositiveInteger(value)).toBe(pos);
    expect(isNonNegativeInteger(value)).toBe(nonNeg);
    expect(isPositiveNumber(value)).toBe(posNum);
  });

  it('isShape', () => {
    expect(isShape([2, 3, 0])).toBe(true);
    expect(isShape([])).toBe(true);
    expect(isShape([2, -1])).toBe(false);
    expect(isShape([2, 1.5])).toBe(false);
    expect(isShape([2, Number.NaN])).toBe(false);
    expect(isShape('2,3')).toBe(false);
    expect(isShape(new Int32Array([2, 3]))).toBe(false);
  });
});

describe('expectInteger', () => {
  it('returns the value', () => {
    expect(expectInteger(OP, 'x', -4)).toBe(-4);
    expect(expectInteger(OP, 'x', 0)).toBe(0);
  });
  it.each<[unknown, string]>([
    [1.5, '1.5 \\(number\\)'],
    [Number.NaN, 'NaN \\(number\\)'],
    [Number.POSITIVE_INFINITY, 'Infinity \\(number\\)'],
    ['1', "'1' \\(string\\)"],
    [null, 'null'],
  ])('rejects %o', (value, got) => {
    const e = expectDcnError(
      () => expectInteger(OP, 'x', value),
      InvalidArgumentError,
      CODE,
      new RegExp(`^deformConv2d\\(\\): expected x to be an integer, but got ${got}$`),
    );
    expect(e.argument).toBe('x');
  });
});

describe('expectPositiveInteger', () => {
  it('returns the value', () => {
    expect(expectPositiveInteger(OP, 'groups', 3)).toBe(3);
  });
  it.each<[unknown, string]>([
    [0, '0 \\(number\\)'],
    [-1, '-1 \\(number\\)'],
    [2.5, '2.5 \\(number\\)'],
    [Number.NaN, 'NaN \\(number\\)'],
    [Number.POSITIVE_INFINITY, 'Infinity \\(number\\)'],
    ['2', "'2' \\(string\\)"],
    [[2], '\\[2\\] \\(array\\)'],
    [undefined, 'undefined'],
  ])('rejects %o', (value, got) => {
    const e = expectDcnError(
      () => expectPositiveInteger(OP, 'groups', value),
      InvalidArgumentError,
      CODE,
      new RegExp(`^deformConv2d\\(\\): expected groups to be a positive integer, but got ${got}$`),
    );
    expect(e.argument).toBe('groups');
  });
});

describe('expectNonNegativeInteger', () => {
  it('returns the value, accepting 0', () => {
    expect(expectNonNegativeInteger(OP, 'padding', 0)).toBe(0);
    expect(expectNonNegativeInteger(OP, 'padding', 2)).toBe(2);
  });
  it.each<[unknown]>([[-1], [0.5], [Number.NaN], [Number.NEGATIVE_INFINITY], ['0']])('rejects %o', (value) => {
    expectDcnError(
      () => expectNonNegativeInteger(OP, 'padding', value),
      InvalidArgumentError,
      CODE,
      /^deformConv2d\(\): expected padding to be a non-negative integer, but got /,
    );
  });
});

describe('expectPositiveNumber', () => {
  it('returns the value', () => {
    expect(expectPositiveNumber('maskSigmoid', 'scale', 0.5)).toBe(0.5);
  });
  it.each<[unknown]>([[0], [-2], [Number.NaN], [Number.POSITIVE_INFINITY], ['2'], [null]])('rejects %o', (value) => {
    expectDcnError(
      () => expectPositiveNumber('maskSigmoid', 'scale', value),
      InvalidArgumentError,
      CODE,
      /^maskSigmoid\(\): expected scale to be a positive number, but got /,
    );
  });
});

describe('expectShape', () => {
  it('returns a copy', () => {
    const shape = [2, 3];
    const copy = expectShape(OP, 'input', shape);
    expect(copy).toEqual([2, 3]);
    expect(copy).not.toBe(shape);
  });
  it.each<[unknown, string]>([
    [[2, -1], '\\[2, -1\\] \\(array\\)'],
    [[2, 1.5], '\\[2, 1.5\\] \\(array\\)'],
    ['abc', "'abc' \\(string\\)"],
    [undefined, 'undefined'],
  ])('rejects %o', (value, got) => {
    const e = expectDcnError(
      () => expectShape(OP, 'input', value),
      InvalidArgumentError,
      CODE,
      new RegExp(
        `^deformConv2d\\(\\): expected input\\.shape to be an array of non-negative integers, but got ${got}$`,
      ),
    );
    expect(e.argument).toBe('input');
  });
});

describe('intTuple', () => {
  it.each<[unknown, number, number | undefined, number[]]>([
    [2, 2, 1, [2, 2]],
    [[2], 3, 1, [2, 2, 2]],
    [[1, 2], 2, 1, [1, 2]],
    [0, 2, 0, [0, 0]],
    [[0, 3], 2, 0, [0, 3]],
    [-5, 1, undefined, [-5]],
    [[4, 5, 6], 3, 3, [4, 5, 6]],
  ])('intTuple(%j, n=%i, min=%s) = %j', (value, n, min, expected) => {
    expect(intTuple(OP, 'x', value, n, { min })).toEqual(expected);
  });

  it('has no lower bound without min', () => {
    expect(intTuple(OP, 'x', [-1, 0], 2)).toEqual([-1, 0]);
  });

  it('shows the style example message', () => {
    const e = expectDcnError(
      () => intTuple(OP, 'stride', -1, 2, { min: 1 }),
      InvalidArgumentError,
      CODE,
      /^deformConv2d\(\): expected stride to be a positive integer or an array of 2 positive integers, but got -1 \(number\)$/,
    );
    expect(e.argument).toBe('stride');
  });

  it.each<[unknown, number, number | undefined, RegExp]>([
    // wrong values
    [0, 2, 1, /stride to be a positive integer or an array of 2 positive integers, but got 0 \(number\)$/],
    [1.5, 2, 1, /but got 1\.5 \(number\)$/],
    [Number.NaN, 2, 1, /but got NaN \(number\)$/],
    [Number.POSITIVE_INFINITY, 2, 1, /but got Infinity \(number\)$/],
    [[1, -1], 2, 1, /but got \[1, -1\] \(array\)$/],
    [[1, Number.NaN], 2, 1, /but got \[1, NaN\] \(array\)$/],
    [-1, 2, 0, /stride to be a non-negative integer or an array of 2 non-negative integers, but got -1 \(number\)$/],
    [2, 2, 3, /stride to be an integer >= 3 or an array of 2 integers >= 3, but got 2 \(number\)$/],
    [1.5, 2, undefined, /stride to be an integer or an array of 2 integers, but got 1\.5 \(number\)$/],
    // wrong types and lengths
    ['2', 2, 1, /but got '2' \(string\)$/],
    [null, 2, 1, /but got null$/],
    [[1, 2, 3], 2, 1, /but got \[1, 2, 3\] \(array\)$/],
    [[], 2, 1, /but got \[\] \(array\)$/],
    [[1, '2'], 2, 1, /but got \[1, '2'\] \(array\)$/],
    [[1, 2], 1, 1, /stride to be a positive integer or an array of 1 positive integer, but got \[1, 2\] \(array\)$/],
  ])('rejects %o (n=%i, min=%s)', (value, n, min, pattern) => {
    expectDcnError(() => intTuple(OP, 'stride', value, n, { min }), InvalidArgumentError, CODE, pattern);
  });
});
