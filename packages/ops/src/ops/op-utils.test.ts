// SPDX-License-Identifier: MIT
// Unit tests of the shared argument checks (device and dtype agreement, broadcasting, dims, options).

import { DeviceMismatchError, DTypeMismatchError, InvalidArgumentError, ShapeMismatchError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, expectOptions, expectSameDeviceAndDType, normalizeDim } from './op-utils.js';

const fake = (device: string, dtype: string): Tensor => ({ device, dtype }) as unknown as Tensor;

describe('expectSameDeviceAndDType', () => {
  it('accepts one device and dtype, skipping absent tensors', () => {
    expect(() =>
      expectSameDeviceAndDType('op', [
        ['a', fake('cpu', 'float32')],
        ['b', null],
        ['c', fake('cpu', 'float32')],
      ]),
    ).not.toThrow();
  });
  it('names both tensors on a device mismatch', () => {
    const f = () =>
      expectSameDeviceAndDType('deformConv2d', [
        ['input', fake('cpu', 'float32')],
        ['offset', fake('cuda:0', 'float32')],
      ]);
    expect(f).toThrow(DeviceMismatchError);
    expect(f).toThrow(
      /^deformConv2d\(\): expected all tensors on one device, but got input on cpu and offset on cuda:0 \(no implicit copies: move one with to\(\)\)$/,
    );
  });
  it('names both tensors on a dtype mismatch', () => {
    const f = () =>
      expectSameDeviceAndDType('add', [
        ['input', fake('cpu', 'float32')],
        ['other', fake('cpu', 'float64')],
      ]);
    expect(f).toThrow(DTypeMismatchError);
  });
});

describe('broadcastShapes', () => {
  it('follows NumPy rules', () => {
    expect(broadcastShapes('op', [2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes('op', [], [2])).toEqual([2]);
    expect(broadcastShapes('op', [0, 1], [1, 5])).toEqual([0, 5]);
    expect(() => broadcastShapes('op', [2], [3])).toThrow(ShapeMismatchError);
  });
});

describe('normalizeDim and expectOptions', () => {
  it('normalizes negative dims and rejects out of range', () => {
    expect(normalizeDim('op', -1, 3)).toBe(2);
    expect(normalizeDim('op', 0, 0)).toBe(0);
    expect(() => normalizeDim('op', 3, 3)).toThrow(InvalidArgumentError);
  });
  it('rejects unknown keys and non-objects', () => {
    expect(expectOptions('op', undefined, ['a'])).toEqual({});
    expect(() => expectOptions('op', { b: 1 } as { a?: number }, ['a'])).toThrow(
      /expected options among a, but got 'b'/,
    );
    expect(() => expectOptions('op', [] as unknown as object, ['a'])).toThrow(InvalidArgumentError);
  });
});
