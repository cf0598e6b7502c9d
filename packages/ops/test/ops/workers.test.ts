// SPDX-License-Identifier: MIT
// @tvdcn/ops in Node worker_threads: the addon loads in several workers at once (each environment has its
// own CPU queue; they share the thread pool), computes the same values as the main thread, and a worker
// terminated while its op runs (or waits for one) neither crashes the process nor leaks its queue or the
// arrays its queued work held, also when only workers loaded the addon (Linux: the library is never unloaded).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { deformConv2d, manualSeed, rand, randn } from '../../src/index.js';
import type { NativeBinding } from '../../src/native/binding.js';
import { getBinding } from '../../src/native/load-binding.js';
import { nativeOpsAvailable } from './native-setup.js';

const queueAvailable = nativeOpsAvailable() && typeof getBinding().cpuQueueSync === 'function';
const b = (): Required<NativeBinding> => getBinding() as Required<NativeBinding>;
const entry = join(__dirname, '..', '..', 'dist', 'index.cjs');

// The case every thread computes: `compute(seed, size)` returns the output of a seeded 2D deformable
// convolution as a plain array (the built package, as a user's worker would load it).
const caseSource = `
const ops = require(${JSON.stringify(entry)});
function compute(seed, size, channels) {
  ops.manualSeed(seed);
  const x = ops.randn([2, channels, size, size], { dtype: 'float64' });
  const w = ops.randn([channels, channels, 3, 3], { dtype: 'float64' });
  const offset = ops.randn([2, 18, size, size], { dtype: 'float64' });
  const mask = ops.rand([2, 9, size, size], { dtype: 'float64' });
  return ops.deformConv2d(x, w, { offset, mask, padding: 1 });
}`;

function worker(body: string): Worker {
  return new Worker(`const { parentPort, workerData } = require('node:worker_threads');\n${caseSource}\n${body}`, {
    eval: true,
  });
}

describe.runIf(queueAvailable)('worker_threads', () => {
  it('several workers compute at once, each result equal to the main thread one', async () => {
    const seeds = [11, 12, 13, 14];
    const runWorker = (seed: number): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const w = worker(
          `const y = compute(${seed}, 20, 12); y.data().then((v) => parentPort.postMessage(Array.from(v)));`,
        );
        w.once('message', (m) => {
          resolve(m as number[]);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const pending = seeds.map(runWorker);
    // The main thread computes the same cases meanwhile.
    const expected = seeds.map((s) => {
      manualSeed(s);
      const x = randn([2, 12, 20, 20], { dtype: 'float64' });
      const w = randn([12, 12, 3, 3], { dtype: 'float64' });
      const offset = randn([2, 18, 20, 20], { dtype: 'float64' });
      const mask = rand([2, 9, 20, 20], { dtype: 'float64' });
      return Array.from(deformConv2d(x, w, { offset, mask, padding: 1 }).toTypedArray());
    });
    const results = await Promise.all(pending);
    for (let i = 0; i < seeds.length; i++) {
      expect(results[i].length).toBe(2 * 12 * 20 * 20);
      expect(results[i]).toEqual(expected[i]);
    }
    expect(expected[0]).not.toEqual(expected[1]);
  });

  it('terminating a worker while its op runs neither crashes nor leaks', async () => {
    const rounds = 12;
    const baseline = b()._cpuQueueStats();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < rounds; i++) {
      // Even rounds: terminated while the queued forward runs and the worker's event loop is free;
      // odd rounds: while the worker's JS thread blocks in toTypedArray() waiting for it.
      const w = worker(
        `const y = compute(${i}, 64, 32); const z = compute(${i}, 64, 32);
         parentPort.postMessage('queued');
         ${i % 2 === 0 ? 'setInterval(() => {}, 1000);' : 'z.toTypedArray(); setInterval(() => {}, 1000);'}`,
      );
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      await w.terminate();
    }
    const after = b()._cpuQueueStats();
    // Every worker's queue was torn down, with the references its queued work held.
    expect(after.processQueues).toBe(baseline.processQueues);
    expect(after.processRefs).toBe(after.refs);
    const grown = process.memoryUsage().rss - rss0;
    expect(grown).toBeLessThan(400 * 1024 * 1024); // generous: a worker's heap is tens of MB before GC
  });
  // Node dlcloses an addon with the last environment that loaded it. When only workers load it, terminating
  // the last one unmapped the code that the process-wide pool threads run (SIGSEGV in 6 of 15 runs of 12
  // rounds on the base, session 16); the Linux build is linked with -z nodelete, so the library stays mapped
  // (checked in /proc/self/maps: the crash itself comes only at times). The main thread of this suite has the
  // addon loaded, so the case runs in a child process whose main thread never loads it.
  it.runIf(process.platform === 'linux')(
    'terminating workers when only workers loaded the addon does not crash',
    () => {
      const program = `
const { Worker } = require('node:worker_threads');
const body = ${JSON.stringify(caseSource)} + \`
const y = compute(1, 64, 32); const z = compute(2, 64, 32);
require('node:worker_threads').parentPort.postMessage('queued');
if (require('node:worker_threads').workerData === 1) z.toTypedArray();
setInterval(() => {}, 1000);\`;
(async () => {
  for (let i = 0; i < 24; i++) {
    const w = new Worker(body, { eval: true, workerData: i % 2 });
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await w.terminate();
  }
  const fs = require('node:fs');
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const path = process.env.TVDCN_NATIVE_PATH;
  const mapped = path ? maps.includes(fs.realpathSync(path)) : /tvdcn[^/\\n]*[.]node/.test(maps);
  console.log(mapped ? 'done, still mapped' : 'done, unmapped');
})();`;
      const r = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 120_000 });
      expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim() }).toEqual({
        status: 0,
        signal: null,
        stdout: 'done, still mapped',
      });
    },
  );
});
