import { InvalidArgumentError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { Sigmoid, Tanh } from './activations.js';
import { Conv1d, Conv2d, Conv3d } from './conv.js';
import { DeformConv1d, DeformConv2d, DeformConv3d } from './deform-conv.js';
import { DeformConvTranspose1d, DeformConvTranspose2d } from './deform-conv-transpose.js';
import { MaskSigmoid, MaskSoftmax2d, MaskSoftmax3d } from './mask-activations.js';
import type { Module } from './module.js';
import { PackedDeformConv1d, PackedDeformConv2d } from './packed-deform-conv.js';
import { PackedDeformConvTranspose2d, PackedDeformConvTranspose3d } from './packed-deform-conv-transpose.js';

describe('toString() matches the PyTorch repr', () => {
  it.each<[string, () => Module, string]>([
    ['DeformConv2d defaults', () => new DeformConv2d(3, 5, 3), 'DeformConv2d(3, 5, kernel_size=(3, 3), stride=(1, 1))'],
    ['DeformConv1d', () => new DeformConv1d(3, 5, 3), 'DeformConv1d(3, 5, kernel_size=(3,), stride=(1,))'],
    [
      'DeformConv2d every option',
      () =>
        new DeformConv2d(4, 8, [3, 5], {
          stride: 2,
          padding: [1, 2],
          dilation: 2,
          groups: 2,
          bias: false,
          paddingMode: 'reflect',
        }),
      'DeformConv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), groups=2, bias=False, padding_mode=reflect)',
    ],
    [
      'DeformConv3d same',
      () => new DeformConv3d(2, 2, 3, { padding: 'same' }),
      'DeformConv3d(2, 2, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=same)',
    ],
    [
      'Conv2d valid',
      () => new Conv2d(2, 2, 3, { padding: 'valid' }),
      'Conv2d(2, 2, kernel_size=(3, 3), stride=(1, 1), padding=valid)',
    ],
    ['Conv1d', () => new Conv1d(2, 4, 1, { groups: 2 }), 'Conv1d(2, 4, kernel_size=(1,), stride=(1,), groups=2)'],
    [
      'DeformConvTranspose2d',
      () => new DeformConvTranspose2d(3, 5, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      'DeformConvTranspose2d(3, 5, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))',
    ],
    ['MaskSigmoid', () => new MaskSigmoid(3), 'MaskSigmoid()'],
    ['MaskSoftmax2d', () => new MaskSoftmax2d(3), 'MaskSoftmax2d()'],
    [
      // tvdcn prints modulated=False whenever the layer is not modulated (its default) and lists the
      // absent mask generator as None.
      'PackedDeformConv2d defaults',
      () => new PackedDeformConv2d(3, 5, 3),
      [
        'PackedDeformConv2d(',
        '  3, 5, kernel_size=(3, 3), stride=(1, 1), modulated=False',
        '  (offset_generator): Conv2d(3, 18, kernel_size=(3, 3), stride=(1, 1), bias=False)',
        '  (mask_generator): None',
        '  (mask_activation): MaskSigmoid()',
        ')',
      ].join('\n'),
    ],
    [
      'PackedDeformConv2d of the tvdcn example',
      () =>
        new PackedDeformConv2d(2, 4, [2, 3], {
          stride: [2, 3],
          padding: [2, 3],
          groups: 2,
          offsetGroups: 1,
          maskGroups: 2,
          modulated: true,
        }),
      [
        'PackedDeformConv2d(',
        '  2, 4, kernel_size=(2, 3), stride=(2, 3), padding=(2, 3), groups=2, mask_groups=2',
        '  (offset_generator): Conv2d(2, 12, kernel_size=(2, 3), stride=(2, 3), padding=(2, 3), bias=False)',
        '  (mask_generator): Conv2d(2, 12, kernel_size=(2, 3), stride=(2, 3), padding=(2, 3), groups=2, bias=False)',
        '  (mask_activation): MaskSigmoid()',
        ')',
      ].join('\n'),
    ],
    [
      'PackedDeformConv1d softmax, module offset activation',
      () =>
        new PackedDeformConv1d(3, 16, 5, {
          modulated: true,
          maskActivation: 'softmax',
          offsetActivation: new Tanh(),
          deformable: true,
        }),
      [
        'PackedDeformConv1d(',
        '  3, 16, kernel_size=(5,), stride=(1,)',
        '  (offset_generator): Conv1d(3, 5, kernel_size=(5,), stride=(1,), bias=False)',
        '  (mask_generator): Conv1d(3, 5, kernel_size=(5,), stride=(1,), bias=False)',
        '  (offset_activation): Tanh()',
        '  (mask_activation): MaskSoftmax1d()',
        ')',
      ].join('\n'),
    ],
    [
      'PackedDeformConvTranspose2d not deformable, function activation',
      () =>
        new PackedDeformConvTranspose2d(4, 2, 3, {
          stride: 2,
          deformable: false,
          modulated: true,
          maskActivation: (t) => t,
          generatorBias: true,
        }),
      [
        'PackedDeformConvTranspose2d(',
        '  4, 2, kernel_size=(3, 3), stride=(2, 2), deformable=False',
        '  (offset_generator): None',
        '  (mask_generator): Conv2d(4, 9, kernel_size=(1, 1), stride=(1, 1))',
        ')',
      ].join('\n'),
    ],
  ])('%s', (_, make, expected) => {
    expect(make().toString()).toBe(expected);
  });
});

describe('constructor validation (tvdcn-reference §7)', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'groups 0',
      () => new DeformConv2d(4, 4, 3, { groups: 0 }),
      /new DeformConv2d\(\): expected groups to be a positive integer, but got 0/,
    ],
    [
      'inChannels % groups',
      () => new DeformConv2d(3, 4, 3, { groups: 2 }),
      /expected inChannels to be divisible by groups = 2, but got inChannels = 3/,
    ],
    [
      'outChannels % groups',
      () => new DeformConv1d(4, 3, 3, { groups: 2 }),
      /expected outChannels to be divisible by groups = 2, but got outChannels = 3/,
    ],
    [
      'fractional channels',
      () => new DeformConv2d(2.5, 4, 3),
      /expected inChannels to be a positive integer, but got 2.5/,
    ],
    ['a kernel of the wrong length', () => new DeformConv2d(2, 2, [3, 3, 3]), /kernelSize/],
    ['a zero stride', () => new DeformConv2d(2, 2, 3, { stride: 0 }), /stride/],
    ['a negative padding', () => new DeformConv2d(2, 2, 3, { padding: -1 }), /padding/],
    [
      'an unknown padding string',
      () => new DeformConv2d(2, 2, 3, { padding: 'full' as never }),
      /padding to be 'same', 'valid'/,
    ],
    [
      "'same' with stride 2",
      () => new DeformConv2d(2, 2, 3, { padding: 'same', stride: 2 }),
      /padding='same' is not supported for strided convolutions/,
    ],
    [
      'an unknown paddingMode',
      () => new DeformConv2d(2, 2, 3, { paddingMode: 'mirror' as never }),
      /paddingMode to be one of 'zeros', 'reflect', 'replicate', 'circular'/,
    ],
    ['a misspelt option', () => new DeformConv2d(2, 2, 3, { stide: 2 } as never), /unknown option 'stide'/],
    [
      'bias not a boolean',
      () => new DeformConv2d(2, 2, 3, { bias: 1 as never }),
      /expected bias to be a boolean, but got 1/,
    ],
    [
      "'same' on a transposed layer",
      () => new DeformConvTranspose2d(2, 2, 3, { padding: 'same' as never }),
      /'same' and 'valid' exist only for regular convolutions/,
    ],
    [
      'reflect on a transposed layer',
      () => new DeformConvTranspose1d(2, 2, 3, { paddingMode: 'reflect' as never }),
      /expected paddingMode to be 'zeros' \(the only mode of transposed convolutions\)/,
    ],
    [
      'outputPadding >= max(stride, dilation)',
      () => new DeformConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: [1, 2] }),
      /outputPadding to be smaller than max\(stride, dilation\) = \[2, 2\] in every dimension, but got \[1, 2\]/,
    ],
    [
      'inChannels % offsetGroups',
      () => new PackedDeformConv2d(3, 6, 3, { offsetGroups: 2 }),
      /new PackedDeformConv2d\(\): expected inChannels to be divisible by offsetGroups = 2, but got inChannels = 3/,
    ],
    [
      'outChannels % offsetGroups',
      () => new PackedDeformConv2d(6, 3, 3, { offsetGroups: 2 }),
      /expected outChannels to be divisible by offsetGroups = 2/,
    ],
    [
      'inChannels % maskGroups',
      () => new PackedDeformConvTranspose3d(3, 6, 3, { maskGroups: 2 }),
      /expected inChannels to be divisible by maskGroups = 2/,
    ],
    [
      'outChannels % maskGroups',
      () => new PackedDeformConv2d(6, 3, 3, { maskGroups: 2 }),
      /expected outChannels to be divisible by maskGroups = 2/,
    ],
    [
      'an offset activation string',
      () => new PackedDeformConv2d(2, 2, 3, { offsetActivation: 'tanh' as never }),
      /offsetActivation to be a Module, a function or null \(no activation is built in for offsets\), but got 'tanh'/,
    ],
    [
      'an unknown mask activation',
      () => new PackedDeformConv2d(2, 2, 3, { maskActivation: 'relu' as never }),
      /maskActivation to be 'sigmoid', 'softmax', a Module, a function or null, but got 'relu'/,
    ],
    [
      'a mask sigmoid scale of 0',
      () => new MaskSigmoid(0),
      /new MaskSigmoid\(\): expected scale to be a positive number, but got 0/,
    ],
    ['a mask softmax kernel of 0', () => new MaskSoftmax3d(0), /kernelSize/],
  ];
  it.each(cases)('%s', (_, make, message) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts every documented option', () => {
    const conv = new PackedDeformConv2d(4, 8, 3, {
      stride: 1,
      padding: 'same',
      dilation: 2,
      groups: 2,
      bias: false,
      paddingMode: 'circular',
      device: 'cpu',
      dtype: 'float64',
      offsetGroups: 2,
      maskGroups: 4,
      generatorBias: true,
      deformable: true,
      modulated: true,
      offsetActivation: new Tanh(),
      maskActivation: new Sigmoid(),
    });
    expect(conv.kernelSize).toEqual([3, 3]);
    expect(conv.padding).toBe('same');
    expect(conv.offsetGroups).toBe(2);
    expect(conv.maskGroups).toBe(4);
    expect(conv.offsetGenerator!.padding).toBe('same');
    expect(conv.offsetGenerator!.paddingMode).toBe('zeros');
    expect(conv.weight.dtype).toBe('float64');
    expect(Conv3d.name).toBe('Conv3d');
  });
});
