// SPDX-License-Identifier: MIT
// deformConv2d against ONNX Runtime's CPU DeformConv (and, without offsets, against ORT Conv): an
// independent implementation of the same operator, reached through a hand-written ONNX model
// (./onnx-model.ts). Seeded random cases; not a gradient test (ORT has no DeformConv gradient).
//
// Tolerances, elementwise on the whole output: |ours - ort| <= ATOL + RTOL * |ort|
//   float32 vs ORT float32  ATOL = RTOL = 2e-5   (both compute in fp32; sums of <= 75 products of
//                                                 values in [-1, 1], so rounding stays below ~5e-6)
//   float64 vs ORT float64  ATOL = RTOL = 1e-12  (ORT 1.30 registers DeformConv for double)
//   float64 (offset null) vs ORT Conv float32: ORT's CPU Conv has no double kernel, so our float64
//     result on the same fp32-representable inputs is compared with the float32 tolerance.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { deformConv2d, tensor, type Tensor } from '../../src/index.js';
import { nativeOpsAvailable } from '../ops/native-setup.js';
import { convModel, convOutputSpatial, deformConvModel, type OnnxDType } from './onnx-model.js';
import { rng } from '../seeded-random.js';

// Like the other native suites: run when the loaded binary has the kernels (native/ built), else skip.
const ready = nativeOpsAvailable();

const TOL = {
  float32: { atol: 2e-5, rtol: 2e-5 },
  float64: { atol: 1e-12, rtol: 1e-12 },
} as const;

// ---------------------------------------------------------------------------------------------------
// Seeded data

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const uniform = (r: () => number, lo: number, hi: number): number => lo + (hi - lo) * r();
const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Values rounded to float32, so that the float32 and float64 runs of a case see identical inputs. */
function f32(values: number[]): Float64Array {
  return Float64Array.from(Float32Array.from(values));
}

function randomValues(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  return f32(Array.from({ length: n }, () => uniform(r, lo, hi)));
}

/**
 * Offsets: mostly continuous in [-2, 2], with some exact integers (samples land on grid points, where
 * the lower corner takes weight 1), some exact halves, and some far outside the image (sample is 0).
 */
function randomOffsets(r: () => number, n: number, inSize: readonly number[]): Float64Array {
  const far = Math.max(...inSize);
  return f32(
    Array.from({ length: n }, () => {
      const u = r();
      if (u < 0.6) return uniform(r, -2, 2);
      if (u < 0.78) return pick(r, [-2, -1, 0, 1, 2]);
      if (u < 0.88) return pick(r, [-1.5, -0.5, 0.5, 1.5]);
      return (r() < 0.5 ? -1 : 1) * (far + 1 + 3 * r());
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Cases

interface Case {
  batch: number;
  inChannels: number;
  outChannels: number;
  inSize: [number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  offsetGroups: number;
  mask: boolean;
  bias: boolean;
}

function outSize(c: Case): number[] {
  return convOutputSpatial({
    inputShape: [c.batch, c.inChannels, ...c.inSize],
    weightShape: [c.outChannels, c.inChannels / c.groups, ...c.kernel],
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
  });
}

const axes = (v: readonly number[]): string => (v[0] === v[1] ? `${v[0]}` : `[${v.join(',')}]`);

function caseName(c: Case, dtype: OnnxDType): string {
  const x = [c.batch, c.inChannels, ...c.inSize];
  const w = [c.outChannels, c.inChannels / c.groups, ...c.kernel];
  return [
    `x=[${x.join(',')}] w=[${w.join(',')}]`,
    `s=${axes(c.stride)} p=${axes(c.padding)} d=${axes(c.dilation)} g=${c.groups} og=${c.offsetGroups}`,
    c.mask ? 'mask' : 'nomask',
    c.bias ? 'bias' : 'nobias',
    dtype === 'float32' ? 'fp32' : 'fp64',
  ].join(' ');
}

const divisors = (n: number, max: number): number[] =>
  Array.from({ length: Math.min(n, max) }, (_, i) => i + 1).filter((d) => n % d === 0);

/** Random valid 2D cases; mask, bias and batch cycle with the index so each appears often. */
function randomCases(count: number, seed: number): Case[] {
  const r = rng(seed);
  const cases: Case[] = [];
  for (let _i = 0; cases.length < count; _i++) {
    const groups = pick(r, [1, 1, 2, 2, 3, 4]);
    const inChannels = groups * pick(r, [1, 2, 3]);
    const outChannels = groups * pick(r, [1, 2, 3]);
    const offsetGroups = pick(r, divisors(inChannels, 4));
    const kernel: [number, number] = r() < 0.6 ? [3, 3] : [pick(r, [1, 2, 3, 4, 5]), pick(r, [1, 2, 3, 4, 5])];
    const stride: [number, number] = r() < 0.5 ? [1, 1] : [pick(r, [1, 2, 3]), pick(r, [1, 2, 3])];
    const padding: [number, number] = [pick(r, [0, 1, 1, 2]), pick(r, [0, 1, 1, 2])];
    const dilation: [number, number] = r() < 0.6 ? [1, 1] : [pick(r, [1, 2]), pick(r, [1, 2, 3])];
    const inSize: [number, number] = [3 + Math.floor(r() * 9), 3 + Math.floor(r() * 9)];
    const c: Case = {
      batch: 1 + (cases.length % 3),
      inChannels,
      outChannels,
      inSize,
      kernel,
      stride,
      padding,
      dilation,
      groups,
      offsetGroups,
      mask: cases.length % 2 === 0,
      bias: Math.floor(cases.length / 2) % 2 === 0,
    };
    if (outSize(c).every((n) => n > 0)) cases.push(c);
  }
  return cases;
}

const fixedCases: Case[] = [
  // The style guide's example name.
  {
    batch: 2,
    inChannels: 4,
    outChannels: 8,
    inSize: [9, 9],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 2,
    offsetGroups: 2,
    mask: true,
    bias: true,
  },
  // tvdcn's speed-test geometry (spec §9.4): stride (1, 2), padding (0, 1), dilation (1, 2), groups 2.
  {
    batch: 1,
    inChannels: 4,
    outChannels: 2,
    inSize: [32, 32],
    kernel: [5, 5],
    stride: [1, 2],
    padding: [0, 1],
    dilation: [1, 2],
    groups: 2,
    offsetGroups: 1,
    mask: true,
    bias: true,
  },
  // Offset groups = channels (one offset field per channel), depthwise-like weight groups.
  {
    batch: 3,
    inChannels: 4,
    outChannels: 4,
    inSize: [7, 6],
    kernel: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 4,
    offsetGroups: 4,
    mask: false,
    bias: true,
  },
  // 1x1 kernel: pure bilinear resampling.
  {
    batch: 1,
    inChannels: 3,
    outChannels: 2,
    inSize: [6, 8],
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
    offsetGroups: 3,
    mask: true,
    bias: false,
  },
];

const CASES: Case[] = [...fixedCases, ...randomCases(52, 20240611)];

// ---------------------------------------------------------------------------------------------------
// Running both sides

interface CaseData {
  x: Float64Array;
  w: Float64Array;
  offset: Float64Array;
  mask: Float64Array | null;
  bias: Float64Array | null;
}

function caseData(c: Case, seed: number): CaseData {
  const r = rng(seed);
  const out = outSize(c);
  const K = prod(c.kernel);
  const P = prod(out);
  return {
    x: randomValues(r, c.batch * c.inChannels * prod(c.inSize)),
    w: randomValues(r, c.outChannels * (c.inChannels / c.groups) * K),
    offset: randomOffsets(r, c.batch * c.offsetGroups * K * 2 * P, c.inSize),
    mask: c.mask ? randomValues(r, c.batch * c.offsetGroups * K * P, 0, 1) : null,
    bias: c.bias ? randomValues(r, c.outChannels) : null,
  };
}

function shapes(c: Case) {
  const out = outSize(c);
  const K = prod(c.kernel);
  return {
    x: [c.batch, c.inChannels, ...c.inSize],
    w: [c.outChannels, c.inChannels / c.groups, ...c.kernel],
    offset: [c.batch, c.offsetGroups * K * 2, ...out],
    mask: [c.batch, c.offsetGroups * K, ...out],
    bias: [c.outChannels],
    y: [c.batch, c.outChannels, ...out],
  };
}

function typed(values: Float64Array, dtype: OnnxDType): Float32Array | Float64Array {
  return dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
}

function ours(
  c: Case,
  d: CaseData,
  dtype: OnnxDType,
  opts: { offset: boolean; mask: boolean },
): { values: Float32Array | Float64Array; shape: readonly number[] } {
  const s = shapes(c);
  const t = (v: Float64Array, shape: number[]): Tensor => tensor(typed(v, dtype), { shape, dtype });
  const created: Tensor[] = [];
  const keep = (x: Tensor): Tensor => {
    created.push(x);
    return x;
  };
  try {
    const y = keep(
      deformConv2d(keep(t(d.x, s.x)), keep(t(d.w, s.w)), {
        offset: opts.offset ? keep(t(d.offset, s.offset)) : null,
        mask: opts.mask && d.mask ? keep(t(d.mask, s.mask)) : null,
        bias: d.bias ? keep(t(d.bias, s.bias)) : null,
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        groups: c.groups,
      }),
    );
    return { values: y.toTypedArray().slice(), shape: [...y.shape] };
  } finally {
    for (const x of created) x.dispose();
  }
}

async function ortRun(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    return (await session.run(feeds)).Y;
  } finally {
    await session.release();
  }
}

/** ORT DeformConv; `zeroOffset` replaces the offsets by zeros (the ordinary-conv sampling grid). */
async function ortDeformConv(c: Case, d: CaseData, dtype: OnnxDType, zeroOffset = false): Promise<ort.Tensor> {
  const s = shapes(c);
  const T = (v: Float64Array, shape: number[]) => new ort.Tensor(dtype, typed(v, dtype), shape);
  const feeds: Record<string, ort.Tensor> = {
    X: T(d.x, s.x),
    W: T(d.w, s.w),
    offset: T(zeroOffset ? new Float64Array(d.offset.length) : d.offset, s.offset),
  };
  if (d.bias) feeds.B = T(d.bias, s.bias);
  if (d.mask) feeds.mask = T(d.mask, s.mask);
  const model = deformConvModel({
    dtype,
    inputShape: s.x,
    weightShape: s.w,
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
    groups: c.groups,
    offsetGroups: c.offsetGroups,
    bias: d.bias !== null,
    mask: d.mask !== null,
  });
  return ortRun(model, feeds);
}

/** ORT Conv (float32 only: ORT's CPU Conv has no double kernel). */
async function ortConv(c: Case, d: CaseData): Promise<ort.Tensor> {
  const s = shapes(c);
  const T = (v: Float64Array, shape: number[]) => new ort.Tensor('float32', Float32Array.from(v), shape);
  const feeds: Record<string, ort.Tensor> = { X: T(d.x, s.x), W: T(d.w, s.w) };
  if (d.bias) feeds.B = T(d.bias, s.bias);
  const model = convModel({
    dtype: 'float32',
    inputShape: s.x,
    weightShape: s.w,
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
    groups: c.groups,
    bias: d.bias !== null,
  });
  return ortRun(model, feeds);
}

/** Asserts the elementwise tolerance and reports the worst element by index when it fails. */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  shape: readonly number[],
  tol: { atol: number; rtol: number },
): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    maxAbs = Math.max(maxAbs, diff);
    const excess = diff - (tol.atol + tol.rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const idx: number[] = [];
    let rest = worst;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx.unshift(rest % shape[a]);
      rest = Math.floor(rest / shape[a]);
    }
    expect.fail(
      `output[${idx.join(',')}]: ours ${actual[worst]}, ORT ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst])}, max |diff| ${maxAbs}, ` +
        `tolerance ${tol.atol} + ${tol.rtol} * |ORT|)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Tests

describe('onnx model writer', () => {
  it('ORT DeformConv with zero offsets equals ORT Conv (float32)', async () => {
    const c = fixedCases[0];
    const d = { ...caseData(c, 1), mask: null };
    const a = await ortDeformConv(c, d, 'float32', true);
    const b = await ortConv(c, d);
    expect(a.dims).toEqual(shapes(c).y);
    expectClose(a.data as Float32Array, b.data as Float32Array, a.dims, TOL.float32);
  });
});

describe.runIf(ready)('deformConv2d vs ORT DeformConv', () => {
  it('covers the required configurations', () => {
    const count = (f: (c: Case) => boolean) => CASES.filter(f).length;
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(count((c) => c.groups > 1)).toBeGreaterThanOrEqual(10);
    expect(count((c) => c.offsetGroups > 1)).toBeGreaterThanOrEqual(10);
    expect(count((c) => c.stride.some((s) => s > 1))).toBeGreaterThanOrEqual(10);
    expect(count((c) => c.dilation.some((s) => s > 1))).toBeGreaterThanOrEqual(10);
    expect(count((c) => c.padding.some((s) => s > 0))).toBeGreaterThanOrEqual(10);
    expect(count((c) => !c.mask)).toBeGreaterThanOrEqual(10);
    expect(count((c) => !c.bias)).toBeGreaterThanOrEqual(10);
    expect(count((c) => c.batch === 3)).toBeGreaterThanOrEqual(10);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    CASES.forEach((c, i) => {
      it(caseName(c, dtype), async () => {
        const d = caseData(c, 1000 + i);
        const expected = await ortDeformConv(c, d, dtype);
        const actual = ours(c, d, dtype, { offset: true, mask: true });
        expect(actual.shape).toEqual(expected.dims);
        expect(actual.values).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
        expectClose(actual.values, expected.data as Float32Array | Float64Array, expected.dims, TOL[dtype]);
      });
    });
  }
});

describe.runIf(ready)('deformConv2d with offset null vs ORT Conv and zero-offset DeformConv', () => {
  const convCases = CASES.slice(0, 16);
  convCases.forEach((c, i) => {
    const name = caseName({ ...c, offsetGroups: 1, mask: false }, 'float32').replace(' og=1 nomask', ' offset=null');
    it(`${name} vs ORT Conv`, async () => {
      const d = { ...caseData(c, 2000 + i), mask: null };
      const expected = await ortConv(c, d);
      const actual = ours(c, d, 'float32', { offset: false, mask: false });
      expect(actual.shape).toEqual(expected.dims);
      expectClose(actual.values, expected.data as Float32Array, expected.dims, TOL.float32);
    });
    it(`${name.replace(' fp32', ' fp64')} vs ORT Conv fp32 (fp32 tolerance)`, async () => {
      const d = { ...caseData(c, 2000 + i), mask: null };
      const expected = await ortConv(c, d);
      const actual = ours(c, d, 'float64', { offset: false, mask: false });
      expectClose(actual.values, expected.data as Float32Array, expected.dims, TOL.float32);
    });
    it(`${name.replace(' fp32', ' fp64')} vs ORT DeformConv fp64 with zero offsets`, async () => {
      const d = { ...caseData(c, 2000 + i), mask: null };
      const expected = await ortDeformConv(c, d, 'float64', true);
      const actual = ours(c, d, 'float64', { offset: false, mask: false });
      expectClose(actual.values, expected.data as Float64Array, expected.dims, TOL.float64);
    });
  });

  // A mask without offsets is a masked ordinary convolution: ORT DeformConv with zero offsets.
  CASES.filter((c) => c.mask)
    .slice(0, 6)
    .forEach((c, i) => {
      for (const dtype of ['float32', 'float64'] as const) {
        const name = caseName(c, dtype).replace(/ og=(\d+) mask/, ' offset=null mask mg=$1');
        it(`${name} vs ORT DeformConv with zero offsets`, async () => {
          const d = caseData(c, 3000 + i);
          const expected = await ortDeformConv(c, d, dtype, true);
          const actual = ours(c, d, dtype, { offset: false, mask: true });
          expectClose(actual.values, expected.data as Float32Array | Float64Array, expected.dims, TOL[dtype]);
        });
      }
    });
});

describe.runIf(!ready)('native kernels', () => {
  it.skip('skipped: the loaded binary has no deformConvForward (build native/ first)', () => {});
});
