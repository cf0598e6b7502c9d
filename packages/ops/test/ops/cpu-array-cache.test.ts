// SPDX-License-Identifier: MIT
// Reuse of the arrays of disposed CPU tensors (src/tensor/cpu-array-cache.ts; NOTE [ Reusing the arrays of
// disposed CPU tensors ] in src/tensor/storage.ts): a reused array never changes a value that queued work,
// a later op or a user's view reads; native kernels overwrite every element of a reused output; zeros()
// clears one; arrays users hold (cpuData(), { copy: false }) are never reused; the limit holds. New outputs
// are not zero-filled (NOTE [ Uninitialised kernel outputs ] in src/backends/cpu/cpu-storage.ts).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { allocateHostArrayUninit } from '../../src/backends/cpu/cpu-storage.js';
import {
  cpuEmptyCache,
  deformConv2d,
  manualSeed,
  maskSoftmax2d,
  memory,
  pad,
  randn,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from '../../src/index.js';
import type { NativeBinding } from '../../src/native/binding.js';
import { getBinding } from '../../src/native/load-binding.js';
import {
  cachedArrays,
  cpuCachedBytes,
  DEFAULT_CPU_CACHE_BYTES,
  resolveCpuCacheLimit,
  setCpuCacheLimit,
} from '../../src/tensor/cpu-array-cache.js';
import type { CpuStorage } from '../../src/tensor/storage.js';
import { storageOf } from '../../src/tensor/tensor.js';
import { nativeOpsAvailable } from './native-setup.js';

const native = nativeOpsAvailable();
const queueAvailable = native && typeof getBinding().cpuQueueSync === 'function';
const b = (): Required<NativeBinding> => getBinding() as Required<NativeBinding>;

/** The array behind a tensor, without waiting for its queued work (and without handing it out). */
const arrayOf = (t: Tensor) => (storageOf(t, 'test', 't') as CpuStorage).queuedData;

/** Runs `fn` with the CPU queue switched off (every op computes at the call). */
function synchronously<T>(fn: () => T): T {
  if (!queueAvailable) return fn();
  const was = b()._setCpuQueue(false);
  try {
    return fn();
  } finally {
    b()._setCpuQueue(was);
  }
}

/** Runs `fn` with the cache off: every allocation is a new array (the reference). */
function withoutCache<T>(fn: () => T): T {
  setCpuCacheLimit(0);
  try {
    return fn();
  } finally {
    setCpuCacheLimit(null);
  }
}

/**
 * The differences between two lists of values, summarised (a failing `toEqual` on arrays of 10^5 values
 * spends minutes on its diff): the count of unequal entries (NaN equals NaN) and the first one.
 */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>): { count: number; first: string | null } {
  if (got.length !== want.length) return { count: -1, first: `length ${got.length} vs ${want.length}` };
  let count = 0;
  let first: string | null = null;
  for (let i = 0; i < got.length; i++) {
    if (Object.is(got[i], want[i]) || got[i] === want[i]) continue;
    count++;
    first ??= `[${i}]: ${got[i]} vs ${want[i]}`;
  }
  return { count, first };
}
const same = { count: 0, first: null };
const mismatchesAll = (got: number[][], want: number[][]) =>
  got.length !== want.length
    ? { count: -1, first: `${got.length} lists vs ${want.length}` }
    : (got.map((g, i) => mismatches(g, want[i])).find((m) => m.count !== 0) ?? same);

beforeEach(() => cpuEmptyCache());
afterEach(() => setCpuCacheLimit(null));

describe('resolveCpuCacheLimit (TVDCN_CPU_CACHE_MB)', () => {
  it('takes a non-negative integer of MiB and ignores anything else with a warning', () => {
    expect(resolveCpuCacheLimit(undefined)).toEqual({ bytes: DEFAULT_CPU_CACHE_BYTES, warning: null });
    expect(resolveCpuCacheLimit('0')).toEqual({ bytes: 0, warning: null });
    expect(resolveCpuCacheLimit('256')).toEqual({ bytes: 256 * 2 ** 20, warning: null });
    for (const bad of ['', '-1', '1.5', 'abc', ' 8']) {
      const r = resolveCpuCacheLimit(bad);
      expect(r.bytes, bad).toBe(DEFAULT_CPU_CACHE_BYTES);
      expect(r.warning, bad).toMatch(/TVDCN_CPU_CACHE_MB=.* is not a non-negative integer/);
    }
  });
});

describe.runIf(native)('the CPU array cache', () => {
  it('reuses the array of a disposed output for the next output of the same dtype and length', () => {
    const x = randn([64, 64]);
    const y = x.sigmoid();
    const a = arrayOf(y);
    y.dispose();
    expect(cpuCachedBytes()).toBe(64 * 64 * 4);
    expect(memory().cpuCachedBytes).toBe(64 * 64 * 4);
    const z = x.exp(); // same dtype and length: y's array
    expect(arrayOf(z)).toBe(a);
    expect(cpuCachedBytes()).toBe(0);
    expect(
      mismatches(
        z.toTypedArray(),
        Array.from(x.toTypedArray(), (v) => Math.fround(Math.exp(v))),
      ),
    ).toEqual(same);
    const f64 = x.to('float64'); // another dtype: a new array
    expect(arrayOf(f64)).not.toBe(a);
  });

  it('does not count cached arrays as live memory', () => {
    const x = randn([128, 128], { dtype: 'float64' });
    const before = memory();
    const y = x.exp();
    expect(memory().bytes - before.bytes).toBe(128 * 128 * 8);
    y.dispose();
    const after = memory();
    expect(after.bytes).toBe(before.bytes);
    expect(after.storages).toBe(before.storages);
    expect(after.cpuCachedBytes - before.cpuCachedBytes).toBe(128 * 128 * 8);
    cpuEmptyCache();
    expect(memory().cpuCachedBytes).toBe(0);
  });

  it('keeps small arrays out and holds at most the limit, evicting the sizes unused longest', () => {
    tensor(new Float32Array(100)).add(1).dispose(); // 400 bytes: left to the garbage collector
    expect(cpuCachedBytes()).toBe(0);
    setCpuCacheLimit(3 * 4096 * 4);
    const xs = [4096, 4096, 2048, 8192].map((n) => randn([n]));
    const ys = xs.map((x) => x.neg());
    const arrays = ys.map(arrayOf);
    for (const y of ys) y.dispose(); // 16 + 16 + 8 + 32 KiB offered, 48 KiB kept
    expect(cpuCachedBytes()).toBeLessThanOrEqual(3 * 4096 * 4);
    // The 4096-element key was used first, so it goes first: the newest sizes stay.
    expect(cachedArrays()).toContain(arrays[3]);
    expect(cachedArrays()).not.toContain(arrays[0]);
    setCpuCacheLimit(0);
    expect(cpuCachedBytes()).toBe(0);
  });

  it('never reuses an array handed out by cpuData(), nor one adopted with { copy: false }', () => {
    const x = randn([32, 32]);
    const y = x.mul(2);
    const view = y.cpuData();
    const saved = Array.from(view);
    y.dispose();
    const own = new Float32Array(32 * 32).fill(7);
    const adopted = tensor(own, { shape: [32, 32], copy: false });
    const z = adopted.add(1);
    adopted.dispose();
    for (let i = 0; i < 4; i++) {
      const u = x.add(i); // same size as both: must get neither array
      expect(arrayOf(u)).not.toBe(view);
      expect(arrayOf(u)).not.toBe(own);
      u.toTypedArray();
      u.dispose();
    }
    expect(Array.from(view)).toEqual(saved);
    expect(Array.from(own)).toEqual(new Array(32 * 32).fill(7));
    expect(Array.from(z.toTypedArray())).toEqual(new Array(32 * 32).fill(8));
  });

  it('zeros() from a reused array is all zeros, also while queued work still writes the old tensor', () => {
    const x = randn([2, 16, 40, 40], { dtype: 'float64' });
    for (let i = 0; i < 3; i++) {
      const y = x.sigmoid().mul(3); // queued: writes arrays of x's size
      const old = arrayOf(y);
      y.dispose(); // before its kernel may have run
      const z = zeros([2, 16, 40, 40], { dtype: 'float64' });
      expect(arrayOf(z)).toBe(old);
      expect(z.toTypedArray().every((v) => v === 0)).toBe(true);
      z.dispose();
    }
  });

  it.runIf(queueAvailable)('a copy of values is not written into an array that queued work still writes', () => {
    const x = randn([4, 32, 64, 64]);
    const values = Float32Array.from({ length: x.numel }, (_, i) => i % 251);
    for (let i = 0; i < 3; i++) {
      const y = x.exp().sigmoid(); // queued, writing arrays of x's size
      y.dispose(); // at once: its array is cached while its kernel may not have run
      const t = tensor(values, { shape: x.shape });
      expect(mismatches(t.toTypedArray(), values)).toEqual(same);
      t.dispose();
    }
  });

  it('a tensor made by copying values into a reused array holds exactly those values', () => {
    const values = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i));
    const y = randn([4096]).exp();
    y.toTypedArray(); // its work is done: the copy may take the array
    const old = arrayOf(y);
    y.dispose();
    const t = tensor(values);
    expect(arrayOf(t)).toBe(old);
    expect(mismatches(t.toTypedArray(), values)).toEqual(same);
  });
});

/**
 * A forward and backward that allocates through every native CPU kernel (deformable convolution and its
 * gradients, mask softmax and its gradient, unary, broadcast binary, pad (gather) and its gradient
 * (scatterAdd), sum, cast), all outputs large enough to come from the cache; returns every value.
 */
function workload(seed: number): number[][] {
  return tidy(() => {
    manualSeed(seed);
    const leaf = (shape: number[]): Tensor => {
      const t = randn(shape, { dtype: 'float64' });
      t.requiresGrad = true;
      return t;
    };
    const x = leaf([2, 8, 16, 16]);
    const w = leaf([8, 8, 3, 3]);
    const offset = leaf([2, 18, 16, 16]);
    const maskRaw = leaf([2, 9, 16, 16]);
    const bias = leaf([8]);
    const mask = maskSoftmax2d(maskRaw, 3);
    const y = deformConv2d(x, w, { offset, mask, bias, padding: 1 });
    const z = pad(y.sigmoid().mul(y.reshape([2, 8, 1, 256]).reshape([2, 8, 16, 16])), [2, 1, 1, 2], 'reflect');
    const s = z.sum(1).add(tensor(new Float64Array(19).fill(0.5)));
    const loss = s.square().mean();
    loss.backward();
    const f32 = z.to('float32');
    const grads = [x, w, offset, maskRaw, bias].map((t) => t.grad as Tensor);
    return [mask, y, z, s, loss, f32, ...grads].map((t) => Array.from(t.toTypedArray()));
  });
}

describe.runIf(native)('outputs in reused arrays', () => {
  for (const mode of ['queued', 'synchronous'] as const) {
    const run = <T>(fn: () => T): T => (mode === 'queued' ? fn() : synchronously(fn));

    it(`every native kernel overwrites all of a reused output (${mode}): NaN-filled cached arrays change nothing`, () => {
      const reference = withoutCache(() => run(() => workload(11)));
      run(() => workload(11)); // fills the cache with the arrays of every size the workload allocates
      const cached = cachedArrays();
      expect(cached.length).toBeGreaterThan(15);
      for (const a of cached) a.fill(Number.NaN);
      const bytes = cpuCachedBytes();
      const again = run(() => workload(11));
      expect(cpuCachedBytes()).toBeLessThanOrEqual(bytes); // reused, not grown
      expect(mismatchesAll(again, reference)).toEqual(same);
      // The NaN-filled arrays were the outputs: (nearly) all of them now hold values.
      expect(cached.filter((a) => Number.isNaN(a[0])).length).toBeLessThan(cached.length / 4);
    });
  }

  it.runIf(queueAvailable)(
    'disposing tensors that queued work reads or writes, then reusing their arrays, changes no value',
    () => {
      // Per step: ops queued on x, their inputs and outputs disposed at once (before the work ran), so each next
      // op's output reuses arrays that earlier queued tasks still read or write. Values: as without the cache.
      const steps = (): number[][] => {
        manualSeed(5);
        let x = randn([4, 16, 24, 24], { dtype: 'float64' });
        const w = randn([16, 16, 3, 3], { dtype: 'float64' }).mul(0.05);
        const offset = randn([4, 18, 24, 24], { dtype: 'float64' });
        const out: number[][] = [];
        for (let step = 0; step < 6; step++) {
          const y = deformConv2d(x, w, { offset, padding: 1 });
          const s = y.sigmoid();
          y.dispose(); // s's kernel still reads y
          const next = s.mul(x).add(step);
          s.dispose();
          x.dispose(); // the convolution and mul still read x
          x = next;
          if (step % 2 === 1) out.push(Array.from(x.toTypedArray()));
        }
        out.push(Array.from(x.toTypedArray()));
        return out;
      };
      const reference = withoutCache(steps);
      const before = b()._cpuQueueStats().submitted;
      expect(mismatchesAll(steps(), reference)).toEqual(same);
      expect(b()._cpuQueueStats().submitted).toBeGreaterThan(before); // the work was queued
    },
  );

  it.runIf(queueAvailable)(
    'data() of a tensor whose array is reused right after resolves with its own values',
    async () => {
      const x = randn([8, 64, 64]);
      const expected = Array.from(x.toTypedArray(), (v) => Math.fround(Math.fround(v * 2) + 1));
      const results: Promise<Float32Array | Float64Array>[] = [];
      for (let i = 0; i < 4; i++) {
        const y = x.mul(2).add(1);
        results.push(y.data());
        y.dispose(); // the queued copy reads it; the next iteration's outputs reuse it
        const z = x.neg();
        z.dispose();
      }
      for (const r of await Promise.all(results)) expect(mismatches(r, expected)).toEqual(same);
    },
  );
});

describe('new kernel outputs without zero-filling (NOTE [ Uninitialised kernel outputs ])', () => {
  afterEach(() => vi.restoreAllMocks());

  it('allocateHostArrayUninit: a whole ArrayBuffer from Buffer.allocUnsafeSlow from 4096 bytes on', () => {
    const spy = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const a = allocateHostArrayUninit('float32', 1024);
    const d = allocateHostArrayUninit('float64', 1000);
    expect(spy.mock.calls).toEqual([[4096], [8000]]);
    expect([a instanceof Float32Array, a.length, a.byteOffset, a.buffer.byteLength]).toEqual([true, 1024, 0, 4096]);
    expect([d instanceof Float64Array, d.length, d.byteOffset, d.buffer.byteLength]).toEqual([true, 1000, 0, 8000]);
    // Smaller arrays: V8's own (zero-filled) allocation.
    const small = allocateHostArrayUninit('float32', 1023);
    expect(spy).toHaveBeenCalledTimes(2);
    expect([small.length, Array.from(small).every((v) => v === 0)]).toEqual([1023, true]);
  });

  it.runIf(native)('every native kernel writes all of a new output: NaN-filled new memory changes nothing', () => {
    const fresh = (fill: number) => (bytes: number) => Buffer.from(new ArrayBuffer(bytes)).fill(fill);
    setCpuCacheLimit(0); // every output is a new array
    const spy = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation(fresh(0));
    const reference = workload(12);
    const calls = spy.mock.calls.length;
    // The workload's outputs of 4096 bytes and more (7 on the wasm32 backend, whose pure-JS ops allocate their own).
    expect(calls).toBeGreaterThan(4);
    spy.mockImplementation(fresh(0xff)); // all bits set: NaN in float32 and float64
    expect(mismatchesAll(workload(12), reference)).toEqual(same);
    expect(spy.mock.calls.length).toBe(2 * calls);
  });
});
