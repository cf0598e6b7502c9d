#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Headless Chromium (Debian's `chromium`, driven by playwright-core) against the WebAssembly backend:
//  1. readme.html runs the README example (one Adam step of a PackedDeformConv2d 64->64, batch 8, 32x32)
//     in float32 and float64; loss, output and the three weight gradients (and in float64 the weight after
//     the step) are compared with the same code run here in Node on the native CPU binary (fp32: 1e-5,
//     fp64: 1e-12, relative to each tensor's largest magnitude). Twice: served with COOP/COEP (the page is
//     cross-origin isolated: tvdcn-threads.wasm on navigator.hardwareConcurrency Web Workers) and without
//     (tvdcn.wasm, one thread); the two runs must agree bit for bit (the kernels' results do not depend on
//     the thread count).
//  2. index.html (the image demo, cross-origin isolated) finishes, its deformed image differs from the
//     input and is not blank; a screenshot goes to examples/browser/out/deform.png.
// Ends with "browser: N passed, M failed". Skips (exit 0, saying why) without Chromium or a wasm build.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const wasmFile = join(root, 'packages', 'bin-wasm32', 'bin', 'tvdcn-threads.wasm');
for (const [ok, why] of [
  [existsSync(chromiumPath), `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`],
  [existsSync(wasmFile), `no WebAssembly build at ${wasmFile} (node scripts/platforms/build-cross.mjs wasm32)`],
]) {
  if (!ok) {
    console.log(`browser: skipped: ${why}`);
    process.exit(0);
  }
}

let passed = 0;
let failed = 0;
const check = (ok, what) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (ok) passed++;
  else failed++;
};

/** max |a - b| / max(1e-30, max |b|), the error measure of the comparison. */
function relErr(a, b) {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return a.length === b.length ? err / Math.max(scale, 1e-30) : Infinity;
}

// Native reference, in this process.
process.env.TVDCN_BACKEND = 'cpu';
const { backendInfo } = await import('tvdcn');
const { readmeExample } = await import('../readme-example.js');
const reference = {};
for (const dtype of ['float32', 'float64']) {
  const t0 = performance.now();
  reference[dtype] = readmeExample(dtype);
  reference[dtype].ms = performance.now() - t0;
}
const nativeInfo = backendInfo();
check(nativeInfo.binary === 'native', `the Node reference ran on a native binary (${nativeInfo.candidate})`);

const { chromium } = await import('playwright-core');
const { startServer } = await import('../serve.mjs');
const servers = { isolated: await startServer(0), plain: await startServer(0, { isolated: false }) };
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const errors = [];
  const results = {};
  for (const [scenario, server] of Object.entries(servers)) {
    const isolated = scenario === 'isolated';
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/examples/browser/readme.html`);
    await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 120_000 });
    const backend = await page.evaluate(() => window.backend);
    const wasm = backend.wasm;
    console.log(`  ${scenario}: ${JSON.stringify(wasm)}`);
    check(
      backend.binary === 'wasm' && backend.candidate === '@tvdcn/wasm32' && backend.isolated === isolated,
      `${scenario}: the page runs on ${backend.candidate} (${backend.binary}); cross-origin isolated: ${backend.isolated}`,
    );
    if (isolated) {
      check(
        wasm?.variant === 'threads' && wasm.numThreads > 1 && wasm.runningWorkers === wasm.numThreads - 1,
        `${scenario}: tvdcn-threads.wasm with ${wasm?.numThreads} threads, ${wasm?.runningWorkers} Web Workers running`,
      );
    } else {
      check(
        wasm?.variant === 'single' && wasm.numThreads === 1 && /not cross-origin isolated/.test(wasm.reason),
        `${scenario}: tvdcn.wasm on one thread, saying why (${wasm?.reason.slice(0, 60)}...)`,
      );
    }
    results[scenario] = {};
    for (const [dtype, tol] of [
      ['float32', 1e-5],
      ['float64', 1e-12],
    ]) {
      const r = await page.evaluate((d) => window.runReadme(d), dtype);
      results[scenario][dtype] = r;
      const ref = reference[dtype];
      const Arr = dtype === 'float32' ? Float32Array : Float64Array;
      const decode = (str) => {
        const b = Buffer.from(str, 'base64');
        return new Arr(b.buffer, b.byteOffset, b.byteLength / Arr.BYTES_PER_ELEMENT);
      };
      console.log(
        `  ${scenario}: README example ${dtype}: Chromium/wasm (${wasm?.numThreads} thread(s)) ${r.ms.toFixed(0)} ms, ` +
          `Node/native ${ref.ms.toFixed(0)} ms`,
      );
      const lossErr = Math.abs(r.loss - ref.loss) / Math.abs(ref.loss);
      check(
        lossErr <= tol,
        `${scenario}: ${dtype} loss ${r.loss} vs ${ref.loss} (rel ${lossErr.toExponential(2)} <= ${tol})`,
      );
      // The weight after Adam's first step is compared in float64 only: that step is lr * g / (|g| + eps)
      // elementwise, which turns float32 rounding of gradients near zero into changes of up to lr (measured:
      // 7.7e-5 of the largest weight), a property of Adam, not of the kernels.
      const keys = ['output', 'gradWeight', 'gradOffsetGenerator', 'gradMaskGenerator'];
      if (dtype === 'float64') keys.push('weightAfterStep');
      for (const k of keys) {
        const e = relErr(decode(r[k]), ref[k]);
        check(e <= tol, `${scenario}: ${dtype} ${k} (${ref[k].length} values): rel ${e.toExponential(2)} <= ${tol}`);
      }
    }
    await page.close();
  }
  for (const dtype of ['float32', 'float64']) {
    const [a, b] = [results.isolated[dtype], results.plain[dtype]];
    const keys = Object.keys(a).filter((k) => k !== 'ms');
    const same = keys.filter((k) => a[k] === b[k]);
    check(
      same.length === keys.length,
      `${dtype}: threads and one thread agree bit for bit (${same.length}/${keys.length}: ${keys.join(', ')})`,
    );
  }
  check(errors.length === 0, `no page errors (${errors.join('; ') || 'none'})`);

  const demo = await browser.newPage({ viewport: { width: 720, height: 600 } });
  demo.on('pageerror', (e) => errors.push(e.message));
  await demo.goto(`${servers.isolated.url}/examples/browser/`);
  await demo.waitForSelector('body[data-done]', { state: 'attached', timeout: 120_000 });
  const state = await demo.evaluate(() => {
    const px = (id) => document.getElementById(id).getContext('2d').getImageData(0, 0, 128, 128).data;
    const a = px('input');
    const b = px('output');
    let changed = 0;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 24) changed++;
      lo = Math.min(lo, b[i], b[i + 1], b[i + 2]);
      hi = Math.max(hi, b[i], b[i + 1], b[i + 2]);
    }
    return {
      done: document.body.dataset.done,
      changed: changed / (a.length / 4),
      lo,
      hi,
      status: document.getElementById('status').textContent,
    };
  });
  console.log(`  demo: ${state.status.replace(/\n/g, ' | ')}`);
  check(state.done === '1', 'the image demo finished');
  check(
    state.changed > 0.05 && state.changed < 0.95,
    `the deformed image differs from the input in ${(100 * state.changed).toFixed(1)}% of pixels`,
  );
  check(state.hi - state.lo > 100, `the deformed image has contrast (${state.lo}..${state.hi})`);
  const out = join(here, '..', 'out');
  mkdirSync(out, { recursive: true });
  await demo.screenshot({ path: join(out, 'deform.png') });
  console.log(`  screenshot: ${join(out, 'deform.png')}`);
} finally {
  await browser.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
