#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the addon with cmake-js: always the CPU variant (build/cpu), and the CUDA superset (build/cuda)
// as cuda-detect.mjs decides (TVDCN_CUDA=on, or auto with nvcc and a usable GPU). Runs fully offline.
// Quiet: cmake-js/compiler output goes to build/<variant>.log and is printed only when the build fails
// (or with --verbose).
//   node scripts/build-native.mjs [--verbose]
//   TVDCN_CUDA=on|off|auto   CMAKE_CUDA_ARCHITECTURES="90" (default for development builds; release: "release")
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decideCuda } from './cuda-detect.mjs';

const usage = `usage: node scripts/build-native.mjs [--verbose]
  Builds native/build/cpu and, when TVDCN_CUDA (on|off|auto) says so, native/build/cuda.
  --verbose   stream cmake-js and compiler output (default: only on failure, else in build/<variant>.log)
  -h, --help  this text`;
let opts;
try {
  opts = parseArgs({
    options: { verbose: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }).values;
} catch (e) {
  console.error(`[tvdcn native] ${e.message}\n${usage}`);
  process.exit(2);
}
if (opts.help) {
  console.log(usage);
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');

function compile(variant, defines) {
  const args = [
    cmakeJs,
    'compile',
    '-d',
    root,
    '-O',
    join(root, 'build', variant),
    '-p',
    String(process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? 2),
  ];
  for (const [k, v] of Object.entries(defines)) args.push(`--CD${k}=${v}`);
  const log = join(root, 'build', `${variant}.log`);
  mkdirSync(dirname(log), { recursive: true });
  const t0 = performance.now();
  if (opts.verbose) {
    console.log(`[tvdcn native] building ${variant}: cmake-js ${args.slice(1).join(' ')}`);
  }
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: opts.verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  if (!opts.verbose) {
    // One file with both streams in order of the two pipes (cmake-js writes its INFO lines to stderr).
    writeFileSync(log, `$ cmake-js ${args.slice(1).join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  if (r.status !== 0) {
    if (!opts.verbose) process.stderr.write(readFileSync(log, 'utf8'));
    console.error(
      `[tvdcn native] the ${variant} build failed (exit ${r.status ?? r.signal}); full log above` +
        (opts.verbose ? '' : ` and in ${relative(join(root, '..'), log)}`),
    );
    process.exit(r.status ?? 1);
  }
  console.log(
    `[tvdcn native] ${variant} variant built in ${seconds} s` +
      (opts.verbose ? '' : ` (log: ${relative(join(root, '..'), log)})`),
  );
}

const cuda = decideCuda(process.env);
if (cuda.error) {
  console.error(`[tvdcn native] ${cuda.error}`);
  process.exit(cuda.error.startsWith('TVDCN_CUDA must') ? 2 : 1);
}
compile('cpu', { TVDCN_WITH_CUDA: 'OFF' });
if (cuda.build) {
  const archEnv = process.env.CMAKE_CUDA_ARCHITECTURES ?? '90';
  const defines = { TVDCN_WITH_CUDA: 'ON', CMAKE_CUDA_COMPILER: cuda.nvcc };
  if (archEnv !== 'release') defines.CMAKE_CUDA_ARCHITECTURES = archEnv;
  console.log(`[tvdcn native] building the CUDA variant too (${cuda.why}); this takes a few minutes`);
  compile('cuda', defines);
} else {
  console.log(`[tvdcn native] CUDA variant not built: ${cuda.why} (TVDCN_CUDA=on builds it anyway)`);
}
