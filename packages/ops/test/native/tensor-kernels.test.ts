// SPDX-License-Identifier: MIT
// The native CPU tensor kernels (native/src/elementwise/cpu/, through the device-generic exports of
// napi/elementwise_binding.cc and backends/native-tensor-ops.ts) against the TypeScript loops of
// backends/cpu/ and float64 references: every unary and binary op, broadcasting, empty and one-element
// tensors, sums over dimension sets, non-contiguous strided copies, gathers and scatter-adds with -1 and
// repeated map entries, both dtypes; identical results for several thread counts; and bad arguments
// throw typed errors instead of crashing.

import { beforeAll, describe, expect, it } from 'vitest';
import type { BinaryOp, KernelTensor, UnaryOp } from '../../src/backends/kernel-backend.js';
import { nativeTensorOps, type NativeTensorOps } from '../../src/backends/native-tensor-ops.js';
import { allocCpu, arrayOf } from '../../src/backends/cpu/cpu-storage.js';
import { addInPlaceCpu, binaryCpu, castCpu, unaryCpu } from '../../src/backends/cpu/elementwise.js';
import { copyStridedCpu, gatherCpu, scatterAddCpu } from '../../src/backends/cpu/movement.js';
import { sumCpu } from '../../src/backends/cpu/reduce.js';
import { hasTensorKernels, type NativeTensor, type NativeTensorKernels } from '../../src/native/binding.js';
import type { DType, TypedArray } from '../../src/tensor/dtype.js';
import { numelOf } from '../../src/tensor/layout.js';
import { CpuStorage, type Storage } from '../../src/tensor/storage.js';
import { addonBuilt, loadNative, rng, type TestBinding } from './helpers.js';

const DTYPES = ['float32', 'float64'] as const;
const UNARY: UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'sigmoid',
  'tanh',
  'relu',
  'abs',
  'sign',
  'square',
  'sqrt',
  'addScalar',
  'mulScalar',
  'divScalar',
  'rsubScalar',
  'rdivScalar',
  'powScalar',
];
const BINARY: BinaryOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'sigmoidBackward',
  'tanhBackward',
  'reluBackward',
  'absBackward',
];
/** Ops whose TypeScript and native values agree to the last bit (plain IEEE arithmetic in float64). */
const EXACT_UNARY = new Set<UnaryOp>(
  UNARY.filter((op) => !['exp', 'log', 'sigmoid', 'tanh', 'powScalar'].includes(op)),
);

let binding: TestBinding & NativeTensorKernels;
let native: NativeTensorOps;

function view(storage: Storage, shape: readonly number[]): NativeTensor {
  return { data: arrayOf(storage) as Float32Array | Float64Array, shape, dtype: storage.dtype };
}

beforeAll(() => {
  const b = loadNative();
  if (!hasTensorKernels(b)) throw new Error('the built addon has no tensor kernels');
  binding = b;
  native = nativeTensorOps({ binding: () => binding, alloc: (_d, dtype, n) => allocCpu(dtype, n), view });
});

/** Random values in [lo, hi) with a few specials (0, -0, NaN, +-Infinity) when `specials`. */
function values(dtype: DType, n: number, rand: () => number, lo = -3, hi = 3, specials = false): CpuStorage {
  const s = allocCpu(dtype, n);
  const a = s.data;
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  if (specials && n >= 8) {
    const sp = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const v of sp) a[Math.floor(rand() * n)] = v;
  }
  return s;
}

const kt = (storage: Storage, shape: readonly number[]): KernelTensor => ({ storage, shape });

/** Exact equality (Object.is: NaN equals NaN, -0 differs from 0) of every element. */
function expectSame(got: TypedArray, want: TypedArray, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) expect(`${what}[${i}] = ${got[i]}`).toBe(`${what}[${i}] = ${want[i]}`);
  }
}

/** Equality within `rel` relative error (NaN and infinities must match exactly). */
function expectClose(got: TypedArray, want: TypedArray, rel: number, what: string, scale?: TypedArray): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Object.is(g, w) || g === w) continue;
    if (!Number.isFinite(w) || !Number.isFinite(g)) expect(`${what}[${i}] = ${g}`).toBe(`${what}[${i}] = ${w}`);
    const tol = rel * Math.max(Math.abs(w), scale ? scale[i] : 0, Number.MIN_VALUE);
    if (Math.abs(g - w) > tol) expect(`${what}[${i}] = ${g} (within ${tol})`).toBe(`${what}[${i}] = ${w}`);
  }
}

const ULP = { float32: 2 ** -23, float64: 2 ** -52 } as const;

/** Runs fn with the pool at each of `counts` threads; restores the count. */
function withThreads<T>(counts: number[], fn: (threads: number) => T): T[] {
  const before = binding.getNumThreads();
  try {
    return counts.map((n) => {
      binding.setNumThreads(n);
      return fn(n);
    });
  } finally {
    binding.setNumThreads(before);
  }
}

/** Random maps for xShape -> outShape with -1 (padding) and repeated entries (reflect, replicate). */
const randomMaps = (xShape: number[], outShape: number[], rand: () => number): Int32Array[] =>
  outShape.map((n, d) =>
    Int32Array.from({ length: n }, () => (rand() < 0.15 || xShape[d] === 0 ? -1 : Math.floor(rand() * xShape[d]))),
  );

describe.runIf(addonBuilt)('native tensor kernels vs the TypeScript loops', () => {
  const SIZES = [0, 1, 7, 1000, 100_003];

  describe.each(DTYPES)('%s', (dtype) => {
    it.each(UNARY)('unary %s', (op) => {
      const rand = rng(UNARY.indexOf(op) + 1);
      for (const n of SIZES) {
        const positive = op === 'log' || op === 'sqrt' || op === 'powScalar';
        const x = values(dtype, n, rand, positive ? -0.5 : -4, 4, true);
        const alphas = op === 'powScalar' ? [2, 1, 0.5, 3, -1.5, 0.1] : [0.1, -3, 0];
        for (const alpha of alphas) {
          const want = arrayOf(unaryCpu(op, x, alpha));
          const got = arrayOf(native.unary(op, x, alpha));
          const exact = EXACT_UNARY.has(op) || (op === 'powScalar' && [2, 1, 0.5].includes(alpha));
          if (exact) expectSame(got, want, `${op}(${alpha}) n=${n}`);
          else expectClose(got, want, 2 * ULP[dtype], `${op}(${alpha}) n=${n}`);
        }
      }
    });

    // Shape pairs broadcasting to an output shape, including 0-size and 1-element ones.
    const SHAPES: [number[], number[]][] = [
      [[], []],
      [[1], [1]],
      [[5], []],
      [[], [5]],
      [
        [4, 5],
        [4, 5],
      ],
      [
        [4, 1],
        [1, 5],
      ],
      [
        [3, 1, 5],
        [4, 1],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 5],
      ],
      [
        [2, 1, 4, 1, 3],
        [1, 6, 1, 2, 3],
      ],
      [
        [0, 3],
        [1, 3],
      ],
      [
        [2, 0],
        [2, 1],
      ],
      [
        [7, 300, 50],
        [300, 1],
      ],
      [[100_000], [1]],
      [
        [8, 64, 33],
        [64, 33],
      ],
    ];
    const broadcast = (a: number[], b: number[]): number[] => {
      const nd = Math.max(a.length, b.length);
      return Array.from({ length: nd }, (_, i) => {
        const da = a[a.length - nd + i] ?? 1;
        const db = b[b.length - nd + i] ?? 1;
        return da === 1 ? db : da;
      });
    };

    it.each(BINARY)('binary %s with broadcasting', (op) => {
      const rand = rng(100 + BINARY.indexOf(op));
      for (const [sa, sb] of SHAPES) {
        const out = broadcast(sa, sb);
        const a = kt(values(dtype, numelOf(sa), rand, -3, 3, true), sa);
        const b = kt(values(dtype, numelOf(sb), rand, -3, 3, true), sb);
        for (const [x, y] of [
          [a, b],
          [b, a],
        ]) {
          const want = arrayOf(binaryCpu(op, x, y, out));
          const got = arrayOf(native.binary(op, x, y, out));
          expectSame(got, want, `${op} ${JSON.stringify([x.shape, y.shape])}`);
        }
      }
    });

    it('cast, fill and addInPlace', () => {
      const rand = rng(7);
      for (const n of SIZES) {
        const x = values(dtype, n, rand, -1e5, 1e5, true);
        for (const to of DTYPES) expectSame(arrayOf(native.cast(x, to)), arrayOf(castCpu(x, to)), `cast to ${to}`);
        const f = allocCpu(dtype, n);
        native.fill(f, 0.1);
        expectSame(f.data, allocCpu(dtype, n).data.fill(0.1), 'fill');
        const d1 = values(dtype, n, rand);
        const d2 = new CpuStorage(d1.data.slice());
        const s = values(dtype, n, rand);
        native.addInPlace(d1, s);
        addInPlaceCpu(d2, s);
        expectSame(d1.data, d2.data, 'addInPlace');
        native.addInPlace(d1, d1); // exactly in place: x += x
        addInPlaceCpu(d2, d2);
        expectSame(d1.data, d2.data, 'addInPlace in place');
      }
    });

    it('sum over every subset of dims of random shapes', () => {
      const rand = rng(11);
      const shapes = [
        [],
        [0],
        [1],
        [7],
        [100_003],
        [3, 0, 2],
        [2, 3],
        [4, 1, 5],
        [3, 4, 5, 6],
        [2, 3, 1, 4, 5],
        [9, 1000],
        [1000, 9],
        [2, 70_000],
        [70_000, 3],
        [3000, 2, 5],
      ];
      for (const shape of shapes) {
        const x = kt(values(dtype, numelOf(shape), rand), shape);
        const abs = new CpuStorage(Float64Array.from(arrayOf(x.storage), Math.abs));
        for (let mask = 0; mask < 1 << shape.length; mask++) {
          const dims = shape.map((_, d) => d).filter((d) => (mask >> d) & 1);
          const want = arrayOf(sumCpu(x, dims));
          const got = arrayOf(native.sum(x, dims));
          // Both accumulate in float64 (orders differ): within a few float64 ulps of sum(|x|), then rounded.
          const scale = arrayOf(sumCpu(kt(abs, shape), dims));
          const rel = dtype === 'float32' ? ULP.float32 : 64 * ULP.float64;
          expectClose(got, want, rel, `sum ${JSON.stringify(shape)} over ${JSON.stringify(dims)}`, scale);
        }
      }
    });

    it('copyStrided: permutes, narrows, broadcasts, negative strides', () => {
      const rand = rng(13);
      const cases: { shape: number[]; ss: number[]; so: number; ds: number[]; dof: number; sn: number; dn: number }[] =
        [
          { shape: [3, 4], ss: [1, 3], so: 0, ds: [4, 1], dof: 0, sn: 12, dn: 12 }, // transpose
          { shape: [2, 3, 4], ss: [1, 8, 2], so: 0, ds: [12, 4, 1], dof: 0, sn: 24, dn: 24 }, // permute
          { shape: [2, 3], ss: [10, 1], so: 4, ds: [3, 1], dof: 0, sn: 20, dn: 6 }, // narrow
          { shape: [4, 5], ss: [0, 1], so: 0, ds: [5, 1], dof: 0, sn: 5, dn: 20 }, // broadcast
          { shape: [3, 2], ss: [2, 1], so: 0, ds: [4, 1], dof: 2, sn: 6, dn: 12 }, // cat into a slot
          { shape: [5], ss: [-1], so: 4, ds: [1], dof: 0, sn: 5, dn: 5 }, // flip
          { shape: [0, 3], ss: [3, 1], so: 0, ds: [3, 1], dof: 0, sn: 0, dn: 0 }, // empty
          { shape: [], ss: [], so: 2, ds: [], dof: 1, sn: 3, dn: 2 }, // one element
          { shape: [64, 300, 7], ss: [1, 64 * 7, 64], so: 0, ds: [2100, 7, 1], dof: 0, sn: 134_400, dn: 134_400 },
        ];
      for (const c of cases) {
        const src = values(dtype, c.sn, rand);
        const want = values(dtype, c.dn, rand);
        const got = new CpuStorage(want.data.slice());
        copyStridedCpu(src, c.so, c.ss, want, c.dof, c.ds, c.shape);
        native.copyStrided(src, c.so, c.ss, got, c.dof, c.ds, c.shape);
        expectSame(got.data, want.data, `copyStrided ${JSON.stringify(c.shape)}`);
      }
    });

    it('gather and scatterAdd with -1 and repeated map entries', () => {
      const rand = rng(17);
      const cases: [number[], number[]][] = [
        [[], []],
        [[5], [9]],
        [
          [3, 4],
          [5, 8],
        ],
        [
          [2, 3, 4],
          [2, 5, 6],
        ],
        [
          [2, 3, 4, 5],
          [3, 3, 6, 7],
        ],
        [
          [4, 0],
          [4, 3],
        ],
        [
          [4, 3],
          [0, 3],
        ],
        [
          [8, 16, 40, 40],
          [8, 16, 44, 44],
        ],
      ];
      for (const [xShape, outShape] of cases) {
        const maps = randomMaps(xShape, outShape, rand);
        const x = kt(values(dtype, numelOf(xShape), rand), xShape);
        expectSame(
          arrayOf(native.gather(x, maps, outShape, 0.5)),
          arrayOf(gatherCpu(x, maps, outShape, 0.5)),
          `gather ${JSON.stringify([xShape, outShape])}`,
        );
        const g = kt(values(dtype, numelOf(outShape), rand), outShape);
        // The same order of additions in the dtype: identical bits.
        expectSame(
          arrayOf(native.scatterAdd(g, maps, xShape)),
          arrayOf(scatterAddCpu(g, maps, xShape)),
          `scatterAdd ${JSON.stringify([xShape, outShape])}`,
        );
        // Float64Array maps (what dimensions longer than 2^31 get) take the int64 kernels: the same bits.
        const wide = maps.map((m) => Float64Array.from(m));
        const what = `${JSON.stringify([xShape, outShape])}, Float64Array maps`;
        expectSame(arrayOf(native.gather(x, wide, outShape, 0.5)), arrayOf(gatherCpu(x, maps, outShape, 0.5)), what);
        expectSame(arrayOf(gatherCpu(x, wide, outShape, 0.5)), arrayOf(gatherCpu(x, maps, outShape, 0.5)), what);
        expectSame(arrayOf(native.scatterAdd(g, wide, xShape)), arrayOf(scatterAddCpu(g, maps, xShape)), what);
        expectSame(arrayOf(scatterAddCpu(g, wide, xShape)), arrayOf(scatterAddCpu(g, maps, xShape)), what);
      }
    });
  });

  it('every kernel gives identical bits with 1, 2, 3 and 7 threads', () => {
    const rand = rng(23);
    const dtype = 'float32';
    const big = kt(values(dtype, 3 * 200_000, rand), [3, 200_000]);
    const cube = kt(values(dtype, 40 * 50 * 60, rand), [40, 50, 60]);
    const row = kt(values(dtype, 60, rand), [60]);
    const xShape = [16, 30, 30];
    const outShape = [16, 40, 40];
    const maps = randomMaps(xShape, outShape, rand);
    const wide = maps.map((m) => Float64Array.from(m));
    const g = kt(values(dtype, numelOf(outShape), rand), outShape);
    const runs = withThreads([1, 2, 3, 7], () => [
      arrayOf(native.sum(big, [0, 1])),
      arrayOf(native.sum(big, [1])),
      arrayOf(native.sum(big, [0])),
      arrayOf(native.sum(cube, [0, 2])),
      arrayOf(native.sum(cube, [1])),
      arrayOf(native.sum(kt(big.storage, [200_000, 3]), [0])),
      arrayOf(native.sum(kt(big.storage, [50_000, 4, 3]), [0, 1])),
      arrayOf(native.binary('sigmoidBackward', cube, row, cube.shape)),
      arrayOf(native.unary('tanh', cube.storage, 0)),
      arrayOf(native.scatterAdd(g, maps, xShape)),
      arrayOf(native.gather(kt(native.scatterAdd(g, maps, xShape), xShape), maps, outShape, 0)),
      arrayOf(native.scatterAdd(g, wide, xShape)),
      arrayOf(native.gather(kt(native.scatterAdd(g, wide, xShape), xShape), wide, outShape, 0)),
    ]);
    for (const run of runs.slice(1)) {
      run.forEach((r, k) => {
        expectSame(r, runs[0][k], `kernel ${k}`);
      });
    }
  });
});

describe.runIf(addonBuilt)('native tensor kernels refuse bad arguments', () => {
  const f32 = (n: number, shape: number[] = [n]): NativeTensor => ({
    data: new Float32Array(n),
    shape,
    dtype: 'float32',
  });
  const f64 = (n: number): NativeTensor => ({ data: new Float64Array(n), shape: [n], dtype: 'float64' });
  const cases: [string, () => void, RegExp][] = [
    ['unknown unary op', () => binding.unary('nope' as UnaryOp, f32(2), f32(2), 0), /unary: expected op/],
    ['unary size', () => binding.unary('exp', f32(3), f32(2), 0), /expected out to have 3 elements/],
    ['unary dtype', () => binding.unary('exp', f32(2), f64(2), 0), /dtype/],
    ['unary alpha', () => binding.unary('exp', f32(2), f32(2), 'x' as unknown as number), /alpha/],
    ['binary strides reach out', () => binding.binary('add', f32(3), [2], f32(3), [1], f32(3), [3]), /stay inside/],
    ['binary negative stride', () => binding.binary('add', f32(3), [-1], f32(3), [1], f32(3), [3]), /aStrides\[0\]/],
    ['binary stride count', () => binding.binary('add', f32(3), [1, 1], f32(3), [1], f32(3), [3]), /aStrides/],
    ['binary out size', () => binding.binary('add', f32(3), [1], f32(3), [1], f32(4), [3]), /out to have 3/],
    [
      'binary shape overflow',
      () => binding.binary('add', f32(1), [0, 0], f32(1), [0, 0], f32(1), [2 ** 30, 2 ** 30]),
      /overflows/,
    ],
    [
      'binary stride overflow',
      () => binding.binary('add', f32(1), [2 ** 52], f32(1), [0], f32(4), [4]),
      /overflow|stay inside/,
    ],
    [
      'binary out aliases a',
      () => {
        const a = f32(3);
        binding.binary('add', a, [1], f32(3), [1], a, [3]);
      },
      /share memory/,
    ],
    ['sum dims', () => binding.sum(f32(6), [2, 3], [2], f32(1)), /dims/],
    ['sum x size', () => binding.sum(f32(5), [2, 3], [0], f32(3)), /x to have 6/],
    ['sum out size', () => binding.sum(f32(6), [2, 3], [0], f32(2)), /out to have 3/],
    ['copy src range', () => binding.copyStrided(f32(4), 1, [1], f32(4), 0, [1], [4]), /src/],
    ['copy dst range', () => binding.copyStrided(f32(4), 0, [1], f32(4), 1, [1], [4]), /dst/],
    ['copy negative reach', () => binding.copyStrided(f32(4), 0, [-1], f32(4), 0, [1], [4]), /src/],
    ['gather map entry', () => binding.gather(f32(4), [4], [Int32Array.of(0, 4)], [2], 0, f32(2)), /maps\[0\]/],
    ['gather map length', () => binding.gather(f32(4), [4], [Int32Array.of(0)], [2], 0, f32(2)), /maps\[0\]/],
    [
      'gather map type',
      () => binding.gather(f32(4), [4], [[0, 1] as unknown as Int32Array], [2], 0, f32(2)),
      /Int32Array/,
    ],
    ['scatter map entry', () => binding.scatterAdd(f32(2), [2], [Int32Array.of(-2, 0)], [4], f32(4)), /maps\[0\]/],
    // Float64Array maps: entries above 2^31 are read whole (not wrapped to int32), fractions and NaN refused.
    [
      'gather map entry above 2^31',
      () => binding.gather(f32(4), [4], [Float64Array.of(0, 2 ** 31 + 1)], [2], 0, f32(2)),
      /maps\[0\] to be whole numbers in \[-1, 4\), but got 2147483649\b/,
    ],
    [
      'gather map entry 2^32',
      () => binding.gather(f32(4), [4], [Float64Array.of(0, 2 ** 32)], [2], 0, f32(2)),
      /but got 4294967296\b/,
    ],
    [
      'scatter map fraction',
      () => binding.scatterAdd(f32(2), [2], [Float64Array.of(0, 1.5)], [4], f32(4)),
      /whole numbers in \[-1, 4\), but got 1\.5\b/,
    ],
    ['gather map NaN', () => binding.gather(f32(4), [4], [Float64Array.of(0, NaN)], [2], 0, f32(2)), /got nan\b/],
    [
      'gather map Float32Array',
      () => binding.gather(f32(4), [4], [Float32Array.of(0, 1) as unknown as Int32Array], [2], 0, f32(2)),
      /maps\[0\] to be an Int32Array or a Float64Array/,
    ],
    ['scatter ranks', () => binding.scatterAdd(f32(2), [2], [Int32Array.of(0, 0)], [4, 1], f32(4)), /xShape/],
    ['fill length', () => binding.fill({ data: new Float32Array(2), shape: [3], dtype: 'float32' }, 0), /length/],
    ['cast count', () => binding.cast(f32(3), f64(2)), /dst to have 3/],
    ['addInPlace dtype', () => binding.addInPlace(f32(3), f64(3)), /dtype/],
    ['too many dims', () => binding.sum(f32(1), new Array(65).fill(1), [], f32(1)), /at most 64/],
  ];
  it.each(cases)('%s', (_name, call, message) => {
    expect(call).toThrow(message);
    try {
      call();
    } catch (e) {
      expect((e as { code?: string }).code).toMatch(/^ERR_DCN/);
    }
  });
});

describe.runIf(addonBuilt)('native tensor kernels survive random garbage', () => {
  it('2000 calls with one mutated argument each either succeed or throw an Error', () => {
    const rand = rng(99);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const t = (n: number, dtype: DType = 'float32'): NativeTensor => ({
      data: dtype === 'float32' ? new Float32Array(n) : new Float64Array(n),
      shape: [n],
      dtype,
    });
    const garbage: unknown[] = [
      null,
      undefined,
      0,
      -1,
      1.5,
      Number.NaN,
      2 ** 60,
      -(2 ** 60),
      'x',
      'exp',
      true,
      [],
      [1, 2],
      [-1, 3],
      [2 ** 40, 2 ** 40],
      {},
      t(3),
      t(0),
      t(5, 'float64'),
      { data: new Float32Array(2), shape: [3], dtype: 'float32' },
      { data: new Int32Array(3), shape: [3], dtype: 'float32' },
      [Int32Array.of(-5, 9)],
      [new Int32Array(0), new Int32Array(0)],
      Symbol('s'),
      () => 1,
      10n,
    ];
    // A valid call of every export; the fuzzer replaces one argument.
    const valid = (): [keyof NativeTensorKernels, unknown[]][] => [
      ['fill', [t(4), 1]],
      ['cast', [t(4), t(4, 'float64')]],
      ['addInPlace', [t(4), t(4)]],
      ['unary', ['exp', t(4), t(4), 0]],
      ['binary', ['add', t(6), [3, 1], t(3), [0, 1], t(6), [2, 3]]],
      ['sum', [t(6), [2, 3], [1], t(2)]],
      ['copyStrided', [t(6), 0, [1, 2], t(6), 0, [3, 1], [2, 3]]],
      ['gather', [t(6), [2, 3], [Int32Array.of(0, 1, -1), Int32Array.of(2, 0)], [3, 2], 0, t(6)]],
      ['scatterAdd', [t(6), [3, 2], [Int32Array.of(0, 1, -1), Int32Array.of(2, 0)], [2, 3], t(6)]],
    ];
    for (const [name, args] of valid()) (binding[name] as (...a: unknown[]) => void)(...args);
    let threw = 0;
    for (let i = 0; i < 2000; i++) {
      const [name, args] = pick(valid());
      args[Math.floor(rand() * args.length)] = pick(garbage);
      try {
        (binding[name] as (...a: unknown[]) => void)(...args);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(1000);
  });
});
