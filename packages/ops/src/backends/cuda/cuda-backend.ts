// SPDX-License-Identifier: MIT
// The CUDA kernel table: every KernelBackend method as one call into the native CUDA kernels
// (native/src/{elementwise,mask,deform_conv}/cuda), on device buffers, through the device-generic exports
// (native-tensor-ops.ts, native-ops.ts) that the CPU backend uses too; the native side re-checks sizes
// against buffers.
// The table is registered for 'cuda' at import (register.ts); each method checks on first use that the
// loaded binary has usable CUDA devices, and says why not otherwise.

import { type CudaBinding, type CudaDeviceBuffer, getCudaBinding } from '../../native/cuda-binding.js';
import type { Device } from '../../tensor/device.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import type { Storage } from '../../tensor/storage.js';
import { hasTensorKernels, type NativeTensor, type NativeTensorKernels } from '../../native/binding.js';
import type { KernelBackend } from '../kernel-backend.js';
import { nativeOps } from '../native-ops.js';
import { nativeTensorOps } from '../native-tensor-ops.js';
import { bufferOf, CudaStorage } from './cuda-storage.js';

function binding(what: string): CudaBinding {
  return getCudaBinding(what);
}

function tensorKernels(what: string): NativeTensorKernels {
  const b = binding(what);
  if (!hasTensorKernels(b))
    throw new Error(`internal error: ${what}: the CUDA binary has no tensor kernels, please report`);
  return b;
}

function view(storage: Storage, shape: readonly number[]): NativeTensor {
  return { data: bufferOf(storage), shape, dtype: storage.dtype };
}

function alloc(b: CudaBinding, device: Device, dtype: DType, numel: number): CudaStorage {
  return CudaStorage.allocate(b, device, dtype, numel);
}

/** @internal The CUDA kernels, with `readAsync` (what `Tensor.data()` awaits for device tensors). */
export const cudaKernels: KernelBackend & { readAsync(storage: Storage, out?: TypedArray): Promise<TypedArray> } = {
  type: 'cuda',

  /** The values as a Promise: the copy is enqueued now and awaited on a worker thread (then into `out`). */
  async readAsync(storage: Storage, out?: TypedArray): Promise<TypedArray> {
    const values = await binding('data()').cudaDownloadAsync(bufferOf(storage));
    if (out === undefined) return values;
    out.set(values);
    return out;
  },

  zeros(device: Device, dtype: DType, numel: number): Storage {
    const b = binding(`zeros() on '${device}'`);
    const s = alloc(b, device, dtype, numel);
    tensorKernels(`zeros() on '${device}'`).fill(view(s, [numel]), 0);
    return s;
  },

  fromArray(device: Device, dtype: DType, data: TypedArray, _adopt: boolean): Storage {
    const b = binding(`a tensor on '${device}'`);
    const s = alloc(b, device, dtype, data.length);
    b.cudaUpload(s.buffer, data);
    return s;
  },

  read(storage: Storage): TypedArray {
    return binding('toTypedArray()').cudaDownload(bufferOf(storage));
  },

  // Casts, fills, elementwise ops, sums, copies, gathers: the device-generic exports, on device buffers.
  ...nativeTensorOps({
    binding: (what) => tensorKernels(what),
    alloc: (device, dtype, numel) => alloc(binding('allocation'), device, dtype, numel),
    view,
  }),

  // Deformable convolution and mask softmax: the shared native exports, on device buffers.
  ...nativeOps({
    binding: (what) => binding(what),
    alloc: (device, dtype, numel) => alloc(binding('deformConv'), device, dtype, numel),
    view,
    buffer: bufferOf,
    // (The CUDA binding's buffers are CudaDeviceBuffers; adopt() checks its size, dtype and device.)
    adopt: (buffer, device, dtype, numel) =>
      CudaStorage.adopt(binding('deformConv'), device, dtype, numel, buffer as CudaDeviceBuffer),
  }),
};
