// SPDX-License-Identifier: MIT
// The JS side of the addon's CPU execution queue (native/src/napi/cpu_queue.h). CPU ops of the Node addon
// queue their kernels and return at once; each CPU storage remembers the last queued task that reads or
// writes it (`lastTask`). Reading a storage on the JS thread (`CpuStorage.data`: toTypedArray, item,
// cpuData, the TypeScript kernels, printing, ...) first waits for that task, then throws the error of a
// failed task that poisoned it. The WebAssembly binding and a disabled queue return no task number: their
// storages never wait.

import type { DcnError } from '@tvdcn/shape';
import type { NativeBinding, NativeTaskResult } from './binding.js';
import { fromNativeError } from './native-errors.js';

/** @internal What the queue's bookkeeping needs of a storage. */
export interface QueuedStorage {
  /** Unique, never reused. */
  readonly id: number;
  /** Sequence number of the last queued task reading or writing it; 0 if none. */
  lastTask: number;
}

type QueueBinding = Pick<NativeBinding, 'cpuQueueSync' | 'cpuQueueForget'>;

/** The binding that queued work (set by the first queued task). */
let queue: QueueBinding | null = null;
/** Tasks known to be complete (a lower bound of the native count). */
let completed = 0;
/** Storages poisoned by failed queued work, with their error. */
const poisoned = new Map<number, DcnError>();

/**
 * @internal Records that task `result` (what a native compute function returned) reads or writes
 * `storages`. Nothing to record when the work already ran (`result` is not a number).
 */
export function noteCpuTask(
  binding: QueueBinding,
  result: NativeTaskResult,
  storages: readonly (QueuedStorage | null | undefined)[],
): void {
  if (typeof result !== 'number') return;
  queue = binding;
  for (const s of storages) if (s != null) s.lastTask = result;
}

/** @internal True while queued work may still read or write `s`. */
export function hasPendingCpuWork(s: QueuedStorage): boolean {
  return s.lastTask > completed;
}

/**
 * @internal True when every task up to `seq` is done: without waiting, asking the queue for its count when
 * the last one known here is older.
 */
export function cpuTaskDone(seq: number): boolean {
  if (seq <= completed) return true;
  waitForTask(0);
  return seq <= completed;
}

/**
 * @internal Waits until the queued work on `s` is done (blocking the JS thread, like a CUDA synchronise).
 * @throws the typed error (a DcnError naming the op) of the failed queued task that poisoned `s`
 */
export function syncCpuStorage(s: QueuedStorage): void {
  if (s.lastTask > completed) waitForTask(s.lastTask);
  if (poisoned.size !== 0) {
    const error = poisoned.get(s.id);
    if (error !== undefined) throw error;
  }
}

function waitForTask(seq: number): void {
  if (queue?.cpuQueueSync === undefined) return;
  const r = queue.cpuQueueSync(seq);
  if (typeof r === 'number') {
    if (r > completed) completed = r;
    return;
  }
  if (r.completed > completed) completed = r.completed;
  for (const p of r.poisoned) poisoned.set(p.id, fromNativeError(p.error));
}

/** @internal The storage was freed: forget its poison (here and natively). */
export function cpuStorageFreed(s: QueuedStorage): void {
  if (poisoned.size !== 0 && poisoned.delete(s.id)) queue?.cpuQueueForget?.(s.id);
}
