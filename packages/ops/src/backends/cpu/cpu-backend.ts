// SPDX-License-Identifier: MIT
// The CPU kernel table: elementwise, reduction and data-movement kernels written in TypeScript over
// typed arrays, and deformable convolution / mask softmax through the native binding.

import { formatExpected, InvalidArgumentError } from '@tvdcn/shape';
import type { KernelBackend } from '../kernel-backend.js';
import type { Device } from '../../tensor/device.js';
import { DTYPE_TO_ARRAY, expectCpuDType, type DType, type TypedArray } from '../../tensor/dtype.js';
import { CpuStorage, type Storage } from '../../tensor/storage.js';
import { allocCpu, arrayOf } from './cpu-storage.js';
import { addInPlaceCpu, binaryCpu, castCpu, unaryCpu } from './elementwise.js';
import { copyStridedCpu, gatherCpu, scatterAddCpu } from './movement.js';
import { getBinding } from '../../native/load-binding.js';
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
    view: (storage, shape) => ({
      data: arrayOf(storage) as Float32Array | Float64Array,
      shape,
      dtype: storage.dtype,
    }),
  }),
};
