// SPDX-License-Identifier: MIT
// The two CPU kernel families against each other: the channels-last column pass (3D forward, every
// backward and transposed forward) and the planar kernels of kernels.h that it replaced, which now only
// run for planes of 2^31 positions or more, reached here with the test hook _setForcePlanar. On random
// configurations of every dim, regular and transposed, larger than the reference suites can afford
// (channel runs past the vector widths, several column tiles), with offsets that hit integer positions
// and the border exactly: the forward output and all five gradients agree to float64 rounding.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeTensor } from '../../src/native/binding.js';
import { prod, type RefTensor } from '../reference/deform-conv-reference.js';
import {
  addonBuilt,
  type CaseTensors,
  caseName,
  divisorsOf,
  type ConvCase,
  type DType,
  emptyNative,
  expectAllClose,
  loadNative,
  outSizeOf,
  paramsOf,
  randomConvCase,
  randTensor,
  rng,
  scaleOf,
  type TestBinding,
  toNative,
} from './helpers.js';

let b: TestBinding;
let savedLimit = 0;
beforeAll(() => {
  b = loadNative();
  b.setNumThreads(2);
  savedLimit = b._getWorkspaceLimit();
});
afterAll(() => {
  b._setForcePlanar(false);
  b._setWorkspaceLimit(savedLimit);
  b._setGemmIsa('auto');
});

/**
 * A random valid case of `dim`, with up to 20 channels per group; `variant` 0-3 picks offset and mask,
 * offset only, mask only, neither.
 */
function randomCase(seed: number, dim: 1 | 2 | 3, transposed: boolean, variant: number): ConvCase {
  return randomConvCase(seed, dim, transposed, {
    inPerGroup: [1, 2, 3, 5, 8, 9, 17, 20],
    outPerGroup: [1, 2, 4, 7],
    groupCounts: (pick, cx) => ({
      og: variant === 0 || variant === 1 ? pick(divisorsOf(cx)) : 0,
      mg: variant === 0 || variant === 2 ? pick(divisorsOf(cx)) : 0,
    }),
    kernelSizes: [1, 2, 3],
    strides: [1, 1, 2, 3],
    maxSide: dim === 3 ? 6 : dim === 2 ? 12 : 40,
  });
}

/**
 * Tensors of a case. Offsets: a third fractional in [-4, 4], a third exact integers in [-4, 4] (samples
 * on grid points and on the border, where the two families must apply the same corner conventions), a
 * third half-integers.
 */
function tensorsOf(c: ConvCase, seed: number): CaseTensors {
  const rand = rng(seed);
  const K = prod(c.kernelSize);
  const grid = c.transposed ? c.inSize : outSizeOf(c);
  const weightShape = c.transposed
    ? [c.inChannels, c.outChannels / c.groups, ...c.kernelSize]
    : [c.outChannels, c.inChannels / c.groups, ...c.kernelSize];
  let offset: RefTensor | null = null;
  if (c.og) {
    const shape = [c.batch, c.og * c.dim * K, ...grid];
    const data = new Float64Array(prod(shape));
    for (let i = 0; i < data.length; i++) {
      const kind = rand();
      const whole = Math.floor(9 * rand()) - 4;
      data[i] = kind < 1 / 3 ? -4 + 8 * rand() : kind < 2 / 3 ? whole : whole + 0.5;
    }
    offset = { data, shape };
  }
  return {
    input: randTensor([c.batch, c.inChannels, ...c.inSize], rand),
    weight: randTensor(weightShape, rand),
    offset,
    mask: c.mg ? randTensor([c.batch, c.mg * K, ...grid], rand, -0.5, 1.5) : null,
    bias: c.bias ? randTensor([c.outChannels], rand) : null,
  };
}

type Results = Record<string, Float64Array>;

/** Forward output and every available gradient of a case. */
function runAll(c: ConvCase, t: CaseTensors, r: RefTensor, dtype: DType): Results {
  const out = emptyNative([c.batch, c.outChannels, ...outSizeOf(c)], dtype);
  const n = (x: RefTensor | null) => x && toNative(x, dtype);
  b.deformConvForward(paramsOf(c), n(t.input)!, n(t.weight)!, n(t.offset), n(t.mask), n(t.bias), out);
  const grads: Record<'input' | 'weight' | 'offset' | 'mask' | 'bias', NativeTensor | null> = {
    input: emptyNative(t.input.shape, dtype),
    weight: emptyNative(t.weight.shape, dtype),
    offset: t.offset && emptyNative(t.offset.shape, dtype),
    mask: t.mask && emptyNative(t.mask.shape, dtype),
    bias: emptyNative([c.outChannels], dtype),
  };
  b.deformConvBackward(paramsOf(c), n(t.input)!, n(t.weight)!, n(t.offset), n(t.mask), n(r)!, grads);
  const res: Results = { output: Float64Array.from(out.data as Float32Array | Float64Array) };
  for (const [k, v] of Object.entries(grads)) if (v) res[k] = Float64Array.from(v.data as Float32Array | Float64Array);
  return res;
}

/**
 * Both kernel families on the same tensors, with each GEMM micro-kernel this CPU has (the planar kernels
 * pick portable or vector sampling code with it): every result agrees within `tol` (relative, and
 * `tol` times the largest magnitude absolute).
 */
function compare(c: ConvCase, seed: number, dtype: DType, tol: number, limit = savedLimit): void {
  const t = tensorsOf(c, seed);
  const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(seed + 1));
  for (const isa of ['generic', 'avx2', 'avx512', 'neon'] as const) {
    if (!b._setGemmIsa(isa)) continue;
    b._setWorkspaceLimit(limit);
    b._setForcePlanar(false);
    const channelsLast = runAll(c, t, r, dtype);
    b._setForcePlanar(true);
    const planar = runAll(c, t, r, dtype);
    b._setForcePlanar(false);
    b._setWorkspaceLimit(savedLimit);
    b._setGemmIsa('auto');
    expect(Object.keys(planar)).toEqual(Object.keys(channelsLast));
    for (const [k, e] of Object.entries(channelsLast)) {
      expect(e.every(Number.isFinite), `${k} is finite`).toBe(true);
      expectAllClose(planar[k], e, tol, tol * scaleOf(e), `${k} (${isa}): planar vs channels-last`);
    }
  }
}

const cases: ConvCase[] = [];
for (const dim of [1, 2, 3] as const) {
  for (const transposed of [false, true]) {
    for (let i = 0; i < 10; i++) {
      cases.push(randomCase(50_000 + 1000 * dim + 100 * Number(transposed) + i, dim, transposed, i % 4));
    }
  }
}
// Wide channel runs (>= 64 channels per segment of offset, mask and weight group, several segments): the
// 64-byte vector spans of the sampler and the packed panels of the forward, over several column tiles.
const wideCases: ConvCase[] = [];
for (const dim of [1, 2, 3] as const) {
  for (let i = 0; i < 3; i++) {
    const variant = i === 2 ? 3 : i;
    wideCases.push(
      randomConvCase(60_000 + 1000 * dim + i, dim, false, {
        inPerGroup: [64, 67, 80, 130],
        outPerGroup: [1, 2, 5],
        groupCounts: (pick, cx) => {
          const wide = divisorsOf(cx).filter((d) => cx / d >= 64);
          return { og: variant <= 1 ? pick(wide) : 0, mg: variant === 0 ? pick(wide) : 0 };
        },
        kernelSizes: [1, 2, 3],
        strides: [1, 1, 2],
        maxSide: dim === 3 ? 5 : dim === 2 ? 9 : 30,
      }),
    );
  }
}
// Short channel runs (2 to 16 channels per offset and mask group, edvr-style): with the AVX-512 kernels the
// forward (and the transposed op's input gradient) samples these with the small-group sampler
// (forward_small_groups.cc) instead of the general corner table; the planar kernels are the independent
// reference. Regular and transposed, with and without offsets and masks, over several column tiles.
const shortRunCases: ConvCase[] = [];
for (const dim of [1, 2, 3] as const) {
  for (let i = 0; i < 5; i++) {
    const transposed = i === 4;
    shortRunCases.push(
      randomConvCase(70_000 + 1000 * dim + i, dim, transposed, {
        inPerGroup: transposed ? [1, 3, 8] : [8, 16, 32, 64],
        outPerGroup: transposed ? [8, 16, 32] : [1, 3, 8],
        groupCounts: (pick, cx) => {
          const short = divisorsOf(cx).filter((d) => [2, 4, 8, 16].includes(cx / d));
          return { og: i === 2 ? 0 : pick(short), mg: i === 1 ? 0 : pick(short) };
        },
        kernelSizes: [1, 2, 3],
        strides: [1, 1, 2],
        maxSide: dim === 3 ? 6 : dim === 2 ? 14 : 60,
      }),
    );
  }
}
// Eight channels per offset and mask group with offsets, float32 (edvr-64's runs): the backward's small-group
// sampler takes the corner sums of two columns at a time (NOTE [ Corner sums of two columns ] in
// backward_small_groups.inc) and a lane block's odd last column alone; odd output sizes in 1D, 2D and 3D, with and
// without a mask.
const base8 = { transposed: false, batch: 2, groups: 1, bias: true } as const;
const eightChannelCases: ConvCase[] = [
  {
    ...base8,
    dim: 1,
    inChannels: 16,
    outChannels: 8,
    og: 2,
    mg: 2,
    kernelSize: [3],
    stride: [1],
    padding: [1],
    dilation: [1],
    inSize: [37],
  },
  {
    ...base8,
    dim: 2,
    inChannels: 24,
    outChannels: 8,
    og: 3,
    mg: 3,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 13],
  },
  {
    ...base8,
    dim: 2,
    inChannels: 16,
    outChannels: 16,
    og: 2,
    mg: 0,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [11, 7],
  },
  {
    ...base8,
    dim: 3,
    inChannels: 16,
    outChannels: 8,
    og: 2,
    mg: 2,
    kernelSize: [2, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
    inSize: [3, 5, 7],
  },
];
// Sixteen channels per offset and mask group with offsets, float32: the samplers' 64-byte segments, two 256-bit
// halves with AVX2 (NOTE [ Small-group samplers on AVX2 ] in small_groups_isas.inc), whose corner sums must not be
// contracted into FMAs there (halves in backward_small_groups.inc).
const sixteenChannelCases: ConvCase[] = [
  { ...eightChannelCases[0], inChannels: 48, og: 3, mg: 3 },
  { ...eightChannelCases[1], inChannels: 32, og: 2, mg: 2 },
  { ...eightChannelCases[3], inChannels: 32, og: 2, mg: 0 },
];
// Weights past 1 MB in the backward's dcol layout (r50-style): the dcol GEMM runs once per group of several
// column tiles (NOTE [ dcol GEMM groups ] in column_pass.cc), the weight gradient takes the shared weight GEMM
// and goes back from the W' layout by register transposes (float32, AVX-512), and the channels-last transposes
// of the input and of the input gradient's slot sums run whole 16 x 16 blocks. Where every weight group's rows
// (channels x kernel points) fill whole 32-column panels, pass A writes the weight-gradient columns straight
// into the shared weight GEMM's packed blocks (NOTE [ colsT packed by pass A ]): the 1D case (one group) and
// the 256-channel 2D case (two groups, a last reduction block of 136 columns) in float32, the 288-channel
// case in float64.
const largeWeightCases: ConvCase[] = [
  {
    dim: 2,
    transposed: false,
    batch: 1,
    inChannels: 176,
    outChannels: 176,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [24, 24],
  },
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 288,
    outChannels: 288,
    groups: 2,
    og: 2,
    mg: 0,
    bias: false,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [12, 12],
  },
  {
    dim: 1,
    transposed: false,
    batch: 2,
    inChannels: 256,
    outChannels: 256,
    groups: 1,
    og: 4,
    mg: 4,
    bias: true,
    kernelSize: [5],
    stride: [1],
    padding: [2],
    dilation: [1],
    inSize: [150],
  },
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 256,
    outChannels: 256,
    groups: 2,
    og: 2,
    mg: 2,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [14, 14],
  },
  // 320 output channels: the dcol GEMM's W' (3.7 MB) streams with two reduction blocks of 256 and 64 channels, run
  // kernel point by kernel point (NOTE [ dcol GEMM's W' prefetched ] in column_pass.cc); colsT packed by pass A for the
  // shared weight GEMM (NOTE [ Weight GEMM's B prefetched ]).
  {
    dim: 2,
    transposed: false,
    batch: 1,
    inChannels: 320,
    outChannels: 320,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 9],
  },
];
// The forward's output written through 16 x 16 register transposes (write_y_tile_forward in column_pass.cc, float32
// with AVX-512): straight to y where a block's 16 channel rows fall into at least 4 L1 sets, else through the staging
// block of NOTE [ Output rows written whole ]. Channel counts with a remainder past the last 16, column blocks with a
// partial last 16 columns, columns across images, with and without bias; output rows 4 KB apart (staged) in 1D, 2D
// and 3D.
const baseWrite = { transposed: false, groups: 1, og: 1, mg: 1 } as const;
const writeCases: ConvCase[] = [
  {
    ...baseWrite,
    dim: 2,
    batch: 1,
    inChannels: 8,
    outChannels: 40,
    bias: false,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 13],
  },
  {
    ...baseWrite,
    dim: 2,
    batch: 1,
    inChannels: 8,
    outChannels: 40,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 13],
  },
  {
    ...baseWrite,
    dim: 2,
    batch: 3,
    inChannels: 8,
    outChannels: 24,
    bias: false,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [16, 16],
  },
  {
    ...baseWrite,
    dim: 1,
    batch: 2,
    inChannels: 8,
    outChannels: 16,
    bias: true,
    kernelSize: [3],
    stride: [1],
    padding: [1],
    dilation: [1],
    inSize: [1024],
  },
  {
    ...baseWrite,
    dim: 2,
    batch: 2,
    inChannels: 8,
    outChannels: 40,
    bias: false,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [32, 32],
  },
  {
    ...baseWrite,
    dim: 3,
    batch: 1,
    inChannels: 8,
    outChannels: 24,
    bias: true,
    kernelSize: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
    inSize: [2, 16, 32],
  },
];
// The per-slot weight GEMM with the tile's colsT read in place (NOTE [ Per-slot weight GEMM with colsT in place ] in
// column_pass.cc: float32, AVX-512, small weights, no gw_t, rows = channels per group x kernel points a multiple of
// 32): a last row panel of 7 output channels and tiles of 350 columns (two reduction blocks, 256 + 94); two weight
// groups (B starts at group gi's columns of colsT) with a 3-row last panel and two offset groups; a 2D case.
const baseInPlace = { transposed: false as const, stride: [1], padding: [0], dilation: [1] };
const inPlaceColsCases: ConvCase[] = [
  {
    ...baseInPlace,
    dim: 1,
    batch: 2,
    inChannels: 32,
    outChannels: 7,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [1],
    inSize: [700],
  },
  {
    ...baseInPlace,
    dim: 1,
    batch: 2,
    inChannels: 64,
    outChannels: 30,
    groups: 2,
    og: 2,
    mg: 1,
    bias: false,
    kernelSize: [1],
    inSize: [300],
  },
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 64,
    outChannels: 12,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [1, 1],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    inSize: [9, 11],
  },
  // The transposed form (gw_t: 64 output channels per group, colsT read in place as A's columns by gemm_a_cols_f32;
  // rows = 36 channels per group x kernel points): 1D, two weight and offset groups, 3D.
  {
    ...baseInPlace,
    dim: 1,
    batch: 2,
    inChannels: 36,
    outChannels: 64,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [1],
    inSize: [300],
  },
  {
    ...baseInPlace,
    dim: 1,
    batch: 2,
    inChannels: 72,
    outChannels: 128,
    groups: 2,
    og: 2,
    mg: 1,
    bias: false,
    kernelSize: [1],
    inSize: [150],
  },
  {
    dim: 3,
    transposed: false,
    batch: 1,
    inChannels: 12,
    outChannels: 64,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [1, 1, 3],
    stride: [1, 1, 1],
    padding: [0, 0, 1],
    dilation: [1, 1, 1],
    inSize: [4, 5, 6],
  },
];
// colsT's and dcolT's rows padded off multiples of 4 KB (NOTE [ Padded colsT rows ] in column_pass.cc: channels x
// kernel points of the x side a multiple of 1024 floats or 512 doubles): transposed 2D as up-t2d (the per-slot
// weight GEMM reading colsT in place, y_forward's GEMM, the padded dcolT of the forward and the offset gradient), the
// regular 2D backward (dcolT and the per-slot colsT), and a float64 case of 512 values a row.
const paddedRowCases: ConvCase[] = [
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 24,
    outChannels: 64,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [4, 4],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [5, 6],
  },
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 64,
    outChannels: 12,
    groups: 1,
    og: 2,
    mg: 1,
    bias: false,
    kernelSize: [4, 4],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 10],
  },
  {
    dim: 2,
    transposed: true,
    batch: 1,
    inChannels: 5,
    outChannels: 32,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [4, 4],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [4, 7],
  },
];
// The transposed per-slot weight gradients (gw_t) summed with AVX-512 (sum_transpose_gwt_block_avx512 in
// column_pass.cc: float32, output channels per group and rows = channels per group x kernel points multiples of 16):
// 1D, two weight groups, 3D; 64 output channels per group, 48 rows.
const gwtSumCases: ConvCase[] = [
  {
    ...baseInPlace,
    dim: 1,
    batch: 2,
    inChannels: 16,
    outChannels: 64,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [3],
    padding: [1],
    inSize: [200],
  },
  {
    ...baseInPlace,
    dim: 1,
    batch: 1,
    inChannels: 32,
    outChannels: 128,
    groups: 2,
    og: 2,
    mg: 2,
    bias: false,
    kernelSize: [3],
    padding: [1],
    inSize: [150],
  },
  {
    dim: 3,
    transposed: false,
    batch: 1,
    inChannels: 16,
    outChannels: 64,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [1, 1, 3],
    stride: [1, 1, 1],
    padding: [0, 0, 1],
    dilation: [1, 1, 1],
    inSize: [4, 5, 6],
  },
];
// The dcol GEMM's W' packed by vectors (pack_dcol_row_avx512 in column_pass.cc, float32 with AVX-512: kernel points K
// <= 16, channels per group and rows multiples of 16 and of 32): every K-th float of a 16-channel block regrouped by
// two-source permutes, for K = 1, 2, 4, 8, 16 and the odd K = 3 (a last vector pair of one vector); the last case's W'
// (320 x 1024 floats, 1.3 MB) is beyond L2, so its rows are written with non-temporal stores (NOTE [ W' pack
// streamed ]), in two reduction blocks of 256 and 64 output channels.
const vecPackBase = {
  transposed: false,
  og: 1,
  mg: 1,
  bias: true,
  groups: 1,
} as const;
const vecPackCases: ConvCase[] = [
  {
    ...vecPackBase,
    dim: 2,
    batch: 2,
    inChannels: 32,
    outChannels: 24,
    kernelSize: [1, 1],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    inSize: [6, 7],
  },
  {
    ...vecPackBase,
    dim: 1,
    batch: 2,
    inChannels: 96,
    outChannels: 40,
    groups: 2,
    og: 2,
    mg: 2,
    kernelSize: [2],
    stride: [1],
    padding: [1],
    dilation: [1],
    inSize: [30],
  },
  {
    ...vecPackBase,
    dim: 1,
    batch: 1,
    inChannels: 32,
    outChannels: 20,
    kernelSize: [3],
    stride: [1],
    padding: [1],
    dilation: [2],
    inSize: [40],
  },
  {
    ...vecPackBase,
    dim: 2,
    batch: 1,
    inChannels: 16,
    outChannels: 36,
    kernelSize: [2, 2],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [7, 6],
  },
  {
    ...vecPackBase,
    dim: 3,
    batch: 1,
    inChannels: 48,
    outChannels: 20,
    kernelSize: [2, 2, 2],
    stride: [1, 1, 1],
    padding: [1, 0, 1],
    dilation: [1, 1, 1],
    inSize: [3, 4, 5],
  },
  {
    ...vecPackBase,
    dim: 2,
    batch: 1,
    inChannels: 64,
    outChannels: 320,
    kernelSize: [4, 4],
    stride: [1, 1],
    padding: [2, 1],
    dilation: [1, 1],
    inSize: [6, 7],
  },
];
// Pass B by destination (NOTE [ Pass B by destination ] in column_pass.cc: 2D, a segment of at least 16 vectors of 64
// bytes, 256 floats or 128 doubles): a block's terms chained per input-gradient position and each position's row
// updated once, in 16-vector register blocks, then single 64-, 32-, 16-byte vectors and a scalar tail (272 channels:
// one block and one vector in float32, two blocks and two vectors in float64; 259: a scalar tail of 3 in float32, a
// 16-byte vector and one scalar in float64); two offset and mask groups of 256 channels (two segments, each its own
// lists); and a 12 x 400 input in float64 where a block's samples (offsets up to 4 rows away) span more than 4096
// positions in the middle rows, which then take pass B as before.
const gatherBase: Omit<ConvCase, 'batch' | 'inChannels' | 'outChannels' | 'inSize'> = {
  dim: 2,
  transposed: false,
  og: 1,
  mg: 1,
  bias: true,
  groups: 1,
  kernelSize: [3, 3],
  stride: [1, 1],
  padding: [1, 1],
  dilation: [1, 1],
};
const gatherCases: ConvCase[] = [
  { ...gatherBase, batch: 1, inChannels: 272, outChannels: 16, inSize: [6, 7] },
  { ...gatherBase, batch: 2, inChannels: 259, outChannels: 8, kernelSize: [2, 3], inSize: [5, 6] },
  { ...gatherBase, batch: 1, inChannels: 512, outChannels: 8, og: 2, mg: 2, inSize: [5, 5] },
];
const gatherFallbackCase: ConvCase = { ...gatherBase, batch: 1, inChannels: 128, outChannels: 4, inSize: [12, 400] };
// Batch 0 (nothing sampled; the weight and bias gradients are zero).
cases.push({ ...randomCase(1, 3, false, 0), batch: 0 }, { ...randomCase(2, 2, true, 0), batch: 0 });

describe.runIf(addonBuilt)('planar and channels-last CPU kernels agree', () => {
  it('_setForcePlanar switches the planar kernels on and off', () => {
    expect(b._getForcePlanar()).toBe(false);
    b._setForcePlanar(true);
    expect(b._getForcePlanar()).toBe(true);
    b._setForcePlanar(false);
    expect(b._getForcePlanar()).toBe(false);
  });

  for (const [i, c] of cases.entries()) {
    it(`float64 to 1e-12: ${caseName(c)}`, () => compare(c, 100 + i, 'float64', 1e-12));
  }
  for (const [i, c] of cases.entries()) {
    if (i % 3 !== 0) continue;
    it(`float64 to 1e-12 with 3000-byte column tiles: ${caseName(c)}`, () =>
      compare(c, 200 + i, 'float64', 1e-12, 3000));
    it(`float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 300 + i, 'float32', 1e-4));
  }
  for (const [i, c] of shortRunCases.entries()) {
    it(`short channel runs, float64 to 1e-12: ${caseName(c)}`, () => compare(c, 700 + i, 'float64', 1e-12));
    it(`short channel runs, float64 to 1e-12 with 20000-byte column tiles: ${caseName(c)}`, () =>
      compare(c, 800 + i, 'float64', 1e-12, 20000));
    it(`short channel runs, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 900 + i, 'float32', 1e-4));
  }
  for (const [i, c] of eightChannelCases.entries()) {
    it(`eight-channel runs, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 1100 + i, 'float32', 1e-4));
  }
  for (const [i, c] of sixteenChannelCases.entries()) {
    it(`sixteen-channel runs, float32 to float32 rounding: ${caseName(c)}`, () =>
      compare(c, 1150 + i, 'float32', 1e-4));
  }
  for (const [i, c] of wideCases.entries()) {
    it(`wide channel runs, float64 to 1e-12: ${caseName(c)}`, () => compare(c, 400 + i, 'float64', 1e-12));
    it(`wide channel runs, float64 to 1e-12 with 20000-byte column tiles: ${caseName(c)}`, () =>
      compare(c, 500 + i, 'float64', 1e-12, 20000));
    it(`wide channel runs, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 600 + i, 'float32', 1e-4));
  }
  for (const [i, c] of writeCases.entries()) {
    it(`output write, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 1300 + i, 'float32', 1e-4));
  }
  for (const [i, c] of inPlaceColsCases.entries()) {
    it(`per-slot weight GEMM, colsT in place, float32 to float32 rounding: ${caseName(c)}`, () =>
      compare(c, 1400 + i, 'float32', 1e-4));
  }
  for (const [i, c] of paddedRowCases.entries()) {
    it(`padded column rows, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 1500 + i, 'float32', 1e-4));
    it(`padded column rows, float64 to 1e-12: ${caseName(c)}`, () => compare(c, 1510 + i, 'float64', 1e-12));
  }
  for (const [i, c] of gwtSumCases.entries()) {
    it(`transposed slot weight sum, float32 to float32 rounding: ${caseName(c)}`, () =>
      compare(c, 1520 + i, 'float32', 1e-4));
  }
  for (const [i, c] of vecPackCases.entries()) {
    it(`W' packed by vectors, float32 to float32 rounding: ${caseName(c)}`, () =>
      compare(c, 1530 + i, 'float32', 1e-4));
  }
  for (const [i, c] of gatherCases.entries()) {
    it(`pass B by destination, float32 to float32 rounding: ${caseName(c)}`, () =>
      compare(c, 1540 + i, 'float32', 1e-4));
    it(`pass B by destination, float64 to 1e-12: ${caseName(c)}`, () => compare(c, 1550 + i, 'float64', 1e-12));
  }
  it(`pass B by destination, positions too far apart, float64 to 1e-12: ${caseName(gatherFallbackCase)}`, () =>
    compare(gatherFallbackCase, 1560, 'float64', 1e-12));
  for (const [i, c] of largeWeightCases.entries()) {
    it(`large weights, float32 to float32 rounding: ${caseName(c)}`, () => compare(c, 1000 + i, 'float32', 1e-4));
    it(`large weights, float64 to 1e-12: ${caseName(c)}`, () => compare(c, 1100 + i, 'float64', 1e-12));
    it(`large weights, float32: 1, 2, 3 and 6 threads give bit-identical results: ${caseName(c)}`, () => {
      const t = tensorsOf(c, 1200 + i);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(1201 + i));
      // 1, 2, 3 and 6 threads (more than the backward's 4 slots: two threads then run only weight GEMM chunks, NOTE
      // [ Weight GEMM after the pieces ] in column_pass.cc), then the same with the slot pieces handed between
      // threads at every group end (NOTE [ Slot pieces handed over ]).
      const threads = [1, 2, 3, 6];
      const runs = [false, true].flatMap((handover) =>
        threads.map((n) => {
          b._setForceHandover(handover);
          b.setNumThreads(n);
          try {
            return runAll(c, t, r, 'float32');
          } finally {
            b._setForceHandover(false);
          }
        }),
      );
      b.setNumThreads(2);
      const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      for (let n = 1; n < runs.length; n++) {
        const where = `${threads[n % threads.length]} threads${n >= threads.length ? ', forced hand-overs' : ''} vs 1`;
        expect(Object.keys(runs[n])).toEqual(Object.keys(runs[0]));
        for (const [k, e] of Object.entries(runs[0]))
          expect(bits(runs[n][k]).equals(bits(e)), `${k}: ${where}`).toBe(true);
      }
    });
  }
});

// Short channel runs with the AVX2 kernels: the small-group samplers compiled for AVX2 (NOTE [ Small-group samplers
// on AVX2 ] in small_groups_isas.inc) do the AVX-512 build's operations in the same order, so the forward and every
// gradient have the bits they have with the AVX-512 kernels (the rest of the channels-last path gives the same bits
// with both already). Only where the CPU has AVX-512 to compare with; on an AVX2-only CPU the comparisons with the
// planar kernels above cover the AVX2 samplers.
describe.runIf(addonBuilt)('short channel runs: the AVX2 kernels give the bits of the AVX-512 kernels', () => {
  function sameBitsAcrossIsas(c: ConvCase, seed: number, dtype: DType, limit = savedLimit): void {
    const t = tensorsOf(c, seed);
    const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(seed + 1));
    const runs: Results[] = [];
    for (const isa of ['avx512', 'avx2'] as const) {
      if (!b._setGemmIsa(isa)) return;
      b._setWorkspaceLimit(limit);
      try {
        runs.push(runAll(c, t, r, dtype));
      } finally {
        b._setWorkspaceLimit(savedLimit);
        b._setGemmIsa('auto');
      }
    }
    const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(Object.keys(runs[1])).toEqual(Object.keys(runs[0]));
    for (const [k, e] of Object.entries(runs[0]))
      expect(bits(runs[1][k]).equals(bits(e)), `${k}: avx2 vs avx512`).toBe(true);
  }
  for (const [i, c] of shortRunCases.entries()) {
    it(`float32: ${caseName(c)}`, () => sameBitsAcrossIsas(c, 1600 + i, 'float32'));
    it(`float64 with 20000-byte column tiles: ${caseName(c)}`, () => sameBitsAcrossIsas(c, 1620 + i, 'float64', 20000));
  }
  for (const [i, c] of eightChannelCases.entries()) {
    it(`eight-channel runs, float32: ${caseName(c)}`, () => sameBitsAcrossIsas(c, 1640 + i, 'float32'));
  }
  for (const [i, c] of sixteenChannelCases.entries()) {
    it(`sixteen-channel runs, float32: ${caseName(c)}`, () => sameBitsAcrossIsas(c, 1660 + i, 'float32'));
  }
});

// Without the hook: grid positions beyond +-2^30 (padding 2^30, stride 2^31) make the channels-last
// kernels decline, and the planar fallback gives the exact values of an equivalent small sampling.
describe.runIf(addonBuilt)('grid positions beyond 2^30 take the planar fallback', () => {
  const P = 2 ** 30;
  for (const dim of [1, 2, 3] as const) {
    it(`dim=${dim}: padding 2^30, stride 2^31, offsets of about 2^30 back into the input`, () => {
      expect(b._getForcePlanar()).toBe(false);
      const size = Array<number>(dim).fill(4);
      const p = {
        dim,
        transposed: false,
        batch: 1,
        inChannels: 1,
        outChannels: 1,
        groups: 1,
        offsetGroups: 1,
        maskGroups: 1,
        kernelSize: Array<number>(dim).fill(1),
        stride: Array<number>(dim).fill(2 * P),
        padding: Array<number>(dim).fill(P),
        dilation: Array<number>(dim).fill(1),
        inSize: size,
        outSize: Array<number>(dim).fill(2),
      };
      // Output positions 0 and 1 of each axis sit at grid positions -2^30 and 2^30; their offsets move
      // them to 1.25 and 2.5. X[i] = 1 + sum_a 4^(dim-1-a) i_a, linear, so each sample is exact.
      const n = 2 ** dim;
      const strideOf = (a: number) => 4 ** (dim - 1 - a);
      const x = Float64Array.from({ length: 4 ** dim }, (_, i) => i + 1);
      const off = new Float64Array(dim * n);
      const expected = new Float64Array(n);
      for (let q = 0; q < n; q++) {
        let v = 1;
        for (let a = 0; a < dim; a++) {
          const ya = (q >> (dim - 1 - a)) & 1;
          off[a * n + q] = ya === 0 ? P + 1.25 : -P + 2.5;
          v += strideOf(a) * (ya === 0 ? 1.25 : 2.5);
        }
        expected[q] = 2 * v;
      }
      const f64 = (data: Float64Array, shape: number[]) => ({ data, shape, dtype: 'float64' as const });
      const input = f64(x, [1, 1, ...size]);
      const weight = f64(Float64Array.of(2), [1, 1, ...p.kernelSize]);
      const offset = f64(off, [1, dim, ...p.outSize]);
      const out = emptyNative([1, 1, ...p.outSize]);
      b.deformConvForward(p, input, weight, offset, null, null, out);
      expect(Array.from(out.data as Float64Array)).toEqual(Array.from(expected));
      // d out / d offset_a = 2 * 4^(dim-1-a); the input gradient spreads 2 per sample.
      const gIn = emptyNative([1, 1, ...size]);
      const gOff = emptyNative([1, dim, ...p.outSize]);
      const gW = emptyNative([1, 1, ...p.kernelSize]);
      b.deformConvBackward(p, input, weight, offset, null, f64(new Float64Array(n).fill(1), [1, 1, ...p.outSize]), {
        input: gIn,
        weight: gW,
        offset: gOff,
        mask: null,
        bias: null,
      });
      const expectedOff = Array.from({ length: dim * n }, (_, i) => 2 * strideOf(Math.floor(i / n)));
      expect(Array.from(gOff.data as Float64Array)).toEqual(expectedOff);
      expect(Array.from(gW.data as Float64Array)).toEqual([expected.reduce((s, v) => s + v, 0) / 2]);
      expect((gIn.data as Float64Array).reduce((s, v) => s + v, 0)).toBe(2 * n);
    });
  }
});
