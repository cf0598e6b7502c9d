#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The entry behind `npm run demo`, `npm test` and `npm run bench` on a fresh clone: makes sure pnpm
// 10.34.9 is on PATH (a local copy under .tools/ when the machine has none), installs the workspace,
// then hands over to turbo. Needs only Node 20 and npm.
//   node scripts/run.mjs demo|test|bench|build
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function pnpmOnPath() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensurePnpm() {
  if (pnpmOnPath() === pnpmVersion) return;
  const tools = join(root, '.tools');
  const bin = join(tools, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    console.log(`[tvdcn] installing pnpm ${pnpmVersion} into .tools/ (one time)`);
    const status = run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', tools, `pnpm@${pnpmVersion}`]);
    if (status !== 0) process.exit(status);
  }
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
  if (pnpmOnPath() !== pnpmVersion) {
    console.error(`[tvdcn] could not get pnpm ${pnpmVersion} onto PATH`);
    process.exit(1);
  }
}

const task = process.argv[2];
const tasks = {
  build: ['exec', 'turbo', 'run', 'build'],
  test: ['exec', 'turbo', 'run', 'test', '--output-logs=full', '--log-order=grouped', '--concurrency=1', '--continue'],
  demo: ['--filter', '@tvdcn/example-train-packed-deform-conv2d', 'start'],
  bench: ['--filter', '@tvdcn/bench', 'bench'],
};
if (!(task in tasks)) {
  console.error(`usage: node scripts/run.mjs ${Object.keys(tasks).join('|')}`);
  process.exit(2);
}
ensurePnpm();
let status = run('pnpm', ['install', '--frozen-lockfile']);
if (status !== 0) process.exit(status);
if (task === 'demo' || task === 'bench') {
  status = run('pnpm', ['exec', 'turbo', 'run', 'build']);
  if (status !== 0) process.exit(status);
}
status = run('pnpm', [...tasks[task], ...process.argv.slice(3)]);
if (task === 'test') {
  // The packages as users install them: packed, then installed with npm outside the workspace.
  const scenarios = run(process.execPath, [join(root, 'scripts', 'install-scenarios.mjs')]);
  status = status || scenarios;
}
process.exit(status);
