import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import {
  checkDeformConvArgs,
  checkDeformConvNdArgs,
  type DeformConvHyperparameters,
  type DeformConvShapes,
  type SpatialDim,
} from './deform-conv-params.js';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';

const SHAPE = 'ERR_DCN_SHAPE_MISMATCH';
const ARG = 'ERR_DCN_INVALID_ARGUMENT';
const OP = 'deformConv2d';

/** tvdcn README example (reference §11.H). */
const README_2D: DeformConvShapes = {
  input: [4, 3, 10, 10],
  weight: [5, 3, 3, 3],
  offset: [4, 18, 8, 8],
  mask: [4, 9, 8, 8],
  bias: [5],
};

/** Replaces some shapes of the README example. */
function readme(overrides: Partial<DeformConvShapes>): DeformConvShapes {
  return { ...README_2D, ...overrides };
}

describe('checkDeformConvArgs: reference vectors (§11.H)', () => {
  it('README 2D: input [4,3,10,10] weight [5,3,3,3] offset [4,18,8,8] mask [4,9,8,8] bias [5] → [4,5,8,8]', () => {
    expect(checkDeformConvArgs(OP, 2, README_2D)).toEqual({
      op: 'deformConv2d',
      dim: 2,
      transposed: false,
      batched: true,
      batch: 4,
      inChannels: 3,
      outChannels: 5,
      groups: 1,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      outputPadding: [0, 0],
      inSize: [10, 10],
      outSize: [8, 8],
      offsetGroups: 1,
      maskGroups: 1,
      deformable: true,
      modulated: true,
      hasBias: true,
      kernelPoints: 9,
      outputShape: [4, 5, 8, 8],
    });
  });

  it('README 3D: input [4,3,10,10,10] weight [5,3,3,3,3] offset [4,81,8,8,8] → [4,5,8,8,8]', () => {
    const p = checkDeformConvArgs('deformConv3d', 3, {
      input: [4, 3, 10, 10, 10],
      weight: [5, 3, 3, 3, 3],
      offset: [4, 81, 8, 8, 8],
    });
    expect(p.outputShape).toEqual([4, 5, 8, 8, 8]);
    expect(p).toMatchObject({
      dim: 3,
      kernelPoints: 27,
      offsetGroups: 1,
      deformable: true,
      modulated: false,
      hasBias: false,
    });
  });

  it('README 1D: input [4,3,10] weight [5,3,3] offset [4,3,8] → [4,5,8]', () => {
    const p = checkDeformConvArgs('deformConv1d', 1, { input: [4, 3, 10], weight: [5, 3, 3], offset: [4, 3, 8] });
    expect(p.outputShape).toEqual([4, 5, 8]);
    expect(p).toMatchObject({ dim: 1, kernelPoints: 3, offsetGroups: 1, outSize: [8] });
  });

  it('test_grad dim=2 config: x=[1,4,5,6] w=[2,4,2,3] s=(1,2) p=(0,1) d=(1,2) og=2 mg=1 → [1,2,4,2]', () => {
    const p = checkDeformConvArgs(
      OP,
      2,
      { input: [1, 4, 5, 6], weight: [2, 4, 2, 3], offset: [1, 24, 4, 2], mask: [1, 6, 4, 2], bias: [2] },
      { stride: [1, 2], padding: [0, 1], dilation: [1, 2] },
    );
    expect(p.outputShape).toEqual([1, 2, 4, 2]);
    expect(p).toMatchObject({ offsetGroups: 2, maskGroups: 1, kernelPoints: 6, kernelSize: [2, 3] });
  });

  it.each<[SpatialDim, DeformConvShapes, DeformConvHyperparameters, number[]]>([
    // [computed] the test_grad config for dim 1 and 3 (reference §9.1)
    [
      1,
      { input: [1, 4, 5], weight: [2, 4, 2], offset: [1, 4, 4], mask: [1, 2, 4], bias: [2] },
      { stride: 1, padding: 0, dilation: 1 },
      [1, 2, 4],
    ],
    [
      3,
      { input: [1, 4, 5, 6, 7], weight: [2, 4, 2, 3, 4], offset: [1, 144, 4, 2, 1], mask: [1, 24, 4, 2, 1], bias: [2] },
      { stride: [1, 2, 3], padding: [0, 1, 2], dilation: [1, 2, 3] },
      [1, 2, 4, 2, 1],
    ],
  ])('test_grad config dim=%i → %j', (dim, shapes, options, expected) => {
    const p = checkDeformConvArgs(`deformConv${dim}d`, dim, shapes, options);
    expect(p.outputShape).toEqual(expected);
    expect(p.offsetGroups).toBe(2);
  });
});

describe('checkDeformConvArgs: accepted variants', () => {
  it('unbatched input [3,10,10] with unbatched offset/mask → [5,8,8], batch 1', () => {
    const p = checkDeformConvArgs(OP, 2, {
      input: [3, 10, 10],
      weight: [5, 3, 3, 3],
      offset: [18, 8, 8],
      mask: [9, 8, 8],
    });
    expect(p).toMatchObject({ batched: false, batch: 1, inChannels: 3, inSize: [10, 10], outputShape: [5, 8, 8] });
  });

  it('batch size 0 is valid', () => {
    const p = checkDeformConvArgs(OP, 2, readme({ input: [0, 3, 10, 10], offset: [0, 18, 8, 8], mask: [0, 9, 8, 8] }));
    expect(p).toMatchObject({ batch: 0, batched: true, outputShape: [0, 5, 8, 8] });
  });

  it('dim=2 x=[2,4,9,9] w=[8,2,3,3] s=2 p=1 d=1 g=2 og=2 mg=2 modulated', () => {
    const p = checkDeformConvArgs(
      OP,
      2,
      { input: [2, 4, 9, 9], weight: [8, 2, 3, 3], offset: [2, 36, 5, 5], mask: [2, 18, 5, 5], bias: [8] },
      { stride: 2, padding: 1, groups: 2 },
    );
    expect(p).toMatchObject({ groups: 2, offsetGroups: 2, maskGroups: 2, outChannels: 8, outputShape: [2, 8, 5, 5] });
  });

  it('offsetGroups and maskGroups are independent (og=4, mg=1)', () => {
    const p = checkDeformConvArgs(OP, 2, {
      input: [1, 4, 5, 5],
      weight: [2, 4, 3, 3],
      offset: [1, 72, 3, 3],
      mask: [1, 9, 3, 3],
    });
    expect(p).toMatchObject({ offsetGroups: 4, maskGroups: 1 });
  });

  it('without offset and mask: ordinary convolution, groups default to 1', () => {
    const p = checkDeformConvArgs(OP, 2, { input: [1, 3, 10, 10], weight: [5, 3, 3, 3] });
    expect(p).toMatchObject({ deformable: false, modulated: false, hasBias: false, offsetGroups: 1, maskGroups: 1 });
  });

  it('null offset/mask/bias count as absent', () => {
    const p = checkDeformConvArgs(OP, 2, {
      input: [1, 3, 10, 10],
      weight: [5, 3, 3, 3],
      offset: null,
      mask: null,
      bias: null,
    });
    expect(p).toMatchObject({ deformable: false, modulated: false, hasBias: false });
  });

  it('mask without offset is allowed (masked ordinary convolution)', () => {
    const p = checkDeformConvArgs(OP, 2, { input: [4, 3, 10, 10], weight: [5, 3, 3, 3], mask: [4, 9, 8, 8] });
    expect(p).toMatchObject({ deformable: false, modulated: true, maskGroups: 1 });
  });

  it('broadcasts numbers and one-element arrays, and accepts N-arrays', () => {
    const p = checkDeformConvArgs(
      OP,
      2,
      { input: [1, 3, 10, 12], weight: [5, 3, 3, 3] },
      { stride: [2], padding: [1, 0], dilation: 1 },
    );
    expect(p).toMatchObject({ stride: [2, 2], padding: [1, 0], dilation: [1, 1], outSize: [5, 5] });
  });

  it('the regular op has zero outputPadding', () => {
    expect(checkDeformConvArgs(OP, 3, { input: [1, 1, 4, 4, 4], weight: [1, 1, 1, 1, 1] }).outputPadding).toEqual([
      0, 0, 0,
    ]);
  });

  it('accepts zero channels', () => {
    expect(checkDeformConvArgs(OP, 1, { input: [2, 0, 4], weight: [0, 0, 3] }).outputShape).toEqual([2, 0, 2]);
  });

  it('returns fresh arrays (does not alias the inputs)', () => {
    const shapes = { input: [1, 3, 10, 10], weight: [5, 3, 3, 3] };
    const stride = [1, 1];
    const p = checkDeformConvArgs(OP, 2, shapes, { stride });
    expect(p.stride).not.toBe(stride);
    p.kernelSize[0] = 99;
    expect(shapes.weight).toEqual([5, 3, 3, 3]);
  });
});

describe('checkDeformConvArgs: shape errors (ShapeMismatchError)', () => {
  it.each<[string, DeformConvShapes, DeformConvHyperparameters | undefined, RegExp]>([
    // ranks
    [
      'input rank 2',
      readme({ input: [3, 10] }),
      undefined,
      /^deformConv2d\(\): expected input to have 3 \(unbatched\) or 4 \(batched\) dimensions, but got input with shape \[3, 10\]$/,
    ],
    [
      'input rank 5',
      readme({ input: [1, 4, 3, 10, 10] }),
      undefined,
      /expected input to have 3 \(unbatched\) or 4 \(batched\) dimensions, but got input with shape \[1, 4, 3, 10, 10\]$/,
    ],
    [
      'weight rank 3',
      readme({ weight: [5, 3, 3] }),
      undefined,
      /^deformConv2d\(\): expected weight to have 4 dimensions \[outChannels, inChannels \/ groups, kH, kW\], but got weight with shape \[5, 3, 3\]$/,
    ],
    // kernel
    [
      'kernel dim 0',
      readme({ weight: [5, 3, 0, 3] }),
      undefined,
      /^deformConv2d\(\): expected the kernel size kH, kW \(weight\.shape\[2\], weight\.shape\[3\]\) to be positive, but got weight with shape \[5, 3, 0, 3\]$/,
    ],
    // channels and groups
    [
      'weight.shape[1] * groups != inChannels',
      readme({ weight: [5, 2, 3, 3] }),
      undefined,
      /^deformConv2d\(\): expected input\.shape\[1\] \(inChannels\) to equal weight\.shape\[1\] \* groups = 2 \* 1 = 2, but got input with shape \[4, 3, 10, 10\] and weight with shape \[5, 2, 3, 3\]$/,
    ],
    [
      'weight.shape[1] * groups != inChannels with groups',
      { input: [1, 4, 9, 9], weight: [4, 4, 3, 3] },
      { groups: 2 },
      /expected input\.shape\[1\] \(inChannels\) to equal weight\.shape\[1\] \* groups = 4 \* 2 = 8/,
    ],
    [
      'outChannels not divisible by groups',
      { input: [1, 4, 9, 9], weight: [5, 2, 3, 3] },
      { groups: 2 },
      /^deformConv2d\(\): expected weight\.shape\[0\] \(outChannels\) to be divisible by groups = 2, but got weight with shape \[5, 2, 3, 3\]$/,
    ],
    // output size
    [
      'output size 0',
      { input: [1, 3, 2, 10], weight: [5, 3, 3, 3] },
      undefined,
      /^deformConv2d\(\): expected a positive output size, but got \[0, 8\] = floor\(\(inSize \+ 2 \* padding - dilation \* \(kernelSize - 1\) - 1\) \/ stride\) \+ 1 with inSize = \[2, 10\], kernelSize = \[3, 3\], stride = \[1, 1\], padding = \[0, 0\], dilation = \[1, 1\]$/,
    ],
    [
      'output size negative with dilation',
      { input: [1, 3, 10, 10], weight: [5, 3, 3, 3] },
      { dilation: 6 },
      /expected a positive output size, but got \[-2, -2\] = floor\(.*dilation = \[6, 6\]$/,
    ],
    // offset
    [
      'offset unbatched with batched input',
      readme({ offset: [18, 8, 8] }),
      undefined,
      /^deformConv2d\(\): expected offset to have 4 dimensions \(batched, like input\), but got offset with shape \[18, 8, 8\]$/,
    ],
    [
      'offset batch mismatch',
      readme({ offset: [3, 18, 8, 8] }),
      undefined,
      /^deformConv2d\(\): expected offset\.shape\[0\] to equal the batch size input\.shape\[0\] = 4, but got offset with shape \[3, 18, 8, 8\]$/,
    ],
    [
      'offset channels below N * K',
      readme({ offset: [4, 9, 8, 8] }),
      undefined,
      /expected offset\.shape\[1\] to be a multiple of 2 \* kH \* kW = 18, but got offset with shape \[4, 9, 8, 8\]$/,
    ],
    [
      'offset channels 0',
      readme({ offset: [4, 0, 8, 8] }),
      undefined,
      /expected offset\.shape\[1\] to be a positive multiple of 2 \* kH \* kW = 18, but got offset with shape \[4, 0, 8, 8\]$/,
    ],
    [
      'inChannels not divisible by offsetGroups',
      readme({ offset: [4, 36, 8, 8] }),
      undefined,
      /^deformConv2d\(\): expected inChannels to be divisible by offsetGroups, but got inChannels = 3 and offsetGroups = offset\.shape\[1\] \/ \(2 \* kH \* kW\) = 36 \/ 18 = 2$/,
    ],
    [
      'offset spatial != output',
      readme({ offset: [4, 18, 7, 7] }),
      undefined,
      /^deformConv2d\(\): expected the spatial size of offset to equal the output size \[8, 8\], but got offset with shape \[4, 18, 7, 7\]$/,
    ],
    [
      'offset spatial = input spatial (not output)',
      readme({ offset: [4, 18, 10, 10] }),
      undefined,
      /spatial size of offset to equal the output size \[8, 8\]/,
    ],
    // mask
    [
      'mask batched with unbatched input',
      { input: [3, 10, 10], weight: [5, 3, 3, 3], mask: [1, 9, 8, 8] },
      undefined,
      /^deformConv2d\(\): expected mask to have 3 dimensions \(unbatched, like input\), but got mask with shape \[1, 9, 8, 8\]$/,
    ],
    [
      'mask batch mismatch',
      readme({ mask: [2, 9, 8, 8] }),
      undefined,
      /expected mask\.shape\[0\] to equal the batch size input\.shape\[0\] = 4/,
    ],
    [
      'mask channels not a multiple of K',
      readme({ mask: [4, 10, 8, 8] }),
      undefined,
      /^deformConv2d\(\): expected mask\.shape\[1\] to be a multiple of kH \* kW = 9, but got mask with shape \[4, 10, 8, 8\]$/,
    ],
    [
      'mask channels 0',
      readme({ mask: [4, 0, 8, 8] }),
      undefined,
      /mask\.shape\[1\] to be a positive multiple of kH \* kW = 9/,
    ],
    [
      'inChannels not divisible by maskGroups',
      readme({ mask: [4, 18, 8, 8] }),
      undefined,
      /expected inChannels to be divisible by maskGroups, but got inChannels = 3 and maskGroups = mask\.shape\[1\] \/ \(kH \* kW\) = 18 \/ 9 = 2$/,
    ],
    [
      'mask spatial != output',
      readme({ mask: [4, 9, 8, 9] }),
      undefined,
      /expected the spatial size of mask to equal the output size \[8, 8\], but got mask with shape \[4, 9, 8, 9\]$/,
    ],
    // bias
    [
      'bias of the wrong length',
      readme({ bias: [4] }),
      undefined,
      /^deformConv2d\(\): expected bias to have shape \[5\] \(\[outChannels\]\), but got bias with shape \[4\]$/,
    ],
    [
      'bias of rank 2',
      readme({ bias: [5, 1] }),
      undefined,
      /expected bias to have shape \[5\] \(\[outChannels\]\), but got bias with shape \[5, 1\]/,
    ],
    ['bias of rank 0', readme({ bias: [] }), undefined, /but got bias with shape \[\]/],
  ])('%s', (_name, shapes, options, pattern) => {
    expectDcnError(() => checkDeformConvArgs(OP, 2, shapes, options), ShapeMismatchError, SHAPE, pattern);
  });

  it('shows the style.md example message exactly', () => {
    expect(() =>
      checkDeformConvArgs(OP, 2, { input: [2, 3, 10, 10], weight: [5, 3, 3, 3], offset: [2, 20, 8, 8] }),
    ).toThrow(
      'deformConv2d(): expected offset.shape[1] to be a multiple of 2 * kH * kW = 18, but got offset with shape [2, 20, 8, 8]',
    );
  });

  it('uses shape[0] as the channel axis of unbatched offset and mask', () => {
    const base = { input: [3, 10, 10], weight: [5, 3, 3, 3] };
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, { ...base, offset: [20, 8, 8] }),
      ShapeMismatchError,
      SHAPE,
      /expected offset\.shape\[0\] to be a multiple of 2 \* kH \* kW = 18, but got offset with shape \[20, 8, 8\]/,
    );
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, { ...base, mask: [10, 8, 8] }),
      ShapeMismatchError,
      SHAPE,
      /expected mask\.shape\[0\] to be a multiple of kH \* kW = 9/,
    );
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, { ...base, offset: [18, 8] }),
      ShapeMismatchError,
      SHAPE,
      /expected offset to have 3 dimensions \(unbatched, like input\)/,
    );
    const p = checkDeformConvArgs(OP, 2, {
      input: [4, 10, 10],
      weight: [5, 4, 3, 3],
      offset: [36, 8, 8],
      mask: [9, 8, 8],
    });
    expect(p).toMatchObject({ batched: false, offsetGroups: 2, maskGroups: 1, outputShape: [5, 8, 8] });
  });

  it('shows the kernel symbols of each dimension', () => {
    expectDcnError(
      () => checkDeformConvArgs('deformConv1d', 1, { input: [1, 3, 10], weight: [5, 3, 3], offset: [1, 4, 8] }),
      ShapeMismatchError,
      SHAPE,
      /^deformConv1d\(\): expected offset\.shape\[1\] to be a multiple of 1 \* kW = 3/,
    );
    expectDcnError(
      () =>
        checkDeformConvArgs('deformConv3d', 3, {
          input: [1, 3, 10, 10, 10],
          weight: [5, 3, 3, 3, 3],
          offset: [1, 80, 8, 8, 8],
        }),
      ShapeMismatchError,
      SHAPE,
      /^deformConv3d\(\): expected offset\.shape\[1\] to be a multiple of 3 \* kD \* kH \* kW = 81/,
    );
    expectDcnError(
      () =>
        checkDeformConvArgs('deformConv3d', 3, {
          input: [1, 3, 10, 10, 10],
          weight: [5, 3, 3, 3, 3],
          mask: [1, 28, 8, 8, 8],
        }),
      ShapeMismatchError,
      SHAPE,
      /expected mask\.shape\[1\] to be a multiple of kD \* kH \* kW = 27/,
    );
    expectDcnError(
      () => checkDeformConvArgs('deformConv3d', 3, { input: [1, 3, 10, 10, 10], weight: [5, 3, 3, 3] }),
      ShapeMismatchError,
      SHAPE,
      /expected weight to have 5 dimensions \[outChannels, inChannels \/ groups, kD, kH, kW\]/,
    );
    expectDcnError(
      () => checkDeformConvArgs('deformConv1d', 1, { input: [1, 3, 10], weight: [5, 3, 0] }),
      ShapeMismatchError,
      SHAPE,
      /expected the kernel size kW \(weight\.shape\[2\]\) to be positive/,
    );
  });

  it('errors where tvdcn silently computes out = 1: in=3 k=4 s=2 p=0 (reference §11.H edge)', () => {
    expectDcnError(
      () => checkDeformConvArgs('deformConv1d', 1, { input: [1, 1, 3], weight: [1, 1, 4] }, { stride: 2 }),
      ShapeMismatchError,
      SHAPE,
      /^deformConv1d\(\): expected a positive output size, but got \[0\] = floor\(.*\) \+ 1 with inSize = \[3\], kernelSize = \[4\], stride = \[2\], padding = \[0\], dilation = \[1\]$/,
    );
  });
});

describe('checkDeformConvArgs: argument errors (InvalidArgumentError)', () => {
  it.each<[keyof DeformConvHyperparameters, unknown, RegExp]>([
    [
      'stride',
      -1,
      /^deformConv2d\(\): expected stride to be a positive integer or an array of 2 positive integers, but got -1 \(number\)$/,
    ],
    ['stride', 0, /expected stride to be a positive integer .*, but got 0 \(number\)$/],
    ['stride', 1.5, /but got 1\.5 \(number\)$/],
    ['stride', Number.NaN, /but got NaN \(number\)$/],
    ['stride', Number.POSITIVE_INFINITY, /but got Infinity \(number\)$/],
    ['stride', '2', /but got '2' \(string\)$/],
    ['stride', [1, 2, 3], /but got \[1, 2, 3\] \(array\)$/],
    ['stride', [], /but got \[\] \(array\)$/],
    ['stride', [1, 0], /but got \[1, 0\] \(array\)$/],
    [
      'padding',
      -1,
      /^deformConv2d\(\): expected padding to be a non-negative integer or an array of 2 non-negative integers, but got -1 \(number\)$/,
    ],
    ['padding', 0.5, /expected padding .*, but got 0\.5 \(number\)$/],
    ['padding', [0, -2], /expected padding .*, but got \[0, -2\] \(array\)$/],
    ['padding', 'same', /expected padding .*, but got 'same' \(string\)$/],
    [
      'dilation',
      0,
      /^deformConv2d\(\): expected dilation to be a positive integer or an array of 2 positive integers, but got 0 \(number\)$/,
    ],
    ['dilation', [1, Number.NaN], /expected dilation .*, but got \[1, NaN\] \(array\)$/],
    ['groups', 0, /^deformConv2d\(\): expected groups to be a positive integer, but got 0 \(number\)$/],
    ['groups', -2, /expected groups to be a positive integer, but got -2 \(number\)$/],
    ['groups', 1.5, /expected groups to be a positive integer, but got 1\.5 \(number\)$/],
    ['groups', Number.NaN, /expected groups to be a positive integer, but got NaN \(number\)$/],
    ['groups', [1], /expected groups to be a positive integer, but got \[1\] \(array\)$/],
  ])('%s = %o', (argument, value, pattern) => {
    const options = { [argument]: value } as DeformConvHyperparameters;
    const e = expectDcnError(() => checkDeformConvArgs(OP, 2, README_2D, options), InvalidArgumentError, ARG, pattern);
    expect(e.argument).toBe(argument);
  });

  it.each<[string, DeformConvShapes, string, RegExp]>([
    [
      'fractional input dim',
      readme({ input: [4, 3.5, 10, 10] }),
      'input',
      /^deformConv2d\(\): expected input\.shape to be an array of non-negative integers, but got \[4, 3\.5, 10, 10\] \(array\)$/,
    ],
    [
      'negative weight dim',
      readme({ weight: [5, 3, -3, 3] }),
      'weight',
      /expected weight\.shape to be an array of non-negative integers, but got \[5, 3, -3, 3\] \(array\)$/,
    ],
    [
      'string offset',
      readme({ offset: '4,18,8,8' as never }),
      'offset',
      /expected offset\.shape to be an array of non-negative integers, but got '4,18,8,8' \(string\)$/,
    ],
    [
      'NaN in mask',
      readme({ mask: [4, Number.NaN, 8, 8] }),
      'mask',
      /expected mask\.shape .*, but got \[4, NaN, 8, 8\] \(array\)$/,
    ],
    ['bias number', readme({ bias: 5 as never }), 'bias', /expected bias\.shape .*, but got 5 \(number\)$/],
    ['missing input', { weight: [5, 3, 3, 3] } as never, 'input', /expected input\.shape .*, but got undefined$/],
  ])('%s', (_name, shapes, argument, pattern) => {
    const e = expectDcnError(() => checkDeformConvArgs(OP, 2, shapes), InvalidArgumentError, ARG, pattern);
    expect(e.argument).toBe(argument);
  });

  it.each<[unknown]>([[0], [4], [2.5], ['2']])('dim = %o', (dim) => {
    const e = expectDcnError(
      () => checkDeformConvArgs(OP, dim as SpatialDim, README_2D),
      InvalidArgumentError,
      ARG,
      /^deformConv2d\(\): expected dim to be 1, 2 or 3, but got /,
    );
    expect(e.argument).toBe('dim');
  });

  it('rejects shapes and options that are not objects', () => {
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, null as never),
      InvalidArgumentError,
      ARG,
      /expected shapes to be an object \{ input, weight, offset\?, mask\?, bias\? \}, but got null$/,
    );
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, README_2D, 3 as never),
      InvalidArgumentError,
      ARG,
      /expected options to be an object, but got 3 \(number\)$/,
    );
  });

  it('treats undefined or null options as defaults', () => {
    expect(checkDeformConvArgs(OP, 2, README_2D, undefined).stride).toEqual([1, 1]);
    expect(checkDeformConvArgs(OP, 2, README_2D, null as never).stride).toEqual([1, 1]);
    expect(checkDeformConvArgs(OP, 2, README_2D, { stride: undefined }).stride).toEqual([1, 1]);
  });
});

// Issue 9, finding 2: odd values end in a typed error naming the argument, before anything is allocated.
describe('checkDeformConvArgs: hostile hyper-parameters', () => {
  it('rejects a stride array whose constructor was replaced, with a readable message', () => {
    const stride = Object.assign([1, 2, 3], { constructor: 1 });
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, README_2D, { stride: stride as unknown as number[] }),
      InvalidArgumentError,
      ARG,
      /expected stride to be a positive integer or an array of 2 positive integers, but got \[1, 2, 3\] \(array\)$/,
    );
  });
  it('rejects stride, padding and dilation above 2^40 (as the kernels)', () => {
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, README_2D, { dilation: 2 ** 40 + 1 }),
      InvalidArgumentError,
      ARG,
      /expected dilation to be at most 2\^40 = 1099511627776 in every dimension/,
    );
  });
  it('rejects holes and integers beyond Number.MAX_SAFE_INTEGER', () => {
    expectDcnError(
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
      () => checkDeformConvArgs(OP, 2, README_2D, { stride: [1, ,] as number[] }),
      InvalidArgumentError,
      ARG,
      /stride/,
    );
    expectDcnError(
      () => checkDeformConvArgs(OP, 2, README_2D, { padding: 1e300 }),
      InvalidArgumentError,
      ARG,
      /padding/,
    );
    expectDcnError(
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
      () => checkDeformConvArgs(OP, 1, { input: [1, , 3] as number[], weight: [2, 1, 3] }),
      InvalidArgumentError,
      ARG,
      /input/,
    );
  });
  it('rejects an output whose size is not a safe integer', () => {
    expectDcnError(
      () =>
        checkDeformConvNdArgs(
          'deformConvTranspose1d',
          1,
          { input: [1, 2, 2 ** 20], weight: [2, 1, 9] },
          { stride: 2 ** 40 },
          true,
        ),
      ShapeMismatchError,
      SHAPE,
      /expected an output with at most Number.MAX_SAFE_INTEGER = 9007199254740991 elements, but got an output of shape \[1, 1, \d+\]$/,
    );
    expectDcnError(
      () =>
        checkDeformConvNdArgs(
          'deformConvTranspose1d',
          1,
          { input: [2 ** 20, 2 ** 20, 3], weight: [2 ** 20, 2 ** 20, 3] },
          { stride: 2 ** 20 },
          true,
        ),
      ShapeMismatchError,
      SHAPE,
      /at most Number.MAX_SAFE_INTEGER/,
    );
  });
});
