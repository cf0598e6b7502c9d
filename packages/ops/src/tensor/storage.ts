// SPDX-License-Identifier: MIT
// The memory behind tensors: a reference-counted `Storage` per device. Tensors (and views that share
// memory, such as `reshape` and `detach` results, and tensors saved for backward) each hold one
// reference; the memory is freed when the last reference goes. Ops never touch storages directly:
// they go through backends/ (see kernel-backend.ts), which know the concrete classes.

import { DisposedTensorError } from '@tvdcn/shape';
import type { Device } from './device.js';
import { DTYPE_BYTES, type DType, type TypedArray } from './dtype.js';
import { storageAllocated, storageFreed } from './memory.js';
import { cpuStorageFreed, type QueuedStorage, syncCpuStorage } from '../native/cpu-queue.js';

let nextStorageId = 1;

/**
 * @internal Memory of `numel` elements of one dtype on one device. Created with no reference; the
 * first holder calls {@link Storage.retain}.
 */
export abstract class Storage {
  /** Unique id (a counter, never reused): how the native CPU queue tracks the work on this memory. */
  readonly id: number = nextStorageId++;
  /** Number of holders (tensors and saved tensors). */
  #refs = 0;
  #freed = false;

  protected constructor(
    readonly device: Device,
    readonly dtype: DType,
    readonly numel: number,
  ) {
    storageAllocated(device, this.byteLength);
  }

  /** Size in bytes. */
  get byteLength(): number {
    return this.numel * DTYPE_BYTES[this.dtype];
  }

  /** Number of holders. */
  get refCount(): number {
    return this.#refs;
  }

  /** True once the memory was freed. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Adds a holder. */
  retain(): this {
    this.#refs++;
    return this;
  }

  /** Removes a holder; frees the memory when none is left. */
  release(): void {
    if (this.#freed) return;
    if (--this.#refs <= 0) {
      this.#freed = true;
      storageFreed(this.device, this.byteLength);
      this.free();
    }
  }

  /** Returns the memory to its allocator. */
  protected abstract free(): void;

  /** Throws when the memory can no longer be used (a CPU array whose buffer was detached). */
  assertUsable(): void {}
}

/**
 * @internal A CPU storage: a typed array of the storage's dtype. With the Node addon, CPU kernels run on
 * the native CPU queue (../native/cpu-queue.ts): `data` waits for the queued work on this storage, and the
 * queued work keeps the array alive after `free()` until it ran.
 */
export class CpuStorage extends Storage implements QueuedStorage {
  #data: TypedArray | null;
  /** Sequence number of the last queued CPU task reading or writing this storage (0: none). */
  lastTask = 0;

  constructor(data: TypedArray) {
    super('cpu', data instanceof Float64Array ? 'float64' : 'float32', data.length);
    this.#data = data;
  }

  /**
   * The values; the array itself, not a copy, after the queued work on it ran (this blocks the JS thread
   * while it runs). Throws the typed error of a failed queued task that wrote it, an internal error once
   * freed, and a {@link DisposedTensorError} when the array's buffer was detached (transferred) behind the
   * tensor's back.
   */
  get data(): TypedArray {
    if (this.lastTask !== 0) syncCpuStorage(this);
    return this.queuedData;
  }

  /**
   * The array without waiting for queued work: only for handing it to the native queue, which orders the
   * work itself. Same errors as {@link CpuStorage.data} for freed and detached memory.
   */
  get queuedData(): TypedArray {
    const data = this.#data;
    if (data === null) throw new Error('internal error: CPU storage used after it was freed, please report');
    if (data.length !== this.numel) {
      throw new DisposedTensorError(
        `expected a tensor whose memory is attached, but got a tensor of ${this.numel} elements whose ArrayBuffer ` +
          'was detached (transferred by postMessage or structuredClone): a tensor made with { copy: false } ' +
          'shares its array, so transfer a copy instead',
      );
    }
    return data;
  }

  override assertUsable(): void {
    void this.queuedData;
  }

  protected free(): void {
    this.#data = null;
    if (this.lastTask !== 0) cpuStorageFreed(this);
  }
}
