#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A vitest-free compute check for hosts where vitest cannot start (node.exe under wine: rolldown's Rust
// binding needs bcryptprimitives!ProcessPrng, which wine 8 lacks). Runs with the built dist/ packages:
//   node compute-check.mjs run OUT.json     computes a fixed set of results with whatever binary the loader
//                                           picks (TVDCN_NATIVE_PATH / TVDCN_BACKEND) and writes them
//   node compute-check.mjs compare A B      compares two result files: float64 to 1e-12, float32 to 1e-5
//                                           (relative to each array's largest magnitude); prints
//                                           "<label>: N passed, M failed"
// The set: the README example (one Adam step of PackedDeformConv2d 64->64, batch 8, 32x32) in float32 and
// float64, and forward + input/weight/offset/mask gradients of deformConv1d, deformConv3d and
// deformConvTranspose2d in float64 with random offsets.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [mode, a, b, label = 'compute'] = process.argv.slice(2);

function encode(arr) {
  return {
    dtype: arr instanceof Float32Array ? 'float32' : 'float64',
    b64: Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64'),
  };
}
function decode(e) {
  const buf = Buffer.from(e.b64, 'base64');
  const Arr = e.dtype === 'float32' ? Float32Array : Float64Array;
  return new Arr(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

if (mode === 'run') {
  const t = await import(pathToFileURL(join(root, 'packages', 'tvdcn', 'dist', 'index.js')).href);
  const { readmeExample } = await import(pathToFileURL(join(root, 'examples', 'browser', 'readme-example.js')).href);
  const out = { backend: t.backendInfo().candidate, platform: `${process.platform}-${process.arch}`, results: {} };
  const put = (name, arr) => {
    out.results[name] = encode(arr);
  };
  for (const dtype of ['float32', 'float64']) {
    const r = readmeExample(dtype);
    put(`readme.${dtype}.loss`, dtype === 'float32' ? Float32Array.of(r.loss) : Float64Array.of(r.loss));
    for (const [k, v] of Object.entries(r)) if (typeof v !== 'number') put(`readme.${dtype}.${k}`, v);
  }
  const cases = [
    ['deformConv1d', [2, 4, 11], [6, 2, 3], [2, 2 * 1 * 3, 11], [2, 2 * 3, 11], { padding: 1, groups: 2 }],
    ['deformConv3d', [1, 2, 4, 5, 4], [3, 2, 2, 2, 2], [1, 3 * 8, 3, 4, 3], [1, 8, 3, 4, 3], {}],
    ['deformConvTranspose2d', [2, 4, 5, 6], [4, 3, 3, 3], [2, 2 * 9, 5, 6], [2, 9, 5, 6], { stride: 2, padding: 1 }],
  ];
  for (const [op, xs, ws, os, ms, opts] of cases) {
    t.manualSeed(42);
    const o = { dtype: 'float64', requiresGrad: true };
    const x = t.randn(xs, o);
    const w = t.randn(ws, o);
    const off = t.randn(os, o).mul(1.5).detach();
    off.requiresGrad = true;
    const m = t.randn(ms, o).sigmoid().detach();
    m.requiresGrad = true;
    const y = t[op](x, w, { offset: off, mask: m, ...opts });
    y.square().sum().backward();
    put(`${op}.output`, y.toTypedArray());
    put(`${op}.gradInput`, x.grad.toTypedArray());
    put(`${op}.gradWeight`, w.grad.toTypedArray());
    put(`${op}.gradOffset`, off.grad.toTypedArray());
    put(`${op}.gradMask`, m.grad.toTypedArray());
  }
  writeFileSync(a, JSON.stringify(out));
  console.log(`wrote ${Object.keys(out.results).length} results computed by ${out.backend} on ${out.platform} to ${a}`);
} else if (mode === 'compare') {
  const [x, y] = [a, b].map((f) => JSON.parse(readFileSync(f, 'utf8')));
  console.log(`comparing ${x.backend} (${x.platform}) with ${y.backend} (${y.platform})`);
  let passed = 0;
  let failed = 0;
  for (const [name, e] of Object.entries(y.results)) {
    const want = decode(e);
    const got = x.results[name] ? decode(x.results[name]) : new Float64Array();
    const tol = e.dtype === 'float32' ? 1e-5 : 1e-12;
    let scale = 0;
    let err = got.length === want.length ? 0 : Infinity;
    for (let i = 0; i < want.length && err !== Infinity; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      err = Math.max(err, Math.abs(got[i] - want[i]));
    }
    const rel = err / Math.max(scale, 1e-30);
    const ok = rel <= tol && Number.isFinite(rel);
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name} (${want.length} values): rel ${rel.toExponential(2)} <= ${tol}`);
    if (ok) passed++;
    else failed++;
  }
  console.log(`${label}: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
} else {
  console.error('usage: compute-check.mjs run OUT.json | compare A.json B.json [label]');
  process.exit(2);
}
