// SPDX-License-Identifier: MIT
// The addon under concurrency: Node worker_threads calling it at the same time as the main thread share
// one thread pool (a busy pool makes a caller run serially) and get the same, correct results.

import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { addonBuilt, addonPath, loadNative, type TestBinding } from './helpers.js';

let b: TestBinding;
beforeAll(() => {
  b = loadNative();
  b.setNumThreads(2);
});

// One deterministic call, as JS source shared by the workers and the main thread: `run(reps)` repeats a
// 2D forward with offsets and masks and returns the last output.
const body = `
const n = (s) => s.reduce((a, v) => a * v, 1);
const t = (shape, f) => ({ data: Float64Array.from({ length: n(shape) }, (_, i) => f(i)), shape, dtype: 'float64' });
const p = { dim: 2, transposed: false, batch: 2, inChannels: 16, outChannels: 8, groups: 1, offsetGroups: 2,
  maskGroups: 1, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], inSize: [24, 20],
  outSize: [24, 20] };
const input = t([2, 16, 24, 20], (i) => Math.sin(i));
const weight = t([8, 16, 3, 3], (i) => Math.cos(i) * 0.1);
const offset = t([2, 36, 24, 20], (i) => Math.sin(i * 0.37) * 2);
const mask = t([2, 9, 24, 20], (i) => (i % 7) / 7);
const out = t([2, 8, 24, 20], () => 0);
function run(reps) {
  // Queued on the CPU queue of the caller's environment (off on the main thread, see helpers.ts; on in
  // the workers): wait for the last call before reading.
  let task;
  for (let r = 0; r < reps; r++) task = b.deformConvForward(p, input, weight, offset, mask, null, out);
  if (typeof task === 'number') b.cpuQueueSync(task);
  return Array.from(out.data);
}`;

function runWorker(reps: number): Promise<number[]> {
  const source = `const { parentPort } = require('node:worker_threads');
const b = require(${JSON.stringify(addonPath)});
${body}
parentPort.postMessage(run(${reps}));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe.runIf(addonBuilt)('concurrent callers', () => {
  it('two worker threads and the main thread at once agree bit for bit', async () => {
    const runMain = new Function('b', `${body}\nreturn run;`)(b) as (reps: number) => number[];
    const single = runMain(1);
    const pending = [runWorker(40), runWorker(40)];
    const main = runMain(20); // the main thread keeps the pool busy meanwhile
    const results = await Promise.all(pending);
    expect(main).toEqual(single);
    for (const r of results) expect(r).toEqual(single);
    expect(single.some((v) => v !== 0)).toBe(true);
  });
});
