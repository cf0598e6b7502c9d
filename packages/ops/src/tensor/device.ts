// SPDX-License-Identifier: MIT
// Device names: the `Device` type and its canonical form. Which devices are usable is the kernels'
// business (backends/registry.ts), not this file's.

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';

/** Where a tensor lives. `'cuda'` means `'cuda:0'`. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** The kind of a device, without its index. */
export type DeviceType = 'cpu' | 'cuda';

const CUDA_PATTERN = /^cuda:(0|[1-9][0-9]*)$/;

/**
 * The canonical name of a device: `'cpu'` or `'cuda:<index>'` (`'cuda'` becomes `'cuda:0'`).
 *
 * @throws {@link InvalidArgumentError} for anything else
 * @example
 * ```ts
 * parseDevice('cuda'); // 'cuda:0'
 * ```
 */
export function parseDevice(device: unknown, op = 'parseDevice'): Device {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda') return 'cuda:0';
  if (typeof device === 'string' && CUDA_PATTERN.test(device)) return device as Device;
  throw new InvalidArgumentError(
    formatExpected(op, `device to be 'cpu', 'cuda' or 'cuda:<index>'`, formatValue(device)),
    'device',
  );
}

/** @internal The type of a canonical device. */
export function deviceType(device: Device): DeviceType {
  return device === 'cpu' ? 'cpu' : 'cuda';
}

/** @internal The index of a canonical CUDA device (0 for the CPU). */
export function deviceIndex(device: Device): number {
  return device === 'cpu' ? 0 : Number(device.slice(5));
}
