// SPDX-License-Identifier: MIT
// NOTE [ The geometry of recent calls ] (src/ops/deform-conv-geometry.ts): a call that asks what a recent call
// asked gets its frozen result; anything that differs (a shape, a hyper-parameter, an array changed in place, the
// op) is checked anew; failed checks are never kept; and the op's values do not depend on a hit or a miss.

import { checkDeformConvArgs, checkDeformConvTransposeArgs, ShapeMismatchError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { deformConv2d, tensor } from '../../src/index.js';
import { packedDeformConvParams, packDeformConvParams } from '../../src/native/binding.js';
import { deformConvGeometry } from '../../src/ops/deform-conv-geometry.js';

const shapes2d = { input: [2, 4, 7, 6], weight: [6, 4, 3, 3], offset: [2, 18, 7, 6], mask: [2, 9, 7, 6], bias: [6] };

describe('the geometry of recent calls', () => {
  it('returns the checks of @tvdcn/shape, frozen, and the same object to a call that asks the same', () => {
    const hyper = { padding: 1 };
    const a = deformConvGeometry('deformConv2d', 2, false, shapes2d, hyper);
    expect(a.p).toEqual(checkDeformConvArgs('deformConv2d', 2, shapes2d, hyper));
    expect(Object.isFrozen(a.p) && Object.isFrozen(a.p.outSize) && Object.isFrozen(a.params)).toBe(true);
    expect(a.params.outSize).toEqual([7, 6]);
    // Equal values in new arrays and objects: a hit.
    const copy = JSON.parse(JSON.stringify(shapes2d));
    expect(deformConvGeometry('deformConv2d', 2, false, copy, { padding: 1 })).toBe(a);
    // The packed form is made once per frozen params object, and equals a fresh packing.
    expect(packedDeformConvParams(a.params)).toBe(packedDeformConvParams(a.params));
    expect(Array.from(packedDeformConvParams(a.params))).toEqual(Array.from(packDeformConvParams(a.params)));
  });

  it('checks anew when a shape, a hyper-parameter, the op or the direction differs', () => {
    const a = deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding: 1 });
    const wider = { ...shapes2d, input: [2, 4, 7, 8], offset: [2, 18, 7, 8], mask: [2, 9, 7, 8] };
    expect(deformConvGeometry('deformConv2d', 2, false, wider, { padding: 1 }).p.outSize).toEqual([7, 8]);
    // padding [1, 1] is not the number 1 as given (the same result, but kept apart).
    const b = deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding: [1, 1] });
    expect(b).not.toBe(a);
    expect(b.p).toEqual(a.p);
    const s2 = { ...shapes2d, offset: [2, 18, 4, 3], mask: [2, 9, 4, 3] };
    expect(deformConvGeometry('deformConv2d', 2, false, s2, { padding: 1, stride: 2 }).p.stride).toEqual([2, 2]);
    const t = deformConvGeometry(
      'deformConvTranspose2d',
      2,
      true,
      { ...shapes2d, weight: [4, 6, 3, 3] },
      {
        padding: 1,
      },
    );
    expect(t.p).toEqual(
      checkDeformConvTransposeArgs('deformConvTranspose2d', 2, { ...shapes2d, weight: [4, 6, 3, 3] }, { padding: 1 }),
    );
    // The first geometry is still kept.
    expect(deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding: 1 })).toBe(a);
  });

  it('sees a caller array changed in place', () => {
    const padding = [1, 1];
    const a = deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding });
    padding[1] = 0;
    const s = { ...shapes2d, offset: [2, 18, 7, 4], mask: [2, 9, 7, 4] };
    const b = deformConvGeometry('deformConv2d', 2, false, s, { padding });
    expect(b).not.toBe(a);
    expect(b.p.padding).toEqual([1, 0]);
    expect(b.p.outSize).toEqual([7, 4]);
    // The kept arrays are copies: the caller's array is not frozen.
    expect(Object.isFrozen(padding)).toBe(false);
  });

  it('copies tampered arrays by index (a constructor that is not one), as @tvdcn/shape reads them', () => {
    const tampered = () => Object.assign([1, 1], { constructor: 1 });
    const a = deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding: tampered(), dilation: tampered() });
    expect(a.p.padding).toEqual([1, 1]);
    expect(deformConvGeometry('deformConv2d', 2, false, shapes2d, { padding: tampered(), dilation: tampered() })).toBe(
      a,
    );
  });

  it('never keeps a failed check: the same bad call throws every time', () => {
    const bad = { ...shapes2d, offset: [2, 17, 7, 6] };
    for (let i = 0; i < 3; i++) {
      expect(() => deformConvGeometry('deformConv2d', 2, false, bad, { padding: 1 })).toThrow(ShapeMismatchError);
    }
  });

  it('gives the op the same values on a hit as on a miss', () => {
    const v = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
    const x = tensor(v(2 * 4 * 7 * 6, 0.3), { shape: [2, 4, 7, 6] });
    const w = tensor(v(6 * 4 * 9, 0.7), { shape: [6, 4, 3, 3] });
    const offset = tensor(v(2 * 18 * 42, 1.1), { shape: [2, 18, 7, 6] });
    const mask = tensor(v(2 * 9 * 42, 0.5), { shape: [2, 9, 7, 6] });
    // A geometry no other test asks for (dilation 1 as an array), so the first call is a miss.
    const run = () => deformConv2d(x, w, { offset, mask, padding: [1, 1], dilation: [1, 1] }).toTypedArray();
    const first = run();
    const second = run();
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(first.length).toBe(2 * 6 * 42);
  });
});
