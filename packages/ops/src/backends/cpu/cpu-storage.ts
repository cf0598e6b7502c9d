// SPDX-License-Identifier: MIT
// Allocation helpers shared by the CPU kernels: typed arrays wrapped in CpuStorage, new or taken from the
// cache of the arrays of disposed tensors (../../tensor/cpu-array-cache.ts; NOTE [ Reusing the arrays of
// disposed CPU tensors ] in ../../tensor/storage.ts). Layout arithmetic (strides, element counts) is in
// ../../tensor/layout.ts.

import { takeCachedArray } from '../../tensor/cpu-array-cache.js';
import { allocateHostArray, expectCpuDType, type DType, type TypedArray } from '../../tensor/dtype.js';
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

/**
 * @internal A CPU storage for a kernel that writes every element of it (the native kernels' outputs): a
 * cached array with old values when one fits, else a new one.
 */
export function allocCpuUninit(dtype: DType, numel: number): CpuStorage {
  return takeCpuStorage(dtype, numel) ?? newCpuStorage(dtype, numel);
}

/** @internal A zero-filled CPU storage (a cached array is cleared on the JS thread, after its queued work). */
export function allocCpu(dtype: DType, numel: number): CpuStorage {
  const s = takeCpuStorage(dtype, numel);
  if (s === null) return newCpuStorage(dtype, numel);
  s.data.fill(0);
  return s;
}
