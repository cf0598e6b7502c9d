// SPDX-License-Identifier: MIT
// Load test of the inference server with autocannon: starts the server in its own process, then for each
// connection count posts one input image for `--duration` seconds and reports requests/s, the p50/p99
// latency, the server's event-loop delay (perf_hooks.monitorEventLoopDelay) and its garbage collections
// (count and longest pause of scavenges and mark-compacts) over that run, and how many times its event loop
// stalled for more than 20 ms, and of those how many during a garbage collection. Each mode
// gets a fresh server: `queue` (the CPU queue on, the default) and `sync` (CPU_QUEUE=off: the same server
// with synchronous calls, the baseline), alternated for `--rounds` rounds so both see the same machine load.
// On Linux it also reports where the CPU went during each row (threads.ts: the server's threads and this
// process, which runs autocannon). `--node-args` passes flags to the server's node (`--trace-gc`,
// `--cpu-prof`); the server inherits the environment (TVDCN_NUM_THREADS=1, ...). `--client-cpus` pins this
// process (autocannon, the stand-in for clients on other machines) to those CPUs and `--server-cpus` the
// server (default: all CPUs), in taskset's list syntax (Linux). Before each row the same load runs for
// `--warmup` seconds (default 2; 0: none) and the server's statistics are reset after it, so that a row measures
// the steady state (not the first collections of a young heap growing under the first burst of load).
//   tsx src/loadtest.ts [--connections 1,4,16] [--duration 10] [--modes sync,queue] [--rounds 1] [--json FILE]
//                       [--node-args "--trace-gc"] [--server-log PREFIX (the server's stdout to PREFIX-MODE-ROUND.log)]
//                       [--client-cpus 1] [--server-cpus 0-1] [--warmup 2] [--keep-bodies] [--client-nice 10|idle]
//                       [--malloc-trim-mb 32 (0: glibc's default)] [--initial-heap-mb 128 (0: V8's default)]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { cpus, loadavg, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { backendInfo } from 'tvdcn';
import { INPUT_CHW } from './model.js';
import { median, medianInterval, signTestP } from './ratio-stats.js';
import { type CpuSplit, cpuSplit, formatSplit, sampleThreads } from './threads.js';

// `pnpm ... loadtest -- --rounds 2` passes the `--` through: skip it.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
  options: {
    connections: { type: 'string', default: '1,4,16' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'sync,queue' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'server-log': { type: 'string' },
    'client-cpus': { type: 'string' },
    'server-cpus': { type: 'string' },
    'keep-bodies': { type: 'boolean', default: false },
    'client-nice': { type: 'string', default: '0' },
    'malloc-trim-mb': { type: 'string', default: '32' },
    'initial-heap-mb': { type: 'string', default: '128' },
  },
});
const connectionCounts = (values.connections as string).split(',').map(Number);
const duration = Number(values.duration);
const modes = (values.modes as string).split(',');
for (const m of modes)
  if (m !== 'sync' && m !== 'queue') throw new Error(`--modes: expected sync and/or queue, got ${m}`);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const nodeArgs = (values['node-args'] as string).split(' ').filter((a) => a !== '');
const clientCpus = values['client-cpus'] as string | undefined;
// A server spawned by a pinned process would inherit its affinity: give it its own (all CPUs by default).
const serverCpus = (values['server-cpus'] as string | undefined) ?? (clientCpus ? `0-${cpus().length - 1}` : undefined);
if (clientCpus !== undefined) execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)]);

/**
 * autocannon appends every response body to a string (its client's `pipelinedRequests.addBody`): for a
 * 512 KiB float32 reply that is a UTF-8 decode of binary data, about 9 ms of the client's CPU per request on
 * the development machine, more than the server spends on the whole request, so on a small machine the load
 * generator, not the server, sets the requests/s. A real client runs elsewhere, so by default each
 * connection drops the bodies instead (they are counted, not kept; the smoke test checks the values);
 * `--keep-bodies` keeps autocannon's default.
 */
function dropBodies(client: unknown): void {
  const queue = (client as { pipelinedRequests?: { addBody?: (data: Buffer) => void } }).pipelinedRequests;
  if (queue?.addBody === undefined)
    throw new Error('autocannon: no pipelinedRequests.addBody to replace (use --keep-bodies)');
  queue.addBody = () => {};
}
const setupClient = values['keep-bodies'] ? undefined : dropBodies;

/**
 * `--client-nice N` (Linux, 0-19, or `idle`): autocannon (this process's main thread) runs at that nice value, or
 * as SCHED_IDLE (`idle`, through util-linux's `chrt`: any thread of the server that wakes preempts it at once),
 * while it loads the server (warm-up and measured run), so that the server's threads get the CPUs first, as
 * with clients on other machines; it goes back to the default priority before the next server starts (which
 * would inherit it), which needs root or CAP_SYS_NICE.
 */
const clientNiceArg = values['client-nice'] as string;
const clientIdle = clientNiceArg === 'idle';
const clientNice = clientIdle ? 0 : Number(clientNiceArg);
if (!clientIdle && (!Number.isInteger(clientNice) || clientNice < 0 || clientNice > 19))
  throw new Error(`--client-nice: expected an integer in 0..19 or idle, got ${clientNiceArg}`);
const chrt = (policy: '--idle' | '--other') => execFileSync('chrt', [policy, '-p', '0', String(process.pid)]);
async function asClient<T>(run: () => Promise<T>): Promise<T> {
  if (clientNice === 0 && !clientIdle) return run();
  if (clientIdle) chrt('--idle');
  else setPriority(0, clientNice);
  try {
    return await run();
  } finally {
    if (clientIdle) chrt('--other');
    else setPriority(0, 0);
  }
}

/**
 * `--malloc-trim-mb N` (Linux with glibc; default 32, 0: glibc's default): both modes' servers start with
 * `GLIBC_TUNABLES=glibc.malloc.trim_threshold=N MiB`, unless the environment already sets a trim threshold.
 * node's HTTP parser copies every body chunk into a new 64 KiB buffer; V8 frees them in batches, and with
 * glibc's default threshold (2-4 MB once adjusted) free() hands the top of the heap back to the system each
 * time and the next requests fault it back in, page by page: 13-17 thousand page faults per second on the main
 * thread at 4 connections, in either mode, on some runs and not others (docs/perf/http-inference.md, "Session
 * 10"). The advice of the README for servers on glibc; the same setting for both modes.
 */
const mallocTrimMb = Number(values['malloc-trim-mb']);
if (!Number.isInteger(mallocTrimMb) || mallocTrimMb < 0)
  throw new Error(`--malloc-trim-mb: expected a non-negative integer, got ${values['malloc-trim-mb']}`);
const glibc =
  (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    ?.glibcVersionRuntime !== undefined;
const userTunables = process.env.GLIBC_TUNABLES ?? '';
const mallocTunables =
  glibc && mallocTrimMb > 0 && !userTunables.includes('trim_threshold')
    ? [userTunables, `glibc.malloc.trim_threshold=${mallocTrimMb * 1024 * 1024}`].filter((t) => t !== '').join(':')
    : undefined;

/**
 * `--initial-heap-mb N` (default 128, 0: V8's default): both modes' servers start with node's
 * `--initial-heap-size=N` (unless `--node-args` sets one). With V8's default, a server with many requests in
 * flight can fall into a loop of full collections: their objects are promoted, V8 sets the old generation's
 * limit just above its live size (~21 MB here), and every ~100 ms a mark-compact frees 1-2 MB (95-132 per 8 s
 * row at 16 connections, 1.3-2.7 ms more CPU per request; docs/perf/http-inference.md, "Session 10"). The
 * README's advice for servers, the same setting for both modes; the example's `start` script uses it too.
 */
const initialHeapMb = Number(values['initial-heap-mb']);
if (!Number.isInteger(initialHeapMb) || initialHeapMb < 0)
  throw new Error(`--initial-heap-mb: expected a non-negative integer, got ${values['initial-heap-mb']}`);
const heapArgs =
  initialHeapMb > 0 && !nodeArgs.some((a) => a.startsWith('--initial-heap-size'))
    ? [`--initial-heap-size=${initialHeapMb}`]
    : [];

/** Starts `tsx src/server.ts` on a free port; resolves with its URL once it listens. */
function startServer(mode: string, round: number): Promise<{ child: ChildProcess; url: string }> {
  const server = fileURLToPath(new URL('server.ts', import.meta.url));
  const argv = [...heapArgs, ...nodeArgs, '--import', 'tsx', server];
  const [command, args] = serverCpus
    ? ['taskset', ['-c', serverCpus, process.execPath, ...argv]]
    : [process.execPath, argv];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      PORT: '0',
      CPU_QUEUE: mode === 'sync' ? 'off' : 'on',
      ...(mallocTunables === undefined ? {} : { GLIBC_TUNABLES: mallocTunables }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (values['server-log']) child.stdout?.pipe(createWriteStream(`${values['server-log']}-${mode}-${round}.log`));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      if (out.includes('listening on')) return;
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
}

interface GcKind {
  count: number;
  maxMs: number;
}

interface Row {
  mode: string;
  round: number;
  connections: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  /** The server's garbage collections over the row: count and longest pause (ms) per kind. */
  gc: { minor: GcKind; major: GcKind; other: GcKind };
  /** Stalls of the server's event loop over 20 ms, how many of them overlapped a garbage collection, and the
   * first ones: start (ms into the row), length and the GC pause time inside them (ms). */
  stalls: {
    over20ms: number;
    over20msWithGc: number;
    list: { atMs: number; ms: number; gcMs: number; runMs: number; waitMs: number }[];
  };
  /** Where the CPU went (Linux only). */
  cpu: CpuSplit | null;
}

const loadBefore = loadavg()[0];
const [c, h, w] = INPUT_CHW;
const input = new Float32Array(c * h * w);
for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37);
const body = Buffer.from(input.buffer);
const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const mode of modes) {
    const { child, url } = await startServer(mode, round);
    try {
      // Warm-up (first calls load the addon and size the thread pool's scratch).
      for (let i = 0; i < 3; i++) await fetch(`${url}/predict`, { method: 'POST', body });
      for (const connections of connectionCounts) {
        if (warmup > 0)
          await asClient(() =>
            autocannon({ url: `${url}/predict`, method: 'POST', body, connections, duration: warmup, setupClient }),
          );
        await fetch(`${url}/stats/reset`, { method: 'POST' });
        const before = sampleThreads(child.pid);
        const result = await asClient(() =>
          autocannon({ url: `${url}/predict`, method: 'POST', body, connections, duration, setupClient }),
        );
        const cpu = cpuSplit(before, sampleThreads(child.pid));
        const stats = (await (await fetch(`${url}/stats`)).json()) as Pick<Row, 'eventLoopDelayMs' | 'gc' | 'stalls'>;
        rows.push({
          mode,
          round,
          connections,
          requestsPerSecond: result.requests.average,
          latencyP50Ms: result.latency.p50,
          latencyP99Ms: result.latency.p99,
          errors: result.errors + result.non2xx + result.timeouts,
          eventLoopDelayMs: stats.eventLoopDelayMs,
          gc: stats.gc,
          stalls: stats.stalls,
          cpu,
        });
        console.error(`  round ${round}, ${mode}, ${connections} connections: ${result.requests.average} req/s`);
      }
    } finally {
      child.kill();
    }
  }
}
const info = backendInfo();
const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${info.candidate ?? 'no binary'}`;
const load = `${loadBefore.toFixed(2)} / ${loadavg()[0].toFixed(2)}`;
console.log(`\nmachine: ${machine}; 1-minute load average before / after: ${load}`);
const pinning = clientCpus ? `; autocannon on CPUs ${clientCpus}, the server on ${serverCpus}` : '';
console.log(
  `input 1×${c}×${h}×${w} float32 per request, ${duration} s per row after ${warmup} s of the same load; ` +
    `sync = CPU queue off (the baseline)${pinning}; response bodies ${values['keep-bodies'] ? 'kept (autocannon default)' : 'dropped by the client'}` +
    `${clientIdle ? '; autocannon as SCHED_IDLE' : clientNice ? `; autocannon at nice ${clientNice}` : ''}` +
    `; the servers' GLIBC_TUNABLES: ${mallocTunables ?? (userTunables || 'unset')}` +
    `; their node flags: ${[...heapArgs, ...nodeArgs].join(' ') || 'none'}\n`,
);
console.log(
  '| mode | round | connections | requests/s | latency p50 (ms) | latency p99 (ms) | event-loop delay p99 / max (ms) | ' +
    'stalls > 20 ms (during a GC) | scavenges (max ms) | mark-compacts (max ms) | errors |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.round} | ${r.connections} | ${r.requestsPerSecond.toFixed(1)} | ${r.latencyP50Ms} | ${r.latencyP99Ms} | ` +
      `${r.eventLoopDelayMs.p99} / ${r.eventLoopDelayMs.max} | ${r.stalls.over20ms} (${r.stalls.over20msWithGc}) | ` +
      `${r.gc.minor.count} (${r.gc.minor.maxMs}) | ` +
      `${r.gc.major.count} (${r.gc.major.maxMs}) | ${r.errors} |`,
  );
}
// Side by side: per connection count, the rounds in which both modes ran (queue ÷ sync requests/s), and the
// queued server's worst event-loop delay and stalls over all its rows: issue 10's two bars at 4 connections.
if (modes.includes('sync') && modes.includes('queue')) {
  console.log('\nQueue against sync, per connection count, over the rounds (requests/s ratio per round)\n');
  console.log(
    '| connections | rounds | queue ahead in (sign test p) | ratio median [min, max] | median 95 % interval (bootstrap) | queue max loop delay (ms) | queue rows with a stall > 20 ms |',
  );
  console.log('|---:|---:|---:|---|---|---:|---:|');
  for (const connections of connectionCounts) {
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const of = (mode: string) =>
        rows.find((r) => r.mode === mode && r.round === round && r.connections === connections);
      const [q, s] = [of('queue'), of('sync')];
      if (q && s) ratios.push(q.requestsPerSecond / s.requestsPerSecond);
    }
    const queued = rows.filter((r) => r.mode === 'queue' && r.connections === connections);
    if (ratios.length === 0) continue;
    const [low, high] = medianInterval(ratios);
    const ahead = ratios.filter((r) => r > 1).length;
    const maxDelay = Math.max(...queued.map((r) => r.eventLoopDelayMs.max));
    const stalled = queued.filter((r) => r.stalls.over20ms > 0).length;
    console.log(
      `| ${connections} | ${ratios.length} | ${ahead} (${signTestP(ahead, ratios.length).toFixed(3)}) | ` +
        `${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}] | ` +
        `[${low.toFixed(3)}, ${high.toFixed(3)}] | ${maxDelay} | ${stalled} of ${queued.length} |`,
    );
  }
}
if (rows.some((r) => r.stalls.list.length > 0)) {
  console.log(
    '\nStalls over 20 ms per row: start (s into the row) / length (ms), with the GC pause inside it (ms) and, on ' +
      "Linux, the server's main thread from the timer's previous tick to the late one (the stall + 5 ms): ms on a " +
      'CPU / ms runnable but waiting for one (the rest it slept: in epoll, or blocked)\n',
  );
  for (const r of rows) {
    if (r.stalls.list.length === 0) continue;
    const list = r.stalls.list.map(
      (s) =>
        `${(s.atMs / 1000).toFixed(2)}/${s.ms}${s.gcMs > 0 ? ` (gc ${s.gcMs})` : ''}` +
        (s.runMs + s.waitMs > 0 ? ` [run ${s.runMs} / wait ${s.waitMs}]` : ''),
    );
    console.log(`- ${r.mode}, round ${r.round}, ${r.connections} connections: ${list.join(', ')}`);
  }
}
if (rows.some((r) => r.cpu !== null)) {
  console.log(
    '\nCPU per row, in % of one core over the row (run = on a CPU; wait = runnable but not running, from ' +
      "/proc/<pid>/task/<tid>/schedstat): the server's main thread, its tvdcn queue executor, its pool " +
      'workers, its other threads (V8, libuv), and autocannon (this process); machine = all CPUs busy; the ' +
      "server's CPU per request (all its threads) and its page faults per second\n",
  );
  console.log(
    '| mode | round | connections | main run / wait | queue run / wait | pool run / wait | other | autocannon run / wait | machine busy | server CPU / request (ms) | page faults / s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    if (r.cpu)
      console.log(`| ${r.mode} | ${r.round} | ${r.connections} | ${formatSplit(r.cpu, r.requestsPerSecond)} |`);
}
if (values.json)
  writeFileSync(values.json as string, `${JSON.stringify({ machine, load, duration, rows }, null, 2)}\n`);
