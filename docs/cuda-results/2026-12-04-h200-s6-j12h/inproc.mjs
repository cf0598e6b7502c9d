// Issue 12, session 6, helper j12h: host time per native call of two addons in ONE process, interleaved
// per round (A, B, A, B, ...), so that the machine's process-to-process spread cancels. Calls the bindings
// directly (no JS ops layer): deformConvForward of the tiny transposed fp16 case (offset, mask, bias; the
// output preallocated), binary add of 16 fp16 values, and a control that no change touched
// (cudaBufferAlloc + cudaBufferFree). usage: node inproc.mjs A.node B.node
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const paths = process.argv.slice(2);
const addons = paths.map((p) => require(p));
const N = 2000,
  ROUNDS = 12;
function setup(b) {
  const t = (shape) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = b.cudaBufferAlloc(0, 'float16', n);
    b.cudaUpload(
      data,
      new Float32Array(n).map((_, i) => ((i * 7) % 13) / 26 - 0.25),
    );
    return { data, shape, dtype: 'float16' };
  };
  const params = {
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
  const c = {
    params,
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
    conv: () => b.deformConvForward(c.params, c.x, c.w, c.off, c.m, c.bias, c.y),
    add: () => b.binary('add', c.a, [1], c.a, [1], c.o, [16]),
    alloc: () => b.cudaBufferFree(b.cudaBufferAlloc(0, 'float16', 16)),
    sync: () => b.cudaSynchronize(0),
  };
}
const cases = addons.map(setup);
const res = {};
for (const k of ['conv', 'add', 'alloc']) {
  for (const c of cases) {
    for (let i = 0; i < 200; i++) c[k]();
    c.sync();
  }
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((c, j) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) c[k]();
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
      c.sync();
      (res[k] ??= paths.map(() => []))[j].push(us);
    });
  }
}
const med = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s[s.length >> 1];
};
for (const [k, per] of Object.entries(res)) {
  const line = per.map((v, j) => `${'AB'[j]} min ${Math.min(...v).toFixed(2)} med ${med(v).toFixed(2)}`).join(' | ');
  const ratios = per[0].map((a, r) => a / per[1][r]);
  console.log(
    `${k.padEnd(6)} us/call (${ROUNDS} rounds x ${N}): ${line} | A/B per round: min ${Math.min(...ratios).toFixed(3)} med ${med(ratios).toFixed(3)} max ${Math.max(...ratios).toFixed(3)}`,
  );
}
