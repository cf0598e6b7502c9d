// SPDX-License-Identifier: MIT
// The CPU tensor kernels, native (native/src/elementwise/cpu/, through backends/native-tensor-ops.ts)
// against the TypeScript loops (backends/cpu/{elementwise,reduce,movement}.ts) that the WebAssembly build
// still uses, at a few sizes. One process: the TypeScript loops have no thread pool, and a 5 ms pause after
// every native block lets the pool's spinning workers go to sleep before the loops run. Rounds alternate
// the two paths (the order flips each round); each block reports its fastest call; the table gives the
// fastest call of each path over all rounds and the median (min - max) of the per-round ratios.
//
//   pnpm --filter @tvdcn/bench bench:elementwise [-- --threads 2 --rounds 7 --block 0.2 --addon path.node]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { allocCpu, arrayOf } from '../../packages/ops/src/backends/cpu/cpu-storage.js';
import { binaryCpu, unaryCpu } from '../../packages/ops/src/backends/cpu/elementwise.js';
import { copyStridedCpu, gatherCpu, scatterAddCpu } from '../../packages/ops/src/backends/cpu/movement.js';
import { sumCpu } from '../../packages/ops/src/backends/cpu/reduce.js';
import { nativeTensorOps } from '../../packages/ops/src/backends/native-tensor-ops.js';
import { hasTensorKernels, type NativeBinding } from '../../packages/ops/src/native/binding.js';
import { contiguousStrides, numelOf } from '../../packages/ops/src/tensor/layout.js';
import type { Storage } from '../../packages/ops/src/tensor/storage.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    block: { type: 'string', default: '0.2' },
    addon: { type: 'string', default: join(here, '..', '..', 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node') },
  },
});
const binding = createRequire(import.meta.url)(args.addon) as NativeBinding;
if (!hasTensorKernels(binding)) throw new Error(`${args.addon} has no tensor kernels`);
binding.setNumThreads(Number(args.threads));
const native = nativeTensorOps({
  binding: () => binding,
  alloc: (_d, dtype, n) => allocCpu(dtype, n),
  view: (s, shape) => ({ data: arrayOf(s) as Float32Array, shape, dtype: s.dtype }),
});

function rand(n: number): Storage {
  const s = allocCpu('float32', n);
  for (let i = 0; i < n; i++) s.data[i] = Math.random() * 2 - 1;
  return s;
}

interface Case {
  name: string;
  numel: number;
  native: () => void;
  ts: () => void;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const n of [1000, 100_000, 1_000_000]) {
    const x = rand(n);
    const y = rand(n);
    const kx = { storage: x, shape: [n] };
    const ky = { storage: y, shape: [n] };
    out.push({
      name: 'add',
      numel: n,
      native: () => native.binary('add', kx, ky, [n]),
      ts: () => binaryCpu('add', kx, ky, [n]),
    });
    out.push({
      name: 'mulScalar',
      numel: n,
      native: () => native.unary('mulScalar', x, 0.5),
      ts: () => unaryCpu('mulScalar', x, 0.5),
    });
    out.push({ name: 'exp', numel: n, native: () => native.unary('exp', x, 0), ts: () => unaryCpu('exp', x, 0) });
    out.push({ name: 'sum (all)', numel: n, native: () => native.sum(kx, [0]), ts: () => sumCpu(kx, [0]) });
  }
  for (const [b, c, hw] of [
    [1, 8, 16],
    [8, 64, 64],
  ] as const) {
    const shape = [b, c, hw, hw];
    const n = numelOf(shape);
    const x = { storage: rand(n), shape };
    const bias = { storage: rand(c), shape: [1, c, 1, 1] };
    out.push({
      name: `mul [B,C,H,W]*[1,C,1,1] ${JSON.stringify(shape)}`,
      numel: n,
      native: () => native.binary('mul', x, bias, shape),
      ts: () => binaryCpu('mul', x, bias, shape),
    });
    out.push({
      name: `sum over [0,2,3] ${JSON.stringify(shape)}`,
      numel: n,
      native: () => native.sum(x, [0, 2, 3]),
      ts: () => sumCpu(x, [0, 2, 3]),
    });
    const perm = [0, 2, 3, 1];
    const st = contiguousStrides(shape);
    const pshape = perm.map((d) => shape[d]);
    const src = perm.map((d) => st[d]);
    const dst = allocCpu('float32', n);
    out.push({
      name: `permute NCHW->NHWC ${JSON.stringify(shape)}`,
      numel: n,
      native: () => native.copyStrided(x.storage, 0, src, dst, 0, contiguousStrides(pshape), pshape),
      ts: () => copyStridedCpu(x.storage, 0, src, dst, 0, contiguousStrides(pshape), pshape),
    });
    const padded = [b, c, hw + 2, hw + 2];
    const maps = padded.map((m, d) =>
      Int32Array.from({ length: m }, (_, i) => (d < 2 ? i : Math.min(Math.max(i - 1, 0), shape[d] - 1))),
    );
    const g = { storage: rand(numelOf(padded)), shape: padded };
    out.push({
      name: `pad (replicate) ${JSON.stringify(shape)}`,
      numel: n,
      native: () => native.gather(x, maps, padded, 0),
      ts: () => gatherCpu(x, maps, padded, 0),
    });
    out.push({
      name: `pad backward ${JSON.stringify(shape)}`,
      numel: n,
      native: () => native.scatterAdd(g, maps, shape),
      ts: () => scatterAddCpu(g, maps, shape),
    });
  }
  return out;
}

/** The fastest call of a block of about `seconds`. */
function block(fn: () => void, seconds: number): number {
  let best = Number.POSITIVE_INFINITY;
  const end = performance.now() + seconds * 1000;
  do {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  } while (performance.now() < end);
  return best;
}

function pause(ms: number): void {
  const end = performance.now() + ms;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, end - performance.now()));
}

const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const rounds = Number(args.rounds);
const seconds = Number(args.block);
console.log(`threads ${binding.getNumThreads()}, ${rounds} rounds of ${seconds} s blocks; float32`);
console.log('| kernel | elements | native | TypeScript | TypeScript / native: median (min - max) |');
console.log('|---|---:|---:|---:|---|');
for (const c of cases()) {
  c.native();
  c.ts();
  let bn = Number.POSITIVE_INFINITY;
  let bt = Number.POSITIVE_INFINITY;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n: number;
    let t: number;
    if (r % 2 === 0) {
      n = block(c.native, seconds);
      pause(5);
      t = block(c.ts, seconds);
    } else {
      t = block(c.ts, seconds);
      n = block(c.native, seconds);
      pause(5);
    }
    bn = Math.min(bn, n);
    bt = Math.min(bt, t);
    ratios.push(t / n);
  }
  ratios.sort((a, b) => a - b);
  const med = ratios[Math.floor(ratios.length / 2)];
  console.log(
    `| ${c.name} | ${c.numel} | ${fmt(bn)} | ${fmt(bt)} | ${med.toFixed(2)}x (${ratios[0].toFixed(2)} - ${ratios[ratios.length - 1].toFixed(2)}) |`,
  );
}
