// SPDX-License-Identifier: MIT
// Table-driven bad inputs of the deformable ops: each validation rule throws its documented error class
// with a message naming the argument, before any native call (so these run without the binary too).

import { describe, expect, it } from 'vitest';
import {
  DcnError,
  deformConv1d,
  deformConv2d,
  deformConv3d,
  deformConvTranspose2d,
  type DeviceMismatchError,
  DisposedTensorError,
  DTypeMismatchError,
  InvalidArgumentError,
  maskSigmoid,
  maskSoftmax2d,
  ShapeMismatchError,
  zeros,
  type Tensor,
} from '../../src/index.js';

type ErrorClass =
  | typeof ShapeMismatchError
  | typeof InvalidArgumentError
  | typeof DTypeMismatchError
  | typeof DisposedTensorError
  | typeof DeviceMismatchError;

const z = (...shape: number[]): Tensor => zeros(shape);
const x = z(2, 4, 6, 6); // input, batched
const w = z(4, 2, 3, 3); // weight for groups = 2
const disposed = (): Tensor => {
  const t = z(4, 2, 3, 3);
  t.dispose();
  return t;
};

const cases: Array<[string, () => unknown, ErrorClass, RegExp]> = [
  // ranks
  [
    'input rank',
    () => deformConv2d(z(4, 6), w, { groups: 2 }),
    ShapeMismatchError,
    /^deformConv2d\(\): expected input to have 3 \(unbatched\) or 4 \(batched\) dimensions, but got input with shape \[4, 6\]$/,
  ],
  [
    'weight rank',
    () => deformConv2d(x, z(4, 2, 3), { groups: 2 }),
    ShapeMismatchError,
    /expected weight to have 4 dimensions \[outChannels, inChannels \/ groups, kH, kW\]/,
  ],
  [
    '1d input rank in the message',
    () => deformConv1d(z(1, 2, 3, 4), z(1, 2, 3)),
    ShapeMismatchError,
    /^deformConv1d\(\): expected input to have 2 \(unbatched\) or 3 \(batched\) dimensions/,
  ],
  // channels and groups
  [
    'inChannels != weight.shape[1] * groups',
    () => deformConv2d(x, z(4, 3, 3, 3)),
    ShapeMismatchError,
    /input\.shape\[1\] \(inChannels\) to equal weight\.shape\[1\] \* groups = 3 \* 1 = 3/,
  ],
  [
    'outChannels % groups',
    () => deformConv2d(x, z(3, 2, 3, 3), { groups: 2 }),
    ShapeMismatchError,
    /weight\.shape\[0\] \(outChannels\) to be divisible by groups = 2/,
  ],
  // hyper-parameters
  [
    'stride 0',
    () => deformConv2d(x, w, { groups: 2, stride: 0 }),
    InvalidArgumentError,
    /expected stride to be a positive integer or an array of 2 positive integers, but got 0 \(number\)/,
  ],
  [
    'stride wrong length',
    () => deformConv2d(x, w, { groups: 2, stride: [1, 2, 3] }),
    InvalidArgumentError,
    /stride to be a positive integer or an array of 2 positive integers, but got \[1, 2, 3\]/,
  ],
  [
    'padding negative',
    () => deformConv2d(x, w, { groups: 2, padding: -1 }),
    InvalidArgumentError,
    /padding to be a non-negative integer/,
  ],
  [
    'dilation NaN',
    () => deformConv2d(x, w, { groups: 2, dilation: Number.NaN }),
    InvalidArgumentError,
    /dilation to be a positive integer .*NaN/,
  ],
  [
    'groups fractional',
    () => deformConv2d(x, w, { groups: 1.5 }),
    InvalidArgumentError,
    /groups to be a positive integer, but got 1\.5 \(number\)/,
  ],
  [
    'output size not positive',
    () => deformConv2d(z(1, 1, 2, 2), z(1, 1, 3, 3)),
    ShapeMismatchError,
    /expected a positive output size, but got \[0, 0\] = floor\(/,
  ],
  // offset
  [
    'offset channels',
    () => deformConv2d(x, w, { groups: 2, offset: z(2, 20, 4, 4) }),
    ShapeMismatchError,
    /^deformConv2d\(\): expected offset\.shape\[1\] to be a multiple of 2 \* kH \* kW = 18, but got offset with shape \[2, 20, 4, 4\]$/,
  ],
  [
    'offset batch',
    () => deformConv2d(x, w, { groups: 2, offset: z(1, 18, 4, 4) }),
    ShapeMismatchError,
    /offset\.shape\[0\] to equal the batch size input\.shape\[0\] = 2/,
  ],
  [
    'offset spatial',
    () => deformConv2d(x, w, { groups: 2, offset: z(2, 18, 4, 5) }),
    ShapeMismatchError,
    /the spatial size of offset to equal the output size \[4, 4\], but got offset with shape \[2, 18, 4, 5\]/,
  ],
  [
    'offset rank',
    () => deformConv2d(x, w, { groups: 2, offset: z(18, 4, 4) }),
    ShapeMismatchError,
    /offset to have 4 dimensions \(batched, like input\)/,
  ],
  [
    'inChannels % offsetGroups',
    () => deformConv2d(x, w, { groups: 2, offset: z(2, 54, 4, 4) }),
    ShapeMismatchError,
    /inChannels to be divisible by offsetGroups, but got inChannels = 4 and offsetGroups = offset\.shape\[1\] \/ \(2 \* kH \* kW\) = 54 \/ 18 = 3/,
  ],
  // mask and bias
  [
    'mask channels',
    () => deformConv2d(x, w, { groups: 2, mask: z(2, 10, 4, 4) }),
    ShapeMismatchError,
    /mask\.shape\[1\] to be a multiple of kH \* kW = 9/,
  ],
  [
    'mask without channels',
    () => deformConv2d(x, w, { groups: 2, mask: z(2, 0, 4, 4) }),
    ShapeMismatchError,
    /mask\.shape\[1\] to be a positive multiple of kH \* kW = 9/,
  ],
  [
    'bias length',
    () => deformConv2d(x, w, { groups: 2, bias: z(3) }),
    ShapeMismatchError,
    /bias to have shape \[4\] \(\[outChannels\]\), but got bias with shape \[3\]/,
  ],
  // tensors, dtypes, devices
  [
    'dtype mismatch',
    () => deformConv2d(x, w, { groups: 2, offset: zeros([2, 18, 4, 4], { dtype: 'float64' }) }),
    DTypeMismatchError,
    /^deformConv2d\(\): expected all tensors of one dtype, but got input of dtype float32 and offset of dtype float64/,
  ],
  [
    'input not a tensor',
    () => deformConv2d([1, 2] as unknown as Tensor, w),
    InvalidArgumentError,
    /deformConv2d\(\): expected input to be a Tensor, but got \[1, 2\] \(array\)/,
  ],
  [
    'disposed weight',
    () => deformConv2d(x, disposed(), { groups: 2 }),
    DisposedTensorError,
    /deformConv2d\(\): expected weight to be a live tensor, but it was disposed; call keep\(\) on it inside tidy\(\)/,
  ],
  [
    'unknown option',
    () => deformConv2d(x, w, { groups: 2, offsets: z(1) } as never),
    InvalidArgumentError,
    /deformConv2d\(\): expected options among offset, mask, bias, stride, padding, dilation, groups, but got 'offsets'/,
  ],
  [
    'options not an object',
    () => deformConv2d(x, w, 3 as never),
    InvalidArgumentError,
    /expected options to be an object, but got 3 \(number\)/,
  ],
  [
    '3d offset channels',
    () => deformConv3d(z(1, 1, 4, 4, 4), z(1, 1, 2, 2, 2), { offset: z(1, 10, 3, 3, 3) }),
    ShapeMismatchError,
    /^deformConv3d\(\): expected offset\.shape\[1\] to be a multiple of 3 \* kD \* kH \* kW = 24/,
  ],
  // transposed
  [
    'outputPadding too large',
    () => deformConvTranspose2d(z(1, 2, 4, 4), z(2, 3, 3, 3), { stride: 2, outputPadding: 2 }),
    InvalidArgumentError,
    /^deformConvTranspose2d\(\): expected outputPadding to be smaller than max\(stride, dilation\) = \[2, 2\] in every dimension, but got outputPadding = \[2, 2\]$/,
  ],
  [
    'transposed weight.shape[0]',
    () => deformConvTranspose2d(z(1, 2, 4, 4), z(3, 3, 3, 3)),
    ShapeMismatchError,
    /weight\.shape\[0\] to equal input\.shape\[1\] \(inChannels\) = 2/,
  ],
  [
    'transposed outChannels % offsetGroups',
    () => deformConvTranspose2d(z(1, 2, 4, 4), z(2, 3, 3, 3), { offset: z(1, 36, 4, 4) }),
    ShapeMismatchError,
    /outChannels to be divisible by offsetGroups, but got outChannels = 3 and offsetGroups = .* = 2/,
  ],
  [
    'transposed offset on the input grid',
    () => deformConvTranspose2d(z(1, 2, 4, 4), z(2, 2, 3, 3), { offset: z(1, 18, 6, 6) }),
    ShapeMismatchError,
    /the spatial size of offset to equal the input size \[4, 4\]/,
  ],
  [
    'transposed unknown option',
    () => deformConvTranspose2d(z(1, 2, 4, 4), z(2, 2, 3, 3), { output_padding: 1 } as never),
    InvalidArgumentError,
    /options among .*outputPadding, but got 'output_padding'/,
  ],
  // mask activations
  [
    'maskSoftmax channels',
    () => maskSoftmax2d(z(2, 10, 4, 4), 3),
    ShapeMismatchError,
    /^maskSoftmax2d\(\): expected mask\.shape\[1\] to be a multiple of kH \* kW = 9, but got mask with shape \[2, 10, 4, 4\]$/,
  ],
  [
    'maskSoftmax rank',
    () => maskSoftmax2d(z(9, 4), 3),
    ShapeMismatchError,
    /mask to have 3 \(unbatched\) or 4 \(batched\) dimensions/,
  ],
  [
    'maskSoftmax kernelSize',
    () => maskSoftmax2d(z(1, 9, 4, 4), [3, 3, 3]),
    InvalidArgumentError,
    /kernelSize to be a positive integer or an array of 2 positive integers/,
  ],
  [
    'maskSigmoid scale',
    () => maskSigmoid(z(2), 0),
    InvalidArgumentError,
    /^maskSigmoid\(\): expected scale to be a positive number, but got 0 \(number\)$/,
  ],
  [
    'maskSigmoid infinite scale',
    () => maskSigmoid(z(2), Number.POSITIVE_INFINITY),
    InvalidArgumentError,
    /scale to be a positive number/,
  ],
];

describe('deformable ops: bad inputs', () => {
  for (const [name, fn, cls, message] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        fn();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(cls);
      expect(DcnError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toMatch(message);
      expect((caught as DcnError).code).toMatch(/^ERR_DCN_/);
    });
  }
});
