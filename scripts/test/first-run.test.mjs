// SPDX-License-Identifier: MIT
// Checks of what a new user meets first (issue 14): the prerequisite messages, the command lines of
// scripts/run.mjs, build-native.mjs and the demo, the CUDA build decision, and the grand-total line.
// Run by `npm test` (node --test scripts/test).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decideCuda, detectGpu } from '../../native/scripts/cuda-detect.mjs';
import { atLeast, missingPrerequisites, parseVersion } from '../lib/prerequisites.mjs';
import { isChatter, stripAnsi, summarize, totalLine } from '../lib/test-summary.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;

/** A PATH of one folder holding links to just these tools (from the real PATH), plus fake scripts. */
function fakePath(tools, scripts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tvdcn-path-'));
  for (const tool of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status === 0) symlinkSync(r.stdout.trim(), join(dir, tool));
  }
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

function runMjs(args, env = process.env) {
  return spawnSync(node, [join(root, 'scripts', 'run.mjs'), ...args], { encoding: 'utf8', env, cwd: root });
}

test('run.mjs --help prints the usage and exits 0', () => {
  const r = runMjs(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: node scripts\/run.mjs <task>/);
  assert.match(r.stdout, /demo .*\n.*\n\s+test /);
});

test('run.mjs rejects an unknown task and an unknown flag with the usage, exit 2', () => {
  const task = runMjs(['tset']);
  assert.equal(task.status, 2);
  assert.match(task.stderr, /unknown task 'tset'/);
  assert.match(task.stderr, /usage: node scripts\/run.mjs/);
  const flag = runMjs(['test', '--verbos']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /Unknown option '--verbos'/);
  assert.match(flag.stderr, /usage: node scripts\/run.mjs/);
});

test('run.mjs names each missing prerequisite in one line before doing anything', () => {
  // No cmake, make or compiler on PATH: three lines, exit 1, nothing installed or built.
  const bare = fakePath(['sh']);
  const r = runMjs(['build'], { ...process.env, PATH: bare, CXX: '' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /missing prerequisites/);
  assert.match(r.stderr, /- cmake 3\.18 or newer is needed .* `cmake` was not found on PATH/);
  assert.match(r.stderr, /- make \(or ninja\) is needed by cmake/);
  assert.match(r.stderr, /- a C\+\+17 compiler is needed .* none of c\+\+, g\+\+, clang\+\+ was found/);
  assert.doesNotMatch(r.stdout, /installed|building/);
  // cmake and make there, no compiler: only the compiler line.
  const noCxx = fakePath(['sh', 'cmake', 'make']);
  const r2 = runMjs(['build'], { ...process.env, PATH: noCxx, CXX: '' });
  assert.equal(r2.status, 1);
  assert.equal(r2.stderr.split('\n').filter((l) => l.startsWith('  - ')).length, 1, r2.stderr);
  assert.match(r2.stderr, /C\+\+17 compiler/);
});

test('missingPrerequisites: Node older than engines, cmake too old, CXX that does not run', () => {
  const path = fakePath(['sh', 'make', 'g++'], { cmake: 'echo "cmake version 3.10.2"' });
  const problems = missingPrerequisites({
    env: { PATH: path, CXX: '/nonexistent/c++' },
    nodeVersion: 'v20.11.1',
    engines: '>=20.19.0',
  });
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0], /^Node 20\.19\.0 or newer is needed, but this is Node v20\.11\.1/);
  assert.match(problems[1], /cmake 3\.18 or newer is needed, but `cmake --version` says cmake version 3\.10\.2/);
  assert.match(problems[2], /CXX=\/nonexistent\/c\+\+ does not run/);
  assert.deepEqual(
    missingPrerequisites({
      env: { PATH: fakePath(['sh', 'make', 'g++'], { cmake: 'echo cmake version 3.31.6' }) },
      nodeVersion: 'v22.1.0',
      engines: '>=20.19.0',
    }),
    [],
  );
  assert.deepEqual(parseVersion('cmake version 3.25.1'), [3, 25, 1]);
  assert.equal(atLeast([20, 19, 0], [20, 19, 0]), true);
  assert.equal(atLeast([20, 18, 9], [20, 19, 0]), false);
});

test('TVDCN_CUDA=auto builds the CUDA variant only with nvcc and a usable GPU; on always; off never', () => {
  const nvcc = join(fakePath([]), 'nvcc-fake');
  writeFileSync(nvcc, '');
  const noDriver = fakePath(['sh'], {
    'nvidia-smi': 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9',
  });
  const gpu = fakePath(['sh'], { 'nvidia-smi': 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)"' });
  const empty = fakePath(['sh']);
  const noProc = join(empty, 'no-such-proc-dir');

  const a = decideCuda({ PATH: noDriver, CUDACXX: nvcc, TVDCN_CUDA: 'auto' });
  assert.equal(a.build, false);
  assert.match(a.why, /nvcc found, but nvidia-smi found no usable GPU \(NVIDIA-SMI has failed/);
  const b = decideCuda({ PATH: gpu, CUDACXX: nvcc });
  assert.equal(b.build, true);
  assert.match(b.why, /1 GPU\(s\) listed by nvidia-smi/);
  assert.deepEqual(detectGpu({ PATH: empty, TVDCN_PROC_NVIDIA_GPUS: noProc }), {
    usable: false,
    why: 'no NVIDIA driver (nvidia-smi not found)',
  });
  const procWithGpu = mkdtempSync(join(tmpdir(), 'tvdcn-proc-'));
  mkdirSync(join(procWithGpu, '0000:01:00.0'));
  assert.equal(detectGpu({ PATH: empty, TVDCN_PROC_NVIDIA_GPUS: procWithGpu }).usable, true);
  const on = decideCuda({ PATH: noDriver, CUDACXX: nvcc, TVDCN_CUDA: 'on' });
  assert.equal(on.build, true);
  assert.equal(decideCuda({ PATH: gpu, CUDACXX: nvcc, TVDCN_CUDA: 'off' }).build, false);
  assert.match(decideCuda({ TVDCN_CUDA: 'yes' }).error, /TVDCN_CUDA must be on, off or auto, but got yes/);
});

test('build-native.mjs: strict arguments with --help', () => {
  const script = join(root, 'native', 'scripts', 'build-native.mjs');
  const help = spawnSync(node, [script, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--verbose/);
  const bad = spawnSync(node, [script, '--verbse'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--verbse'[\s\S]*usage:/);
});

test('the demo: --help, and a misspelt flag stops it with the usage (it never trains on the wrong device)', () => {
  const dir = join(root, 'examples', 'train-packed-deform-conv2d');
  const tsx = join(dir, 'node_modules', '.bin', 'tsx');
  const help = spawnSync(tsx, ['src/index.ts', '--help'], { cwd: dir, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--device D\s+cpu, cuda or cuda:N/);
  const typo = spawnSync(tsx, ['src/index.ts', '--devce', 'cuda'], { cwd: dir, encoding: 'utf8' });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^demo: Unknown option '--devce'/);
  assert.match(typo.stderr, /usage: npm run demo/);
  assert.doesNotMatch(typo.stdout, /training demo/);
  const steps = spawnSync(tsx, ['src/index.ts', '--steps', '0'], { cwd: dir, encoding: 'utf8' });
  assert.equal(steps.status, 2);
  assert.match(steps.stderr, /--steps: expected an integer from 1 to \d+, but got '0'/);
});

test('summarize: one total over vitest, node:test and our own count lines, colours and turbo prefixes removed', () => {
  const log = [
    '@tvdcn/shape:test: \x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m120 passed\x1b[39m\x1b[22m\x1b[90m (120)\x1b[39m',
    '@tvdcn/ops:test:       Tests  3 failed | 400 passed | 2 skipped (405)',
    '@tvdcn/native-src:test: native: 1 passed, 0 failed',
    'install-scenarios: 4 passed, 1 failed',
    'ℹ pass 8',
    'ℹ fail 0',
    '12 passed, 0 failed',
    'Test Files  5 passed (5)',
  ].join('\n');
  const s = summarize(log);
  assert.deepEqual(s, { passed: 120 + 400 + 1 + 4 + 8, failed: 4, skipped: 2, suites: 5 });
  assert.equal(totalLine(s), '533 passed, 4 failed, 2 skipped');
  assert.equal(totalLine({ passed: 3, failed: 0, skipped: 0 }), '3 passed, 0 failed');
  assert.equal(stripAnsi('\x1b[1m\x1b[32mok\x1b[39m\x1b[22m'), 'ok');
});

test('every script that takes arguments: --help exits 0, an unknown flag exits 2 with the usage', () => {
  for (const script of [
    'native/scripts/build-native.mjs',
    'native/scripts/copy-binary.mjs',
    'native/scripts/bench-quick.mjs',
    'scripts/gpu/compare-losses.mjs',
    'scripts/build/esm-over-cjs.mjs',
    'scripts/sync-package-metadata.mjs',
  ]) {
    const help = spawnSync(node, [join(root, script), '--help'], { encoding: 'utf8', cwd: root });
    assert.equal(help.status, 0, `${script} --help: ${help.stderr}`);
    assert.match(help.stdout, /^usage: /, script);
    const bad = spawnSync(node, [join(root, script), '--no-such-flag'], { encoding: 'utf8', cwd: root });
    assert.equal(bad.status, 2, `${script} --no-such-flag`);
    assert.match(bad.stderr, /Unknown option '--no-such-flag'[\s\S]*usage: /, script);
  }
});

test('the benchmarks (TypeScript, run by tsx): --help exits 0, an unknown flag exits 2 with the usage', () => {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  for (const script of ['bench/src/run.ts', 'bench/src/wasm.ts']) {
    const help = spawnSync(tsx, [join(root, script), '--help'], { encoding: 'utf8', cwd: root });
    assert.equal(help.status, 0, `${script} --help: ${help.stderr}`);
    assert.match(help.stdout, /^usage: /, script);
    const bad = spawnSync(tsx, [join(root, script), '--no-such-flag'], { encoding: 'utf8', cwd: root });
    assert.equal(bad.status, 2, `${script} --no-such-flag`);
    assert.match(bad.stderr, /Unknown option '--no-such-flag'[\s\S]*usage: /, script);
  }
});

test('isChatter: turbo and pnpm chatter is hidden from the test run, suite output is not', () => {
  for (const line of [
    'tvdcn:test: cache bypass, force executing c7aa8f880a251446',
    '@tvdcn/ops:test: > @tvdcn/ops@0.1.0 test /x/packages/ops',
    '@tvdcn/ops:test: > vitest run',
    '@tvdcn/ops:test: ',
    '• Packages in scope: @tvdcn/bench, @tvdcn/ops',
    '• Running test in 11 packages',
    '   • turbo 2.11.11',
    '   • Remote caching disabled',
    '@tvdcn/shape:build: cache hit, suppressing logs e53fe74a80a3bdc7',
    'turbo 2.11.11',
    ' Tasks:    11 successful, 11 total',
    'Cached:    0 cached, 11 total',
    '  Time:    5m0.001s ',
  ])
    assert.equal(isChatter(line), true, line);
  for (const line of [
    '@tvdcn/ops:test:       Tests  400 passed (400)',
    '@tvdcn/ops:test:  ✓ test/ops/tensor-inspect.test.ts (9 tests) 55ms',
    '@tvdcn/native-src:test: native: 1 passed, 0 failed',
    '  ✓ (c) import and require in one program share one instance (one Tensor class, one runtime)',
    'ℹ pass 10',
    'install-scenarios: 15 passed, 0 failed',
  ])
    assert.equal(isChatter(line), false, line);
});
