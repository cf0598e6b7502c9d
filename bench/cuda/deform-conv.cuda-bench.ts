// SPDX-License-Identifier: MIT
// GPU benchmark of our deformConv2d (forward, and forward + backward of all five gradients) on the suite
// of suite.json, timed with CUDA events on the addon's stream: warm-up, then the median of many runs,
// rotating between input sets larger than L2 together. Run on the GPU machine by .gpu/run-on-gpu.sh
// (scripts/gpu-check.sh bundles this file); writes JSON to $OUT (or the current directory).
//   node .gpu/cuda-bench.mjs [--quick] [--only r50-c3,edvr-64]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cudaDeviceProperties,
  cudaEmptyCache,
  cudaSynchronize,
  deformConv2d,
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
}

const VARIANTS: Variant[] = [
  { label: 'fp32', dtype: 'float32', matmul: 'tf32x3' },
  { label: 'fp32 128x128', dtype: 'float32', matmul: 'tf32x3', wide: false },
  { label: 'fp32 CUDA cores', dtype: 'float32', matmul: 'float32' },
  { label: 'tf32', dtype: 'float32', matmul: 'tf32' },
  { label: 'fp16', dtype: 'float16' },
  { label: 'bf16', dtype: 'bfloat16' },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
const WARMUP = quick ? 2 : 5;
const RUNS = quick ? 5 : 25;
const L2_BYTES = 50e6;

const b = getCudaBinding('bench');

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds of `fn` between two events on the stream, median over runs (after warm-up). */
function timeIt(sets: number, fn: (set: number) => () => void): number[] {
  const ms: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    tidy(() => {
      const run = fn(i % sets); // prepares (untimed), returns the timed part
      cudaSynchronize(0);
      const e0 = b._cudaEventRecord(0);
      run();
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
const props = cudaDeviceProperties(0);
console.log(`ours on ${props.name} (${props.multiProcessorCount} SMs): warm-up ${WARMUP}, median of ${RUNS}`);

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

for (const s of suite.shapes) {
  if (only && !only.has(s.name)) continue;
  const { batch: B, channels: C, size: H, offsetGroups: OG } = s;
  const K = 9;
  const gflop = (2 * B * C * H * H * C * K) / 1e9;
  const hx = hostValues(B * C * H * H, -1, 1, 1);
  const hoff = hostValues(B * OG * 2 * K * H * H, -2, 2, 2);
  const hmask = hostValues(B * OG * K * H * H, 0, 1, 3);
  const hw = hostValues(C * C * 9, -0.05, 0.05, 4);
  const hb = hostValues(C, -1, 1, 5);
  for (const v of VARIANTS) {
    if (v.matmul) setCudaFloat32Matmul(v.matmul);
    b._cudaSetGemmWideTiles(v.wide !== false);
    const opts = { device: 'cuda:0' as const, dtype: v.dtype };
    // Input sets: enough that together they exceed L2 twice; set k is derived on the GPU from the first.
    const perSet = (B * C * H * H + B * OG * 3 * K * H * H) * (v.dtype === 'float32' ? 4 : 2);
    const sets = Math.max(2, Math.ceil((2 * L2_BYTES) / perSet));
    const w = tensor(hw, { shape: [C, C, 3, 3], ...opts });
    const bias = tensor(hb, { shape: [C], ...opts });
    const base = {
      x: tensor(hx, { shape: [B, C, H, H], ...opts }),
      offset: tensor(hoff, { shape: [B, OG * 2 * K, H, H], ...opts }),
      mask: tensor(hmask, { shape: [B, OG * K, H, H], ...opts }),
    };
    const data = Array.from({ length: sets }, (_, k) =>
      tidy(() => ({
        x: add(mul(base.x, 1 - 0.03 * k), 0.01 * k),
        offset: add(mul(base.offset, 1 - 0.02 * k), 0.05 * k),
        mask: mul(base.mask, 1 - 0.03 * k),
      })),
    );
    for (const t of Object.values(base)) t.dispose();
    const gOut = mul(data[0].x, 0.5); // output shape = input shape here (in = out channels, 3x3, pad 1)
    const fwd = timeIt(sets, (i) => {
      const d = data[i];
      return () => {
        deformConv2d(d.x, w, { offset: d.offset, mask: d.mask, bias, padding: 1 });
      };
    });
    const bwd = timeIt(sets, (i) => {
      const d = data[i];
      const leaves = [d.x, w, d.offset, d.mask, bias].map((t) => t.detach());
      for (const t of leaves) t.requiresGrad = true;
      const y = deformConv2d(leaves[0], leaves[1], { offset: leaves[2], mask: leaves[3], bias: leaves[4], padding: 1 });
      return () => {
        grad(y, leaves, gOut);
      };
    });
    const prepF = () => {
      const d = data[0];
      return () => {
        deformConv2d(d.x, w, { offset: d.offset, mask: d.mask, bias, padding: 1 });
      };
    };
    const prepB = () => {
      const d = data[0];
      const leaves = [d.x, w, d.offset, d.mask, bias].map((t) => t.detach());
      for (const t of leaves) t.requiresGrad = true;
      const y = deformConv2d(leaves[0], leaves[1], { offset: leaves[2], mask: leaves[3], bias: leaves[4], padding: 1 });
      return () => {
        grad(y, leaves, gOut);
      };
    };
    const phases = { forward: phasesOf(prepF), backward: phasesOf(prepB) };
    const f = median(fwd);
    const row: Row = {
      shape: s.name,
      variant: v.label,
      dtype: v.dtype,
      forwardMs: f,
      forwardSpread: [Math.min(...fwd), Math.max(...fwd)],
      backwardMs: median(bwd),
      gflop,
      tflops: gflop / f,
      phases,
    };
    rows.push(row);
    console.log(
      `${s.name.padEnd(8)} ${v.label.padEnd(14)} fwd ${f.toFixed(3)} ms (${row.forwardSpread.map((x) => x.toFixed(3)).join('-')})` +
        `  bwd ${row.backwardMs.toFixed(3)} ms  ${row.tflops.toFixed(1)} TFLOP/s fwd\n` +
        `           fwd phases: ${fmtPhases(phases.forward)}\n           bwd phases: ${fmtPhases(phases.backward)}`,
    );
    for (const d of data) for (const t of Object.values(d) as Tensor[]) t.dispose();
    w.dispose();
    bias.dispose();
    gOut.dispose();
    cudaEmptyCache();
  }
  setCudaFloat32Matmul('tf32x3');
  b._cudaSetGemmWideTiles(true);
}

const out = join(process.env.OUT ?? '.', 'bench-ours.json');
writeFileSync(out, JSON.stringify({ device: props, warmup: WARMUP, runs: RUNS, rows }, null, 1));
console.log(`wrote ${out}`);
