// SPDX-License-Identifier: MIT
// A packed layer given a wrong input names the layer and its input (the offset generator runs first, and
// used to report its own weight's shape as if it were the layer's).
import { InvalidArgumentError, ShapeMismatchError, randn } from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import {
  PackedDeformConv1d,
  PackedDeformConv2d,
  PackedDeformConv3d,
  PackedDeformConvTranspose2d,
} from '../src/index.js';

describe('packed layers: errors about the input name the layer', () => {
  it('wrong channel count (batched and unbatched)', () => {
    const layer = new PackedDeformConv2d(3, 8, 3, { padding: 1, modulated: true });
    const batched = () => layer.forward(randn([2, 4, 8, 8]));
    expect(batched).toThrow(ShapeMismatchError);
    expect(batched).toThrow(
      'PackedDeformConv2d.forward(): expected input.shape[1] (inChannels) to equal 3, but got input with shape [2, 4, 8, 8]',
    );
    expect(() => layer.forward(randn([5, 8, 8]))).toThrow(
      'PackedDeformConv2d.forward(): expected input.shape[0] (inChannels) to equal 3, but got input with shape [5, 8, 8]',
    );
    // Nothing about the generator's weight [18, 3, 3, 3] or [9, 3, 3, 3].
    expect(batched).not.toThrow(/weight|18|\[9, /);
  });

  it('wrong number of dimensions, and a non-tensor', () => {
    expect(() => new PackedDeformConv1d(2, 2, 3).forward(randn([1, 2, 3, 9]))).toThrow(
      'PackedDeformConv1d.forward(): expected input to have 2 (unbatched) or 3 (batched) dimensions [batch?, inChannels, L], but got input with shape [1, 2, 3, 9]',
    );
    expect(() => new PackedDeformConv3d(2, 2, 1).forward(randn([2, 5]))).toThrow(
      /^PackedDeformConv3d\.forward\(\): expected input to have 4 \(unbatched\) or 5 \(batched\) dimensions \[batch\?, inChannels, D, H, W\]/,
    );
    const notTensor = () => new PackedDeformConv2d(3, 8, 3).forward([1, 2, 3] as never);
    expect(notTensor).toThrow(InvalidArgumentError);
    expect(notTensor).toThrow(/^PackedDeformConv2d\.forward\(\): expected input to be a Tensor, but got/);
  });

  it('the transposed packed layer too', () => {
    expect(() => new PackedDeformConvTranspose2d(3, 8, 3).forward(randn([2, 4, 8, 8]))).toThrow(
      'PackedDeformConvTranspose2d.forward(): expected input.shape[1] (inChannels) to equal 3, but got input with shape [2, 4, 8, 8]',
    );
  });
});
