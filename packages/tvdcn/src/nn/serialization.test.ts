import { type Tensor, manualSeed, rand, randn } from '@tvdcn/ops';
import { InvalidArgumentError } from '@tvdcn/shape';
import { describe, expect, it } from 'vitest';
import { loadModule, saveModule } from '../io/state-dict.js';
import { ReLU, Sigmoid, Tanh } from './activations.js';
import { Conv1d, Conv2d, Conv3d } from './conv.js';
import { DeformConv1d, DeformConv2d, DeformConv3d } from './deform-conv.js';
import { DeformConvTranspose1d, DeformConvTranspose2d, DeformConvTranspose3d } from './deform-conv-transpose.js';
import { uniform_ } from './init.js';
import { MaskSigmoid, MaskSoftmax1d, MaskSoftmax2d, MaskSoftmax3d } from './mask-activations.js';
import { type JsonValue, Module, type ModuleJSON } from './module.js';
import { PackedDeformConv1d, PackedDeformConv2d, PackedDeformConv3d } from './packed-deform-conv.js';
import {
  PackedDeformConvTranspose1d,
  PackedDeformConvTranspose2d,
  PackedDeformConvTranspose3d,
} from './packed-deform-conv-transpose.js';
import { BUILT_IN_MODULE_TYPES, moduleFromJSON } from './serialization.js';
import { SKIP_REASON, nativeOpsAvailable } from '../../test/native.js';

const ready = nativeOpsAvailable();

const f64 = { dtype: 'float64' as const };

/** Runs a module on its test inputs (the module types differ in their forward arguments). */
type Run = (m: Module) => Tensor;

function run<M extends Module>(fn: (m: M) => Tensor): Run {
  return (m) => fn(m as M);
}

/** One module of every class, with inputs for its forward. */
const CASES: [string, () => Module, Run][] = [
  [
    'Conv1d',
    () => new Conv1d(2, 4, 3, { padding: 'same', paddingMode: 'reflect', ...f64 }),
    run<Conv1d>((m) => m.forward(randn([2, 2, 7], f64))),
  ],
  [
    'Conv2d',
    () => new Conv2d(2, 4, 3, { stride: 2, groups: 2, ...f64 }),
    run<Conv2d>((m) => m.forward(randn([2, 2, 7, 7], f64))),
  ],
  [
    'Conv3d',
    () => new Conv3d(2, 4, 2, { bias: false, ...f64 }),
    run<Conv3d>((m) => m.forward(randn([1, 2, 4, 4, 4], f64))),
  ],
  [
    'DeformConv1d',
    () => new DeformConv1d(2, 4, 3, f64),
    run<DeformConv1d>((m) => m.forward(randn([2, 2, 7], f64), randn([2, 3, 5], f64))),
  ],
  [
    'DeformConv2d',
    () => new DeformConv2d(2, 4, 3, { padding: 1, dilation: 2, ...f64 }),
    run<DeformConv2d>((m) => m.forward(randn([2, 2, 7, 7], f64), randn([2, 18, 5, 5], f64), rand([2, 9, 5, 5], f64))),
  ],
  [
    'DeformConv3d',
    () => new DeformConv3d(2, 4, 2, f64),
    run<DeformConv3d>((m) => m.forward(randn([1, 2, 4, 4, 4], f64), randn([1, 24, 3, 3, 3], f64))),
  ],
  [
    'DeformConvTranspose1d',
    () => new DeformConvTranspose1d(2, 4, 3, { stride: 2, outputPadding: 1, ...f64 }),
    run<DeformConvTranspose1d>((m) => m.forward(randn([2, 2, 5], f64), randn([2, 3, 5], f64))),
  ],
  [
    'DeformConvTranspose2d',
    () => new DeformConvTranspose2d(2, 4, 3, { padding: 1, ...f64 }),
    run<DeformConvTranspose2d>((m) =>
      m.forward(randn([2, 2, 5, 5], f64), randn([2, 18, 5, 5], f64), rand([2, 9, 5, 5], f64)),
    ),
  ],
  [
    'DeformConvTranspose3d',
    () => new DeformConvTranspose3d(2, 4, 2, { groups: 2, ...f64 }),
    run<DeformConvTranspose3d>((m) => m.forward(randn([1, 2, 3, 3, 3], f64), randn([1, 24, 3, 3, 3], f64))),
  ],
  [
    'PackedDeformConv1d',
    () =>
      new PackedDeformConv1d(2, 4, 3, {
        modulated: true,
        maskActivation: 'softmax',
        offsetActivation: new Tanh(),
        ...f64,
      }),
    run<PackedDeformConv1d>((m) => m.forward(randn([2, 2, 9], f64))),
  ],
  [
    'PackedDeformConv2d',
    () =>
      new PackedDeformConv2d(4, 4, 3, {
        padding: 1,
        offsetGroups: 2,
        modulated: true,
        generatorBias: true,
        paddingMode: 'circular',
        ...f64,
      }),
    run<PackedDeformConv2d>((m) => m.forward(randn([2, 4, 6, 6], f64))),
  ],
  [
    'PackedDeformConv3d',
    () =>
      new PackedDeformConv3d(2, 2, 2, { deformable: false, modulated: true, maskActivation: new Sigmoid(), ...f64 }),
    run<PackedDeformConv3d>((m) => m.forward(randn([1, 2, 4, 4, 4], f64))),
  ],
  [
    'PackedDeformConvTranspose1d',
    () => new PackedDeformConvTranspose1d(2, 4, 3, { stride: 2, modulated: true, ...f64 }),
    run<PackedDeformConvTranspose1d>((m) => m.forward(randn([2, 2, 5], f64), [12])),
  ],
  [
    'PackedDeformConvTranspose2d',
    () =>
      new PackedDeformConvTranspose2d(2, 4, 3, {
        modulated: true,
        maskActivation: null,
        offsetActivation: new ReLU(),
        ...f64,
      }),
    run<PackedDeformConvTranspose2d>((m) => m.forward(randn([2, 2, 4, 4], f64))),
  ],
  [
    'PackedDeformConvTranspose3d',
    () =>
      new PackedDeformConvTranspose3d(2, 2, 2, { maskGroups: 2, modulated: true, maskActivation: 'softmax', ...f64 }),
    run<PackedDeformConvTranspose3d>((m) => m.forward(randn([1, 2, 3, 3, 3], f64))),
  ],
  ['MaskSoftmax1d', () => new MaskSoftmax1d(3), run<MaskSoftmax1d>((m) => m.forward(randn([2, 6, 5], f64)))],
  ['MaskSoftmax2d', () => new MaskSoftmax2d([2, 3]), run<MaskSoftmax2d>((m) => m.forward(randn([2, 12, 5, 5], f64)))],
  ['MaskSoftmax3d', () => new MaskSoftmax3d(2), run<MaskSoftmax3d>((m) => m.forward(randn([1, 8, 3, 3, 3], f64)))],
  ['MaskSigmoid', () => new MaskSigmoid(3), run<MaskSigmoid>((m) => m.forward(randn([2, 9, 4, 4], f64)))],
  ['Sigmoid', () => new Sigmoid(), run<Sigmoid>((m) => m.forward(randn([3, 4], f64)))],
  ['Tanh', () => new Tanh(), run<Tanh>((m) => m.forward(randn([3, 4], f64)))],
  ['ReLU', () => new ReLU(), run<ReLU>((m) => m.forward(randn([3, 4], f64)))],
];

describe('toJSON → moduleFromJSON → loadStateDict gives the same module', () => {
  it('covers every built-in module class', () => {
    expect(CASES.map(([name]) => name).sort()).toEqual([...BUILT_IN_MODULE_TYPES].sort());
  });

  /** The original (generators randomised too) and its copy through JSON text and the state dict. */
  function roundTrip(make: () => Module): { original: Module; copy: Module } {
    manualSeed(5);
    const original = make();
    for (const p of original.parameters()) uniform_(p, -0.5, 0.5);
    const copy = moduleFromJSON(JSON.stringify(original));
    copy.loadStateDict(original.stateDict());
    return { original, copy };
  }

  it.each(CASES)('%s: same class, repr, JSON and state dict', (name, make) => {
    const { original, copy } = roundTrip(make);
    const json = original.toJSON();
    expect(json.type).toBe(name);
    expect(JSON.parse(JSON.stringify(original))).toEqual(json);
    expect(copy.constructor).toBe(original.constructor);
    expect(copy.toString()).toBe(original.toString());
    expect(copy.toJSON()).toEqual(json);
    const a = original.stateDict();
    const b = copy.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const key of Object.keys(a))
      expect(Array.from(b[key].toTypedArray())).toEqual(Array.from(a[key].toTypedArray()));
  });

  it.runIf(ready).each(CASES)('%s: same outputs', (_, make, forward) => {
    const { original, copy } = roundTrip(make);
    manualSeed(6);
    const expected = forward(original);
    manualSeed(6);
    expect(Array.from(forward(copy).toTypedArray())).toEqual(Array.from(expected.toTypedArray()));
  });

  if (!ready) it.skip(`same outputs: ${SKIP_REASON}`, () => {});

  it.runIf(ready)('saveModule → loadModule: one safetensors file with the architecture in its metadata', () => {
    const original = new PackedDeformConv2d(3, 4, 3, {
      padding: 1,
      modulated: true,
      maskActivation: 'softmax',
      dtype: 'float64',
    });
    for (const p of original.parameters()) uniform_(p, -0.5, 0.5);
    const copy = loadModule(saveModule(original)) as PackedDeformConv2d;
    const x = randn([1, 3, 5, 5], f64);
    expect(Array.from(copy.forward(x).toTypedArray())).toEqual(Array.from(original.forward(x).toTypedArray()));
  });
});

describe('moduleFromJSON', () => {
  it('records the dtype and lets options override it', () => {
    const json = new DeformConv2d(2, 3, 3, f64).toJSON();
    expect(json.config).toEqual({
      inChannels: 2,
      outChannels: 3,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 1,
      bias: true,
      paddingMode: 'zeros',
      dtype: 'float64',
    });
    expect((moduleFromJSON(json) as DeformConv2d).weight.dtype).toBe('float64');
    expect((moduleFromJSON(json, { dtype: 'float32' }) as DeformConv2d).weight.dtype).toBe('float32');
  });

  it("accepts hand-written 'sigmoid' / 'softmax' activations", () => {
    const json: ModuleJSON = {
      type: 'PackedDeformConv2d',
      version: 1,
      config: { inChannels: 2, outChannels: 2, kernelSize: 3, modulated: true, maskActivation: 'softmax' },
    };
    expect((moduleFromJSON(json) as PackedDeformConv2d).maskActivation).toBeInstanceOf(MaskSoftmax2d);
  });

  it('rebuilds user modules through factories', () => {
    class Scale extends Module {
      constructor(readonly factor: number) {
        super();
      }
      forward(x: Tensor): Tensor {
        return x;
      }
      protected override config(): { [key: string]: JsonValue } {
        return { factor: this.factor };
      }
    }
    const conv = new PackedDeformConv1d(2, 2, 3, { offsetActivation: new Scale(3) });
    const copy = moduleFromJSON(JSON.stringify(conv), {
      modules: { Scale: (c) => new Scale(c.factor as number) },
    }) as PackedDeformConv1d;
    expect((copy.offsetActivation as Scale).factor).toBe(3);
    expect(() => moduleFromJSON(JSON.stringify(conv))).toThrow(
      /expected json.type to be a built-in module .* but got 'Scale'/,
    );
  });

  it('a function activation cannot be serialised', () => {
    const conv = new PackedDeformConv2d(2, 2, 3, {
      modulated: true,
      maskActivation: function myMask(t: Tensor) {
        return t;
      },
    });
    let error: unknown;
    try {
      conv.toJSON();
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^PackedDeformConv2d\.toJSON\(\): expected maskActivation to be null or a module with a JSON form, but got function myMask \(function\); a function cannot be serialised/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['text that is not JSON', '{nope', /does not parse/],
    ['an array', [], /expected json to be \{ type, version, config \}/],
    ['another version', { type: 'Tanh', version: 2, config: {} }, /expected json.version to be 1, but got 2/],
    ['no config', { type: 'Tanh', version: 1 }, /expected json.config to be an object/],
    [
      'an unknown type',
      { type: 'Linear', version: 1, config: {} },
      /expected json.type to be a built-in module \(Conv1d, .*\) or one of options.modules, but got 'Linear'/,
    ],
    ['a prototype key as type', { type: 'constructor', version: 1, config: {} }, /but got 'constructor'/],
    [
      'an invalid config',
      { type: 'DeformConv2d', version: 1, config: { inChannels: 2, outChannels: 2, kernelSize: 3, groups: 0 } },
      /new DeformConv2d\(\): expected groups to be a positive integer/,
    ],
    [
      'an unknown option in config',
      { type: 'DeformConv2d', version: 1, config: { inChannels: 2, outChannels: 2, kernelSize: 3, offsetGroups: 2 } },
      /unknown option 'offsetGroups'/,
    ],
    [
      'a bad activation',
      {
        type: 'PackedDeformConv2d',
        version: 1,
        config: { inChannels: 2, outChannels: 2, kernelSize: 3, maskActivation: 5 },
      },
      /config.maskActivation to be null, 'sigmoid', 'softmax' or a module's JSON, but got 5/,
    ],
  ])('rejects %s', (_, json, message) => {
    expect(() => moduleFromJSON(json as ModuleJSON)).toThrow(message);
  });
});
