#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Runs clang-format (.clang-format) over the tracked C++/CUDA sources of native/src.
//   node scripts/clang-format.mjs           rewrite the files in place (pnpm format)
//   node scripts/clang-format.mjs --check   fail on any difference (pnpm lint; clang-format --dry-run -Werror)
// clang-format comes from the system (Debian: apt-get install clang-format; .ci/run installs it), or
// CLANG_FORMAT names the binary.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
// biome-ignore lint/suspicious/noUndeclaredEnvVars: names a tool of this script, not an input of a turbo task
const bin = process.env.CLANG_FORMAT ?? 'clang-format';

const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  console.error(`clang-format not found (${bin}); install it (apt-get install clang-format) or set CLANG_FORMAT`);
  process.exit(2);
}
const listed = spawnSync('git', ['ls-files', '--', 'native/src'], { cwd: root, encoding: 'utf8' });
if (listed.status !== 0) {
  console.error(listed.stderr);
  process.exit(2);
}
const files = listed.stdout.split('\n').filter((f) => /\.(h|cc|cu|cuh|inc)$/.test(f));
const args = check ? ['--dry-run', '-Werror', '--style=file'] : ['-i', '--style=file'];
let failed = false;
// In batches, to stay under the command-line length limit.
for (let i = 0; i < files.length; i += 50) {
  const r = spawnSync(bin, [...args, ...files.slice(i, i + 50)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
console.log(`clang-format: ${files.length} files ${check ? (failed ? 'need formatting' : 'formatted') : 'rewritten'}`);
process.exit(failed ? 1 : 0);
