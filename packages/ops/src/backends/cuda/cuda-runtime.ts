// SPDX-License-Identifier: MIT
// The public CUDA runtime helpers: memory statistics, emptyCache, synchronize, device properties, the
// determinism switch and the float32 matmul mode. (The CUDA kernel table itself is in registry.ts.)

import { InvalidArgumentError, formatExpected, formatValue } from '@tvdcn/shape';
import {
  getCudaBinding,
  type CudaDeviceProperties,
  type CudaFloat32Matmul,
  type CudaMemoryStats,
} from '../../native/cuda-binding.js';
import { getLoaded } from '../../native/load-binding.js';
import { deviceIndex, parseDevice, type Device } from '../../tensor/device.js';

export type { CudaDeviceProperties, CudaFloat32Matmul, CudaMemoryStats };

function indexOf(op: string, device: Device | number | undefined): number | undefined {
  if (device === undefined) return undefined;
  if (typeof device === 'number') {
    if (Number.isInteger(device) && device >= 0) return device;
    throw new InvalidArgumentError(
      formatExpected(op, 'device to be a non-negative integer', formatValue(device)),
      'device',
    );
  }
  const d = parseDevice(device, op);
  if (d === 'cpu') {
    throw new InvalidArgumentError(formatExpected(op, "a CUDA device ('cuda' or 'cuda:<index>')", "'cpu'"), 'device');
  }
  return deviceIndex(d);
}

/**
 * The caching allocator's statistics of a CUDA device (default: the current one): bytes in use, cached
 * for reuse, and the peak.
 * @throws {@link NotImplementedError} when no CUDA device is usable
 * @example `cudaMemoryStats('cuda:0').allocated`
 */
export function cudaMemoryStats(device?: Device | number): CudaMemoryStats {
  return getCudaBinding('cudaMemoryStats()').cudaMemoryStats(indexOf('cudaMemoryStats', device));
}

/** Resets the `peakAllocated` of {@link cudaMemoryStats} to the bytes in use now. */
export function cudaResetPeakMemory(device?: Device | number): void {
  getCudaBinding('cudaResetPeakMemory()').cudaResetPeakMemory(indexOf('cudaResetPeakMemory', device));
}

/**
 * Returns the device memory cached by the allocator (freed tensors' blocks kept for reuse) to the
 * driver, for every device or one. Memory of live tensors is unaffected. Like PyTorch's
 * `torch.cuda.empty_cache()`.
 */
export function cudaEmptyCache(device?: Device | number): void {
  getCudaBinding('cudaEmptyCache()').cudaEmptyCache(indexOf('cudaEmptyCache', device));
}

/** Waits until every kernel and copy queued on the device (default: all devices) has finished. */
export function cudaSynchronize(device?: Device | number): void {
  getCudaBinding('cudaSynchronize()').cudaSynchronize(indexOf('cudaSynchronize', device));
}

/** Name, compute capability, multiprocessors and memory of a CUDA device. */
export function cudaDeviceProperties(device?: Device | number): CudaDeviceProperties {
  return getCudaBinding('cudaDeviceProperties()').cudaDeviceProperties(indexOf('cudaDeviceProperties', device));
}

/**
 * Deterministic CUDA kernels on or off (default off). With it on, the scatter steps (the input gradient
 * of deformable convolution and the forward of the transposed one) sum each element in a fixed order
 * instead of with atomics, so results are bitwise reproducible, at some cost in time and memory. Every
 * other CUDA kernel is deterministic always. No effect on the CPU, which is deterministic.
 */
export function setDeterministic(on: boolean): void {
  if (typeof on !== 'boolean') {
    throw new InvalidArgumentError(formatExpected('setDeterministic', 'a boolean', formatValue(on)), 'on');
  }
  const l = getLoaded();
  const b = l.binding as { setDeterministic?: (on: boolean) => void };
  if (typeof b.setDeterministic === 'function') b.setDeterministic(on);
}

/** Whether {@link setDeterministic} is on (false when the binary has no CUDA kernels). */
export function isDeterministic(): boolean {
  try {
    const b = getLoaded().binding as { getDeterministic?: () => boolean };
    return typeof b.getDeterministic === 'function' ? b.getDeterministic() : false;
  } catch {
    return false;
  }
}

/**
 * How float32 matrix products (the GEMMs of deformable convolution) run on CUDA: `'tf32x3'` (the
 * default) on the tensor cores with each operand split into a TF32 part and a TF32 remainder, three
 * products accumulated in float32 (about float32 accuracy); `'float32'` on the CUDA cores (IEEE float32
 * products, slower); `'tf32'` on the tensor cores with TF32 operands (about 3e-4 relative error,
 * fastest; as PyTorch's `allow_tf32`).
 */
export function setCudaFloat32Matmul(mode: CudaFloat32Matmul): void {
  if (mode !== 'float32' && mode !== 'tf32x3' && mode !== 'tf32') {
    throw new InvalidArgumentError(
      formatExpected('setCudaFloat32Matmul', "mode to be 'float32', 'tf32x3' or 'tf32'", formatValue(mode)),
      'mode',
    );
  }
  getCudaBinding('setCudaFloat32Matmul()').cudaSetFloat32Matmul(mode);
}

/** The mode of {@link setCudaFloat32Matmul} in use. */
export function getCudaFloat32Matmul(): CudaFloat32Matmul {
  return getCudaBinding('getCudaFloat32Matmul()').cudaGetFloat32Matmul();
}
