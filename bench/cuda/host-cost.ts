// SPDX-License-Identifier: MIT
// A diagnostic of a 2D forward's host time on the GPU machine (docs/cuda.md, session 31): the bench's
// `host split` (NOTE [ The host split ]) read ~40 µs of a forward's host time outside the native calls,
// where the same ops layer on CPU tensors takes ~6 µs here. This times the pieces of one forward apart, each in its own
// loop (the GPU synchronised before each call, as the bench does), host microseconds per call, median and minimum:
//   clock      performance.now() itself (what every figure here and the bench's host split pay per reading)
//   napi       a trivial binding call (_cudaProfile(false)): the N-API crossing
//   alloc      cudaBufferAlloc + cudaBufferFree of the output's size (the caching allocator, the wrapper object)
//   fill       the binding's fill of the output (one kernel launch, its tensor read as a view): an upper bound of what
//              one launch costs the host, against the forward's three
//   native     the binding's deformConvForward replayed with the arguments the op passed it (no ops layer; where
//              the binding makes the output, NOTE [ The forward's output made after its launches ], the buffer it
//              returns is freed after each call)
//   op         deformConv2d itself, in tidy (what the bench times)
//   op-spun    the same, the thread spinning 100 µs in JavaScript after each synchronisation
//   op-queued  deformConv2d without synchronising between calls (the host's rate when it runs ahead; tiny shape only)
//   phases     the native forward and the allocation again with the host phases on (NOTE [ Host phases ]): µs a call
//              in each of the binding's steps and the driver's phases (nested: a parent includes its children)
// Run it under `node --cpu-prof` for where the op's time goes (ab-on-gpu.sh part hostcost).
//   node .gpu/host-cost.mjs [--calls 2000]

import {
  cudaSynchronize,
  deformConv2d,
  setCudaFloat32Matmul,
  tensor,
  tidy,
  type DType,
  type Tensor,
} from '../../packages/ops/src/index.js';
import { bufferOf } from '../../packages/ops/src/backends/cuda/cuda-storage.js';
import { type CudaDeviceBuffer, getCudaBinding } from '../../packages/ops/src/native/cuda-binding.js';
import { storageOf } from '../../packages/ops/src/tensor/tensor.js';

const args = process.argv.slice(2);
const callsArg = args.indexOf('--calls');
const CALLS = callsArg >= 0 ? Number(args[callsArg + 1]) : 2000;
const b = getCudaBinding('host-cost');
const target = b as unknown as Record<string, (...a: unknown[]) => unknown>;

interface Shape {
  name: string;
  batch: number;
  channels: number;
  size: number;
  offsetGroups: number;
  dtype: DType;
  tf32: boolean;
}
const SHAPES: Shape[] = [
  { name: 'r50-c5 fp16', batch: 16, channels: 512, size: 16, offsetGroups: 1, dtype: 'float16', tf32: false },
  { name: 'edvr-64 tf32', batch: 4, channels: 64, size: 128, offsetGroups: 8, dtype: 'float32', tf32: true },
  { name: 'tiny fp16', batch: 1, channels: 16, size: 8, offsetGroups: 1, dtype: 'float16', tf32: false },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1];
};

/**
 * Host µs of `fn` per call over CALLS calls (after CALLS / 10 warm-up), the GPU idle before each; with `spinUs`, the
 * thread first spins that long in JavaScript after the synchronisation (is the call slower right after a wait?).
 */
function perCall(fn: () => void, spinUs = 0): { median: number; min: number } {
  const us: number[] = [];
  const warm = Math.ceil(CALLS / 10);
  for (let i = 0; i < warm + CALLS; i++) {
    cudaSynchronize(0);
    if (spinUs > 0) {
      const until = performance.now() + spinUs / 1e3;
      while (performance.now() < until);
    }
    const t0 = performance.now();
    fn();
    const t1 = performance.now();
    if (i >= warm) us.push((t1 - t0) * 1e3);
  }
  return { median: median(us), min: Math.min(...us) };
}

const fmt = (r: { median: number; min: number }): string => `${r.median.toFixed(2)} (min ${r.min.toFixed(2)})`;

// The clock: a loop of readings, µs per reading.
{
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) performance.now();
  const perNow = ((performance.now() - t0) * 1e3) / n;
  console.log(`clock      performance.now() ${perNow.toFixed(3)} µs a reading`);
}
console.log(`napi       ${fmt(perCall(() => b._cudaProfile(false)))} µs`);

for (const s of SHAPES) {
  setCudaFloat32Matmul(s.tf32 ? 'tf32' : 'tf32x3');
  const { batch: B, channels: C, size: H, offsetGroups: OG, dtype } = s;
  const opts = { device: 'cuda:0' as const, dtype };
  const fill = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => scale * Math.sin(i * 0.37));
  const x = tensor(fill(B * C * H * H, 1), { shape: [B, C, H, H], ...opts });
  const w = tensor(fill(C * C * 9, 0.05), { shape: [C, C, 3, 3], ...opts });
  const offset = tensor(fill(B * OG * 18 * H * H, 2), { shape: [B, OG * 18, H, H], ...opts });
  const mask = tensor(fill(B * OG * 9 * H * H, 0.5), { shape: [B, OG * 9, H, H], ...opts });
  const bias = tensor(fill(C, 1), { shape: [C], ...opts });
  const op = (): Tensor => deformConv2d(x, w, { offset, mask, bias, padding: 1 });

  // The arguments the op passes the binding, kept for replay (the output buffer stays alive with `kept`).
  let captured: unknown[] = [];
  const forward = target.deformConvForward;
  target.deformConvForward = (...a: unknown[]) => {
    captured = a;
    return forward(...a);
  };
  const kept = op();
  target.deformConvForward = forward;
  const outNumel = kept.numel;

  console.log(`== ${s.name} [${B}, ${C}, ${H}x${H}], offset groups ${OG}`);
  console.log(`alloc      ${fmt(perCall(() => b.cudaBufferFree(b.cudaBufferAlloc(0, dtype, outNumel))))} µs`);
  const outView = { data: bufferOf(storageOf(kept, 'host-cost', 'output')), shape: [outNumel], dtype };
  const fillOp = b.fill;
  if (fillOp === undefined) throw new Error('host-cost: this addon has no fill');
  console.log(`fill       ${fmt(perCall(() => fillOp(outView, 0)))} µs`);
  const replay = (): void => {
    const made = forward(...captured);
    if (captured[6] === null) b.cudaBufferFree(made as CudaDeviceBuffer);
  };
  console.log(`native     ${fmt(perCall(replay))} µs`);
  b._cudaProfileReport();
  b._cudaProfile('host');
  const phased = perCall(() => {
    replay();
    b.cudaBufferFree(b.cudaBufferAlloc(0, dtype, outNumel));
  });
  const phases = b._cudaProfileReport();
  b._cudaProfile(false);
  console.log(`phases     forward + alloc with the host phases on: ${fmt(phased)} µs`);
  for (const [key, ms] of Object.entries(phases)) {
    if (!key.startsWith('host:') || key.endsWith(':calls')) continue;
    const calls = phases[`${key}:calls`];
    const perForward = (ms * 1e3) / (calls > 0 ? calls : 1);
    const times = calls / (CALLS + Math.ceil(CALLS / 10));
    console.log(`  ${key.slice(5).padEnd(28)} ${perForward.toFixed(2)} µs (${times.toFixed(2)} a call)`);
  }
  console.log(`op         ${fmt(perCall(() => tidy(() => void op())))} µs`);
  console.log(`op-spun    ${fmt(perCall(() => tidy(() => void op()), 100))} µs (100 µs of spinning after each wait)`);
  if (s.name.startsWith('tiny')) {
    cudaSynchronize(0);
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) tidy(() => void op());
    const t1 = performance.now();
    cudaSynchronize(0);
    console.log(`op-queued  ${(((t1 - t0) * 1e3) / CALLS).toFixed(2)} µs a call (${CALLS} calls, no synchronisation)`);
  }
  for (const t of [x, w, offset, mask, bias, kept]) t.dispose();
}
setCudaFloat32Matmul('tf32x3');
