// SPDX-License-Identifier: MIT
// Allocation helpers shared by the CPU kernels: typed arrays wrapped in CpuStorage. Layout arithmetic
// (strides, element counts) is in ../../tensor/layout.ts.

import { allocateHostArray, expectCpuDType, type DType, type TypedArray } from '../../tensor/dtype.js';
import { CpuStorage, type Storage } from '../../tensor/storage.js';

/** @internal The typed array of a CPU storage. */
export function arrayOf(storage: Storage): TypedArray {
  return (storage as CpuStorage).data;
}

/** @internal A zero-filled CPU storage. */
export function allocCpu(dtype: DType, numel: number): CpuStorage {
  return new CpuStorage(allocateHostArray('', expectCpuDType('zeros', dtype), numel));
}
