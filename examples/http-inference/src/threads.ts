// SPDX-License-Identifier: MIT
// Where the CPU went during a load-test row (Linux only): per thread of the server, the time it ran and the
// time it was runnable but waited for a CPU (/proc/<pid>/task/<tid>/schedstat: run ns, run-queue wait ns),
// grouped by role: the main thread (the event loop), the tvdcn CPU queue's executor (`tvdcn-queue`), the
// thread pool's workers (`tvdcn-pool`), and the rest (V8's platform threads, libuv's); the same for this
// process (autocannon runs in it), how busy the whole machine was (/proc/stat), and the server's page faults
// (/proc/<pid>/stat: minor faults, which a heap that glibc keeps handing back to the system makes by the
// thousand per second; docs/perf/http-inference.md, "Session 10").
import { readdirSync, readFileSync } from 'node:fs';

interface ThreadTimes {
  name: string;
  runNs: number;
  waitNs: number;
}

/** One reading of a process's threads, this process's and the machine's counters. */
export interface ThreadSample {
  atNs: bigint;
  pid: number;
  threads: Map<number, ThreadTimes>;
  self: { runNs: number; waitNs: number };
  machine: { busy: number; total: number };
  /** The server's minor page faults so far. */
  minorFaults: number;
}

/** CPU use over an interval in % of one core: run and run-queue wait per role; the machine's busy %. */
export interface CpuSplit {
  main: [number, number];
  queue: [number, number];
  pool: [number, number];
  other: number;
  client: [number, number];
  /** All CPUs busy, in % of the whole machine. */
  machine: number;
  /** The server's minor page faults per second. */
  faultsPerSecond: number;
}

function readThreads(pid: number): Map<number, ThreadTimes> {
  const out = new Map<number, ThreadTimes>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { name, runNs: run, waitNs: wait });
    } catch {
      // the thread exited between readdir and read
    }
  }
  return out;
}

function readMachine(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = cpu[3] + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

/** Minor page faults of process `pid` (field 10 of /proc/<pid>/stat, counted after the command's closing parenthesis). */
function readMinorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/** Reads the counters of process `pid` and of this process; null where /proc has no schedstat (not Linux). */
export function sampleThreads(pid: number | undefined): ThreadSample | null {
  if (pid === undefined) return null;
  try {
    const self = { runNs: 0, waitNs: 0 };
    for (const t of readThreads(process.pid).values()) {
      self.runNs += t.runNs;
      self.waitNs += t.waitNs;
    }
    return {
      atNs: process.hrtime.bigint(),
      pid,
      threads: readThreads(pid),
      self,
      machine: readMachine(),
      minorFaults: readMinorFaults(pid),
    };
  } catch {
    return null;
  }
}

/** The CPU split between two samples of the same process. */
export function cpuSplit(a: ThreadSample | null, b: ThreadSample | null): CpuSplit | null {
  if (a === null || b === null) return null;
  const wallNs = Number(b.atNs - a.atNs);
  const pct = (ns: number) => Math.round((1000 * ns) / wallNs) / 10;
  const sum = { main: [0, 0], queue: [0, 0], pool: [0, 0], other: [0, 0] };
  for (const [tid, t] of b.threads) {
    const before = a.threads.get(tid) ?? { runNs: 0, waitNs: 0 };
    const role =
      tid === b.pid
        ? 'main'
        : t.name.startsWith('tvdcn-queue')
          ? 'queue'
          : t.name.startsWith('tvdcn-pool')
            ? 'pool'
            : 'other';
    sum[role as keyof typeof sum][0] += t.runNs - before.runNs;
    sum[role as keyof typeof sum][1] += t.waitNs - before.waitNs;
  }
  return {
    main: [pct(sum.main[0]), pct(sum.main[1])],
    queue: [pct(sum.queue[0]), pct(sum.queue[1])],
    pool: [pct(sum.pool[0]), pct(sum.pool[1])],
    other: pct(sum.other[0]),
    client: [pct(b.self.runNs - a.self.runNs), pct(b.self.waitNs - a.self.waitNs)],
    machine: Math.round((1000 * (b.machine.busy - a.machine.busy)) / (b.machine.total - a.machine.total)) / 10,
    faultsPerSecond: Math.round(((b.minorFaults - a.minorFaults) * 1e9) / wallNs),
  };
}

/**
 * The split as table cells: `run / wait` per role, the machine's busy %, the server's CPU per request (ms, all
 * its threads' run time over `requestsPerSecond`) and its page faults per second.
 */
export function formatSplit(s: CpuSplit, requestsPerSecond: number): string {
  const rw = ([run, wait]: [number, number]) => `${run} / ${wait}`;
  const serverPct = s.main[0] + s.queue[0] + s.pool[0] + s.other;
  const msPerRequest = requestsPerSecond > 0 ? ((10 * serverPct) / requestsPerSecond).toFixed(2) : '–';
  return [
    rw(s.main),
    rw(s.queue),
    rw(s.pool),
    String(s.other),
    rw(s.client),
    `${s.machine}`,
    msPerRequest,
    String(s.faultsPerSecond),
  ].join(' | ');
}
