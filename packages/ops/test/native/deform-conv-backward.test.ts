// SPDX-License-Identifier: MIT
// deformConvBackward of the CPU addon: every gradient (input, weight, offset, mask, bias) against central
// finite differences of the float64 loop reference, regular and transposed, in each dim; requesting a
// subset of the gradients gives bit-identical values; results do not depend on the thread count, the
// column tile size or the GEMM micro-kernel. Every suite runs twice: on the channels-last CPU kernels
// and on the planar ones (_setForcePlanar).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeTensor } from '../../src/native/binding.js';
import { prod, type RefTensor } from '../reference/deform-conv-reference.js';
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
  reference,
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

/** Native backward; returns the requested gradients as float64 arrays. */
function backward64(
  c: ConvCase,
  t: CaseTensors,
  gradOutput: RefTensor,
  want: GradName[],
  dtype: DType = 'float64',
): Partial<Record<GradName, Float64Array>> {
  const raw = nativeBackward(b, c, t, gradOutput, want, dtype);
  const out: Partial<Record<GradName, Float64Array>> = {};
  for (const n of want) out[n] = Float64Array.from(raw[n] as Float32Array | Float64Array);
  return out;
}

/** dL/dθ for L = <reference(θ), R> by central differences, one element at a time. */
function finiteDifference(c: ConvCase, t: CaseTensors, r: RefTensor, n: GradName, h = 1e-6): Float64Array {
  const base =
    n === 'bias' && !t.bias ? { data: new Float64Array(c.outChannels), shape: [c.outChannels] } : (t[n] as RefTensor);
  const loss = (tt: CaseTensors) => {
    const y = reference(c, tt).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r.data[i];
    return s;
  };
  const g = new Float64Array(base.data.length);
  for (let i = 0; i < g.length; i++) {
    const plus = { data: Float64Array.from(base.data), shape: base.shape };
    const minus = { data: Float64Array.from(base.data), shape: base.shape };
    plus.data[i] += h;
    minus.data[i] -= h;
    g[i] = (loss({ ...t, [n]: plus }) - loss({ ...t, [n]: minus })) / (2 * h);
  }
  return g;
}

const gradCases: ConvCase[] = [
  {
    dim: 1,
    transposed: false,
    batch: 2,
    inChannels: 4,
    outChannels: 2,
    groups: 2,
    og: 2,
    mg: 4,
    bias: true,
    kernelSize: [3],
    stride: [2],
    padding: [1],
    dilation: [1],
    inSize: [7],
  },
  {
    dim: 1,
    transposed: true,
    batch: 2,
    inChannels: 2,
    outChannels: 4,
    groups: 2,
    og: 4,
    mg: 2,
    bias: true,
    kernelSize: [3],
    stride: [2],
    padding: [1],
    dilation: [2],
    inSize: [4],
    outputPadding: [1],
  },
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 4,
    outChannels: 2,
    groups: 1,
    og: 2,
    mg: 1,
    bias: true,
    kernelSize: [2, 3],
    stride: [1, 2],
    padding: [0, 1],
    dilation: [1, 2],
    inSize: [5, 6],
  },
  {
    dim: 2,
    transposed: true,
    batch: 1,
    inChannels: 4,
    outChannels: 2,
    groups: 2,
    og: 1,
    mg: 2,
    bias: true,
    kernelSize: [2, 3],
    stride: [1, 2],
    padding: [0, 1],
    dilation: [1, 2],
    inSize: [4, 2],
    outputPadding: [0, 1],
  },
  {
    dim: 3,
    transposed: false,
    batch: 1,
    inChannels: 2,
    outChannels: 2,
    groups: 1,
    og: 2,
    mg: 1,
    bias: true,
    kernelSize: [2, 2, 2],
    stride: [1, 1, 2],
    padding: [0, 1, 0],
    dilation: [1, 1, 1],
    inSize: [3, 3, 4],
  },
  {
    dim: 3,
    transposed: true,
    batch: 1,
    inChannels: 2,
    outChannels: 2,
    groups: 1,
    og: 1,
    mg: 2,
    bias: false,
    kernelSize: [2, 1, 2],
    stride: [2, 1, 1],
    padding: [0, 0, 1],
    dilation: [1, 1, 1],
    inSize: [2, 3, 2],
    outputPadding: [1, 0, 0],
  },
  // Mask without offset (masked ordinary convolution), and neither.
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 2,
    outChannels: 3,
    groups: 1,
    og: 0,
    mg: 2,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [4, 3],
  },
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 3,
    outChannels: 2,
    groups: 1,
    og: 0,
    mg: 0,
    bias: true,
    kernelSize: [3, 2],
    stride: [2, 1],
    padding: [1, 0],
    dilation: [1, 1],
    inSize: [3, 3],
    outputPadding: [1, 0],
  },
];

describe.runIf(addonBuilt).each(kernelPaths)(
  'deformConvBackward vs finite differences of the reference (float64) ($label)',
  ({ planar }) => {
    usePlanarKernels(() => b, planar);

    for (const c of gradCases) {
      for (const n of availableGrads(c)) {
        it(`d/d${n}: ${caseName(c)}`, () => {
          const t = makeTensors(c, 21);
          const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(99));
          const got = backward64(c, t, r, [n])[n]!;
          const expected = finiteDifference(c, t, r, n);
          expectAllClose(got, expected, 1e-6, 1e-7 * scaleOf(expected), `grad ${n}`);
        });
      }
    }
  },
);

describe.runIf(addonBuilt).each(kernelPaths)('deformConvBackward: float32 ($label)', ({ planar }) => {
  usePlanarKernels(() => b, planar);

  for (const c of gradCases.filter((_, i) => i % 2 === 0)) {
    it(`matches float64 within float32 rounding: ${caseName(c)}`, () => {
      const t = makeTensors(c, 5);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(6));
      const want = availableGrads(c);
      const g64 = backward64(c, t, r, want, 'float64');
      const g32 = backward64(c, t, r, want, 'float32');
      for (const n of want) expectAllClose(g32[n]!, g64[n]!, 1e-4, 1e-4 * scaleOf(g64[n]!), `grad ${n}`);
    });
  }
});

describe.runIf(addonBuilt).each(kernelPaths)(
  'deformConvBackward: only the requested gradients ($label)',
  ({ planar }) => {
    usePlanarKernels(() => b, planar);

    for (const c of [gradCases[2], gradCases[3], gradCases[5]]) {
      it(`every subset equals the full call bit for bit: ${caseName(c)}`, () => {
        const t = makeTensors(c, 8);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(9));
        const names = availableGrads(c);
        const full = backward64(c, t, r, names);
        for (let mask = 1; mask < 1 << names.length; mask++) {
          const subset = names.filter((_, i) => (mask >> i) & 1);
          const part = backward64(c, t, r, subset);
          for (const n of subset) expect(part[n], `${n} of {${subset}}`).toEqual(full[n]);
        }
      });
    }

    it('an all-null grads object does nothing and throws nothing', () => {
      const c = gradCases[2];
      const t = makeTensors(c, 1);
      expect(backward64(c, t, randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(2)), [])).toEqual({});
    });

    it('batch 0: weight and bias gradients are zero', () => {
      const c: ConvCase = { ...gradCases[2], batch: 0 };
      const t = makeTensors(c, 1);
      const g = backward64(
        c,
        t,
        { data: new Float64Array(0), shape: [0, c.outChannels, ...outSizeOf(c)] },
        availableGrads(c),
      );
      expect(Array.from(g.weight!).every((v) => v === 0)).toBe(true);
      expect(Array.from(g.bias!)).toEqual([0, 0]);
      expect(g.input!.length).toBe(0);
    });
  },
);

// ---------------------------------------------------------------------------------------------------
// Results independent of threads, tiles and micro-kernels.

const bigCases: ConvCase[] = [
  {
    dim: 2,
    transposed: false,
    batch: 3,
    inChannels: 24,
    outChannels: 20,
    groups: 2,
    og: 4,
    mg: 3,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [19, 17],
  },
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 16,
    outChannels: 12,
    groups: 2,
    og: 2,
    mg: 6,
    bias: true,
    kernelSize: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [9, 11],
    outputPadding: [1, 0],
  },
  {
    dim: 3,
    transposed: false,
    batch: 2,
    inChannels: 8,
    outChannels: 6,
    groups: 1,
    og: 2,
    mg: 1,
    bias: false,
    kernelSize: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
    inSize: [6, 7, 5],
  },
];

function runAll(c: ConvCase, t: CaseTensors, r: RefTensor, dtype: DType = 'float64') {
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
  return { output: Float64Array.from(out.data as Float64Array), ...backward64(c, t, r, availableGrads(c), dtype) };
}

describe.runIf(addonBuilt).each(kernelPaths)(
  'deterministic and independent of the execution strategy ($label)',
  ({ planar }) => {
    usePlanarKernels(() => b, planar);

    const defaultLimit = () => b._getWorkspaceLimit();
    let saved = 0;
    beforeAll(() => {
      saved = defaultLimit();
    });
    afterAll(() => {
      b._setWorkspaceLimit(saved);
      b._setGemmIsa('auto');
      b.setNumThreads(2);
    });

    for (const c of bigCases) {
      it(`tiny column tiles give the default-tile result: ${caseName(c)}`, () => {
        const t = makeTensors(c, 3);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(4));
        b._setWorkspaceLimit(saved);
        const ref = runAll(c, t, r);
        for (const limit of [1, 5000, 100_000]) {
          b._setWorkspaceLimit(limit);
          const got = runAll(c, t, r);
          for (const [k, v] of Object.entries(got)) {
            const e = ref[k as keyof typeof ref]!;
            expectAllClose(v, e, 1e-12, 1e-12 * scaleOf(e), `${k} with a ${limit}-byte workspace`);
          }
          // Regular forward: the tiling never changes the summation order.
          if (!c.transposed) expect(got.output).toEqual(ref.output);
        }
        b._setWorkspaceLimit(saved);
      });

      it(`1 and 2 threads give bit-identical results: ${caseName(c)}`, () => {
        const t = makeTensors(c, 5);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(6));
        b.setNumThreads(1);
        const one = runAll(c, t, r);
        b.setNumThreads(2);
        const two = runAll(c, t, r);
        const again = runAll(c, t, r);
        expect(two).toEqual(one);
        expect(again).toEqual(one);
      });

      it(`1 and 2 threads give bit-identical results with many column windows and slots: ${caseName(c)}`, () => {
        // Small workspaces cut the columns into several windows (and, at 2 MB, X-gradient slots), whose
        // partial sums must be added in the same order whatever the thread count.
        const t = makeTensors(c, 9);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(10));
        try {
          for (const limit of [300_000, 2_000_000]) {
            b._setWorkspaceLimit(limit);
            b.setNumThreads(1);
            const one = runAll(c, t, r);
            b.setNumThreads(2);
            expect(runAll(c, t, r), `${limit}-byte workspace`).toEqual(one);
            expect(runAll(c, t, r), `${limit}-byte workspace, again`).toEqual(one);
          }
        } finally {
          b._setWorkspaceLimit(saved);
        }
      });

      it(`every GEMM micro-kernel gives the same result: ${caseName(c)}`, () => {
        const t = makeTensors(c, 7);
        const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(8));
        b._setGemmIsa('auto');
        const ref = runAll(c, t, r);
        for (const isa of ['generic', 'avx2', 'avx512', 'neon'] as const) {
          if (!b._setGemmIsa(isa)) continue;
          expect(b._gemmIsa()).toBe(isa);
          for (const dtype of ['float64', 'float32'] as const) {
            const got = runAll(c, t, r, dtype);
            const tol = dtype === 'float64' ? 1e-12 : 2e-4;
            for (const [k, v] of Object.entries(got)) {
              const e = ref[k as keyof typeof ref]!;
              expectAllClose(v, e, tol, tol * scaleOf(e), `${k} with ${isa} ${dtype}`);
            }
          }
        }
        b._setGemmIsa('auto');
      });
    }

    it('a column workspace far smaller than the columns of one image (16 KB for a 2.4 MB im2col)', () => {
      const c: ConvCase = {
        dim: 2,
        transposed: false,
        batch: 2,
        inChannels: 32,
        outChannels: 16,
        groups: 1,
        og: 1,
        mg: 1,
        bias: true,
        kernelSize: [3, 3],
        stride: [1, 1],
        padding: [1, 1],
        dilation: [1, 1],
        inSize: [32, 32],
      };
      const t = makeTensors(c, 3);
      const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(4));
      expect(c.inChannels * 9 * prod(outSizeOf(c)) * 8).toBeGreaterThan(2_000_000);
      b._setWorkspaceLimit(saved);
      const ref = runAll(c, t, r);
      b._setWorkspaceLimit(16 * 1024);
      const got = runAll(c, t, r);
      b._setWorkspaceLimit(saved);
      for (const [k, v] of Object.entries(got)) {
        const e = ref[k as keyof typeof ref]!;
        expectAllClose(v, e, 1e-12, 1e-12 * scaleOf(e), k);
      }
    });
  },
);

// Short channel runs in float32 (8 channels per offset and mask group, edvr-style): with the AVX-512 or the AVX2
// kernels the backward takes the fused small-group sampler (backward_small_groups.inc), whose X-gradient
// sums follow the column tiles; those must not depend on the thread count either.
describe.runIf(addonBuilt)('short channel runs in float32: deterministic', () => {
  const c: ConvCase = {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 32,
    outChannels: 16,
    groups: 1,
    og: 4,
    mg: 4,
    bias: true,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [23, 29],
  };
  it('1, 2 and 3 threads give bit-identical results, with the default and small workspaces', () => {
    const saved = b._getWorkspaceLimit();
    const t = makeTensors(c, 11);
    const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(12));
    try {
      for (const isa of ['avx512', 'avx2'] as const) {
        if (!b._setGemmIsa(isa)) continue;
        for (const limit of [saved, 300_000, 2_000_000]) {
          b._setWorkspaceLimit(limit);
          b.setNumThreads(1);
          const one = runAll(c, t, r, 'float32');
          // Also with the slot pieces handed between threads at every group end (NOTE [ Slot pieces handed over ]).
          for (const handover of [false, true]) {
            b._setForceHandover(handover);
            for (const threads of [1, 2, 3]) {
              b.setNumThreads(threads);
              const where = `${isa}, ${threads} threads, ${limit}-byte workspace, forced hand-overs ${handover}`;
              expect(runAll(c, t, r, 'float32'), where).toEqual(one);
            }
          }
        }
      }
    } finally {
      b._setGemmIsa('auto');
      b._setForceHandover(false);
      b._setWorkspaceLimit(saved);
      b.setNumThreads(2);
    }
  });
  // The small-group sampler streams whole cache lines of the offset and mask gradient rows and stores the
  // two partial lines at each end of a row normally (write_row in backward_small_groups.inc, AVX-512 and AVX2
  // forms): gradients written into views at each 4-byte phase of a cache line must be bitwise those written into
  // fresh arrays, and no element outside the view may change (two threads' chunks can share an edge line).
  it('offset and mask gradients in views at every 4-byte phase of a cache line: same values, nothing outside written', () => {
    const t = makeTensors(c, 13);
    const r = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(14));
    const offShape = (t.offset as RefTensor).shape;
    const maskShape = (t.mask as RefTensor).shape;
    const SENTINEL = 12345;
    const inputs = [t.input, t.weight, t.offset as RefTensor, t.mask as RefTensor, r].map((x) =>
      toNative(x, 'float32'),
    );
    const call = (offset: NativeTensor, mask: NativeTensor) =>
      b.deformConvBackward(paramsOf(c), inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], {
        input: null,
        weight: null,
        offset,
        mask,
        bias: null,
      });
    const sameBits = (x: Float32Array, y: Float32Array): boolean =>
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    try {
      for (const isa of ['avx512', 'avx2'] as const) {
        if (!b._setGemmIsa(isa)) continue;
        for (const threads of [1, 2, 3]) {
          b.setNumThreads(threads);
          const refOffset = emptyNative(offShape, 'float32');
          const refMask = emptyNative(maskShape, 'float32');
          call(refOffset, refMask);
          for (let phase = 0; phase < 16; phase++) {
            const view = (shape: number[]) => {
              const n = prod(shape);
              const backing = new Float32Array(n + 48).fill(SENTINEL);
              return {
                backing,
                t: { data: backing.subarray(16 + phase, 16 + phase + n), shape, dtype: 'float32' as const },
              };
            };
            const o = view(offShape);
            const m = view(maskShape);
            call(o.t, m.t);
            const where = `${isa}, ${threads} threads, phase ${phase}`;
            expect(sameBits(o.t.data, refOffset.data as Float32Array), `offset, ${where}`).toBe(true);
            expect(sameBits(m.t.data, refMask.data as Float32Array), `mask, ${where}`).toBe(true);
            for (const { backing, t: v } of [o, m]) {
              const written = backing.findIndex(
                (x, i) => x !== SENTINEL && (i < 16 + phase || i >= 16 + phase + v.data.length),
              );
              expect(written, `an element outside the view was written, ${where}`).toBe(-1);
            }
          }
        }
      }
    } finally {
      b._setGemmIsa('auto');
      b.setNumThreads(2);
    }
  });
});

// The bias gradient alone (the other gradients null): with AVX-512 four channels at a time, each channel's eight
// partial sums in one vector (deform_conv_driver.cc), with the portable loop otherwise; both must give the bits of
// the same double-precision sums: lane k takes the elements i % 8 == k of every image's row, images in order, and
// the lanes are added ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)). Rows of 8 n + 0, 1, 5 and 7 positions, channel
// counts with whole blocks of four and remainders.
describe.runIf(addonBuilt)('bias gradient: every GEMM instruction set gives the lane sums bit for bit', () => {
  function laneSums(g: Float64Array, batch: number, channels: number, spatial: number, f32: boolean): Float64Array {
    const out = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      const part = new Float64Array(8);
      for (let bi = 0; bi < batch; bi++)
        for (let i = 0; i < spatial; i++) part[i % 8] += g[(bi * channels + c) * spatial + i];
      const s = part[0] + part[1] + (part[2] + part[3]) + (part[4] + part[5] + (part[6] + part[7]));
      out[c] = f32 ? Math.fround(s) : s;
    }
    return out;
  }
  // Enough channels that the two threads' chunks hold whole blocks of four and a remainder (40: chunks of 5; 67:
  // chunks of 9, the last of 4).
  const shapes: [number, number, number][] = [
    [1, 40, 16],
    [2, 40, 17],
    [3, 67, 21],
    [2, 64, 15],
    [1, 128, 63],
  ];
  for (const [batch, channels, len] of shapes) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`batch ${batch}, ${channels} channels, length ${len}, ${dtype}`, () => {
        const c: ConvCase = {
          dim: 1,
          transposed: false,
          batch,
          inChannels: 2,
          outChannels: channels,
          groups: 1,
          og: 1,
          mg: 1,
          bias: true,
          kernelSize: [1],
          stride: [1],
          padding: [0],
          dilation: [1],
          inSize: [len],
        };
        const t = makeTensors(c, 31 + len);
        const r = randTensor([batch, channels, len], rng(32 + len), -1e3, 1e3);
        const n = (x: RefTensor | null) => x && toNative(x, dtype);
        const gy = n(r)!;
        const want = laneSums(
          Float64Array.from(gy.data as Float32Array | Float64Array),
          batch,
          channels,
          len,
          dtype === 'float32',
        );
        try {
          for (const isa of ['generic', 'avx2', 'avx512', 'neon'] as const) {
            if (!b._setGemmIsa(isa)) continue;
            const bias = emptyNative([channels], dtype);
            b.deformConvBackward(paramsOf(c), n(t.input)!, n(t.weight)!, n(t.offset), n(t.mask), gy, {
              input: null,
              weight: null,
              offset: null,
              mask: null,
              bias,
            });
            expect(Array.from(bias.data as Float32Array | Float64Array), `${isa}`).toEqual(Array.from(want));
          }
        } finally {
          b._setGemmIsa('auto');
        }
      });
    }
  }
});
