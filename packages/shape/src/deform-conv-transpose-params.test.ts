import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import type { DeformConvShapes, DeformConvTransposeHyperparameters, SpatialDim } from './deform-conv-params.js';
import { checkDeformConvTransposeArgs } from './deform-conv-transpose-params.js';
import { InvalidArgumentError, ShapeMismatchError } from './errors.js';

const SHAPE = 'ERR_DCN_SHAPE_MISMATCH';
const ARG = 'ERR_DCN_INVALID_ARGUMENT';
const OP = 'deformConvTranspose2d';

/** tvdcn README transposed example (reference §11.H). */
const README_T: DeformConvShapes = {
  input: [4, 3, 8, 8],
  weight: [3, 5, 3, 3],
  offset: [4, 18, 8, 8],
  mask: [4, 9, 8, 8],
};

function readme(overrides: Partial<DeformConvShapes>): DeformConvShapes {
  return { ...README_T, ...overrides };
}

/** tvdcn test_grad transposed dim=2 config (reference §9.1). */
const GRAD_T: DeformConvShapes = {
  input: [1, 4, 4, 2],
  weight: [4, 2, 2, 3],
  offset: [1, 24, 4, 2],
  mask: [1, 6, 4, 2],
  bias: [2],
};
const GRAD_T_OPTIONS: DeformConvTransposeHyperparameters = {
  stride: [1, 2],
  padding: [0, 1],
  dilation: [1, 2],
  outputPadding: [0, 1],
};

describe('checkDeformConvTransposeArgs: reference vectors (§11.H)', () => {
  it('README: input [4,3,8,8] weight [3,5,3,3] offset [4,18,8,8] mask [4,9,8,8] → [4,5,10,10]', () => {
    expect(checkDeformConvTransposeArgs(OP, 2, README_T)).toEqual({
      op: OP,
      dim: 2,
      transposed: true,
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
      inSize: [8, 8],
      outSize: [10, 10],
      offsetGroups: 1,
      maskGroups: 1,
      deformable: true,
      modulated: true,
      hasBias: false,
      kernelPoints: 9,
      outputShape: [4, 5, 10, 10],
    });
  });

  it('test_grad transposed dim=2: x=[1,4,4,2] w=[4,2,2,3] s=(1,2) p=(0,1) op=(0,1) d=(1,2) og=2 mg=1 → [1,2,5,6]', () => {
    const p = checkDeformConvTransposeArgs(OP, 2, GRAD_T, GRAD_T_OPTIONS);
    expect(p.outputShape).toEqual([1, 2, 5, 6]);
    expect(p).toMatchObject({ offsetGroups: 2, maskGroups: 1, outputPadding: [0, 1], inSize: [4, 2], hasBias: true });
  });

  it.each<[SpatialDim, DeformConvShapes, DeformConvTransposeHyperparameters, number[]]>([
    // [computed] reference §11.G: 1D, C_in = C_out = 1, weight [1,1,3], input [1,2], stride 2
    [1, { input: [1, 1, 2], weight: [1, 1, 3], offset: [1, 3, 2] }, { stride: 2 }, [1, 1, 5]],
    [1, { input: [1, 1, 2], weight: [1, 1, 3], offset: [1, 3, 2] }, { stride: 2, outputPadding: 1 }, [1, 1, 6]],
    // [computed] test_grad config, dim 3
    [
      3,
      { input: [1, 4, 4, 2, 1], weight: [4, 2, 2, 3, 4], offset: [1, 144, 4, 2, 1], mask: [1, 24, 4, 2, 1], bias: [2] },
      { stride: [1, 2, 3], padding: [0, 1, 2], dilation: [1, 2, 3], outputPadding: [0, 1, 2] },
      [1, 2, 5, 6, 8],
    ],
  ])('dim=%i %j %j → %j', (dim, shapes, options, expected) => {
    expect(checkDeformConvTransposeArgs(`deformConvTranspose${dim}d`, dim, shapes, options).outputShape).toEqual(
      expected,
    );
  });
});

describe('checkDeformConvTransposeArgs: accepted variants', () => {
  it('outChannels = weight.shape[1] * groups', () => {
    const p = checkDeformConvTransposeArgs(
      OP,
      2,
      { input: [1, 4, 5, 5], weight: [4, 3, 3, 3], bias: [6] },
      { groups: 2 },
    );
    expect(p).toMatchObject({ inChannels: 4, outChannels: 6, groups: 2, outputShape: [1, 6, 7, 7] });
  });

  it('unbatched input with unbatched offset and mask', () => {
    const p = checkDeformConvTransposeArgs(OP, 2, {
      input: [3, 8, 8],
      weight: [3, 5, 3, 3],
      offset: [18, 8, 8],
      mask: [9, 8, 8],
    });
    expect(p).toMatchObject({ batched: false, batch: 1, outputShape: [5, 10, 10] });
  });

  it('batch size 0 is valid', () => {
    const p = checkDeformConvTransposeArgs(
      OP,
      2,
      readme({ input: [0, 3, 8, 8], offset: [0, 18, 8, 8], mask: [0, 9, 8, 8] }),
    );
    expect(p.outputShape).toEqual([0, 5, 10, 10]);
  });

  it('outputPadding may reach max(stride, dilation) - 1 even when dilation > stride', () => {
    const p = checkDeformConvTransposeArgs(
      OP,
      2,
      { input: [1, 1, 4, 4], weight: [1, 1, 3, 3] },
      { stride: 1, dilation: 2, outputPadding: 1 },
    );
    expect(p.outSize).toEqual([9, 9]);
  });

  it('offsetGroups and maskGroups dividing both channel counts', () => {
    const p = checkDeformConvTransposeArgs(OP, 2, {
      input: [1, 4, 5, 5],
      weight: [4, 2, 3, 3],
      offset: [1, 36, 5, 5],
      mask: [1, 18, 5, 5],
    });
    expect(p).toMatchObject({ offsetGroups: 2, maskGroups: 2, outChannels: 2 });
  });
});

describe('checkDeformConvTransposeArgs: shape errors (ShapeMismatchError)', () => {
  it.each<[string, DeformConvShapes, DeformConvTransposeHyperparameters | undefined, RegExp]>([
    [
      'weight rank 3',
      readme({ weight: [3, 5, 3] }),
      undefined,
      /^deformConvTranspose2d\(\): expected weight to have 4 dimensions \[inChannels, outChannels \/ groups, kH, kW\], but got weight with shape \[3, 5, 3\]$/,
    ],
    [
      'input rank 2',
      readme({ input: [3, 8] }),
      undefined,
      /expected input to have 3 \(unbatched\) or 4 \(batched\) dimensions/,
    ],
    [
      'weight.shape[0] != inChannels',
      readme({ weight: [4, 5, 3, 3] }),
      undefined,
      /^deformConvTranspose2d\(\): expected weight\.shape\[0\] to equal input\.shape\[1\] \(inChannels\) = 3, but got weight with shape \[4, 5, 3, 3\] and input with shape \[4, 3, 8, 8\]$/,
    ],
    [
      'weight.shape[0] != inChannels (unbatched)',
      { input: [3, 8, 8], weight: [4, 5, 3, 3] },
      undefined,
      /expected weight\.shape\[0\] to equal input\.shape\[0\] \(inChannels\) = 3/,
    ],
    [
      'inChannels not divisible by groups',
      readme({ offset: null, mask: null }),
      { groups: 2 },
      /^deformConvTranspose2d\(\): expected weight\.shape\[0\] \(inChannels\) to be divisible by groups = 2, but got weight with shape \[3, 5, 3, 3\]$/,
    ],
    [
      'kernel dim 0',
      readme({ weight: [3, 5, 3, 0] }),
      undefined,
      /expected the kernel size kH, kW \(weight\.shape\[2\], weight\.shape\[3\]\) to be positive/,
    ],
    [
      'output size not positive',
      { input: [1, 1, 1, 1], weight: [1, 1, 1, 1] },
      { padding: 1 },
      /^deformConvTranspose2d\(\): expected a positive output size, but got \[-1, -1\] = \(inSize - 1\) \* stride - 2 \* padding \+ dilation \* \(kernelSize - 1\) \+ 1 \+ outputPadding with inSize = \[1, 1\], kernelSize = \[1, 1\], stride = \[1, 1\], padding = \[1, 1\], outputPadding = \[0, 0\], dilation = \[1, 1\]$/,
    ],
    [
      'offset on the output grid instead of the input grid',
      readme({ offset: [4, 18, 10, 10] }),
      undefined,
      /^deformConvTranspose2d\(\): expected the spatial size of offset to equal the input size \[8, 8\], but got offset with shape \[4, 18, 10, 10\]$/,
    ],
    [
      'mask on the output grid',
      readme({ mask: [4, 9, 10, 10] }),
      undefined,
      /expected the spatial size of mask to equal the input size \[8, 8\], but got mask with shape \[4, 9, 10, 10\]$/,
    ],
    [
      'offset channels not a multiple of N * K',
      readme({ offset: [4, 20, 8, 8] }),
      undefined,
      /expected offset\.shape\[1\] to be a multiple of 2 \* kH \* kW = 18, but got offset with shape \[4, 20, 8, 8\]$/,
    ],
    [
      'offset batch mismatch',
      readme({ offset: [1, 18, 8, 8] }),
      undefined,
      /expected offset\.shape\[0\] to equal the batch size input\.shape\[0\] = 4/,
    ],
    ['mask rank', readme({ mask: [9, 8, 8] }), undefined, /expected mask to have 4 dimensions \(batched, like input\)/],
    [
      'inChannels not divisible by offsetGroups',
      readme({ offset: [4, 36, 8, 8] }),
      undefined,
      /expected inChannels to be divisible by offsetGroups, but got inChannels = 3 and offsetGroups = offset\.shape\[1\] \/ \(2 \* kH \* kW\) = 36 \/ 18 = 2$/,
    ],
    [
      'outChannels not divisible by offsetGroups (unchecked in tvdcn)',
      { input: [1, 4, 5, 5], weight: [4, 3, 3, 3], offset: [1, 36, 5, 5] },
      undefined,
      /^deformConvTranspose2d\(\): expected outChannels to be divisible by offsetGroups, but got outChannels = 3 and offsetGroups = offset\.shape\[1\] \/ \(2 \* kH \* kW\) = 36 \/ 18 = 2$/,
    ],
    [
      'outChannels not divisible by maskGroups (unchecked in tvdcn)',
      { input: [1, 4, 5, 5], weight: [4, 3, 3, 3], mask: [1, 18, 5, 5] },
      undefined,
      /expected outChannels to be divisible by maskGroups, but got outChannels = 3 and maskGroups = mask\.shape\[1\] \/ \(kH \* kW\) = 18 \/ 9 = 2$/,
    ],
    [
      'inChannels not divisible by maskGroups',
      readme({ mask: [4, 18, 8, 8], weight: [3, 6, 3, 3] }),
      undefined,
      /expected inChannels to be divisible by maskGroups, but got inChannels = 3 and maskGroups = mask\.shape\[1\] \/ \(kH \* kW\) = 18 \/ 9 = 2$/,
    ],
    [
      'bias of the wrong length',
      readme({ bias: [3] }),
      undefined,
      /^deformConvTranspose2d\(\): expected bias to have shape \[5\] \(\[outChannels\]\), but got bias with shape \[3\]$/,
    ],
    [
      'bias sized weight.shape[1] when groups > 1',
      { input: [1, 4, 5, 5], weight: [4, 3, 3, 3], bias: [3] },
      { groups: 2 },
      /expected bias to have shape \[6\] \(\[outChannels\]\), but got bias with shape \[3\]$/,
    ],
  ])('%s', (_name, shapes, options, pattern) => {
    expectDcnError(() => checkDeformConvTransposeArgs(OP, 2, shapes, options), ShapeMismatchError, SHAPE, pattern);
  });
});

describe('checkDeformConvTransposeArgs: argument errors (InvalidArgumentError)', () => {
  it.each<[DeformConvTransposeHyperparameters, string, RegExp]>([
    [
      { stride: 2, outputPadding: 2 },
      'outputPadding',
      /^deformConvTranspose2d\(\): expected outputPadding to be smaller than max\(stride, dilation\) = \[2, 2\] in every dimension, but got outputPadding = \[2, 2\]$/,
    ],
    [
      { outputPadding: 1 },
      'outputPadding',
      /smaller than max\(stride, dilation\) = \[1, 1\] in every dimension, but got outputPadding = \[1, 1\]$/,
    ],
    [
      { stride: [1, 3], dilation: [2, 1], outputPadding: [2, 2] },
      'outputPadding',
      /max\(stride, dilation\) = \[2, 3\] in every dimension, but got outputPadding = \[2, 2\]$/,
    ],
    [
      { stride: 2, outputPadding: -1 },
      'outputPadding',
      /^deformConvTranspose2d\(\): expected outputPadding to be a non-negative integer or an array of 2 non-negative integers, but got -1 \(number\)$/,
    ],
    [{ stride: 2, outputPadding: 0.5 }, 'outputPadding', /but got 0\.5 \(number\)$/],
    [{ stride: 2, outputPadding: [0, 0, 0] }, 'outputPadding', /but got \[0, 0, 0\] \(array\)$/],
    [
      { stride: 0 },
      'stride',
      /expected stride to be a positive integer or an array of 2 positive integers, but got 0 \(number\)$/,
    ],
    [{ padding: -1 }, 'padding', /expected padding to be a non-negative integer/],
    [{ dilation: Number.NaN }, 'dilation', /expected dilation to be a positive integer .*, but got NaN \(number\)$/],
    [{ groups: 0 }, 'groups', /expected groups to be a positive integer, but got 0 \(number\)$/],
  ])('%o', (options, argument, pattern) => {
    const e = expectDcnError(
      () => checkDeformConvTransposeArgs(OP, 2, README_T, options),
      InvalidArgumentError,
      ARG,
      pattern,
    );
    expect(e.argument).toBe(argument);
  });
});
