// SPDX-License-Identifier: MIT
// The CPU kernel table: elementwise, reduction and data-movement kernels written in TypeScript over
// typed arrays, and deformable convolution / mask softmax through the native binding. With the Node addon
// the native kernels are queued on its CPU queue and return at once (../../native/cpu-queue.ts); the
// TypeScript kernels read their arrays through CpuStorage.data, which waits for the queued work first.

import { formatExpected, InvalidArgumentError } from '@tvdcn/shape';
import type { KernelBackend } from '../kernel-backend.js';
import type { Device } from '../../tensor/device.js';
import { DTYPE_TO_ARRAY, expectCpuDType, type DType, type TypedArray } from '../../tensor/dtype.js';
import { CpuStorage, type Storage } from '../../tensor/storage.js';
import { allocCpu, arrayOf } from './cpu-storage.js';
import { addInPlaceCpu, binaryCpu, castCpu, unaryCpu } from './elementwise.js';
import { copyStridedCpu, gatherCpu, scatterAddCpu } from './movement.js';
import type { NativeTensor } from '../../native/binding.js';
import { hasPendingCpuWork, noteCpuTask } from '../../native/cpu-queue.js';
import { getBinding } from '../../native/load-binding.js';
import { fromNativeError } from '../../native/native-errors.js';
import { nativeOps } from '../native-ops.js';
import { sumCpu } from './reduce.js';

function checkDevice(device: Device): void {
  if (device !== 'cpu') {
    throw new InvalidArgumentError(formatExpected('cpuKernels', "device 'cpu'", `'${device}'`), 'device');
  }
}

/** @internal The CPU kernels. */
export const cpuKernels: KernelBackend = {
  type: 'cpu',
  zeros(device: Device, dtype: DType, numel: number): Storage {
    checkDevice(device);
    return allocCpu(dtype, numel);
  },
  fromArray(device: Device, dtype: DType, data: TypedArray, adopt: boolean): Storage {
    checkDevice(device);
    const Ctor = DTYPE_TO_ARRAY[expectCpuDType('tensor', dtype)];
    if (adopt && data instanceof Ctor) return new CpuStorage(data);
    return new CpuStorage(new Ctor(data));
  },
  read(storage: Storage): TypedArray {
    return arrayOf(storage).slice();
  },
  // A copy queued behind the work on the storage (never blocking the event loop), or at once when none is
  // pending (or the binding has no queue: the WebAssembly build).
  async readAsync(storage: Storage): Promise<TypedArray> {
    const s = storage as CpuStorage;
    if (hasPendingCpuWork(s)) {
      const b = getBinding();
      if (b.cpuQueueRead !== undefined) {
        const dst = new (DTYPE_TO_ARRAY[expectCpuDType('data', s.dtype)])(s.numel) as Float32Array | Float64Array;
        try {
          return await b.cpuQueueRead(cpuView(s, [s.numel]), dst);
        } catch (e) {
          throw fromNativeError(e);
        }
      }
    }
    return arrayOf(storage).slice();
  },
  cast: castCpu,
  fill(storage: Storage, value: number): void {
    arrayOf(storage).fill(value);
  },
  addInPlace: addInPlaceCpu,
  unary: unaryCpu,
  binary: binaryCpu,
  sum: sumCpu,
  copyStrided: copyStridedCpu,
  gather: gatherCpu,
  scatterAdd: scatterAddCpu,
  // Deformable convolution and mask softmax: the native kernels, on typed arrays (zero-copy).
  ...nativeOps({
    binding: () => getBinding(),
    alloc: (_device, dtype, numel) => allocCpu(dtype, numel),
    view: cpuView,
    called: (binding, result, storages) => noteCpuTask(binding, result, storages as (CpuStorage | null)[]),
  }),
};

/** How the binding sees a CPU storage: its array (without waiting: the queue orders the work) and its id. */
function cpuView(storage: Storage, shape: readonly number[]): NativeTensor {
  return {
    data: (storage as CpuStorage).queuedData as Float32Array | Float64Array,
    shape,
    dtype: storage.dtype,
    id: storage.id,
  };
}
