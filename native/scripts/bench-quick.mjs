#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Quick timing of the CPU addon's 2D deformable-convolution forward (and backward) on the ResNet-50 stage
// shapes r50-c4 and r50-c5 (B = 4, 3x3, padding 1, offset + mask, 1 offset group), float32, 2 threads by
// default. Not a test: prints median milliseconds. Set ORT_NODE=/path/to/node_modules/onnxruntime-node to
// time onnxruntime-node's CPU DeformConv (opset 19) on the same shapes, from a model encoded here.
//   node native/scripts/bench-quick.mjs [--threads N] [--iters N] [--backward]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const threads = opt('--threads', 2);
const iters = opt('--iters', 15);
const withBackward = args.includes('--backward');

const b = require(join(root, 'build', 'cpu', 'Release', 'tvdcn_cpu.node'));
b.setNumThreads(threads);

const cases = {
  'r50-c4': { B: 4, C: 256, O: 256, H: 32, W: 32 },
  'r50-c5': { B: 4, C: 512, O: 512, H: 16, W: 16 },
};

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
    ...['X', 'W', 'offset', 'B', 'mask'].flatMap((n) => str(1, n)), ...str(2, 'Y'), ...str(4, 'DeformConv'),
    ...bytes(5, attrInts('kernel_shape', [3, 3])), ...bytes(5, attrInts('strides', [1, 1])),
    ...bytes(5, attrInts('pads', [1, 1, 1, 1])), ...bytes(5, attrInts('dilations', [1, 1])),
    ...bytes(5, attrInt('group', 1)), ...bytes(5, attrInt('offset_group', 1)),
  ];
  const inputs = [valueInfo('X', x), valueInfo('W', [c.O, c.C, 3, 3]), valueInfo('offset', [c.B, 18, c.H, c.W]),
    valueInfo('B', [c.O]), valueInfo('mask', [c.B, 9, c.H, c.W])];
  const graph = [...bytes(1, node), ...str(2, 'g'), ...inputs.flatMap((v) => bytes(11, v)),
    ...bytes(12, valueInfo('Y', [c.B, c.O, c.H, c.W]))];
  return Uint8Array.from([...vint(1, 9), ...bytes(8, [...str(1, ''), ...vint(2, 19)]), ...bytes(7, graph)]);
}
let ort = null;
if (process.env.ORT_NODE) ort = require(process.env.ORT_NODE);

console.log(`tvdcn CPU addon, ${threads} thread(s), gemm ${b._gemmIsa?.() ?? '?'}, median of ${iters}`);
for (const [name, c] of Object.entries(cases)) {
  const K = 9;
  const input = rand(c.B * c.C * c.H * c.W);
  const weight = rand(c.O * c.C * K, -0.05, 0.05);
  const offset = rand(c.B * 2 * K * c.H * c.W, -2, 2);
  const mask = rand(c.B * K * c.H * c.W, 0, 1);
  const bias = rand(c.O);
  const t = (data, shape) => ({ data, shape, dtype: 'float32' });
  const params = {
    dim: 2, transposed: false, batch: c.B, inChannels: c.C, outChannels: c.O, groups: 1, offsetGroups: 1,
    maskGroups: 1, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], inSize: [c.H, c.W],
    outSize: [c.H, c.W],
  };
  const out = t(new Float32Array(c.B * c.O * c.H * c.W), [c.B, c.O, c.H, c.W]);
  const args4 = [params, t(input, [c.B, c.C, c.H, c.W]), t(weight, [c.O, c.C, 3, 3]), t(offset, [c.B, 18, c.H, c.W]),
    t(mask, [c.B, 9, c.H, c.W])];
  const fwd = median(() => b.deformConvForward(...args4, t(bias, [c.O]), out));
  const gflop = (2 * c.B * c.O * c.C * K * c.H * c.W) / 1e9;
  let line = `${name}: forward ${fwd.toFixed(2)} ms (${(gflop / (fwd / 1e3)).toFixed(0)} GFLOP/s, ` +
    `${cpuTimes.at(-1).toFixed(1)} ms CPU)`;
  if (withBackward) {
    const g = (shape) => t(new Float32Array(shape.reduce((a, v) => a * v, 1)), shape);
    const grads = { input: g([c.B, c.C, c.H, c.W]), weight: g([c.O, c.C, 3, 3]), offset: g([c.B, 18, c.H, c.W]),
      mask: g([c.B, 9, c.H, c.W]), bias: g([c.O]) };
    const bwd = median(() => b.deformConvBackward(...args4, out, grads));
    line += `, backward (all grads) ${bwd.toFixed(2)} ms`;
  }
  if (ort) {
    const sess = await ort.InferenceSession.create(deformConvModel(c), {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    });
    const feeds = {
      X: new ort.Tensor('float32', input, [c.B, c.C, c.H, c.W]), W: new ort.Tensor('float32', weight, [c.O, c.C, 3, 3]),
      offset: new ort.Tensor('float32', offset, [c.B, 18, c.H, c.W]), B: new ort.Tensor('float32', bias, [c.O]),
      mask: new ort.Tensor('float32', mask, [c.B, 9, c.H, c.W]),
    };
    const ortMs = await medianAsync(() => sess.run(feeds));
    const res = await sess.run(feeds);
    let maxErr = 0;
    for (let i = 0; i < out.data.length; i++) maxErr = Math.max(maxErr, Math.abs(res.Y.data[i] - out.data[i]));
    line += `; onnxruntime-node ${ortMs.toFixed(2)} ms (ours/ORT ${(fwd / ortMs).toFixed(2)}x, max |diff| ${maxErr.toExponential(1)})`;
  }
  console.log(line);
}
