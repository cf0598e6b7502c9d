// SPDX-License-Identifier: MIT
// CudaStorage: device memory behind a tensor, a handle of a native DeviceBuffer. Released to the
// caching allocator when the last reference goes (dispose, tidy, a collected tensor's finalizer), or when
// the storage itself is collected (storage.ts's registry; the DeviceBuffer's native finalizer as a
// backstop). The addon reports the buffer's bytes to V8 as external memory, so that collection keeps pace.

import type { CudaBinding, CudaDeviceBuffer } from '../../native/cuda-binding.js';
import { deviceIndex, type Device } from '../../tensor/device.js';
import type { DType } from '../../tensor/dtype.js';
import { Storage } from '../../tensor/storage.js';

/** @internal A CUDA storage. */
export class CudaStorage extends Storage {
  #buffer: CudaDeviceBuffer | null;

  private constructor(binding: CudaBinding, device: Device, dtype: DType, numel: number, buffer: CudaDeviceBuffer) {
    super(device, dtype, numel);
    this.#buffer = buffer;
    // Captures the buffer, not the storage: a collected storage's buffer is freed by the storage finalizer.
    this.record.releaseMemory = () => binding.cudaBufferFree(buffer);
  }

  /** Uninitialized device memory of `numel` elements (allocated before it is counted by memory()). */
  static allocate(binding: CudaBinding, device: Device, dtype: DType, numel: number): CudaStorage {
    const buffer = binding.cudaBufferAlloc(deviceIndex(device), dtype, numel);
    return new CudaStorage(binding, device, dtype, numel, buffer);
  }

  /**
   * The storage of `buffer`, a device buffer the binding made (the forward's output: NOTE [ The forward's output
   * made after its launches ]), which must hold `numel` elements of `dtype`.
   */
  static adopt(
    binding: CudaBinding,
    device: Device,
    dtype: DType,
    numel: number,
    buffer: CudaDeviceBuffer,
  ): CudaStorage {
    if (buffer.numel !== numel || buffer.dtype !== dtype || buffer.device !== deviceIndex(device)) {
      binding.cudaBufferFree(buffer);
      throw new Error(
        `internal error: the binding's output holds ${buffer.numel} ${buffer.dtype} on cuda:${buffer.device}, ` +
          `expected ${numel} ${dtype} on '${device}', please report`,
      );
    }
    return new CudaStorage(binding, device, dtype, numel, buffer);
  }

  /** The native buffer. Throws (an internal error) once freed. */
  get buffer(): CudaDeviceBuffer {
    const b = this.#buffer;
    if (b === null) throw new Error('internal error: CUDA storage used after it was freed, please report');
    return b;
  }

  protected free(): void {
    this.#buffer = null; // returned to the allocator by the record's releaseMemory
  }
}

/** @internal The buffer of a CUDA storage. */
export function bufferOf(storage: Storage): CudaDeviceBuffer {
  if (!(storage instanceof CudaStorage)) {
    throw new Error(`internal error: expected a CUDA storage, but got one on '${storage.device}', please report`);
  }
  return storage.buffer;
}
