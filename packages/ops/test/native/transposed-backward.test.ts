// SPDX-License-Identifier: MIT
// The transposed op's input gradient is the regular forward of grad_output (same weight, offsets and masks,
// no bias). On the channels-last kernels the backward's column pass takes it from the columns it samples
// for the weight gradient, with the forward's GEMM (NOTE [ Forward from the backward's columns ] in
// column_pass.cc), so it must equal the regular forward bit for bit: in 1D, 2D and 3D, float32 and float64,
// with and without offsets and masks, with groups, offset groups and the small-group sampler (8 channels per
// offset group in float32), for every subset of gradients that holds the input gradient, at 1, 2 and 3
// threads, with column tiles from the default down to one column (tiles spanning images), under every GEMM
// micro-kernel; and its other gradients must not depend on the thread count. Both kernel families run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefTensor } from '../reference/deform-conv-reference.js';
import {
  addonBuilt,
  availableGrads,
  type CaseTensors,
  caseName,
  type ConvCase,
  type DType,
  emptyNative,
  expectAllClose,
  type GradName,
  kernelPaths,
  loadNative,
  makeTensors,
  nativeBackward,
  outSizeOf,
  paramsOf,
  randTensor,
  rng,
  scaleOf,
  type TestBinding,
  toNative,
  usePlanarKernels,
} from './helpers.js';

let b: TestBinding;
beforeAll(() => {
  b = loadNative();
  b.setNumThreads(2);
});

const cases: ConvCase[] = [
  {
    dim: 1,
    transposed: true,
    batch: 3,
    inChannels: 12,
    outChannels: 10,
    groups: 2,
    og: 2,
    mg: 1,
    bias: true,
    kernelSize: [3],
    stride: [2],
    padding: [1],
    dilation: [2],
    inSize: [37],
    outputPadding: [1],
  },
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 16,
    outChannels: 24,
    groups: 1,
    og: 3,
    mg: 3,
    bias: true,
    kernelSize: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [11, 9],
    outputPadding: [1, 0],
  },
  // 8 channels per offset and mask group: the small-group backward sampler in float32 with AVX-512.
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 8,
    outChannels: 64,
    groups: 1,
    og: 8,
    mg: 8,
    bias: false,
    kernelSize: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 13],
    outputPadding: [0, 1],
  },
  // Groups without a mask; a mask without offsets.
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 6,
    outChannels: 9,
    groups: 3,
    og: 3,
    mg: 0,
    bias: true,
    kernelSize: [4, 4],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [7, 8],
  },
  {
    dim: 2,
    transposed: true,
    batch: 3,
    inChannels: 5,
    outChannels: 7,
    groups: 1,
    og: 0,
    mg: 1,
    bias: false,
    kernelSize: [3, 2],
    stride: [1, 2],
    padding: [1, 0],
    dilation: [1, 1],
    inSize: [6, 5],
  },
  {
    dim: 3,
    transposed: true,
    batch: 2,
    inChannels: 6,
    outChannels: 8,
    groups: 2,
    og: 2,
    mg: 2,
    bias: true,
    kernelSize: [2, 3, 2],
    stride: [2, 1, 2],
    padding: [0, 1, 1],
    dilation: [1, 1, 1],
    inSize: [3, 4, 3],
    outputPadding: [1, 0, 0],
  },
];

/** The regular convolution whose forward is the transposed case's input gradient. */
function regularOf(c: ConvCase): ConvCase {
  const { outputPadding: _, ...rest } = c;
  return {
    ...rest,
    transposed: false,
    inChannels: c.outChannels,
    outChannels: c.inChannels,
    bias: false,
    inSize: outSizeOf(c),
  };
}

/** The regular forward of grad_output with the transposed case's weight, offsets and masks. */
function forwardOfGradOutput(c: ConvCase, t: CaseTensors, gradOutput: RefTensor, dtype: DType) {
  const r = regularOf(c);
  const out = emptyNative([c.batch, c.inChannels, ...c.inSize], dtype);
  expect(outSizeOf(r)).toEqual(c.inSize);
  b.deformConvForward(
    paramsOf(r),
    toNative(gradOutput, dtype),
    toNative(t.weight, dtype),
    t.offset && toNative(t.offset, dtype),
    t.mask && toNative(t.mask, dtype),
    null,
    out,
  );
  return out.data as Float32Array | Float64Array;
}

const bits = (x: Float32Array | Float64Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const sameBits = (x: Float32Array | Float64Array, y: Float32Array | Float64Array) => bits(x).equals(bits(y));

describe.runIf(addonBuilt).each(kernelPaths)(
  'transposed backward: the input gradient is the regular forward of grad_output ($label)',
  ({ planar }) => {
    usePlanarKernels(() => b, planar);
    let savedLimit = 0;
    beforeAll(() => {
      savedLimit = b._getWorkspaceLimit();
    });
    afterAll(() => {
      b._setWorkspaceLimit(savedLimit);
      b._setGemmIsa('auto');
      b.setNumThreads(2);
    });

    for (const c of cases) {
      for (const dtype of ['float32', 'float64'] as const) {
        it(`bit for bit at 1, 2 and 3 threads and any column tile, other gradients thread-independent: ${dtype} ${caseName(c)}`, () => {
          const t = makeTensors(c, 31);
          const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(32));
          const names = availableGrads(c);
          try {
            b.setNumThreads(2);
            b._setWorkspaceLimit(savedLimit);
            const expected = forwardOfGradOutput(c, t, r, dtype);
            for (const limit of [savedLimit, 300_000, 5000, 1]) {
              b._setWorkspaceLimit(limit);
              let one: Partial<Record<GradName, Float32Array | Float64Array>> = {};
              // Also with the slot pieces handed between threads at every group end (NOTE [ Slot pieces handed
              // over ] in column_pass.cc): the carried input-gradient rows flushed, the slot's sums unchanged.
              for (const handover of [false, true]) {
                b._setForceHandover(handover);
                for (const threads of [1, 2, 3]) {
                  b.setNumThreads(threads);
                  const got = nativeBackward(b, c, t, r, names, dtype);
                  const where = `${threads} threads, ${limit}-byte workspace, forced hand-overs ${handover}`;
                  expect(sameBits(got.input!, expected), `input gradient, ${where}`).toBe(true);
                  if (threads === 1 && !handover) one = got;
                  for (const n of names) expect(sameBits(got[n]!, one[n]!), `${n}, ${where}`).toBe(true);
                }
              }
            }
          } finally {
            b._setForceHandover(false);
            b._setWorkspaceLimit(savedLimit);
            b.setNumThreads(2);
          }
        });
      }

      it(`every subset of the gradients gives the full call's values bit for bit, with default and small tiles: ${caseName(c)}`, () => {
        // Small tiles: the input gradient's rows carried from tile to tile (column_pass.cc, the y_forward step),
        // in the thread's own colsT buffer when the weight gradient is not requested.
        const t = makeTensors(c, 41);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(42));
        const names = availableGrads(c);
        try {
          for (const limit of [savedLimit, 5000]) {
            b._setWorkspaceLimit(limit);
            for (const dtype of ['float32', 'float64'] as const) {
              const full = nativeBackward(b, c, t, r, names, dtype);
              const where = `${dtype}, ${limit}-byte workspace`;
              expect(sameBits(full.input!, forwardOfGradOutput(c, t, r, dtype)), `input, ${where}`).toBe(true);
              for (let m = 1; m < 1 << names.length; m++) {
                const subset = names.filter((_, i) => (m >> i) & 1);
                const part = nativeBackward(b, c, t, r, subset, dtype);
                for (const n of subset)
                  expect(sameBits(part[n]!, full[n]!), `${n} of {${subset}}, ${where}`).toBe(true);
              }
            }
          }
        } finally {
          b._setWorkspaceLimit(savedLimit);
        }
      });

      it(`every GEMM micro-kernel: the regular forward's bits; float32 within rounding of float64: ${caseName(c)}`, () => {
        const t = makeTensors(c, 51);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(52));
        try {
          for (const isa of ['generic', 'avx2', 'avx512', 'neon'] as const) {
            if (!b._setGemmIsa(isa)) continue;
            expect(b._gemmIsa()).toBe(isa);
            const g64 = nativeBackward(b, c, t, r, ['input', 'weight'], 'float64');
            const g32 = nativeBackward(b, c, t, r, ['input', 'weight'], 'float32');
            expect(sameBits(g64.input!, forwardOfGradOutput(c, t, r, 'float64')), `${isa} float64`).toBe(true);
            expect(sameBits(g32.input!, forwardOfGradOutput(c, t, r, 'float32')), `${isa} float32`).toBe(true);
            const e = Float64Array.from(g64.input!);
            expectAllClose(Float64Array.from(g32.input!), e, 1e-4, 1e-4 * scaleOf(e), `${isa}: float32 input gradient`);
          }
        } finally {
          b._setGemmIsa('auto');
        }
      });
    }
  },
);
