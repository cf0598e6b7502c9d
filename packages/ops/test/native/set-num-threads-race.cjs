// SPDX-License-Identifier: MIT
// Regression program for the thread-pool heap overflow (issue 9, finding 1): a worker thread loops a 2D
// deformable convolution forward + backward while the main thread calls setNumThreads(1 + n % 2) every
// 5 ms. Before the fix, per-thread scratch was sized from one read of the pool size and the parallel
// region read it again, so a region could hand out a thread index past the scratch (SIGSEGV or
// "malloc(): corrupted top size" within a fraction of a second).
// Usage: node set-num-threads-race.cjs <addon.node> [milliseconds=2000] [workers=1]
// With 2 or more workers, several JS threads also run kernels at once (the pool serves one, the others run
// serially). Exits 0 when every worker finished its loop and every result matched its first one, 1 otherwise.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  const addon = process.argv[2];
  const ms = Number(process.argv[3] ?? 2000);
  const b = require(addon);
  const workers = Number(process.argv[4] ?? 1);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  let n = 0;
  const timer = setInterval(() => b.setNumThreads(1 + (n++ % 2)), 5);
  setTimeout(() => Atomics.store(stop, 0, 1), ms);
  const results = [];
  for (let i = 0; i < workers; i++) {
    const w = new Worker(__filename, { workerData: { addon, stop } });
    w.once('message', (m) => {
      results.push(m);
      if (results.length < workers) return;
      clearInterval(timer);
      const iterations = results.reduce((a, r) => a + r.iterations, 0);
      const mismatches = results.reduce((a, r) => a + r.mismatches, 0);
      console.log(`iterations ${iterations}, setNumThreads calls ${n}, mismatches ${mismatches}`);
      process.exitCode = mismatches === 0 && results.every((r) => r.iterations > 0) ? 0 : 1;
    });
    w.once('error', (e) => {
      clearInterval(timer);
      console.error(e);
      process.exitCode = 1;
    });
  }
} else {
  const b = require(workerData.addon);
  const numel = (s) => s.reduce((a, v) => a * v, 1);
  const t = (shape, f) => ({ data: Float64Array.from({ length: numel(shape) }, (_, i) => f(i)), shape, dtype: 'float64' });
  const p = { dim: 2, transposed: false, batch: 2, inChannels: 16, outChannels: 16, groups: 1, offsetGroups: 2,
    maskGroups: 1, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], inSize: [24, 20],
    outSize: [24, 20] };
  const input = t([2, 16, 24, 20], (i) => Math.sin(i));
  const weight = t([16, 16, 3, 3], (i) => Math.cos(i) * 0.1);
  const offset = t([2, 36, 24, 20], (i) => Math.sin(i * 0.37) * 2);
  const mask = t([2, 9, 24, 20], (i) => (i % 7) / 7);
  const out = t([2, 16, 24, 20], () => 0);
  const gy = t([2, 16, 24, 20], (i) => Math.cos(i * 0.3));
  const grads = { input: t(input.shape, () => 0), weight: t(weight.shape, () => 0), offset: t(offset.shape, () => 0),
    mask: t(mask.shape, () => 0), bias: null };
  let first = null;
  let iterations = 0;
  let mismatches = 0;
  while (Atomics.load(workerData.stop, 0) === 0) {
    b.deformConvForward(p, input, weight, offset, mask, null, out);
    b.cpuQueueSync(b.deformConvBackward(p, input, weight, offset, mask, gy, grads)); // queued: wait for it
    // Results do not depend on the thread count, up to the order of floating-point sums.
    const sig = [out.data, grads.input.data, grads.weight.data, grads.offset.data, grads.mask.data].map((a) =>
      a.reduce((s, v) => s + v, 0));
    if (!first) first = sig;
    else if (sig.some((v, i) => Math.abs(v - first[i]) > 1e-9 * (1 + Math.abs(first[i])))) mismatches++;
    iterations++;
  }
  parentPort.postMessage({ iterations, mismatches });
}
