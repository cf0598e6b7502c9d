// SPDX-License-Identifier: MIT
// CPU benchmark of @tvdcn/ops deformable convolution against ONNX Runtime, in one process with one
// thread count for both: our forward, our forward+backward (all five gradients), ORT DeformConv
// forward, and ORT's dense Conv (ConvTranspose for a transposed shape) on the same geometry.
//
//   tsx src/run.ts [--smoke] [--write] [--threads N] [--seconds S] [--only name,name]
//
// --smoke    a tiny version of every shape, 1 warm-up and 2 timed runs (CI: proves everything runs)
// --write    also write the table as markdown to bench/results/latest-cpu.md
// --threads  TVDCN_NUM_THREADS and ORT intraOpNumThreads (default os.availableParallelism())
// --seconds  time budget per measurement, which sets the run count (default 3)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@tvdcn/ops';
import { type BenchShape, describeShape, macs, offsetSize, outSize, SHAPES, smoke } from './shapes.js';

// ---------------------------------------------------------------------------------------------------
// Arguments and environment (the thread count must be in the environment before @tvdcn/ops loads)

interface Args {
  smoke: boolean;
  write: boolean;
  threads: number;
  seconds: number;
  only: string[] | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { smoke: false, write: false, threads: os.availableParallelism(), seconds: 3, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--smoke') args.smoke = true;
    else if (a === '--write') args.write = true;
    else if (a === '--threads') args.threads = Number(value());
    else if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--') continue;
    else throw new Error(`bench: unknown argument ${a} (expected --smoke, --write, --threads N, --seconds S, --only a,b)`);
  }
  if (!Number.isInteger(args.threads) || args.threads < 1) throw new Error(`bench: --threads must be a positive integer`);
  if (!(args.seconds > 0)) throw new Error(`bench: --seconds must be positive`);
  return args;
}

const args = parseArgs(process.argv.slice(2));
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.env.TVDCN_NUM_THREADS = String(args.threads);

const ops = await import('@tvdcn/ops');
const ort = await import('onnxruntime-node');
const onnx = await import('../../packages/ops/test/onnx/onnx-model.js');

// ---------------------------------------------------------------------------------------------------
// Data

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function fill(r: () => number, shape: readonly number[], lo: number, hi: number): Float32Array {
  const a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

interface Shapes {
  x: number[];
  w: number[];
  offset: number[];
  mask: number[];
  bias: number[];
  y: number[];
}

function shapesOf(s: BenchShape): Shapes {
  const K = numel(s.kernel);
  const grid = offsetSize(s);
  return {
    x: [s.batch, s.inChannels, ...s.inSize],
    w: s.transposed
      ? [s.inChannels, s.outChannels / s.groups, ...s.kernel]
      : [s.outChannels, s.inChannels / s.groups, ...s.kernel],
    offset: [s.batch, s.offsetGroups * K * s.dim, ...grid],
    mask: [s.batch, s.offsetGroups * K, ...grid],
    bias: [s.outChannels],
    y: [s.batch, s.outChannels, ...outSize(s)],
  };
}

interface Data {
  x: Float32Array;
  w: Float32Array;
  offset: Float32Array;
  mask: Float32Array;
  bias: Float32Array;
  gy: Float32Array;
}

function makeData(s: BenchShape, sh: Shapes): Data {
  const r = rng(7);
  const bound = 1 / Math.sqrt(sh.w[1] * numel(s.kernel)); // PyTorch's fan-in bound, both layouts
  return {
    x: fill(r, sh.x, -1, 1),
    w: fill(r, sh.w, -bound, bound),
    offset: fill(r, sh.offset, -2, 2),
    mask: fill(r, sh.mask, 0, 1),
    bias: fill(r, sh.bias, -bound, bound),
    gy: fill(r, sh.y, -1, 1),
  };
}

// ---------------------------------------------------------------------------------------------------
// Timing

interface Timing {
  medianMs: number;
  /** Interquartile range / median: how noisy the machine was during this measurement. */
  spread: number;
  runs: number;
}

const now = (): number => performance.now();

const quantile = (sorted: number[], q: number): number => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};

/**
 * Times several functions of one shape. Each is warmed up, and its run count sized from its fastest
 * warm-up so that it takes about `--seconds`; the timed runs are then interleaved round-robin, so a
 * slow phase of a shared machine hits every column alike instead of one. Returns medians.
 */
async function measureAll(fns: (() => unknown)[]): Promise<Timing[]> {
  const warmups = args.smoke ? 1 : 3;
  const runs: number[] = [];
  for (const fn of fns) {
    let warmMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < warmups; i++) {
      const t0 = now();
      await fn();
      warmMs = Math.min(warmMs, now() - t0); // the first calls allocate and fault pages in
    }
    runs.push(args.smoke ? 2 : Math.max(5, Math.min(200, Math.round((args.seconds * 1000) / Math.max(warmMs, 1e-3)))));
  }
  const samples: number[][] = fns.map(() => []);
  for (let round = 0; round < Math.max(...runs); round++) {
    for (let f = 0; f < fns.length; f++) {
      // Spread a function's runs evenly over the rounds.
      if (Math.floor(((round + 1) * runs[f]) / Math.max(...runs)) === samples[f].length) continue;
      const t0 = now();
      await fns[f]();
      samples[f].push(now() - t0);
    }
  }
  return samples.map((xs) => {
    xs.sort((a, b) => a - b);
    const medianMs = quantile(xs, 0.5);
    return { medianMs, spread: (quantile(xs, 0.75) - quantile(xs, 0.25)) / medianMs, runs: xs.length };
  });
}

// ---------------------------------------------------------------------------------------------------
// Our op

type OpFn = (input: Tensor, weight: Tensor, opts: Record<string, unknown>) => Tensor;

function ourOp(s: BenchShape): OpFn {
  const table: Record<string, OpFn> = {
    '1': ops.deformConv1d as OpFn,
    '2': ops.deformConv2d as OpFn,
    '3': ops.deformConv3d as OpFn,
    '1t': ops.deformConvTranspose1d as OpFn,
    '2t': ops.deformConvTranspose2d as OpFn,
    '3t': ops.deformConvTranspose3d as OpFn,
  };
  return table[`${s.dim}${s.transposed ? 't' : ''}`];
}

function ourOptions(s: BenchShape, offset: Tensor, mask: Tensor, bias: Tensor): Record<string, unknown> {
  const opts: Record<string, unknown> = {
    offset,
    mask,
    bias,
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    groups: s.groups,
  };
  if (s.transposed) opts.outputPadding = s.outputPadding ?? s.inSize.map(() => 0);
  return opts;
}

interface OurCase {
  forward: () => void;
  forwardBackward: () => void;
  output: () => Float32Array;
  dispose: () => void;
}

function ourCase(s: BenchShape, sh: Shapes, d: Data): OurCase {
  const op = ourOp(s);
  const t = (a: Float32Array, shape: number[], requiresGrad = false): Tensor =>
    ops.tensor(a, { shape, dtype: 'float32', requiresGrad });
  const plain = [t(d.x, sh.x), t(d.w, sh.w), t(d.offset, sh.offset), t(d.mask, sh.mask), t(d.bias, sh.bias)];
  const leaves = [
    t(d.x, sh.x, true),
    t(d.w, sh.w, true),
    t(d.offset, sh.offset, true),
    t(d.mask, sh.mask, true),
    t(d.bias, sh.bias, true),
  ];
  const gy = t(d.gy, sh.y);
  const plainOpts = ourOptions(s, plain[2], plain[3], plain[4]);
  const gradOpts = ourOptions(s, leaves[2], leaves[3], leaves[4]);
  return {
    forward: () => {
      op(plain[0], plain[1], plainOpts).dispose();
    },
    forwardBackward: () => {
      const y = op(leaves[0], leaves[1], gradOpts);
      y.backward(gy);
      y.dispose();
      for (const l of leaves) {
        if (l.grad === null) throw new Error(`bench: a gradient is missing after backward (${s.name})`);
        l.grad.dispose();
        l.grad = null;
      }
    },
    output: () => {
      const y = op(plain[0], plain[1], plainOpts);
      const values = Float32Array.from(y.toTypedArray());
      y.dispose();
      return values;
    },
    dispose: () => {
      for (const x of [...plain, ...leaves, gy]) x.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// ONNX Runtime peers

type OrtSession = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
type OrtTensor = InstanceType<typeof ort.Tensor>;

interface OrtCase {
  session: OrtSession;
  feeds: Record<string, OrtTensor>;
}

const sessionOptions = (): Parameters<typeof ort.InferenceSession.create>[1] => ({
  intraOpNumThreads: args.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

const ortTensor = (a: Float32Array, shape: number[]): OrtTensor => new ort.Tensor('float32', a, shape);

/**
 * ORT DeformConv is 2D only. A 1D shape runs as 2D with H = 1 (kernel [1, k], pads [0, p, 0, p]) and
 * dy = 0 interleaved into the offsets: the same arithmetic. 3D and transposed shapes have no peer.
 */
async function ortDeformConv(s: BenchShape, sh: Shapes, d: Data): Promise<OrtCase | null> {
  if (s.transposed || s.dim === 3) return null;
  const lift = (shape: number[]): number[] => (s.dim === 1 ? [shape[0], shape[1], 1, shape[2]] : shape);
  const lift1 = (v: number[], fill0: number): number[] => (s.dim === 1 ? [fill0, v[0]] : v);
  let offset = d.offset;
  let offsetShape = sh.offset;
  if (s.dim === 1) {
    offsetShape = [sh.offset[0], sh.offset[1] * 2, 1, sh.offset[2]];
    offset = new Float32Array(numel(offsetShape));
    const L = sh.offset[2];
    for (let bc = 0; bc < sh.offset[0] * sh.offset[1]; bc++) {
      offset.set(d.offset.subarray(bc * L, (bc + 1) * L), (2 * bc + 1) * L);
    }
  }
  const model = onnx.deformConvModel({
    dtype: 'float32',
    inputShape: lift(sh.x),
    weightShape: lift(sh.w),
    stride: lift1(s.stride, 1),
    padding: lift1(s.padding, 0),
    dilation: lift1(s.dilation, 1),
    groups: s.groups,
    offsetGroups: s.offsetGroups,
    bias: true,
    mask: true,
  });
  const session = await ort.InferenceSession.create(model, sessionOptions());
  const feeds = {
    X: ortTensor(d.x, lift(sh.x)),
    W: ortTensor(d.w, lift(sh.w)),
    offset: ortTensor(offset, offsetShape),
    B: ortTensor(d.bias, sh.bias),
    mask: ortTensor(d.mask, lift(sh.mask)),
  };
  return { session, feeds };
}

/** ORT's dense Conv (ConvTranspose for a transposed shape) with the same geometry, no offsets. */
async function ortConv(s: BenchShape, sh: Shapes, d: Data): Promise<OrtCase> {
  const geometry = {
    dtype: 'float32' as const,
    inputShape: sh.x,
    weightShape: sh.w,
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    groups: s.groups,
    bias: true,
  };
  const model = s.transposed
    ? onnx.convTransposeModel({ ...geometry, outputPadding: s.outputPadding ?? s.inSize.map(() => 0) })
    : onnx.convModel(geometry);
  const session = await ort.InferenceSession.create(model, sessionOptions());
  return { session, feeds: { X: ortTensor(d.x, sh.x), W: ortTensor(d.w, sh.w), B: ortTensor(d.bias, sh.bias) } };
}

async function ortRun(c: OrtCase): Promise<Float32Array> {
  const out = await c.session.run(c.feeds);
  return out.Y.data as Float32Array;
}

// ---------------------------------------------------------------------------------------------------
// Suite

interface Row {
  shape: BenchShape;
  ours: Timing;
  oursBackward: Timing;
  ortDcn: Timing | null;
  ortConv: Timing;
  /** max |ours - ORT DeformConv| / max |ORT DeformConv| of the forward output. */
  relDiff: number | null;
}

async function benchShape(s: BenchShape): Promise<Row> {
  const sh = shapesOf(s);
  const d = makeData(s, sh);
  const ours = ourCase(s, sh, d);
  const dcn = await ortDeformConv(s, sh, d);
  const conv = await ortConv(s, sh, d);
  try {
    let relDiff: number | null = null;
    if (dcn) {
      const a = ours.output();
      const b = await ortRun(dcn);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < b.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      }
      relDiff = a.length === b.length ? diff / Math.max(scale, 1e-30) : Number.POSITIVE_INFINITY;
      if (!(relDiff < 1e-4)) throw new Error(`bench: ${s.name}: ours and ORT DeformConv disagree (relative ${relDiff})`);
    }
    const fns = [ours.forward, ours.forwardBackward, () => ortRun(conv)];
    if (dcn) fns.push(() => ortRun(dcn));
    const [fwd, fwdBwd, ortConvTiming, ortDcnTiming] = await measureAll(fns);
    return { shape: s, ours: fwd, oursBackward: fwdBwd, ortDcn: ortDcnTiming ?? null, ortConv: ortConvTiming, relDiff };
  } finally {
    ours.dispose();
    await dcn?.session.release();
    await conv.session.release();
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat; null elsewhere). */
function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100; // USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

/**
 * CPU used by other processes while the suite ran, as a share of the machine's capacity: timings of a
 * run where this is more than a few percent are unreliable (the benchmark shares the cores).
 */
function foreignLoad(busyBefore: number | null, cpuBefore: NodeJS.CpuUsage, wallSeconds: number): string {
  const busyAfter = machineBusySeconds();
  if (busyBefore === null || busyAfter === null) return 'unknown (no /proc/stat)';
  const cpu = process.cpuUsage(cpuBefore);
  const ours = (cpu.user + cpu.system) / 1e6;
  const foreign = Math.max(0, busyAfter - busyBefore - ours);
  return `${((100 * foreign) / (wallSeconds * os.availableParallelism())).toFixed(0)}% of ${os.availableParallelism()} cores`;
}

function gitCommit(): string {
  try {
    const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    return execFileSync('git', ['describe', '--always', '--dirty'], opts).trim();
  } catch {
    return 'unknown';
  }
}

function ortVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

const ms = (t: Timing | null): string => (t ? t.medianMs.toFixed(t.medianMs < 10 ? 3 : 1) : 'n/a');
const ratio = (a: Timing, b: Timing | null): string => (b ? `${(a.medianMs / b.medianMs).toFixed(2)}x` : 'n/a');

const HEADER = ['shape', 'ours fwd ms', 'ours fwd+bwd ms', 'ORT DeformConv ms', 'ORT Conv ms', 'ours/ORT-DCN', 'ours/ORT-Conv'];

function cells(r: Row): string[] {
  return [
    r.shape.name,
    ms(r.ours),
    ms(r.oursBackward),
    ms(r.ortDcn),
    `${ms(r.ortConv)}${r.shape.transposed ? '†' : ''}`,
    ratio(r.ours, r.ortDcn),
    ratio(r.ours, r.ortConv),
  ];
}

function textTable(rows: Row[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

function markdownTable(rows: Row[]): string {
  const head = `| ${HEADER.join(' | ')} |`;
  const rule = `|${HEADER.map((_, c) => (c === 0 ? ':---' : '---:')).join('|')}|`;
  return [head, rule, ...rows.map((r) => `| ${cells(r).join(' | ')} |`)].join('\n');
}

function shapeList(rows: Row[]): string {
  return rows
    .map((r) => {
      const gmac = (macs(r.shape) / 1e9).toFixed(2);
      const timings = [r.ours, r.oursBackward, r.ortDcn, r.ortConv];
      const runs = timings.map((t) => (t ? t.runs : '-')).join('/');
      const spread = Math.max(...timings.map((t) => (t ? t.spread : 0)));
      const check = r.relDiff === null ? 'no ORT DeformConv peer' : `max|Δ| vs ORT ${r.relDiff.toExponential(1)} (relative)`;
      return `- \`${r.shape.name}\` ${describeShape(r.shape)}: ${r.shape.description}; ${gmac} GMAC; runs ${runs}; IQR/median <= ${(100 * spread).toFixed(0)}%; ${check}`;
    })
    .join('\n');
}

function environment(): string[] {
  let backend = 'unknown';
  try {
    const info = ops.backendInfo() as { variant?: string; path?: string };
    backend = `${info.variant ?? '?'} (${info.path ? relative(REPO_ROOT, info.path) : '?'})`;
  } catch {
    // older ops without backendInfo(): leave unknown
  }
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpuModel()}; nproc ${os.availableParallelism()}; ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${os.platform()} ${os.arch()}`,
    `threads: TVDCN_NUM_THREADS=${args.threads}, ORT intraOpNumThreads=${args.threads} (interOpNumThreads=1)`,
    `software: node ${process.version}, onnxruntime-node ${ortVersion()}, tvdcn commit ${gitCommit()}, backend ${backend}`,
    `mode: ${args.smoke ? 'smoke (tiny shapes, 2 runs)' : `full (median of adaptive run count, ~${args.seconds} s per measurement)`}, float32, CPU`,
  ];
}

const NOTES = [
  'ms = median wall time of one call; ratios compare forward times (ours fwd / ORT fwd); lower is better for us.',
  'runs = timed calls per column (ours fwd / ours fwd+bwd / ORT DeformConv / ORT Conv), interleaved round-robin; IQR/median = the noisiest column.',
  'fwd+bwd = forward plus backward producing all five gradients (input, weight, offset, mask, bias).',
  'ORT DeformConv is 2D only: the 1D shape runs as 2D with H = 1; 3D and transposed shapes have no ORT peer (n/a).',
  '† ORT ConvTranspose (dense) for the transposed shape. ORT models take W as an input (no weight prepacking).',
];

async function main(): Promise<void> {
  let shapes = SHAPES;
  if (args.only) {
    const unknown = args.only.filter((n) => !SHAPES.some((s) => s.name === n));
    if (unknown.length) throw new Error(`bench: unknown shape ${unknown.join(', ')} (have ${SHAPES.map((s) => s.name).join(', ')})`);
    shapes = SHAPES.filter((s) => args.only?.includes(s.name));
  }
  if (args.smoke) shapes = shapes.map(smoke);

  const env = environment();
  for (const line of env) console.log(line);
  console.log('');

  const busyBefore = machineBusySeconds();
  const cpuBefore = process.cpuUsage();
  const start = now();
  const rows: Row[] = [];
  for (const s of shapes) {
    const t0 = now();
    rows.push(await benchShape(s));
    console.log(`  ${s.name}: done in ${((now() - t0) / 1000).toFixed(1)} s`);
  }
  env.push(`other processes' CPU use during the run: ${foreignLoad(busyBefore, cpuBefore, (now() - start) / 1000)}`);
  console.log(env[env.length - 1]);
  console.log('');
  console.log(textTable(rows));
  console.log('');
  console.log(shapeList(rows));
  console.log('');
  for (const n of NOTES) console.log(n);

  if (args.write) {
    const md = [
      `# CPU benchmark: @tvdcn/ops vs ONNX Runtime${args.smoke ? ' (smoke)' : ''}`,
      '',
      ...env.map((l) => `- ${l}`),
      '',
      markdownTable(rows),
      '',
      shapeList(rows),
      '',
      ...NOTES.map((n) => `- ${n}`),
      '',
    ].join('\n');
    const file = join(REPO_ROOT, 'bench', 'results', 'latest-cpu.md');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, md);
    console.log(`\nwrote ${file}`);
  }
}

await main();
