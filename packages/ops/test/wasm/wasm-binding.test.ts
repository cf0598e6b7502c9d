// SPDX-License-Identifier: MIT
// The WebAssembly build (@tvdcn/wasm32, through src/native/wasm-binding.ts) against the native CPU build
// in the same process: random forward and backward cases of every dim, regular and transposed, in float64
// (1e-12) and float32 (1e-5); mask softmax; the same error classes and codes for bad arguments; aliasing
// detected across copies; the loader picking it under TVDCN_BACKEND=wasm. Skips without a wasm build
// (node scripts/platforms/build-cross.mjs wasm32) or without the native build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeTensor } from '../../src/native/binding.js';
import { defaultEnvironment, loadBinding } from '../../src/native/load-binding.js';
import { loadWasmSync } from '../../src/native/load-wasm.js';
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

const wasmFile = join(__dirname, '..', '..', '..', 'bin-wasm32', 'bin', 'tvdcn.wasm');
const ready = addonBuilt && existsSync(wasmFile);
const require = createRequire(import.meta.url);

let wasm: NativeBinding;
let native: NativeBinding;
beforeAll(() => {
  if (!ready) return;
  wasm = loadWasmSync(require).binding;
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

describe.runIf(ready)('WebAssembly build vs native CPU build', () => {
  it('reports itself', () => {
    expect(wasm.buildInfo()).toMatchObject({
      withCuda: false,
      compiler: expect.stringMatching(/emscripten wasm32 simd128/),
    });
    expect(wasm.cudaDeviceCount().count).toBe(0);
    expect(wasm.getNumThreads()).toBe(1);
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

  it('the loader serves it under TVDCN_BACKEND=wasm', () => {
    const l = loadBinding({ ...defaultEnvironment(), requested: 'wasm', nativePath: undefined });
    expect(l.kind).toBe('wasm');
    expect(l.candidate).toBe('@tvdcn/wasm32');
    expect(l.path).toMatch(/tvdcn\.wasm$/);
  });
});
