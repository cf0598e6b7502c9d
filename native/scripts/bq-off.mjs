#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Quick timing of the CPU addon's deformable convolution, forward and (with --backward) backward with all
// five gradients, on the shapes of the benchmark suite (bench/src/shapes.ts: r50-c4, r50-c5, edvr-64,
// tcn-1d, video-3d, up-t2d; offset + mask + bias), float32, 2 threads by default. Not a test: prints
// median wall milliseconds and median CPU milliseconds (all threads) per call; on a shared machine the
// CPU time and the fwd+bwd / fwd ratio are the steadier figures. Set ORT_NODE=/path/to/onnxruntime-node
// to time onnxruntime-node's CPU DeformConv (opset 19) on the 2D shapes with one offset group.
//   node native/scripts/bench-quick.mjs [--threads N] [--iters N] [--backward] [--only r50-c4,edvr-64]
//     [--addon path/to/tvdcn_cpu.node]   (another build, e.g. a baseline to compare with)
//     [--isa avx512|avx2|generic]   (the kernels of that instruction set, as on a CPU without the wider ones;
//                                    default: the best this CPU has)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const usage = `usage: node native/scripts/bench-quick.mjs [--threads N] [--iters N] [--backward] [--only a,b]
    [--addon path/to/tvdcn_cpu.node] [--isa avx512|avx2|generic]`;
let values;
try {
  ({ values } = parseArgs({
    options: {
      threads: { type: 'string', default: '2' },
      iters: { type: 'string', default: '15' },
      backward: { type: 'boolean', default: false },
      only: { type: 'string' },
      addon: { type: 'string' },
      isa: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
  for (const k of ['threads', 'iters']) {
    if (!/^[1-9]\d*$/.test(values[k])) throw new Error(`--${k}: expected a positive integer, but got '${values[k]}'`);
  }
} catch (e) {
  console.error(`bench-quick: ${e.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const threads = Number(values.threads);
const iters = Number(values.iters);
const withBackward = values.backward;
const b = require(values.addon ?? join(root, 'build', 'cpu', 'Release', 'tvdcn_cpu.node'));
b._setCpuQueue?.(false); // time the kernels at the call, as before the CPU queue
b.setNumThreads(threads);
if (values.isa !== undefined && !b._setGemmIsa(values.isa)) {
  console.error(`bench-quick: --isa ${values.isa}: not available on this CPU`);
  process.exit(2);
}

const only = values.only ? values.only.split(',') : null;
// B, C_in, C_out, input size, kernel, stride, padding, offset groups (= mask groups), transposed.
const suite = {
  'r50-c4': { B: 4, C: 256, O: 256, size: [32, 32], k: [3, 3], s: 1, p: 1, og: 1 },
  'r50-c5': { B: 4, C: 512, O: 512, size: [16, 16], k: [3, 3], s: 1, p: 1, og: 1 },
  'edvr-64': { B: 1, C: 64, O: 64, size: [128, 128], k: [3, 3], s: 1, p: 1, og: 8 },
  'tcn-1d': { B: 4, C: 128, O: 128, size: [2048], k: [3], s: 1, p: 1, og: 1 },
  'video-3d': { B: 1, C: 64, O: 64, size: [8, 32, 32], k: [3, 3, 3], s: 1, p: 1, og: 1 },
  'v3d-w33': { B: 1, C: 64, O: 64, size: [8, 32, 33], k: [3, 3, 3], s: 1, p: 1, og: 1 },
  'v3d-w31': { B: 1, C: 64, O: 64, size: [8, 32, 31], k: [3, 3, 3], s: 1, p: 1, og: 1 },
  'up-t2d': { B: 2, C: 128, O: 64, size: [32, 32], k: [4, 4], s: 2, p: 1, og: 1, transposed: true },
};
const cases = Object.fromEntries(Object.entries(suite).filter(([n]) => !only || only.includes(n)));

let seed = 1;
function rand(n, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    a[i] = lo + ((hi - lo) * seed) / 2 ** 32;
  }
  return a;
}

// Median wall time in ms; `cpu` collects the median CPU time (all threads) per call, which is less
// disturbed by other processes on a shared machine.
const cpuTimes = [];
function median(fn) {
  for (let i = 0; i < 3; i++) fn();
  const t = [];
  const c = [];
  for (let i = 0; i < iters; i++) {
    const u0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const u = process.cpuUsage(u0);
    c.push((u.user + u.system) / 1e3);
  }
  t.sort((x, y) => x - y);
  c.sort((x, y) => x - y);
  cpuTimes.push(c[Math.floor(c.length / 2)]);
  return t[Math.floor(t.length / 2)];
}

async function medianAsync(fn) {
  for (let i = 0; i < 3; i++) await fn();
  const t = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)];
}

// --- optional onnxruntime-node: a one-node DeformConv model, protobuf written by hand -----------------
function varint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}
const key = (field, wire) => varint((field << 3) | wire);
const vint = (field, n) => [...key(field, 0), ...varint(n)];
const bytes = (field, arr) => [...key(field, 2), ...varint(arr.length), ...arr];
const str = (field, s) => bytes(field, [...Buffer.from(s, 'utf8')]);
const attrInts = (name, ints) => [...str(1, name), ...vint(20, 7), ...ints.flatMap((i) => vint(8, i))];
const attrInt = (name, i) => [...str(1, name), ...vint(20, 2), ...vint(3, i)];
function valueInfo(name, shape) {
  const dims = shape.flatMap((d) => bytes(1, vint(1, d)));
  return [...str(1, name), ...bytes(2, bytes(1, [...vint(1, 1), ...bytes(2, dims)]))];
}
function deformConvModel(c) {
  const x = [c.B, c.C, c.H, c.W];
  const node = [
    ...['X', 'W', 'offset', 'B', 'mask'].flatMap((n) => str(1, n)),
    ...str(2, 'Y'),
    ...str(4, 'DeformConv'),
    ...bytes(5, attrInts('kernel_shape', [3, 3])),
    ...bytes(5, attrInts('strides', [1, 1])),
    ...bytes(5, attrInts('pads', [1, 1, 1, 1])),
    ...bytes(5, attrInts('dilations', [1, 1])),
    ...bytes(5, attrInt('group', 1)),
    ...bytes(5, attrInt('offset_group', 1)),
  ];
  const inputs = [
    valueInfo('X', x),
    valueInfo('W', [c.O, c.C, 3, 3]),
    valueInfo('offset', [c.B, 18, c.H, c.W]),
    valueInfo('B', [c.O]),
    valueInfo('mask', [c.B, 9, c.H, c.W]),
  ];
  const graph = [
    ...bytes(1, node),
    ...str(2, 'g'),
    ...inputs.flatMap((v) => bytes(11, v)),
    ...bytes(12, valueInfo('Y', [c.B, c.O, c.H, c.W])),
  ];
  return Uint8Array.from([...vint(1, 9), ...bytes(8, [...str(1, ''), ...vint(2, 19)]), ...bytes(7, graph)]);
}
let ort = null;
if (process.env.ORT_NODE) ort = require(process.env.ORT_NODE);

console.log(`tvdcn CPU addon, ${threads} thread(s), gemm ${b._gemmIsa?.() ?? '?'}, median of ${iters}`);
const prod = (a) => a.reduce((x, v) => x * v, 1);
for (const [name, c] of Object.entries(cases)) {
  const D = c.size.length,
    K = prod(c.k),
    tr = !!c.transposed;
  const outSize = c.size.map((n, a) =>
    tr ? (n - 1) * c.s - 2 * c.p + c.k[a] : Math.floor((n + 2 * c.p - c.k[a]) / c.s) + 1,
  );
  const grid = tr ? c.size : outSize; // offsets and masks live here
  const inShape = [c.B, c.C, ...c.size],
    outShape = [c.B, c.O, ...outSize];
  const wShape = tr ? [c.C, c.O, ...c.k] : [c.O, c.C, ...c.k];
  const offShape = [c.B, c.og * D * K, ...grid],
    maskShape = [c.B, c.og * K, ...grid];
  const input = rand(prod(inShape));
  const weight = rand(prod(wShape), -0.05, 0.05);
  const OR = Number(process.env.OFFR ?? 2); const offset = rand(prod(offShape), -OR, OR);
  const mask = rand(prod(maskShape), 0, 1);
  const bias = rand(c.O);
  const t = (data, shape) => ({ data, shape, dtype: 'float32' });
  const rep = (v) => Array.from({ length: D }, () => v);
  const params = {
    dim: D,
    transposed: tr,
    batch: c.B,
    inChannels: c.C,
    outChannels: c.O,
    groups: 1,
    offsetGroups: c.og,
    maskGroups: c.og,
    kernelSize: c.k,
    stride: rep(c.s),
    padding: rep(c.p),
    dilation: rep(1),
    inSize: c.size,
    outSize,
  };
  const out = t(new Float32Array(prod(outShape)), outShape);
  const args4 = [params, t(input, inShape), t(weight, wShape), t(offset, offShape), t(mask, maskShape)];
  const fwd = median(() => b.deformConvForward(...args4, t(bias, [c.O]), out));
  const fwdCpu = cpuTimes.at(-1);
  const gflop = (2 * c.B * c.O * c.C * K * prod(tr ? c.size : outSize)) / 1e9;
  let line =
    `${name}: fwd ${fwd.toFixed(2)} ms (${(gflop / (fwd / 1e3)).toFixed(0)} GFLOP/s, ` + `${fwdCpu.toFixed(1)} ms CPU)`;
  if (withBackward) {
    const g = (shape) => t(new Float32Array(prod(shape)), shape);
    const grads = { input: g(inShape), weight: g(wShape), offset: g(offShape), mask: g(maskShape), bias: g([c.O]) };
    const bwd = median(() => b.deformConvBackward(...args4, out, grads));
    const bwdCpu = cpuTimes.at(-1);
    line +=
      `, bwd ${bwd.toFixed(2)} ms (${bwdCpu.toFixed(1)} ms CPU); fwd+bwd/fwd ${((fwd + bwd) / fwd).toFixed(2)} wall, ` +
      `${((fwdCpu + bwdCpu) / fwdCpu).toFixed(2)} CPU`;
  }
  if (ort && D === 2 && !tr && c.og === 1) {
    const sess = await ort.InferenceSession.create(
      deformConvModel({ B: c.B, C: c.C, O: c.O, H: c.size[0], W: c.size[1] }),
      {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      },
    );
    const feeds = {
      X: new ort.Tensor('float32', input, inShape),
      W: new ort.Tensor('float32', weight, wShape),
      offset: new ort.Tensor('float32', offset, offShape),
      B: new ort.Tensor('float32', bias, [c.O]),
      mask: new ort.Tensor('float32', mask, maskShape),
    };
    const ortMs = await medianAsync(() => sess.run(feeds));
    const res = await sess.run(feeds);
    let maxErr = 0;
    for (let i = 0; i < out.data.length; i++) maxErr = Math.max(maxErr, Math.abs(res.Y.data[i] - out.data[i]));
    line += `; onnxruntime-node ${ortMs.toFixed(2)} ms (ours/ORT ${(fwd / ortMs).toFixed(2)}x, max |diff| ${maxErr.toExponential(1)})`;
  }
  console.log(line);
}
