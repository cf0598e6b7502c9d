// SPDX-License-Identifier: MIT
// GPU benchmark of our deformable convolutions (forward, and forward + backward of all five gradients) on
// the suite of suite.json (2D shapes, then the 1D, 3D and transposed ops), timed with CUDA events on the addon's stream: warm-up, then the median of many runs,
// rotating between input sets larger than L2 together. Run on the GPU machine by .gpu/run-on-gpu.sh
// (scripts/gpu-check.sh bundles this file); writes JSON to $OUT (or the current directory).
//   node .gpu/cuda-bench.mjs [--quick] [--all] [--only r50-c3,edvr-64] [--variants fp16,bf16] [--forward-only]
//     [--no-dry-row] [--reverse] [--hide-host] [--host-split]
// (--forward-only: the backward is not timed, its median and phases read 0; for forward A/B runs. --no-dry-row: the
// first row timed without the untimed pass before it (NOTE [ A dry row first ]); --reverse: each shape's variants in
// reverse order, to see what the order costs. --hide-host and --host-split: diagnostics, see NOTE [ The host hidden ]
// and NOTE [ The host split ].)

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cudaDeviceProperties,
  cudaEmptyCache,
  cudaSynchronize,
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  add,
  grad,
  mul,
  setCudaFloat32Matmul,
  tensor,
  tidy,
  type CudaFloat32Matmul,
  type DType,
  type Tensor,
} from '../../packages/ops/src/index.js';
import { getCudaBinding } from '../../packages/ops/src/native/cuda-binding.js';
import suite from './suite.json' with { type: 'json' };

interface Variant {
  label: string;
  dtype: DType;
  matmul?: CudaFloat32Matmul;
  /** false: only 128 x 128 GEMM tiles. */
  wide?: boolean;
  /** false: im2col + GEMM instead of the fused forward (NOTE [ Fused forward ]); 'force': fused wherever it applies. */
  fused?: boolean | 'force';
  /** Only with --all (unchanged paths, recorded before). */
  optional?: boolean;
  /** Column workspace limit in bytes (cudaSetWorkspaceLimit) instead of the default 512 MiB. */
  workspace?: number;
  /** true: only the regular 2D shapes run it (the 1D/3D/transposed cases run fewer variants, to fit the device call). */
  conv2dOnly?: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'fp32', dtype: 'float32', matmul: 'tf32x3' },
  { label: 'fp32 fused', dtype: 'float32', matmul: 'tf32x3', fused: 'force', conv2dOnly: true },
  { label: 'fp32 CUDA cores', dtype: 'float32', matmul: 'float32', optional: true, conv2dOnly: true },
  { label: 'tf32', dtype: 'float32', matmul: 'tf32' },
  { label: 'fp16', dtype: 'float16' },
  { label: 'bf16', dtype: 'bfloat16' },
  { label: 'fp16 unfused', dtype: 'float16', fused: false },
  { label: 'fp16 fused', dtype: 'float16', fused: 'force' },
  { label: 'bf16 unfused', dtype: 'bfloat16', fused: false, optional: true },
  { label: 'bf16 fused', dtype: 'bfloat16', fused: 'force', optional: true },
  { label: 'tf32 unfused', dtype: 'float32', matmul: 'tf32', fused: false, optional: true },
  { label: 'tf32 fused', dtype: 'float32', matmul: 'tf32', fused: 'force', optional: true },
  { label: 'tf32 128x128', dtype: 'float32', matmul: 'tf32', wide: false, optional: true },
  { label: 'fp32 128x128', dtype: 'float32', matmul: 'tf32x3', wide: false, optional: true },
  { label: 'fp16 ws16M', dtype: 'float16', workspace: 16 << 20, optional: true },
  { label: 'fp16 ws32M', dtype: 'float16', workspace: 32 << 20, optional: true },
  { label: 'tf32 ws16M', dtype: 'float32', matmul: 'tf32', workspace: 16 << 20, optional: true },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const forwardOnly = args.includes('--forward-only');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
const variantsArg = args.indexOf('--variants');
const variantsOnly = variantsArg >= 0 ? new Set(args[variantsArg + 1].split(',')) : null;
const WARMUP = quick ? 2 : 5;
const RUNS = quick ? 5 : 25;
const L2_BYTES = 50e6;
const DEFAULT_WORKSPACE = 512 * 2 ** 20; // cudaSetWorkspaceLimit's default (docs/cuda.md)

const b = getCudaBinding('bench');

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// NOTE [ The host hidden ]: a timed call's first event is recorded when the GPU reaches it, so the host's time before
// the call's first launch (the ops layer, the binding, the driver's setup) is GPU idle time inside the figure. With
// --hide-host each timed call is preceded, after the synchronisation and before the first event, by ~0.2 ms of queued
// GPU work (an add over 64 Mi float32 values), during which the host makes the call's launches: the figure is then the
// call's GPU time alone (its kernels and the gaps between them), and its difference from a run without the flag is
// the host's share. A diagnostic for A/B runs, not a bench figure: the peers are not timed this way.
const hideHost = args.includes('--hide-host');
let filler: Tensor | null = null;

// NOTE [ The host split ]: with --host-split the binding's deformConvForward, deformConvBackward and cudaBufferAlloc
// (the one object the ops layer calls them on, looked up at each call) are wrapped to add up the host time inside
// them during each timed call: the native calls (the binding's reading and checks, the driver, the launches) and the
// device allocations (the outputs), the rest of the call being the ops layer's JavaScript. Each row then prints a
// `host split` line of medians. Two `performance.now()` a wrapped call are added to the figure. A diagnostic for the
// host's share of a forward (session 30), not a bench figure.
const hostSplit = args.includes('--host-split');
const splitNow = { native: 0, alloc: 0 };
let splitMs: { native: number[]; alloc: number[] } = { native: [], alloc: [] };
if (hostSplit) {
  const target = b as unknown as Record<string, (...a: unknown[]) => unknown>;
  const slots = [
    ['deformConvForward', 'native'],
    ['deformConvBackward', 'native'],
    ['cudaBufferAlloc', 'alloc'],
  ] as const;
  for (const [key, slot] of slots) {
    const fn = target[key];
    target[key] = (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return fn(...a);
      } finally {
        splitNow[slot] += performance.now() - t0;
      }
    };
  }
}

/** Host milliseconds of the last timeIt's runs: from the first event until the timed part returned. */
let hostMs: number[] = [];

/** Milliseconds of `fn` between two events on the stream, median over runs (after warm-up). */
function timeIt(sets: number, fn: (set: number) => () => void): number[] {
  const ms: number[] = [];
  hostMs = [];
  splitMs = { native: [], alloc: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    tidy(() => {
      const run = fn(i % sets); // prepares (untimed), returns the timed part
      cudaSynchronize(0);
      if (filler !== null) add(filler, 1); // NOTE [ The host hidden ]
      const e0 = b._cudaEventRecord(0);
      splitNow.native = 0;
      splitNow.alloc = 0;
      const h0 = performance.now();
      run();
      const h1 = performance.now();
      if (i >= WARMUP) {
        hostMs.push(h1 - h0);
        splitMs.native.push(splitNow.native);
        splitMs.alloc.push(splitNow.alloc);
      }
      const e1 = b._cudaEventRecord(0);
      const t = b._cudaEventElapsedMs(e0, e1);
      if (i >= WARMUP) ms.push(t);
    });
  }
  return ms;
}

interface Row {
  shape: string;
  variant: string;
  dtype: DType;
  forwardMs: number;
  forwardSpread: [number, number];
  /** Host time of the forward call (median): when it nears forwardMs, the host bounds the forward. */
  forwardHostMs: number;
  backwardMs: number;
  gflop: number;
  tflops: number;
  /** Per-phase milliseconds of one forward and one backward (summed over chunks). */
  phases: { forward: Record<string, number>; backward: Record<string, number> };
}

/** Phases of one run of `run`, profiled on its own (after the timed runs). */
function phasesOf(prepare: () => () => void): Record<string, number> {
  return tidy(() => {
    const run = prepare();
    cudaSynchronize(0);
    b._cudaProfileReport();
    b._cudaProfile(true);
    try {
      run();
      return b._cudaProfileReport();
    } finally {
      b._cudaProfile(false);
    }
  });
}

const fmtPhases = (p: Record<string, number>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ');

const rows: Row[] = [];
// NOTE [ A dry row first ]: whichever row a process times first read 0.058-0.073 ms of host time per forward, the
// same row timed later 0.034-0.041 (session 28, H100: r50-c3 fp32 in the usual order, r50-c3 fp16 with --reverse; a
// full collection before each timed loop changed nothing): the ops' JavaScript is still being compiled during the
// first row's calls, and a forward's host time before its first launch is GPU idle time in its figure. So the first
// row's timed loops run once untimed first, which gives it the warm process every later row has (docs/cuda.md,
// session 28).
let dryRowDone = args.includes('--no-dry-row');
if (hideHost) {
  const n = 64 * 2 ** 20; // NOTE [ The host hidden ]: ~0.2 ms of add on an H100 (512 MiB read and written)
  filler = tensor(new Float32Array(n), { shape: [n], device: 'cuda:0', dtype: 'float32' });
}
const props = cudaDeviceProperties(0);
console.log(
  `ours on ${props.name} (${props.multiProcessorCount} SMs): warm-up ${WARMUP}, median of ${RUNS}` +
    `${args.includes('--no-dry-row') ? ', no dry row' : ''}${args.includes('--reverse') ? ', variants reversed' : ''}`,
);

/** Host values once per shape: uniform in [lo, hi) from a small LCG (Math.random is slow at 10^8). */
function hostValues(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * x) / 4294967296;
  }
  return out;
}

/** One benchmark case: a deformable convolution of any dim, regular or transposed (offset + mask + bias). */
interface Case {
  name: string;
  dim: 1 | 2 | 3;
  transposed: boolean;
  batch: number;
  inChannels: number;
  outChannels: number;
  size: number[];
  kernel: number;
  stride: number;
  padding: number;
  offsetGroups: number;
}

const cases: Case[] = [
  ...suite.shapes.map((s) => ({
    name: s.name,
    dim: 2 as const,
    transposed: false,
    batch: s.batch,
    inChannels: s.channels,
    outChannels: s.channels,
    size: [s.size, s.size],
    kernel: 3,
    stride: 1,
    padding: 1,
    offsetGroups: s.offsetGroups,
  })),
  ...suite.ops.map((o) => ({ ...o, dim: o.dim as 1 | 2 | 3, offsetGroups: 1 })),
];

const prod = (xs: readonly number[]): number => xs.reduce((p, x) => p * x, 1);

for (const s of cases) {
  if (only && !only.has(s.name)) continue;
  const {
    batch: B,
    inChannels: CI,
    outChannels: CO,
    dim,
    transposed,
    kernel: k,
    stride,
    padding,
    offsetGroups: OG,
  } = s;
  const K = k ** dim;
  const outSize = s.size.map((n) =>
    transposed
      ? (n - 1) * stride - 2 * padding + (k - 1) + 1
      : Math.floor((n + 2 * padding - (k - 1) - 1) / stride) + 1,
  );
  const grid = transposed ? s.size : outSize; // where offsets and mask live
  // Multiply-adds of the product: every (output of the regular view) x (input channel, kernel point).
  const gflop = (2 * B * K * CI * CO * prod(transposed ? s.size : outSize)) / 1e9;
  const hx = hostValues(B * CI * prod(s.size), -1, 1, 1);
  const hoff = hostValues(B * OG * dim * K * prod(grid), -2, 2, 2);
  const hmask = hostValues(B * OG * K * prod(grid), 0, 1, 3);
  const hw = hostValues(CI * CO * K, -0.05, 0.05, 4);
  const hb = hostValues(CO, -1, 1, 5);
  const wShape = transposed ? [CI, CO, ...Array(dim).fill(k)] : [CO, CI, ...Array(dim).fill(k)];
  const conv = (x: Tensor, w: Tensor, offset: Tensor, mask: Tensor, bias: Tensor): Tensor => {
    const o = { offset, mask, bias, stride, padding };
    if (transposed)
      return (dim === 1 ? deformConvTranspose1d : dim === 2 ? deformConvTranspose2d : deformConvTranspose3d)(x, w, o);
    return (dim === 1 ? deformConv1d : dim === 2 ? deformConv2d : deformConv3d)(x, w, o);
  };
  for (const v of args.includes('--reverse') ? [...VARIANTS].reverse() : VARIANTS) {
    if (!(s.dim === 2 && !s.transposed) && v.conv2dOnly) continue;
    if (v.optional && !args.includes('--all')) continue;
    if (variantsOnly && !variantsOnly.has(v.label)) continue;
    if (v.matmul) setCudaFloat32Matmul(v.matmul);
    b._cudaSetGemmWideTiles(v.wide !== false);
    b._cudaSetFusedConv(v.fused !== false, v.fused === 'force');
    b.cudaSetWorkspaceLimit(v.workspace ?? DEFAULT_WORKSPACE);
    const opts = { device: 'cuda:0' as const, dtype: v.dtype };
    // Input sets: enough that together they exceed L2 twice; set k is derived on the GPU from the first.
    const perSet = (hx.length + hoff.length + hmask.length) * (v.dtype === 'float32' ? 4 : 2);
    const sets = Math.max(2, Math.ceil((2 * L2_BYTES) / perSet));
    const w = tensor(hw, { shape: wShape, ...opts });
    const bias = tensor(hb, { shape: [CO], ...opts });
    const base = {
      x: tensor(hx, { shape: [B, CI, ...s.size], ...opts }),
      offset: tensor(hoff, { shape: [B, OG * dim * K, ...grid], ...opts }),
      mask: tensor(hmask, { shape: [B, OG * K, ...grid], ...opts }),
    };
    const data = Array.from({ length: sets }, (_, j) =>
      tidy(() => ({
        x: add(mul(base.x, 1 - 0.03 * j), 0.01 * j),
        offset: add(mul(base.offset, 1 - 0.02 * j), 0.05 * j),
        mask: mul(base.mask, 1 - 0.03 * j),
      })),
    );
    for (const t of Object.values(base)) t.dispose();
    const gOut = tidy(() => mul(conv(data[0].x, w, data[0].offset, data[0].mask, bias), 0.5));
    const prepF = (i: number) => {
      const d = data[i];
      return () => {
        conv(d.x, w, d.offset, d.mask, bias);
      };
    };
    const prepB = (i: number) => {
      const d = data[i];
      const leaves = [d.x, w, d.offset, d.mask, bias].map((t) => t.detach());
      for (const t of leaves) t.requiresGrad = true;
      const y = conv(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4]);
      return () => {
        grad(y, leaves, gOut);
      };
    };
    if (!dryRowDone) {
      timeIt(sets, prepF);
      if (!forwardOnly) timeIt(sets, prepB);
      dryRowDone = true;
    }
    const fwd = timeIt(sets, prepF);
    const fwdHost = median(hostMs);
    const fwdSplit = { native: median(splitMs.native), alloc: median(splitMs.alloc) };
    const bwd = forwardOnly ? [0] : timeIt(sets, prepB);
    const phases = { forward: phasesOf(() => prepF(0)), backward: forwardOnly ? {} : phasesOf(() => prepB(0)) };
    const f = median(fwd);
    const row: Row = {
      shape: s.name,
      variant: v.label,
      dtype: v.dtype,
      forwardMs: f,
      forwardSpread: [Math.min(...fwd), Math.max(...fwd)],
      forwardHostMs: fwdHost,
      backwardMs: median(bwd),
      gflop,
      tflops: gflop / f,
      phases,
    };
    rows.push(row);
    console.log(
      `${s.name.padEnd(8)} ${v.label.padEnd(14)} fwd ${f.toFixed(3)} ms (${row.forwardSpread.map((x) => x.toFixed(3)).join('-')})` +
        `  bwd ${row.backwardMs.toFixed(3)} ms  ${row.tflops.toFixed(1)} TFLOP/s fwd  host ${fwdHost.toFixed(3)} ms\n` +
        `           fwd phases: ${fmtPhases(phases.forward)}\n           bwd phases: ${fmtPhases(phases.backward)}`,
    );
    if (hostSplit) {
      // NOTE [ The host split ]: medians of the timed forward calls, ms.
      const js = fwdHost - fwdSplit.native - fwdSplit.alloc;
      console.log(
        `           host split: native ${fwdSplit.native.toFixed(4)}, alloc ${fwdSplit.alloc.toFixed(4)}, ` +
          `rest (JavaScript) ${js.toFixed(4)} of ${fwdHost.toFixed(4)}`,
      );
    }
    for (const d of data) for (const t of Object.values(d) as Tensor[]) t.dispose();
    w.dispose();
    bias.dispose();
    gOut.dispose();
    cudaEmptyCache();
  }
  setCudaFloat32Matmul('tf32x3');
  b._cudaSetGemmWideTiles(true);
  b._cudaSetFusedConv(true);
}

const out = join(process.env.OUT ?? '.', 'bench-ours.json');
writeFileSync(out, JSON.stringify({ device: props, warmup: WARMUP, runs: RUNS, rows }, null, 1));
console.log(`wrote ${out}`);
