// SPDX-License-Identifier: MIT
// Which kernels serve which device type: the CPU table and the CUDA table. Both are plain imports (no
// registration by side effect, which bundlers honouring `sideEffects: false` would drop); the CUDA table
// loads nothing until first used, then checks that the loaded binary has a usable device and says why not.

import { NotImplementedError } from '@tvdcn/shape';
import { type Device, type DeviceType, deviceType } from '../tensor/device.js';
import { cpuKernels } from './cpu/cpu-backend.js';
import { cudaKernels } from './cuda/cuda-backend.js';
import type { KernelBackend } from './kernel-backend.js';

const backends: Partial<Record<DeviceType, KernelBackend>> = { cpu: cpuKernels, cuda: cudaKernels };

/** @internal Installs the kernels of a device type (replacing the built-in ones; tests use it). */
export function registerKernels(backend: KernelBackend): void {
  backends[backend.type] = backend;
}

/**
 * @internal The kernels for `device`.
 * @throws {@link NotImplementedError} for a device type without kernels
 */
export function getKernels(device: Device, op = 'to'): KernelBackend {
  const backend = backends[deviceType(device)];
  if (backend !== undefined) return backend;
  throw new NotImplementedError(
    `${op}(): expected a device with kernels in this version of @tvdcn/ops ('cpu', 'cuda'), but got '${device}'`,
  );
}
