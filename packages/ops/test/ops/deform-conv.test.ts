// SPDX-License-Identifier: MIT
// The deformable ops through the native kernels: tvdcn-reference §11 vectors (B, D, E, G), structural
// identities (A1 offset null = convolution, A2 constant mask, A4 offset-group independence, A5 adjoint,
// A6 unbatched, A7 mask activations), gradient pruning at the binding, empty batches.

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  add,
  arange,
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  full,
  grad,
  manualSeed,
  maskSigmoid,
  maskSoftmax1d,
  maskSoftmax2d,
  maskSoftmax3d,
  mul,
  narrow,
  noGrad,
  NotImplementedError,
  ones,
  rand,
  randn,
  sum,
  uniform,
  zeros,
  type DeformConvTransposeOptions,
  type Tensor,
} from '../../src/index.js';
import { getBinding } from '../../src/native/load-binding.js';
import {
  deformConvReference,
  deformConvTransposeReference,
  maskSoftmaxReference,
  type RefTensor,
} from '../reference/deform-conv-reference.js';
import { makeCase } from './deform-cases.js';
import { expectClose, f64 } from './helpers.js';
import { nativeOpsAvailable } from './native-setup.js';

const ready = nativeOpsAvailable();
const conv = { 1: deformConv1d, 2: deformConv2d, 3: deformConv3d } as const;
const convT = { 1: deformConvTranspose1d, 2: deformConvTranspose2d, 3: deformConvTranspose3d } as const;

const rnd = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' });
const dot = (a: Tensor, b: Tensor): number => sum(mul(a, b)).item();

afterEach(() => {
  vi.restoreAllMocks();
});

describe.runIf(ready)('test vectors (tvdcn-reference §11)', () => {
  const img9 = arange(9, undefined, 1, { dtype: 'float64' }).reshape([1, 1, 3, 3]);

  it('B: 2D 1x1 kernel, uniform offset (0.5, 0.25) on img9', () => {
    const offset = zeros([1, 2, 3, 3], { dtype: 'float64' });
    const o = offset.cpuData();
    o.fill(0.5, 0, 9);
    o.fill(0.25, 9, 18);
    const y = deformConv2d(img9, ones([1, 1, 1, 1], { dtype: 'float64' }), { offset });
    expectClose(y, [1.75, 2.75, 2.625, 4.75, 5.75, 4.875, 3.125, 3.625, 3.0], 1e-14);
  });

  describe('D: 3x3 kernel, input arange(16), weight arange(9)', () => {
    const x = arange(16, undefined, 1, { dtype: 'float64' }).reshape([1, 1, 4, 4]);
    const w = arange(9, undefined, 1, { dtype: 'float64' }).reshape([1, 1, 3, 3]);
    it('padding 1, zero offset and offset null', () => {
      const expected = [73, 121, 154, 103, 171, 258, 294, 186, 279, 402, 438, 270, 139, 187, 202, 113];
      expectClose(deformConv2d(x, w, { padding: 1 }), expected, 1e-14);
      expectClose(
        deformConv2d(x, w, { padding: 1, offset: zeros([1, 18, 4, 4], { dtype: 'float64' }) }),
        expected,
        1e-14,
      );
    });
    it('padding 0, offset null', () => {
      expectClose(deformConv2d(x, w), [258, 294, 402, 438], 1e-14);
    });
    it('padding 0, x-offsets +1', () => {
      const offset = zeros([1, 18, 2, 2], { dtype: 'float64' });
      const o = offset.cpuData();
      for (let k = 0; k < 9; k++) o.fill(1, (2 * k + 1) * 4, (2 * k + 2) * 4);
      expectClose(deformConv2d(x, w, { offset }), [294, 186, 438, 270], 1e-14);
    });
    it('padding 0, zero offset, mask 0.5, bias 1', () => {
      const y = deformConv2d(x, w, {
        offset: zeros([1, 18, 2, 2], { dtype: 'float64' }),
        mask: full([1, 9, 2, 2], 0.5, { dtype: 'float64' }),
        bias: f64([1]),
      });
      expectClose(y, [130, 148, 202, 220], 1e-14);
    });
  });

  describe('E: 1D, k = 1, weight 1, input [1, 2, 3, 4]', () => {
    const x = f64([[[1, 2, 3, 4]]]);
    const w = f64([[[1]]]);
    it('offset +0.5, and its offset gradient v[floor + 1] - v[floor]', () => {
      const offset = full([1, 1, 4], 0.5, { dtype: 'float64', requiresGrad: true });
      const y = deformConv1d(x, w, { offset });
      expectClose(y, [1.5, 2.5, 3.5, 2.0], 1e-14);
      sum(y).backward();
      expectClose(offset.grad as Tensor, [1, 1, 1, -4], 1e-14);
    });
    it('offset -0.5', () => {
      expectClose(
        deformConv1d(x, w, { offset: full([1, 1, 4], -0.5, { dtype: 'float64' }) }),
        [0.5, 1.5, 2.5, 3.5],
        1e-14,
      );
    });
  });

  describe('G: 1D transposed, weight ones [1, 1, 3], input [1, 2], stride 2', () => {
    const x = f64([[[1, 2]]]);
    const w = ones([1, 1, 3], { dtype: 'float64' });
    it('no offset', () => {
      expectClose(deformConvTranspose1d(x, w, { stride: 2 }), [1, 1, 3, 2, 2], 1e-14);
    });
    it('offset +0.5', () => {
      const offset = full([1, 3, 2], 0.5, { dtype: 'float64' });
      expectClose(deformConvTranspose1d(x, w, { stride: 2, offset }), [0.5, 1, 2, 2.5, 2], 1e-14);
    });
    it('offset +0.5, outputPadding 1: the padded tail receives mass', () => {
      const offset = full([1, 3, 2], 0.5, { dtype: 'float64' });
      expectClose(deformConvTranspose1d(x, w, { stride: 2, outputPadding: 1, offset }), [0.5, 1, 2, 2.5, 2, 1], 1e-14);
    });
  });

  it('H: the shapes of the tvdcn README examples (and of our TSDoc examples)', () => {
    expect(
      deformConv2d(randn([4, 3, 10, 10]), randn([5, 3, 3, 3]), {
        offset: randn([4, 18, 8, 8]),
        mask: rand([4, 9, 8, 8]),
        bias: randn([5]),
      }).shape,
    ).toEqual([4, 5, 8, 8]);
    expect(
      deformConvTranspose2d(randn([4, 3, 8, 8]), randn([3, 5, 3, 3]), {
        offset: randn([4, 18, 8, 8]),
        mask: rand([4, 9, 8, 8]),
      }).shape,
    ).toEqual([4, 5, 10, 10]);
    expect(
      deformConv3d(randn([4, 3, 10, 10, 10]), randn([5, 3, 3, 3, 3]), { offset: randn([4, 81, 8, 8, 8]) }).shape,
    ).toEqual([4, 5, 8, 8, 8]);
    expect(deformConv1d(randn([4, 3, 10]), randn([5, 3, 3]), { offset: randn([4, 3, 8]) }).shape).toEqual([4, 5, 8]);
    expect(deformConvTranspose1d(randn([2, 3, 8]), randn([3, 5, 3]), { stride: 2 }).shape).toEqual([2, 5, 17]);
    expect(deformConvTranspose3d(randn([1, 2, 4, 4, 4]), randn([2, 3, 3, 3, 3])).shape).toEqual([1, 3, 6, 6, 6]);
  });

  it('A7: mask activations', () => {
    expectClose(maskSoftmax2d(zeros([1, 9, 2, 2], { dtype: 'float64' }), 3), new Array(36).fill(1 / 9), 1e-14);
    expectClose(
      maskSoftmax1d(f64([[[0], [1], [2]]]), 3),
      [0.0900305731703805, 0.2447284710547976, 0.6652409557748218],
      1e-12,
    );
    expectClose(maskSigmoid(zeros([3], { dtype: 'float64' })), [1, 1, 1], 0);
    // Groups are independent: two groups of K = 2, one per position.
    const m = maskSoftmax1d(
      f64([
        [
          [0, 5],
          [0, 5],
          [1, 0],
          [3, 0],
        ],
      ]),
      2,
    ).toArray() as number[][][];
    expect(m[0][0][0] + m[0][1][0]).toBeCloseTo(1, 14);
    expect(m[0][2][1] + m[0][3][1]).toBeCloseTo(1, 14);
    expect(m[0][0][1]).toBeCloseTo(0.5, 14);
    // Unbatched, 3D.
    expectClose(maskSoftmax3d(zeros([8, 1, 2, 1], { dtype: 'float64' }), 2), new Array(16).fill(1 / 8), 1e-14);
  });
});

describe.runIf(ready)('structural identities', () => {
  manualSeed(11);

  for (const dim of [1, 2, 3] as const) {
    it(`A1/A2 dim=${dim}: zero offset + unit mask = offset null; constant mask c scales the convolution`, () => {
      const c = makeCase(dim, false);
      const x = rnd(c.input);
      const w = rnd(c.weight);
      const b = rnd(c.bias);
      const plain = conv[dim](x, w, { ...c.options, bias: b });
      const viaOffset = conv[dim](x, w, {
        ...c.options,
        bias: b,
        offset: zeros(c.offset, { dtype: 'float64' }),
        mask: ones(c.mask, { dtype: 'float64' }),
      });
      expectClose(viaOffset, plain, 1e-12);
      const scaled = conv[dim](x, w, {
        ...c.options,
        offset: zeros(c.offset, { dtype: 'float64' }),
        mask: full(c.mask, 0.25, { dtype: 'float64' }),
      });
      expectClose(scaled, mul(conv[dim](x, w, c.options), 0.25), 1e-12);
    });

    it(`A4 dim=${dim}: offset groups are independent (two halves of the channels)`, () => {
      const c = makeCase(dim, false, { groups: 1, og: 2, mg: 1 });
      const x = rnd(c.input);
      const w = rnd(c.weight);
      const off = uniform(c.offset, -1.5, 1.5, { dtype: 'float64' });
      const opts = { stride: c.options.stride, padding: c.options.padding, dilation: c.options.dilation };
      const whole = conv[dim](x, w, { ...opts, offset: off });
      const half = c.offset[1] / 2;
      const parts = [0, 1].map((g) =>
        conv[dim](narrow(x, 1, 2 * g, 2), narrow(w, 1, 2 * g, 2), {
          ...opts,
          offset: narrow(off, 1, g * half, half),
        }),
      );
      expectClose(whole, add(parts[0], parts[1]), 1e-12);
    });

    it(`A5 dim=${dim}: the transposed op is the adjoint of the regular op (groups 2, offset groups 2)`, () => {
      // Regular op: z [B, 4, ...zSize] → [B, 4, ...xSize]; transposed: x [B, 4, ...xSize] → [B, 4, ...zSize].
      const c = makeCase(dim, false);
      const z = rnd(c.input);
      const w = rnd(c.weight);
      const off = uniform(c.offset, -1.5, 1.5, { dtype: 'float64' });
      const m = rand(c.mask, { dtype: 'float64' });
      const y = conv[dim](z, w, { ...c.options, offset: off, mask: m });
      const x = rnd(c.output);
      const xSize = c.output.slice(2);
      const zSize = c.input.slice(2);
      const k = c.weight.slice(2);
      const { stride, padding, dilation } = c.options;
      const outputPadding = zSize.map(
        (s, i) => s - ((xSize[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + 1),
      );
      const opts: DeformConvTransposeOptions = { ...c.options, outputPadding, offset: off, mask: m };
      const zt = convT[dim](x, w, opts);
      expect(zt.shape).toEqual(z.shape);
      expect(dot(y, x)).toBeCloseTo(dot(z, zt), 9);
    });

    for (const transposed of [false, true]) {
      it(`A6 dim=${dim} ${transposed ? 'transposed' : 'regular'}: unbatched = batched squeezed, values and gradients`, () => {
        const c = makeCase(dim, transposed, { batch: 1 });
        const fn = transposed ? convT[dim] : conv[dim];
        const x = rnd(c.input);
        const w = rnd(c.weight);
        const off = uniform(c.offset, -1.5, 1.5, { dtype: 'float64', requiresGrad: true });
        const m = rand(c.mask, { dtype: 'float64' });
        const b = rnd(c.bias);
        const batched = fn(x, w, { ...c.options, offset: off, mask: m, bias: b });
        sum(mul(batched, batched)).backward();
        const gBatched = (off.grad as Tensor).clone();
        off.grad = null;
        const offU = off.detach().reshape(c.offset.slice(1));
        offU.requiresGrad = true;
        const unbatched = fn(x.reshape(c.input.slice(1)), w, {
          ...c.options,
          offset: offU,
          mask: m.reshape(c.mask.slice(1)),
          bias: b,
        });
        expect(unbatched.shape).toEqual(c.output.slice(1));
        expectClose(unbatched, batched, 1e-13);
        sum(mul(unbatched, unbatched)).backward();
        expect(offU.grad?.shape).toEqual(c.offset.slice(1));
        expectClose(offU.grad as Tensor, gBatched, 1e-12);
      });
    }
  }

  it('an empty batch gives an empty output and zero gradients (no kernel call)', () => {
    const forward = vi.spyOn(getBinding(), 'deformConvForward');
    const x = zeros([0, 2, 5, 5], { requiresGrad: true });
    const w = randn([3, 2, 3, 3], { requiresGrad: true });
    const b = randn([3], { requiresGrad: true });
    const y = deformConv2d(x, w, { bias: b, offset: zeros([0, 18, 3, 3]) });
    expect(y.shape).toEqual([0, 3, 3, 3]);
    sum(y).backward();
    expect(forward).not.toHaveBeenCalled();
    expect(Array.from(w.grad?.toTypedArray() ?? [])).toEqual(new Array(54).fill(0));
    expect(Array.from(b.grad?.toTypedArray() ?? [])).toEqual([0, 0, 0]);
  });

  it('float32 and float64 agree', () => {
    const x = randn([2, 4, 6, 6]);
    const w = randn([4, 2, 3, 3]);
    const off = randn([2, 18, 4, 4]);
    const y32 = deformConv2d(x, w, { groups: 2, offset: off });
    const y64 = deformConv2d(x.to('float64'), w.to('float64'), { groups: 2, offset: off.to('float64') });
    expect(y32.dtype).toBe('float32');
    expectClose(y32, y64, 1e-4);
  });
});

const ref = (t: Tensor | null): RefTensor | null =>
  t === null ? null : { data: Float64Array.from(t.toTypedArray()), shape: [...t.shape] };

describe.runIf(ready)('against the float64 loop reference (test/reference)', () => {
  manualSeed(21);
  const variants = [
    {
      label: 'offset null, mask null: an ordinary convolution (A1)',
      offset: false,
      mask: false,
      og: 1,
      mg: 1,
    },
    { label: 'offset og=2, mask mg=1, bias', offset: true, mask: true, og: 2, mg: 1 },
    { label: 'offset og=1, mask mg=4, bias', offset: true, mask: true, og: 1, mg: 4 },
    { label: 'mask only (masked ordinary convolution)', offset: false, mask: true, og: 1, mg: 2 },
  ];
  for (const transposed of [false, true]) {
    for (const dim of [1, 2, 3] as const) {
      for (const v of variants) {
        const c = makeCase(dim, transposed, { og: v.og, mg: v.mg, inSize: [6, 5, 4].slice(0, dim) });
        it(`${c.name} ${v.label}`, () => {
          const x = rnd(c.input);
          const w = rnd(c.weight);
          const off = v.offset ? uniform(c.offset, -2.5, 2.5, { dtype: 'float64' }) : null;
          const m = v.mask ? rand(c.mask, { dtype: 'float64' }) : null;
          const b = rnd(c.bias);
          const fn = transposed ? convT[dim] : conv[dim];
          const ours = fn(x, w, { ...c.options, offset: off, mask: m, bias: b });
          const expected = (transposed ? deformConvTransposeReference : deformConvReference)(
            ref(x) as RefTensor,
            ref(w) as RefTensor,
            ref(off),
            ref(m),
            ref(b),
            c.options,
          );
          expect(ours.shape).toEqual(expected.shape);
          expectClose(ours, expected.data, 1e-12);
        });
      }
    }
  }

  it('maskSoftmax2d mask=[2,18,3,4] k=3 (two groups)', () => {
    const m = randn([2, 18, 3, 4], { dtype: 'float64' });
    expectClose(maskSoftmax2d(m, 3), maskSoftmaxReference(ref(m) as RefTensor, 2, 9).data, 1e-13);
  });
});

describe.runIf(ready)('gradient pruning at the binding', () => {
  it('a frozen weight: the native backward gets null for the weight (and for the input that needs no grad)', () => {
    const binding = getBinding();
    const spy = vi.spyOn(binding, 'deformConvBackward');
    const x = randn([1, 2, 5, 5]);
    const w = randn([3, 2, 3, 3]);
    const off = randn([1, 18, 3, 3], { requiresGrad: true });
    const m = rand([1, 9, 3, 3], { requiresGrad: true });
    sum(deformConv2d(x, w, { offset: off, mask: m })).backward();
    expect(spy).toHaveBeenCalledTimes(1);
    const grads = spy.mock.calls[0][6];
    expect(grads.input).toBeNull();
    expect(grads.weight).toBeNull();
    expect(grads.bias).toBeNull();
    expect(grads.offset).not.toBeNull();
    expect(grads.mask).not.toBeNull();
  });

  it('double backward through the real kernels is NotImplementedError', () => {
    const x = randn([1, 2, 5, 5], { requiresGrad: true });
    const w = randn([3, 2, 3, 3], { requiresGrad: true });
    const y = deformConv2d(x, w);
    const [gx] = grad(sum(mul(y, y)), [x], null, { createGraph: true });
    expect(gx.shape).toEqual([1, 2, 5, 5]);
    expect(() => sum(gx).backward()).toThrow(NotImplementedError);
  });

  it('noGrad never calls the backward', () => {
    const spy = vi.spyOn(getBinding(), 'deformConvBackward');
    const w = randn([3, 2, 3, 3], { requiresGrad: true });
    const y = noGrad(() => deformConv2d(randn([1, 2, 5, 5]), w));
    expect(y.requiresGrad).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });
});
