#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The entry behind `npm run demo`, `npm test`, `npm run bench` and `npm run build` on a fresh clone:
// checks the prerequisites (Node, cmake, make, a C++ compiler), makes sure pnpm (the version of
// package.json's packageManager) is on PATH (a local copy under .tools/ when the machine has none),
// installs the workspace, builds it through turbo, then runs the task. Quiet: the install and build print
// one line each, and their full output only when they fail (or with --verbose). `test` ends with one
// grand-total line, "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decideCuda } from '../native/scripts/cuda-detect.mjs';
import { missingPrerequisites } from './lib/prerequisites.mjs';
import { isChatter, stripAnsi, summarize, totalLine } from './lib/test-summary.mjs';

const usage = `usage: node scripts/run.mjs <task> [options]   (npm run demo | npm test | npm run bench | npm run build)

tasks:
  demo    install, build, then train the example layer (examples/train-packed-deform-conv2d);
          arguments after "demo" go to the demo: npm run demo -- --help lists them
  test    install, build, then every test suite; ends with one "N passed, N failed" line
  bench   install, build, then the CPU benchmark (bench/); npm run bench -- --help lists its options
  build   install and build everything (cached by turbo: a second run rebuilds nothing)
  install install pnpm (if needed) and the workspace only

options of test, build and install:
  --verbose   show the full install and build output (default: only when a step fails)
  -h, --help  this text

environment: TVDCN_CUDA=auto|on|off (auto: build the CUDA variant only when nvcc and a GPU are there)`;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = rootPkg.packageManager.split('@')[1];
const tty = Boolean(process.stdout.isTTY);
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  // Children write into pipes: colour only when our own output is a terminal.
  ...(tty ? (process.env.NO_COLOR ? {} : { FORCE_COLOR: '1' }) : { NO_COLOR: '1', FORCE_COLOR: '0' }),
};

const say = (line) => console.log(`[tvdcn] ${line}`);
const fail = (line, code = 1) => {
  console.error(`[tvdcn] ${line}`);
  process.exit(code);
};

// ---------------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2);
const tasks = ['demo', 'test', 'bench', 'build', 'install'];
if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
  console.log(usage);
  process.exit(argv.length === 0 ? 2 : 0);
}
const task = argv[0];
if (!tasks.includes(task)) {
  console.error(`[tvdcn] unknown task '${task}'\n\n${usage}`);
  process.exit(2);
}
let verbose = false;
let passThrough = [];
if (task === 'demo' || task === 'bench') {
  passThrough = argv.slice(1).filter((a, i) => !(i === 0 && a === '--'));
} else {
  try {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: { verbose: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
    verbose = values.verbose;
  } catch (e) {
    console.error(`[tvdcn] ${task}: ${e.message}\n\n${usage}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------------
// Steps

/** Runs a command with its output captured; prints it only on failure (or with --verbose). */
function quiet(label, cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) fail(`${label}: could not run ${cmd}: ${r.error.message}`);
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    if (!verbose) process.stderr.write(tty ? out : stripAnsi(out));
    fail(
      `${label} failed (exit ${r.status ?? r.signal}): ${cmd} ${args.join(' ')}; its output is above`,
      r.status ?? 1,
    );
  }
  return { out: stripAnsi(out), seconds: (performance.now() - t0) / 1000 };
}

/**
 * Runs a command, copying its output to ours line by line as it comes (colour codes removed when not a
 * TTY, turbo/pnpm chatter dropped: isChatter); returns the status and the full text.
 */
function streamed(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let lastTask = null;
    let lastBlank = false;
    const forward = (to) => {
      let partial = '';
      const show = (line) => {
        const plain = stripAnsi(line);
        if (isChatter(plain)) return;
        // A blank line between two tasks' blocks (turbo prefixes each line with "<package>:<task>: ").
        const task = /^(\S+:[\w-]+): /.exec(plain)?.[1] ?? null;
        const blank = plain.trim() === '';
        if (blank && lastBlank) return; // one blank line at most
        if (task !== null && lastTask !== null && task !== lastTask && !lastBlank) to.write('\n');
        if (task !== null) lastTask = task;
        lastBlank = blank;
        to.write(`${tty ? line : plain}\n`);
      };
      return {
        data: (chunk) => {
          const s = chunk.toString('utf8');
          text += s;
          const lines = (partial + s).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) show(line);
        },
        end: () => {
          if (partial !== '') show(partial);
          partial = '';
        },
      };
    };
    const out = forward(process.stdout);
    const err = forward(process.stderr);
    child.stdout.on('data', out.data);
    child.stderr.on('data', err.data);
    const done = (status, extra = '') => {
      out.end();
      err.end();
      resolve({ status, text: text + extra });
    };
    child.on('error', (e) => done(1, `\n${e.message}`));
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

function pnpmOnPath() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensurePnpm() {
  const tools = join(root, '.tools');
  const bin = join(tools, 'node_modules', '.bin');
  if (pnpmOnPath() === pnpmVersion) return;
  if (!existsSync(join(bin, 'pnpm'))) {
    say(`installing pnpm ${pnpmVersion} into .tools/ (one time)`);
    quiet('installing pnpm', 'npm', [
      'install',
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--prefix',
      tools,
      `pnpm@${pnpmVersion}`,
    ]);
  }
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
  if (pnpmOnPath() !== pnpmVersion) fail(`could not get pnpm ${pnpmVersion} onto PATH`);
}

const problems = missingPrerequisites({
  env,
  engines: rootPkg.engines.node,
  needNpm: pnpmOnPath() !== pnpmVersion && !existsSync(join(root, '.tools', 'node_modules', '.bin', 'pnpm')),
});
if (problems.length > 0) {
  console.error('[tvdcn] missing prerequisites (README.md, "Quick start"):');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

// Resolve TVDCN_CUDA=auto here, so that turbo's cache key of the native build says whether it has the
// CUDA variant (a machine with nvcc but no GPU does not build it; CI sets TVDCN_CUDA=on).
const cuda = decideCuda(env);
if (cuda.error) fail(cuda.error, 2);
if (['', 'auto'].includes((env.TVDCN_CUDA ?? '').trim().toLowerCase())) env.TVDCN_CUDA = cuda.build ? 'on' : 'off';

ensurePnpm();
{
  const { seconds } = quiet('pnpm install', 'pnpm', ['install', '--frozen-lockfile', '--reporter=append-only']);
  say(`workspace installed (pnpm install --frozen-lockfile, ${seconds.toFixed(0)} s)`);
}
if (task === 'install') process.exit(0);
{
  const firstTime = !existsSync(join(root, 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node'));
  say(
    `building (turbo run build; CUDA variant: ${cuda.build ? 'yes' : 'no'}, ${cuda.why})` +
      (firstTime ? `; the native addon takes ${cuda.build ? '5-10' : '2-4'} minutes the first time` : ''),
  );
  const { out, seconds } = quiet('the build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=new-only']);
  const total = /Tasks:\s+\d+ successful, (\d+) total/.exec(out)?.[1] ?? '?';
  const cached = /Cached:\s+(\d+) cached/.exec(out)?.[1] ?? '?';
  for (const line of out.split('\n')) {
    const m = /\[tvdcn native\].*/.exec(line);
    // (its "CUDA variant not built" line repeats the reason printed above)
    if (m && !verbose && !m[0].includes('CUDA variant not built')) console.log(`  ${m[0]}`);
  }
  say(`built in ${seconds.toFixed(0)} s (${total} turbo tasks, ${cached} of them from its cache)`);
}

if (task === 'build') process.exit(0);
if (task === 'demo' || task === 'bench') {
  const pkg = task === 'demo' ? '@tvdcn/example-train-packed-deform-conv2d' : '@tvdcn/bench';
  const script = task === 'demo' ? 'start' : 'bench';
  const r = spawnSync('pnpm', ['--silent', '--filter', pkg, 'run', script, ...passThrough], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

// test: every package's suite (turbo), the packages as users install them, and the scripts' own checks.
let status = 0;
let text = '';
for (const [label, cmd, args] of [
  [
    'package suites',
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--output-logs=new-only', '--log-order=grouped', '--concurrency=1', '--continue'],
  ],
  ['install scenarios', process.execPath, [join(root, 'scripts', 'install-scenarios.mjs')]],
  ['script checks', process.execPath, ['--test', '--test-reporter=spec', join(root, 'scripts', 'test')]],
]) {
  console.log(`\n[tvdcn] ${label}`);
  const r = await streamed(cmd, args);
  text += `${r.text}\n`;
  if (r.status !== 0) status = r.status;
}
const totals = summarize(text);
if (status !== 0 && totals.failed === 0) {
  // A step failed without a count line of its own (a crash, a build error): count it as one failure,
  // in a count line of its own so that a sum over this log (CI's) agrees.
  console.log('\nuncounted: 0 passed, 1 failed (a step failed without a count line of its own: see above)');
  totals.failed = 1;
}
console.log(`\n${totalLine(totals)}`);
process.exit(status);
