// SPDX-License-Identifier: MIT
// The WebAssembly builds (@tvdcn/wasm32) against the native CPU binary: float32 forward on reduced versions
// of the CPU shapes (batch 1, at most 64 channels, spatial sides halved). Every measurement runs in its own
// process (never two runtimes' thread pools in one), alternating native 1 thread / native N threads /
// wasm 1 thread (tvdcn.wasm, TVDCN_NUM_THREADS=1) / wasm N threads (tvdcn-threads.wasm on N worker_threads),
// R rounds; the table gives the minimum over rounds of each process's median, the spread (max/min of those
// medians) and the ratios. Predictions and measurements: docs/perf/wasm-threads.md.
//
//   tsx src/wasm.ts [--rounds R] [--seconds S] [--only name,name]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchShape, SHAPES, describeShape, offsetSize, outSize } from './shapes.js';

type Backend = 'native-1' | 'native-n' | 'wasm-1' | 'wasm-n';
const BACKENDS: Backend[] = ['native-1', 'native-n', 'wasm-1', 'wasm-n'];

function reduced(s: BenchShape): BenchShape {
  const ch = (c: number) => Math.max(s.offsetGroups * s.groups, Math.min(c, 64));
  return {
    ...s,
    batch: 1,
    inChannels: ch(s.inChannels),
    outChannels: ch(s.outChannels),
    inSize: s.inSize.map((n) => Math.max(4, Math.ceil(n / 2))),
  };
}

async function child(_backend: Backend, name: string, seconds: number): Promise<void> {
  const ops = await import('@tvdcn/ops');
  await ops.loadBackend(); // the wasm threads build: waits until its Workers run
  const s = reduced(SHAPES.find((x) => x.name === name)!);
  const K = s.kernel.reduce((a, b) => a * b, 1);
  ops.manualSeed(1);
  const f32 = { dtype: 'float32' as const };
  const x = ops.randn([s.batch, s.inChannels, ...s.inSize], f32);
  const w = ops.randn(
    s.transposed
      ? [s.inChannels, s.outChannels / s.groups, ...s.kernel]
      : [s.outChannels, s.inChannels / s.groups, ...s.kernel],
    f32,
  );
  const offset = ops.randn([s.batch, s.offsetGroups * s.dim * K, ...offsetSize(s)], f32);
  const mask = ops.randn([s.batch, s.offsetGroups * K, ...offsetSize(s)], f32).sigmoid();
  const opts: Record<string, unknown> = {
    offset,
    mask,
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    groups: s.groups,
  };
  if (s.transposed) opts.outputPadding = s.outputPadding ?? s.inSize.map(() => 0);
  const op = (
    s.transposed
      ? { 1: ops.deformConvTranspose1d, 2: ops.deformConvTranspose2d, 3: ops.deformConvTranspose3d }
      : { 1: ops.deformConv1d, 2: ops.deformConv2d, 3: ops.deformConv3d }
  )[s.dim] as (a: unknown, b: unknown, o: unknown) => { dispose(): void };
  op(x, w, opts).dispose(); // warm-up (and load)
  const times: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (times.length < 3 || (performance.now() < until && times.length < 200)) {
    const t0 = performance.now();
    op(x, w, opts).dispose();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const info = ops.backendInfo();
  console.log(
    JSON.stringify({
      median: times[times.length >> 1],
      runs: times.length,
      binary: info.binary,
      candidate: info.candidate,
      threads: info.wasm?.numThreads ?? null,
      variant: info.wasm?.variant ?? null,
      outSize: outSize(s),
    }),
  );
}

async function parent(): Promise<void> {
  const usage =
    'usage: tsx src/wasm.ts [--rounds N] [--seconds S] [--only a,b]\n' +
    '  wasm vs native forward, each backend in its own process (defaults: 2 rounds, 1.5 s per process)';
  let values: { rounds?: string; seconds?: string; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`bench-wasm: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const rounds = Number(values.rounds ?? '2');
  const seconds = Number(values.seconds ?? '1.5');
  if (!Number.isInteger(rounds) || rounds < 1 || !(seconds > 0)) {
    console.error(`bench-wasm: --rounds must be a positive integer and --seconds positive\n${usage}`);
    process.exit(2);
  }
  const only = values.only ? values.only.split(',') : null;
  const threads = os.availableParallelism();
  const self = fileURLToPath(import.meta.url);
  const env: Record<Backend, NodeJS.ProcessEnv> = {
    'native-1': { ...process.env, TVDCN_BACKEND: 'cpu', TVDCN_NUM_THREADS: '1' },
    'native-n': { ...process.env, TVDCN_BACKEND: 'cpu', TVDCN_NUM_THREADS: String(threads) },
    'wasm-1': { ...process.env, TVDCN_BACKEND: 'wasm', TVDCN_NUM_THREADS: '1' },
    'wasm-n': { ...process.env, TVDCN_BACKEND: 'wasm', TVDCN_NUM_THREADS: String(threads) },
  };
  console.log(
    `wasm (1 and ${threads} threads) vs native, float32 forward, reduced CPU shapes; ${rounds} rounds, ` +
      `${seconds} s per process; ${os.cpus()[0]?.model ?? 'cpu'} x${threads}, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const rows: string[][] = [];
  for (const s of SHAPES.filter((x) => !only || only.includes(x.name))) {
    const med: Record<Backend, number[]> = { 'native-1': [], 'native-n': [], 'wasm-1': [], 'wasm-n': [] };
    for (let r = 0; r < rounds; r++) {
      for (const b of BACKENDS) {
        const out = spawnSync(process.execPath, [...process.execArgv, self, '--child', b, s.name, String(seconds)], {
          env: env[b],
          encoding: 'utf8',
        });
        const line = out.stdout.trim().split('\n').at(-1) ?? '';
        try {
          const res = JSON.parse(line) as { median: number; binary: string; variant: string | null };
          const wasm = b.startsWith('wasm');
          if (wasm !== (res.binary === 'wasm')) throw new Error(`${b} ran on ${res.binary}`);
          const variant = b === 'wasm-n' && threads > 1 ? 'threads' : 'single';
          if (wasm && res.variant !== variant) throw new Error(`${b} ran on the ${res.variant} build`);
          med[b].push(res.median);
        } catch (e) {
          throw new Error(`bench ${s.name} ${b} failed: ${(e as Error).message}\n${out.stderr}`);
        }
      }
    }
    const min = (b: Backend) => Math.min(...med[b]);
    const spread = (b: Backend) => Math.max(...med[b]) / min(b);
    rows.push([
      s.name,
      describeShape(reduced(s)),
      min('native-1').toFixed(2),
      min('native-n').toFixed(2),
      min('wasm-1').toFixed(2),
      min('wasm-n').toFixed(2),
      (min('wasm-1') / min('wasm-n')).toFixed(2),
      (min('native-1') / min('native-n')).toFixed(2),
      (min('wasm-1') / min('native-1')).toFixed(2),
      (min('wasm-n') / min('native-n')).toFixed(2),
      BACKENDS.map((b) => spread(b).toFixed(2)).join('/'),
    ]);
  }
  const head = [
    'shape',
    'geometry (reduced)',
    'native 1T ms',
    `native ${threads}T ms`,
    'wasm 1T ms',
    `wasm ${threads}T ms`,
    `wasm 1T/${threads}T`,
    `native 1T/${threads}T`,
    'wasm/native 1T',
    `wasm/native ${threads}T`,
    'spread n1/nN/w1/wN',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  const load = os.loadavg().map((l) => l.toFixed(1));
  console.log(`load average at the end: ${load.join(' ')}`);
}

if (process.argv[2] === '--child') await child(process.argv[3] as Backend, process.argv[4]!, Number(process.argv[5]));
else await parent();
