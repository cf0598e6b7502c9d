// SPDX-License-Identifier: MIT
// Allocation helpers shared by the CPU kernels: typed arrays wrapped in CpuStorage, new or taken from the
// cache of the arrays of disposed tensors (../../tensor/cpu-array-cache.ts; NOTE [ Reusing the arrays of
// disposed CPU tensors ] in ../../tensor/storage.ts). Layout arithmetic (strides, element counts) is in
// ../../tensor/layout.ts.

import { MIN_CACHED_BYTES, takeCachedArray } from '../../tensor/cpu-array-cache.js';
import {
  allocateHostArray,
  DTYPE_TO_ARRAY,
  expectCpuDType,
  type CpuDType,
  type DType,
  type TypedArray,
} from '../../tensor/dtype.js';
import { CpuStorage, type Storage } from '../../tensor/storage.js';

/** @internal The typed array of a CPU storage. */
export function arrayOf(storage: Storage): TypedArray {
  return (storage as CpuStorage).data;
}

/**
 * @internal A CPU storage over a cached array of a disposed tensor (its old values; queued work on it is
 * ordered before anything queued on the new storage), or null when the cache has none of this size.
 */
export function takeCpuStorage(dtype: DType, numel: number): CpuStorage | null {
  const cached = takeCachedArray(expectCpuDType('zeros', dtype), numel);
  return cached === undefined ? null : new CpuStorage(cached.array, { reusable: true, lastTask: cached.lastTask });
}

/** @internal A new zero-filled CPU storage that only the library references. */
export function newCpuStorage(dtype: DType, numel: number): CpuStorage {
  return new CpuStorage(allocateHostArray('', expectCpuDType('zeros', dtype), numel), { reusable: true });
}

/** What this file reads of a Node Buffer. */
interface NodeBufferView {
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
}

/** Node's `Buffer` (allocUnsafeSlow: an ArrayBuffer without zero-filling); undefined elsewhere. */
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => NodeBufferView } }).Buffer;

/**
 * @internal A new array whose values are whatever its memory held (see NOTE [ Uninitialised kernel outputs ]);
 * a zero-filled one outside Node, below {@link MIN_CACHED_BYTES}, or where Node refuses the size.
 */
export function allocateHostArrayUninit(dtype: CpuDType, numel: number): TypedArray {
  const Ctor = DTYPE_TO_ARRAY[dtype];
  const bytes = numel * Ctor.BYTES_PER_ELEMENT;
  if (typeof nodeBuffer?.allocUnsafeSlow === 'function' && Number.isSafeInteger(numel) && bytes >= MIN_CACHED_BYTES) {
    let u8: NodeBufferView | null = null;
    try {
      u8 = nodeBuffer.allocUnsafeSlow(bytes);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // too large or out of memory: allocateHostArray says which
    }
    // allocUnsafeSlow's array owns its ArrayBuffer (no pool): offset 0, aligned for Float64Array.
    if (u8 !== null && u8.byteOffset === 0 && u8.buffer.byteLength === bytes) return new Ctor(u8.buffer, 0, numel);
  }
  return allocateHostArray('', dtype, numel);
}

// NOTE [ Uninitialised kernel outputs ]
// A kernel that writes every element of its output (the native kernels: deformable convolution and its
// gradients, the tensor kernels) gets a cached array with an old tensor's values when one fits, and else a
// new array that Node does not zero-fill (Buffer.allocUnsafeSlow; --zero-fill-buffers still zero-fills).
// V8's `new Float32Array(n)` zero-fills through calloc, which clears memory that malloc reuses: a pass over
// the whole output, on the JS thread, before the kernel writes it again (docs/perf/cpu.md, session 17,
// k17c: 0.3 ms of edvr-64's forward when its 4 MB output does not come back to the cache, e.g. after
// cpuData()). Fresh pages from the system are zero either way (their faults remain).

/**
 * @internal A CPU storage for a kernel that writes every element of it (the native kernels' outputs): a
 * cached array with old values when one fits, else a new one that is not zero-filled (NOTE above).
 */
export function allocCpuUninit(dtype: DType, numel: number): CpuStorage {
  return (
    takeCpuStorage(dtype, numel) ??
    new CpuStorage(allocateHostArrayUninit(expectCpuDType('zeros', dtype), numel), { reusable: true })
  );
}

/** @internal A zero-filled CPU storage (a cached array is cleared on the JS thread, after its queued work). */
export function allocCpu(dtype: DType, numel: number): CpuStorage {
  const s = takeCpuStorage(dtype, numel);
  if (s === null) return newCpuStorage(dtype, numel);
  s.data.fill(0);
  return s;
}
