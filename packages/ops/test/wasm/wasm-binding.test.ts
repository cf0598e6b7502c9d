// SPDX-License-Identifier: MIT
// Both WebAssembly builds (@tvdcn/wasm32, through src/native/wasm-binding.ts) against the native CPU build
// in the same process: tvdcn.wasm (one thread) and tvdcn-threads.wasm (pthreads on worker_threads, 3
// threads); random forward and backward cases of every dim, regular and transposed, in float64 (1e-12) and
// float32 (1e-5); mask softmax; the same error classes and codes for bad arguments; aliasing detected
// across copies. Then the threads: its workers start and take part, the same bits on 1, 2 and 3 threads and
// in the one-thread build (parallel.h: work assignment never changes a result), setNumThreads capped at
// the threads started, and the loader picking the threads build in Node under TVDCN_BACKEND=wasm. Skips
// without a wasm build (node scripts/platforms/build-cross.mjs wasm32) or without the native build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeTensor } from '../../src/native/binding.js';
import { defaultEnvironment, loadBinding } from '../../src/native/load-binding.js';
import { type LoadedWasm, loadWasmSync } from '../../src/native/load-wasm.js';
import {
  addonBuilt,
  caseName,
  type ConvCase,
  divisorsOf,
  emptyNative,
  expectAllClose,
  loadNative,
  makeTensors,
  nativeForward,
  outSizeOf,
  paramsOf,
  randomConvCase,
  scaleOf,
  toNative,
} from '../native/helpers.js';

const bin = join(__dirname, '..', '..', '..', 'bin-wasm32', 'bin');
const ready = addonBuilt && existsSync(join(bin, 'tvdcn.wasm')) && existsSync(join(bin, 'tvdcn-threads.wasm'));
const require = createRequire(import.meta.url);
const THREADS = 3; // more than this machine's 2 cores: uneven splits, and a worker that waits for a core

const builds: Record<'single' | 'threads', LoadedWasm> = {} as never;
let native: NativeBinding;
beforeAll(async () => {
  if (!ready) return;
  builds.single = loadWasmSync(require, { variant: 'single', threads: 1, reason: 'test' });
  builds.threads = loadWasmSync(require, { variant: 'threads', threads: THREADS, reason: 'test' });
  await builds.threads.whenRunning();
  native = loadNative();
});

function randomCase(seed: number, dim: 1 | 2 | 3, transposed: boolean): ConvCase {
  return randomConvCase(seed, dim, transposed, {
    inPerGroup: [1, 2, 3],
    outPerGroup: [1, 2],
    groupCounts: (pick, cx) => ({ og: pick([0, ...divisorsOf(cx)]), mg: pick([0, ...divisorsOf(cx)]) }),
    kernelSizes: dim === 3 ? [1, 2] : [1, 2, 3],
    strides: [1, 1, 2],
    maxSide: dim === 3 ? 4 : dim === 2 ? 7 : 10,
  });
}

const cases: ConvCase[] = [];
for (const dim of [1, 2, 3] as const) {
  for (const transposed of [false, true]) {
    for (let i = 0; i < 4; i++)
      cases.push(randomCase(7000 + 1000 * dim + 100 * Number(transposed) + i, dim, transposed));
  }
}
// Large enough that every kernel splits its work over the threads.
const big = (transposed: boolean): ConvCase => ({
  dim: 2,
  transposed,
  batch: 3,
  inChannels: 8,
  outChannels: 6,
  groups: 2,
  og: 2,
  mg: 2,
  bias: true,
  kernelSize: [3, 3],
  stride: [1, 1],
  padding: [1, 1],
  dilation: [1, 1],
  inSize: [17, 19],
});
cases.push(big(false), big(true));

/** Backward of one case; returns every gradient as float64 (null when the tensor is absent). */
function backward(b: NativeBinding, c: ConvCase, seed: number, dtype: 'float32' | 'float64') {
  const t = makeTensors(c, seed);
  const go = makeTensors(
    { ...c, inChannels: c.outChannels, outChannels: c.outChannels, inSize: outSizeOf(c) },
    seed + 1,
  );
  const outShape = [c.batch, c.outChannels, ...outSizeOf(c)];
  const gradOutput = toNative(
    {
      shape: outShape,
      data: go.input.data.slice(
        0,
        outShape.reduce((x, y) => x * y, 1),
      ),
    },
    dtype,
  );
  const like = (x: { shape: number[] } | null): NativeTensor | null => (x ? emptyNative(x.shape, dtype) : null);
  const grads = {
    input: like(t.input),
    weight: like(t.weight),
    offset: like(t.offset),
    mask: like(t.mask),
    bias: like(t.bias),
  };
  b.deformConvBackward(
    paramsOf(c),
    toNative(t.input, dtype),
    toNative(t.weight, dtype),
    t.offset && toNative(t.offset, dtype),
    t.mask && toNative(t.mask, dtype),
    gradOutput,
    grads,
  );
  const f = (x: NativeTensor | null) => (x ? Float64Array.from(x.data as Float32Array | Float64Array) : null);
  return {
    input: f(grads.input),
    weight: f(grads.weight),
    offset: f(grads.offset),
    mask: f(grads.mask),
    bias: f(grads.bias),
  };
}

describe.runIf(ready).each(['single', 'threads'] as const)('WebAssembly build (%s) vs native CPU build', (build) => {
  let wasm: NativeBinding;
  beforeAll(() => {
    wasm = builds[build].binding;
  });

  it('reports itself', () => {
    expect(wasm.buildInfo()).toMatchObject({
      withCuda: false,
      compiler: build === 'threads' ? 'emscripten wasm32 simd128 pthreads' : 'emscripten wasm32 simd128',
    });
    expect(wasm.cudaDeviceCount().count).toBe(0);
    expect(wasm.getNumThreads()).toBe(build === 'threads' ? THREADS : 1);
    expect(builds[build].info()).toMatchObject(
      build === 'threads'
        ? { variant: 'threads', numThreads: THREADS, workers: THREADS - 1, runningWorkers: THREADS - 1 }
        : { variant: 'single', numThreads: 1, workers: 0, runningWorkers: 0 },
    );
  });

  for (const c of cases) {
    for (const [dtype, tol] of [
      ['float64', 1e-12],
      ['float32', 1e-5],
    ] as const) {
      it(`forward ${dtype} ${caseName(c)}`, () => {
        const t = makeTensors(c, 11);
        const want = nativeForward(native, c, t, dtype);
        const got = nativeForward(wasm, c, t, dtype);
        expectAllClose(got, want, tol, tol * scaleOf(want), 'output');
      });
      it(`backward ${dtype} ${caseName(c)}`, () => {
        const want = backward(native, c, 21, dtype);
        const got = backward(wasm, c, 21, dtype);
        for (const k of ['input', 'weight', 'offset', 'mask', 'bias'] as const) {
          expect(got[k] === null, k).toBe(want[k] === null);
          if (want[k] && got[k]) expectAllClose(got[k]!, want[k]!, tol, tol * scaleOf(want[k]!), `grads.${k}`);
        }
      });
    }
  }

  it('mask softmax forward and backward', () => {
    const shape = [2, 3 * 4, 5, 6];
    const n = shape.reduce((x, y) => x * y, 1);
    const mask = {
      data: Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3),
      shape,
      dtype: 'float64' as const,
    };
    const g = {
      data: Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.11)),
      shape,
      dtype: 'float64' as const,
    };
    const outs = [native, wasm].map((b) => {
      const out = emptyNative(shape, 'float64');
      b.maskSoftmaxForward(mask, 3, 4, out);
      const gm = emptyNative(shape, 'float64');
      b.maskSoftmaxBackward(out, g, 3, 4, gm);
      return [out.data as Float64Array, gm.data as Float64Array];
    });
    expectAllClose(outs[1]![0]!, outs[0]![0]!, 1e-12, 1e-15, 'softmax');
    expectAllClose(outs[1]![1]!, outs[0]![1]!, 1e-12, 1e-15, 'softmax grad');
  });

  it('throws the same error class, code and message as the native binding', () => {
    const c = cases[0]!;
    const t = makeTensors(c, 3);
    const badWeight = { ...toNative(t.weight), shape: [...t.weight.shape.slice(0, -1), t.weight.shape.at(-1)! + 1] };
    badWeight.data = new Float64Array(badWeight.shape.reduce((x, y) => x * y, 1));
    const run = (b: NativeBinding) => {
      try {
        b.deformConvForward(
          paramsOf(c),
          toNative(t.input),
          badWeight,
          t.offset && toNative(t.offset),
          t.mask && toNative(t.mask),
          null,
          emptyNative([c.batch, c.outChannels, ...outSizeOf(c)]),
        );
      } catch (e) {
        return {
          ctor: (e as Error).constructor.name,
          code: (e as { code?: string }).code,
          message: (e as Error).message,
        };
      }
      return null;
    };
    const want = run(native);
    expect(want).not.toBeNull();
    expect(run(wasm)).toEqual(want);
    expect(() =>
      wasm.deformConvForward(
        { ...paramsOf(c), dim: 4 as 1 },
        toNative(t.input),
        toNative(t.weight),
        null,
        null,
        null,
        emptyNative([1]),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_DCN_INVALID_ARGUMENT' }));
  });

  it('an output aliasing an input is refused, as natively', () => {
    const shape = [1, 4, 3];
    const shared = new Float64Array(24);
    const mask = { data: shared.subarray(0, 12), shape, dtype: 'float64' as const };
    const out = { data: shared.subarray(6, 18), shape, dtype: 'float64' as const };
    for (const b of [native, wasm]) expect(() => b.maskSoftmaxForward(mask, 1, 4, out)).toThrow(/overlap|share|alias/i);
  });
});

/** Every output of a forward and a backward, as bytes. */
function outputsOf(b: NativeBinding, c: ConvCase, dtype: 'float32' | 'float64'): Uint8Array[] {
  const t = makeTensors(c, 5);
  const out = emptyNative([c.batch, c.outChannels, ...outSizeOf(c)], dtype);
  b.deformConvForward(
    paramsOf(c),
    toNative(t.input, dtype),
    toNative(t.weight, dtype),
    t.offset && toNative(t.offset, dtype),
    t.mask && toNative(t.mask, dtype),
    t.bias && toNative(t.bias, dtype),
    out,
  );
  const g = backward(b, c, 6, dtype);
  return [out.data as Float32Array | Float64Array, g.input, g.weight, g.offset, g.mask, g.bias]
    .filter((x) => x !== null)
    .map((x) => new Uint8Array(x!.buffer, x!.byteOffset, x!.byteLength));
}

describe.runIf(ready)('WebAssembly threads (tvdcn-threads.wasm on worker_threads)', () => {
  it('its workers run parts of the kernels', () => {
    const before = builds.threads.workerRuns();
    outputsOf(builds.threads.binding, big(false), 'float32');
    expect(builds.threads.workerRuns()).toBeGreaterThan(before);
    expect(builds.single.workerRuns()).toBe(0);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`the same bits on 1, 2 and ${THREADS} threads and in the one-thread build (${dtype})`, () => {
      const b = builds.threads.binding;
      try {
        for (const c of [big(false), big(true), cases[5]!, cases[17]!]) {
          const want = outputsOf(builds.single.binding, c, dtype);
          for (const n of [1, 2, THREADS]) {
            b.setNumThreads(n);
            const got = outputsOf(b, c, dtype);
            expect(got.length).toBe(want.length);
            for (const [i, x] of got.entries()) {
              expect(Buffer.compare(x, want[i]!), `${caseName(c)} output ${i} on ${n} threads`).toBe(0);
            }
          }
        }
      } finally {
        b.setNumThreads(THREADS);
      }
    });
  }

  it('setNumThreads counts down and back up, capped at the threads started', () => {
    const b = builds.threads.binding;
    try {
      b.setNumThreads(2);
      expect(b.getNumThreads()).toBe(2);
      b.setNumThreads(64);
      expect(b.getNumThreads()).toBe(THREADS);
      b.setNumThreads(1);
      expect(builds.threads.info().numThreads).toBe(1);
      expect(() => b.setNumThreads(0)).toThrow(expect.objectContaining({ code: 'ERR_DCN_INVALID_ARGUMENT' }));
    } finally {
      b.setNumThreads(THREADS);
    }
  });

  it('the loader serves the threads build in Node under TVDCN_BACKEND=wasm', async () => {
    const l = loadBinding({ ...defaultEnvironment(), requested: 'wasm', nativePath: undefined });
    expect(l.kind).toBe('wasm');
    expect(l.candidate).toBe('@tvdcn/wasm32');
    const cores = availableParallelism();
    const threads = process.env.TVDCN_NUM_THREADS ? Math.min(Number(process.env.TVDCN_NUM_THREADS), cores) : cores;
    expect(l.path).toMatch(threads > 1 ? /tvdcn-threads\.wasm$/ : /tvdcn\.wasm$/);
    await l.wasm!.whenRunning();
    expect(l.wasm!.info()).toMatchObject({
      variant: threads > 1 ? 'threads' : 'single',
      numThreads: threads,
      workers: threads - 1,
      runningWorkers: threads - 1,
    });
  });
});
