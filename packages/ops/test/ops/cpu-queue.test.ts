// SPDX-License-Identifier: MIT
// The CPU as an asynchronous device (native/src/napi/cpu_queue.h, src/native/cpu-queue.ts): CPU ops of the
// Node addon queue their kernels and return at once. Ordering against reads and in-place writes, deferred
// free of disposed inputs, errors from queued work (typed, naming the op, poisoning only dependent work),
// data() that does not block the event loop, and a process that exits with work still queued.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deformConv2d,
  maskSoftmax2d,
  OutOfMemoryError,
  randn,
  manualSeed,
  noGrad,
  type Tensor,
  tensor,
} from '../../src/index.js';
import type { NativeBinding } from '../../src/native/binding.js';
import { getBinding } from '../../src/native/load-binding.js';
import { nativeOpsAvailable } from './native-setup.js';

const queueAvailable = nativeOpsAvailable() && typeof getBinding().cpuQueueSync === 'function';
const b = (): Required<NativeBinding> => getBinding() as Required<NativeBinding>;

/** Runs `fn` with the CPU queue switched off (the synchronous path, as before the queue). */
function synchronously<T>(fn: () => T): T {
  const was = b()._setCpuQueue(false);
  try {
    return fn();
  } finally {
    b()._setCpuQueue(was);
  }
}

/** A 2D deformable convolution with offsets and masks, on fixed seeded inputs. */
function convCase(seed: number, batch = 2, c = 8, size = 12) {
  manualSeed(seed);
  const x = randn([batch, c, size, size], { dtype: 'float64' });
  const w = randn([c, c, 3, 3], { dtype: 'float64' }).mul(0.1);
  const offset = randn([batch, 18, size, size], { dtype: 'float64' });
  const mask = randn([batch, 9, size, size], { dtype: 'float64' }).sigmoid();
  return { x, w, offset, mask };
}
const conv = (x: Tensor, w: Tensor, offset: Tensor, mask: Tensor): Tensor =>
  deformConv2d(x, w, { offset, mask, padding: 1 });

afterEach(() => {
  if (queueAvailable) b()._injectCpuFault('*', 0);
});

describe.runIf(queueAvailable)('the CPU queue', () => {
  it('queues native CPU ops: they return before the work ran', () => {
    const { x, w, offset, mask } = convCase(1, 4, 16, 32);
    const before = b()._cpuQueueStats();
    const y = conv(x, w, offset, mask);
    const after = b()._cpuQueueStats();
    expect(after.submitted).toBe(before.submitted + 1);
    expect(after.enabled).toBe(true);
    expect(y.toTypedArray().length).toBe(4 * 16 * 32 * 32); // the synchronising read waits
    expect(b()._cpuQueueStats().completed).toBe(after.submitted);
  });

  it('gives the sequential result for chains, in-place writes and reads interleaved', () => {
    const { x, w, offset, mask } = convCase(2);
    const run = (): number[][] => {
      const xi = x.clone();
      const y1 = conv(xi, w, offset, mask); // queued: reads xi
      xi.add_(1); // in place on the JS thread: must wait for y1's read of xi
      const y2 = conv(xi, w, offset, mask); // reads the updated xi
      const y3 = conv(y1, w, offset, mask); // depends on y1
      const m = maskSoftmax2d(y3.narrow(1, 0, 1).broadcastTo([2, 9, 12, 12]), 3); // native, queued after y3
      const y4 = conv(y2, w, offset, m);
      y1.fill_(0); // in place after y3 and y4 read y1
      return [y1, y2, y3, y4, xi].map((t) => Array.from(t.toTypedArray()));
    };
    const sequential = synchronously(run);
    const queued = run();
    expect(queued).toEqual(sequential);
    expect(sequential[3].some((v) => v !== 0)).toBe(true);
  });

  it('frees a disposed input only after the queued work that reads it ran', () => {
    const ref = (() => {
      const { x, w, offset, mask } = convCase(3, 2, 16, 24);
      return synchronously(() => Array.from(conv(x, w, offset, mask).toTypedArray()));
    })();
    const { x, w, offset, mask } = convCase(3, 2, 16, 24);
    const y = conv(x, w, offset, mask);
    for (const t of [x, w, offset, mask]) t.dispose();
    expect(Array.from(y.toTypedArray())).toEqual(ref);
    // The references that kept the disposed arrays alive are released once the work is done.
    b().cpuQueueSync(Number.MAX_SAFE_INTEGER);
    expect(b()._cpuQueueStats().refs).toBe(0);
  });

  it('bounds the memory queued work keeps alive when results are never read (back-pressure)', () => {
    // 64 MiB of arrays per iteration (input and output of 8M float32): without a bound, a loop that never
    // reads falls behind the executor and keeps every iteration's arrays alive.
    let maxHeld = 0;
    for (let i = 0; i < 40; i++) {
      const x = tensor(new Float32Array(1 << 23), { copy: false });
      const y = x.add(1);
      maxHeld = Math.max(maxHeld, b()._cpuQueueStats().heldBytes);
      void y;
    }
    b().cpuQueueSync(Number.MAX_SAFE_INTEGER);
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(256 * 2 ** 20 + 2 * 2 ** 26);
    expect(b()._cpuQueueStats().heldBytes).toBe(0);
  });

  it('reports an error of queued work at the next synchronising call, typed and naming the op', async () => {
    const { x, w, offset, mask } = convCase(4);
    const good = synchronously(() => Array.from(conv(x, w, offset, mask).toTypedArray()));
    b()._injectCpuFault('deformConvForward', 1);
    const y = conv(x, w, offset, mask); // fails in the queue, not here
    const z = conv(y, w, offset, mask); // depends on y: must not run
    const u = conv(x, w, offset, mask); // independent: runs
    expect(Array.from(u.toTypedArray())).toEqual(good);
    for (const t of [y, z]) {
      let error: unknown;
      try {
        t.toTypedArray();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OutOfMemoryError);
      expect((error as Error).message).toMatch(/deformConvForward failed in queued CPU work/);
    }
    expect(() => z.cpuData()).toThrow(OutOfMemoryError);
    await expect(z.data()).rejects.toThrow(/deformConvForward failed in queued CPU work/);
    // Later work on healthy tensors is unaffected.
    expect(Array.from(conv(x, w, offset, mask).toTypedArray())).toEqual(good);
    const poisonedBefore = b()._cpuQueueStats().poisoned;
    y.dispose();
    z.dispose();
    expect(b()._cpuQueueStats().poisoned).toBeLessThan(poisonedBefore);
  });

  it('a training loop (forward, backward, in-place updates) gives the sequential values', () => {
    const run = (): number[][] => {
      const { x, w, offset, mask } = convCase(6, 2, 8, 16);
      const wp = w.detach();
      wp.requiresGrad = true;
      const losses: number[] = [];
      for (let step = 0; step < 3; step++) {
        const y = conv(x, wp, offset, mask).relu();
        const loss = y.mul(y).mean();
        loss.backward();
        losses.push(loss.item());
        noGrad(() => wp.add_(wp.grad as Tensor, -0.1)); // queued in place, behind the backward
        wp.grad = null;
      }
      return [losses, Array.from(wp.toTypedArray())];
    };
    const sequential = synchronously(run);
    expect(run()).toEqual(sequential);
    expect(sequential[0][2]).toBeLessThan(sequential[0][0]);
  });

  it('an error in a queued elementwise kernel poisons what is computed from it, and only that', () => {
    const x = randn([64, 1024], { dtype: 'float64' }); // large enough to be queued, not run at the call
    const good = synchronously(() => Array.from(x.exp().add(1).toTypedArray()));
    b()._injectCpuFault('exp', 1);
    const y = x.exp(); // fails in the queue
    const z = y.add(1); // binary on y: does not run
    const u = x.add(1); // independent
    expect(() => z.toTypedArray()).toThrow(OutOfMemoryError);
    expect(() => z.toTypedArray()).toThrow(/exp failed in queued CPU work/);
    expect(() => y.sum().item()).toThrow(OutOfMemoryError);
    expect(Array.from(u.toTypedArray())).toEqual(Array.from(x.toTypedArray(), (v) => v + 1));
    expect(Array.from(x.exp().add(1).toTypedArray())).toEqual(good);
  });

  it('data() of queued work does not block the event loop', async () => {
    const { x, w, offset, mask } = convCase(5, 4, 32, 48);
    const t0 = performance.now();
    const y = conv(x, w, offset, mask);
    const queuedIn = performance.now() - t0;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    let resolved = false;
    const pending = y.data().then((v) => {
      resolved = true;
      return v;
    });
    // The promise is pending while the kernel runs; the event loop turns meanwhile.
    await new Promise((r) => setImmediate(r));
    const values = await pending;
    const total = performance.now() - t0;
    clearInterval(timer);
    expect(resolved).toBe(true);
    expect(values.length).toBe(4 * 32 * 48 * 48);
    expect(Array.from(values.subarray(0, 64))).toEqual(Array.from(y.toTypedArray().subarray(0, 64)));
    // The op call itself returned long before the work was done, and timers ran while it was.
    expect(queuedIn).toBeLessThan(total);
    if (total > 50) expect(ticks).toBeGreaterThan(0);
  });

  it('data(out) of queued work writes into out once the work ran, without blocking the event loop', async () => {
    const { x, w, offset, mask } = convCase(6, 4, 16, 32);
    const expected = synchronously(() => conv(x, w, offset, mask).toTypedArray());
    const before = b()._cpuQueueStats().submitted;
    const y = conv(x, w, offset, mask);
    expect(b()._cpuQueueStats().submitted).toBe(before + 1); // queued, not run at the call
    const out = new Float64Array(y.numel).fill(Number.NaN);
    const pending = y.data(out);
    y.dispose(); // safe: the queued read keeps the storage until it ran
    expect(await pending).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    // The same array again, for the next result (what a server does with its response buffers).
    const z = conv(x, w, offset, mask).mul(2);
    await z.data(out);
    expect(Array.from(out)).toEqual(Array.from(expected, (v) => v * 2));
  });

  it('the executor polls briefly after idle gaps and 50 µs again in a burst of work (adaptive spin)', async () => {
    const { x, w, offset, mask } = convCase(1, 4, 8, 8);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Each wait of the executor for its next task outlasts 50 µs: each halves its poll, down to 0.5 µs.
    for (let i = 0; i < 12; i++) {
      conv(x, w, offset, mask).toTypedArray();
      await sleep(4);
    }
    const idle = b()._cpuQueueStats().executorSpinNs;
    // Tasks queued back to back: the next one is there when the executor looks; each wait doubles the poll.
    // A long task first, so that all 64 are queued before the executor reaches them even when this thread is
    // descheduled between two calls (a loaded CI machine).
    const big = convCase(2, 4, 32, 48);
    const head = conv(big.x, big.w, big.offset, big.mask);
    const ys: Tensor[] = [];
    for (let i = 0; i < 64; i++) ys.push(conv(x, w, offset, mask));
    ys[ys.length - 1]!.toTypedArray();
    head.dispose();
    const busy = b()._cpuQueueStats().executorSpinNs;
    expect(idle).toBeLessThanOrEqual(2_000);
    expect(idle).toBeGreaterThanOrEqual(500);
    expect(busy).toBeGreaterThanOrEqual(12_500);
    expect(busy).toBeLessThanOrEqual(50_000);
  });

  it('a region whose pool worker wakes late is run by its caller: same values, the late shares counted', () => {
    if (b().getNumThreads() < 2) return; // one thread: no worker to be late
    const { x, w, offset, mask } = convCase(3, 4, 16, 32);
    const expected = conv(x, w, offset, mask).toTypedArray();
    b()._setPoolWorkerDelay(20_000); // each worker sleeps 20 ms after it wakes for a region
    try {
      const before = b()._cpuQueueStats().poolLateShares;
      const got = conv(x, w, offset, mask).toTypedArray();
      expect(b()._cpuQueueStats().poolLateShares).toBeGreaterThan(before);
      expect(Array.from(got)).toEqual(Array.from(expected));
    } finally {
      b()._setPoolWorkerDelay(0);
    }
    // Once the workers are prompt again, they take part again (each region's shares are taken by whoever runs).
    expect(Array.from(conv(x, w, offset, mask).toTypedArray())).toEqual(Array.from(expected));
  });

  it('reads of tensors without queued work resolve from the array itself', async () => {
    const t = tensor([1, 2, 3]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
  });

  it('a process that queues work and exits, exits cleanly; a pending data() keeps it alive', () => {
    const entry = join(__dirname, '..', '..', 'dist', 'index.cjs');
    const script = (tail: string) => `
      const ops = require(${JSON.stringify(entry)});
      const x = ops.randn([4, 32, 48, 48]);
      const w = ops.randn([32, 32, 3, 3]);
      const offset = ops.randn([4, 18, 48, 48]);
      const y = ops.deformConv2d(x, w, { offset, padding: 1 });
      ${tail}`;
    const env = { ...process.env };
    const exit = spawnSync(
      process.execPath,
      ['-e', script('for (let i = 0; i < 5; i++) ops.deformConv2d(x, w, { offset, padding: 1 });')],
      {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(exit.stderr).toBe('');
    expect(exit.status).toBe(0);
    const waits = spawnSync(
      process.execPath,
      ['-e', script("y.data().then((v) => console.log('len', v.length, Number.isFinite(v[0])));")],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(waits.stderr).toBe('');
    expect(waits.stdout.trim()).toBe(`len ${4 * 32 * 48 * 48} true`);
    expect(waits.status).toBe(0);
  });

  it.runIf(existsSync('/proc/self/task'))(
    'names its threads: the executor tvdcn-queue, pool workers tvdcn-pool (Linux)',
    () => {
      const { x, w, offset, mask } = convCase(5, 4, 16, 32);
      conv(x, w, offset, mask).toTypedArray(); // the executor runs it, with the pool's workers when there are some
      const names = readdirSync('/proc/self/task').map((tid) =>
        readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
      );
      expect(names.filter((n) => n === 'tvdcn-queue')).toHaveLength(1); // one queue per environment
      const workers = names.filter((n) => n === 'tvdcn-pool').length;
      expect(workers).toBe(b().getNumThreads() - 1); // the caller is the region's thread 0
    },
  );

  it.runIf(existsSync('/proc/self/task'))(
    'TVDCN_THREAD_NICE lowers the priority of the executor and the pool workers only, or makes them SCHED_IDLE, and then a wake relay at the main priority wakes the JS thread (Linux)',
    () => {
      const entry = join(__dirname, '..', '..', 'dist', 'index.cjs');
      // Each thread's name and nice value (field 19 of /proc/<pid>/task/<tid>/stat: the 17th after "comm)").
      const script = `
        const fs = require('node:fs');
        const ops = require(${JSON.stringify(entry)});
        ops.deformConv2d(ops.randn([2, 8, 12, 12]), ops.randn([8, 8, 3, 3]), { offset: ops.randn([2, 18, 12, 12]), padding: 1 }).toTypedArray();
        const threads = fs.readdirSync('/proc/self/task').map((tid) => {
          const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return [fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), Number(fields[16]), Number(fields[38])];
        });
        console.log(JSON.stringify(threads));`;
      const run = (nice: string) => {
        const r = spawnSync(process.execPath, ['-e', script], {
          env: { ...process.env, TVDCN_THREAD_NICE: nice, TVDCN_NUM_THREADS: '2' },
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.stderr).toBe('');
        return JSON.parse(r.stdout) as [string, number, number][];
      };
      type Threads = [string, number, number][]; // name, nice, scheduling policy (0: normal, 5: SCHED_IDLE)
      const ours = (threads: Threads) => threads.filter(([n]) => n === 'tvdcn-queue' || n === 'tvdcn-pool');
      const main = (threads: Threads) => threads[0]?.[1] ?? Number.NaN; // the first task is the main thread
      const niced = run('7');
      expect(
        ours(niced)
          .map(([n]) => n)
          .sort(),
      ).toEqual(['tvdcn-pool', 'tvdcn-queue']);
      for (const [, nice] of ours(niced)) expect(nice).toBe(Math.max(7, main(niced)));
      for (const [name, nice] of niced) if (!name.startsWith('tvdcn-')) expect(nice).toBe(main(niced));
      // The wake relay (NOTE [ Wake relay ]): one thread at the process's priority, only when ours are lowered.
      const relay = (threads: Threads) => threads.filter(([n]) => n === 'tvdcn-wake');
      expect(relay(niced)).toEqual([['tvdcn-wake', main(niced), 0]]);
      for (const bad of ['', '0', 'abc', '25', '-3', 'IDLE']) {
        const plain = run(bad);
        for (const [, nice, policy] of ours(plain)) {
          expect(nice).toBe(main(plain));
          expect(policy).toBe(0);
        }
        expect(relay(plain)).toEqual([]);
      }
      // 'idle': SCHED_IDLE for ours only, so that any other thread preempts them at once.
      const idle = run('idle');
      expect(ours(idle)).toHaveLength(2);
      for (const [, , policy] of ours(idle)) expect(policy).toBe(5);
      for (const [name, , policy] of idle) if (!name.startsWith('tvdcn-')) expect(policy).toBe(0);
      expect(relay(idle)).toEqual([['tvdcn-wake', main(idle), 0]]);
    },
  );
});
