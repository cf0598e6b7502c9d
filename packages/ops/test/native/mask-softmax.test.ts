// SPDX-License-Identifier: MIT
// maskSoftmaxForward / maskSoftmaxBackward of the CPU addon: the tvdcn-reference §11 A7 values, the loop
// reference over random masks (both dtypes, several groups, large logits), and the backward against
// finite differences.

import { beforeAll, describe, expect, it } from 'vitest';
import { maskSoftmaxReference, prod } from '../reference/deform-conv-reference.js';
import {
  addonBuilt,
  emptyNative,
  expectAllClose,
  loadNative,
  randTensor,
  rng,
  type TestBinding,
  toNative,
} from './helpers.js';

let b: TestBinding;
beforeAll(() => {
  b = loadNative();
});

describe.runIf(addonBuilt)('maskSoftmax', () => {
  it('A7: an all-zero mask gives 1/K; [0, 1, 2] gives [0.090031, 0.244728, 0.665241]', () => {
    const zeros = { data: new Float64Array(2 * 9 * 4), shape: [2, 9, 2, 2], dtype: 'float64' as const };
    const out = emptyNative([2, 9, 2, 2]);
    b.maskSoftmaxForward(zeros, 1, 9, out);
    for (const v of out.data as Float64Array) expect(v).toBeCloseTo(1 / 9, 15);
    const m = { data: Float64Array.from([0, 1, 2]), shape: [1, 3, 1], dtype: 'float64' as const };
    const o = emptyNative([1, 3, 1]);
    b.maskSoftmaxForward(m, 1, 3, o);
    expectAllClose(o.data as Float64Array, [0.090031, 0.244728, 0.665241], 0, 1e-6);
  });

  for (const [shape, mg, k] of [
    [[2, 18, 5, 7], 2, 9],
    [[3, 27, 4, 3, 2], 1, 27],
    [[1, 12, 300], 4, 3],
    [[0, 9, 4], 1, 9],
  ] as const) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`forward matches the reference: shape [${shape}] maskGroups ${mg} K ${k} ${dtype}`, () => {
        const m = randTensor([...shape], rng(3), -30, 30);
        const out = emptyNative([...shape], dtype);
        b.maskSoftmaxForward(toNative(m, dtype), mg, k, out);
        const ref = maskSoftmaxReference(
          dtype === 'float32' ? { data: Float64Array.from(Float32Array.from(m.data)), shape: m.shape } : m,
          mg,
          k,
        );
        expectAllClose(
          out.data as Float64Array,
          ref.data,
          dtype === 'float64' ? 1e-14 : 1e-6,
          dtype === 'float64' ? 1e-15 : 1e-7,
        );
      });
    }
  }

  it('large logits stay finite (stable softmax)', () => {
    const m = { data: Float64Array.from([1000, 1001, 999, -1000]), shape: [1, 4, 1], dtype: 'float64' as const };
    const o = emptyNative([1, 4, 1]);
    b.maskSoftmaxForward(m, 1, 4, o);
    expect(Array.from(o.data as Float64Array).every(Number.isFinite)).toBe(true);
  });

  it('backward: s * (g - sum_K(g * s)) equals finite differences of <softmax(z), g>', () => {
    const shape = [2, 8, 3, 2];
    const z = randTensor(shape, rng(10), -2, 2);
    const g = randTensor(shape, rng(11));
    const s = maskSoftmaxReference(z, 2, 4);
    const grad = emptyNative(shape);
    b.maskSoftmaxBackward(toNative(s), toNative(g), 2, 4, grad);
    const fd = new Float64Array(prod(shape));
    const loss = (zz: Float64Array) => {
      const y = maskSoftmaxReference({ data: zz, shape }, 2, 4).data;
      return y.reduce((acc, v, i) => acc + v * g.data[i], 0);
    };
    for (let i = 0; i < fd.length; i++) {
      const p = Float64Array.from(z.data);
      const m = Float64Array.from(z.data);
      p[i] += 1e-6;
      m[i] -= 1e-6;
      fd[i] = (loss(p) - loss(m)) / 2e-6;
    }
    expectAllClose(grad.data as Float64Array, fd, 1e-6, 1e-8);
  });
});
