#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Smoke test of the native build: each built variant loads and answers its info functions.
import { existsSync } from 'node:fs';
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
console.log(`native: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
