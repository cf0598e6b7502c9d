// SPDX-License-Identifier: MIT
// Entry point of the GPU suites (bundled by scripts/gpu-check.sh into .gpu/cuda-tests.mjs and run with
// `node --test` on the GPU machine). Prints the device first.

import { backendInfo, cudaDeviceProperties, cuda } from '../../src/index.js';

const info = backendInfo();
console.log(`binary: ${info.candidate} (${info.path}), CUDA devices: ${info.cudaDeviceCount}`);
if (cuda.isAvailable()) {
  const p = cudaDeviceProperties(0);
  console.log(
    `device: ${p.name}, sm_${p.major}${p.minor}, ${p.multiProcessorCount} SMs, ${(p.totalMemory / 2 ** 30).toFixed(1)} GiB`,
  );
} else {
  console.log(`CUDA not available: ${info.cudaUnavailableReason}`);
}

await import('./kernels.cuda-test.js');
await import('./deform-conv.cuda-test.js');
await import('./multi-gpu.cuda-test.js');
