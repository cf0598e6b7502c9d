import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import type { SpatialDim } from './deform-conv-params.js';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';
import { checkMaskSigmoidScale, checkMaskSoftmaxArgs } from './mask-params.js';

const SHAPE = 'ERR_DCN_SHAPE_MISMATCH';
const ARG = 'ERR_DCN_INVALID_ARGUMENT';

describe('checkMaskSoftmaxArgs', () => {
  it.each<
    [
      SpatialDim,
      number[],
      number | number[],
      { kernelSize: number[]; kernelPoints: number; maskGroups: number; batched: boolean },
    ]
  >([
    [2, [2, 18, 8, 8], 3, { kernelSize: [3, 3], kernelPoints: 9, maskGroups: 2, batched: true }],
    [2, [4, 9, 8, 8], [3, 3], { kernelSize: [3, 3], kernelPoints: 9, maskGroups: 1, batched: true }],
    [2, [9, 8, 8], 3, { kernelSize: [3, 3], kernelPoints: 9, maskGroups: 1, batched: false }],
    [2, [1, 12, 4, 2], [2, 3], { kernelSize: [2, 3], kernelPoints: 6, maskGroups: 2, batched: true }],
    [1, [2, 3, 5], 3, { kernelSize: [3], kernelPoints: 3, maskGroups: 1, batched: true }],
    [1, [6, 5], [3], { kernelSize: [3], kernelPoints: 3, maskGroups: 2, batched: false }],
    [3, [1, 27, 2, 2, 2], 3, { kernelSize: [3, 3, 3], kernelPoints: 27, maskGroups: 1, batched: true }],
    [2, [0, 9, 8, 8], 3, { kernelSize: [3, 3], kernelPoints: 9, maskGroups: 1, batched: true }],
  ])('dim=%i mask %j kernelSize %j', (dim, shape, kernelSize, expected) => {
    expect(checkMaskSoftmaxArgs(`maskSoftmax${dim}d`, dim, shape, kernelSize)).toEqual(expected);
  });

  it.each<[SpatialDim, number[], number | number[], RegExp]>([
    [
      2,
      [2, 10, 8, 8],
      3,
      /^maskSoftmax2d\(\): expected mask\.shape\[1\] to be a multiple of kH \* kW = 9, but got mask with shape \[2, 10, 8, 8\]$/,
    ],
    [
      2,
      [2, 4, 8, 8],
      3,
      /expected mask\.shape\[1\] to be a multiple of kH \* kW = 9, but got mask with shape \[2, 4, 8, 8\]$/,
    ],
    [2, [2, 0, 8, 8], 3, /expected mask\.shape\[1\] to be a positive multiple of kH \* kW = 9/],
    [
      2,
      [10, 8, 8],
      3,
      /expected mask\.shape\[0\] to be a multiple of kH \* kW = 9, but got mask with shape \[10, 8, 8\]$/,
    ],
    [1, [2, 4, 5], 3, /^maskSoftmax1d\(\): expected mask\.shape\[1\] to be a multiple of kW = 3/],
    [3, [1, 26, 2, 2, 2], 3, /^maskSoftmax3d\(\): expected mask\.shape\[1\] to be a multiple of kD \* kH \* kW = 27/],
    [
      2,
      [8, 8],
      3,
      /^maskSoftmax2d\(\): expected mask to have 3 \(unbatched\) or 4 \(batched\) dimensions, but got mask with shape \[8, 8\]$/,
    ],
    [
      2,
      [1, 1, 9, 8, 8],
      3,
      /expected mask to have 3 \(unbatched\) or 4 \(batched\) dimensions, but got mask with shape \[1, 1, 9, 8, 8\]$/,
    ],
  ])('dim=%i rejects mask %j (kernelSize %j)', (dim, shape, kernelSize, pattern) => {
    expectDcnError(
      () => checkMaskSoftmaxArgs(`maskSoftmax${dim}d`, dim, shape, kernelSize),
      ShapeMismatchError,
      SHAPE,
      pattern,
    );
  });

  it.each<[unknown, RegExp]>([
    [
      0,
      /^maskSoftmax2d\(\): expected kernelSize to be a positive integer or an array of 2 positive integers, but got 0 \(number\)$/,
    ],
    [[3, 3, 3], /but got \[3, 3, 3\] \(array\)$/],
    [1.5, /but got 1\.5 \(number\)$/],
    ['3', /but got '3' \(string\)$/],
    [undefined, /but got undefined$/],
  ])('rejects kernelSize %o', (kernelSize, pattern) => {
    const e = expectDcnError(
      () => checkMaskSoftmaxArgs('maskSoftmax2d', 2, [1, 9, 4, 4], kernelSize as number),
      InvalidArgumentError,
      ARG,
      pattern,
    );
    expect(e.argument).toBe('kernelSize');
  });

  it('rejects a mask shape that is not a shape, and a bad dim', () => {
    expectDcnError(
      () => checkMaskSoftmaxArgs('maskSoftmax2d', 2, [1, -9, 4, 4], 3),
      InvalidArgumentError,
      ARG,
      /expected mask\.shape to be an array of non-negative integers, but got \[1, -9, 4, 4\] \(array\)$/,
    );
    expectDcnError(
      () => checkMaskSoftmaxArgs('maskSoftmax2d', 4 as SpatialDim, [1, 9, 4, 4], 3),
      InvalidArgumentError,
      ARG,
      /expected dim to be 1, 2 or 3, but got 4 \(number\)$/,
    );
  });
});

describe('checkMaskSigmoidScale', () => {
  it.each([2, 1, 0.5, 1e-6, 1e6])('accepts %d', (scale) => {
    expect(checkMaskSigmoidScale('maskSigmoid', scale)).toBe(scale);
  });

  it.each<[unknown, string]>([
    [0, '0 \\(number\\)'],
    [-1, '-1 \\(number\\)'],
    [-0.5, '-0\\.5 \\(number\\)'],
    [Number.NaN, 'NaN \\(number\\)'],
    [Number.POSITIVE_INFINITY, 'Infinity \\(number\\)'],
    ['2', "'2' \\(string\\)"],
    [null, 'null'],
  ])('rejects %o', (scale, got) => {
    const e = expectDcnError(
      () => checkMaskSigmoidScale('maskSigmoid', scale),
      InvalidArgumentError,
      ARG,
      new RegExp(`^maskSigmoid\\(\\): expected scale to be a positive number, but got ${got}$`),
    );
    expect(e.argument).toBe('scale');
  });
});
