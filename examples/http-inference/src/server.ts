// SPDX-License-Identifier: MIT
// The inference server: node:http, one PackedDeformConv2d loaded from safetensors.
//   POST /predict   body: N images of INPUT_CHW as float32 little-endian; reply: the output, same encoding,
//                   its shape in the x-shape header
//   GET  /stats     since the last reset: the event loop's delay (perf_hooks.monitorEventLoopDelay), the
//                   garbage collections (a 'gc' PerformanceObserver: count and longest pause per kind), in ms,
//                   and the stalls over 20 ms (a 5 ms timer's lateness): how many, how many during a GC, and
//                   each one's start (ms after the reset), length and overlapping GC pause, and (Linux) the
//                   main thread's time on a CPU and waiting for one during it
//   POST /stats/reset
// `PORT` (default 8080; 0 picks a free one). Prints `listening on http://127.0.0.1:PORT` when ready.
// `TVDCN_THREAD_NICE` defaults to idle here (the library's threads yield to the event loop; 0: they do not).
// `CPU_QUEUE=off` switches the addon's CPU queue off (the addon's test hook): CPU ops then compute at the
// call, on the main thread, as before the queue. For the load test's baseline only. `REUSE_BODY=off` reads
// every body into a new buffer, `REUSE_OUTPUT=off` every output into a new array (to measure what reusing
// them saves).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { openSync, readSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { backendInfo, DcnError, InvalidArgumentError, tensor } from 'tvdcn';
import { loadModel, type LoadedModel } from './model.js';

/** The largest request body accepted (bytes): 64 images of 32×64×64 float32. */
const MAX_BODY = 64 * 32 * 64 * 64 * 4;

/**
 * Buffers of finished requests, by size, for the next requests of that size: their bodies and their
 * responses' values. A server whose requests each allocate a new 512 KiB body and a new 512 KiB output leaves
 * that much garbage per request, which V8 frees only in collections that pause the event loop (more so while
 * requests wait behind each other on the CPU queue and their buffers survive into the old generation;
 * docs/perf/http-inference.md). A body goes back once nothing reads it any more: after `await y.data(out)`,
 * every op queued before (the forward reading the input) ran; an output once the response is sent.
 */
const freeBuffers = new Map<number, ArrayBuffer[]>();
const MAX_FREE_BUFFERS = 16;
const reuseBodies = process.env.REUSE_BODY !== 'off';
const reuseOutputs = process.env.REUSE_OUTPUT !== 'off';

function takeBuffer(size: number, reuse: boolean): ArrayBuffer {
  return (reuse ? freeBuffers.get(size)?.pop() : undefined) ?? new ArrayBuffer(size);
}

function recycleBuffer(buffer: ArrayBuffer): void {
  let list = freeBuffers.get(buffer.byteLength);
  if (list === undefined) freeBuffers.set(buffer.byteLength, (list = []));
  if (list.length < MAX_FREE_BUFFERS) list.push(buffer);
}

/**
 * Reads the whole body into one ArrayBuffer of its own (offset 0, so a Float32Array can view it without a
 * copy), or throws a 413-worthy error past `limit` bytes. With a Content-Length (what clients send for a
 * binary body) each chunk is copied once, into a buffer of that size (a finished request's, when one is
 * free): no list of chunks to concatenate and copy again.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = req.headers['content-length'] === undefined ? Number.NaN : Number(req.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared >= 0) {
    if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    const bytes = new Uint8Array(takeBuffer(declared, reuseBodies));
    let size = 0;
    for await (const chunk of req) {
      const c = chunk as Buffer;
      if (size + c.byteLength > declared) throw new HttpError(400, `body longer than its Content-Length ${declared}`);
      bytes.set(c, size);
      size += c.byteLength;
    }
    if (size !== declared) throw new HttpError(400, `body of ${size} bytes, but Content-Length ${declared}`);
    return bytes;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The handler of POST /predict: the library call is the two lines in the middle. */
async function predict(model: LoadedModel, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, MAX_BODY);
  const [c, h, w] = model.inputChw;
  const per = c * h * w * 4;
  if (body.byteLength === 0 || body.byteLength % per !== 0) {
    throw new HttpError(
      400,
      `expected N × ${c}×${h}×${w} float32 values (a multiple of ${per} bytes), got ${body.byteLength} bytes`,
    );
  }
  const values = new Float32Array(body.buffer, 0, body.byteLength / 4); // the body's own buffer: no copy
  const x = tensor(values, { shape: [body.byteLength / per, c, h, w], copy: false });
  const y = model.layer.forward(x);
  // The event loop serves other requests while this waits; the values land in a finished response's buffer.
  const out = await y.data(new Float32Array(takeBuffer(y.numel * 4, reuseOutputs)));
  x.dispose();
  y.dispose();
  if (reuseBodies) recycleBuffer(body.buffer as ArrayBuffer); // the forward that read it has run
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': out.byteLength,
    'x-shape': y.shape.join(','),
  });
  // Back to the free list once the response is written out (socket writes may still read it until then).
  res.end(Buffer.from(out.buffer, out.byteOffset, out.byteLength), () => {
    if (reuseOutputs) recycleBuffer(out.buffer as ArrayBuffer);
  });
}

/** Garbage collections since the last reset: count and longest pause (ms) per kind. */
interface GcCounts {
  /** Scavenges (young generation). */
  minor: { count: number; maxMs: number };
  /** Mark-compacts (the whole heap): the pauses that stall the event loop longest. */
  major: { count: number; maxMs: number };
  /** Incremental marking steps and weak-callback processing. */
  other: { count: number; maxMs: number };
  /** When each collection paused the main thread ([start, end], performance.now() ms). */
  pauses: [number, number][];
}

function newGcCounts(): GcCounts {
  return {
    minor: { count: 0, maxMs: 0 },
    major: { count: 0, maxMs: 0 },
    other: { count: 0, maxMs: 0 },
    pauses: [],
  };
}

/** Stalls of the event loop longer than {@link STALL_MS}: a 5 ms timer that fired that much late. */
const STALL_MS = 20;

/** A stall of the event loop: [start, end] (performance.now() ms) and, on Linux, what the main thread did
 * from the timer's previous tick to the late one: ms on a CPU and ms runnable but waiting for one (the rest of
 * the interval it slept: in epoll, for the 5 ms the timer asks, or blocked on a lock or on V8's GC helpers). */
type StallRecord = [start: number, end: number, runMs: number, waitMs: number];

/**
 * The main thread's scheduler counters (Linux: /proc/thread-self/schedstat, run and run-queue wait in ns,
 * read through one descriptor kept open), or null where there are none. About 10 µs per reading.
 */
function schedstatReader(): (() => [number, number]) | null {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null;
  }
  const buffer = Buffer.alloc(128);
  return () => {
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const [run, wait] = buffer.toString('latin1', 0, n).split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  };
}

/**
 * Records each stall of the event loop over {@link STALL_MS} into `stalls.current`, with the main thread's run
 * and run-queue wait over it where the system has them: so that /stats can tell the stalls during which a
 * garbage collection ran from the others, and a stall of the thread's own work (run) from one where it was
 * descheduled (wait) or blocked (neither).
 */
function watchStalls(stalls: { current: StallRecord[] }): NodeJS.Timeout {
  const readSchedstat = schedstatReader();
  let last = performance.now();
  let [lastRun, lastWait] = readSchedstat?.() ?? [0, 0];
  const timer = setInterval(() => {
    const now = performance.now();
    const [run, wait] = readSchedstat?.() ?? [0, 0];
    if (now - last > 5 + STALL_MS) stalls.current.push([last + 5, now, run - lastRun, wait - lastWait]);
    last = now;
    lastRun = run;
    lastWait = wait;
  }, 5);
  timer.unref();
  return timer;
}

/** One stall over {@link STALL_MS}: when it began (ms after the last reset), how long it lasted, how long the
 * garbage collections that overlapped it paused the main thread (0: none), and (Linux; else 0) how long the
 * main thread ran and waited for a CPU from the timer's previous tick to the late one (the stall plus the
 * timer's 5 ms; the rest of that interval it slept). */
interface Stall {
  atMs: number;
  ms: number;
  gcMs: number;
  runMs: number;
  waitMs: number;
}

/** Stalls, how many of them overlap a GC pause, and the first {@link MAX_LISTED_STALLS} of them. */
function stallSummary(stalls: StallRecord[], pauses: [number, number][], resetAt: number) {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const list: Stall[] = stalls.slice(0, MAX_LISTED_STALLS).map(([a, b, run, wait]) => ({
    atMs: round(a - resetAt),
    ms: round(b - a),
    gcMs: round(
      pauses.filter(([s, e]) => s < b && e > a).reduce((sum, [s, e]) => sum + (Math.min(e, b) - Math.max(s, a)), 0),
    ),
    runMs: round(run),
    waitMs: round(wait),
  }));
  const withGc = stalls.filter(([a, b]) => pauses.some(([s, e]) => s < b && e > a)).length;
  return { over20ms: stalls.length, over20msWithGc: withGc, list };
}

/** How many stalls /stats lists one by one. */
const MAX_LISTED_STALLS = 50;

/** Counts the process's garbage collections into `gc.current` (reset by replacing it). */
function observeGc(gc: { current: GcCounts }): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry.detail as { kind?: number } | null)?.kind;
      const c =
        kind === perfConstants.NODE_PERFORMANCE_GC_MINOR
          ? gc.current.minor
          : kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR
            ? gc.current.major
            : gc.current.other;
      c.count++;
      c.maxMs = Math.max(c.maxMs, Math.round(entry.duration * 100) / 100);
      if (gc.current.pauses.length < 100_000)
        gc.current.pauses.push([entry.startTime, entry.startTime + entry.duration]);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

/** Starts the server on `port` (0: a free one); resolves once it listens. */
export async function startServer(port: number, model = loadModel()): Promise<{ server: Server; port: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = { current: newGcCounts() };
  const gcObserver = observeGc(gc);
  const stalls = { current: [] as StallRecord[] };
  const stallTimer = watchStalls(stalls);
  let resetAt = performance.now();
  let served = 0;
  const server = createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    const work =
      route === 'POST /predict'
        ? predict(model, req, res).then(() => void served++)
        : route === 'GET /stats'
          ? Promise.resolve(sendJson(res, 200, stats(delay, served, gc.current, stalls.current, resetAt)))
          : route === 'POST /stats/reset'
            ? Promise.resolve(delay.reset())
                .then(() => {
                  gc.current = newGcCounts();
                  stalls.current = [];
                  resetAt = performance.now();
                })
                .then(() => sendJson(res, 200, { reset: true }))
            : Promise.reject(new HttpError(404, `no route ${route}`));
    work.catch((e: unknown) => {
      // Our typed errors name what was wrong with the input; anything else is the server's fault.
      const status = e instanceof HttpError ? e.status : e instanceof InvalidArgumentError ? 400 : 500;
      const message = e instanceof HttpError || e instanceof DcnError ? e.message : 'internal error';
      if (status === 500) console.error(e);
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.destroy();
    });
  });
  server.on('close', () => {
    gcObserver.disconnect();
    clearInterval(stallTimer);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function stats(
  delay: ReturnType<typeof monitorEventLoopDelay>,
  served: number,
  gc: GcCounts,
  stalls: StallRecord[],
  resetAt: number,
) {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    served,
    eventLoopDelayMs: {
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
      mean: ms(delay.mean),
    },
    stalls: stallSummary(stalls, gc.pauses, resetAt),
    gc: { minor: gc.minor, major: gc.major, other: gc.other },
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** Switches the native CPU queue on or off (the addon's test hook); false where the addon has none. */
function setCpuQueue(on: boolean): boolean {
  const path = backendInfo().path;
  if (path === null) return false;
  const addon = createRequire(import.meta.url)(path) as { _setCpuQueue?: (on: boolean) => boolean };
  if (typeof addon._setCpuQueue !== 'function') return false;
  addon._setCpuQueue(on);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // The library's compute threads (the CPU queue's executor, the pool's workers) run as SCHED_IDLE: the event
  // loop preempts them as soon as it wakes, where the cores are all busy (Linux; read when they start, so
  // before the addon loads). Set TVDCN_THREAD_NICE=0 to keep them at the process's priority, or 1-19.
  process.env.TVDCN_THREAD_NICE ??= 'idle';
  const model = loadModel(); // loads the addon
  model.layer
    .forward(tensor(new Float32Array(model.inputChw.reduce((a, b) => a * b)), { shape: [1, ...model.inputChw] }))
    .toTypedArray();
  if (process.env.CPU_QUEUE === 'off' && !setCpuQueue(false)) {
    console.error('server: CPU_QUEUE=off, but the loaded addon has no CPU queue to switch off');
    process.exit(2);
  }
  const { port } = await startServer(Number(process.env.PORT ?? 8080), model);
  // Exit normally on SIGTERM (the load test's kill), so that --cpu-prof and the like write their output.
  process.on('SIGTERM', () => process.exit(0));
  console.log(`listening on http://127.0.0.1:${port}`);
}
