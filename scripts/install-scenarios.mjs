#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Install scenarios as users meet them: pack the packages, install them with npm into fresh directories
// outside the workspace, and run real work there.
//   (a) only @tvdcn/ops: a deformConv2d forward and backward;
//   (b) tvdcn: one PackedDeformConv2d training step;
//   (c) import and require of @tvdcn/ops and tvdcn in one program: one instance of each (dual packages);
//   (d) where the CUDA variant was built and no GPU is usable (CI): the CUDA package installed, and a CUDA
//       request naming that cause;
//   (e) when @tvdcn/wasm32 is built (scripts/platforms/build-cross.mjs wasm32): @tvdcn/ops without its
//       native package, as on a platform that has none: the WebAssembly fallback computes, with one warning,
//       on its threads build (worker_threads that all start and let the process exit).
// then publint and @arethetypeswrong/cli over each packed package.
// The binary must arrive through @tvdcn/ops' optionalDependencies and nothing may be compiled at install
// time (npm runs with --ignore-scripts, and no packed package may declare an install script). The
// packages are not on the registry yet, so npm `overrides` point their names at the packed tarballs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectGpu } from '../native/scripts/cuda-detect.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tvdcn-install-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
let passed = 0;
let failed = 0;
let skipped = 0;

function sh(cmd, args, cwd, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

// TVDCN_SCENARIOS_ONLY_WASM=1 (.ci/platforms.sh, after the wasm build): packing and scenario (e) only.
const onlyWasm = Boolean(process.env.TVDCN_SCENARIOS_ONLY_WASM);

function check(name, fn) {
  if (onlyWasm && !/^(pack|\(e\))/.test(name)) return;
  try {
    fn();
    passed++;
    console.log(`  ✓ ${name}`);
  } catch (e) {
    failed++;
    console.log(`  ✗ ${name}\n${String(e.message ?? e).replace(/^/gm, '      ')}`);
  }
}

const packages = {
  '@tvdcn/shape': 'packages/shape',
  '@tvdcn/ops': 'packages/ops',
  tvdcn: 'packages/tvdcn',
  '@tvdcn/linux-x64-gnu': 'packages/bin-linux-x64-gnu',
};
const wasmBuilt = existsSync(join(root, 'packages', 'bin-wasm32', 'bin', 'tvdcn.wasm'));
if (wasmBuilt) packages['@tvdcn/wasm32'] = 'packages/bin-wasm32';
const files = {};
console.log(`install scenarios in ${work}`);
check('pack the packages (pnpm pack rewrites workspace: versions)', () => {
  for (const [name, dir] of Object.entries(packages)) {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall']) {
      if (pkg.scripts?.[s]) throw new Error(`${name} declares a ${s} script`);
    }
    const before = new Set(readdirSync(tarballs));
    sh('pnpm', ['pack', '--pack-destination', tarballs], join(root, dir));
    const made = readdirSync(tarballs).filter((f) => !before.has(f));
    if (made.length !== 1) throw new Error(`expected one tarball for ${name}, got ${made.join(', ')}`);
    files[name] = join(tarballs, made[0]);
  }
  const listing = sh('tar', ['-tzf', files['@tvdcn/linux-x64-gnu']], work);
  if (!listing.includes('package/bin/tvdcn.node'))
    throw new Error('the CPU binary package was packed without bin/tvdcn.node');
});

check('an empty binary package refuses to publish (prepublishOnly)', () => {
  const shell = join(work, 'empty-shell');
  mkdirSync(shell);
  const r = spawnSync(process.execPath, [join(root, 'native', 'scripts', 'copy-binary.mjs'), '--check'], {
    cwd: shell,
    encoding: 'utf8',
  });
  if (r.status === 0 || !/refusing to publish/.test(r.stderr)) {
    throw new Error(`expected a refusal, got exit ${r.status}: ${r.stderr}`);
  }
});

function project(name, deps, extra = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  const overrides = Object.fromEntries(Object.entries({ ...files, ...extra }).map(([n, f]) => [n, `file:${f}`]));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name,
        version: '1.0.0',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(deps.map((d) => [d, `file:${files[d]}`])),
        overrides,
      },
      null,
      2,
    ),
  );
  sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return dir;
}

if (Object.keys(files).length === Object.keys(packages).length) {
  check('(a) only @tvdcn/ops: deformConv2d forward and backward', () => {
    const dir = project('scenario-ops', ['@tvdcn/ops']);
    if (!existsSync(join(dir, 'node_modules', '@tvdcn', 'linux-x64-gnu', 'bin', 'tvdcn.node'))) {
      throw new Error('the binary package did not arrive through optionalDependencies');
    }
    writeFileSync(
      join(dir, 'main.js'),
      `
import { backendInfo, deformConv2d, randn, zeros } from '@tvdcn/ops';
const x = randn([2, 4, 9, 9], { requiresGrad: true });
const w = randn([8, 4, 3, 3], { requiresGrad: true });
const offset = randn([2, 18, 7, 7], { requiresGrad: true });
const y = deformConv2d(x, w, { offset });
y.sum().backward();
if (y.shape.join() !== '2,8,7,7') throw new Error('bad output shape ' + y.shape);
for (const t of [x, w, offset]) if (!t.grad || !t.grad.toTypedArray().some((v) => v !== 0)) throw new Error('missing grad');
console.log('ok', backendInfo().candidate);
`,
    );
    const out = sh('node', ['main.js'], dir);
    if (!/^ok @tvdcn\/linux-x64-gnu/m.test(out)) throw new Error(`unexpected output: ${out}`);
  });

  check('(b) tvdcn: a PackedDeformConv2d training step', () => {
    const dir = project('scenario-tvdcn', ['tvdcn']);
    writeFileSync(
      join(dir, 'main.cjs'),
      `
const { PackedDeformConv2d, Adam, mseLoss, randn } = require('tvdcn');
const layer = new PackedDeformConv2d(3, 4, 3, { padding: 1, modulated: true });
const opt = new Adam(layer.parameters(), { lr: 1e-2 });
const x = randn([2, 3, 8, 8]);
const target = randn([2, 4, 8, 8]);
const loss0 = mseLoss(layer.forward(x), target);
opt.zeroGrad();
loss0.backward();
opt.step();
const loss1 = mseLoss(layer.forward(x), target).item();
if (!(loss1 < loss0.item())) throw new Error('loss did not fall: ' + loss0.item() + ' -> ' + loss1);
console.log('ok', loss0.item(), loss1);
`,
    );
    const out = sh('node', ['main.cjs'], dir);
    if (!/^ok /m.test(out)) throw new Error(`unexpected output: ${out}`);
  });

  check('(c) import and require in one program share one instance (one Tensor class, one runtime)', () => {
    const dir = join(work, 'scenario-tvdcn');
    writeFileSync(
      join(dir, 'mixed.mjs'),
      `
import { createRequire } from 'node:module';
import * as esmOps from '@tvdcn/ops';
import * as esmTvdcn from 'tvdcn';
import { DcnError } from '@tvdcn/shape';
const require = createRequire(import.meta.url);
const cjsOps = require('@tvdcn/ops');
const cjsTvdcn = require('tvdcn');
const fail = (m) => { throw new Error(m); };
if (esmOps.Tensor !== cjsOps.Tensor) fail('two Tensor classes');
if (esmTvdcn.Tensor !== cjsOps.Tensor) fail('tvdcn re-exports another Tensor class');
if (esmTvdcn.PackedDeformConv2d !== cjsTvdcn.PackedDeformConv2d) fail('two layer classes');
// An ESM-made tensor through the CommonJS op, and back: values and gradients.
const x = esmOps.randn([1, 2, 5, 5], { requiresGrad: true });
const w = cjsOps.randn([3, 2, 3, 3], { requiresGrad: true });
const offset = esmOps.zeros([1, 18, 3, 3]);
const y = cjsOps.deformConv2d(x, w, { offset });
if (!(y instanceof esmOps.Tensor)) fail('result is not an instance of the ESM Tensor class');
esmOps.sum(y).backward();
if (!x.grad || !w.grad) fail('gradients missing');
// With a zero offset, deformable convolution is a plain convolution: compare one output value.
const xv = x.toTypedArray(), wv = w.toTypedArray();
let ref = 0;
for (let c = 0; c < 2; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) ref += xv[c * 25 + i * 5 + j] * wv[c * 9 + i * 3 + j];
if (Math.abs(y.toTypedArray()[0] - ref) > 1e-5) fail('value ' + y.toTypedArray()[0] + ' != ' + ref);
// A layer from require(), a tensor from import; errors from either copy are the same classes.
const layer = new cjsTvdcn.PackedDeformConv2d(2, 4, 3, { padding: 1 });
const out = layer.forward(esmOps.randn([1, 2, 6, 6]));
if (out.shape.join() !== '1,4,6,6') fail('layer output shape ' + out.shape);
try { cjsOps.deformConv2d(x, w, { offset: esmOps.zeros([1, 4, 3, 3]) }); fail('no error'); }
catch (e) { if (!(e instanceof DcnError) || !(e instanceof esmOps.ShapeMismatchError)) fail('error class from another copy: ' + e); }
// One runtime: one memory account and one binding seen from both.
const before = cjsOps.memory().tensors; const extra = esmOps.zeros([2]); if (cjsOps.memory().tensors !== before + 1) fail('two memory accounts'); extra.dispose();
if (esmOps.backendInfo().path !== cjsOps.backendInfo().path) fail('two bindings');
console.log('ok mixed');
`,
    );
    const out = sh('node', ['mixed.mjs'], dir);
    if (!/^ok mixed/m.test(out)) throw new Error(`unexpected output: ${out}`);
  });
  if (wasmBuilt) {
    check('(e) no native package for the platform: the WebAssembly fallback computes, with one warning', () => {
      const dir = project('scenario-wasm', ['@tvdcn/ops']);
      if (!existsSync(join(dir, 'node_modules', '@tvdcn', 'wasm32', 'bin', 'tvdcn.wasm'))) {
        throw new Error('@tvdcn/wasm32 did not arrive through optionalDependencies');
      }
      rmSync(join(dir, 'node_modules', '@tvdcn', 'linux-x64-gnu'), { recursive: true, force: true });
      writeFileSync(
        join(dir, 'main.js'),
        `
import { backendInfo, deformConv2d, loadBackend, randn } from '@tvdcn/ops';
const x = randn([1, 2, 6, 6], { requiresGrad: true });
const w = randn([3, 2, 3, 3], { requiresGrad: true });
const y = deformConv2d(x, w, { offset: randn([1, 18, 4, 4]) });
y.sum().backward();
if (!x.grad.toTypedArray().some((v) => v !== 0)) throw new Error('missing grad');
await loadBackend(); // the threads build: its worker_threads run, and must not keep the process alive
const b = backendInfo();
console.log('ok', b.candidate, b.binary, b.wasm.variant, b.wasm.runningWorkers === b.wasm.workers);
`,
      );
      const r = spawnSync('node', ['main.js'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      const variant = availableParallelism() > 1 ? 'threads' : 'single';
      if (r.status !== 0 || !new RegExp(`^ok @tvdcn/wasm32 wasm ${variant} true`, 'm').test(r.stdout))
        throw new Error(`unexpected: ${r.stdout}\n${r.stderr}`);
      const warnings = r.stderr.match(/TVDCN_WASM_FALLBACK/g) ?? [];
      if (warnings.length !== 1 || !/no native binary serves linux-x64-gnu/.test(r.stderr)) {
        throw new Error(`expected one fallback warning naming the platform, got: ${r.stderr}`);
      }
    });
  }
}

// (d) The CUDA package installed on a machine without a usable GPU (CI compiles the CUDA variant and has
// no GPU): a CUDA request names that cause, not "built without CUDA".
const cudaBinary = join(root, 'packages', 'bin-linux-x64-gnu-cuda', 'bin', 'tvdcn.node');
const gpu = detectGpu();
const dName = '(d) the CUDA package without a usable GPU: a CUDA request names the real cause';
if (!existsSync(cudaBinary)) {
  skipped++;
  console.log(`  - ${dName}: skipped (the CUDA variant was not built here; TVDCN_CUDA=on builds it)`);
} else if (gpu.usable) {
  skipped++;
  console.log(`  - ${dName}: skipped (a GPU is usable here: ${gpu.why})`);
} else if (files['@tvdcn/ops']) {
  check(dName, () => {
    const before = new Set(readdirSync(tarballs));
    sh('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', 'bin-linux-x64-gnu-cuda'));
    const cudaTarball = join(
      tarballs,
      readdirSync(tarballs).find((f) => !before.has(f)),
    );
    const dir = project('scenario-cuda', ['@tvdcn/ops'], { '@tvdcn/linux-x64-gnu-cuda': cudaTarball });
    if (!existsSync(join(dir, 'node_modules', '@tvdcn', 'linux-x64-gnu-cuda', 'bin', 'tvdcn.node'))) {
      throw new Error('the CUDA package did not arrive through optionalDependencies');
    }
    writeFileSync(
      join(dir, 'main.js'),
      `
import { backendInfo, zeros } from '@tvdcn/ops';
try { zeros([1], { device: 'cuda' }); console.log('no error'); }
catch (e) { console.log(e.name + ': ' + e.message); }
console.log('reason: ' + backendInfo().cudaUnavailableReason);
`,
    );
    const out = sh('node', ['main.js'], dir);
    const cause = /no GPU is usable \(\S.*\), although @tvdcn\/linux-x64-gnu-cuda is installed/;
    if (
      !new RegExp(
        `^NotImplementedError: .*expected a usable CUDA device, but ${cause.source}; check that an NVIDIA GPU`,
        'm',
      ).test(out) ||
      /built without CUDA|install @tvdcn/.test(out) ||
      !new RegExp(`^reason: ${cause.source}$`, 'm').test(out)
    ) {
      throw new Error(`unexpected output:\n${out}`);
    }
    console.log(out.trim().replace(/^/gm, '      '));
  });
}

// Metadata lint of the packed packages, as the registry and TypeScript users will see them.
const bin = (name) => join(root, 'node_modules', '.bin', name);
for (const [name, file] of Object.entries(files)) {
  check(`publint --strict ${name}`, () => {
    const out = sh(bin('publint'), ['run', file, '--strict'], work);
    if (!/All good!/.test(out)) throw new Error(out);
  });
  if (name.startsWith('@tvdcn/linux-') || name === '@tvdcn/wasm32') continue; // a binary package has no types to check
  check(`attw (are the types wrong) ${name}`, () => {
    sh(bin('attw'), [file, '--format', 'ascii', '--no-emoji', '--no-color'], work);
  });
}

// biome-ignore lint/suspicious/noUndeclaredEnvVars: a debugging switch of this script, not an input of a turbo task
if (!process.env.TVDCN_KEEP_INSTALL) rmSync(work, { recursive: true, force: true });
console.log(`install-scenarios: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
