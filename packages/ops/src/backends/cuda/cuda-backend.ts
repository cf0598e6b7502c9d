// SPDX-License-Identifier: MIT
// The CUDA kernel table: every KernelBackend method as one call into the native CUDA kernels
// (native/src/{elementwise,mask,deform_conv}/cuda), on device buffers. Shapes are merged here (fewer
// dimensions, cheaper index arithmetic on the GPU); the native side re-checks sizes against buffers.
// The table is registered for 'cuda' at import (register.ts); each method checks on first use that the
// loaded binary has usable CUDA devices, and says why not otherwise.

import { getCudaBinding, type CudaBinding } from '../../native/cuda-binding.js';
import type { Device } from '../../tensor/device.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import type { Storage } from '../../tensor/storage.js';
import { broadcastStrides, coalesce, numelOf } from '../../tensor/layout.js';
import type { BinaryOp, KernelBackend, KernelTensor, UnaryOp } from '../kernel-backend.js';
import { nativeOps } from '../native-ops.js';
import { bufferOf, CudaStorage } from './cuda-storage.js';

function binding(what: string): CudaBinding {
  return getCudaBinding(what);
}

function alloc(b: CudaBinding, device: Device, dtype: DType, numel: number): CudaStorage {
  return CudaStorage.allocate(b, device, dtype, numel);
}

/** @internal The CUDA kernels, with `readAsync` (what `Tensor.data()` awaits for device tensors). */
export const cudaKernels: KernelBackend & { readAsync(storage: Storage): Promise<TypedArray> } = {
  type: 'cuda',

  /** The values as a Promise: the copy is enqueued now and awaited on a worker thread. */
  readAsync(storage: Storage): Promise<TypedArray> {
    try {
      return binding('data()').cudaDownloadAsync(bufferOf(storage));
    } catch (e) {
      return Promise.reject(e);
    }
  },

  zeros(device: Device, dtype: DType, numel: number): Storage {
    const b = binding(`zeros() on '${device}'`);
    const s = alloc(b, device, dtype, numel);
    b.cudaFill(s.buffer, 0);
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

  cast(storage: Storage, dtype: DType): Storage {
    const b = binding('to()');
    const s = alloc(b, storage.device, dtype, storage.numel);
    b.cudaCast(bufferOf(storage), s.buffer);
    return s;
  },

  fill(storage: Storage, value: number): void {
    binding('fill()').cudaFill(bufferOf(storage), value);
  },

  addInPlace(dst: Storage, src: Storage): void {
    binding('backward()').cudaAddInPlace(bufferOf(dst), bufferOf(src));
  },

  unary(op: UnaryOp, x: Storage, alpha: number): Storage {
    const b = binding(op);
    const s = alloc(b, x.device, x.dtype, x.numel);
    b.cudaUnary(op, bufferOf(x), s.buffer, alpha);
    return s;
  },

  binary(op: BinaryOp, a: KernelTensor, bt: KernelTensor, outShape: readonly number[]): Storage {
    const b = binding(op);
    const n = numelOf(outShape);
    const s = alloc(b, a.storage.device, a.storage.dtype, n);
    if (n === 0) return s;
    const c = coalesce(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(bt.shape, outShape)]);
    b.cudaBinary(op, bufferOf(a.storage), c.strides[0], bufferOf(bt.storage), c.strides[1], s.buffer, c.shape);
    return s;
  },

  sum(x: KernelTensor, dims: readonly number[]): Storage {
    const b = binding('sum()');
    const reduced = new Set(dims);
    let n = 1;
    for (let d = 0; d < x.shape.length; d++) if (!reduced.has(d)) n *= x.shape[d];
    const s = alloc(b, x.storage.device, x.storage.dtype, n);
    b.cudaSum(bufferOf(x.storage), x.shape, dims, s.buffer);
    return s;
  },

  copyStrided(
    src: Storage,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Storage,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void {
    if (numelOf(shape) === 0) return;
    const c = coalesce(shape, [srcStrides, dstStrides]);
    binding('copy').cudaCopyStrided(
      bufferOf(src),
      srcOffset,
      c.strides[0],
      bufferOf(dst),
      dstOffset,
      c.strides[1],
      c.shape,
    );
  },

  gather(x: KernelTensor, maps: readonly Int32Array[], outShape: readonly number[], value: number): Storage {
    const b = binding('pad()');
    const s = alloc(b, x.storage.device, x.storage.dtype, numelOf(outShape));
    if (s.numel > 0) b.cudaGather(bufferOf(x.storage), x.shape, maps, outShape, value, s.buffer);
    return s;
  },

  scatterAdd(g: KernelTensor, maps: readonly Int32Array[], xShape: readonly number[]): Storage {
    const b = binding('pad() backward');
    const s = alloc(b, g.storage.device, g.storage.dtype, numelOf(xShape));
    if (s.numel > 0) {
      if (g.storage.numel === 0) b.cudaFill(s.buffer, 0);
      else b.cudaScatterAdd(bufferOf(g.storage), g.shape, maps, xShape, s.buffer);
    }
    return s;
  },

  // Deformable convolution and mask softmax: the shared native exports, on device buffers.
  ...nativeOps({
    binding: (what) => binding(what),
    alloc: (device, dtype, numel) => alloc(binding('deformConv'), device, dtype, numel),
    view: (storage, shape) => ({ data: bufferOf(storage), shape, dtype: storage.dtype }),
  }),
};
