import { type Tensor, ones, tensor, zeros } from '@tvdcn/ops';
import { InvalidArgumentError, NotImplementedError, ShapeMismatchError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { Tanh } from './activations.js';
import { Conv2d } from './conv.js';
import { DeformConv1d, DeformConv2d, DeformConv3d } from './deform-conv.js';
import { DeformConvTranspose1d, DeformConvTranspose2d, DeformConvTranspose3d } from './deform-conv-transpose.js';
import { MaskSigmoid, MaskSoftmax2d } from './mask-activations.js';
import { Module } from './module.js';
import { PackedDeformConv1d, PackedDeformConv2d, PackedDeformConv3d } from './packed-deform-conv.js';
import {
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
} from './packed-deform-conv-transpose.js';
import { parameter } from './parameter.js';

/** A user module: two packed layers and a parameter of its own. */
class Net extends Module {
  readonly scale = this.registerParameter('scale', parameter(ones([1])));
  readonly first = this.registerModule('first', new PackedDeformConv2d(3, 4, 3, { padding: 1, modulated: true }));
  readonly second = this.registerModule('second', new DeformConv2d(4, 2, 1, { bias: false }));

  forward(x: Tensor): Tensor {
    return this.second.forward(this.first.forward(x));
  }
}

describe("state dict keys are tvdcn's", () => {
  it.each<[string, () => Module, string[]]>([
    ['DeformConv2d', () => new DeformConv2d(3, 5, 3), ['weight', 'bias']],
    ['DeformConv1d without bias', () => new DeformConv1d(3, 5, 3, { bias: false }), ['weight']],
    ['DeformConv3d', () => new DeformConv3d(3, 5, 3), ['weight', 'bias']],
    ['DeformConvTranspose1d', () => new DeformConvTranspose1d(3, 5, 3), ['weight', 'bias']],
    ['DeformConvTranspose2d', () => new DeformConvTranspose2d(3, 5, 3), ['weight', 'bias']],
    ['DeformConvTranspose3d', () => new DeformConvTranspose3d(3, 5, 3, { bias: false }), ['weight']],
    ['PackedDeformConv2d', () => new PackedDeformConv2d(3, 5, 3), ['weight', 'bias', 'offset_generator.weight']],
    [
      'PackedDeformConv2d modulated with generator bias',
      () => new PackedDeformConv2d(3, 5, 3, { modulated: true, generatorBias: true }),
      [
        'weight',
        'bias',
        'offset_generator.weight',
        'offset_generator.bias',
        'mask_generator.weight',
        'mask_generator.bias',
      ],
    ],
    [
      'PackedDeformConv1d not deformable, modulated',
      () => new PackedDeformConv1d(3, 5, 3, { deformable: false, modulated: true }),
      ['weight', 'bias', 'mask_generator.weight'],
    ],
    [
      'PackedDeformConv3d',
      () => new PackedDeformConv3d(3, 5, 3, { bias: false }),
      ['weight', 'offset_generator.weight'],
    ],
    [
      'PackedDeformConvTranspose1d',
      () => new PackedDeformConvTranspose1d(3, 5, 3, { modulated: true }),
      ['weight', 'bias', 'offset_generator.weight', 'mask_generator.weight'],
    ],
    [
      'PackedDeformConvTranspose2d',
      () => new PackedDeformConvTranspose2d(3, 5, 3, { generatorBias: true }),
      ['weight', 'bias', 'offset_generator.weight', 'offset_generator.bias'],
    ],
    [
      'PackedDeformConvTranspose3d',
      () => new PackedDeformConvTranspose3d(3, 5, 3),
      ['weight', 'bias', 'offset_generator.weight'],
    ],
    ['MaskSigmoid', () => new MaskSigmoid(), []],
    ['MaskSoftmax2d', () => new MaskSoftmax2d(3), []],
  ])('%s', (_, make, keys) => {
    expect(Object.keys(make().stateDict())).toEqual(keys);
  });

  it('generator shapes: same kernel as the main conv (regular), pointwise (transposed)', () => {
    const regular = new PackedDeformConv2d(4, 6, [3, 5], { offsetGroups: 2, maskGroups: 1, modulated: true });
    const shapes = Object.fromEntries(Object.entries(regular.stateDict()).map(([k, t]) => [k, t.shape]));
    expect(shapes).toEqual({
      weight: [6, 4, 3, 5],
      bias: [6],
      'offset_generator.weight': [2 * 15 * 2, 2, 3, 5],
      'mask_generator.weight': [15, 4, 3, 5],
    });
    const transposed = new PackedDeformConvTranspose3d(4, 6, 2, {
      groups: 2,
      offsetGroups: 2,
      modulated: true,
      maskGroups: 2,
    });
    const tShapes = Object.fromEntries(Object.entries(transposed.stateDict()).map(([k, t]) => [k, t.shape]));
    expect(tShapes).toEqual({
      weight: [4, 3, 2, 2, 2],
      bias: [6],
      'offset_generator.weight': [3 * 8 * 2, 2, 1, 1, 1],
      'mask_generator.weight': [8 * 2, 2, 1, 1, 1],
    });
  });
});

describe('Module', () => {
  it('lists parameters and modules in registration order with dotted names', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'first.weight',
      'first.bias',
      'first.offset_generator.weight',
      'first.mask_generator.weight',
      'second.weight',
    ]);
    expect(net.parameters()).toHaveLength(6);
    expect(net.parameters(false)).toEqual([net.scale]);
    expect(net.children()).toEqual([net.first, net.second]);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'first',
      'first.offset_generator',
      'first.mask_generator',
      'first.mask_activation',
      'second',
    ]);
    expect(net.getSubmodule('first.offset_generator')).toBe(net.first.offsetGenerator);
    expect(() => net.getSubmodule('first.nothing')).toThrow(/'nothing' of 'first.nothing' is not one/);
    for (const p of net.parameters()) expect(p.requiresGrad).toBe(true);
  });

  it('lists a shared parameter once, but under both names in the state dict', () => {
    class Shared extends Module {
      readonly a = this.registerModule('a', new DeformConv1d(2, 2, 1));
      readonly b = this.registerModule('b', new DeformConv1d(2, 2, 1));
      constructor() {
        super();
        this.b.registerParameter('weight', this.a.weight);
      }
      forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x));
      }
    }
    const m = new Shared();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.bias']);
    expect(Object.keys(m.stateDict())).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  });

  it('stateDict returns detached tensors sharing memory; keepVars returns the parameters', () => {
    const conv = new DeformConv2d(2, 2, 1);
    const dict = conv.stateDict();
    expect(dict.weight).not.toBe(conv.weight);
    expect(dict.weight.requiresGrad).toBe(false);
    conv.weight.cpuData()[0] = 42;
    expect(dict.weight.toTypedArray()[0]).toBe(42);
    expect(conv.stateDict({ keepVars: true }).weight).toBe(conv.weight);
    expect(Object.keys(conv.stateDict({ prefix: 'layer.' }))).toEqual(['layer.weight', 'layer.bias']);
  });

  it('loadStateDict copies values in place, converting dtype', () => {
    const source = new Net();
    const target = new Net();
    const weight = target.first.weight;
    const dict = Object.fromEntries(Object.entries(source.stateDict()).map(([k, t]) => [k, t.to('float64')]));
    expect(target.loadStateDict(dict)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(target.first.weight).toBe(weight);
    expect(target.first.weight.dtype).toBe('float32');
    for (const [name, t] of Object.entries(target.stateDict())) {
      expect(Array.from(t.toTypedArray())).toEqual(Array.from(source.stateDict()[name].toTypedArray()));
    }
  });

  it('strict loading lists missing and unexpected keys and loads nothing', () => {
    const conv = new PackedDeformConv2d(3, 5, 3);
    const before = Array.from(conv.weight.toTypedArray());
    const dict = { weight: zeros([5, 3, 3, 3]), extra: zeros([1]) };
    let error: unknown;
    try {
      conv.loadStateDict(dict);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      "PackedDeformConv2d.loadStateDict(): expected a state dict matching the module's keys and shapes, but got " +
        "missing keys 'bias', 'offset_generator.weight'; unexpected keys 'extra' (pass { strict: false } to load the matching keys only)",
    );
    expect(Array.from(conv.weight.toTypedArray())).toEqual(before);
  });

  it('non-strict loading loads the matching keys and reports the others', () => {
    const conv = new PackedDeformConv2d(3, 5, 3);
    const result = conv.loadStateDict({ weight: zeros([5, 3, 3, 3]), extra: zeros([1]) }, { strict: false });
    expect(result).toEqual({ missingKeys: ['bias', 'offset_generator.weight'], unexpectedKeys: ['extra'] });
    expect(conv.weight.toTypedArray().every((v) => v === 0)).toBe(true);
  });

  it('shape mismatches are errors even when not strict', () => {
    const conv = new DeformConv2d(3, 5, 3);
    const load = (strict: boolean) => conv.loadStateDict({ weight: zeros([5, 3, 2, 2]), bias: zeros([5]) }, { strict });
    for (const strict of [true, false]) {
      expect(() => load(strict)).toThrow(ShapeMismatchError);
      expect(() => load(strict)).toThrow(
        /size mismatch: 'weight' has shape \[5, 3, 2, 2\] in the dict but \[5, 3, 3, 3\] in the module/,
      );
    }
    expect(() => conv.loadStateDict({ weight: [1] as never, bias: zeros([5]) })).toThrow(
      /stateDict\['weight'\] to be a Tensor/,
    );
  });

  it('to() converts every parameter and its gradient, keeping requiresGrad', () => {
    const net = new Net();
    const values = Array.from(net.first.weight.toTypedArray());
    net.first.weight.grad = ones(net.first.weight.shape);
    const old = net.first.weight;
    expect(net.to('float64')).toBe(net);
    expect(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && p.isLeaf)).toBe(true);
    expect(Array.from(net.first.weight.toTypedArray())).toEqual(values);
    expect(net.first.weight.grad?.dtype).toBe('float64');
    expect(old.isDisposed).toBe(true);
    const same = net.first.weight;
    net.to({ device: 'cpu', dtype: 'float64' });
    expect(net.first.weight).toBe(same);
  });

  it('train(), eval() and zeroGrad() reach every submodule', () => {
    const net = new Net();
    expect(net.training).toBe(true);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    for (const p of net.parameters()) p.grad = zeros(p.shape);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('a module without a JSON form says how to give it one', () => {
    expect(() => new Net().toJSON()).toThrow(NotImplementedError);
    expect(() => new Net().toJSON()).toThrow(/override its config\(\) and pass a factory to moduleFromJSON/);
  });

  it('registration checks names and values', () => {
    const net = new Net();
    expect(() => net.registerParameter('a.b', null)).toThrow(/expected name to be a non-empty string without '.'/);
    expect(() => net.registerParameter('first', null)).toThrow(/not used by a submodule/);
    expect(() => net.registerModule('scale', null)).toThrow(/not used by a parameter/);
    expect(() => net.registerModule('x', {} as never)).toThrow(/expected module to be a Module or null/);
    expect(() => net.registerParameter('x', [1] as never)).toThrow(/expected param to be a Tensor or null/);
  });

  it('parameter() makes a leaf that requires grad', () => {
    const p = parameter(tensor([1, 2]));
    expect(p.requiresGrad).toBe(true);
    expect(parameter(tensor([1]), false).requiresGrad).toBe(false);
    expect(new Tanh().parameters()).toEqual([]);
    expect(new Conv2d(1, 1, 1).parameters()).toHaveLength(2);
  });
});

describe('Module and tidy()', () => {
  it('a module made or moved inside tidy() keeps its parameters', async () => {
    const { tidy } = await import('@tvdcn/ops');
    const conv = tidy(() => {
      const c = new PackedDeformConv2d(2, 2, 3, { modulated: true });
      c.to('float64');
      return { c }.c;
    });
    for (const p of conv.parameters()) {
      expect(p.isDisposed).toBe(false);
      expect(p.dtype).toBe('float64');
    }
  });
});

describe('Module.toString()', () => {
  it('indents nested modules as PyTorch does, and is what console.log prints', async () => {
    const { inspect } = await import('node:util');
    const expected = [
      'Net(',
      '  (first): PackedDeformConv2d(',
      '    3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)',
      '    (offset_generator): Conv2d(3, 18, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)',
      '    (mask_generator): Conv2d(3, 9, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)',
      '    (mask_activation): MaskSigmoid()',
      '  )',
      '  (second): DeformConv2d(4, 2, kernel_size=(1, 1), stride=(1, 1), bias=False)',
      ')',
    ].join('\n');
    const net = new Net();
    expect(net.toString()).toBe(expected);
    expect(inspect(net)).toBe(expected);
  });
});
