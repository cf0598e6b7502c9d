// SPDX-License-Identifier: MIT
// gradcheck in float64 of every deformable op and dim: groups > 1, offsetGroups != maskGroups,
// stride/padding/dilation != 1, unbatched, and each of offset, mask and bias absent; plus the mask
// activations. Offsets are uniform in (-1.5, 1.5): sampling positions are almost surely not on grid
// lines, where the interpolation is not differentiable.

import { describe, expect, it } from 'vitest';
import {
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  grad,
  gradcheck,
  manualSeed,
  maskSigmoid,
  maskSoftmax1d,
  maskSoftmax2d,
  maskSoftmax3d,
  mul,
  rand,
  randn,
  sum,
  uniform,
  type DeformConvTransposeOptions,
  type Tensor,
} from '../../src/index.js';
import { makeCase } from './deform-cases.js';
import { nativeOpsAvailable } from './native-setup.js';

const ready = nativeOpsAvailable();
const ops = {
  false: { 1: deformConv1d, 2: deformConv2d, 3: deformConv3d },
  true: { 1: deformConvTranspose1d, 2: deformConvTranspose2d, 3: deformConvTranspose3d },
} as const;

const variants = [
  { label: 'offset mask bias', og: 2, mg: 1, offset: true, mask: true, bias: true },
  { label: 'og=1 mg=2 offset mask bias', og: 1, mg: 2, offset: true, mask: true, bias: true },
  {
    label: 'unbatched offset mask bias',
    og: 2,
    mg: 1,
    offset: true,
    mask: true,
    bias: true,
    unbatched: true,
  },
  { label: 'no offset (mask bias)', og: 2, mg: 2, offset: false, mask: true, bias: true },
  { label: 'no mask (offset bias)', og: 2, mg: 1, offset: true, mask: false, bias: true },
  { label: 'no bias (offset mask)', og: 1, mg: 1, offset: true, mask: true, bias: false },
] as const;

/** Small spatial sizes: gradcheck costs two forwards per input element. */
const SIZES = { 1: [5], 2: [5, 6], 3: [3, 4, 3] } as const;

describe.runIf(ready)('gradcheck of the deformable convolutions (float64)', () => {
  for (const transposed of [false, true] as const) {
    for (const dim of [1, 2, 3] as const) {
      for (const v of variants) {
        const c = makeCase(dim, transposed, {
          batch: 1,
          groups: 2,
          og: v.og,
          mg: v.mg,
          inSize: [...SIZES[dim]],
        });
        it(`${c.name} ${v.label}`, () => {
          manualSeed(dim * 100 + variants.indexOf(v));
          const strip = (shape: number[]) => ('unbatched' in v ? shape.slice(1) : shape);
          const inputs: Tensor[] = [
            randn(strip(c.input), { dtype: 'float64', requiresGrad: true }),
            randn(c.weight, { dtype: 'float64', requiresGrad: true }),
          ];
          const names = ['input', 'weight'];
          if (v.offset) {
            inputs.push(uniform(strip(c.offset), -1.5, 1.5, { dtype: 'float64', requiresGrad: true }));
            names.push('offset');
          }
          if (v.mask) {
            inputs.push(rand(strip(c.mask), { dtype: 'float64', requiresGrad: true }));
            names.push('mask');
          }
          if (v.bias) {
            inputs.push(randn(c.bias, { dtype: 'float64', requiresGrad: true }));
            names.push('bias');
          }
          const fn = (...ts: Tensor[]): Tensor => {
            const opts: DeformConvTransposeOptions = { ...c.options };
            names.forEach((n, i) => {
              if (n === 'offset') opts.offset = ts[i];
              if (n === 'mask') opts.mask = ts[i];
              if (n === 'bias') opts.bias = ts[i];
            });
            return ops[`${transposed}`][dim](ts[0], ts[1], opts);
          };
          expect(gradcheck(fn, inputs)).toBe(true);
        });
      }
    }
  }
});

describe.runIf(ready)('gradcheck of the mask activations (float64)', () => {
  manualSeed(5);
  it('maskSoftmax1d mask=[2,6,4] k=3 (two groups)', () => {
    expect(gradcheck((m) => maskSoftmax1d(m, 3), [randn([2, 6, 4], { dtype: 'float64', requiresGrad: true })])).toBe(
      true,
    );
  });
  it('maskSoftmax2d mask=[12,2,3] k=[2,3] unbatched', () => {
    expect(
      gradcheck((m) => maskSoftmax2d(m, [2, 3]), [randn([12, 2, 3], { dtype: 'float64', requiresGrad: true })]),
    ).toBe(true);
  });
  it('maskSoftmax3d mask=[1,16,2,1,2] k=2 (two groups)', () => {
    expect(
      gradcheck((m) => maskSoftmax3d(m, 2), [randn([1, 16, 2, 1, 2], { dtype: 'float64', requiresGrad: true })]),
    ).toBe(true);
  });
  it('maskSoftmax2d mask=[1,8,2,2] k=2: gradient of the gradient (the createGraph formula)', () => {
    const m = randn([1, 8, 2, 2], { dtype: 'float64', requiresGrad: true });
    const v = randn([1, 8, 2, 2], { dtype: 'float64' });
    const first = (t: Tensor): Tensor => grad(sum(mul(maskSoftmax2d(t, 2), v)), [t], null, { createGraph: true })[0];
    expect(gradcheck(first, [m])).toBe(true);
  });
  it('maskSigmoid scale 2 and 0.5', () => {
    const m = randn([2, 9, 3], { dtype: 'float64', requiresGrad: true });
    expect(gradcheck((t) => maskSigmoid(t), [m])).toBe(true);
    expect(gradcheck((t) => maskSigmoid(t, 0.5), [m])).toBe(true);
  });
});
