#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Compares training-loss curves written by the demo's `--losses <file>` (examples/train-packed-deform-conv2d):
// the first file is the reference (the CPU run), every other one is compared with it step by step.
// Prints, per curve, the relative difference |loss - ref| / |ref| at about a dozen steps, the running
// maximum up to each of them (how the drift grows), the largest difference and its step, and first/last
// losses; writes the same as JSON to --json <file> when given. Plain Node, no dependencies.
//   node compare-losses.mjs losses-cpu.json losses-cuda.json [...] [--json summary.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const usage = 'usage: compare-losses.mjs <reference.json> <other.json> [...] [--json summary.json]';
let files;
let jsonOut;
try {
  const { values, positionals } = parseArgs({
    options: { json: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  files = positionals;
  jsonOut = values.json ?? null;
} catch (e) {
  console.error(`compare-losses: ${e.message}\n${usage}`);
  process.exit(2);
}
if (files.length < 2) {
  console.error(`compare-losses: expected at least two loss files, but got ${files.length}\n${usage}`);
  process.exit(2);
}

const read = (f) => {
  const r = JSON.parse(readFileSync(f, 'utf8'));
  if (!Array.isArray(r.losses)) throw new Error(`${f}: expected { losses: number[] }`);
  return { file: f, label: `${r.device}${r.fp32Matmul ? ` ${r.fp32Matmul}` : ''}`, ...r };
};
const [ref, ...others] = files.map(read);
const fmt = (x) => (Number.isFinite(x) ? x.toExponential(2) : String(x));

const summary = {
  reference: { file: ref.file, label: ref.label, steps: ref.losses.length, seconds: ref.seconds },
  curves: [],
};
for (const c of others) {
  const n = Math.min(ref.losses.length, c.losses.length);
  const rel = Array.from({ length: n }, (_, i) => Math.abs(c.losses[i] - ref.losses[i]) / Math.abs(ref.losses[i]));
  let worst = 0;
  let worstStep = 0;
  const running = rel.map((r, i) => {
    if (!(r <= worst)) {
      worst = r;
      worstStep = i + 1;
    }
    return worst;
  });
  // About a dozen steps, denser at the start: 1, 2, 5, 10, 20, 50, ... and the last.
  const marks = [];
  for (let m = 1; m <= n; m *= 10) for (const k of [1, 2, 5]) if (m * k <= n) marks.push(m * k);
  if (marks[marks.length - 1] !== n) marks.push(n);
  console.log(
    `\n${c.label} vs ${ref.label} (${n} steps${n !== ref.losses.length || n !== c.losses.length ? ', lengths differ' : ''}):`,
  );
  console.log('   step   loss (ref)    loss        rel. diff   max rel. diff so far');
  for (const s of marks) {
    const i = s - 1;
    console.log(
      `  ${String(s).padStart(5)}   ${ref.losses[i].toExponential(4)}   ${c.losses[i].toExponential(4)}   ${fmt(rel[i]).padStart(9)}   ${fmt(running[i])}`,
    );
  }
  const finite = c.losses.every(Number.isFinite);
  console.log(
    `  max relative difference ${fmt(worst)} at step ${worstStep}; final losses ${ref.losses[n - 1].toExponential(4)} (ref) ` +
      `vs ${c.losses[n - 1].toExponential(4)}; ${finite ? 'all finite' : 'NON-FINITE LOSSES'}` +
      (c.seconds !== undefined && ref.seconds !== undefined
        ? `; ${c.seconds.toFixed(2)} s vs ${ref.seconds.toFixed(2)} s`
        : ''),
  );
  summary.curves.push({
    file: c.file,
    label: c.label,
    steps: n,
    seconds: c.seconds,
    maxRelDiff: worst,
    maxRelDiffStep: worstStep,
    finalLoss: c.losses[n - 1],
    referenceFinalLoss: ref.losses[n - 1],
    allFinite: finite,
    relDiffAt: Object.fromEntries(marks.map((s) => [s, rel[s - 1]])),
    maxRelDiffUpTo: Object.fromEntries(marks.map((s) => [s, running[s - 1]])),
    relDiffPerStep: rel,
  });
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(summary, null, 1)}\n`);
