#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The build step of the binary packages (packages/bin-*), run from the package folder:
//   node ../../native/scripts/copy-binary.mjs cpu|cuda   copies native/build/<variant>/Release/*.node to bin/tvdcn.node
//   node ../../native/scripts/copy-binary.mjs --check    (prepublishOnly) fails when bin/tvdcn.node is missing,
//                                                        so an empty shell is never published
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const pkg = process.cwd();
const native = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(pkg, 'bin', 'tvdcn.node');
const usage = 'usage: copy-binary.mjs cpu|cuda | --check   (run from a binary package folder)';
let arg;
try {
  const { values, positionals } = parseArgs({
    options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  arg = values.check ? '--check' : positionals[0];
  if ((values.check && positionals.length > 0) || positionals.length > 1 || !['cpu', 'cuda', '--check'].includes(arg)) {
    throw new Error(
      `expected cpu, cuda or --check, but got ${[...(values.check ? ['--check'] : []), ...positionals].join(' ') || 'nothing'}`,
    );
  }
} catch (e) {
  console.error(`copy-binary: ${e.message}\n${usage}`);
  process.exit(2);
}
if (arg === '--check') {
  if (!existsSync(target)) {
    console.error(`refusing to publish: ${target} is missing (run the native build first)`);
    process.exit(1);
  }
  process.exit(0);
}
const file = arg === 'cuda' ? 'tvdcn_cuda.node' : 'tvdcn_cpu.node';
const source = join(native, 'build', arg, 'Release', file);
// The package's own os/cpu fields say which host builds it (linux-x64, darwin-arm64, win32-x64, ...).
const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
if (!meta.os?.includes(process.platform) || !meta.cpu?.includes(process.arch)) {
  console.log(`skipping: this package is for ${meta.os}-${meta.cpu}, not ${process.platform}-${process.arch}`);
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
