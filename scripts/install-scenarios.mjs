#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Install scenarios as users meet them: pack the packages, install them with npm into fresh directories
// outside the workspace, and run real work there.
//   (a) only @tvdcn/ops: a deformConv2d forward and backward;
//   (b) tvdcn: one PackedDeformConv2d training step;
//   (c) when @tvdcn/wasm32 is built (scripts/platforms/build-cross.mjs wasm32): @tvdcn/ops without its
//       native package, as on a platform that has none: the WebAssembly fallback computes, with one warning.
// The binary must arrive through @tvdcn/ops' optionalDependencies and nothing may be compiled at install
// time (npm runs with --ignore-scripts, and no packed package may declare an install script). The
// packages are not on the registry yet, so npm `overrides` point their names at the packed tarballs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tvdcn-install-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
let passed = 0;
let failed = 0;

function sh(cmd, args, cwd, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

// TVDCN_SCENARIOS_ONLY_WASM=1 (.ci/platforms.sh, after the wasm build): packing and scenario (c) only.
const onlyWasm = Boolean(process.env.TVDCN_SCENARIOS_ONLY_WASM);

function check(name, fn) {
  if (onlyWasm && !/^(pack|\(c\))/.test(name)) return;
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
  if (!listing.includes('package/bin/tvdcn.node')) throw new Error('the CPU binary package was packed without bin/tvdcn.node');
});

check('an empty binary package refuses to publish (prepublishOnly)', () => {
  const shell = join(work, 'empty-shell');
  mkdirSync(shell);
  const r = spawnSync(process.execPath, [join(root, 'native', 'scripts', 'copy-binary.mjs'), '--check'], {
    cwd: shell, encoding: 'utf8',
  });
  if (r.status === 0 || !/refusing to publish/.test(r.stderr)) {
    throw new Error(`expected a refusal, got exit ${r.status}: ${r.stderr}`);
  }
});

function project(name, deps) {
  const dir = join(work, name);
  mkdirSync(dir);
  const overrides = Object.fromEntries(Object.entries(files).map(([n, f]) => [n, `file:${f}`]));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name, version: '1.0.0', private: true, type: 'module',
    dependencies: Object.fromEntries(deps.map((d) => [d, `file:${files[d]}`])),
    overrides,
  }, null, 2));
  sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return dir;
}

if (Object.keys(files).length === Object.keys(packages).length) {
  check('(a) only @tvdcn/ops: deformConv2d forward and backward', () => {
    const dir = project('scenario-ops', ['@tvdcn/ops']);
    if (!existsSync(join(dir, 'node_modules', '@tvdcn', 'linux-x64-gnu', 'bin', 'tvdcn.node'))) {
      throw new Error('the binary package did not arrive through optionalDependencies');
    }
    writeFileSync(join(dir, 'main.js'), `
import { backendInfo, deformConv2d, randn, zeros } from '@tvdcn/ops';
const x = randn([2, 4, 9, 9], { requiresGrad: true });
const w = randn([8, 4, 3, 3], { requiresGrad: true });
const offset = randn([2, 18, 7, 7], { requiresGrad: true });
const y = deformConv2d(x, w, { offset });
y.sum().backward();
if (y.shape.join() !== '2,8,7,7') throw new Error('bad output shape ' + y.shape);
for (const t of [x, w, offset]) if (!t.grad || !t.grad.toTypedArray().some((v) => v !== 0)) throw new Error('missing grad');
console.log('ok', backendInfo().candidate);
`);
    const out = sh('node', ['main.js'], dir);
    if (!/^ok @tvdcn\/linux-x64-gnu/m.test(out)) throw new Error(`unexpected output: ${out}`);
  });

  check('(b) tvdcn: a PackedDeformConv2d training step', () => {
    const dir = project('scenario-tvdcn', ['tvdcn']);
    writeFileSync(join(dir, 'main.cjs'), `
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
`);
    const out = sh('node', ['main.cjs'], dir);
    if (!/^ok /m.test(out)) throw new Error(`unexpected output: ${out}`);
  });

  if (wasmBuilt) {
    check('(c) no native package for the platform: the WebAssembly fallback computes, with one warning', () => {
      const dir = project('scenario-wasm', ['@tvdcn/ops']);
      if (!existsSync(join(dir, 'node_modules', '@tvdcn', 'wasm32', 'bin', 'tvdcn.wasm'))) {
        throw new Error('@tvdcn/wasm32 did not arrive through optionalDependencies');
      }
      rmSync(join(dir, 'node_modules', '@tvdcn', 'linux-x64-gnu'), { recursive: true, force: true });
      writeFileSync(join(dir, 'main.js'), `
import { backendInfo, deformConv2d, randn } from '@tvdcn/ops';
const x = randn([1, 2, 6, 6], { requiresGrad: true });
const w = randn([3, 2, 3, 3], { requiresGrad: true });
const y = deformConv2d(x, w, { offset: randn([1, 18, 4, 4]) });
y.sum().backward();
if (!x.grad.toTypedArray().some((v) => v !== 0)) throw new Error('missing grad');
const b = backendInfo();
console.log('ok', b.candidate, b.binary);
`);
      const r = spawnSync('node', ['main.js'], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0 || !/^ok @tvdcn\/wasm32 wasm/m.test(r.stdout)) throw new Error(`unexpected: ${r.stdout}\n${r.stderr}`);
      const warnings = r.stderr.match(/TVDCN_WASM_FALLBACK/g) ?? [];
      if (warnings.length !== 1 || !/no native binary serves linux-x64-gnu/.test(r.stderr)) {
        throw new Error(`expected one fallback warning naming the platform, got: ${r.stderr}`);
      }
    });
  }
}

// biome-ignore lint/suspicious/noUndeclaredEnvVars: a debugging switch of this script, not an input of a turbo task
if (!process.env.TVDCN_KEEP_INSTALL) rmSync(work, { recursive: true, force: true });
console.log(`install-scenarios: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
