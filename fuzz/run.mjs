#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Runs the fuzzers (ops-fuzz.ts, files-fuzz.ts) in child processes, a chunk of cases per child, so that a
// crash (a signal, an abort) or a hang (no progress line for --hang-s seconds) is caught and reported
// with the chunk and the last case reached, and the run goes on with the next chunk.
//   node fuzz/run.mjs [--ops N] [--files N] [--seed S] [--chunk C] [--hang-s T] [--out summary.json]
// Defaults: 10^4 op calls and 10^3 file inputs (CI). `pnpm fuzz` runs 10^6 and 10^5.
// The addon is the CPU build of this checkout unless TVDCN_NATIVE_PATH names another (sanitizer builds).
// Ends with one line per fuzzer, "fuzz-ops: 1 passed, 0 failed", that CI's summary counts.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const counts = { ops: Number(opt('ops', 1e4)), files: Number(opt('files', 1e3)) };
const seed = Number(opt('seed', 1));
const chunk = Number(opt('chunk', 10000));
const hangMs = Number(opt('hang-s', 120)) * 1000;
const out = opt('out', null);
const addon = process.env.TVDCN_NATIVE_PATH || join(root, 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
if (!existsSync(addon)) {
  console.error(`[fuzz] no addon at ${addon}: build it first (TVDCN_CUDA=off npm run build)`);
  process.exit(2);
}

/** Runs cases [from, to) of one fuzzer in a child; resolves with its tally, or a crash/hang record. */
function runChunk(kind, from, to) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, `${kind}-fuzz.ts`),
        '--seed',
        String(seed),
        '--from',
        String(from),
        '--to',
        String(to),
      ],
      {
        cwd: root,
        env: { ...process.env, TVDCN_NATIVE_PATH: addon },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let last = from;
    let tally = null;
    let stderr = '';
    let hung = false;
    let timer = setTimeout(onHang, hangMs);
    function onHang() {
      hung = true;
      child.kill('SIGKILL');
    }
    let buffered = '';
    child.stdout.on('data', (data) => {
      buffered += data;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (line.startsWith('progress ')) {
          last = Number(line.slice(9));
          clearTimeout(timer);
          timer = setTimeout(onHang, hangMs);
        } else if (line.startsWith('{')) tally = JSON.parse(line);
      }
    });
    child.stderr.on('data', (data) => {
      stderr = (stderr + data).slice(-4000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (tally && code === 0) resolve({ tally });
      else
        resolve({
          failure: {
            kind: hung ? 'hang' : 'crash',
            from,
            to,
            lastProgress: last,
            code,
            signal,
            stderr: stderr.slice(-1500),
          },
        });
    });
  });
}

/** Cases between two progress lines of each fuzzer. */
const PROGRESS_EVERY = { ops: 1000, files: 100 };

const summary = { seed, addon, date: new Date().toISOString(), fuzzers: {} };
let failed = false;
for (const kind of ['ops', 'files']) {
  const n = counts[kind];
  if (!(n > 0)) continue;
  const total = {
    calls: 0,
    valid: 0,
    accepted: 0,
    rejected: 0,
    typedRejections: 0,
    untypedRejections: 0,
    invalidAccepted: 0,
    validRejected: 0,
    mismatches: 0,
    prototypeChanges: 0,
    crashes: 0,
    hangs: 0,
    examples: {},
    failures: [],
  };
  const t0 = Date.now();
  for (let from = 0; from < n; ) {
    const to = Math.min(n, from + chunk);
    const r = await runChunk(kind, from, to);
    if (r.tally) {
      for (const key of Object.keys(total))
        if (typeof total[key] === 'number' && typeof r.tally[key] === 'number') total[key] += r.tally[key];
      for (const [k, list] of Object.entries(r.tally.examples))
        total.examples[k] = [...(total.examples[k] ?? []), ...list].slice(0, 10);
      from = to;
    } else {
      total[r.failure.kind === 'hang' ? 'hangs' : 'crashes']++;
      total.failures.push(r.failure);
      console.error(
        `[fuzz] ${kind}: ${r.failure.kind} in cases [${r.failure.lastProgress}, ${Math.min(to, r.failure.lastProgress + PROGRESS_EVERY[kind])}) (signal ${r.failure.signal}, code ${r.failure.code})\n${r.failure.stderr}`,
      );
      // Skip the block of cases that failed (between two progress lines), keep going with the rest.
      from = Math.min(to, r.failure.lastProgress + PROGRESS_EVERY[kind]);
    }
    const s = (Date.now() - t0) / 1000;
    process.stderr.write(`[fuzz] ${kind}: ${from}/${n} cases, ${s.toFixed(0)} s, ${(from / s).toFixed(0)} calls/s\n`);
  }
  total.seconds = (Date.now() - t0) / 1000;
  total.callsPerSecond = Math.round(total.calls / total.seconds);
  total.typedRejectionPercent = total.rejected === 0 ? 100 : (100 * total.typedRejections) / total.rejected;
  summary.fuzzers[kind] = total;
  const bad =
    total.crashes +
    total.hangs +
    total.untypedRejections +
    total.invalidAccepted +
    total.validRejected +
    total.mismatches +
    total.prototypeChanges;
  if (bad > 0) failed = true;
  console.log(
    `[fuzz] ${kind}: ${total.calls} calls (${total.valid} valid, ${total.rejected} rejected), ${total.crashes} crashes, ${total.hangs} hangs, ` +
      `${total.typedRejectionPercent.toFixed(2)}% typed rejections, ${total.invalidAccepted} invalid accepted, ${total.validRejected} valid rejected, ` +
      `${total.mismatches} mismatches, ${total.prototypeChanges} prototype changes; ${total.seconds.toFixed(0)} s (${total.callsPerSecond} calls/s)`,
  );
  for (const [k, list] of Object.entries(total.examples)) for (const e of list) console.log(`  ${k}: ${e}`);
  console.log(`fuzz-${kind}: ${bad === 0 ? 1 : 0} passed, ${bad === 0 ? 0 : 1} failed`);
}
if (out) writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
process.exit(failed ? 1 : 0);
