// SPDX-License-Identifier: MIT
// GPU suite: deformable convolution on CUDA against the CPU kernels (float64 reference on the same
// rounded inputs) for dims 1-3, regular and transposed, every dtype, with groups, offset/mask groups,
// unbatched inputs and absent offset/mask/bias; forward and all five gradients, outputs poisoned first.
// Then float64 gradcheck through the GPU, deterministic mode (bitwise equal across runs), the three
// float32 matmul modes, and workspace chunking.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  getCudaFloat32Matmul,
  gradcheck,
  grad,
  isDeterministic,
  setCudaFloat32Matmul,
  setDeterministic,
  tensor,
  tidy,
  type DType,
  type Tensor,
} from '../../src/index.js';
import { getCudaBinding } from '../../src/native/cuda-binding.js';
import {
  ALL_DTYPES,
  DEVICE,
  DRY_RUN,
  FULL_ONLY,
  QUICK,
  SKIP,
  expectClose,
  hasNaN,
  poison,
  rng,
  roundTo,
  tolerance,
  uniformArray,
} from './helpers.js';

type Dim = 1 | 2 | 3;

/** One case: sizes per spatial dim are `size` (cut to `dim` entries). */
interface Case {
  name: string;
  transposed: boolean;
  batch: number; // 0: unbatched
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  dil: number;
  groups: number;
  og: number;
  mg: number;
  offset: boolean;
  mask: boolean;
  bias: boolean;
  outPad?: number;
  size: number[];
}

const MODULATED: Case = {
  name: 'modulated, bias',
  transposed: false,
  batch: 2,
  cin: 4,
  cout: 6,
  k: 3,
  stride: 1,
  pad: 1,
  dil: 1,
  groups: 1,
  og: 1,
  mg: 1,
  offset: true,
  mask: true,
  bias: true,
  size: [7, 6, 5],
};

const CASES: Case[] = [
  MODULATED,
  {
    ...MODULATED,
    name: 'groups 2, og 2, stride 2, dilation 2',
    batch: 3,
    stride: 2,
    pad: 2,
    dil: 2,
    groups: 2,
    og: 2,
    bias: false,
    size: [9, 8, 7],
  },
  { ...MODULATED, name: 'og 4, no mask', cin: 8, cout: 4, k: 2, pad: 0, og: 4, mask: false, size: [6, 5, 5] },
  { ...MODULATED, name: 'mg 2, og 1', cout: 4, groups: 2, mg: 2, size: [6, 5, 4] },
  { ...MODULATED, name: 'mask only (no offset)', cin: 3, cout: 5, offset: false, size: [6, 5, 4] },
  { ...MODULATED, name: 'plain conv (no offset, no mask)', cin: 3, cout: 5, stride: 2, offset: false, mask: false },
  { ...MODULATED, name: 'unbatched', batch: 0, cout: 3, og: 2, mg: 2, bias: false, size: [6, 5, 4] },
  { ...MODULATED, name: 'transposed, modulated, bias', transposed: true, size: [6, 5, 4] },
  {
    ...MODULATED,
    name: 'transposed, stride 2, outputPadding 1, groups 2, og 2',
    transposed: true,
    stride: 2,
    groups: 2,
    og: 2,
    mg: 2,
    bias: false,
    outPad: 1,
    size: [5, 4, 3],
  },
  {
    ...MODULATED,
    name: 'transposed, dilation 2, offset only',
    transposed: true,
    cout: 4,
    k: 2,
    pad: 0,
    dil: 2,
    og: 4,
    mask: false,
    size: [5, 4, 3],
  },
  {
    ...MODULATED,
    name: 'transposed plain (no offset, no mask)',
    transposed: true,
    cin: 3,
    cout: 4,
    stride: 2,
    offset: false,
    mask: false,
    size: [4, 4, 3],
  },
  // 40 output channels (two channel tiles, the second partial) and an even output of 18 x 16 (x 14)
  // positions: the vector channels-first pass over several tiles (NOTE in col2im_channels_last.cuh).
  {
    name: 'transposed, stride 2, 40 output channels, outputPadding 1, bias',
    transposed: true,
    batch: 2,
    cin: 8,
    cout: 40,
    k: 3,
    stride: 2,
    pad: 1,
    dil: 1,
    groups: 1,
    og: 2,
    mg: 1,
    offset: true,
    mask: true,
    bias: true,
    outPad: 1,
    size: [9, 8, 7],
  },
  { ...MODULATED, name: 'transposed, unbatched', transposed: true, batch: 0, cin: 2, cout: 4, og: 2, size: [5, 4, 3] },
  // Channels per group, offset group and mask group multiples of 8: the fused forward (NOTE [ Fused
  // forward ]) runs in float32/float16/bfloat16. The first has more than 128 positions (several position
  // tiles, the last partial), 136 output channels (two 128-row tiles, the second partial) and 40 input
  // channels (K padded to the step); the others take the 64-row tile.
  { ...MODULATED, name: 'fused: 40 -> 136, og 5, mg 5, bias', cin: 40, cout: 136, og: 5, mg: 5, size: [140, 3, 2] },
  {
    ...MODULATED,
    name: 'fused: groups 2, og 2, mg 4, stride 2, dilation 2',
    batch: 3,
    cin: 32,
    cout: 48,
    stride: 2,
    pad: 2,
    dil: 2,
    groups: 2,
    og: 2,
    mg: 4,
    bias: false,
    size: [9, 8, 7],
  },
  // One offset and one mask group with 40 channels (two 32-channel K steps a kernel point in the half types, the
  // second partial; three of 16 in float32) over 2-3 position tiles, the last partial: the 3D half-type kernels take
  // the plans made by the lanes of a position (NOTE [ Plans made by the lanes of a position ]), 27 kernel points (not
  // a multiple of the four lanes). (64 channels: 64 x 27 products an output, 1.1e-5 in float32's tf32x3 on an H100,
  // over its 1e-5 tolerance; 40 x 27 as the first fused case.)
  { ...MODULATED, name: 'fused: 40 channels, og 1, mg 1, bias', cin: 40, cout: 24, size: [23, 7, 2] },
  { ...MODULATED, name: 'fused: mask only', cin: 16, cout: 16, mg: 2, offset: false, size: [6, 5, 4] },
];

/**
 * More than 32 channels per offset group: the channels-last col2im (NOTE [ Channels-last col2im ]) adds
 * them in slices of 32 (here 32 + 32 + 8, mask groups changing inside a slice) over tiles of 32 positions,
 * the last partial; the input gradient of the first, the forward of the second. Seeded apart from CASES,
 * whose seeds (and hence sample positions) stay as they were.
 */
const COL2IM_CASES: Case[] = [
  {
    name: 'col2im: 72 channels in one offset group, mg 3',
    transposed: false,
    batch: 2,
    cin: 72,
    cout: 16,
    k: 2, // 72 x 8 products per output: within the float32 tolerance of tf32x3 (72 x 27 measured 1.3e-5)
    stride: 1,
    pad: 1,
    dil: 1,
    groups: 1,
    og: 1,
    mg: 3,
    offset: true,
    mask: true,
    bias: true,
    size: [37, 6, 3],
  },
  {
    name: 'col2im transposed: 16 -> 72, groups 2, og 1, stride 2',
    transposed: true,
    batch: 2,
    cin: 16,
    cout: 72,
    k: 3,
    stride: 2,
    pad: 1,
    dil: 1,
    groups: 2,
    og: 1,
    mg: 1,
    offset: true,
    mask: true,
    bias: true,
    outPad: 1,
    size: [19, 4, 3],
  },
];

/**
 * Channels per offset group and per mask group multiples of 8, with offsets: the windowed col2im (NOTE
 * [ Windowed col2im, one thread per sample ], TVDCN_CUDA_COL2IM=window) takes these, in windows of 32, 16 or
 * 8 channels (TVDCN_CUDA_COL2IM_CW forces one), over partial tiles of positions; offsets up to 2.5 put some
 * corners outside the window (added directly). The input gradient of the first and third, the forward of
 * the second. The results do not depend on the kernel:
 * the same tolerances against the CPU float64 reference with either. Seeded apart from the other lists.
 */
const WINDOW_CASES: Case[] = [
  {
    name: 'col2im window: 64 channels, og 2, mg 1',
    transposed: false,
    batch: 2,
    cin: 64,
    cout: 16,
    k: 2, // 64 x 8 products per output in 3D: within the float32 tolerance of tf32x3 (64 x 27: 1.2e-5)
    stride: 1,
    pad: 1,
    dil: 1,
    groups: 1,
    og: 2,
    mg: 1,
    offset: true,
    mask: true,
    bias: true,
    size: [21, 10, 9],
  },
  {
    name: 'col2im window transposed: 24 -> 48, og 3, mg 3, k 2, stride 2',
    transposed: true,
    batch: 2,
    cin: 24,
    cout: 48,
    k: 2, // the input gradient's 48 x 8 products (48 x 64 in 3D with k 4: 2.2e-5)
    stride: 2,
    pad: 1,
    dil: 1,
    groups: 1,
    og: 3,
    mg: 3,
    offset: true,
    mask: true,
    bias: true,
    size: [11, 5, 3],
  },
  {
    name: 'col2im window: 40 channels, no mask, stride 2, dilation 2',
    transposed: false,
    batch: 1,
    cin: 40,
    cout: 8,
    k: 3,
    stride: 2,
    pad: 2,
    dil: 2,
    groups: 1,
    og: 1,
    mg: 1,
    offset: true,
    mask: false,
    bias: false,
    size: [19, 11, 6],
  },
];

/** The cases the fused forward takes (channels in multiples of 8). */
const FUSED_CASES = CASES.filter((c) => c.name.startsWith('fused'));

/** TVDCN_GPU_TESTS=quick: the cases that also run in the half dtypes (regular, grouped, transposed). */
const QUICK_CASES = new Set([
  'modulated, bias',
  'groups 2, og 2, stride 2, dilation 2',
  'transposed, stride 2, outputPadding 1, groups 2, og 2',
  ...FUSED_CASES.map((c) => c.name),
]);

/**
 * The im2col tests' cases beyond the suite's: mask groups finer than the offset groups, odd channel counts per offset
 * group, 8 channels per group, more than 64 channels in one group, on grids with more than one tile of 32 positions and
 * a partial last tile; and the vector kernel's 1, 2 and 4 vectors a corner in each dtype, slices of a 128-channel
 * group, and a mask group that changes inside an offset group.
 */
const IM2COL_CASES: Case[] = [
  { ...CASES[0], name: 'warp im2col: 72 channels, og 1, mg 3', cin: 72, cout: 8, mg: 3, size: [37, 9, 5] },
  { ...CASES[0], name: 'warp im2col: 6 channels, og 2, mg 6', cin: 6, cout: 4, og: 2, mg: 6, size: [35, 7, 4] },
  {
    ...CASES[0],
    name: 'warp im2col: 40 channels, og 5, mg 5, stride 2',
    cin: 40,
    cout: 8,
    og: 5,
    mg: 5,
    stride: 2,
    size: [70, 9, 5],
  },
  {
    ...CASES[0],
    name: 'warp im2col: 130 channels, og 1, no mask',
    cin: 130,
    cout: 4,
    mask: false,
    size: [33, 5, 4],
  },
  { ...CASES[0], name: 'vector im2col: 32 channels, og 4, mg 2', cin: 32, cout: 8, og: 4, mg: 2, size: [37, 9, 5] },
  { ...CASES[0], name: 'vector im2col: 32 channels, og 2, mg 1', cin: 32, cout: 8, og: 2, mg: 1, size: [35, 7, 4] },
  {
    ...CASES[0],
    name: 'vector im2col: 64 channels, og 2, no mask',
    cin: 64,
    cout: 4,
    og: 2,
    mask: false,
    size: [33, 5, 4],
  },
  { ...CASES[0], name: 'vector im2col: 16 channels, og 2, mg 4', cin: 16, cout: 8, og: 2, mg: 4, size: [36, 7, 4] },
  { ...CASES[0], name: 'vector im2col: 128 channels in slices', cin: 128, cout: 4, size: [33, 6, 4] },
];

/**
 * A case whose columns come in chunks of part of an image (first positions q0 > 0) under a 1 MiB column workspace,
 * with one channels-last copy per image read by its chunks.
 */
const partialImageCase = (name: string): Case => ({ ...CASES[0], name, batch: 3, cin: 8, cout: 8, size: [40, 36, 5] });

const REGULAR = [deformConv1d, deformConv2d, deformConv3d];
const TRANSPOSED = [deformConvTranspose1d, deformConvTranspose2d, deformConvTranspose3d];

interface Problem {
  inputs: { name: string; shape: number[]; values: Float64Array; lo: number; hi: number }[];
  outShape: number[];
  call(t: (Tensor | null)[]): Tensor;
}

/** Shapes and random values of a case (tvdcn-reference §3.1, §3.5). */
function problem(c: Case, dim: Dim, seed: number): Problem {
  const r = rng(seed);
  const sp = c.size.slice(0, dim);
  const K = c.k ** dim;
  const out = sp.map((s) =>
    c.transposed
      ? (s - 1) * c.stride - 2 * c.pad + c.dil * (c.k - 1) + 1 + (c.outPad ?? 0)
      : Math.floor((s + 2 * c.pad - c.dil * (c.k - 1) - 1) / c.stride) + 1,
  );
  const grid = c.transposed ? sp : out; // offsets and masks live here
  const lead = (ch: number) => (c.batch > 0 ? [c.batch, ch] : [ch]);
  const kshape = Array(dim).fill(c.k);
  const wshape = c.transposed ? [c.cin, c.cout / c.groups, ...kshape] : [c.cout, c.cin / c.groups, ...kshape];
  const specs: [string, number[], number, number, boolean][] = [
    ['input', [...lead(c.cin), ...sp], -1, 1, true],
    ['weight', wshape, -0.5, 0.5, true],
    ['offset', [...lead(c.og * dim * K), ...grid], -2.5, 2.5, c.offset],
    ['mask', [...lead(c.mg * K), ...grid], 0, 1, c.mask],
    ['bias', [c.cout], -1, 1, c.bias],
  ];
  const inputs = specs.map(([name, shape, lo, hi, present]) => ({
    name,
    shape,
    lo,
    hi,
    values: present
      ? uniformArray(
          r,
          shape.reduce((a, b) => a * b, 1),
          lo,
          hi,
        )
      : new Float64Array(0),
  }));
  const present = specs.map((s) => s[4]);
  const fn = (c.transposed ? TRANSPOSED : REGULAR)[dim - 1] as (x: Tensor, w: Tensor, o: object) => Tensor;
  return {
    inputs: inputs.filter((_, i) => present[i]),
    outShape: [...lead(c.cout), ...out],
    call(t) {
      const [x, w, offset, mask, bias] = specs.map((_, i) =>
        present[i] ? t[present.slice(0, i).filter(Boolean).length] : null,
      );
      const opts: Record<string, unknown> = {
        offset,
        mask,
        bias,
        stride: c.stride,
        padding: c.pad,
        dilation: c.dil,
        groups: c.groups,
      };
      if (c.transposed) opts.outputPadding = c.outPad ?? 0;
      return fn(x as Tensor, w as Tensor, opts);
    },
  };
}

/** An output gradient for `p`: uniform in [-1, 1), rounded to `dtype`. */
function outputGrad(p: Problem, dtype: DType, seed: number): Float64Array {
  const n = p.outShape.reduce((a, v) => a * v, 1);
  return roundTo(uniformArray(rng(seed), n, -1, 1), dtype, (x, d) => toGpu(x, d));
}

function vals(t: Tensor): Float64Array {
  return Float64Array.from(t.toTypedArray());
}

/** The output and the five gradients (for output gradient `gy`) of problem `p` run on the GPU in `dtype`. */
function forwardAndGrads(p: Problem, dtype: DType, gy: Float64Array): Float64Array[] {
  return tidy(() => {
    const xs = p.inputs.map((i) => {
      const t = toGpu(i.values, dtype, i.shape);
      t.requiresGrad = true;
      return t;
    });
    const y = p.call(xs);
    return [vals(y), ...grad(y, xs, toGpu(gy, dtype, y.shape)).map(vals)];
  });
}

/**
 * The output and every gradient of case `c` in `dtype` (inputs rounded to it, the workspace poisoned first), with the
 * phases the forward and backward ran, from the profiler of binding `b`.
 */
function profiledForwardAndGrads(
  b: ReturnType<typeof getCudaBinding>,
  c: Case,
  dim: Dim,
  dtype: DType,
  seed: number,
): { out: Float64Array[]; phases: Record<string, number> } {
  return tidy(() => {
    const p = problem(c, dim, seed);
    const xs = p.inputs.map((i) => {
      const t = toGpu(
        roundTo(i.values, dtype, (x, d) => toGpu(x, d)),
        dtype,
        i.shape,
      );
      t.requiresGrad = true;
      return t;
    });
    const gy = outputGrad(p, dtype, seed + 1);
    poison(
      dtype,
      p.inputs.map((i) => i.values.length),
    );
    b._cudaProfileReport();
    b._cudaProfile(true);
    try {
      const y = p.call(xs);
      const gs = grad(y, xs, toGpu(gy, dtype, y.shape)) as Tensor[];
      return { out: [vals(y), ...gs.map((g) => vals(g))], phases: b._cudaProfileReport() };
    } finally {
      b._cudaProfile(false);
    }
  });
}

const toGpu = (v: Float64Array, d: DType, shape?: readonly number[]): Tensor =>
  tensor(d === 'float64' ? v : Float32Array.from(v), { shape: shape ?? [v.length], dtype: d, device: DEVICE });

/** Forward and all gradients on the GPU in `dtype` and on the CPU in float64 on the same values. */
function compare(c: Case, dim: Dim, dtype: DType, seed: number): Record<string, number> {
  return tidy(() => {
    const p = problem(c, dim, seed);
    const values = p.inputs.map((i) => roundTo(i.values, dtype, (x, d) => toGpu(x, d)));
    const cpu = p.inputs.map((i, k) => tensor(values[k], { shape: i.shape, dtype: 'float64', requiresGrad: true }));
    const gpu = p.inputs.map((i, k) => {
      const t = toGpu(values[k], dtype, i.shape);
      t.requiresGrad = true;
      return t;
    });
    const yc = p.call(cpu);
    const numel = yc.numel;
    const go = roundTo(uniformArray(rng(seed + 1), numel), dtype, (x, d) => toGpu(x, d));
    poison(dtype, [numel, ...p.inputs.map((i) => i.values.length)]);
    const yg = p.call(gpu);
    assert.deepEqual(yg.shape, p.outShape);
    const out = vals(yg);
    const errs: Record<string, number> = {};
    const tag = `dim=${dim} ${c.name} [${dtype}]`;
    assert.ok(!hasNaN(out), `${tag}: unwritten (NaN) output elements`);
    errs.forward = expectClose(`${tag} forward`, out, vals(yc), tolerance(dtype, 'forward'));
    const gc = grad(yc, cpu, tensor(go, { shape: yc.shape, dtype: 'float64' }));
    poison(
      dtype,
      p.inputs.map((i) => i.values.length),
    );
    const gg = grad(yg, gpu, toGpu(go, dtype, yc.shape));
    p.inputs.forEach((inp, k) => {
      const g = vals(gg[k]);
      assert.ok(!hasNaN(g), `${tag}: unwritten (NaN) elements of grad ${inp.name}`);
      errs[inp.name] = expectClose(`${tag} grad ${inp.name}`, g, vals(gc[k]), tolerance(dtype, 'backward'));
    });
    return errs;
  });
}

const worst: Record<string, number> = {};
function record(dtype: string, errs: Record<string, number>): void {
  for (const [k, v] of Object.entries(errs)) {
    const key = `${dtype} ${k}`;
    worst[key] = Math.max(worst[key] ?? 0, v);
  }
}

describe('deformable convolution on CUDA against the CPU', { skip: SKIP }, () => {
  let seed = 100;
  for (const dim of [1, 2, 3] as Dim[]) {
    for (const c of CASES) {
      if (QUICK && !QUICK_CASES.has(c.name)) continue;
      for (const dtype of ['float64', 'float32'] as DType[]) {
        const s = seed++;
        it(`dim=${dim} ${c.name} [${dtype}]`, () => record(dtype, compare(c, dim, dtype, s)));
      }
      if (
        !DRY_RUN &&
        (c.name.startsWith('modulated') ||
          c.name.startsWith('groups') ||
          c.name.startsWith('transposed, stride') ||
          c.name.startsWith('fused'))
      ) {
        for (const dtype of ['float16', 'bfloat16'] as DType[]) {
          const s = seed++;
          it(`dim=${dim} ${c.name} [${dtype}]`, () => record(dtype, compare(c, dim, dtype, s)));
        }
      }
    }
  }
  // Seeds by (dim, case, dtype), the same in a dry run (which has no half types).
  const col2imDtypes: DType[] = ['float64', 'float32', 'float16', 'bfloat16'];
  for (const dim of [1, 2, 3] as Dim[]) {
    for (const [k, c] of COL2IM_CASES.entries()) {
      for (const [j, dtype] of col2imDtypes.entries()) {
        if (DRY_RUN && j >= 2) continue;
        const s = 900 + (dim * COL2IM_CASES.length + k) * col2imDtypes.length + j;
        it(`dim=${dim} ${c.name} [${dtype}]`, () => record(dtype, compare(c, dim, dtype, s)));
      }
    }
  }

  const windowDtypes: DType[] = ['float32', 'float16', 'bfloat16'];
  for (const dim of [1, 2, 3] as Dim[]) {
    for (const [k, c] of WINDOW_CASES.entries()) {
      for (const [j, dtype] of windowDtypes.entries()) {
        if (DRY_RUN && j >= 1) continue;
        const s = 1300 + (dim * WINDOW_CASES.length + k) * windowDtypes.length + j;
        it(`dim=${dim} ${c.name} [${dtype}]`, () => record(dtype, compare(c, dim, dtype, s)));
      }
    }
  }

  // NOTE [ Warp-owned window col2im ]: by default in 1D, with TVDCN_CUDA_COL2IM=warp (read at each call) in 1D and
  // 2D, the kernel takes col2im wherever the channels per offset group are a multiple of 32 and a block's channels
  // share a mask group:
  // one warp per offset group's 32 channels (og 2 of 64) with its kernel points split over four window copies, two
  // warps per block (mask groups of 64 in 128 channels), four (128 channels, no mask); partial tiles and runs
  // (10 and 6 positions), 16-byte runs of dcol (16 and 24), stride, dilation, the transposed op's forward;
  // offsets up to 2.5 put corners outside the window (added directly). It must run where it applies, and meet
  // the same tolerances against the CPU float64 reference as every col2im.
  it('col2im warp window: runs where it applies, within tolerance of the CPU float64 reference', {
    skip: DRY_RUN,
  }, () => {
    const b = getCudaBinding('test');
    const was = process.env.TVDCN_CUDA_COL2IM;
    const base = WINDOW_CASES[0];
    // The kernel takes 2D windows of at most 74 KB per block: with dilation 2, stride 2, or the transposed op's
    // stride 2 and kernel 4, only the 1D cases fit.
    const warpCases: (Case & { dims: Dim[] })[] = [
      {
        ...base,
        name: 'warp col2im: 64 channels, og 2, mg 1, dilation 2',
        cin: 64,
        cout: 8,
        og: 2,
        mg: 1,
        k: 3,
        pad: 2,
        dil: 2,
        size: [21, 10, 9],
        dims: [1],
      },
      {
        ...base,
        name: 'warp col2im: 64 channels, og 2, mg 1',
        cin: 64,
        cout: 8,
        og: 2,
        mg: 1,
        k: 3,
        size: [21, 10, 9],
        dims: [1, 2],
      },
      {
        ...base,
        name: 'warp col2im: 128 channels, og 1, mg 2, stride 2',
        cin: 128,
        cout: 4,
        og: 1,
        mg: 2,
        k: 3,
        stride: 2,
        pad: 1,
        dil: 1,
        size: [33, 32, 9],
        dims: [1],
      },
      {
        ...base,
        name: 'warp col2im: 128 channels, og 1, mg 2',
        cin: 128,
        cout: 4,
        og: 1,
        mg: 2,
        k: 2,
        size: [15, 32, 9],
        dims: [2],
      },
      {
        ...base,
        name: 'warp col2im: 128 channels, og 1, no mask, k 2',
        cin: 128,
        cout: 4,
        og: 1,
        mask: false,
        k: 2, // 128 x 4 products per output in 2D: within the float32 tolerance of tf32x3 (128 x 9 is not)
        batch: 1,
        size: [40, 23, 9],
        dims: [1, 2],
      },
      {
        ...WINDOW_CASES[1],
        name: 'warp col2im transposed: 16 -> 64, og 2, mg 1, k 4, stride 2',
        cin: 16,
        cout: 64,
        og: 2,
        mg: 1,
        k: 4,
        size: [12, 6, 3],
        dims: [1],
      },
    ];
    try {
      process.env.TVDCN_CUDA_COL2IM = 'warp';
      let seed = 2700;
      for (const c of warpCases) {
        for (const dim of c.dims) {
          for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
            seed += 2;
            const { phases } = profiledForwardAndGrads(b, c, dim, dtype, seed);
            assert.ok('col2im_warp' in phases, `dim=${dim} ${c.name} [${dtype}]: the warp window kernel did not run`);
            assert.ok(!('col2im' in phases), `dim=${dim} ${c.name} [${dtype}]: another col2im ran too`);
            record(dtype, compare(c, dim, dtype, seed));
          }
        }
      }
      // By default it runs in 1D only; =atomic turns it off.
      delete process.env.TVDCN_CUDA_COL2IM;
      assert.ok('col2im_warp' in profiledForwardAndGrads(b, warpCases[1], 1, 'float32', 2784).phases);
      assert.ok(!('col2im_warp' in profiledForwardAndGrads(b, warpCases[1], 2, 'float32', 2786).phases));
      process.env.TVDCN_CUDA_COL2IM = 'atomic';
      assert.ok(!('col2im_warp' in profiledForwardAndGrads(b, warpCases[1], 1, 'float32', 2788).phases));
      process.env.TVDCN_CUDA_COL2IM = 'warp';
      // Where it does not apply (48 channels per offset group; 3D; a 2D window over 74 KB), another col2im runs.
      const other = { ...warpCases[1], name: 'warp col2im: 48 channels', cin: 96 };
      assert.ok(!('col2im_warp' in profiledForwardAndGrads(b, other, 2, 'float32', 2790).phases));
      assert.ok(!('col2im_warp' in profiledForwardAndGrads(b, warpCases[1], 3, 'float32', 2792).phases));
      assert.ok(!('col2im_warp' in profiledForwardAndGrads(b, warpCases[0], 2, 'float32', 2794).phases));
    } finally {
      if (was === undefined) delete process.env.TVDCN_CUDA_COL2IM;
      else process.env.TVDCN_CUDA_COL2IM = was;
    }
  });

  // NOTE [ Fused col2im and offset pass ]: by default in 2D and 3D (TVDCN_CUDA_COL2IM unset, not deterministic), with
  // TVDCN_CUDA_BWD_FUSED=on in 1D too, the input, offset and mask gradients and the weight product's columns come
  // from one kernel wherever the channels per offset group are a multiple of 32 (or 8 or 16, four or two groups a
  // block), X's channels a multiple of 4 and the mask groups the offset groups (or no mask). Cases: two offset groups
  // of 32 with their masks, one of 128 without a mask (stride 2, dilation 2), eight groups of 8 and two of 16, 32
  // channels over partial tiles of positions (63 and 7 per image), the columns from im2col instead (the kernel
  // without its column output), chunks of part of an image, NaN offsets. It must run
  // where it applies and meet the same tolerances against the CPU float64 reference as the separate passes.
  it('fused col2im and offset pass: runs where it applies, within tolerance of the CPU float64 reference', {
    skip: DRY_RUN,
  }, () => {
    const b = getCudaBinding('test');
    const was = { fused: process.env.TVDCN_CUDA_BWD_FUSED, cols: process.env.TVDCN_CUDA_BWD_COLS };
    const wasCol2im = process.env.TVDCN_CUDA_COL2IM;
    const base = WINDOW_CASES[0];
    const fusedCases: (Case & { dims: Dim[] })[] = [
      { ...base, name: 'fused backward: 64 channels, og 2, mg 2', cin: 64, cout: 8, og: 2, mg: 2, dims: [1, 2, 3] },
      {
        ...base,
        name: 'fused backward: 128 channels, og 1, no mask, stride 2, dilation 2',
        cin: 128,
        cout: 4,
        og: 1,
        mask: false,
        k: 2, // 128 x 4 products per output in 2D, 128 x 8 in 3D: within the float32 tolerance of tf32x3
        stride: 2,
        pad: 2,
        dil: 2,
        batch: 1,
        size: [40, 23, 9],
        dims: [2, 3],
      },
      {
        ...base,
        name: 'fused backward: 64 channels, og 8, mg 8 (four groups a block)',
        cin: 64,
        cout: 8,
        og: 8,
        mg: 8,
        dims: [2, 3],
      },
      {
        ...base,
        name: 'fused backward: 32 channels, og 2, no mask (two groups a block)',
        cin: 32,
        cout: 6,
        og: 2,
        mask: false,
        k: 3,
        stride: 2,
        size: [17, 11, 5],
        dims: [2, 3],
      },
      {
        ...base,
        name: 'fused backward: 32 channels, og 1, mg 1, partial tiles',
        cin: 32,
        cout: 6,
        og: 1,
        mg: 1,
        k: 3,
        batch: 3,
        size: [9, 7, 5],
        dims: [2, 3],
      },
    ];
    const phaseOf = (phases: Record<string, number>): boolean =>
      'col2im_offset_mask_fused' in phases || 'col2im_offset_fused' in phases;
    const wasDeterministic = isDeterministic();
    try {
      delete process.env.TVDCN_CUDA_COL2IM;
      setDeterministic(false);
      process.env.TVDCN_CUDA_BWD_FUSED = 'on';
      let seed = 2900;
      for (const c of fusedCases) {
        for (const dim of c.dims) {
          for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
            seed += 2;
            const tag = `dim=${dim} ${c.name} [${dtype}]`;
            const { phases } = profiledForwardAndGrads(b, c, dim, dtype, seed);
            assert.ok(phaseOf(phases), `${tag}: the fused kernel did not run (${Object.keys(phases).join(', ')})`);
            const separate = ['col2im', 'col2im_warp', 'offset_grad', 'offset_mask_grad', 'offset_mask_grad_vector'];
            for (const k of separate) assert.ok(!(k in phases), `${tag}: ${k} ran too`);
            record(dtype, compare(c, dim, dtype, seed));
          }
        }
      }
      // The columns from im2col: the kernel without its column output.
      process.env.TVDCN_CUDA_BWD_COLS = 'im2col';
      for (const dtype of ['float32', 'float16'] as DType[]) {
        assert.ok(phaseOf(profiledForwardAndGrads(b, fusedCases[0], 2, dtype, 2980).phases));
        record(dtype, compare(fusedCases[0], 2, dtype, 2980));
      }
      if (was.cols === undefined) delete process.env.TVDCN_CUDA_BWD_COLS;
      else process.env.TVDCN_CUDA_BWD_COLS = was.cols;
      // Chunks of part of an image (q0 > 0): the plan's positions, dcol's and the columns' chunk offsets.
      b.cudaSetWorkspaceLimit(1 << 20);
      // 32 channels: one float32 image of 40 x 36 x 5 (0.9 MB) fits the 1 MiB limit, so the channels-last copy is made.
      const partial = fusedCases.find((c) => c.name.endsWith('partial tiles'));
      assert.ok(partial !== undefined);
      const big = { ...partial, name: 'fused backward: chunks of part of an image', batch: 2, size: [40, 36, 5] };
      for (const dim of [2, 3] as Dim[]) {
        for (const dtype of ['float32', 'float16'] as DType[]) {
          assert.ok(phaseOf(profiledForwardAndGrads(b, big, dim, dtype, 2990).phases), `dim=${dim} chunks [${dtype}]`);
          record(dtype, compare(big, dim, dtype, 2990));
        }
      }
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
      // By default: 2D and 3D, not 1D; =off, a set TVDCN_CUDA_COL2IM or deterministic mode turn it off; where it does
      // not apply (48 channels per offset group; mask groups finer than the offset groups) the separate passes run.
      delete process.env.TVDCN_CUDA_BWD_FUSED;
      assert.ok(phaseOf(profiledForwardAndGrads(b, fusedCases[0], 2, 'float32', 2992).phases));
      assert.ok(phaseOf(profiledForwardAndGrads(b, fusedCases[0], 3, 'float16', 2992).phases));
      assert.ok(!phaseOf(profiledForwardAndGrads(b, fusedCases[0], 1, 'float32', 2992).phases));
      process.env.TVDCN_CUDA_COL2IM = 'atomic';
      assert.ok(!phaseOf(profiledForwardAndGrads(b, fusedCases[0], 2, 'float32', 2994).phases));
      delete process.env.TVDCN_CUDA_COL2IM;
      process.env.TVDCN_CUDA_BWD_FUSED = 'off';
      const off = profiledForwardAndGrads(b, fusedCases[0], 2, 'float32', 2996).phases;
      assert.ok(!phaseOf(off) && 'col2im' in off, Object.keys(off).join(', '));
      process.env.TVDCN_CUDA_BWD_FUSED = 'on';
      const other48 = { ...fusedCases[0], name: 'fused backward: 48 channels', cin: 96 };
      assert.ok(!phaseOf(profiledForwardAndGrads(b, other48, 2, 'float32', 2998).phases));
      const twoOf8 = { ...fusedCases[0], name: 'fused backward: og 2 of 8 channels', cin: 16, og: 2, mg: 2 };
      assert.ok(!phaseOf(profiledForwardAndGrads(b, twoOf8, 2, 'float32', 2998).phases));
      const finerMask = { ...fusedCases[0], name: 'fused backward: mg 4', mg: 4 };
      assert.ok(!phaseOf(profiledForwardAndGrads(b, finerMask, 2, 'float32', 2998).phases));
      // NaN offsets: the same elements of every gradient are NaN with the fused kernel as with the two passes (the
      // plan's NaN rule: the sample's offset and mask gradients, its columns and so the weight gradient's rows).
      for (const [dim, dtype] of [
        [2, 'float32'],
        [3, 'float16'],
      ] as [Dim, DType][]) {
        const p = problem(fusedCases[0], dim, 3000);
        const off = p.inputs.find((i) => i.name === 'offset');
        assert.ok(off !== undefined);
        for (const k of [3, 100, 257]) off.values[k] = Number.NaN;
        const gy = outputGrad(p, dtype, 3001);
        const nanAt = (v: Float64Array): number[] => [...v.keys()].filter((k) => Number.isNaN(v[k]));
        process.env.TVDCN_CUDA_BWD_FUSED = 'off';
        const apart = forwardAndGrads(p, dtype, gy);
        process.env.TVDCN_CUDA_BWD_FUSED = 'on';
        const fused = forwardAndGrads(p, dtype, gy);
        for (const [k, v] of fused.entries()) {
          // The offset and mask gradients (outputs 3 and 4) must have some.
          if (k === 3 || k === 4) assert.ok(nanAt(v).length > 0, `dim=${dim} [${dtype}] output ${k}: no NaN at all`);
          assert.deepEqual(nanAt(v), nanAt(apart[k]), `dim=${dim} [${dtype}] output ${k}: NaN elements differ`);
        }
      }
      setDeterministic(true);
      assert.ok(!phaseOf(profiledForwardAndGrads(b, fusedCases[0], 2, 'float32', 2998).phases));
    } finally {
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
      setDeterministic(wasDeterministic);
      if (was.fused === undefined) delete process.env.TVDCN_CUDA_BWD_FUSED;
      else process.env.TVDCN_CUDA_BWD_FUSED = was.fused;
      if (was.cols === undefined) delete process.env.TVDCN_CUDA_BWD_COLS;
      else process.env.TVDCN_CUDA_BWD_COLS = was.cols;
      if (wasCol2im === undefined) delete process.env.TVDCN_CUDA_COL2IM;
      else process.env.TVDCN_CUDA_COL2IM = wasCol2im;
    }
  });

  it('float32 matmul modes: tf32x3 (default) and float32 within float32 tolerance, tf32 within 5e-3', {
    skip: DRY_RUN,
  }, () => {
    const c = CASES[1];
    assert.equal(getCudaFloat32Matmul(), 'tf32x3');
    try {
      setCudaFloat32Matmul('float32');
      for (const dim of [1, 2, 3] as Dim[]) {
        for (const k of [0, 1, 7, 8]) record('float32/cuda-cores', compare(CASES[k], dim, 'float32', 70 + k * 3 + dim));
      }
      setCudaFloat32Matmul('tf32');
      const p = problem(c, 2, 8);
      tidy(() => {
        const values = p.inputs.map((i) => Float64Array.from(i.values, Math.fround));
        const yc = p.call(p.inputs.map((i, k) => tensor(values[k], { shape: i.shape, dtype: 'float64' })));
        const yg = p.call(p.inputs.map((i, k) => toGpu(values[k], 'float32', i.shape)));
        worst['float32/tf32 forward'] = expectClose('tf32 forward', vals(yg), vals(yc), 5e-3);
      });
    } finally {
      setCudaFloat32Matmul('tf32x3');
    }
  });

  it('float32 GEMM tiles: 128 x 256 tiles (large problems) agree with 128 x 128 tiles', {
    skip: DRY_RUN || FULL_ONLY,
  }, () => {
    // Large enough that the forward, input-gradient and weight-gradient products choose wide tiles.
    const b = getCudaBinding('test');
    const c: Case = { ...CASES[0], batch: 16, cin: 64, cout: 128, size: [64, 64, 1] };
    for (const mode of ['tf32x3', 'tf32'] as const) {
      setCudaFloat32Matmul(mode);
      try {
        const p = problem(c, 2, 500);
        const values = p.inputs.map((i) => Float64Array.from(i.values, Math.fround));
        const run = (): Float64Array[] =>
          tidy(() => {
            const xs = p.inputs.map((i, k) => {
              const t = toGpu(values[k], 'float32', i.shape);
              t.requiresGrad = true;
              return t;
            });
            const y = p.call(xs);
            return [vals(y), ...grad(y, xs, toGpu(uniformArray(rng(6), y.numel), 'float32', y.shape)).map(vals)];
          });
        b._cudaSetGemmWideTiles(true);
        const wide = run();
        b._cudaSetGemmWideTiles(false);
        const narrow = run();
        wide.forEach((w, k) => {
          assert.ok(!hasNaN(w), `wide tiles (${mode}): NaN in output ${k}`);
          worst[`float32 wide tiles ${mode}`] = Math.max(
            worst[`float32 wide tiles ${mode}`] ?? 0,
            expectClose(`wide vs 128 x 128 tiles (${mode}), output ${k}`, w, narrow[k], mode === 'tf32' ? 1e-3 : 1e-5),
          );
        });
      } finally {
        b._cudaSetGemmWideTiles(true);
        setCudaFloat32Matmul('tf32x3');
      }
    }
  });

  it('16-bit GEMM: vector and element-by-element operand loads give bitwise the same results', {
    skip: DRY_RUN,
  }, () => {
    // Channels and positions multiples of 8 (the vector loads apply; 20 output channels leave partial
    // row and K tiles), regular and transposed, im2col + GEMM forward and every gradient; deterministic
    // mode, so that the scatter's order cannot differ between the two runs.
    const b = getCudaBinding('test');
    const cases: Case[] = [
      { ...CASES[0], batch: 2, cin: 16, cout: 20, size: [8, 8, 4] },
      { ...CASES[7], batch: 2, cin: 16, cout: 24, size: [8, 8, 4] },
    ];
    const wasDeterministic = isDeterministic();
    try {
      b._cudaSetFusedConv(false);
      setDeterministic(true);
      for (const [k, c] of cases.entries()) {
        for (const dim of [2, 3] as Dim[]) {
          for (const dtype of ['float16', 'bfloat16'] as DType[]) {
            const p = problem(c, dim, 950 + k * 4 + dim);
            const gy = uniformArray(
              rng(951 + k * 4 + dim),
              p.outShape.reduce((a, v) => a * v, 1),
              -1,
              1,
            );
            const run = (): Float64Array[] => forwardAndGrads(p, dtype, gy);
            b._cudaSetGemmVectorLoads(true);
            const vec = run();
            b._cudaSetGemmVectorLoads(false);
            const scalar = run();
            vec.forEach((v, i) => {
              const tag = `${c.name}, dim=${dim}, ${dtype}, output ${i}`;
              assert.ok(!hasNaN(v), `${tag}: NaN`);
              assert.ok(
                v.some((x) => x !== 0),
                `${tag}: all zero`,
              );
              assert.deepEqual(v, scalar[i], `${tag}: vector and element loads differ`);
            });
          }
        }
      }
    } finally {
      b._cudaSetGemmVectorLoads(true);
      b._cudaSetFusedConv(true);
      setDeterministic(wasDeterministic);
    }
  });

  it('16-bit GEMM: the cp.async kernel on full and partial 128 x 128 tiles and the element-by-element kernel give bitwise the same results', {
    skip: DRY_RUN,
  }, () => {
    // More than one wave of blocks, full and partial 128 x 128 tiles in every product (forward and weight
    // gradient M = 136, input gradient M = 16 * 9 = 144, 1936 positions per image) through the cp.async
    // kernel (NOTE [ 16-bit GEMM pipeline ]; the 64 x 128 tiles: the test above); with the vector loads
    // off, the register-staged element-by-element kernel. Deterministic mode: the scatter's order is fixed.
    // (The wide-tile switch is toggled too: it must not change anything for 16-bit products.)
    const b = getCudaBinding('test');
    const c: Case = { ...CASES[0], batch: 10, cin: 16, cout: 136, size: [44, 44, 4] };
    const wasDeterministic = isDeterministic();
    try {
      b._cudaSetFusedConv(false);
      setDeterministic(true);
      for (const dtype of ['float16', 'bfloat16'] as DType[]) {
        const p = problem(c, 2, 970);
        const gy = uniformArray(
          rng(971),
          p.outShape.reduce((a, v) => a * v, 1),
          -1,
          1,
        );
        const run = (): Float64Array[] => forwardAndGrads(p, dtype, gy);
        b._cudaSetGemmWideTiles(true);
        const wide = run();
        b._cudaSetGemmWideTiles(false);
        const narrow = run();
        b._cudaSetGemmVectorLoads(false);
        const scalar = run();
        b._cudaSetGemmVectorLoads(true);
        b._cudaSetGemmWideTiles(true);
        wide.forEach((v, i) => {
          const tag = `${dtype}, output ${i}`;
          assert.ok(!hasNaN(v), `${tag}: NaN`);
          assert.ok(
            v.some((x) => x !== 0),
            `${tag}: all zero`,
          );
          assert.deepEqual(v, narrow[i], `${tag}: the wide-tile switch changed a 16-bit product`);
          assert.deepEqual(v, scalar[i], `${tag}: cp.async and element-by-element kernels differ`);
        });
      }
    } finally {
      b._cudaSetGemmVectorLoads(true);
      b._cudaSetGemmWideTiles(true);
      b._cudaSetFusedConv(true);
      setDeterministic(wasDeterministic);
    }
  });

  /** The cases of the warpgroup-kernel tests: partial 128-row tiles, 24 rows (64-row tiles), transposed. */
  const wgmmaCases = (prefix: string): Case[] => [
    { ...CASES[0], name: `${prefix}: 136 out channels`, batch: 6, cin: 16, cout: 136, size: [44, 44, 4] },
    { ...CASES[0], name: `${prefix}: 24 out channels, 72 in`, batch: 2, cin: 72, cout: 24, size: [20, 18, 4] },
    { ...CASES[7], name: `${prefix}: transposed`, batch: 2, cin: 16, cout: 24, size: [8, 8, 4] },
  ];
  /** Runs `fn` with environment variable `name` set to `value` (deleted when undefined), then restores it. */
  const withEnv = <T>(name: string, value: string | undefined, fn: () => T): T => {
    const was = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    try {
      return fn();
    } finally {
      if (was === undefined) delete process.env[name];
      else process.env[name] = was;
    }
  };
  /** Forward and all gradients, asserting how often the warpgroup kernels ran (none, or at least `least`). */
  const runCountingWgmma = (p: Problem, dtype: DType, gy: Float64Array, least: number, tag: string) => {
    const b = getCudaBinding('test');
    const before = b._cudaWgmmaLaunches();
    const out = forwardAndGrads(p, dtype, gy);
    const launched = b._cudaWgmmaLaunches() - before;
    if (least === 0) assert.equal(launched, 0, `${tag}: the warpgroup kernel ran`);
    else assert.ok(launched >= least, `${tag}: the warpgroup kernel ran ${launched} times`);
    return out;
  };
  /** Asserts that every output of `got` is finite, not all zero, and bitwise `ref`'s. */
  const expectBitwiseKernels = (got: Float64Array[], ref: Float64Array[], tag: string): void => {
    got.forEach((v, i) => {
      assert.ok(!hasNaN(v), `${tag}, output ${i}: NaN`);
      assert.ok(
        v.some((x) => x !== 0),
        `${tag}, output ${i}: all zero`,
      );
      let worstDiff = 0;
      for (let e = 0; e < v.length; e++) worstDiff = Math.max(worstDiff, Math.abs(v[e] - ref[i][e]));
      assert.equal(
        worstDiff,
        0,
        `${tag}, output ${i}: the warpgroup and mma.sync kernels differ (max |diff| ${worstDiff})`,
      );
    });
  };

  /**
   * Runs `fn` on a device of compute capability 9.0 (else skips `t`) with the fused forward off and deterministic
   * mode on (the scatter's order fixed), then restores both.
   */
  const onHopper = (t: { skip(message: string): void }, fn: () => void): void => {
    const b = getCudaBinding('test');
    const props = b.cudaDeviceProperties();
    if (props.major !== 9 || props.minor !== 0) {
      t.skip(`compute capability ${props.major}.${props.minor}: the warpgroup kernel is for 9.0`);
      return;
    }
    const wasDeterministic = isDeterministic();
    try {
      b._cudaSetFusedConv(false);
      setDeterministic(true);
      fn();
    } finally {
      b._cudaSetFusedConv(true);
      setDeterministic(wasDeterministic);
    }
  };

  it("16-bit GEMM: the Hopper warpgroup kernel gives bitwise the mma.sync kernel's results, at every tile width", {
    skip: DRY_RUN,
  }, (t) => {
    // NOTE [ Hopper warpgroup GEMM ]: on a device of compute capability 9.0 (with the sm_90a build) the 16-bit
    // products where the vector loads apply run on gemm_wgmma16_kernel; TVDCN_CUDA_GEMM16=mma keeps the cp.async
    // mma.sync kernel, =wgmma128 / =wgmma256 / =wgmma256m / =wgmma2 force the tile (128 x 128, 128 x 256, 256 x 128,
    // 128 x 128 two blocks per SM; read at each call). Every product's layout is
    // here: the forward (A k-major, B n-major), the input gradient's columns (A m-major), the weight gradient (B
    // k-major, K folded over images), the transposed op's; M <= 64 (64 x 256 tiles) and M = 136 / 144 (partial
    // 128-row tiles), partial column and K tiles. Deterministic mode: the scatter's order is fixed.
    onHopper(t, () => {
      for (const [k, c] of wgmmaCases('wgmma').entries()) {
        for (const dim of [2, 3] as Dim[]) {
          for (const dtype of ['float16', 'bfloat16'] as DType[]) {
            const p = problem(c, dim, 1990 + k * 4 + dim);
            const gy = uniformArray(
              rng(1991 + k * 4 + dim),
              p.outShape.reduce((a, v) => a * v, 1),
              -1,
              1,
            );
            const run = (mode: string): Float64Array[] =>
              withEnv('TVDCN_CUDA_GEMM16', mode, () =>
                runCountingWgmma(p, dtype, gy, mode === 'mma' ? 0 : 2, `${c.name}, dim=${dim}, ${dtype}, ${mode}`),
              );
            const ref = run('mma');
            for (const mode of ['wgmma128', 'wgmma256', 'wgmma256m', 'wgmma2', 'auto']) {
              expectBitwiseKernels(run(mode), ref, `${c.name}, dim=${dim}, ${dtype}, ${mode}`);
            }
          }
        }
      }
    });
  });

  it("float32 GEMM: the Hopper warpgroup kernel gives bitwise the mma.sync kernel's results, in tf32x3 and tf32", {
    skip: DRY_RUN,
  }, (t) => {
    // NOTE [ Hopper warpgroup GEMM, 32-bit operands ]: on a device of compute capability 9.0 the float32 products
    // where 16-byte vector loads apply run on gemm_wgmma_tf32_kernel (operands staged raw, converted to TF32 [and
    // the 3xTF32 remainders] once per K step); TVDCN_CUDA_GEMM32=mma keeps gemm_mma_async_kernel (read at each
    // call). Every layout of our products: the forward (B n-major), the input gradient (A and B m/n-major), the
    // weight gradient (both k-major, K folded over images), the transposed op's; M <= 64 (64 x 128 tiles of two n64
    // warpgroups; TF32 with N >= 1024 64 x 256) and M = 136 / 144 (partial 128-row tiles); partial K steps. By
    // default A's TF32 planes are made once per product where A serves several column tiles (NOTE [ TF32 planes of A
    // made once per product ]); TVDCN_CUDA_GEMM32=raw converts A in every block: both must equal mma.sync.
    const planesLaunches = (): number => getCudaBinding('test')._cudaTf32PlanesLaunches();
    onHopper(t, () => {
      try {
        for (const mode of ['tf32x3', 'tf32'] as const) {
          setCudaFloat32Matmul(mode);
          for (const [k, c] of wgmmaCases('wgmma32').entries()) {
            for (const dim of [2, 3] as Dim[]) {
              const p = problem(c, dim, 2090 + k * 4 + dim);
              const gy = uniformArray(
                rng(2091 + k * 4 + dim),
                p.outShape.reduce((a, v) => a * v, 1),
                -1,
                1,
              );
              const tag = `${c.name}, dim=${dim}, ${mode}`;
              const ref = withEnv('TVDCN_CUDA_GEMM32', 'mma', () =>
                runCountingWgmma(p, 'float32', gy, 0, `${tag}, mma`),
              );
              const planesBefore = planesLaunches();
              const got = withEnv('TVDCN_CUDA_GEMM32', undefined, () =>
                runCountingWgmma(p, 'float32', gy, 2, `${tag}, wgmma`),
              );
              // The first case's products (136 rows, K >= 4 steps of 32, many column tiles) make them; the others
              // (24 rows or K of 1-2 steps) may not.
              if (k === 0) assert.ok(planesLaunches() > planesBefore, `${tag}: A's planes were never made`);
              expectBitwiseKernels(got, ref, tag);
              const rawBefore = planesLaunches();
              const raw = withEnv('TVDCN_CUDA_GEMM32', 'raw', () =>
                runCountingWgmma(p, 'float32', gy, 2, `${tag}, wgmma raw`),
              );
              assert.equal(planesLaunches(), rawBefore, `${tag}, raw: A's planes were made`);
              expectBitwiseKernels(raw, ref, `${tag}, raw`);
            }
          }
        }
      } finally {
        setCudaFloat32Matmul('tf32x3');
      }
    });
  });

  it("backward: the columns written by the offset pass give bitwise the im2col path's gradients", () => {
    // NOTE [ Columns from the offset pass ]: with the offset gradient requested, the offset pass writes the
    // columns that the weight gradient (and the transposed op's input gradient) read (by default in every dim;
    // TVDCN_CUDA_BWD_COLS=im2col turns it off); without it, im2col does. Both must give the same columns, so the gradients of the input, weight and
    // bias are bitwise the same either way.
    // Regular and transposed, mask groups equal to and different from the offset groups, no mask, dims
    // 1-3, every dtype; deterministic mode (the scatter's order is fixed); a problem with enough (image,
    // channel) rows for the bias gradient's row kernel; and once with a 1 MiB workspace (chunks of part of
    // an image). The bias gradient is checked against the float64 sum of the output gradient. (In a dry run,
    // float32 and float64 on the CPU: a check of the test itself.)
    const b = DRY_RUN ? null : getCudaBinding('test');
    const cases = [CASES[0], CASES[1], CASES[2], CASES[3], CASES[7], CASES[8], CASES[9]];
    const wasDeterministic = isDeterministic();
    const check = (c: Case, dim: Dim, dtype: DType, seed: number): void => {
      const p = problem(c, dim, seed);
      const values = p.inputs.map((i) => roundTo(i.values, dtype, (x, d) => toGpu(x, d)));
      const gy = outputGrad(p, dtype, seed + 1);
      const off = p.inputs.findIndex((i) => i.name === 'offset');
      assert.ok(off >= 0, 'the case has an offset');
      // All gradients, or all but the offset's: gradients by input name.
      const run = (withOffset: boolean): Map<string, Float64Array> =>
        tidy(() => {
          const xs = p.inputs.map((i, k) => {
            const t = toGpu(values[k], dtype, i.shape);
            t.requiresGrad = withOffset || k !== off;
            return t;
          });
          const want = xs.filter((t) => t.requiresGrad);
          poison(
            dtype,
            p.inputs.map((i) => i.values.length),
          );
          const y = p.call(xs);
          // Which path the backward took, from its profiled phases: without this a run with
          // TVDCN_CUDA_BWD_COLS=im2col in the environment would compare im2col with itself and pass.
          b?._cudaProfileReport();
          b?._cudaProfile(true);
          let gs: Tensor[];
          let phases: Record<string, number> = {};
          try {
            gs = grad(y, want, toGpu(gy, dtype, y.shape)) as Tensor[];
            if (b !== null) phases = b._cudaProfileReport();
          } finally {
            b?._cudaProfile(false);
          }
          if (b !== null) {
            // im2col_kernel, or the vector kernel where it is the default (one 16-byte vector per offset group).
            const im2col = 'im2col' in phases || 'im2col_vector' in phases;
            const forced = process.env.TVDCN_CUDA_BWD_COLS;
            const fromOffsetPass = forced !== 'im2col';
            const expected = !withOffset || !fromOffsetPass;
            assert.equal(
              im2col,
              expected,
              `dim=${dim} ${c.name} [${dtype}] ${withOffset ? 'with' : 'without'} the offset gradient: ` +
                `the backward ${im2col ? 'ran' : 'did not run'} im2col (phases: ${Object.keys(phases).join(', ')})`,
            );
          }
          const names = p.inputs.filter((_, k) => withOffset || k !== off).map((i) => i.name);
          return new Map(names.map((n, k) => [n, vals(gs[k] as Tensor)]));
        });
      // The offset pass first: its columns land in a workspace block that held another problem's values, so a
      // column it failed to write would show as a difference (the im2col run after it writes every column).
      const fromOffset = run(true);
      const fromIm2col = run(false);
      const tag = `dim=${dim} ${c.name} [${dtype}]`;
      // The bias gradient (NOTE [ Bias gradient rows ] where the rows are whole 16-byte vectors) against
      // the float64 sum of the same output gradient.
      const gb = fromOffset.get('bias');
      if (gb !== undefined) {
        const [nb, nc] = p.outShape;
        const n = gy.length / (nb * nc);
        const ref = new Float64Array(nc);
        for (let i = 0; i < gy.length; i++) ref[Math.floor(i / n) % nc] += gy[i];
        expectClose(`${tag} grad bias`, gb, ref, tolerance(dtype, 'backward'));
      }
      assert.equal(fromIm2col.size, fromOffset.size - 1, `${tag}: gradients`);
      for (const [name, g] of fromIm2col) {
        // The mask gradient comes from the offset pass in one run and from its own kernel in the other
        // (mask groups = offset groups): not a product of the columns.
        if (name === 'mask') continue;
        const o = fromOffset.get(name) as Float64Array;
        assert.ok(!hasNaN(o), `${tag} grad ${name}: NaN`);
        assert.ok(
          o.some((x) => x !== 0),
          `${tag} grad ${name}: all zero`,
        );
        assert.deepEqual(o, g, `${tag} grad ${name}: columns from the offset pass and from im2col differ`);
      }
    };
    try {
      setDeterministic(true);
      let seed = 1700;
      for (const c of cases) {
        for (const dim of [1, 2, 3] as Dim[]) {
          for (const dtype of ALL_DTYPES) {
            check(c, dim, dtype, (seed += 2));
          }
        }
      }
      // 8 x 48 rows of 256 positions: the bias gradient's row kernel (it needs two rows per multiprocessor).
      const rows = { ...CASES[0], batch: 8, cin: 8, cout: 48, size: [16, 16, 4] };
      for (const dtype of ALL_DTYPES.filter((d) => d !== 'float64')) {
        check(rows, 2, dtype, (seed += 2));
        check({ ...rows, transposed: true }, 2, dtype, (seed += 2));
      }
      b?.cudaSetWorkspaceLimit(1 << 20);
      const big = { ...CASES[0], batch: 3, cin: 8, cout: 8, size: [40, 36, 5] };
      for (const dtype of ALL_DTYPES.filter((d) => d === 'float32' || d === 'float16')) {
        check(big, 2, dtype, (seed += 2));
        check({ ...big, transposed: true }, 2, dtype, (seed += 2));
      }
    } finally {
      b?.cudaSetWorkspaceLimit(512 * 2 ** 20);
      setDeterministic(wasDeterministic);
    }
  });

  it('fused forward: results do not depend on the kernel or tile (fused vs im2col + GEMM, 64- and 128-row tiles, 64- and 128-position tiles, both channels-last copies)', {
    skip: DRY_RUN,
  }, () => {
    const b = getCudaBinding('test');
    const forward = (c: Case, dim: Dim, dtype: DType, values: Float64Array[]): Float64Array =>
      tidy(() => {
        const p = problem(c, dim, 0);
        poison(dtype, [p.outShape.reduce((x, y) => x * y, 1)]);
        return vals(p.call(p.inputs.map((i, k) => toGpu(values[k], dtype, i.shape))));
      });
    // The switches are read at each call; whatever the process started with is put back at the end.
    const wasTile = process.env.TVDCN_CUDA_FUSED_TILE;
    const wasCopy = process.env.TVDCN_CUDA_FUSED_CL;
    const wasPlan = process.env.TVDCN_CUDA_FUSED_PLAN;
    const restore = (name: string, v: string | undefined): void => {
      if (v === undefined) delete process.env[name];
      else process.env[name] = v;
    };
    // Which tile and copy ran, from the profiled phases: a switch that was ignored would otherwise compare a
    // path with itself. The vector copy applies only where rows are whole 16-byte vectors: each dtype must
    // have taken it somewhere.
    const vectorCopies = new Map<DType, number>();
    // The plans made by the lanes of a position (NOTE [ Plans made by the lanes of a position ]: 3D, half types, one
    // offset and mask group), and each lane's own (TVDCN_CUDA_FUSED_PLAN=thread): bitwise the same output.
    const lanePlans = new Map<DType, number>();
    for (const c of FUSED_CASES) {
      for (const dim of [1, 2, 3] as Dim[]) {
        for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
          const p = problem(c, dim, 600 + dim);
          const values = p.inputs.map((i) => roundTo(i.values, dtype, (x, d) => toGpu(x, d)));
          try {
            b._cudaSetFusedConv(false);
            const unfused = forward(c, dim, dtype, values);
            b._cudaSetFusedConv(true, true); // forced: float32 and these small grids too
            // Both position tiles (NOTE [ Fused forward, narrow tile ]; the narrow one in 1D and 2D) and both
            // channels-last copies (the vector one where rows are whole 16-byte vectors): the same products in
            // the same order, so bitwise the same output as the first (wide tile, scalar copy).
            let first: Float64Array | undefined;
            for (const [tile, copy, plan] of [
              ['wide', 'scalar', 'lane'],
              ['narrow', 'scalar', 'lane'],
              ['wide', 'vector', 'lane'],
              ['narrow', 'vector', 'lane'],
              ['wide', 'vector', 'thread'],
            ]) {
              process.env.TVDCN_CUDA_FUSED_TILE = tile;
              process.env.TVDCN_CUDA_FUSED_CL = copy;
              process.env.TVDCN_CUDA_FUSED_PLAN = plan;
              b._cudaProfileReport();
              b._cudaProfile(true);
              let fusedOut: Float64Array;
              let phases: Record<string, number>;
              try {
                fusedOut = forward(c, dim, dtype, values);
                phases = b._cudaProfileReport();
              } finally {
                b._cudaProfile(false);
              }
              const what = `dim=${dim} ${c.name} [${dtype}] fused (${tile} tile, ${copy} copy, ${plan} plans)`;
              const ran = Object.keys(phases).join(', ');
              const narrowRan = 'fused_forward_narrow' in phases;
              const lanesRan = 'fused_forward_lane_plans' in phases;
              assert.ok(
                narrowRan || lanesRan || 'fused_forward' in phases,
                `${what}: the fused kernel did not run (${ran})`,
              );
              const lanesApply = dim === 3 && dtype !== 'float32' && c.offset && c.og === 1 && (!c.mask || c.mg === 1);
              assert.equal(lanesRan, lanesApply && plan === 'lane', `${what}: lane plans (${ran})`);
              if (lanesRan) lanePlans.set(dtype, (lanePlans.get(dtype) ?? 0) + 1);
              assert.equal(narrowRan, tile === 'narrow' && dim <= 2, `${what}: tile (${ran})`);
              const vectorRan = 'fused_channels_last_vector' in phases;
              assert.ok(copy === 'vector' || !vectorRan, `${what}: the vector copy ran unasked (${ran})`);
              if (vectorRan) vectorCopies.set(dtype, (vectorCopies.get(dtype) ?? 0) + 1);
              assert.ok(!hasNaN(fusedOut) && !hasNaN(unfused), `${what}: NaN`);
              const key = `${dtype} fused vs unfused forward`;
              worst[key] = Math.max(
                worst[key] ?? 0,
                expectClose(`${what} vs unfused`, fusedOut, unfused, tolerance(dtype, 'forward')),
              );
              if (first === undefined) first = fusedOut;
              else assert.deepEqual(fusedOut, first, `${what}: differs from the wide tile with the scalar copy`);
            }
          } finally {
            restore('TVDCN_CUDA_FUSED_TILE', wasTile);
            restore('TVDCN_CUDA_FUSED_CL', wasCopy);
            restore('TVDCN_CUDA_FUSED_PLAN', wasPlan);
            b._cudaSetFusedConv(true);
          }
        }
      }
    }
    for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
      assert.ok((vectorCopies.get(dtype) ?? 0) > 0, `[${dtype}]: the vector channels-last copy never ran`);
    }
    for (const dtype of ['float16', 'bfloat16'] as DType[]) {
      assert.ok((lanePlans.get(dtype) ?? 0) > 0, `[${dtype}]: the plans made by the lanes never ran`);
    }
  });

  it("im2col: the warp and vector kernels from a channels-last copy give bitwise the thread kernel's output and gradients", {
    skip: DRY_RUN,
  }, () => {
    // NOTE [ Warp im2col from channels-last X ]: TVDCN_CUDA_IM2COL=warp takes the warp kernel in every dim (by
    // default 3D only), =thread keeps im2col_kernel (both read at each call). The regular forward (fused off, so
    // that im2col + GEMM runs in every dtype) and every gradient (the weight gradient's columns; the transposed
    // op's input gradient) must be bitwise the same either way; in deterministic mode, so that the scatter into
    // the input gradient adds in a fixed order. Cases: the
    // suite's regular and transposed ones with offsets, plus mask groups finer than the offset groups (the mask
    // read per channel), an odd channel count per offset group (one channel per lane in the half types), 8
    // channels per offset group (lanes over several positions) and more than 32 * 2 channels in one group, on
    // grids with more than one tile of 32 positions and a partial last tile.
    // NOTE [ Vector im2col for small offset groups ]: =vector takes the vector kernel wherever a group's channels are
    // 16, 32 or 64 bytes (the default does too) or a multiple of 64 bytes (in slices) and share a mask group,
    // im2col_kernel elsewhere; the extra cases give it 1, 2 and 4 vectors per corner in each dtype, slices of a
    // 128-channel group, and one where the mask group changes inside a group (not taken).
    const b = getCudaBinding('test');
    const was = process.env.TVDCN_CUDA_IM2COL;
    // The offset pass on its own kernel: its vector kernel (the default in the half types at 64 channels per group)
    // makes the channels-last copy too, which the check below takes as the warp kernel's.
    const wasOffsetPass = process.env.TVDCN_CUDA_OFFSET_GRAD;
    process.env.TVDCN_CUDA_OFFSET_GRAD = 'thread';
    // The backward's columns (the weight gradient's, the transposed op's input gradient's) from im2col too, not from
    // the offset pass (NOTE [ Columns from the offset pass ]), so that the kernels under test make them.
    const wasBwdCols = process.env.TVDCN_CUDA_BWD_COLS;
    process.env.TVDCN_CUDA_BWD_COLS = 'im2col';
    const extra = IM2COL_CASES;
    // Where the vector kernel applies with =vector: the regular view's X (the transposed op's output) has 16, 32 or
    // 64 bytes of channels per offset group, or a multiple of 64 (in slices), and a whole group shares one mask group.
    const vectorApplies = (c: Case, dtype: DType): boolean => {
      const cx = c.transposed ? c.cout : c.cin;
      const cpo = cx / c.og;
      const bytes = cpo * (dtype === 'float32' ? 4 : 2);
      const fits = bytes <= 64 ? [16, 32, 64].includes(bytes) : bytes % 64 === 0;
      return fits && (!c.mask || (cx / c.mg) % cpo === 0);
    };
    // The quick list (the sanitizer's) takes its cases and the extra ones.
    const cases = [...CASES.filter((c) => !QUICK || QUICK_CASES.has(c.name)), ...extra];
    // NOTE [ Channels-last by group ]: 'vector' reads the copy made by offset group (the default), 'vectorOneCopy' the
    // one copy of all channels (TVDCN_CUDA_IM2COL_COPY=channels_last).
    const counts = { warp: 0, thread: 0, vector: 0, vectorOneCopy: 0, vectorRan: 0 };
    type Mode = 'warp' | 'thread' | 'vector' | 'vectorOneCopy';
    const run = (c: Case, dim: Dim, dtype: DType, mode: Mode, seed: number): Float64Array[] => {
      process.env.TVDCN_CUDA_IM2COL = mode === 'vectorOneCopy' ? 'vector' : mode;
      const { out, phases } = withEnv(
        'TVDCN_CUDA_IM2COL_COPY',
        mode === 'vectorOneCopy' ? 'channels_last' : undefined,
        () => profiledForwardAndGrads(b, c, dim, dtype, seed),
      );
      const tag = `dim=${dim} ${c.name} [${dtype}] ${mode}`;
      // Where im2col runs (every case here: the backward's columns come from it too), the warp kernel runs
      // wherever it is asked for (whole images fit the default workspace).
      const vectorRan = 'im2col_vector' in phases;
      const ran = 'im2col' in phases || vectorRan;
      const warpRan = 'im2col' in phases && 'im2col_channels_last' in phases;
      assert.equal(warpRan, ran && mode === 'warp', `${tag}: the warp kernel ${warpRan ? 'ran' : 'did not run'}`);
      assert.equal(
        vectorRan,
        ran && (mode === 'vector' || mode === 'vectorOneCopy') && vectorApplies(c, dtype),
        `${tag}: the vector kernel ${vectorRan ? 'ran' : 'did not run'}`,
      );
      if (ran) counts[mode]++;
      if (vectorRan) counts.vectorRan++;
      for (const [k, v] of out.entries()) assert.ok(!hasNaN(v), `${tag}: NaN in result ${k}`);
      return out;
    };
    const wasDeterministic = isDeterministic();
    try {
      setDeterministic(true);
      b._cudaSetFusedConv(false);
      let seed = 2300;
      const both = (c: Case, dim: Dim, dtype: DType): void => {
        seed += 2;
        const thread = run(c, dim, dtype, 'thread', seed);
        for (const mode of ['warp', 'vector', 'vectorOneCopy'] as const) {
          const other = run(c, dim, dtype, mode, seed);
          assert.equal(other.length, thread.length);
          for (const [k, v] of other.entries()) {
            assert.ok(
              v.some((x) => x !== 0),
              `dim=${dim} ${c.name} [${dtype}] result ${k}: all zero`,
            );
            assert.deepEqual(
              v,
              thread[k],
              `dim=${dim} ${c.name} [${dtype}] result ${k}: ${mode} and thread im2col differ`,
            );
          }
        }
      };
      for (const c of cases)
        for (const dim of [1, 2, 3] as Dim[])
          for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) both(c, dim, dtype);
      // Chunks of part of an image (a 1 MiB column workspace): one channels-last copy per image, read by its chunks.
      b.cudaSetWorkspaceLimit(1 << 20);
      const big = partialImageCase('warp im2col: chunks of part of an image');
      for (const dim of [2, 3] as Dim[]) for (const dtype of ['float32', 'float16'] as DType[]) both(big, dim, dtype);
    } finally {
      if (was === undefined) delete process.env.TVDCN_CUDA_IM2COL;
      else process.env.TVDCN_CUDA_IM2COL = was;
      if (wasOffsetPass === undefined) delete process.env.TVDCN_CUDA_OFFSET_GRAD;
      else process.env.TVDCN_CUDA_OFFSET_GRAD = wasOffsetPass;
      if (wasBwdCols === undefined) delete process.env.TVDCN_CUDA_BWD_COLS;
      else process.env.TVDCN_CUDA_BWD_COLS = wasBwdCols;
      b._cudaSetFusedConv(true);
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
      setDeterministic(wasDeterministic);
    }
    assert.ok(
      counts.warp >= cases.length * 6 &&
        counts.warp === counts.thread &&
        counts.vector === counts.thread &&
        counts.vectorOneCopy === counts.thread,
      `runs: ${JSON.stringify(counts)}`,
    );
    // Every extra vector case but the last in all three dtypes and dims at least (1 and 2 vectors per corner in
    // float32 and the halves, 4 in both), the first suite case (4 float32 channels) and the partial-image chunks.
    assert.ok(counts.vectorRan >= 2 * 3 * 3 * 3, `vector kernel runs: ${JSON.stringify(counts)}`);
  });

  it('im2col: the thread and vector kernels give bitwise the same results dividing with host-made divisors as with plain division', {
    skip: DRY_RUN,
  }, () => {
    // NOTE [ Division by a run-time constant ]: where their indices are int32, im2col_kernel and im2col_vector_kernel
    // unravel them with divisors made on the host; TVDCN_CUDA_IM2COL_DIV=plain keeps the plain division (read at each
    // call). The quotients are the same, so the forward (fused off, so that im2col + GEMM runs in every dtype) and
    // every gradient (the backward's columns from im2col too, in deterministic mode) must be bitwise the same. Cases:
    // the suite's (odd sizes, strides, dilations, groups, mask groups, the transposed op), the vector kernel's group
    // widths, mask groups finer than a slice, and chunks of part of an image (a first position q0 > 0).
    const b = getCudaBinding('test');
    const extra = IM2COL_CASES;
    const cases = [...CASES.filter((c) => !QUICK || QUICK_CASES.has(c.name)), ...extra];
    const launches = (): number => b._cudaIm2colDivisorLaunches();
    const runs = { plain: 0, divisors: 0, vector: 0 };
    let seed = 4100;
    const compareBoth = (c: Case, dim: Dim, dtype: DType, mode: 'thread' | 'vector'): void => {
      seed += 2;
      const tag = `dim=${dim} ${c.name} [${dtype}] ${mode}`;
      const run = (division: 'plain' | undefined) =>
        withEnv('TVDCN_CUDA_IM2COL_DIV', division, () => {
          const before = launches();
          const { out, phases } = profiledForwardAndGrads(b, c, dim, dtype, seed);
          const divided = launches() - before;
          assert.ok('im2col' in phases || 'im2col_vector' in phases, `${tag}: im2col did not run`);
          if (division === 'plain') assert.equal(divided, 0, `${tag}: divisors with =plain`);
          else assert.ok(divided > 0, `${tag}: no im2col launch used the divisors`);
          if ('im2col_vector' in phases) runs.vector++;
          runs[division ?? 'divisors']++;
          for (const [k, v] of out.entries()) assert.ok(!hasNaN(v), `${tag}: NaN in result ${k}`);
          return out;
        });
      const plain = run('plain');
      const divided = run(undefined);
      assert.equal(divided.length, plain.length);
      for (const [k, v] of divided.entries()) {
        assert.ok(
          v.some((x) => x !== 0),
          `${tag} result ${k}: all zero`,
        );
        assert.deepEqual(v, plain[k], `${tag} result ${k}: the divisors and plain division differ`);
      }
    };
    const wasDeterministic = isDeterministic();
    try {
      setDeterministic(true);
      b._cudaSetFusedConv(false);
      withEnv('TVDCN_CUDA_OFFSET_GRAD', 'thread', () =>
        withEnv('TVDCN_CUDA_BWD_COLS', 'im2col', () => {
          for (const mode of ['thread', 'vector'] as const)
            withEnv('TVDCN_CUDA_IM2COL', mode, () => {
              const dtypes: DType[] = mode === 'thread' ? ['float64', 'float32', 'float16'] : ['float32', 'bfloat16'];
              for (const c of cases)
                for (const dim of [1, 2, 3] as Dim[]) for (const dtype of dtypes) compareBoth(c, dim, dtype, mode);
            });
          // Chunks of part of an image (a 1 MiB column workspace).
          b.cudaSetWorkspaceLimit(1 << 20);
          const big = partialImageCase('divisors: chunks of part of an image');
          withEnv('TVDCN_CUDA_IM2COL', 'thread', () => {
            for (const dim of [2, 3] as Dim[]) compareBoth(big, dim, 'float32', 'thread');
          });
        }),
      );
    } finally {
      b._cudaSetFusedConv(true);
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
      setDeterministic(wasDeterministic);
    }
    assert.equal(runs.plain, runs.divisors, `runs: ${JSON.stringify(runs)}`);
    assert.ok(runs.plain >= cases.length * 3 * 5, `runs: ${JSON.stringify(runs)}`);
    // The vector kernel in both dims' worth of its cases (4 float32 channels a group in the suite's first case, the
    // extra 32- and 64-channel groups), with either division.
    assert.ok(runs.vector >= 2 * 3 * 3, `vector kernel runs: ${JSON.stringify(runs)}`);
  });

  it("offset pass: the vector kernel from a channels-last copy gives bitwise the thread kernel's gradients", {
    skip: DRY_RUN,
  }, () => {
    // NOTE [ Vector offset pass ]: TVDCN_CUDA_OFFSET_GRAD=vector takes the vector kernel wherever an offset group's
    // channels are a whole number of 16-byte vectors (float32: 4, the half types: 8), =thread never, and by default
    // the half types at 64 channels per group or more in 2D and 3D (read at each call). Every gradient must be
    // bitwise the same either way (deterministic mode: the scatter's order is fixed). Cases: one group of 8 and 64 channels, 4 and 2 groups, mask groups finer than and
    // equal to the offset groups (the mask reloaded inside a vector), no mask, the transposed op, stride 2, 1D with
    // the columns written by the offset pass, and chunks of part of an image.
    const b = getCudaBinding('test');
    const was = process.env.TVDCN_CUDA_OFFSET_GRAD;
    const base = CASES[0];
    const cases: Case[] = [
      { ...base, name: 'vector offset pass: 8 channels, og 1, mg 1', cin: 8, cout: 6, size: [23, 9, 5] },
      { ...base, name: 'vector offset pass: 64 channels, og 1, mg 8', cin: 64, cout: 4, mg: 8, size: [19, 7, 4] },
      {
        ...base,
        name: 'vector offset pass: 32 channels, og 4, mg 4',
        cin: 32,
        cout: 8,
        og: 4,
        mg: 4,
        size: [21, 7, 4],
      },
      {
        ...base,
        name: 'vector offset pass: 16 channels, og 2, no mask, stride 2',
        cin: 16,
        cout: 8,
        og: 2,
        mask: false,
        stride: 2,
        size: [33, 9, 5],
      },
      {
        ...base,
        name: 'vector offset pass: transposed, 16 channels',
        transposed: true,
        cin: 8,
        cout: 16,
        size: [9, 6, 4],
      },
      { ...base, name: 'vector offset pass: 12 channels (float32 only)', cin: 12, cout: 4, size: [17, 6, 4] },
    ];
    // The regular view's X (the transposed op's output gradient) has cx channels in og groups.
    const applies = (c: Case, dtype: DType): boolean => {
      const cx = c.transposed ? c.cout : c.cin;
      return ((cx / c.og) * (dtype === 'float32' ? 4 : 2)) % 16 === 0;
    };
    const counts = { vector: 0, thread: 0 };
    type Mode = 'thread' | 'vector' | 'default';
    const run = (c: Case, dim: Dim, dtype: DType, mode: Mode, seed: number): Float64Array[] => {
      if (mode === 'default') delete process.env.TVDCN_CUDA_OFFSET_GRAD;
      else process.env.TVDCN_CUDA_OFFSET_GRAD = mode;
      const { out, phases } = profiledForwardAndGrads(b, c, dim, dtype, seed);
      const tag = `dim=${dim} ${c.name} [${dtype}] ${mode}`;
      const vector = Object.keys(phases).some((k) => k.startsWith('offset') && k.endsWith('_vector'));
      const thread = 'offset_grad' in phases || 'offset_mask_grad' in phases;
      const taken =
        mode === 'vector' ||
        (mode === 'default' && dim > 1 && dtype !== 'float32' && (c.transposed ? c.cout : c.cin) / c.og >= 64);
      assert.equal(vector, taken && applies(c, dtype), `${tag}: the vector kernel ${vector ? 'ran' : 'did not run'}`);
      assert.equal(thread, !vector, `${tag}: phases ${Object.keys(phases).join(', ')}`);
      counts[vector ? 'vector' : 'thread']++;
      for (const [k, v] of out.entries()) assert.ok(!hasNaN(v), `${tag}: NaN in gradient ${k}`);
      return out;
    };
    const wasDeterministic = isDeterministic();
    let seed = 2500;
    const both = (c: Case, dim: Dim, dtype: DType): void => {
      seed += 2;
      const thread = run(c, dim, dtype, 'thread', seed);
      for (const mode of ['vector', 'default'] as const) {
        const vector = run(c, dim, dtype, mode, seed);
        assert.equal(vector.length, thread.length);
        for (const [k, v] of vector.entries()) {
          assert.ok(
            v.some((x) => x !== 0),
            `dim=${dim} ${c.name} [${dtype}] gradient ${k}: all zero`,
          );
          assert.deepEqual(
            v,
            thread[k],
            `dim=${dim} ${c.name} [${dtype}] gradient ${k}: ${mode} and thread offset passes differ`,
          );
        }
      }
    };
    try {
      setDeterministic(true);
      for (const c of cases)
        for (const dim of [1, 2, 3] as Dim[])
          for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) both(c, dim, dtype);
      b.cudaSetWorkspaceLimit(1 << 20);
      const big = { ...cases[0], name: 'vector offset pass: chunks of part of an image', batch: 3, size: [40, 36, 5] };
      for (const dim of [2, 3] as Dim[]) for (const dtype of ['float32', 'float16'] as DType[]) both(big, dim, dtype);
    } finally {
      if (was === undefined) delete process.env.TVDCN_CUDA_OFFSET_GRAD;
      else process.env.TVDCN_CUDA_OFFSET_GRAD = was;
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
      setDeterministic(wasDeterministic);
    }
    // =vector: every case but the last (12 channels: float32 only) in all dims and dtypes, and the chunked ones; by
    // default: the 64-channel case in the half types in 2D and 3D.
    assert.ok(counts.vector >= 5 * 3 * 3 + 3 + 4 + 2 * 2, `runs: ${JSON.stringify(counts)}`);
  });

  it('bounded workspace: results do not depend on the chunking', { skip: DRY_RUN }, () => {
    const b = getCudaBinding('test');
    const c = { ...CASES[0], batch: 5, cin: 8, cout: 8, size: [12, 11, 5] };
    try {
      b.cudaSetWorkspaceLimit(1 << 20); // 1 MiB: chunks of a part of one image
      record('float64 chunked', compare(c, 2, 'float64', 9));
      record('float64 chunked transposed', compare({ ...c, transposed: true }, 2, 'float64', 10));
    } finally {
      b.cudaSetWorkspaceLimit(512 * 2 ** 20);
    }
  });

  it('float64 gradcheck through the GPU (regular and transposed, dims 1-3)', () => {
    for (const dim of [1, 2, 3] as Dim[]) {
      for (const c of [CASES[1], CASES[8]]) {
        const small = { ...c, batch: 1, size: [5, 4, 3] };
        const p = problem(small, dim, 200 + dim);
        const cpu = p.inputs.map((i) => tensor(i.values, { shape: i.shape, dtype: 'float64', requiresGrad: true }));
        const ok = gradcheck((...xs: Tensor[]) => p.call(xs.map((x) => x.to(DEVICE))).cpu(), cpu, {
          fastMode: true,
          atol: 1e-6,
          rtol: 1e-4,
        });
        assert.ok(ok, `gradcheck dim=${dim} ${c.name}`);
      }
    }
    // One full (element-by-element) Jacobian on a tiny 2D problem (not in the quick list: a thousand
    // forward calls of the kernels checked above).
    if (QUICK) return;
    const tiny = { ...CASES[0], batch: 1, cin: 2, cout: 2, size: [4, 4, 4] };
    const p = problem(tiny, 2, 300);
    const cpu = p.inputs.map((i) => tensor(i.values, { shape: i.shape, dtype: 'float64', requiresGrad: true }));
    assert.ok(
      gradcheck((...xs: Tensor[]) => p.call(xs.map((x) => x.to(DEVICE))).cpu(), cpu, { atol: 1e-6, rtol: 1e-4 }),
    );
  });

  it('deterministic mode: bitwise equal across runs, and close to the atomic path', { skip: DRY_RUN }, () => {
    // Many samples pile onto few input pixels: large offsets towards one corner, many channels.
    const c: Case = { ...CASES[0], batch: 4, cin: 16, cout: 16, size: [12, 12, 6] };
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const transposed of [false, true]) {
        const p = problem({ ...c, transposed }, 2, 400);
        const values = p.inputs.map((i) => roundTo(i.values, dtype, (x, d) => toGpu(x, d)));
        const run = (): Float64Array[] =>
          tidy(() => {
            const xs = p.inputs.map((i, k) => {
              const t = toGpu(values[k], dtype, i.shape);
              t.requiresGrad = true;
              return t;
            });
            const y = p.call(xs);
            const gs = grad(y, [xs[0]], toGpu(uniformArray(rng(5), y.numel), dtype, y.shape));
            return [vals(y), vals(gs[0])];
          });
        const atomic = run();
        setDeterministic(true);
        try {
          assert.equal(isDeterministic(), true);
          const a = run();
          const b2 = run();
          const b3 = run();
          for (let k = 0; k < 2; k++) {
            assert.deepEqual(
              b2[k],
              a[k],
              `deterministic run 2 differs (${dtype}, transposed=${transposed}, ${k ? 'grad' : 'forward'})`,
            );
            assert.deepEqual(
              b3[k],
              a[k],
              `deterministic run 3 differs (${dtype}, transposed=${transposed}, ${k ? 'grad' : 'forward'})`,
            );
            expectClose(
              `deterministic vs atomic (${dtype}, transposed=${transposed})`,
              a[k],
              atomic[k],
              dtype === 'float64' ? 1e-13 : 1e-6,
            );
          }
        } finally {
          setDeterministic(false);
        }
      }
    }
  });

  // NOTE [ Three blocks in 3D ]: by default the 3D fused pass takes a corner at a time at three blocks per
  // multiprocessor; TVDCN_CUDA_FUSED3D_BLOCKS=2 runs the two-block form. Every sum keeps its order, but the compiler
  // fuses different products into FMAs in the two forms (session 25's probe: the columns, so the weight gradient, and
  // the mask gradient differ by a rounding in float32; a few mask-gradient elements by a half ulp in float16). So: each
  // form gives the same values run to run (all but the input gradient, whose reductions are atomics), the forward and
  // the bias gradient are bitwise the same in both, the gradients agree within a rounding, and both forms are within
  // the tolerance of the float64 reference.
  it('three blocks in 3D: the same gradients as the two-block form, within a rounding', { skip: DRY_RUN }, () => {
    const b = getCudaBinding('test');
    const base = WINDOW_CASES[0];
    const cases: Case[] = [
      { ...base, name: '64 channels, og 2, mg 2', cin: 64, cout: 8, og: 2, mg: 2 },
      { ...base, name: '32 channels, og 1, no mask, k 3', cin: 32, cout: 6, og: 1, mask: false, k: 3, size: [9, 7, 5] },
      { ...base, name: '64 channels, og 8, mg 8', cin: 64, cout: 8, og: 8, mg: 8 },
    ];
    const phaseOf = (phases: Record<string, number>): boolean =>
      'col2im_offset_mask_fused' in phases || 'col2im_offset_fused' in phases;
    const wasDeterministic = isDeterministic();
    const withBlocks = <T>(blocks: '2' | undefined, fn: () => T): T => withEnv('TVDCN_CUDA_FUSED3D_BLOCKS', blocks, fn);
    try {
      setDeterministic(false);
      withEnv('TVDCN_CUDA_BWD_FUSED', 'on', () => {
        let seed = 3300;
        for (const c of cases) {
          for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
            seed += 2;
            const tag = `${c.name} [${dtype}]`;
            const run = (blocks: '2' | undefined) =>
              withBlocks(blocks, () => profiledForwardAndGrads(b, c, 3, dtype, seed));
            const three = [run(undefined), run(undefined)];
            const two = [run('2'), run('2')];
            for (const r of [...three, ...two]) assert.ok(phaseOf(r.phases), `${tag}: the fused kernel did not run`);
            const last = three[0].out.length - 1;
            for (const [k, v] of three[0].out.entries()) {
              assert.ok(!hasNaN(v), `${tag}: NaN in output ${k}`);
              if (k !== 1) {
                assert.deepEqual(three[1].out[k], v, `${tag}: output ${k} differs between two runs of three blocks`);
                assert.deepEqual(two[1].out[k], two[0].out[k], `${tag}: output ${k} differs between two runs of two`);
              }
              if (k === 0 || (k === last && c.bias)) assert.deepEqual(v, two[0].out[k], `${tag}: output ${k} differs`);
              else expectClose(`${tag}: output ${k}`, v, two[0].out[k], dtype === 'float32' ? 1e-5 : 1e-3);
            }
            withBlocks(undefined, () => record(dtype, compare(c, 3, dtype, seed)));
            withBlocks('2', () => record(dtype, compare(c, 3, dtype, seed)));
          }
        }
      });
    } finally {
      setDeterministic(wasDeterministic);
    }
  });

  it('summary of the worst relative errors', () => {
    const lines = Object.entries(worst)
      .sort()
      .map(([k, v]) => `  ${k.padEnd(36)} ${v.toExponential(2)}`);
    console.log(`worst norm-wise relative errors against the float64 CPU reference:\n${lines.join('\n')}`);
  });
});
