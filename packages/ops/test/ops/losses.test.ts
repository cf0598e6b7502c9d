// SPDX-License-Identifier: MIT
// mseLoss and l1Loss: values per reduction, errors, gradcheck with respect to input and target.

import { describe, expect, it } from 'vitest';
import {
  gradcheck,
  InvalidArgumentError,
  l1Loss,
  mseLoss,
  ShapeMismatchError,
  tensor,
  zeros,
} from '../../src/index.js';
import { param } from './helpers.js';

describe('losses', () => {
  const input = tensor([1, 2]);
  const target = tensor([1, 4]);

  it('mseLoss', () => {
    expect(mseLoss(input, target).item()).toBe(2);
    expect(mseLoss(input, target, { reduction: 'sum' }).item()).toBe(4);
    expect(mseLoss(input, target, { reduction: 'none' }).toArray()).toEqual([0, 4]);
  });

  it('l1Loss', () => {
    expect(l1Loss(input, target).item()).toBe(1);
    expect(l1Loss(input, target, { reduction: 'sum' }).item()).toBe(2);
    expect(l1Loss(input, target, { reduction: 'none' }).toArray()).toEqual([0, 2]);
  });

  it('errors', () => {
    expect(() => mseLoss(input, zeros([3]))).toThrow(ShapeMismatchError);
    expect(() => mseLoss(input, zeros([3]))).toThrow(
      /mseLoss\(\): expected target of the input's shape \[2\], but got target with shape \[3\]/,
    );
    expect(() => l1Loss(input, target, { reduction: 'avg' as 'mean' })).toThrow(
      /reduction to be 'mean', 'sum' or 'none', but got 'avg'/,
    );
    expect(() => l1Loss(input, target, { reduce: true } as never)).toThrow(InvalidArgumentError);
  });

  it('gradcheck', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expect(gradcheck((a, b) => mseLoss(a, b, { reduction }), [param([2, 3]), param([2, 3])])).toBe(true);
      expect(gradcheck((a, b) => l1Loss(a, b, { reduction }), [param([2, 3]), param([2, 3])])).toBe(true);
    }
  });
});
