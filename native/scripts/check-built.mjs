#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Smoke test of the native build: each built variant loads and answers its info functions; and the host checks of
// native/test (header-only pieces shared by host and device code, built here with the C++ compiler and run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let passed = 0;
let failed = 0;
for (const [variant, file] of [
  ['cpu', 'tvdcn_cpu.node'],
  ['cuda', 'tvdcn_cuda.node'],
]) {
  const path = join(root, 'build', variant, 'Release', file);
  if (!existsSync(path)) {
    if (variant === 'cpu') {
      console.error(`missing ${path}`);
      failed++;
    }
    continue;
  }
  try {
    const b = require(path);
    const info = b.buildInfo();
    console.log(
      `${variant}: abi ${b.abiVersion()} ${JSON.stringify(info)} devices ${JSON.stringify(b.cudaDeviceCount())}`,
    );
    passed++;
  } catch (e) {
    console.error(`${variant}: failed to load: ${e.message}`);
    failed++;
  }
}
// Each native/test/*.cc is one program over the headers of src/: exit status 0 and one line of output when it holds.
const cxx = process.env.CXX || 'g++';
const work = mkdtempSync(join(tmpdir(), 'tvdcn-native-check-'));
try {
  for (const name of readdirSync(join(root, 'test')).filter((f) => f.endsWith('.cc'))) {
    const exe = join(work, name.replace(/\.cc$/, ''));
    const build = spawnSync(cxx, ['-O2', '-std=c++17', '-I', join(root, 'src'), join(root, 'test', name), '-o', exe], {
      encoding: 'utf8',
    });
    const run = build.status === 0 ? spawnSync(exe, [], { encoding: 'utf8', timeout: 120_000 }) : undefined;
    if (run?.status === 0) {
      console.log(`${name}: ${run.stdout.trim()}`);
      passed++;
    } else {
      console.error(
        `${name}: ${build.status !== 0 ? `did not build\n${build.stderr}${build.error ?? ''}` : `failed\n${run?.stdout}${run?.stderr}`}`,
      );
      failed++;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`native: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
