import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import { InvalidArgumentError } from './errors.js';
import { checkPaddingMode, isPaddingMode, PADDING_MODES, resolvePadding } from './padding.js';

const CODE = 'ERR_DCN_INVALID_ARGUMENT';
const OP = 'new DeformConv2d';

describe('resolvePadding', () => {
  it('numbers give symmetric padding', () => {
    expect(resolvePadding(OP, 1, 3, 1, 1, 2)).toEqual({
      padding: [1, 1],
      left: [1, 1],
      right: [1, 1],
      symmetric: true,
      reversedPaddingRepeatedTwice: [1, 1, 1, 1],
    });
    expect(resolvePadding(OP, [1, 2], 3, 1, 2, 2)).toMatchObject({
      padding: [1, 2],
      left: [1, 2],
      right: [1, 2],
      reversedPaddingRepeatedTwice: [2, 2, 1, 1],
    });
    expect(resolvePadding(OP, [3], 3, 1, 1, 3).padding).toEqual([3, 3, 3]);
  });

  it("'valid' is no padding", () => {
    expect(resolvePadding(OP, 'valid', 3, 1, 2, 2)).toEqual({
      padding: [0, 0],
      left: [0, 0],
      right: [0, 0],
      symmetric: true,
      reversedPaddingRepeatedTwice: [0, 0, 0, 0],
    });
  });

  it("'same' splits d * (k - 1) into floor(total / 2) left and the rest right (PyTorch)", () => {
    expect(resolvePadding(OP, 'same', 3, 1, 1, 2)).toMatchObject({
      padding: [1, 1],
      left: [1, 1],
      right: [1, 1],
      symmetric: true,
    });
    expect(resolvePadding(OP, 'same', [3, 4], 1, 1, 2)).toEqual({
      padding: [1, 1],
      left: [1, 1],
      right: [1, 2],
      symmetric: false,
      reversedPaddingRepeatedTwice: [1, 2, 1, 1],
    });
    expect(resolvePadding(OP, 'same', 2, 3, 1, 1)).toMatchObject({ left: [1], right: [2] });
    expect(resolvePadding(OP, 'same', [1, 5, 2], [1, 2, 1], 1, 3)).toMatchObject({
      left: [0, 4, 0],
      right: [0, 4, 1],
      reversedPaddingRepeatedTwice: [0, 1, 4, 4, 0, 0],
    });
  });

  it("'same' with a stride other than 1 is an error", () => {
    const e = expectDcnError(
      () => resolvePadding(OP, 'same', 3, 1, [1, 2], 2),
      InvalidArgumentError,
      CODE,
      /^new DeformConv2d\(\): padding='same' is not supported for strided convolutions: expected stride to be 1, but got \[1, 2\]$/,
    );
    expect(e.argument).toBe('padding');
  });

  it.each<[unknown, RegExp]>([
    [
      'full',
      /expected padding to be 'same', 'valid', a non-negative integer or an array of 2 non-negative integers, but got 'full' \(string\)$/,
    ],
    [
      -1,
      /expected padding to be a non-negative integer or an array of 2 non-negative integers, but got -1 \(number\)$/,
    ],
    [1.5, /but got 1\.5 \(number\)$/],
    [[1, 2, 3], /but got \[1, 2, 3\] \(array\)$/],
    [Number.NaN, /but got NaN \(number\)$/],
  ])('rejects padding %o', (padding, pattern) => {
    const e = expectDcnError(
      () => resolvePadding(OP, padding as never, 3, 1, 1, 2),
      InvalidArgumentError,
      CODE,
      pattern,
    );
    expect(e.argument).toBe('padding');
  });

  it("validates kernel and dilation for 'same'", () => {
    expectDcnError(
      () => resolvePadding(OP, 'same', 0, 1, 1, 2),
      InvalidArgumentError,
      CODE,
      /expected kernelSize to be a positive integer/,
    );
    expectDcnError(
      () => resolvePadding(OP, 'same', 3, [1, 1, 1], 1, 2),
      InvalidArgumentError,
      CODE,
      /expected dilation/,
    );
  });
});

describe('padding modes', () => {
  it('lists the PyTorch modes', () => {
    expect(PADDING_MODES).toEqual(['zeros', 'reflect', 'replicate', 'circular']);
  });

  it.each(PADDING_MODES)('accepts %s', (mode) => {
    expect(isPaddingMode(mode)).toBe(true);
    expect(checkPaddingMode(OP, mode)).toBe(mode);
  });

  it.each<[unknown, string]>([
    ['zero', "'zero' \\(string\\)"],
    ['Zeros', "'Zeros' \\(string\\)"],
    [0, '0 \\(number\\)'],
    [undefined, 'undefined'],
  ])('rejects %o', (mode, got) => {
    expect(isPaddingMode(mode)).toBe(false);
    const e = expectDcnError(
      () => checkPaddingMode(OP, mode),
      InvalidArgumentError,
      CODE,
      new RegExp(
        `^new DeformConv2d\\(\\): expected paddingMode to be one of 'zeros', 'reflect', 'replicate', 'circular', but got ${got}$`,
      ),
    );
    expect(e.argument).toBe('paddingMode');
  });
});
