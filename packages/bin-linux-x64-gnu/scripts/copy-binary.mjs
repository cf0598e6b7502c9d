#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// `build`: copies the host's native build (native/build/<variant>/Release/*.node) into bin/tvdcn.node.
// `--check` (prepublishOnly): fails when bin/tvdcn.node is missing, so an empty shell is never published.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(pkg, 'bin', 'tvdcn.node');
const arg = process.argv[2];
if (arg === '--check') {
  if (!existsSync(target)) {
    console.error(`refusing to publish: ${target} is missing (run the native build first)`);
    process.exit(1);
  }
  process.exit(0);
}
const file = arg === 'cuda' ? 'tvdcn_cuda.node' : 'tvdcn_cpu.node';
const source = join(pkg, '..', '..', 'native', 'build', arg, 'Release', file);
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`skipping: this package is for linux-x64, not ${process.platform}-${process.arch}`);
  process.exit(0);
}
if (!existsSync(source)) {
  rmSync(target, { force: true });
  console.log(`no ${arg} build at ${source}: the package stays empty (the loader will skip it)`);
  process.exit(0);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log(`copied ${source} -> ${target}`);
