// SPDX-License-Identifier: MIT
// The CPU kernel table over typed arrays: the elementwise, reduction and data-movement kernels run
// natively (native/src/elementwise/cpu/, multithreaded) when the loaded binding has them (the Node-API
// addon), else as the TypeScript loops of this folder (the WebAssembly build, or before any binding
// loads); deformable convolution and mask softmax always go through the native binding. With the Node
// addon every native CPU kernel is queued on its CPU queue and returns at once (../../native/cpu-queue.ts);
// the TypeScript loops read their arrays through CpuStorage.data, which waits for the queued work first.
// Outputs reuse the arrays of disposed tensors when sizes match (cpu-storage.ts).

import { formatExpected, InvalidArgumentError } from '@tvdcn/shape';
import type { KernelBackend } from '../kernel-backend.js';
import type { Device } from '../../tensor/device.js';
import { DTYPE_TO_ARRAY, expectCpuDType, type DType, type TypedArray } from '../../tensor/dtype.js';
import { CpuStorage, type Storage } from '../../tensor/storage.js';
import { allocCpuUninit, arrayOf, newCpuStorage, takeCpuStorage } from './cpu-storage.js';
import { addInPlaceCpu, binaryCpu, castCpu, unaryCpu } from './elementwise.js';
import { copyStridedCpu, gatherCpu, scatterAddCpu } from './movement.js';
import {
  hasTensorKernels,
  type NativeBinding,
  type NativeTaskResult,
  type NativeTensor,
  type NativeTensorKernels,
} from '../../native/binding.js';
import { cpuTaskDone, hasPendingCpuWork, noteCpuTask } from '../../native/cpu-queue.js';
import { getBinding } from '../../native/load-binding.js';
import { fromNativeError } from '../../native/native-errors.js';
import { nativeOps } from '../native-ops.js';
import { nativeTensorOps } from '../native-tensor-ops.js';
import { sumCpu } from './reduce.js';

function checkDevice(device: Device): void {
  if (device !== 'cpu') {
    throw new InvalidArgumentError(formatExpected('cpuKernels', "device 'cpu'", `'${device}'`), 'device');
  }
}

// The binding tensorKernels() looked at last, and what it found.
let checkedBinding: NativeBinding | null = null;
let checkedKernels: NativeTensorKernels | null = null;

/**
 * The native tensor kernels when the loaded binding has them, else null (then the TypeScript loops run).
 * A binding that cannot load yet (a browser before `loadBackend()`) is no error here: the loops serve.
 */
function tensorKernels(): NativeTensorKernels | null {
  let b: NativeBinding;
  try {
    b = getBinding();
  } catch {
    return null;
  }
  if (b !== checkedBinding) {
    checkedBinding = b;
    checkedKernels = hasTensorKernels(b) ? b : null;
  }
  return checkedKernels;
}

/**
 * How the binding sees a CPU storage: its array and its id. The array is taken without waiting for the
 * queued work on it: the native CPU queue orders the work itself (../../native/cpu-queue.ts).
 */
function view(storage: Storage, shape: readonly number[]): NativeTensor {
  return {
    data: (storage as CpuStorage).queuedData as Float32Array | Float64Array,
    shape,
    dtype: storage.dtype,
    id: storage.id,
  };
}

/** Records the CPU task a binding call queued on the storages it reads and writes. */
function called(result: NativeTaskResult, storages: readonly (Storage | null)[]): void {
  if (typeof result === 'number') noteCpuTask(getBinding(), result, storages as (CpuStorage | null)[]);
}

/** The native path, used only when tensorKernels() is not null. */
const native = nativeTensorOps({
  binding: (what) => {
    const b = tensorKernels();
    if (b === null) throw new Error(`internal error: ${what}: no native tensor kernels, please report`);
    return b;
  },
  // The native kernels write every element of their outputs: a cached array needs no clearing.
  alloc: (_device, dtype, numel) => allocCpuUninit(dtype, numel),
  view,
  called,
});

/** @internal The CPU kernels. */
export const cpuKernels: KernelBackend = {
  type: 'cpu',
  zeros(device: Device, dtype: DType, numel: number): Storage {
    checkDevice(device);
    const s = takeCpuStorage(dtype, numel);
    if (s === null) return newCpuStorage(dtype, numel);
    // A cached array: cleared after the queued work on it (natively, in queue order), or here.
    cpuKernels.fill(s, 0);
    return s;
  },
  fromArray(device: Device, dtype: DType, data: TypedArray, adopt: boolean): Storage {
    checkDevice(device);
    const Ctor = DTYPE_TO_ARRAY[expectCpuDType('tensor', dtype)];
    if (adopt && data instanceof Ctor) return new CpuStorage(data); // the caller's array: never reused
    // A copy the library owns: into a cached array when its queued work is done (written here, on the JS thread).
    const s = takeCpuStorage(dtype, data.length);
    if (s !== null) {
      if (cpuTaskDone(s.lastTask)) {
        (s.queuedData as Float32Array | Float64Array).set(data);
        return s;
      }
      s.release(); // back to the cache (not yet retained: released at once)
    }
    return new CpuStorage(new Ctor(data), { reusable: true });
  },
  read(storage: Storage): TypedArray {
    return arrayOf(storage).slice();
  },
  // A copy queued behind the work on the storage (never blocking the event loop), or at once when none is
  // pending (or the binding has no queue: the WebAssembly build); into `out` when given (checked by the caller).
  async readAsync(storage: Storage, out?: TypedArray): Promise<TypedArray> {
    const s = storage as CpuStorage;
    if (hasPendingCpuWork(s)) {
      const b = getBinding();
      if (b.cpuQueueRead !== undefined) {
        const dst =
          out ?? (new DTYPE_TO_ARRAY[expectCpuDType('data', s.dtype)](s.numel) as Float32Array | Float64Array);
        try {
          return await b.cpuQueueRead(view(s, [s.numel]), dst);
        } catch (e) {
          throw fromNativeError(e);
        }
      }
    }
    if (out === undefined) return arrayOf(storage).slice();
    out.set(arrayOf(storage));
    return out;
  },
  cast: (storage, dtype) => (tensorKernels() ? native.cast(storage, dtype) : castCpu(storage, dtype)),
  fill(storage: Storage, value: number): void {
    if (tensorKernels()) native.fill(storage, value);
    else arrayOf(storage).fill(value);
  },
  addInPlace: (dst, src) => (tensorKernels() ? native.addInPlace(dst, src) : addInPlaceCpu(dst, src)),
  unary: (op, x, alpha) => (tensorKernels() ? native.unary(op, x, alpha) : unaryCpu(op, x, alpha)),
  binary: (op, a, b, outShape) => (tensorKernels() ? native.binary(op, a, b, outShape) : binaryCpu(op, a, b, outShape)),
  sum: (x, dims) => (tensorKernels() ? native.sum(x, dims) : sumCpu(x, dims)),
  copyStrided: (src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape) =>
    tensorKernels()
      ? native.copyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)
      : copyStridedCpu(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape),
  gather: (x, maps, outShape, value) =>
    tensorKernels() ? native.gather(x, maps, outShape, value) : gatherCpu(x, maps, outShape, value),
  scatterAdd: (g, maps, xShape) =>
    tensorKernels() ? native.scatterAdd(g, maps, xShape) : scatterAddCpu(g, maps, xShape),
  // Deformable convolution and mask softmax: the native kernels, on typed arrays (zero-copy).
  ...nativeOps({
    binding: () => getBinding(),
    alloc: (_device, dtype, numel) => allocCpuUninit(dtype, numel),
    view,
    called,
    savesColumns: true,
  }),
};
