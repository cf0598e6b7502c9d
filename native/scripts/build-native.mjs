#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the addon with cmake-js: always the CPU variant (build/cpu), and the CUDA superset (build/cuda)
// when TVDCN_CUDA=on, or TVDCN_CUDA=auto (the default) and nvcc is found. Runs fully offline.
//   TVDCN_CUDA=on|off|auto   CMAKE_CUDA_ARCHITECTURES="90" (default for development builds; release: "release")
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');

function findNvcc() {
  if (process.env.CUDACXX && existsSync(process.env.CUDACXX)) return process.env.CUDACXX;
  const r = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return 'nvcc';
  for (const p of ['/usr/local/cuda/bin/nvcc']) if (existsSync(p)) return p;
  return null;
}

function compile(variant, defines) {
  const args = [cmakeJs, 'compile', '-d', root, '-O', join(root, 'build', variant), '-p',
    String(process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? 2)];
  for (const [k, v] of Object.entries(defines)) args.push(`--CD${k}=${v}`);
  console.log(`[tvdcn native] building ${variant}: cmake-js ${args.slice(1).join(' ')}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`[tvdcn native] the ${variant} build failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const mode = (process.env.TVDCN_CUDA ?? 'auto').toLowerCase();
if (!['on', 'off', 'auto'].includes(mode)) {
  console.error(`[tvdcn native] TVDCN_CUDA must be on, off or auto, but got ${mode}`);
  process.exit(2);
}
compile('cpu', { TVDCN_WITH_CUDA: 'OFF' });
const nvcc = mode === 'off' ? null : findNvcc();
if (mode === 'on' && !nvcc) {
  console.error('[tvdcn native] TVDCN_CUDA=on but nvcc was not found; set CUDACXX or install the CUDA toolkit');
  process.exit(1);
}
if (nvcc) {
  const archEnv = process.env.CMAKE_CUDA_ARCHITECTURES ?? '90';
  const defines = { TVDCN_WITH_CUDA: 'ON', CMAKE_CUDA_COMPILER: nvcc };
  if (archEnv !== 'release') defines.CMAKE_CUDA_ARCHITECTURES = archEnv;
  compile('cuda', defines);
} else {
  console.log('[tvdcn native] nvcc not found: skipping the CUDA variant (set TVDCN_CUDA=on to require it)');
}
