// SPDX-License-Identifier: MIT
// CI smoke test of the inference server: starts it in this process on a free port, posts a few inputs and
// checks each reply against a direct forward of the same model (one at a time and 8 at once); checks that a
// malformed body gets a 400; the load test's ratio statistics on values worked out by hand; and one second of
// the load test itself (its own server process, the queued mode, one connection).
// Ends with one "http-inference-smoke: N passed, N failed" line.
import { INPUT_CHW, loadModel } from './model.js';
import { median, medianInterval, signTestP } from './ratio-stats.js';
import { startServer } from './server.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from 'tvdcn';

/** What the smoke test reads of a load-test row (src/loadtest.ts writes more). */
interface LoadRow {
  requestsPerSecond: number;
  errors: number;
  cpu: { faultsPerSecond: number } | null;
}

/** POSTs `body` in two chunks with Transfer-Encoding: chunked (no Content-Length); the status and reply. */
function postChunked(url: string, body: Buffer): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    const cut = 12_345; // not a multiple of 4: the server must reassemble the floats
    req.write(body.subarray(0, cut));
    req.end(body.subarray(cut));
  });
}

const { server, port } = await startServer(0);
const url = `http://127.0.0.1:${port}`;
const reference = loadModel();
const [c, h, w] = INPUT_CHW;
let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

try {
  for (const [n, seed] of [
    [1, 1],
    [2, 2],
    [1, 3],
  ] as const) {
    const input = new Float32Array(n * c * h * w);
    for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.013 * seed + seed);
    const res = await fetch(`${url}/predict`, { method: 'POST', body: Buffer.from(input.buffer) });
    const got = new Float32Array(await res.arrayBuffer());
    const expected = reference.layer.forward(tensor(input, { shape: [n, c, h, w] }));
    const want = expected.toTypedArray();
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    const shapeOk = res.headers.get('x-shape') === expected.shape.join(',');
    check(
      `POST /predict (${n} image${n > 1 ? 's' : ''}) equals a direct forward`,
      res.status === 200 && got.length === want.length && shapeOk && maxDiff <= 1e-5,
      `status ${res.status}, ${got.length} values, shape ${res.headers.get('x-shape')}, max |diff| ${maxDiff}`,
    );
  }
  {
    const input = new Float32Array(c * h * w);
    for (let i = 0; i < input.length; i++) input[i] = Math.cos(i * 0.021);
    const { status, bytes } = await postChunked(`${url}/predict`, Buffer.from(input.buffer));
    const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const want = reference.layer.forward(tensor(input, { shape: [1, c, h, w] })).toTypedArray();
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    check(
      'POST /predict with a chunked body (no Content-Length) equals a direct forward',
      status === 200 && got.length === want.length && maxDiff <= 1e-5,
      `status ${status}, ${got.length} values, max |diff| ${maxDiff}`,
    );
  }
  {
    // Concurrent requests, each with its own input: their bodies and the library's arrays are reused from
    // request to request (disposed tensors, recycled bodies) while others' work is still queued.
    const inputs = Array.from({ length: 8 }, (_, k) => {
      const input = new Float32Array(c * h * w);
      for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.007 * (k + 1) - k);
      return input;
    });
    const replies = await Promise.all(
      inputs.map(async (input) => {
        const res = await fetch(`${url}/predict`, { method: 'POST', body: Buffer.from(input.buffer) });
        return { status: res.status, got: new Float32Array(await res.arrayBuffer()) };
      }),
    );
    let maxDiff = 0;
    let ok = true;
    for (const [k, input] of inputs.entries()) {
      const want = reference.layer.forward(tensor(input, { shape: [1, c, h, w] })).toTypedArray();
      const { status, got } = replies[k];
      ok &&= status === 200 && got.length === want.length;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    }
    check(
      '8 concurrent POST /predict each equal a direct forward of their own input',
      ok && maxDiff <= 1e-5,
      `max |diff| ${maxDiff}`,
    );
  }
  const bad = await fetch(`${url}/predict`, { method: 'POST', body: Buffer.alloc(12) });
  check('a malformed body gets 400 with a message', bad.status === 400 && /float32/.test(await bad.text()));
  const stats = (await (await fetch(`${url}/stats`)).json()) as {
    served: number;
    eventLoopDelayMs: { max: number };
    gc: { minor: { count: number }; major: { count: number } };
  };
  check('GET /stats counts the requests', stats.served === 12, JSON.stringify(stats));
  check(
    'GET /stats counts garbage collections',
    Number.isInteger(stats.gc?.minor?.count) && Number.isInteger(stats.gc?.major?.count),
    JSON.stringify(stats.gc),
  );
  // The load test's statistics of per-round ratios (ratio-stats.ts), on values worked out by hand.
  const ratios = [0.9, 1.1, 1.05, 0.97, 1.2, 1.02];
  const [low, high] = medianInterval(ratios);
  check(
    "the load test's ratio statistics",
    median([3, 1, 2]) === 2 &&
      Math.abs(median(ratios) - 1.035) < 1e-12 &&
      signTestP(6, 6) === 1 / 64 &&
      signTestP(0, 6) === 1 &&
      Math.abs(signTestP(4, 6) - 22 / 64) < 1e-15 &&
      low >= 0.9 &&
      low <= median(ratios) &&
      high >= median(ratios) &&
      high <= 1.2 &&
      medianInterval(ratios).join() === [low, high].join(),
    `median ${median(ratios)}, interval [${low}, ${high}], p(4 of 6) ${signTestP(4, 6)}`,
  );
  // The load test, briefly: its server starts with the settings it prints, serves, and the row is complete.
  const dir = mkdtempSync(join(tmpdir(), 'http-inference-smoke-'));
  try {
    const json = join(dir, 'loadtest.json');
    const loadtest = fileURLToPath(new URL('loadtest.ts', import.meta.url));
    const args = ['--modes', 'queue', '--connections', '1', '--duration', '1', '--warmup', '0', '--json', json];
    const r = spawnSync(process.execPath, ['--import', 'tsx', loadtest, ...args], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    const out = r.status === 0 ? (JSON.parse(readFileSync(json, 'utf8')) as { rows: LoadRow[] }) : { rows: [] };
    const row = out.rows[0];
    check(
      'the load test runs (1 s, queued, 1 connection)',
      r.status === 0 &&
        out.rows.length === 1 &&
        row !== undefined &&
        row.requestsPerSecond > 0 &&
        row.errors === 0 &&
        /their node flags: --initial-heap-size=128/.test(r.stdout) &&
        (process.platform !== 'linux' || (row.cpu !== null && Number.isInteger(row.cpu.faultsPerSecond))),
      r.status === 0 ? JSON.stringify(row) : `exit ${r.status}: ${r.stderr.slice(-2000)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} catch (e) {
  check('the server answers', false, String(e));
} finally {
  server.close();
}
console.log(`http-inference-smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
