// Issue 12, session 7 (helper k12): host µs per call through the ops layer of two bundles (probe.ts
// built from main and from this branch), each with its own addon, in ONE process, alternated per round
// (A, B, A, B, ...), so that the process-to-process spread cancels (session 6's run 28 did this for the
// bare binding). usage: node ops-inproc.mjs A.mjs A.node B.mjs B.node
const [am, an, bm, bn] = process.argv.slice(2);
const load = async (m, n) => {
  process.env.TVDCN_NATIVE_PATH = n;
  const mod = await import(m);
  return mod.cases(); // creates CUDA tensors: the addon is loaded now
};
const sides = [await load(am, an), await load(bm, bn)];
const plan = { add: [2000, 12], tiny: [2000, 12], tr2d: [100, 12] };
const res = {};
for (const [k, [N, ROUNDS]] of Object.entries(plan)) {
  for (const c of sides) {
    for (let i = 0; i < 100; i++) c[k]();
    c.sync();
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    for (const j of order) {
      const c = sides[j];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) c[k]();
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
      c.sync();
      (res[k] ??= [[], []])[j].push(us);
    }
  }
}
const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
for (const [k, per] of Object.entries(res)) {
  const ratios = per[0].map((a, r) => a / per[1][r]);
  console.log(
    `${k.padEnd(5)} us/call: ` +
      per.map((v, j) => `${'AB'[j]} min ${Math.min(...v).toFixed(2)} med ${med(v).toFixed(2)}`).join(' | ') +
      ` | A/B per round: min ${Math.min(...ratios).toFixed(3)} med ${med(ratios).toFixed(3)} max ${Math.max(...ratios).toFixed(3)}`,
  );
}
