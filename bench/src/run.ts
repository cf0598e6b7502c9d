// SPDX-License-Identifier: MIT
// CPU benchmark of @tvdcn/ops deformable convolution against ONNX Runtime. Every peer of a shape (our
// forward, our forward+backward with all five gradients, ORT DeformConv, ORT's dense Conv or
// ConvTranspose; with --compare also our forward and forward+backward with another revision's addon)
// runs in its own worker process (worker.ts), all pinned to the same cores with one thread count. The
// peers are timed in rounds - one block of calls of each peer, back to back, in a rotating order - until
// the 95% interval of every ratio is within --ci (default +-5%) or the shape's time cap is reached.
//
//   tsx src/run.ts [--smoke] [--write] [--threads N] [--only name,name] [--ci 0.05] [--max-seconds S]
//                  [--block S] [--compare <git ref | path/to/tvdcn_cpu.node>] [--addon path] [--no-pin]
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseCliArgs } from 'node:util';
import { refAddon } from './compare.js';
import { hasPeer, type PeerKind } from './peers.js';
import { type BenchShape, describeShape, macs, SHAPES, smoke } from './shapes.js';
import { formatRatio, median, pairedRatio, type RatioEstimate } from './stats.js';
import { TAG, type WorkerSpec } from './protocol.js';
import type { QueueReport } from './queue.js';

// ---------------------------------------------------------------------------------------------------
// Arguments

interface Args {
  smoke: boolean;
  write: boolean;
  threads: number;
  only: string[] | null;
  /** Target relative half-width of every ratio's 95% interval. */
  ci: number;
  /** Time cap per shape, seconds (the rounds stop there even if an interval is wider than --ci). */
  maxSeconds: number;
  /** Seconds of calls per peer per round. */
  block: number;
  compare: string | null;
  addon: string | null;
  pin: boolean;
  /** Also run the CPU queue's figures (queue.ts). */
  queue: boolean;
}

const OPTIONS = {
  smoke: { type: 'boolean' },
  write: { type: 'boolean' },
  threads: { type: 'string' },
  only: { type: 'string' },
  ci: { type: 'string' },
  'max-seconds': { type: 'string' },
  block: { type: 'string' },
  compare: { type: 'string' },
  addon: { type: 'string' },
  'no-pin': { type: 'boolean' },
  'no-queue': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `usage: pnpm bench [options]   (tsx src/run.ts [options])
  --smoke              one tiny round of every shape (CI)
  --write              write bench/results/latest-cpu.md
  --threads N          threads of every peer (default: all cores)
  --only a,b           only these shapes (names in src/shapes.ts)
  --ci F               target half-width of each ratio's 95% interval (default 0.05)
  --max-seconds S      time cap per shape (default 120)
  --block S            seconds of calls per peer per round (default 0.2)
  --compare REF        also time another revision's addon (git ref, or a tvdcn_cpu.node path)
  --addon PATH         the .node that "ours" uses
  --no-pin             do not pin the workers to cores
  --no-queue           skip the CPU queue's figures (queue.ts: µs per tiny op, event-loop delay)
  -h, --help           this text`;

function parseArgs(argv: string[]): Args {
  let v: ReturnType<typeof parseCliArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    v = parseCliArgs({
      args: argv.filter((a) => a !== '--'),
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const args: Args = {
    smoke: v.smoke ?? false,
    write: v.write ?? false,
    threads: v.threads === undefined ? os.availableParallelism() : Number(v.threads),
    only: v.only === undefined ? null : v.only.split(','),
    ci: Number(v.ci ?? 0.05),
    maxSeconds: Number(v['max-seconds'] ?? 120),
    block: Number(v.block ?? 0.2),
    compare: v.compare ?? null,
    addon: v.addon === undefined ? null : resolve(v.addon),
    pin: !(v['no-pin'] ?? false),
    queue: !(v['no-queue'] ?? false),
  };
  const bad = (m: string): never => {
    console.error(`bench: ${m}\n${USAGE}`);
    process.exit(2);
  };
  if (!Number.isInteger(args.threads) || args.threads < 1) bad('--threads must be a positive integer');
  if (!(args.ci > 0)) bad('--ci must be positive');
  if (!(args.maxSeconds > 0)) bad('--max-seconds must be positive');
  if (!(args.block > 0)) bad('--block must be positive');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');
const QUEUE = join(dirname(fileURLToPath(import.meta.url)), 'queue.ts');

/** Runs queue.ts in its own process (same threads and pinning as the workers); its report, or null. */
function queueFigures(): QueueReport | null {
  const nodeArgs = [...process.execArgv, QUEUE, ...(args.smoke ? ['--smoke'] : []), '--threads', String(args.threads)];
  const env: NodeJS.ProcessEnv = { ...process.env, TVDCN_NUM_THREADS: String(args.threads) };
  if (args.addon) env.TVDCN_NATIVE_PATH = args.addon;
  const [cmd, argv] = PIN
    ? ['taskset', ['-c', PIN.join(','), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const out = execFileSync(cmd, argv, { env, cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let report: QueueReport | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith(TAG)) report = JSON.parse(line.slice(TAG.length)) as QueueReport;
    else if (line.trim() !== '') console.log(line);
  }
  return report;
}

function queueMarkdown(q: QueueReport): string[] {
  return [
    `CPU queue (threads ${q.threads}): µs per tiny op (queue.ts; median of 5 runs):`,
    '',
    '"queue": as shipped (tiny work on an idle queue runs at the call); "handed off": every op goes to the executor thread (the full per-op cost of the queue); "back to back": N calls, then one wait; "+ cpuData()": a wait after each call.',
    '',
    '| op | queue, back to back | queue + cpuData() | handed off, back to back | handed off + cpuData() | synchronous (queue off) |',
    '|:---|---:|---:|---:|---:|---:|',
    ...q.tiny.map(
      (r) =>
        `| ${r.op} | ${r.queued.toFixed(2)} | ${r.queuedRoundTrip.toFixed(2)} | ${r.handedOff.toFixed(2)} | ${r.handedOffRoundTrip.toFixed(2)} | ${r.sync.toFixed(2)} |`,
    ),
    '',
    `Event-loop delay (monitorEventLoopDelay, ms) while CPU forwards of ${q.shape} run, each awaited with data(), a 1 ms interval on the loop (bar: p99 < 20 ms with the queue):`,
    '',
    '| mode | forwards | ms/forward | p50 | p99 | max |',
    '|:---|---:|---:|---:|---:|---:|',
    ...q.loop.map(
      (r) =>
        `| ${r.mode} | ${r.forwards} | ${r.msPerForward.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} |`,
    ),
    '',
    `${q.shape}, blocking (cpuData), queue on vs off in alternating rounds (the queue's cost on a whole pass):`,
    '',
    '| pass | queue ms | sync ms | queue/sync median [min, max] | rounds |',
    '|:---|---:|---:|---:|---:|',
    ...q.forward.map(
      (r) =>
        `| ${r.pass} | ${r.queueMs.toFixed(1)} | ${r.syncMs.toFixed(1)} | ${r.ratio.toFixed(3)} [${r.ratioMin.toFixed(3)}, ${r.ratioMax.toFixed(3)}] | ${r.rounds} |`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Workers

/** A timed column: a peer kind, run with the current addon or with the --compare one. */
interface Column {
  key: string;
  kind: PeerKind;
  /** TVDCN_NATIVE_PATH for this worker (ours with --addon / --compare), or null for the default. */
  addon: string | null;
}

interface Worker {
  column: Column;
  child: ChildProcessWithoutNullStreams;
  next: () => Promise<Record<string, unknown>>;
  warmMs: number;
  reps: number;
}

/** The cores the workers are pinned to: the first --threads of those this process may use. */
function pinnedCpus(): number[] | null {
  if (!args.pin || process.platform !== 'linux') return null;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const cpus = Array.from({ length: os.availableParallelism() }, (_, i) => i);
  return cpus.slice(0, Math.min(args.threads, cpus.length));
}
const PIN = pinnedCpus();

async function startWorker(shape: BenchShape, column: Column, outputFile: string | null): Promise<Worker> {
  const spec: WorkerSpec = { shape, peer: column.kind, threads: args.threads, warmups: args.smoke ? 1 : 3, outputFile };
  const nodeArgs = [...process.execArgv, WORKER, JSON.stringify(spec)];
  const env: NodeJS.ProcessEnv = { ...process.env, TVDCN_NUM_THREADS: String(args.threads) };
  if (column.addon) env.TVDCN_NATIVE_PATH = column.addon;
  const child = PIN
    ? spawn('taskset', ['-c', PIN.join(','), process.execPath, ...nodeArgs], { env, cwd: REPO_ROOT })
    : spawn(process.execPath, nodeArgs, { env, cwd: REPO_ROOT });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  let exited = false;
  const deliver = (m: Record<string, unknown>) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith(TAG)) deliver(JSON.parse(line.slice(TAG.length)) as Record<string, unknown>);
    else process.stdout.write(`${line}\n`);
  });
  child.on('exit', (code) => {
    exited = true;
    deliver({ error: `worker ${column.key} exited with code ${code}` });
  });
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((res, rej) => {
      const m = queue.shift();
      const check = (msg: Record<string, unknown>) =>
        msg.error ? rej(new Error(`bench: ${shape.name} ${column.key}: ${String(msg.error)}`)) : res(msg);
      if (m) check(m);
      else if (exited) rej(new Error(`bench: worker ${column.key} is gone`));
      else waiters.push(check);
    });
  const ready = await next();
  const warmMs = Number(ready.warmMs);
  const reps = args.smoke ? 1 : Math.max(1, Math.round((args.block * 1000) / Math.max(warmMs, 1e-3)));
  return { column, child, next, warmMs, reps };
}

async function block(w: Worker): Promise<{ times: number[]; cpus: number[] }> {
  w.child.stdin.write(`${JSON.stringify({ reps: w.reps })}\n`);
  const m = await w.next();
  return { times: m.times as number[], cpus: m.cpus as number[] };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode !== null) return;
  const done = new Promise<void>((res) => w.child.on('exit', () => res()));
  w.child.stdin.write(`${JSON.stringify({ exit: true })}\n`);
  await done;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// One shape

/** A ratio reported for every shape: numerator / denominator column keys. */
interface RatioSpec {
  name: string;
  num: string;
  den: string;
}

interface Row {
  shape: BenchShape;
  /** Median of the per-round block minima, ms, per column key. */
  ms: Record<string, number>;
  ratios: Record<string, RatioEstimate | null>;
  /** The same from CPU time per call (all threads of the peer's process). */
  cpuMs: Record<string, number>;
  cpuRatios: Record<string, RatioEstimate | null>;
  rounds: number;
  seconds: number;
  /** max |ours - ORT DeformConv| / max |ORT DeformConv| of the forward output. */
  relDiff: number | null;
  /** Whether every ratio reached the --ci half-width. */
  converged: boolean;
}

let COLUMNS: Column[] = [];
let RATIOS: RatioSpec[] = [];
let oursCpuMs = 0;

function readFloats(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function benchShape(s: BenchShape): Promise<Row> {
  const columns = COLUMNS.filter((c) => hasPeer(s, c.kind));
  const tmp = mkdtempSync(join(os.tmpdir(), 'tvdcn-bench-out-'));
  const workers: Worker[] = [];
  const t0 = performance.now();
  try {
    // One worker at a time starts and warms up, alone on the cores.
    for (const c of columns) {
      const check = c.key === 'ours-fwd' || c.kind === 'ort-dcn';
      workers.push(await startWorker(s, c, check && hasPeer(s, 'ort-dcn') ? join(tmp, `${c.key}.f32`) : null));
    }
    let relDiff: number | null = null;
    if (hasPeer(s, 'ort-dcn')) {
      const a = readFloats(join(tmp, 'ours-fwd.f32'));
      const b = readFloats(join(tmp, 'ort-dcn.f32'));
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < b.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      }
      relDiff = a.length === b.length ? diff / Math.max(scale, 1e-30) : Number.POSITIVE_INFINITY;
      if (!(relDiff < 1e-4))
        throw new Error(`bench: ${s.name}: ours and ORT DeformConv disagree (relative ${relDiff})`);
    }
    const samples: Record<string, number[]> = Object.fromEntries(columns.map((c) => [c.key, []]));
    const cpuSamples: Record<string, number[]> = Object.fromEntries(columns.map((c) => [c.key, []]));
    const ratios = RATIOS.filter((r) => r.num in samples && r.den in samples);
    const estimate = (from = samples) =>
      Object.fromEntries(ratios.map((r) => [r.name, pairedRatio(from[r.num], from[r.den])]));
    const minRounds = args.smoke ? 2 : 8;
    let rounds = 0;
    let converged = false;
    for (;;) {
      // Rotate the order so that no peer always follows the same one.
      for (let j = 0; j < workers.length; j++) {
        const w = workers[(j + rounds) % workers.length];
        const { times, cpus } = await block(w);
        oursCpuMs += cpus.reduce((a, b) => a + b, 0);
        // The block's fastest call: another process can only add time to a call, never take it away.
        samples[w.column.key].push(Math.min(...times));
        cpuSamples[w.column.key].push(Math.min(...cpus));
        await sleep(args.smoke ? 0 : 5); // let a spinning pool go to sleep before the next peer
      }
      rounds++;
      if (rounds < minRounds) continue;
      converged = Object.values(estimate()).every((e) => e.halfWidth <= args.ci);
      if (args.smoke || converged || (performance.now() - t0) / 1000 > args.maxSeconds) break;
    }
    const est = estimate();
    const cpuEst = estimate(cpuSamples);
    return {
      shape: s,
      ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
      ratios: Object.fromEntries(RATIOS.map((r) => [r.name, est[r.name] ?? null])),
      cpuMs: Object.fromEntries(Object.entries(cpuSamples).map(([k, v]) => [k, median(v)])),
      cpuRatios: Object.fromEntries(RATIOS.map((r) => [r.name, cpuEst[r.name] ?? null])),
      rounds,
      seconds: (performance.now() - t0) / 1000,
      relDiff,
      converged,
    };
  } finally {
    for (const w of workers) await stopWorker(w);
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

function cpuModel(): string {
  try {
    const lines = readFileSync('/proc/cpuinfo', 'utf8').split('\n');
    // The value of the first line whose key is exactly `name` ("model" is not "model name").
    const field = (name: string) =>
      lines
        .find((l) => l.split(':')[0].trim() === name)
        ?.split(':')[1]
        ?.trim();
    const model = field('model name');
    if (model) return `${model}${cpuDetail(field('cpu family'), field('model'))}`;
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/**
 * The x86 family and model and the data caches of CPU 0 (Linux sysfs), e.g. " (family 25, model 17; L1d 32K, L2
 * 1024K, L3 32768K)": two hosts with the same model name (the VMs' "AMD EPYC") can be different generations, whose
 * ratios differ (docs/perf/cpu.md, session 33: Zen 4's 32 KB L1 and half-rate 512-bit FMAs against Zen 5's).
 */
function cpuDetail(family: string | undefined, model: string | undefined): string {
  const parts: string[] = [];
  if (family && model) parts.push(`family ${family}, model ${model}`);
  const caches: string[] = [];
  const dir = '/sys/devices/system/cpu/cpu0/cache';
  try {
    for (const index of readdirSync(dir)
      .filter((d) => d.startsWith('index'))
      .sort()) {
      const read = (f: string) => readFileSync(`${dir}/${index}/${f}`, 'utf8').trim();
      const type = read('type');
      if (type === 'Instruction') continue;
      caches.push(`L${read('level')}${type === 'Data' ? 'd' : ''} ${read('size')}`);
    }
  } catch {
    // no sysfs cache information
  }
  if (caches.length > 0) parts.push(caches.join(', '));
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
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

function gitCommit(): string {
  try {
    const opts = {
      cwd: REPO_ROOT,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'],
    };
    return execFileSync('git', ['describe', '--always', '--dirty'], opts).trim();
  } catch {
    return 'unknown';
  }
}

function ortVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

const fmtMs = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(v < 10 ? 3 : 1));

function header(): string[] {
  const h = ['shape', 'ours fwd ms', 'ours fwd+bwd ms', 'ORT DeformConv ms', 'ORT Conv ms'];
  if (args.compare) h.push('base fwd ms', 'base fwd+bwd ms');
  return [...h, ...RATIOS.map((r) => r.name), 'rounds'];
}

function cells(r: Row): string[] {
  const c = [r.shape.name, fmtMs(r.ms['ours-fwd']), fmtMs(r.ms['ours-fwdbwd']), fmtMs(r.ms['ort-dcn'])];
  c.push(`${fmtMs(r.ms['ort-conv'])}${r.shape.transposed ? '†' : ''}`);
  if (args.compare) c.push(fmtMs(r.ms['base-fwd']), fmtMs(r.ms['base-fwdbwd']));
  for (const spec of RATIOS) c.push(formatRatio(r.ratios[spec.name]));
  c.push(`${r.rounds}${r.converged ? '' : '*'}`);
  return c;
}

/** The same table from CPU time per call (all threads of each peer's process). */
function cpuRow(r: Row): Row {
  return { ...r, ms: r.cpuMs, ratios: r.cpuRatios };
}

function textTable(rows: Row[]): string {
  const h = header();
  const all = [h, ...rows.map(cells)];
  const widths = h.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(h), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

function markdownTable(rows: Row[]): string {
  const h = header();
  return [
    `| ${h.join(' | ')} |`,
    `|${h.map((_, c) => (c === 0 ? ':---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${cells(r).join(' | ')} |`),
  ].join('\n');
}

function shapeList(rows: Row[]): string {
  return rows
    .map((r) => {
      const gmac = (macs(r.shape) / 1e9).toFixed(2);
      const check =
        r.relDiff === null ? 'no ORT DeformConv peer' : `max|Δ| vs ORT ${r.relDiff.toExponential(1)} (relative)`;
      return `- \`${r.shape.name}\` ${describeShape(r.shape)}: ${r.shape.description}; ${gmac} GMAC; ${r.rounds} rounds in ${r.seconds.toFixed(0)} s; ${check}`;
    })
    .join('\n');
}

function notes(): string[] {
  return [
    "ms = median over rounds of each peer's fastest call in the round (a block of calls of about --block seconds; other processes only ever add time to a call).",
    `ratio [lo, hi] = median over rounds of the per-round ratio, with its distribution-free 95% interval (order statistics); rounds stop when every interval is within +-${(100 * args.ci).toFixed(0)}% or after ${args.maxSeconds} s per shape (* = an interval is still wider).`,
    'ours/ORT-DCN and ours/ORT-Conv compare forward times (below 1: we are faster); fwd+bwd/fwd is our forward+backward over our forward.',
    "CPU table: the same statistics of each call's CPU time (process.cpuUsage, all threads); insensitive to being descheduled, but it counts a pool's spinning (ORT spins more than ours) - with --threads 1 there is no pool and it is the cleanest comparison of the kernels on a loaded machine.",
    'Every peer runs in its own process (one thread pool per process), pinned to the same cores; one block of calls of each peer per round, in a rotating order.',
    'fwd+bwd = forward plus backward producing all five gradients (input, weight, offset, mask, bias).',
    'ORT DeformConv is 2D only: the 1D shape runs as 2D with H = 1; 3D and transposed shapes have no ORT deformable peer (n/a).',
    '† ORT ConvTranspose (dense) for the transposed shape. ORT models take W as an input (no weight prepacking).',
    ...(args.compare
      ? ['base = our op with the --compare addon (same JS layer); new/base below 1: this tree is faster.']
      : []),
  ];
}

/**
 * A warning when "ours" would load the installed binary package while a newer addon sits in native/build:
 * `pnpm --filter @tvdcn/native-src build` rebuilds the addon without refreshing the package's copy (`npm run
 * build` does both), and a bench run after it times the old kernels (this cost two before/after runs in
 * session 6). Null when --addon or TVDCN_NATIVE_PATH picks the addon, or when the copy has the same bytes.
 */
function staleAddonWarning(): string | null {
  if (args.addon || process.env.TVDCN_NATIVE_PATH) return null;
  const built = join(REPO_ROOT, 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
  const installed = join(REPO_ROOT, 'packages', `bin-${os.platform()}-${os.arch()}-gnu`, 'bin', 'tvdcn.node');
  if (!existsSync(built) || !existsSync(installed)) return null;
  if (statSync(built).mtimeMs <= statSync(installed).mtimeMs) return null;
  if (readFileSync(built).equals(readFileSync(installed))) return null; // rebuilt, same bytes
  return `WARNING: ${built} is newer than ${installed}, which "ours" loads: run \`npm run build\` (or pass --addon ${built}) to time the new kernels`;
}

async function main(): Promise<void> {
  let shapes = SHAPES;
  if (args.only) {
    const unknown = args.only.filter((n) => !SHAPES.some((s) => s.name === n));
    if (unknown.length)
      throw new Error(`bench: unknown shape ${unknown.join(', ')} (have ${SHAPES.map((s) => s.name).join(', ')})`);
    shapes = SHAPES.filter((s) => args.only?.includes(s.name));
  }
  if (args.smoke) shapes = shapes.map(smoke);
  if (args.addon && !existsSync(args.addon)) throw new Error(`bench: --addon ${args.addon}: no such file`);
  const base = args.compare ? refAddon(args.compare, REPO_ROOT) : null;

  COLUMNS = [
    { key: 'ours-fwd', kind: 'ours-fwd', addon: args.addon },
    { key: 'ours-fwdbwd', kind: 'ours-fwdbwd', addon: args.addon },
    { key: 'ort-dcn', kind: 'ort-dcn', addon: null },
    { key: 'ort-conv', kind: 'ort-conv', addon: null },
  ];
  RATIOS = [
    { name: 'ours/ORT-DCN', num: 'ours-fwd', den: 'ort-dcn' },
    { name: 'ours/ORT-Conv', num: 'ours-fwd', den: 'ort-conv' },
    { name: 'fwd+bwd/fwd', num: 'ours-fwdbwd', den: 'ours-fwd' },
  ];
  if (base) {
    COLUMNS.push(
      { key: 'base-fwd', kind: 'ours-fwd', addon: base.path },
      { key: 'base-fwdbwd', kind: 'ours-fwdbwd', addon: base.path },
    );
    RATIOS.push(
      { name: 'fwd new/base', num: 'ours-fwd', den: 'base-fwd' },
      { name: 'fwd+bwd new/base', num: 'ours-fwdbwd', den: 'base-fwdbwd' },
    );
  }

  const load = () =>
    os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(', ');
  const env = [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpuModel()}; nproc ${os.availableParallelism()}; ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${os.platform()} ${os.arch()}`,
    `threads: TVDCN_NUM_THREADS=${args.threads}, ORT intraOpNumThreads=${args.threads} (interOpNumThreads=1); workers ${PIN ? `pinned to CPUs ${PIN.join(',')} (taskset)` : 'not pinned'}`,
    `software: node ${process.version}, onnxruntime-node ${ortVersion()}, tvdcn commit ${gitCommit()}${args.addon ? `, addon ${args.addon}` : ''}${base ? `; base: ${base.label}` : ''}`,
    `mode: ${args.smoke ? 'smoke (tiny shapes, 2 rounds)' : `rounds of ~${args.block} s per peer until every 95% interval is within +-${(100 * args.ci).toFixed(0)}% (cap ${args.maxSeconds} s per shape)`}, float32, CPU`,
    `load average before: ${load()}`,
  ];
  const stale = staleAddonWarning();
  if (stale) env.push(stale);
  for (const line of env) console.log(line);
  console.log('');

  const busyBefore = machineBusySeconds();
  const start = performance.now();
  const rows: Row[] = [];
  for (const s of shapes) {
    const row = await benchShape(s);
    rows.push(row);
    console.log(
      `  ${s.name}: ${row.rounds} rounds in ${row.seconds.toFixed(1)} s; ${RATIOS.map((r) => `${r.name} ${formatRatio(row.ratios[r.name])}`).join('; ')}`,
    );
  }
  let queue: QueueReport | null = null;
  if (args.queue) {
    console.log('');
    queue = queueFigures();
  }
  const busyAfter = machineBusySeconds();
  const wall = (performance.now() - start) / 1000;
  // Other processes' CPU: the machine's busy time minus what this process and the workers' timed calls
  // used (their setup is not counted, so this is an upper bound).
  const own = oursCpuMs / 1000 + (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
  const foreign =
    busyBefore === null || busyAfter === null
      ? 'unknown (no /proc/stat)'
      : `at most ${((100 * Math.max(0, busyAfter - busyBefore - own)) / (wall * os.availableParallelism())).toFixed(0)}% of ${os.availableParallelism()} cores (the workers' start-up counted as foreign)`;
  env.push(`load average after: ${load()}; other processes' CPU during the run: ${foreign}`);
  console.log(env[env.length - 1]);
  console.log('');
  console.log('wall time:');
  console.log(textTable(rows));
  console.log('');
  console.log("CPU time per call (all threads of the peer's process; steadier when the machine is loaded):");
  console.log(textTable(rows.map(cpuRow)));
  console.log('');
  console.log(shapeList(rows));
  console.log('');
  for (const n of notes()) console.log(n);

  if (args.write) {
    const md = [
      `# CPU benchmark: @tvdcn/ops vs ONNX Runtime${args.smoke ? ' (smoke)' : ''}`,
      '',
      ...env.map((l) => `- ${l}`),
      '',
      'Wall time:',
      '',
      markdownTable(rows),
      '',
      "CPU time per call (all threads of the peer's process; steadier when the machine is loaded):",
      '',
      markdownTable(rows.map(cpuRow)),
      '',
      shapeList(rows),
      '',
      ...(queue ? [...queueMarkdown(queue), ''] : []),
      ...notes().map((n) => `- ${n}`),
      '',
    ].join('\n');
    const file = join(REPO_ROOT, 'bench', 'results', 'latest-cpu.md');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, md);
    console.log(`\nwrote ${file}`);
  }
}

await main();
