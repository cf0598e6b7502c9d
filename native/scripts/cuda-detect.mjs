// SPDX-License-Identifier: MIT
// Decides whether the CUDA variant of the addon is built, from TVDCN_CUDA and what this machine has:
//   on    always (CI compiles it on machines without a GPU so CUDA code cannot silently break);
//   off   never;
//   auto  (default) only when nvcc is found AND a GPU is usable here (nvidia-smi lists one, or the
//         kernel driver exposes one), so a machine with the toolkit but no GPU does not spend minutes
//         compiling a binary that cannot run there.
// Shared by build-native.mjs and scripts/run.mjs (which resolves `auto` before turbo hashes the build).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** The nvcc to use (CUDACXX, nvcc on PATH, /usr/local/cuda/bin/nvcc), or null. */
export function findNvcc(env = process.env) {
  if (env.CUDACXX && existsSync(env.CUDACXX)) return env.CUDACXX;
  const r = spawnSync('nvcc', ['--version'], { encoding: 'utf8', env });
  if (r.status === 0) return 'nvcc';
  for (const p of ['/usr/local/cuda/bin/nvcc']) if (existsSync(p)) return p;
  return null;
}

/**
 * Whether an NVIDIA GPU is usable: `nvidia-smi -L` lists at least one GPU, or (no nvidia-smi)
 * /proc/driver/nvidia/gpus has an entry. Returns `{ usable, why }`, `why` in words for the build log.
 */
export function detectGpu(env = process.env) {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', env, timeout: 15_000 });
  if (!r.error) {
    const gpus = (r.stdout ?? '').split('\n').filter((l) => /^GPU \d+/.test(l));
    if (r.status === 0 && gpus.length > 0) return { usable: true, why: `${gpus.length} GPU(s) listed by nvidia-smi` };
    const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || `exit ${r.status}`;
    return { usable: false, why: `nvidia-smi found no usable GPU (${said})` };
  }
  const procDir = env.TVDCN_PROC_NVIDIA_GPUS ?? '/proc/driver/nvidia/gpus';
  try {
    if (readdirSync(procDir).length > 0) return { usable: true, why: `the NVIDIA driver lists a GPU in ${procDir}` };
  } catch {
    // no driver
  }
  return { usable: false, why: 'no NVIDIA driver (nvidia-smi not found)' };
}

/**
 * The decision for `TVDCN_CUDA` (on|off|auto): `{ build, nvcc, why }`, or `{ error }` for a bad value or
 * `on` without nvcc.
 */
export function decideCuda(env = process.env) {
  const mode = (env.TVDCN_CUDA ?? 'auto').trim().toLowerCase() || 'auto';
  if (!['on', 'off', 'auto'].includes(mode)) {
    return { error: `TVDCN_CUDA must be on, off or auto, but got ${env.TVDCN_CUDA}` };
  }
  if (mode === 'off') return { build: false, nvcc: null, why: 'TVDCN_CUDA=off' };
  const nvcc = findNvcc(env);
  if (mode === 'on') {
    if (!nvcc) return { error: 'TVDCN_CUDA=on but nvcc was not found; set CUDACXX or install the CUDA toolkit' };
    return { build: true, nvcc, why: 'TVDCN_CUDA=on' };
  }
  if (!nvcc) return { build: false, nvcc: null, why: 'nvcc not found' };
  const gpu = detectGpu(env);
  if (!gpu.usable) return { build: false, nvcc, why: `nvcc found, but ${gpu.why}` };
  return { build: true, nvcc, why: `nvcc found and ${gpu.why}` };
}
