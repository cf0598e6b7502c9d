// SPDX-License-Identifier: MIT
// deformConvForward of the CPU addon against the float64 loop reference: random configurations of every
// dim, regular and transposed, groups, independent offset/mask groups, stride/padding/dilation, optional
// offset/mask/bias, batch 0; the tvdcn-reference §11 vectors B, C, D, E, G; and the adjoint identity A5. Last, the
// micro-kernels reading A in place against the packed ones, bit for bit (forward and backward).
// Every suite runs twice: on the channels-last CPU kernels and on the planar ones (_setForcePlanar).

import { beforeAll, describe, expect, it } from 'vitest';
import { prod } from '../reference/deform-conv-reference.js';
import {
  addonBuilt,
  availableGrads,
  caseName,
  divisorsOf,
  type ConvCase,
  emptyNative,
  expectAllClose,
  kernelPaths,
  loadNative,
  makeTensors,
  nativeBackward,
  nativeForward,
  outSizeOf,
  paramsOf,
  randomConvCase,
  randTensor,
  reference,
  rng,
  roundF32,
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

/** A random valid case of `dim` (small enough for the loop reference). */
function randomCase(seed: number, dim: 1 | 2 | 3, transposed: boolean): ConvCase {
  return randomConvCase(seed, dim, transposed, {
    inPerGroup: [1, 2, 3],
    outPerGroup: [1, 2],
    groupCounts: (pick, cx) => ({ og: pick([0, ...divisorsOf(cx)]), mg: pick([0, ...divisorsOf(cx)]) }),
    kernelSizes: dim === 3 ? [1, 2] : [1, 2, 3],
    strides: [1, 1, 2],
    maxSide: dim === 3 ? 4 : dim === 2 ? 6 : 9,
  });
}

const randomCases: ConvCase[] = [];
for (const dim of [1, 2, 3] as const) {
  for (const transposed of [false, true]) {
    for (let i = 0; i < 12; i++)
      randomCases.push(randomCase(1000 * dim + 100 * Number(transposed) + i, dim, transposed));
  }
}

// Hand-picked cases: everything on at once, batch 0, and a 1x1 kernel.
const fixedCases: ConvCase[] = [
  {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 6,
    outChannels: 4,
    groups: 2,
    og: 3,
    mg: 2,
    bias: true,
    kernelSize: [3, 2],
    stride: [2, 1],
    padding: [1, 0],
    dilation: [2, 1],
    inSize: [5, 4],
  },
  {
    dim: 2,
    transposed: true,
    batch: 2,
    inChannels: 4,
    outChannels: 6,
    groups: 2,
    og: 3,
    mg: 2,
    bias: true,
    kernelSize: [3, 2],
    stride: [2, 1],
    padding: [1, 0],
    dilation: [2, 1],
    inSize: [3, 4],
    outputPadding: [1, 0],
  },
  {
    dim: 2,
    transposed: false,
    batch: 0,
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
    dim: 3,
    transposed: true,
    batch: 0,
    inChannels: 2,
    outChannels: 2,
    groups: 1,
    og: 1,
    mg: 1,
    bias: true,
    kernelSize: [2, 2, 2],
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
    inSize: [2, 2, 2],
  },
  {
    dim: 1,
    transposed: false,
    batch: 3,
    inChannels: 5,
    outChannels: 7,
    groups: 1,
    og: 5,
    mg: 1,
    bias: false,
    kernelSize: [1],
    stride: [1],
    padding: [0],
    dilation: [1],
    inSize: [11],
  },
  {
    dim: 3,
    transposed: false,
    batch: 2,
    inChannels: 4,
    outChannels: 4,
    groups: 2,
    og: 2,
    mg: 4,
    bias: true,
    kernelSize: [2, 2, 2],
    stride: [1, 2, 1],
    padding: [1, 0, 1],
    dilation: [1, 1, 2],
    inSize: [3, 4, 4],
  },
];

describe.runIf(addonBuilt).each(kernelPaths)('deformConvForward vs the loop reference ($label)', ({ planar }) => {
  usePlanarKernels(() => b, planar);

  for (const c of [...fixedCases, ...randomCases]) {
    it(`${caseName(c)} float64`, () => {
      const t = makeTensors(c, 7);
      const expected = reference(c, t);
      const got = nativeForward(b, c, t, 'float64');
      expectAllClose(got, expected.data, 1e-12, 1e-12 * scaleOf(expected.data), 'output');
    });
  }
  for (const c of [...fixedCases, ...randomCases.filter((_, i) => i % 3 === 0)]) {
    it(`${caseName(c)} float32`, () => {
      const t = makeTensors(c, 11);
      const r = {
        input: roundF32(t.input)!,
        weight: roundF32(t.weight)!,
        offset: roundF32(t.offset),
        mask: roundF32(t.mask),
        bias: roundF32(t.bias),
      };
      const expected = reference(c, r);
      const got = nativeForward(b, c, t, 'float32');
      expectAllClose(got, expected.data, 1e-5, 2e-5 * scaleOf(expected.data), 'output');
    });
  }

  it('offset = 0 and mask = 1 give the offset = null, mask = null result (A1)', () => {
    const c: ConvCase = {
      dim: 2,
      transposed: false,
      batch: 2,
      inChannels: 4,
      outChannels: 3,
      groups: 1,
      og: 2,
      mg: 2,
      bias: true,
      kernelSize: [3, 3],
      stride: [1, 2],
      padding: [1, 1],
      dilation: [1, 1],
      inSize: [7, 6],
    };
    const t = makeTensors(c, 3);
    t.offset!.data.fill(0);
    t.mask!.data.fill(1);
    const deformable = nativeForward(b, c, t);
    const plain = nativeForward(b, { ...c, og: 0, mg: 0 }, { ...t, offset: null, mask: null });
    expectAllClose(deformable, plain, 1e-13, 1e-13);
  });
});

// ---------------------------------------------------------------------------------------------------
// tvdcn-reference §11 vectors

function f64(data: number[], shape: number[]) {
  return { data: Float64Array.from(data), shape, dtype: 'float64' as const };
}

function params2d(over: Partial<Parameters<TestBinding['deformConvForward']>[0]>) {
  return {
    dim: 2 as const,
    transposed: false,
    batch: 1,
    inChannels: 1,
    outChannels: 1,
    groups: 1,
    offsetGroups: 1,
    maskGroups: 1,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    inSize: [4, 4],
    outSize: [2, 2],
    ...over,
  };
}

describe.runIf(addonBuilt).each(kernelPaths)('tvdcn-reference §11 vectors ($label)', ({ planar }) => {
  usePlanarKernels(() => b, planar);

  const img9 = [0, 1, 2, 3, 4, 5, 6, 7, 8];

  it('B: 1x1 kernel, img9, uniform offset (dy, dx) = (0.5, 0.25)', () => {
    const off = new Array(18).fill(0).map((_, i) => (i < 9 ? 0.5 : 0.25));
    const out = emptyNative([1, 1, 3, 3]);
    b.deformConvForward(
      params2d({ kernelSize: [1, 1], inSize: [3, 3], outSize: [3, 3] }),
      f64(img9, [1, 1, 3, 3]),
      f64([1], [1, 1, 1, 1]),
      f64(off, [1, 2, 3, 3]),
      null,
      null,
      out,
    );
    expect(Array.from(out.data as Float64Array)).toEqual([1.75, 2.75, 2.625, 4.75, 5.75, 4.875, 3.125, 3.625, 3.0]);
  });

  // C: value and d/dy, d/dx of one sample of img9+1, read through output (0, 0) and its offset gradient.
  const cRows: [number, number, number, number, number][] = [
    [-1.0, 1.0, 0, 2, 0],
    [-0.5, 1.0, 1.0, 2, 0.5],
    [1.0, 1.0, 5, 3, 1],
    [1.5, 1.5, 7, 3, 1],
    [2.0, 1.0, 8, -8, 1],
    [2.5, 1.0, 4, -8, 0.5],
    [3.0, 1.0, 0, 0, 0],
    [-1.0, -1.0, 0, 0, 0],
  ];
  for (const [y, x, value, dy, dx] of cRows) {
    it(`C: sample (${y}, ${x}) of img9+1 = ${value}, d/dy = ${dy}, d/dx = ${dx}`, () => {
      const p = params2d({ kernelSize: [1, 1], inSize: [3, 3], outSize: [3, 3] });
      const input = f64(
        img9.map((v) => v + 1),
        [1, 1, 3, 3],
      );
      const weight = f64([1], [1, 1, 1, 1]);
      const off = new Array(18).fill(0);
      off[0] = y; // channel 0 (dy) at position (0, 0)
      off[9] = x; // channel 1 (dx) at position (0, 0)
      const offset = f64(off, [1, 2, 3, 3]);
      const out = emptyNative([1, 1, 3, 3]);
      b.deformConvForward(p, input, weight, offset, null, null, out);
      expect((out.data as Float64Array)[0]).toBe(value);
      const gOut = new Array(9).fill(0);
      gOut[0] = 1;
      const gOff = emptyNative([1, 2, 3, 3]);
      b.deformConvBackward(p, input, weight, offset, null, f64(gOut, [1, 1, 3, 3]), {
        input: null,
        weight: null,
        offset: gOff,
        mask: null,
        bias: null,
      });
      expect([(gOff.data as Float64Array)[0], (gOff.data as Float64Array)[9]]).toEqual([dy, dx]);
    });
  }

  const arange16 = f64([...Array(16).keys()], [1, 1, 4, 4]);
  const w9 = f64([...Array(9).keys()], [1, 1, 3, 3]);

  it('D: padding 1, zero offset and offset = null', () => {
    const expected = [73, 121, 154, 103, 171, 258, 294, 186, 279, 402, 438, 270, 139, 187, 202, 113];
    const p = params2d({ padding: [1, 1], outSize: [4, 4] });
    for (const offset of [null, f64(new Array(18 * 16).fill(0), [1, 18, 4, 4])]) {
      const out = emptyNative([1, 1, 4, 4]);
      b.deformConvForward(p, arange16, w9, offset, null, null, out);
      expect(Array.from(out.data as Float64Array)).toEqual(expected);
    }
  });

  it('D: padding 0, offset = null', () => {
    const out = emptyNative([1, 1, 2, 2]);
    b.deformConvForward(params2d({}), arange16, w9, null, null, null, out);
    expect(Array.from(out.data as Float64Array)).toEqual([258, 294, 402, 438]);
  });

  it('D: padding 0, all x-offsets = +1', () => {
    const off = new Array(18 * 4).fill(0);
    for (let kpt = 0; kpt < 9; kpt++) for (let q = 0; q < 4; q++) off[(kpt * 2 + 1) * 4 + q] = 1;
    const out = emptyNative([1, 1, 2, 2]);
    b.deformConvForward(params2d({}), arange16, w9, f64(off, [1, 18, 2, 2]), null, null, out);
    expect(Array.from(out.data as Float64Array)).toEqual([294, 186, 438, 270]);
  });

  it('D: padding 0, zero offset, mask 0.5, bias 1', () => {
    const out = emptyNative([1, 1, 2, 2]);
    b.deformConvForward(
      params2d({}),
      arange16,
      w9,
      f64(new Array(72).fill(0), [1, 18, 2, 2]),
      f64(new Array(36).fill(0.5), [1, 9, 2, 2]),
      f64([1], [1]),
      out,
    );
    expect(Array.from(out.data as Float64Array)).toEqual([130, 148, 202, 220]);
  });

  const p1d = {
    dim: 1 as const,
    transposed: false,
    batch: 1,
    inChannels: 1,
    outChannels: 1,
    groups: 1,
    offsetGroups: 1,
    maskGroups: 1,
    kernelSize: [1],
    stride: [1],
    padding: [0],
    dilation: [1],
    inSize: [4],
    outSize: [4],
  };

  for (const [shift, expected] of [
    [0.5, [1.5, 2.5, 3.5, 2.0]],
    [-0.5, [0.5, 1.5, 2.5, 3.5]],
  ] as const) {
    it(`E: 1D input [1, 2, 3, 4], offset ${shift}`, () => {
      const out = emptyNative([1, 1, 4]);
      b.deformConvForward(
        p1d,
        f64([1, 2, 3, 4], [1, 1, 4]),
        f64([1], [1, 1, 1]),
        f64(new Array(4).fill(shift), [1, 1, 4]),
        null,
        null,
        out,
      );
      expect(Array.from(out.data as Float64Array)).toEqual(expected);
    });
  }

  it('E: the 1D offset gradient is v[floor + 1] - v[floor], whatever the fraction', () => {
    const input = f64([1, 2, 4, 8], [1, 1, 4]);
    for (const frac of [0, 0.25, 0.75]) {
      const off = f64([frac, frac, frac, frac], [1, 1, 4]);
      const g = emptyNative([1, 1, 4]);
      b.deformConvBackward(p1d, input, f64([1], [1, 1, 1]), off, null, f64([1, 1, 1, 1], [1, 1, 4]), {
        input: null,
        weight: null,
        offset: g,
        mask: null,
        bias: null,
      });
      expect(Array.from(g.data as Float64Array)).toEqual([1, 2, 4, -8]);
    }
  });

  const pG = {
    dim: 1 as const,
    transposed: true,
    batch: 1,
    inChannels: 1,
    outChannels: 1,
    groups: 1,
    offsetGroups: 1,
    maskGroups: 1,
    kernelSize: [3],
    stride: [2],
    padding: [0],
    dilation: [1],
    inSize: [2],
    outSize: [5],
  };
  const gCases: [string, number[] | null, number, number[]][] = [
    ['no offset', null, 5, [1, 1, 3, 2, 2]],
    ['offset +0.5', new Array(6).fill(0.5), 5, [0.5, 1, 2, 2.5, 2]],
    ['offset +0.5, outputPadding 1', new Array(6).fill(0.5), 6, [0.5, 1, 2, 2.5, 2, 1]],
  ];
  for (const [label, off, len, expected] of gCases) {
    it(`G: 1D transposed, ${label}`, () => {
      const out = emptyNative([1, 1, len]);
      b.deformConvForward(
        { ...pG, outSize: [len] },
        f64([1, 2], [1, 1, 2]),
        f64([1, 1, 1], [1, 1, 3]),
        off && f64(off, [1, 3, 2]),
        null,
        null,
        out,
      );
      expect(Array.from(out.data as Float64Array)).toEqual(expected);
    });
  }

  it('A5: <deformConv(z), x> == <z, deformConvTranspose(x)> (1D, 2 -> 3 channels, k 3, s 2, p 1, op 1)', () => {
    const rand = rng(5);
    const r = (n: number, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());
    // Transposed: input x [2, 2, 4], weight [2, 3, 3], output [2, 3, 8]; offsets/masks on the 4-grid.
    const B = 2,
      L = 4,
      Lout = (L - 1) * 2 - 2 + 2 + 1 + 1;
    const W = r(2 * 3 * 3);
    const off = r(B * 3 * L, -2, 2);
    const m = r(B * 3 * L, 0, 1);
    const x = r(B * 2 * L);
    const z = r(B * 3 * Lout);
    const tp = {
      dim: 1 as const,
      transposed: true,
      batch: B,
      inChannels: 2,
      outChannels: 3,
      groups: 1,
      offsetGroups: 1,
      maskGroups: 1,
      kernelSize: [3],
      stride: [2],
      padding: [1],
      dilation: [1],
      inSize: [L],
      outSize: [Lout],
    };
    const rp = { ...tp, transposed: false, inChannels: 3, outChannels: 2, inSize: [Lout], outSize: [L] };
    const yT = emptyNative([B, 3, Lout]);
    b.deformConvForward(
      tp,
      f64([...x], [B, 2, L]),
      f64([...W], [2, 3, 3]),
      f64([...off], [B, 3, L]),
      f64([...m], [B, 3, L]),
      null,
      yT,
    );
    const yR = emptyNative([B, 2, L]);
    b.deformConvForward(
      rp,
      f64([...z], [B, 3, Lout]),
      f64([...W], [2, 3, 3]),
      f64([...off], [B, 3, L]),
      f64([...m], [B, 3, L]),
      null,
      yR,
    );
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < x.length; i++) lhs += (yR.data as Float64Array)[i] * x[i];
    for (let i = 0; i < z.length; i++) rhs += z[i] * (yT.data as Float64Array)[i];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12 * Math.max(1, Math.abs(lhs)));
  });
});

describe.runIf(addonBuilt).each(kernelPaths)('mask shapes and K ($label)', ({ planar }) => {
  usePlanarKernels(() => b, planar);

  it('the K of offsets counts every kernel point (3D kernel 2x2x2: 24 offset channels per group)', () => {
    const c: ConvCase = {
      dim: 3,
      transposed: false,
      batch: 1,
      inChannels: 2,
      outChannels: 1,
      groups: 1,
      og: 1,
      mg: 1,
      bias: false,
      kernelSize: [2, 2, 2],
      stride: [1, 1, 1],
      padding: [0, 0, 0],
      dilation: [1, 1, 1],
      inSize: [3, 3, 3],
    };
    expect(paramsOf(c).outSize).toEqual([2, 2, 2]);
    const t = makeTensors(c, 1);
    expect(t.offset!.shape[1]).toBe(24);
    expect(prod(t.offset!.shape)).toBe(24 * 8);
    const got = nativeForward(b, c, t);
    expectAllClose(got, reference(c, t).data, 1e-12, 1e-12);
    expect((toNative(t.input).data as Float64Array).length).toBe(54);
  });
});

// The micro-kernels that read A in place (MicroKernel::fn_rows, fn_rows_pf: AVX-512, AVX2, NEON) against the same
// kernels with A packed (_setGemmRowsA(false)): the channels-last forward writes its sampled columns as colsT rows or
// as packed A panels, and the backward's recomputed forward tiles read them in place or pack them; the kernels do the
// same FMAs in the same order either way (gemm.h), so the output and every gradient have the same bits. With each
// such instruction set this CPU has (on arm64 NEON, the default there). The cases: partial row panels (columns not
// a multiple of mr), partial column tiles (output channels per group not a multiple of nr), several reduction blocks
// (more than 256 rows), odd reduction lengths (NEON's float kernel takes steps in pairs), groups, and packed weights
// above 1 MB (the prefetching kernels, fn_rows_pf).
const rowsCases: ConvCase[] = [
  ...([1, 2, 3] as const).map((dim, i) => ({
    dim,
    transposed: false,
    batch: 2,
    inChannels: [37, 36, 36][i],
    outChannels: [13, 40, 6][i],
    groups: [1, 2, 2][i],
    og: [1, 1, 3][i],
    mg: [1, 2, 0][i],
    bias: true,
    kernelSize: [[5], [3, 3], [2, 2, 2]][i],
    stride: Array(dim).fill(1),
    padding: Array(dim).fill(1),
    dilation: Array(dim).fill(1),
    inSize: [[23], [5, 7], [3, 4, 3]][i],
  })),
  {
    dim: 2,
    transposed: false,
    batch: 1,
    inChannels: 127,
    outChannels: 264,
    groups: 1,
    og: 1,
    mg: 1,
    bias: false,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    inSize: [5, 3],
  },
];

describe.runIf(addonBuilt)("micro-kernels reading A in place give the packed kernels' bits", () => {
  const bits = (a: ArrayLike<number>) => Buffer.from(Float64Array.from(a).buffer);
  for (const [i, c] of rowsCases.entries()) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${dtype}: ${caseName(c)}`, () => {
        const t = makeTensors(c, 2100 + i);
        const gradOutput = randTensor([c.batch, c.outChannels, ...outSizeOf(c)], rng(2200 + i));
        for (const isa of ['avx512', 'avx2', 'neon'] as const) {
          if (!b._setGemmIsa(isa)) continue;
          const run = (rowsA: boolean) => {
            b._setGemmRowsA(rowsA);
            expect(b._gemmRowsA()).toBe(rowsA);
            return {
              y: nativeForward(b, c, t, dtype),
              ...nativeBackward(b, c, t, gradOutput, availableGrads(c), dtype),
            };
          };
          try {
            const packed = run(false);
            const rows = run(true);
            for (const [k, e] of Object.entries(packed))
              expect(bits(rows[k as keyof typeof rows] as ArrayLike<number>).equals(bits(e)), `${k} (${isa})`).toBe(
                true,
              );
          } finally {
            b._setGemmRowsA(true);
            b._setGemmIsa('auto');
          }
        }
      });
    }
  }
});
