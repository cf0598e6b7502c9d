// SPDX-License-Identifier: MIT
// The CPU queue's figures (issue 10): microseconds per tiny op through the queue against the synchronous
// path (the queue switched off) in the same process, and the event loop's delay
// (perf_hooks.monitorEventLoopDelay) while CPU forwards of a benchmark shape (r50-c4, B=4) run and are
// awaited with `await y.data()` - again against the synchronous path, where the forward blocks the loop.
// Run alone (`pnpm --filter @tvdcn/bench bench:queue`) or by run.ts after the shapes; prints a text
// report and, last, one TAG-prefixed JSON line (QueueReport) for run.ts.
//   tsx src/queue.ts [--smoke] [--threads N]
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { TAG } from './protocol.js';
import { offsetSize, SHAPES, smoke } from './shapes.js';

/** One tiny op's cost, µs per call. */
export interface TinyOpRow {
  op: string;
  /** Queue on: calls queued back to back, one wait at the end (throughput). */
  queued: number;
  /** Queue on: each call followed by a synchronising read (cpuData, no copy): the round trip. */
  queuedRoundTrip: number;
  /** Queue off: the kernel runs at the call. */
  sync: number;
  /** Queue on, nothing run at the call (every op handed to the executor thread): back to back, round trip. */
  handedOff: number;
  handedOffRoundTrip: number;
}

/** Event-loop delay while forwards run, ms. */
export interface LoopDelayRow {
  mode: 'queue' | 'sync';
  forwards: number;
  msPerForward: number;
  p50: number;
  p99: number;
  max: number;
}

/** Forward and forward+backward times, blocking (cpuData), queue on vs off, alternating rounds. */
export interface ForwardRow {
  pass: 'forward' | 'forward+backward';
  /** Median over rounds of the round's fastest call, ms. */
  queueMs: number;
  syncMs: number;
  /** Median over rounds of queue/sync, and its range over the rounds. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  rounds: number;
}

export interface QueueReport {
  shape: string;
  threads: number;
  tiny: TinyOpRow[];
  loop: LoopDelayRow[];
  forward: ForwardRow[];
}

const { values: opts } = parseArgs({
  options: { smoke: { type: 'boolean' }, threads: { type: 'string' } },
  strict: true,
  allowPositionals: false,
  args: process.argv.slice(2).filter((a) => a !== '--'),
});
if (opts.threads) process.env.TVDCN_NUM_THREADS = opts.threads;

const ops = await import('@tvdcn/ops');
type Tensor = import('@tvdcn/ops').Tensor;
interface QueueHooks {
  _setCpuQueue?(on: boolean): boolean;
  _setCpuInlineCost?(cost: number): void;
  getNumThreads(): number;
}

function binding(): QueueHooks {
  ops.maskSoftmax2d(ops.zeros([1, 9, 1, 1]), 3).dispose(); // loads the binary
  const path = ops.backendInfo().path;
  if (path === null) throw new Error('bench queue: no native binary is loaded');
  return createRequire(import.meta.url)(path) as QueueHooks;
}

const b = binding();
if (typeof b._setCpuQueue !== 'function') throw new Error('bench queue: the loaded addon has no CPU queue');
const setQueue = (on: boolean): void => {
  b._setCpuQueue?.(on);
};

// --- µs per tiny op ---

function timeLoop(n: number, body: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) body();
  return ((performance.now() - t0) * 1000) / n;
}

/** Median of `reps` repetitions of `fn` (µs per call). */
function medianOf(reps: number, fn: () => number): number {
  const xs = Array.from({ length: reps }, fn).sort((a, c) => a - c);
  return xs[Math.floor(xs.length / 2)];
}

function tinyOps(n: number): TinyOpRow[] {
  const mask = ops.rand([1, 9, 2, 2]);
  const x = ops.rand([1, 4, 3, 3]);
  const w = ops.rand([4, 4, 3, 3]);
  const offset = ops.zeros([1, 18, 1, 1]);
  const a = ops.rand([16]);
  const c = ops.rand([16]);
  const cases: [string, () => Tensor][] = [
    ['maskSoftmax2d [1, 9, 2, 2]', () => ops.maskSoftmax2d(mask, 3)],
    ['deformConv2d [1, 4, 3, 3] -> [1, 4, 1, 1]', () => ops.deformConv2d(x, w, { offset })],
    ['add [16] + [16]', () => ops.add(a, c)],
    ['mul [16] * 2', () => ops.mul(a, 2)],
    ['sum [16]', () => ops.sum(a)],
  ];
  const rows: TinyOpRow[] = [];
  for (const [name, op] of cases) {
    const once = (): void => op().dispose();
    const roundTrip = (): void => {
      const y = op();
      y.cpuData();
      y.dispose();
    };
    const throughput = (): number => {
      const t0 = performance.now();
      let last: Tensor | null = null;
      for (let i = 0; i < n; i++) {
        last?.dispose();
        last = op();
      }
      last?.cpuData(); // waits for the whole queue: in order, the last task ends after all others
      last?.dispose();
      return ((performance.now() - t0) * 1000) / n;
    };
    setQueue(true);
    timeLoop(Math.ceil(n / 10), once); // warm-up
    const queued = medianOf(5, throughput);
    const queuedRoundTrip = medianOf(5, () => timeLoop(n, roundTrip));
    setQueue(false);
    timeLoop(Math.ceil(n / 10), once);
    const sync = medianOf(5, () => timeLoop(n, roundTrip));
    setQueue(true);
    b._setCpuInlineCost?.(-1);
    timeLoop(Math.ceil(n / 10), once);
    const handedOff = medianOf(5, throughput);
    const handedOffRoundTrip = medianOf(5, () => timeLoop(n, roundTrip));
    b._setCpuInlineCost?.(32768);
    rows.push({ op: name, queued, queuedRoundTrip, sync, handedOff, handedOffRoundTrip });
  }
  return rows;
}

// --- event-loop delay during forwards ---

function convCase(shapeName: string, smokeRun: boolean, requiresGrad = false) {
  let s = SHAPES.find((x) => x.name === shapeName);
  if (!s) throw new Error(`bench queue: no shape ${shapeName}`);
  if (smokeRun) s = smoke(s);
  const K = s.kernel.reduce((p, v) => p * v, 1);
  const out = offsetSize(s);
  const o = { requiresGrad };
  const x = ops.randn([s.batch, s.inChannels, ...s.inSize], o);
  const w = ops.randn([s.outChannels, s.inChannels / s.groups, ...s.kernel], o);
  const offset = ops.randn([s.batch, s.offsetGroups * 2 * K, ...out], o);
  const mask = ops.rand([s.batch, s.offsetGroups * K, ...out], o);
  const bias = ops.randn([s.outChannels], o);
  const opts = { offset, mask, bias, stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups };
  return { x, w, opts, leaves: [x, w, offset, mask, bias] };
}

function forwardTimes(shapeName: string, smokeRun: boolean, rounds: number): ForwardRow[] {
  const rows: ForwardRow[] = [];
  for (const pass of ['forward', 'forward+backward'] as const) {
    const backward = pass === 'forward+backward';
    const { x, w, opts, leaves } = convCase(shapeName, smokeRun, backward);
    const call = (): number => {
      const t0 = performance.now();
      const y = ops.deformConv2d(x, w, opts);
      if (backward) {
        y.sum().backward();
        for (const l of leaves) {
          l.grad?.cpuData(); // waits for the queued work
          l.grad?.dispose();
          l.grad = null;
        }
      } else {
        y.cpuData();
      }
      y.dispose();
      return performance.now() - t0;
    };
    const best = (on: boolean): number => {
      setQueue(on);
      call(); // warm-up after the switch
      return Math.min(call(), call(), call());
    };
    const q: number[] = [];
    const sy: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which mode goes first, so that a drift in the machine's load favours neither.
      const [a, c] = r % 2 === 0 ? [best(true), best(false)] : ((v) => [v[1], v[0]])([best(false), best(true)]);
      q.push(a);
      sy.push(c);
      ratios.push(a / c);
    }
    const med = (xs: number[]): number => [...xs].sort((u, v) => u - v)[Math.floor(xs.length / 2)];
    rows.push({
      pass,
      queueMs: med(q),
      syncMs: med(sy),
      ratio: med(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      rounds,
    });
  }
  setQueue(true);
  return rows;
}

async function loopDelay(shapeName: string, smokeRun: boolean, seconds: number): Promise<LoopDelayRow[]> {
  const { x, w, opts } = convCase(shapeName, smokeRun);
  const rows: LoopDelayRow[] = [];
  for (const mode of ['queue', 'sync'] as const) {
    setQueue(mode === 'queue');
    (await ops.deformConv2d(x, w, opts).data()).length; // warm-up
    const h = monitorEventLoopDelay({ resolution: 1 });
    // Something on the loop that wants to run every millisecond, as a server's sockets would.
    const timer = setInterval(() => {}, 1);
    h.enable();
    const t0 = performance.now();
    let forwards = 0;
    while (performance.now() - t0 < seconds * 1000 || forwards < 2) {
      const y = ops.deformConv2d(x, w, opts);
      await y.data();
      y.dispose();
      forwards++;
      await new Promise((r) => setImmediate(r)); // a turn of the loop between requests, as a server has
    }
    const elapsed = performance.now() - t0;
    h.disable();
    clearInterval(timer);
    rows.push({
      mode,
      forwards,
      msPerForward: elapsed / forwards,
      p50: h.percentile(50) / 1e6,
      p99: h.percentile(99) / 1e6,
      max: h.max / 1e6,
    });
  }
  setQueue(true);
  return rows;
}

const smokeRun = opts.smoke ?? false;
const report: QueueReport = {
  shape: 'r50-c4',
  threads: b.getNumThreads(),
  tiny: tinyOps(smokeRun ? 200 : 5000),
  loop: await loopDelay('r50-c4', smokeRun, smokeRun ? 0.2 : 5),
  forward: forwardTimes('r50-c4', smokeRun, smokeRun ? 1 : 7),
};

console.log(`CPU queue (threads ${report.threads}): µs per tiny op`);
console.log(
  '  op | queue: back to back | queue: + cpuData() each | handed off: back to back | handed off: + cpuData() each | synchronous (queue off)',
);
for (const r of report.tiny) {
  console.log(
    `  ${r.op} | ${r.queued.toFixed(2)} | ${r.queuedRoundTrip.toFixed(2)} | ${r.handedOff.toFixed(2)} | ${r.handedOffRoundTrip.toFixed(2)} | ${r.sync.toFixed(2)}`,
  );
}
console.log(`event-loop delay while CPU forwards of ${report.shape} run, awaited with data() (ms)`);
console.log('  mode | forwards | ms/forward | p50 | p99 | max');
for (const r of report.loop) {
  console.log(
    `  ${r.mode} | ${r.forwards} | ${r.msPerForward.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)}`,
  );
}
console.log(`${report.shape} on the CPU, blocking (cpuData), queue on vs off in alternating rounds (ms)`);
console.log('  pass | queue | sync | queue/sync median [min, max] over rounds');
for (const r of report.forward) {
  console.log(
    `  ${r.pass} | ${r.queueMs.toFixed(1)} | ${r.syncMs.toFixed(1)} | ${r.ratio.toFixed(3)} [${r.ratioMin.toFixed(3)}, ${r.ratioMax.toFixed(3)}] (${r.rounds} rounds)`,
  );
}
process.stdout.write(`${TAG}${JSON.stringify(report)}\n`);
