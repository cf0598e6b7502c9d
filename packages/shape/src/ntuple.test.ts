import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import { InvalidArgumentError } from './errors.js';
import { ntuple, pair, single, triple } from './ntuple.js';

const CODE = 'ERR_DCN_INVALID_ARGUMENT';

describe('ntuple', () => {
  it.each<[number | number[], number, number[]]>([
    [3, 2, [3, 3]],
    [3, 1, [3]],
    [3, 0, []],
    [[3], 3, [3, 3, 3]],
    [[1, 2], 2, [1, 2]],
    [[1, 2, 3], 3, [1, 2, 3]],
    [[7], 1, [7]],
  ])('ntuple(%j, %i) = %j', (x, n, expected) => {
    expect(ntuple(x, n)).toEqual(expected);
  });

  it('returns a new array', () => {
    const x = [1, 2];
    const y = ntuple(x, 2);
    expect(y).not.toBe(x);
    y[0] = 9;
    expect(x).toEqual([1, 2]);
  });

  it('does not check the values (validators do)', () => {
    expect(ntuple(-1, 2)).toEqual([-1, -1]);
    expect(ntuple([Number.NaN, 1.5], 2)).toEqual([Number.NaN, 1.5]);
  });

  it.each<[unknown, number, RegExp]>([
    [[1, 2, 3], 2, /^expected stride to be a number or an array of 1 or 2 numbers, but got \[1, 2, 3\] \(array\)$/],
    [[], 2, /but got \[\] \(array\)$/],
    ['2', 2, /but got '2' \(string\)$/],
    [null, 2, /but got null$/],
    [undefined, 2, /but got undefined$/],
    [[1, '2'], 2, /but got \[1, '2'\] \(array\)$/],
    [{ 0: 1, length: 1 }, 2, /\(object\)$/],
    [[1, 2], 1, /^expected stride to be a number or an array of 1 number, but got \[1, 2\] \(array\)$/],
  ])('rejects %o for n=%i', (x, n, pattern) => {
    const e = expectDcnError(() => ntuple(x as number, n, 'stride'), InvalidArgumentError, CODE, pattern);
    expect(e.argument).toBe('stride');
  });

  it('names the op when given one', () => {
    expectDcnError(
      () => ntuple([1, 2, 3], 2, 'padding', 'deformConv2d'),
      InvalidArgumentError,
      CODE,
      /^deformConv2d\(\): expected padding to be a number or an array of 1 or 2 numbers/,
    );
  });

  it("defaults the argument name to 'value'", () => {
    const e = expectDcnError(() => ntuple('x' as unknown as number, 2), InvalidArgumentError, CODE, /expected value/);
    expect(e.argument).toBe('value');
  });

  it.each([-1, 1.5, Number.NaN])('rejects n = %d', (n) => {
    expectDcnError(() => ntuple(1, n), InvalidArgumentError, CODE, /expected n to be a non-negative integer/);
  });
});

describe('single / pair / triple', () => {
  it('broadcast to 1, 2, 3', () => {
    expect(single(4)).toEqual([4]);
    expect(single([4])).toEqual([4]);
    expect(pair(3)).toEqual([3, 3]);
    expect(pair([3])).toEqual([3, 3]);
    expect(pair([1, 2])).toEqual([1, 2]);
    expect(triple(2)).toEqual([2, 2, 2]);
    expect(triple([1, 2, 3])).toEqual([1, 2, 3]);
  });

  it('reject the wrong length, naming the argument', () => {
    expectDcnError(
      () => single([1, 2], 'kernelSize'),
      InvalidArgumentError,
      CODE,
      /expected kernelSize to be a number or an array of 1 number/,
    );
    expectDcnError(
      () => pair([1, 2, 3], 'stride'),
      InvalidArgumentError,
      CODE,
      /expected stride to be a number or an array of 1 or 2 numbers/,
    );
    expectDcnError(
      () => triple([1, 2], 'dilation', 'deformConv3d'),
      InvalidArgumentError,
      CODE,
      /^deformConv3d\(\): expected dilation to be a number or an array of 1 or 3 numbers, but got \[1, 2\] \(array\)$/,
    );
  });
});
