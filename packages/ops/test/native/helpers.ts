// SPDX-License-Identifier: MIT
// Shared helpers of the native-binding suites: loads the freshly built CPU addon directly (no loader),
// makes seeded random cases, converts reference tensors to NativeTensors and compares results.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { NativeBinding, NativeDeformConvParams, NativeTensor } from '../../src/native/binding.js';
import {
  deformConvReference,
  deformConvTransposeReference,
  prod,
  type RefConvOptions,
  type RefTensor,
} from '../reference/deform-conv-reference.js';
import { rng } from '../seeded-random.js';

/** The binding plus the `_`-prefixed test hooks of runtime_binding.cc. */
export interface TestBinding extends NativeBinding {
  _setWorkspaceLimit(bytes: number): void;
  _getWorkspaceLimit(): number;
  _setGemmIsa(isa: 'auto' | 'avx512' | 'avx2' | 'neon' | 'generic'): boolean;
  _gemmIsa(): string;
  /** With false the GEMMs pack A rather than use the micro-kernels that read it in place (the same results). */
  _setGemmRowsA(on: boolean): void;
  _gemmRowsA(): boolean;
  /** Planar CPU kernels (kernels.h) instead of the channels-last column pass, for the 3D forward and every backward. */
  _setForcePlanar(on: boolean): void;
  _getForcePlanar(): boolean;
  _setForceHandover(on: boolean): void;
}

/**
 * The two CPU kernel families a suite can run on: the channels-last column pass (the default) and the
 * planar kernels of kernels.h (otherwise only the fallback for planes of 2^31 positions or more), forced
 * with `_setForcePlanar`. For `describe.each(kernelPaths)('... ($label)', ({ planar }) => ...)`.
 */
export const kernelPaths = [
  { planar: false, label: 'channels-last kernels' },
  { planar: true, label: 'planar kernels' },
] as const;

/**
 * Inside a describe: switches the planar kernels on (or off) for the describe's tests and off again after
 * them. `binding` is read lazily (the suites load the addon in a beforeAll).
 */
export function usePlanarKernels(binding: () => TestBinding, planar: boolean): void {
  beforeAll(() => {
    binding()._setForcePlanar(planar);
    expect(binding()._getForcePlanar()).toBe(planar);
  });
  afterAll(() => {
    binding()._setForcePlanar(false);
  });
}

const here = dirname(fileURLToPath(import.meta.url));
/**
 * native/build/cpu/Release/tvdcn_cpu.node of this checkout, or TVDCN_TEST_ADDON (the sanitizer builds), or
 * TVDCN_NATIVE_PATH (a cross-built binary tested under an emulator).
 */
export const addonPath =
  process.env.TVDCN_TEST_ADDON ||
  process.env.TVDCN_NATIVE_PATH ||
  join(here, '..', '..', '..', '..', 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
export const addonBuilt = existsSync(addonPath);

/**
 * The addon, with its CPU queue switched off: these suites test the kernels, reading outputs right after
 * each call (the queue has its own suites, test/ops/cpu-queue.test.ts and test/ops/workers.test.ts).
 */
export function loadNative(): TestBinding {
  const require = createRequire(import.meta.url);
  const b = require(addonPath) as TestBinding;
  b._setCpuQueue?.(false);
  return b;
}

/** The seeded generator of the test suites (../seeded-random.ts). */
export { rng };

export function randTensor(shape: number[], rand: () => number, lo = -1, hi = 1): RefTensor {
  const data = new Float64Array(prod(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rand();
  return { data, shape };
}

/**
 * Offsets whose sampling positions stay away from integers (fractional part in [0.1, 0.9]), so the
 * interpolation is smooth around them and central differences are exact up to rounding.
 */
export function smoothOffsets(shape: number[], rand: () => number, span = 2): RefTensor {
  const data = new Float64Array(prod(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.floor((2 * span + 1) * rand()) - span + 0.1 + 0.8 * rand();
  return { data, shape };
}

export type DType = 'float32' | 'float64';

/** A NativeTensor holding a copy of `t` in `dtype`. */
export function toNative(t: RefTensor, dtype: DType = 'float64'): NativeTensor {
  const data = dtype === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data);
  return { data, shape: [...t.shape], dtype };
}

/** A zero-filled NativeTensor of `shape` (outputs are poisoned with NaN to prove full overwrite). */
export function emptyNative(shape: number[], dtype: DType = 'float64', poison = true): NativeTensor {
  const n = prod(shape);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  if (poison) data.fill(Number.NaN);
  return { data, shape: [...shape], dtype };
}

/** `t` rounded through float32 (what a float32 kernel actually sees). */
export function roundF32(t: RefTensor | null): RefTensor | null {
  return t && { data: Float64Array.from(Float32Array.from(t.data)), shape: [...t.shape] };
}

/** One deformable-convolution configuration. og/mg = 0: no offset / no mask. */
export interface ConvCase {
  dim: 1 | 2 | 3;
  transposed: boolean;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  og: number;
  mg: number;
  bias: boolean;
  kernelSize: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  inSize: number[];
  outputPadding?: number[];
}

/** A case name that reads as a recipe (style.md §9.10). */
export function caseName(c: ConvCase): string {
  return (
    `dim=${c.dim}${c.transposed ? ' transposed' : ''} b=${c.batch} cin=${c.inChannels} cout=${c.outChannels}` +
    ` in=[${c.inSize}] k=[${c.kernelSize}] s=[${c.stride}] p=[${c.padding}] d=[${c.dilation}]` +
    (c.outputPadding ? ` op=[${c.outputPadding}]` : '') +
    ` g=${c.groups} og=${c.og || 'none'} mg=${c.mg || 'none'}${c.bias ? ' bias' : ''}`
  );
}

export function outSizeOf(c: ConvCase): number[] {
  return c.inSize.map((n, a) =>
    c.transposed
      ? (n - 1) * c.stride[a] -
        2 * c.padding[a] +
        c.dilation[a] * (c.kernelSize[a] - 1) +
        1 +
        (c.outputPadding?.[a] ?? 0)
      : Math.floor((n + 2 * c.padding[a] - c.dilation[a] * (c.kernelSize[a] - 1) - 1) / c.stride[a]) + 1,
  );
}

export function paramsOf(c: ConvCase): NativeDeformConvParams {
  return {
    dim: c.dim,
    transposed: c.transposed,
    batch: c.batch,
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    groups: c.groups,
    offsetGroups: c.og || 1,
    maskGroups: c.mg || 1,
    kernelSize: c.kernelSize,
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
    inSize: c.inSize,
    outSize: outSizeOf(c),
  };
}

export function optionsOf(c: ConvCase): RefConvOptions {
  return {
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
    groups: c.groups,
    outputPadding: c.outputPadding,
  };
}

/** The reference tensors of a case (float64), with offsets kept off integer positions. */
export interface CaseTensors {
  input: RefTensor;
  weight: RefTensor;
  offset: RefTensor | null;
  mask: RefTensor | null;
  bias: RefTensor | null;
}

export function makeTensors(c: ConvCase, seed: number): CaseTensors {
  const rand = rng(seed);
  const K = prod(c.kernelSize);
  const outSize = outSizeOf(c);
  const grid = c.transposed ? c.inSize : outSize;
  const weightShape = c.transposed
    ? [c.inChannels, c.outChannels / c.groups, ...c.kernelSize]
    : [c.outChannels, c.inChannels / c.groups, ...c.kernelSize];
  return {
    input: randTensor([c.batch, c.inChannels, ...c.inSize], rand),
    weight: randTensor(weightShape, rand),
    offset: c.og ? smoothOffsets([c.batch, c.og * c.dim * K, ...grid], rand) : null,
    mask: c.mg ? randTensor([c.batch, c.mg * K, ...grid], rand, 0, 1.5) : null,
    bias: c.bias ? randTensor([c.outChannels], rand) : null,
  };
}

export function reference(c: ConvCase, t: CaseTensors): RefTensor {
  const f = c.transposed ? deformConvTransposeReference : deformConvReference;
  return f(t.input, t.weight, t.offset, t.mask, t.bias, optionsOf(c));
}

/** Runs the native forward of a case in `dtype`; returns the output as float64. */
export function nativeForward(b: NativeBinding, c: ConvCase, t: CaseTensors, dtype: DType = 'float64'): Float64Array {
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
  return Float64Array.from(out.data as Float32Array | Float64Array);
}

/** The five gradients of the backward. */
export type GradName = 'input' | 'weight' | 'offset' | 'mask' | 'bias';
const GRAD_NAMES: readonly GradName[] = ['input', 'weight', 'offset', 'mask', 'bias'];

/** The gradients a case has (no offset or mask gradient where the case has none). */
export function availableGrads(c: ConvCase): GradName[] {
  return GRAD_NAMES.filter((n) => (n !== 'offset' || c.og) && (n !== 'mask' || c.mg));
}

function gradShape(c: ConvCase, t: CaseTensors, n: GradName): number[] {
  return n === 'bias' ? [c.outChannels] : (t[n] as RefTensor).shape;
}

/**
 * Runs the native backward of a case in `dtype` with the gradients `want` requested (each written into a
 * NaN-poisoned array, so every element must be overwritten); returns them as the addon wrote them.
 */
export function nativeBackward(
  b: NativeBinding,
  c: ConvCase,
  t: CaseTensors,
  gradOutput: RefTensor,
  want: readonly GradName[],
  dtype: DType = 'float64',
): Partial<Record<GradName, Float32Array | Float64Array>> {
  const grads: Record<GradName, NativeTensor | null> = {
    input: null,
    weight: null,
    offset: null,
    mask: null,
    bias: null,
  };
  for (const n of want) grads[n] = emptyNative(gradShape(c, t, n), dtype);
  b.deformConvBackward(
    paramsOf(c),
    toNative(t.input, dtype),
    toNative(t.weight, dtype),
    t.offset && toNative(t.offset, dtype),
    t.mask && toNative(t.mask, dtype),
    toNative(gradOutput, dtype),
    grads,
  );
  const out: Partial<Record<GradName, Float32Array | Float64Array>> = {};
  for (const n of want) out[n] = grads[n]?.data as Float32Array | Float64Array;
  return out;
}

/** Asserts |actual - expected| <= atol + rtol * |expected| elementwise, naming the first failure. */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what = 'value',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(err <= tol) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (|err| = ${worstErr}, rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** max |x| (at least 1), the scale for absolute tolerances. */
export function scaleOf(x: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** The divisors of `n`, ascending. */
export function divisorsOf(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

/** What {@link randomConvCase} draws from; the draws happen in a fixed order, so a seed names a case. */
export interface RandomCaseSpace {
  /** Channels per weight group, input and output sides. */
  inPerGroup: readonly number[];
  outPerGroup: readonly number[];
  /** Offset and mask groups (0 = tensor absent), given a picker and the sampled side's channel count. */
  groupCounts: (pick: <T>(xs: readonly T[]) => T, cx: number) => { og: number; mg: number };
  kernelSizes: readonly number[];
  strides: readonly number[];
  /** Upper bound of a random spatial input size. */
  maxSide: number;
}

/** A random valid case of `dim` drawn from `space` with the PRNG seeded by `seed`. */
export function randomConvCase(seed: number, dim: 1 | 2 | 3, transposed: boolean, space: RandomCaseSpace): ConvCase {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const groups = pick([1, 1, 2, 3]);
  const inChannels = groups * pick(space.inPerGroup);
  const outChannels = groups * pick(space.outPerGroup);
  const { og, mg } = space.groupCounts(pick, transposed ? outChannels : inChannels);
  const kernelSize: number[] = [];
  const stride: number[] = [];
  const padding: number[] = [];
  const dilation: number[] = [];
  const inSize: number[] = [];
  const outputPadding: number[] = [];
  for (let a = 0; a < dim; a++) {
    kernelSize.push(pick(space.kernelSizes));
    stride.push(pick(space.strides));
    padding.push(pick([0, 1, 2]));
    dilation.push(pick([1, 1, 2]));
    const span = dilation[a] * (kernelSize[a] - 1) + 1;
    // Regular: in + 2p >= span; transposed: any in >= 1 with a positive output.
    const minIn = transposed ? 1 : Math.max(1, span - 2 * padding[a]);
    inSize.push(minIn + Math.floor(rand() * Math.max(1, space.maxSide - minIn + 1)));
    outputPadding.push(transposed ? Math.floor(rand() * Math.max(stride[a], dilation[a])) : 0);
  }
  const c: ConvCase = {
    dim,
    transposed,
    batch: pick([1, 2, 3]),
    inChannels,
    outChannels,
    groups,
    og,
    mg,
    bias: rand() < 0.5,
    kernelSize,
    stride,
    padding,
    dilation,
    inSize,
    outputPadding: transposed ? outputPadding : undefined,
  };
  // The transposed output must be positive in every dim; shrink padding until it is.
  while (outSizeOf(c).some((n) => n <= 0)) c.padding = c.padding.map((p) => Math.max(0, p - 1));
  return c;
}
