// Every layer against the functional op it wraps, with the same weights: the layers add no maths of their
// own (tvdcn-reference §7, §11 A1 and A8), plus padding modes, 'same'/'valid' and outputSize.
import {
  type Tensor,
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  full,
  manualSeed,
  maskSigmoid,
  maskSoftmax1d,
  maskSoftmax2d,
  maskSoftmax3d,
  pad,
  rand,
  randn,
  sum,
  tanh,
} from '@tvdcn/ops';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DeformConv1d,
  DeformConv2d,
  DeformConv3d,
  DeformConvTranspose1d,
  DeformConvTranspose2d,
  DeformConvTranspose3d,
  MaskSigmoid,
  MaskSoftmax2d,
  PackedDeformConv1d,
  PackedDeformConv2d,
  PackedDeformConv3d,
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
  Tanh,
  uniform_,
} from '../src/index.js';
import { SKIP_REASON, nativeOpsAvailable } from './native.js';

const ready = nativeOpsAvailable();

type Dim = 1 | 2 | 3;
type Op = typeof deformConv2d;
type TransposeOp = typeof deformConvTranspose2d;
const OPS: Record<Dim, Op> = { 1: deformConv1d, 2: deformConv2d, 3: deformConv3d };
const TRANSPOSE_OPS: Record<Dim, TransposeOp> = {
  1: deformConvTranspose1d,
  2: deformConvTranspose2d,
  3: deformConvTranspose3d,
};
const MASK_SOFTMAX = { 1: maskSoftmax1d, 2: maskSoftmax2d, 3: maskSoftmax3d } as const;
const DEFORM = { 1: DeformConv1d, 2: DeformConv2d, 3: DeformConv3d } as const;
const TRANSPOSED = { 1: DeformConvTranspose1d, 2: DeformConvTranspose2d, 3: DeformConvTranspose3d } as const;
const PACKED = { 1: PackedDeformConv1d, 2: PackedDeformConv2d, 3: PackedDeformConv3d } as const;
const PACKED_TRANSPOSED = {
  1: PackedDeformConvTranspose1d,
  2: PackedDeformConvTranspose2d,
  3: PackedDeformConvTranspose3d,
} as const;

/** Spatial sizes per dim, small enough for 3D. */
const SIZES: Record<Dim, number[]> = { 1: [9], 2: [7, 8], 3: [5, 6, 5] };

function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray());
}

/** Element-wise |a - b| <= atol + rtol |b|, and equal shapes. */
function expectClose(actual: Tensor, expected: Tensor, atol = 1e-10, rtol = 1e-10): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toTypedArray();
  const b = expected.toTypedArray();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) - rtol * Math.abs(b[i]));
  expect(worst).toBeLessThanOrEqual(atol);
}

/** Randomises every parameter of a module (so that zero-initialised generators do something). */
function randomise(params: Tensor[]): void {
  for (const p of params) uniform_(p, -0.5, 0.5);
}

beforeEach(() => manualSeed(20_240_601));

describe.runIf(ready).each([1, 2, 3] as const)('dim=%i', (dim) => {
  const inSize = SIZES[dim];
  const k = [3, 2, 3].slice(0, dim);
  const K = k.reduce((a, b) => a * b, 1);
  const opts = { dtype: 'float64' as const };

  it(`DeformConv${dim}d = deformConv${dim}d with its weight, bias and hyper-parameters`, () => {
    const conv = new DEFORM[dim](4, 6, k, {
      stride: 2,
      padding: 1,
      dilation: [1, 2, 1].slice(0, dim),
      groups: 2,
      ...opts,
    });
    const x = randn([2, 4, ...inSize], opts);
    const outSize = inSize.map((s, i) => Math.floor((s + 2 - conv.dilation[i] * (k[i] - 1) - 1) / 2) + 1);
    const offset = randn([2, 2 * dim * K, ...outSize], opts);
    const mask = rand([2, K, ...outSize], opts);
    const expected = OPS[dim](x, conv.weight, {
      offset,
      mask,
      bias: conv.bias,
      stride: 2,
      padding: 1,
      dilation: [...conv.dilation],
      groups: 2,
    });
    expect(values(conv.forward(x, offset, mask))).toEqual(values(expected));
    // offset only, and nothing (the ordinary convolution)
    expect(values(conv.forward(x, offset))).toEqual(
      values(
        OPS[dim](x, conv.weight, {
          offset,
          bias: conv.bias,
          stride: 2,
          padding: 1,
          dilation: [...conv.dilation],
          groups: 2,
        }),
      ),
    );
    expect(values(conv.forward(x))).toEqual(
      values(
        OPS[dim](x, conv.weight, { bias: conv.bias, stride: 2, padding: 1, dilation: [...conv.dilation], groups: 2 }),
      ),
    );
  });

  it(`DeformConvTranspose${dim}d = deformConvTranspose${dim}d, with outputPadding and outputSize`, () => {
    const conv = new TRANSPOSED[dim](4, 6, k, { stride: 2, padding: 1, outputPadding: 1, groups: 2, ...opts });
    const x = randn([2, 4, ...inSize], opts);
    const offset = randn([2, dim * K, ...inSize], opts);
    const mask = rand([2, K, ...inSize], opts);
    const expected = TRANSPOSE_OPS[dim](x, conv.weight, {
      offset,
      mask,
      bias: conv.bias,
      stride: 2,
      padding: 1,
      outputPadding: 1,
      groups: 2,
    });
    expect(values(conv.forward(x, offset, mask))).toEqual(values(expected));
    // outputSize picks the output padding: the smallest size means outputPadding 0
    const smallest = inSize.map((s, i) => (s - 1) * 2 - 2 + (k[i] - 1) + 1);
    const out = conv.forward(x, offset, mask, smallest);
    expect(out.shape).toEqual([2, 6, ...smallest]);
    expect(values(out)).toEqual(
      values(TRANSPOSE_OPS[dim](x, conv.weight, { offset, mask, bias: conv.bias, stride: 2, padding: 1, groups: 2 })),
    );
    expect(conv.forward(x, offset, mask, [2, 6, ...smallest]).shape).toEqual([2, 6, ...smallest]);
    expect(() =>
      conv.forward(
        x,
        offset,
        mask,
        smallest.map((s) => s + 2),
      ),
    ).toThrow(
      new RegExp(
        `DeformConvTranspose${dim}d\\.forward\\(\\): requested an output size of .*, but valid sizes range from`,
      ),
    );
  });

  it(`PackedDeformConv${dim}d = deformConv${dim}d with the generated offset and mask`, () => {
    const conv = new PACKED[dim](4, 6, k, {
      padding: 1,
      groups: 2,
      offsetGroups: 2,
      maskGroups: 1,
      modulated: true,
      generatorBias: true,
      offsetActivation: new Tanh(),
      maskActivation: 'softmax',
      ...opts,
    });
    randomise(conv.parameters());
    const x = randn([2, 4, ...inSize], opts);
    const generate = (w: Tensor, b: Tensor | null, groups: number) => OPS[dim](x, w, { bias: b, padding: 1, groups });
    const offset = tanh(generate(conv.offsetGenerator!.weight, conv.offsetGenerator!.bias, 2));
    const mask = MASK_SOFTMAX[dim](generate(conv.maskGenerator!.weight, conv.maskGenerator!.bias, 1), k);
    const expected = OPS[dim](x, conv.weight, { offset, mask, bias: conv.bias, padding: 1, groups: 2 });
    expect(values(conv.forward(x))).toEqual(values(expected));
  });

  it(`PackedDeformConvTranspose${dim}d = deformConvTranspose${dim}d with pointwise-generated offset and mask`, () => {
    const conv = new PACKED_TRANSPOSED[dim](4, 2, k, {
      stride: 2,
      modulated: true,
      maskGroups: 2,
      offsetActivation: (t) => tanh(t),
      ...opts,
    });
    randomise(conv.parameters());
    const x = randn([1, 4, ...inSize], opts);
    const offset = tanh(OPS[dim](x, conv.offsetGenerator!.weight));
    const mask = maskSigmoid(OPS[dim](x, conv.maskGenerator!.weight, { groups: 2 }));
    expect(offset.shape).toEqual([1, dim * K, ...inSize]);
    const expected = TRANSPOSE_OPS[dim](x, conv.weight, { offset, mask, bias: conv.bias, stride: 2 });
    expect(values(conv.forward(x))).toEqual(values(expected));
    const size = inSize.map((s, i) => (s - 1) * 2 + k[i] + 1);
    expect(conv.forward(x, size).shape).toEqual([1, 2, ...size]);
  });

  describe('packed layers at initialisation (§11 A8)', () => {
    const x = () => randn([2, 4, ...inSize], opts);

    it.each([
      ['deformable only', { modulated: false }],
      ['modulated, sigmoid', { modulated: true, maskActivation: 'sigmoid' as const }],
    ])('%s: the plain convolution', (_, extra) => {
      const input = x();
      const packed = new PACKED[dim](4, 6, k, { padding: 1, ...extra, ...opts });
      const plain = OPS[dim](input, packed.weight, { bias: packed.bias, padding: 1 });
      expectClose(packed.forward(input), plain);
      const transposed = new PACKED_TRANSPOSED[dim](4, 6, k, { stride: 2, ...extra, ...opts });
      expectClose(
        transposed.forward(input),
        TRANSPOSE_OPS[dim](input, transposed.weight, { bias: transposed.bias, stride: 2 }),
      );
    });

    it('modulated, softmax: mask 1/K, the plain convolution scaled by 1/K (plus bias)', () => {
      const input = x();
      const packed = new PACKED[dim](4, 6, k, { modulated: true, maskActivation: 'softmax', bias: false, ...opts });
      const plain = OPS[dim](input, packed.weight);
      const scaled = full(plain.shape, 0, opts);
      scaled.cpuData().set(plain.toTypedArray().map((v) => v / K));
      expectClose(packed.forward(input), scaled);
    });

    it('modulated, no mask activation: mask 0, the output is the bias alone', () => {
      const packed = new PACKED[dim](4, 6, k, { modulated: true, maskActivation: null, ...opts });
      const out = packed.forward(x());
      const bias = values(packed.bias!);
      const perChannel = out.numel / (2 * 6);
      out.toTypedArray().forEach((v, i) => {
        expect(v).toBe(bias[Math.floor(i / perChannel) % 6]);
      });
    });
  });

  it('unbatched inputs give the batched result without the batch', () => {
    const conv = new PACKED[dim](3, 2, k, { modulated: true, ...opts });
    randomise(conv.parameters());
    const input = randn([1, 3, ...inSize], opts);
    const batched = conv.forward(input);
    const unbatched = conv.forward(input.reshape([3, ...inSize]));
    expect(unbatched.shape).toEqual(batched.shape.slice(1));
    expect(values(unbatched)).toEqual(values(batched));
  });
});

describe.runIf(ready)('padding', () => {
  it.each(['reflect', 'replicate', 'circular'] as const)(
    'paddingMode %s pads the input, then convolves without padding',
    (mode) => {
      const conv = new DeformConv2d(3, 4, 3, { padding: [1, 2], paddingMode: mode, dtype: 'float64' });
      const x = randn([2, 3, 6, 7], { dtype: 'float64' });
      const offset = randn([2, 18, 6, 9], { dtype: 'float64' });
      const expected = deformConv2d(pad(x, [2, 2, 1, 1], mode), conv.weight, { offset, bias: conv.bias });
      const out = conv.forward(x, offset);
      expect(out.shape).toEqual([2, 4, 6, 9]);
      expect(values(out)).toEqual(values(expected));
    },
  );

  it('packed layers: the generators pad with zeros, the main convolution per paddingMode', () => {
    const conv = new PackedDeformConv2d(3, 4, 3, {
      padding: 1,
      paddingMode: 'replicate',
      modulated: true,
      dtype: 'float64',
    });
    randomise(conv.parameters());
    const x = randn([1, 3, 5, 5], { dtype: 'float64' });
    const offset = deformConv2d(x, conv.offsetGenerator!.weight, { padding: 1 });
    const mask = maskSigmoid(deformConv2d(x, conv.maskGenerator!.weight, { padding: 1 }));
    const expected = deformConv2d(pad(x, [1, 1, 1, 1], 'replicate'), conv.weight, { offset, mask, bias: conv.bias });
    expect(values(conv.forward(x))).toEqual(values(expected));
  });

  it.each([
    ['odd kernel (symmetric)', [3, 5], [1, 1]],
    ['even kernel (one more at the end)', [4, 2], [1, 1]],
    ['even kernel, dilation 3', [2, 4], [3, 1]],
  ])("'same', %s: output size = input size, as padding the input by PyTorch's amounts", (_, k, d) => {
    const conv = new DeformConv2d(2, 3, k, { padding: 'same', dilation: d, dtype: 'float64' });
    const x = randn([2, 2, 7, 8], { dtype: 'float64' });
    const offset = randn([2, 2 * k[0] * k[1], 7, 8], { dtype: 'float64' });
    const total = k.map((size, i) => d[i] * (size - 1));
    const left = total.map((t) => Math.floor(t / 2));
    const right = total.map((t, i) => t - left[i]);
    const expected = deformConv2d(pad(x, [left[1], right[1], left[0], right[0]]), conv.weight, {
      offset,
      bias: conv.bias,
      dilation: d,
    });
    const out = conv.forward(x, offset);
    expect(out.shape).toEqual([2, 3, 7, 8]);
    expectClose(out, expected);
    // the same through the packed layer and its generator (itself a 'same' convolution)
    const packed = new PackedDeformConv2d(2, 3, k, { padding: 'same', dilation: d, dtype: 'float64' });
    expect(packed.forward(x).shape).toEqual([2, 3, 7, 8]);
  });

  it("'same' with a non-zeros padding mode pads the input asymmetrically with that mode", () => {
    const conv = new DeformConv1d(2, 2, 4, { padding: 'same', paddingMode: 'circular', dtype: 'float64' });
    const x = randn([1, 2, 6], { dtype: 'float64' });
    expect(values(conv.forward(x))).toEqual(
      values(deformConv1d(pad(x, [1, 2], 'circular'), conv.weight, { bias: conv.bias })),
    );
  });

  it("'valid' is no padding", () => {
    const conv = new DeformConv3d(2, 2, 3, { padding: 'valid', dtype: 'float64' });
    const x = randn([1, 2, 5, 5, 5], { dtype: 'float64' });
    expect(values(conv.forward(x))).toEqual(values(deformConv3d(x, conv.weight, { bias: conv.bias })));
  });
});

describe.runIf(ready)('training through the layers', () => {
  it('gradients reach every parameter of a packed layer (generators included)', () => {
    const conv = new PackedDeformConv2d(3, 4, 3, { padding: 1, modulated: true, generatorBias: true });
    const loss = sum(conv.forward(randn([2, 3, 6, 6])));
    loss.backward();
    for (const [name, p] of conv.namedParameters()) expect(p.grad, name).not.toBeNull();
  });

  it('mask activation modules are the functional ops', () => {
    const mask = randn([2, 18, 4, 4], { dtype: 'float64' });
    expect(values(new MaskSoftmax2d(3).forward(mask))).toEqual(values(maskSoftmax2d(mask, 3)));
    expect(values(new MaskSoftmax2d(3).forward(mask, [1, 9]))).toEqual(values(maskSoftmax2d(mask, [1, 9])));
    expect(values(new MaskSigmoid(3).forward(mask))).toEqual(values(maskSigmoid(mask, 3)));
  });
});

describe.runIf(!ready)('layers forward', () => {
  it.skip(SKIP_REASON, () => {});
});
