// SPDX-License-Identifier: MIT
// Memory bookkeeping: tidy() scopes that dispose the tensors created inside them, keep(), and
// memory() counters. Not for allocation itself (see storage.ts and backends/).

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import { cpuCachedBytes } from './cpu-array-cache.js';
import type { Device } from './device.js';

/** What `tidy()` scopes track and `keep()` accepts: anything that can be disposed (tensors, modules' parameters). */
export interface ScopedResource {
  /** Frees the resource now. */
  dispose(): void;
}

/** What {@link memory} reports. */
export interface MemoryInfo {
  /** Tensors created and neither disposed nor garbage-collected. */
  tensors: number;
  /** Live storages: memory blocks, each shared by a tensor, its views and autograd's saved copies. */
  storages: number;
  /** Bytes of the live storages, all devices together. */
  bytes: number;
  /**
   * Bytes of the arrays of disposed CPU tensors kept for reuse by later CPU tensors of the same size (not in
   * `bytes`; at most `TVDCN_CPU_CACHE_MB`, default 64 MiB; `cpuEmptyCache()` drops them).
   */
  cpuCachedBytes: number;
  /** Bytes and storages per device (`'cpu'`, `'cuda:0'`, ...); devices never used are absent. */
  devices: Record<
    string,
    {
      /** Bytes of the live storages on this device. */
      bytes: number;
      /** Live storages on this device. */
      storages: number;
    }
  >;
}

let liveTensors = 0;
let liveStorages = 0;
let liveBytes = 0;
const perDevice = new Map<string, { bytes: number; storages: number }>();

/** Open tidy() scopes, innermost last. */
const scopes: Set<ScopedResource>[] = [];

/** @internal Counts a storage allocation. */
export function storageAllocated(device: Device, bytes: number): void {
  liveStorages++;
  liveBytes += bytes;
  let d = perDevice.get(device);
  if (d === undefined) {
    d = { bytes: 0, storages: 0 };
    perDevice.set(device, d);
  }
  d.bytes += bytes;
  d.storages++;
}

/** @internal Counts a storage release. */
export function storageFreed(device: Device, bytes: number): void {
  liveStorages--;
  liveBytes -= bytes;
  const d = perDevice.get(device);
  if (d !== undefined) {
    d.bytes -= bytes;
    d.storages--;
  }
}

/** @internal Counts a new tensor and adds it to the innermost tidy() scope, if any. */
export function tensorCreated(t: ScopedResource): void {
  liveTensors++;
  const top = scopes.length > 0 ? scopes[scopes.length - 1] : undefined;
  if (top !== undefined) top.add(t);
}

/** @internal Counts a disposed (or collected) tensor and removes it from its scope. */
export function tensorReleased(t: ScopedResource | null): void {
  liveTensors--;
  if (t !== null) untrack(t);
}

/** Removes `t` from the scope that tracks it; searches from the innermost scope. */
function untrack(t: ScopedResource): boolean {
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (scopes[i].delete(t)) return true;
  }
  return false;
}

/**
 * Live tensor and memory counters, for finding leaks: compare two calls around the code under suspicion.
 *
 * Counts are exact while code runs synchronously. Tensors dropped without `dispose()` are counted until
 * their finalizers run, between event-loop turns (never inside a synchronous loop); their memory does not
 * wait for that: the garbage collector reclaims it when it collects them.
 *
 * @example
 * ```ts
 * const before = memory().tensors;
 * tidy(() => add(a, b).sum().item());
 * memory().tensors === before; // true
 * ```
 */
export function memory(): MemoryInfo {
  const devices: Record<string, { bytes: number; storages: number }> = {};
  for (const [name, d] of perDevice) {
    if (d.storages > 0) devices[name] = { bytes: d.bytes, storages: d.storages };
  }
  return { tensors: liveTensors, storages: liveStorages, bytes: liveBytes, cpuCachedBytes: cpuCachedBytes(), devices };
}

/** Collects the scoped resources reachable from `value` through arrays and plain objects. */
function collect(
  value: unknown,
  isResource: (x: unknown) => x is ScopedResource,
  out: Set<ScopedResource>,
  seen: Set<unknown>,
): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (isResource(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, isResource, out, seen);
    return;
  }
  if (value instanceof Map) {
    for (const item of value.values()) collect(item, isResource, out, seen);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    for (const key of Object.keys(value)) collect((value as Record<string, unknown>)[key], isResource, out, seen);
  }
}

let isTensorLike: (x: unknown) => x is ScopedResource = (x: unknown): x is ScopedResource => false;

/** @internal Installed by tensor.ts: recognises tensors in tidy() results. */
export function setTensorPredicate(predicate: (x: unknown) => x is ScopedResource): void {
  isTensorLike = predicate;
}

function isPromiseLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * @internal Runs `fn` in a new scope: tensors created inside and not returned (directly, or inside
 * returned arrays, plain objects and Maps) are disposed when it ends, also when it throws. Returned
 * tensors move to the enclosing scope.
 */
export function runInScope<T>(fn: () => T): T {
  const scope = new Set<ScopedResource>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(scope, null);
    throw e;
  }
  endScope(scope, result);
  return result;
}

function endScope(scope: Set<ScopedResource>, result: unknown): void {
  // Pop first, so that disposing does not search this scope again.
  const i = scopes.lastIndexOf(scope);
  if (i >= 0) scopes.splice(i, 1);
  if (scope.size === 0) return;
  const returned = new Set<ScopedResource>();
  if (result !== null && result !== undefined) collect(result, isTensorLike, returned, new Set());
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : undefined;
  for (const t of scope) {
    if (returned.has(t)) {
      if (parent !== undefined) parent.add(t);
    } else {
      t.dispose();
    }
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it that it does not return (directly, or inside a
 * returned array, plain object or Map) and that was not passed to {@link keep}. Returned tensors belong
 * to the enclosing `tidy()`, if any. Tensors are disposed also when `fn` throws.
 *
 * Gradients that `backward()` stores in `.grad` are never disposed by `tidy()`: they belong to their
 * tensor. Tensors saved for a backward pass keep their memory until that backward runs (or the graph is
 * released), even when `tidy()` disposes them.
 *
 * @param fn - a synchronous function
 * @returns what `fn` returns
 * @throws {@link InvalidArgumentError} when `fn` is not a function or returns a Promise (an async function
 *   would let tensors escape the scope; call `tidy()` inside it, around each synchronous part)
 * @example
 * ```ts
 * const y = tidy(() => relu(add(mul(x, w), b))); // the products in between are disposed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(formatExpected('tidy', 'fn to be a function', formatValue(fn)), 'fn');
  }
  return runInScope(() => {
    const result = fn();
    if (isPromiseLike(result)) {
      throw new InvalidArgumentError(
        'tidy(): expected fn to be synchronous, but it returned a Promise; ' +
          'call tidy() inside the async function, around each synchronous part',
        'fn',
      );
    }
    return result;
  });
}

/**
 * Removes `tensor` from every `tidy()` scope, so that no `tidy()` disposes it. Outside `tidy()` it does
 * nothing. Returns `tensor`.
 *
 * @example
 * ```ts
 * let kept: Tensor;
 * tidy(() => { kept = keep(mul(a, b)); return sum(kept).item(); });
 * ```
 */
export function keep<T extends ScopedResource>(tensor: T): T {
  untrack(tensor);
  return tensor;
}
