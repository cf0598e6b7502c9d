// SPDX-License-Identifier: MIT
// The arrays of disposed CPU tensors, kept for reuse by the next CPU allocation of the same dtype and
// length (the idea of PyTorch's caching allocators, on typed arrays). See NOTE [ Reusing the arrays of
// disposed CPU tensors ] in storage.ts for why and when an array may come back here.

import type { CpuDType, TypedArray } from './dtype.js';

/** @internal A cached array and the last queued CPU task that read or wrote it (0: none). */
export interface CachedArray {
  readonly array: TypedArray;
  readonly lastTask: number;
}

/** Arrays below this size are not cached: V8 allocates them cheaply and they add little external memory. */
export const MIN_CACHED_BYTES = 4096;

/** The default limit of {@link cpuCachedBytes}: 64 MiB. */
export const DEFAULT_CPU_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * @internal What `TVDCN_CPU_CACHE_MB` means: the cache's limit in MiB, a non-negative decimal integer (`0`
 * turns the cache off); anything else is ignored (the default, 64 MiB, holds) with the warning returned.
 */
export function resolveCpuCacheLimit(value: string | undefined): { bytes: number; warning: string | null } {
  if (value === undefined) return { bytes: DEFAULT_CPU_CACHE_BYTES, warning: null };
  if (!/^[0-9]{1,7}$/.test(value)) {
    return {
      bytes: DEFAULT_CPU_CACHE_BYTES,
      warning: `TVDCN_CPU_CACHE_MB='${value}' is not a non-negative integer: it is ignored, the CPU array cache keeps up to 64 MiB`,
    };
  }
  return { bytes: Number(value) * 1024 * 1024, warning: null };
}

let limit: number | null = null;

function currentLimit(): number {
  if (limit === null) {
    const env = typeof process === 'object' && process !== null ? process.env?.TVDCN_CPU_CACHE_MB : undefined;
    const r = resolveCpuCacheLimit(env);
    if (r.warning !== null) {
      if (typeof process === 'object' && typeof process.emitWarning === 'function') {
        process.emitWarning(r.warning, { code: 'TVDCN_CPU_CACHE_MB' });
      } else {
        console.warn(r.warning);
      }
    }
    limit = r.bytes;
  }
  return limit;
}

/** Bytes held by the cache. */
let held = 0;
/**
 * Stacks of arrays per (dtype, length) key, the most recently freed last (reused first). The map's order is
 * the keys' order of last use (a used key moves to the end), so eviction starts with the key unused longest.
 */
const buckets = new Map<number, CachedArray[]>();

function keyOf(dtype: CpuDType, numel: number): number {
  return numel * 2 + (dtype === 'float64' ? 1 : 0);
}

function touch(key: number, bucket: CachedArray[]): void {
  buckets.delete(key);
  buckets.set(key, bucket);
}

/**
 * @internal A cached array of `numel` values of `dtype`, taken out of the cache, or undefined. Its values
 * are those of the tensor that held it; queued CPU work up to `lastTask` may still read or write it.
 */
export function takeCachedArray(dtype: CpuDType, numel: number): CachedArray | undefined {
  if (held === 0) return undefined;
  const key = keyOf(dtype, numel);
  const bucket = buckets.get(key);
  if (bucket === undefined) return undefined;
  const entry = bucket.pop();
  if (entry === undefined) return undefined;
  held -= entry.array.byteLength;
  if (bucket.length === 0) buckets.delete(key);
  else touch(key, bucket);
  return entry;
}

/**
 * @internal Puts back an array that only the library references (nor any user, nor another storage),
 * after the queued CPU work up to `lastTask`. Arrays under {@link MIN_CACHED_BYTES}, and any beyond the
 * limit, are left to the garbage collector; the cache evicts the arrays of the sizes unused longest.
 */
export function cacheArray(array: TypedArray, lastTask: number): void {
  const bytes = array.byteLength;
  const max = currentLimit();
  if (bytes < MIN_CACHED_BYTES || bytes > max) return;
  const key = keyOf(array instanceof Float64Array ? 'float64' : 'float32', array.length);
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    bucket = [];
    buckets.set(key, bucket);
  } else {
    touch(key, bucket);
  }
  bucket.push({ array, lastTask });
  held += bytes;
  trim(max);
}

/** Evicts the oldest arrays of the sizes unused longest until the cache holds at most `max` bytes. */
function trim(max: number): void {
  while (held > max) {
    const first = buckets.entries().next();
    if (first.done === true) break;
    const [key, bucket] = first.value;
    const entry = bucket.shift();
    if (entry !== undefined) held -= entry.array.byteLength;
    if (bucket.length === 0) buckets.delete(key);
  }
}

/** @internal Bytes of the arrays in the cache. */
export function cpuCachedBytes(): number {
  return held;
}

/**
 * Drops the arrays that the CPU keeps for reuse from disposed tensors (up to `TVDCN_CPU_CACHE_MB`, default 64
 * MiB; see `memory().cpuCachedBytes`): the garbage collector then returns their memory. The CPU's analogue
 * of `cudaEmptyCache()`; only needed to give memory back after a phase of large tensors.
 * @example
 * ```ts
 * cpuEmptyCache();
 * memory().cpuCachedBytes; // 0
 * ```
 */
export function cpuEmptyCache(): void {
  buckets.clear();
  held = 0;
}

/** @internal The cached arrays (tests: to overwrite the values that later allocations get). */
export function cachedArrays(): TypedArray[] {
  return [...buckets.values()].flatMap((bucket) => bucket.map((e) => e.array));
}

/** @internal Sets the cache's limit in bytes (tests); `null` reads `TVDCN_CPU_CACHE_MB` again. */
export function setCpuCacheLimit(bytes: number | null): void {
  limit = bytes;
  trim(currentLimit());
}
