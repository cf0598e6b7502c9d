// SPDX-License-Identifier: MIT
// Which kernels serve which device type. The CPU backend is always present; a CUDA backend registers
// itself here once it exists, and until then every CUDA request fails with one clear message.

import { NotImplementedError } from '@tvdcn/shape';
import { type Device, type DeviceType, deviceType } from '../tensor/device.js';
import { cpuKernels } from './cpu/cpu-backend.js';
import type { KernelBackend } from './kernel-backend.js';

const backends: Partial<Record<DeviceType, KernelBackend>> = { cpu: cpuKernels };

/** @internal Installs the kernels of a device type (replacing any previous ones). */
export function registerKernels(backend: KernelBackend): void {
  backends[backend.type] = backend;
}

/**
 * @internal The kernels for `device`.
 * @throws {@link NotImplementedError} for a device type without kernels (CUDA, for now)
 */
export function getKernels(device: Device, op = 'to'): KernelBackend {
  const backend = backends[deviceType(device)];
  if (backend !== undefined) return backend;
  throw new NotImplementedError(
    `${op}(): expected a device with kernels in this version of @tvdcn/ops ('cpu'), but got '${device}'; ` +
      `CUDA tensors are not implemented yet: keep tensors on 'cpu' (backendInfo() tells which binary is loaded)`,
  );
}
