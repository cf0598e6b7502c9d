// SPDX-License-Identifier: MIT
// pad(): every mode against hand-computed F.pad results, cropping, errors, and gradcheck.

import { describe, expect, it } from 'vitest';
import { gradcheck, InvalidArgumentError, pad, tensor, zeros, type PadMode } from '../../src/index.js';
import { param } from './helpers.js';

describe('pad values (F.pad semantics)', () => {
  const x = tensor([1, 2, 3]);
  const cases: Array<[PadMode, number[], number[]]> = [
    ['constant', [1, 2], [0, 1, 2, 3, 0, 0]],
    ['reflect', [2, 1], [3, 2, 1, 2, 3, 2]],
    ['replicate', [2, 1], [1, 1, 1, 2, 3, 3]],
    ['circular', [2, 1], [2, 3, 1, 2, 3, 1]],
    ['circular', [3, 3], [1, 2, 3, 1, 2, 3, 1, 2, 3]],
  ];
  for (const [mode, pads, expected] of cases) {
    it(`${mode} pads=[${pads}] x=[3]`, () => {
      expect(pad(x, pads, mode).toArray()).toEqual(expected);
    });
  }

  it('constant value and cropping with negative amounts', () => {
    expect(pad(x, [1, 2], 'constant', 9).toArray()).toEqual([9, 1, 2, 3, 9, 9]);
    expect(pad(x, [-1, 1]).toArray()).toEqual([2, 3, 0]);
    expect(pad(x, [-3, 0]).shape).toEqual([0]);
  });

  it('2D reflect of a 3x3 image', () => {
    const img = tensor([
      [
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
      ],
    ]);
    expect(pad(img, [1, 1, 1, 1], 'reflect').toArray()).toEqual([
      [
        [
          [5, 4, 5, 6, 5],
          [2, 1, 2, 3, 2],
          [5, 4, 5, 6, 5],
          [8, 7, 8, 9, 8],
          [5, 4, 5, 6, 5],
        ],
      ],
    ]);
    expect(pad(img, [0, 1, 2, 0], 'replicate').toArray()).toEqual([
      [
        [
          [1, 2, 3, 3],
          [1, 2, 3, 3],
          [1, 2, 3, 3],
          [4, 5, 6, 6],
          [7, 8, 9, 9],
        ],
      ],
    ]);
  });

  it('shapes in 3D, only the last dims padded', () => {
    expect(pad(zeros([1, 2, 3, 4, 5]), [1, 1, 2, 2, 3, 3], 'circular').shape).toEqual([1, 2, 9, 8, 7]);
    expect(pad(zeros([2, 3]), []).shape).toEqual([2, 3]);
  });
});

describe('pad errors', () => {
  const x = zeros([1, 3]);
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'odd length',
      () => pad(x, [1]),
      /pad\(\): expected pads to be an array of integers of even length at most 2 \* ndim = 4, but got \[1\]/,
    ],
    ['too long', () => pad(x, [1, 1, 1, 1, 1, 1]), /at most 2 \* ndim = 4/],
    ['fractional', () => pad(x, [0.5, 1]), /pads to be an array of integers/],
    [
      'unknown mode',
      () => pad(x, [1, 1], 'zeros' as PadMode),
      /mode to be one of 'constant', 'reflect', 'replicate', 'circular', but got 'zeros' \(string\)/,
    ],
    [
      'reflect too wide',
      () => pad(x, [3, 0], 'reflect'),
      /reflect pads smaller than the size 3 of dimension 1 of input with shape \[1, 3\], but got \(3, 0\)/,
    ],
    ['circular too wide', () => pad(x, [0, 4], 'circular'), /circular pads at most the size 3/],
    ['negative reflect', () => pad(x, [-1, 0], 'reflect'), /non-negative pads in 'reflect' mode/],
    ['crop below zero', () => pad(x, [-2, -2]), /pads that leave a non-negative size/],
    ['replicate empty', () => pad(zeros([1, 0]), [1, 1], 'replicate'), /a non-empty dimension 1/],
    ['value', () => pad(x, [1, 1], 'constant', '1' as unknown as number), /value to be a number/],
  ];
  for (const [name, fn, message] of cases) {
    it(name, () => {
      expect(fn).toThrow(InvalidArgumentError);
      expect(fn).toThrow(message);
    });
  }
});

describe('pad gradcheck', () => {
  const modes: PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];
  for (const mode of modes) {
    it(`${mode} x=[1,2,3,4] pads=[2,1,1,2]`, () => {
      expect(gradcheck((t) => pad(t, [2, 1, 1, 2], mode, 0.5), [param([1, 2, 3, 4])])).toBe(true);
    });
  }
  it('constant crop', () => {
    expect(gradcheck((t) => pad(t, [-1, 2]), [param([2, 4])])).toBe(true);
  });
});
