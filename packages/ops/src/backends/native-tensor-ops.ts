// SPDX-License-Identifier: MIT
// The elementwise, reduction and data-movement kernels of a KernelBackend through the native binding,
// for every device: one adapter that allocates the outputs, merges shapes (coalesce: fewer dimensions,
// cheaper index arithmetic) and hands flat views of the storages to the device-generic exports
// (native/src/napi/elementwise_binding.cc), which run the CPU kernels (native/src/elementwise/cpu/) on
// typed arrays and the CUDA kernels on device buffers. A device brings how it allocates a storage and how
// the binding sees one (cpu/cpu-backend.ts, cuda/cuda-backend.ts), as for native-ops.ts.

import type { NativeTaskResult, NativeTensor, NativeTensorKernels } from '../native/binding.js';
import type { Device } from '../tensor/device.js';
import type { DType } from '../tensor/dtype.js';
import type { Storage } from '../tensor/storage.js';
import { broadcastStrides, coalesce, numelOf } from '../tensor/layout.js';
import type { BinaryOp, IndexMap, KernelBackend, KernelTensor, UnaryOp } from './kernel-backend.js';

/** @internal The KernelBackend methods this adapter provides. */
export type NativeTensorOps = Pick<
  KernelBackend,
  'cast' | 'fill' | 'addInPlace' | 'unary' | 'binary' | 'sum' | 'copyStrided' | 'gather' | 'scatterAdd'
>;

/** @internal What a device brings to the adapter. */
export interface NativeTensorDevice {
  /** The binding's tensor kernels, or a clear error naming `what` (the op) when the device cannot run them. */
  binding(what: string): NativeTensorKernels;
  /** A new storage of `numel` elements (the kernels overwrite every element they are asked to write). */
  alloc(device: Device, dtype: DType, numel: number): Storage;
  /** How the binding sees `storage` with `shape` (no copy). */
  view(storage: Storage, shape: readonly number[]): NativeTensor;
  /**
   * Called after each binding call with what it returned and the storages it reads and writes (the CPU
   * records its queued task on them; see ../native/cpu-queue.ts).
   */
  called?(result: NativeTaskResult, storages: readonly (Storage | null)[]): void;
}

/** @internal The tensor kernels of a KernelBackend on `dev`. */
export function nativeTensorOps(dev: NativeTensorDevice): NativeTensorOps {
  const flat = (s: Storage): NativeTensor => dev.view(s, [s.numel]);
  // The binding call is evaluated before this, whether or not the device has a `called` hook.
  const called = (result: NativeTaskResult, storages: readonly Storage[]): void => dev.called?.(result, storages);

  return {
    cast(storage: Storage, dtype: DType): Storage {
      const b = dev.binding('to()');
      const out = dev.alloc(storage.device, dtype, storage.numel);
      called(b.cast(flat(storage), flat(out)), [storage, out]);
      return out;
    },

    fill(storage: Storage, value: number): void {
      const b = dev.binding('fill()');
      called(b.fill(flat(storage), value), [storage]);
    },

    addInPlace(dst: Storage, src: Storage): void {
      const b = dev.binding('backward()');
      called(b.addInPlace(flat(dst), flat(src)), [dst, src]);
    },

    unary(op: UnaryOp, x: Storage, alpha: number): Storage {
      const b = dev.binding(op);
      const out = dev.alloc(x.device, x.dtype, x.numel);
      called(b.unary(op, flat(x), flat(out), alpha), [x, out]);
      return out;
    },

    binary(op: BinaryOp, a: KernelTensor, bt: KernelTensor, outShape: readonly number[]): Storage {
      const b = dev.binding(op);
      const n = numelOf(outShape);
      const out = dev.alloc(a.storage.device, a.storage.dtype, n);
      if (n === 0) return out;
      const c = coalesce(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(bt.shape, outShape)]);
      const r = b.binary(op, flat(a.storage), c.strides[0], flat(bt.storage), c.strides[1], flat(out), c.shape);
      called(r, [a.storage, bt.storage, out]);
      return out;
    },

    sum(x: KernelTensor, dims: readonly number[]): Storage {
      const b = dev.binding('sum()');
      const reduced = new Set(dims);
      let n = 1;
      for (let d = 0; d < x.shape.length; d++) if (!reduced.has(d)) n *= x.shape[d];
      const out = dev.alloc(x.storage.device, x.storage.dtype, n);
      if (n > 0) called(b.sum(flat(x.storage), x.shape, dims, flat(out)), [x.storage, out]);
      return out;
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
      const b = dev.binding('copy');
      const r = b.copyStrided(flat(src), srcOffset, c.strides[0], flat(dst), dstOffset, c.strides[1], c.shape);
      called(r, [src, dst]);
    },

    gather(x: KernelTensor, maps: readonly IndexMap[], outShape: readonly number[], value: number): Storage {
      const b = dev.binding('pad()');
      const out = dev.alloc(x.storage.device, x.storage.dtype, numelOf(outShape));
      if (out.numel > 0) {
        called(b.gather(flat(x.storage), x.shape, maps, outShape, value, flat(out)), [x.storage, out]);
      }
      return out;
    },

    scatterAdd(g: KernelTensor, maps: readonly IndexMap[], xShape: readonly number[]): Storage {
      const b = dev.binding('pad() backward');
      const out = dev.alloc(g.storage.device, g.storage.dtype, numelOf(xShape));
      if (out.numel > 0) {
        called(b.scatterAdd(flat(g.storage), g.shape, maps, xShape, flat(out)), [g.storage, out]);
      }
      return out;
    },
  };
}
