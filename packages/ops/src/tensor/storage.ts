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
import { cacheArray } from './cpu-array-cache.js';

let nextStorageId = 1;

/**
 * @internal The reference count and the accounting of one storage, kept apart from its memory: what a
 * garbage-collected tensor's finalizer releases. It must not reference the memory (a CPU storage's typed
 * array), or the memory would live until finalizers run, which a synchronous loop never lets happen.
 */
export class StorageRecord {
  /** Number of holders (tensors and saved tensors). */
  refs = 0;
  /** True once the memory was freed (or collected) and counted as such. */
  freed = false;
  /** Returns memory that the garbage collector cannot reclaim by itself (a CUDA buffer); null for none. */
  releaseMemory: (() => void) | null = null;

  constructor(
    readonly device: Device,
    readonly bytes: number,
  ) {
    storageAllocated(device, bytes);
  }

  /** Removes a holder; at zero, counts the memory freed and returns it. True when this freed it. */
  release(): boolean {
    if (this.freed) return false;
    if (--this.refs > 0) return false;
    this.markFreed();
    return true;
  }

  /** Counts the memory freed and returns it (once). */
  markFreed(): void {
    if (this.freed) return;
    this.freed = true;
    storageFreed(this.device, this.bytes);
    const releaseMemory = this.releaseMemory;
    this.releaseMemory = null;
    releaseMemory?.();
  }
}

// NOTE [ Storages the garbage collector reclaims ]
// A tensor dropped without dispose() is collected by V8 together with its storage when nothing else
// holds the storage: a CPU storage's typed array is ordinary V8 memory (its ArrayBuffer backing store is
// counted by V8 as external memory, so allocation pressure triggers collections), and a CUDA buffer is
// reported to V8 by the addon (napi_adjust_external_memory). Finalizers only fix the counters afterwards:
// they run as tasks between event-loop turns, never inside a synchronous training loop, so nothing that
// holds memory may wait for them. This registry counts collected storages as freed and returns what
// the collector cannot (releaseMemory).
const collected = new FinalizationRegistry<StorageRecord>((record) => record.markFreed());

/**
 * @internal Memory of `numel` elements of one dtype on one device. Created with no reference; the
 * first holder calls {@link Storage.retain}.
 */
export abstract class Storage {
  /** Unique id (a counter, never reused): how the native CPU queue tracks the work on this memory. */
  readonly id: number = nextStorageId++;
  readonly #record: StorageRecord;

  protected constructor(
    readonly device: Device,
    readonly dtype: DType,
    readonly numel: number,
  ) {
    this.#record = new StorageRecord(device, this.byteLength);
    collected.register(this, this.#record, this.#record);
  }

  /** Size in bytes. */
  get byteLength(): number {
    return this.numel * DTYPE_BYTES[this.dtype];
  }

  /** Number of holders. */
  get refCount(): number {
    return this.#record.refs;
  }

  /** True once the memory was freed. */
  get freed(): boolean {
    return this.#record.freed;
  }

  /** The reference count without the memory (what a tensor's finalizer holds). */
  get record(): StorageRecord {
    return this.#record;
  }

  /** Adds a holder. */
  retain(): this {
    this.#record.refs++;
    return this;
  }

  /** Removes a holder; frees the memory when none is left. */
  release(): void {
    if (this.#record.release()) {
      collected.unregister(this.#record);
      this.free();
    }
  }

  /**
   * Drops this object's reference to the memory once freed (its releaseMemory, if any, has run). Memory
   * the garbage collector cannot see goes in {@link StorageRecord.releaseMemory}, which must not capture
   * the storage.
   */
  protected abstract free(): void;

  /** Throws when the memory can no longer be used (a CPU array whose buffer was detached). */
  assertUsable(): void {}
}

// NOTE [ Reusing the arrays of disposed CPU tensors ]
// Every CPU op's output is a typed array; were each a new ArrayBuffer, only V8's garbage collector would
// return them, and an inference server whose requests' arrays wait behind others' work on the CPU queue
// keeps them alive across scavenges: they are promoted, and only mark-compacts (pauses of tens of ms on the
// event loop) free them (docs/perf/http-inference.md). So the array of a storage freed by dispose() (or
// tidy(), or backward releasing what it saved) goes to a cache (cpu-array-cache.ts) from which the next
// allocation of the same dtype and length takes it, if the array is the library's alone:
// - only arrays the library allocated (`reusable`): never an array a user passed with `{ copy: false }`,
//   and never one handed out by `cpuData()` (share() clears the flag), since a user may read or write it
//   later. A storage collected by V8 (a tensor dropped without dispose()) takes its array with it.
// - queued CPU work may still read or write the array: the new storage inherits the last task
//   (`lastTask`), so reading it on the JS thread waits for that work first, and the queue runs every task
//   in submission order, so the new storage's own kernels write it only after the old work is done.
// - its values are the old tensor's: only kernels that write every element of their output get a cached
//   array uninitialised (cpu-storage.ts: allocCpuUninit); zero-filled allocations are cleared first.

/**
 * @internal A CPU storage: a typed array of the storage's dtype. With the Node addon, CPU kernels run on
 * the native CPU queue (../native/cpu-queue.ts): `data` waits for the queued work on this storage, and the
 * queued work keeps the array alive after `free()` until it ran. A storage of an array only the library
 * references (`reusable`) gives it back to the cache of reusable arrays when freed (NOTE above).
 */
export class CpuStorage extends Storage implements QueuedStorage {
  #data: TypedArray | null;
  #reusable: boolean;
  /** Sequence number of the last queued CPU task reading or writing this storage (0: none). */
  lastTask: number;

  /**
   * @param data - the values (the storage keeps the array itself)
   * @param options - `reusable`: only the library references `data`, so it may be reused once freed
   *   (default false); `lastTask`: queued work that may still read or write `data` (a cached array's)
   */
  constructor(data: TypedArray, options?: { reusable?: boolean; lastTask?: number }) {
    super('cpu', data instanceof Float64Array ? 'float64' : 'float32', data.length);
    this.#data = data;
    this.#reusable = options?.reusable ?? false;
    this.lastTask = options?.lastTask ?? 0;
    // A storage collected without free() must also forget its poison (captures the id, not the storage).
    const id = this.id;
    this.record.releaseMemory = () => cpuStorageFreed({ id, lastTask: 0 });
  }

  /** True while the array may go back to the cache when this storage is freed. */
  get reusable(): boolean {
    return this.#reusable;
  }

  /**
   * {@link CpuStorage.data} for code outside the library (`cpuData()`), which may keep the array: it is then
   * never reused for another tensor.
   */
  share(): TypedArray {
    const data = this.data;
    this.#reusable = false;
    return data;
  }
  /** True when `array` views any byte of this storage's ArrayBuffer range (without waiting for queued work). */
  sharesMemoryWith(array: TypedArray): boolean {
    const data = this.queuedData;
    if (array.buffer !== data.buffer) return false;
    const start = data.byteOffset;
    const end = start + data.byteLength;
    return array.byteOffset < end && array.byteOffset + array.byteLength > start;
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
    // Its poison, if any, was forgotten by the record's releaseMemory.
    const data = this.#data;
    this.#data = null;
    if (this.#reusable && data !== null && data.length === this.numel) cacheArray(data, this.lastTask);
  }
}
