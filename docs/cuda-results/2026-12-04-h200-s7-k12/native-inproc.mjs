// Issue 12, session 7 (helper k12): host µs per call of the bare binding (no ops layer) in ONE process,
// after session 6's inproc.mjs: the tiny transposed fp16 deformConvForward (offset, mask, bias; output
// preallocated) of addon A (main) with the params object, of addon B (this branch) with the object, and
// of B with the packed Float64Array params; binary add of 16 fp16 values; the control cudaBufferAlloc +
// cudaBufferFree. Sides alternate per round (rotated order). usage: node native-inproc.mjs A.node B.node
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const [A, B] = process.argv.slice(2).map((p) => require(p));
const N = 2000,
  ROUNDS = 12;
function setup(b, packed) {
  const t = (shape) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = b.cudaBufferAlloc(0, 'float16', n);
    b.cudaUpload(
      data,
      new Float32Array(n).map((_, i) => ((i * 7) % 13) / 26 - 0.25),
    );
    return { data, shape, dtype: 'float16' };
  };
  const obj = {
    dim: 2,
    transposed: true,
    batch: 1,
    inChannels: 4,
    outChannels: 2,
    groups: 1,
    offsetGroups: 1,
    maskGroups: 1,
    kernelSize: [4, 4],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [2, 2],
    outSize: [4, 4],
  };
  const params = packed ? new Float64Array([2, 1, 1, 4, 2, 1, 1, 1, 4, 4, 2, 2, 1, 1, 1, 1, 2, 2, 4, 4]) : obj;
  const c = {
    x: t([1, 4, 2, 2]),
    w: t([4, 2, 4, 4]),
    off: t([1, 32, 2, 2]),
    m: t([1, 16, 2, 2]),
    bias: t([2]),
    y: t([1, 2, 4, 4]),
    a: t([16]),
    o: t([16]),
  };
  return {
    conv: () => b.deformConvForward(params, c.x, c.w, c.off, c.m, c.bias, c.y),
    add: () => b.binary('add', c.a, [1], c.a, [1], c.o, [16]),
    alloc: () => b.cudaBufferFree(b.cudaBufferAlloc(0, 'float16', 16)),
    sync: () => b.cudaSynchronize(0),
  };
}
const names = ['A object', 'B object', 'B packed'];
const sides = [setup(A, false), setup(B, false), setup(B, true)];
const res = {};
for (const k of ['conv', 'add', 'alloc']) {
  const use = k === 'conv' ? [0, 1, 2] : [0, 1];
  for (const j of use) {
    for (let i = 0; i < 200; i++) sides[j][k]();
    sides[j].sync();
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = use.map((_, i) => use[(i + r) % use.length]);
    for (const j of order) {
      const c = sides[j];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) c[k]();
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
      c.sync();
      ((res[k] ??= {})[j] ??= []).push(us);
    }
  }
}
const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
for (const [k, per] of Object.entries(res)) {
  const js = Object.keys(per).map(Number);
  const parts = js.map((j) => `${names[j]} min ${Math.min(...per[j]).toFixed(2)} med ${med(per[j]).toFixed(2)}`);
  const rat = js.slice(1).map((j) => {
    const r = per[0].map((a, i) => a / per[j][i]);
    return `A/${names[j]} med ${med(r).toFixed(3)} (min ${Math.min(...r).toFixed(3)}, max ${Math.max(...r).toFixed(3)})`;
  });
  console.log(`${k.padEnd(5)} us/call: ${parts.join(' | ')} | ${rat.join(' | ')}`);
}
