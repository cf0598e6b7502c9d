// SPDX-License-Identifier: MIT
// The packed layers dispose their generated offset and mask (and the raw generator outputs) once the
// convolution has them, instead of leaving them to the garbage collector; the gradients are unchanged.

import { manualSeed, memory, randn, sum, tidy } from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import { PackedDeformConv2d, PackedDeformConvTranspose2d } from '../src/index.js';

describe('packed layers leave no intermediate tensors', () => {
  it.each([
    ['PackedDeformConv2d', () => new PackedDeformConv2d(3, 4, 3, { padding: 1, modulated: true, generatorBias: true })],
    ['PackedDeformConvTranspose2d', () => new PackedDeformConvTranspose2d(3, 4, 3, { modulated: true })],
  ])('%s: forward leaves only its output; backward gives the same gradients as inside tidy()', (_, make) => {
    manualSeed(1);
    const layer = make();
    const x = randn([2, 3, 6, 6]);
    const before = memory().tensors;
    const y = layer.forward(x);
    expect(memory().tensors - before).toBe(1);
    sum(y.square()).backward();
    const grads = layer.parameters().map((p) => Array.from(p.grad?.toTypedArray() ?? []));
    expect(grads.every((g) => g.length > 0 && g.some((v) => v !== 0))).toBe(true);
    layer.zeroGrad();
    tidy(() => sum(layer.forward(x).square()).backward());
    layer.parameters().forEach((p, i) => {
      expect(Array.from(p.grad?.toTypedArray() ?? [])).toEqual(grads[i]);
    });
  });
});
