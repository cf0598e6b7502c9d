// SPDX-License-Identifier: MIT
// Non-finite values: corners outside the input read as exactly 0 even when the input holds Inf or NaN
// elsewhere, NaN offsets give NaN samples, huge offsets give 0, and nothing crashes — on every
// micro-kernel path (portable, AVX2, AVX-512), on the channels-last and on the planar CPU kernels.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonBuilt, emptyNative, kernelPaths, loadNative, type TestBinding, usePlanarKernels } from './helpers.js';

let b: TestBinding;
beforeAll(() => {
  b = loadNative();
});
afterAll(() => {
  b._setGemmIsa('auto');
});

const isas = ['generic', 'avx2', 'avx512', 'neon'] as const;

function run(dtype: 'float32' | 'float64', input: number[], offsets: number[]) {
  // 1D, one channel, k = 1: output[i] = Interp(input, i + offsets[i]).
  const n = input.length;
  const A = dtype === 'float32' ? Float32Array : Float64Array;
  const p = {
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
    inSize: [n],
    outSize: [n],
  };
  const out = emptyNative([1, 1, n], dtype);
  const x = { data: A.from(input), shape: [1, 1, n], dtype };
  const w = { data: A.from([1]), shape: [1, 1, 1], dtype };
  const off = { data: A.from(offsets), shape: [1, 1, n], dtype };
  b.deformConvForward(p, x, w, off, null, null, out);
  const gOff = emptyNative([1, 1, n], dtype);
  b.deformConvBackward(
    p,
    x,
    w,
    off,
    null,
    { data: A.from(input.map(() => 1)), shape: [1, 1, n], dtype },
    { input: null, weight: null, offset: gOff, mask: null, bias: null },
  );
  return { out: Array.from(out.data as Float64Array), gOff: Array.from(gOff.data as Float64Array) };
}

describe.runIf(addonBuilt).each(kernelPaths)('non-finite values ($label)', ({ planar }) => {
  usePlanarKernels(() => b, planar);

  for (const isa of isas) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${isa} ${dtype}: outside samples are 0 next to Inf, NaN offsets give NaN, huge offsets give 0`, () => {
        if (!b._setGemmIsa(isa)) return;
        // input[0] = Inf. Sample 1 at 1 - 5 = -4 (outside): 0. Sample 2 at 2 + NaN: NaN. Sample 3 at
        // 3 + 1e30: 0. Sample 4 at 4 - 1e30: 0. Sample 5 at 5 - 0.5 = 4.5: (3 + 4) / 2.
        const input = [Number.POSITIVE_INFINITY, 1, 2, 3, 4, 5];
        const offsets = [0, -5, Number.NaN, 1e30, -1e30, -0.5];
        const { out, gOff } = run(dtype, input, offsets);
        expect(out[0]).toBe(Number.POSITIVE_INFINITY);
        expect(out[1]).toBe(0);
        expect(out[2]).toBeNaN();
        expect(out[3]).toBe(0);
        expect(out[4]).toBe(0);
        expect(out[5]).toBeCloseTo(4.5, 6);
        // Offset gradients: outside/huge positions give 0, NaN gives NaN, 4.5 gives v[5] - v[4] = 1.
        expect(gOff[1]).toBe(0);
        expect(gOff[2]).toBeNaN();
        expect(gOff[3]).toBe(0);
        expect(gOff[4]).toBe(0);
        expect(gOff[5]).toBe(1);
      });
    }
  }
});
