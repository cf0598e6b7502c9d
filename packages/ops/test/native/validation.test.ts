// SPDX-License-Identifier: MIT
// Bad input straight from JS to the addon (the second line of defence behind @tvdcn/shape): every case
// throws a JS error naming the argument, with a stable code, and the process survives to run a valid call.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ABI_VERSION,
  type NativeDeformConvParams,
  type NativeTensor,
  packDeformConvParams,
} from '../../src/native/binding.js';
import { addonBuilt, emptyNative, loadNative, type TestBinding } from './helpers.js';

let b: TestBinding;
beforeAll(() => {
  b = loadNative();
});

// A valid 2D call: input [2, 4, 6, 6], weight [4, 2, 3, 3] (groups 2), offset [2, 36, 4, 4] (og 2),
// mask [2, 9, 4, 4], bias [4], output [2, 4, 4, 4].
function valid() {
  const t = (shape: number[], dtype: 'float32' | 'float64' = 'float64'): NativeTensor => {
    const n = shape.reduce((a, c) => a * c, 1);
    const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 13) / 13 - 0.5;
    return { data, shape, dtype };
  };
  const params: NativeDeformConvParams = {
    dim: 2,
    transposed: false,
    batch: 2,
    inChannels: 4,
    outChannels: 4,
    groups: 2,
    offsetGroups: 2,
    maskGroups: 1,
    kernelSize: [3, 3],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    inSize: [6, 6],
    outSize: [4, 4],
  };
  return {
    params,
    input: t([2, 4, 6, 6]),
    weight: t([4, 2, 3, 3]),
    offset: t([2, 36, 4, 4]) as NativeTensor | null,
    mask: t([2, 9, 4, 4]) as NativeTensor | null,
    bias: t([4]) as NativeTensor | null,
    output: emptyNative([2, 4, 4, 4]),
    gradOutput: t([2, 4, 4, 4]),
    grads: {
      input: emptyNative([2, 4, 6, 6]) as NativeTensor | null,
      weight: emptyNative([4, 2, 3, 3]) as NativeTensor | null,
      offset: emptyNative([2, 36, 4, 4]) as NativeTensor | null,
      mask: emptyNative([2, 9, 4, 4]) as NativeTensor | null,
      bias: emptyNative([4]) as NativeTensor | null,
    },
  };
}
type Call = ReturnType<typeof valid>;

// biome-ignore lint/suspicious/noExplicitAny: the point is to pass what the types forbid
type Any = any;

function forward(c: Call) {
  b.deformConvForward(c.params, c.input, c.weight, c.offset, c.mask, c.bias, c.output);
}
function backward(c: Call) {
  b.deformConvBackward(c.params, c.input, c.weight, c.offset, c.mask, c.gradOutput, c.grads);
}

const f32 = (n: number) => new Float32Array(n);

// [name, mutation, expected message, expected code]
const forwardCases: [string, (c: Call) => void, RegExp, string][] = [
  [
    'params null',
    (c) => {
      c.params = null as Any;
    },
    /expected params to be an object, but got null/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.dim 4',
    (c) => {
      c.params.dim = 4 as Any;
    },
    /params\.dim to be a positive integer <= 3, but got 4/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.dim NaN',
    (c) => {
      c.params.dim = Number.NaN as Any;
    },
    /params\.dim .* but got NaN/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.transposed missing',
    (c) => {
      delete (c.params as Any).transposed;
    },
    /params\.transposed to be a boolean, but got undefined/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.batch -1',
    (c) => {
      c.params.batch = -1;
    },
    /params\.batch to be a non-negative integer, but got -1/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.batch 1.5',
    (c) => {
      c.params.batch = 1.5;
    },
    /params\.batch .* but got 1\.5/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.groups string',
    (c) => {
      c.params.groups = '2' as Any;
    },
    /params\.groups to be a positive integer, but got "2" \(string\)/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.groups Infinity',
    (c) => {
      c.params.groups = Number.POSITIVE_INFINITY;
    },
    /params\.groups/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.stride of length 1',
    (c) => {
      c.params.stride = [1];
    },
    /params\.stride to be an array of 2 positive integers, but got an array of length 1/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.stride 0',
    (c) => {
      c.params.stride = [1, 0];
    },
    /params\.stride\[1\] to be a positive integer, but got 0/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.padding -1',
    (c) => {
      c.params.padding = [-1, 0];
    },
    /params\.padding\[0\] to be a non-negative integer/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.kernelSize not an array',
    (c) => {
      c.params.kernelSize = 3 as Any;
    },
    /params\.kernelSize to be an array of 2 positive integers, but got 3 \(number\)/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'params.outSize not the shape of the tensors',
    (c) => {
      c.params.outSize = [5, 4];
    },
    /expected offset\.shape to be \[2, 36, 5, 4\], but got \[2, 36, 4, 4\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'params.groups not dividing',
    (c) => {
      c.params.groups = 3;
    },
    /params\.inChannels \(4\) to be divisible by params\.groups \(3\)/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'params.offsetGroups not dividing',
    (c) => {
      c.params.offsetGroups = 3;
    },
    /divisible by params\.offsetGroups \(3\)/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'offsetGroups != 1 without offset',
    (c) => {
      c.offset = null;
    },
    /params\.offsetGroups to be 1 when offset is null, but got 2/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'huge sizes overflow',
    (c) => {
      c.params.inSize = [2 ** 40, 2 ** 40];
      c.params.outSize = [2 ** 40 - 2, 2 ** 40 - 2];
    },
    /overflows/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input null',
    (c) => {
      c.input = null as Any;
    },
    /expected input to be a tensor \{data, shape, dtype\}, but got null/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input a typed array',
    (c) => {
      c.input = f32(4) as Any;
    },
    /expected input to be a tensor .* but got Float32Array of length 4/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input.data a plain array',
    (c) => {
      c.input = { ...c.input, data: [1, 2] as Any };
    },
    /input\.data to be a Float64Array \(input\.dtype is float64\), but got an array of length 2/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input.data an ArrayBuffer',
    (c) => {
      c.input = { ...c.input, data: new ArrayBuffer(8) as Any };
    },
    /input\.data to be a Float64Array .* but got ArrayBuffer/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input.data a Float32Array for float64',
    (c) => {
      c.input = { ...c.input, data: f32(288) };
    },
    /input\.data to be a Float64Array \(input\.dtype is float64\), but got Float32Array of length 288/,
    'ERR_DCN_DTYPE_MISMATCH',
  ],
  [
    'input.data an Int32Array',
    (c) => {
      c.input = { ...c.input, data: new Int32Array(288) as Any };
    },
    /but got Int32Array of length 288/,
    'ERR_DCN_DTYPE_MISMATCH',
  ],
  [
    'input.data too short',
    (c) => {
      c.input = { ...c.input, data: new Float64Array(287) };
    },
    /input\.data\.length to be 288 \(the product of input\.shape \[2, 4, 6, 6\]\), but got 287/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'input.dtype unknown',
    (c) => {
      c.input = { ...c.input, dtype: 'int8' as Any };
    },
    /input\.dtype to be 'float32' or 'float64', but got "int8" \(string\)/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input.dtype float16 on the CPU',
    (c) => {
      c.input = { ...c.input, dtype: 'float16' };
    },
    /input\.dtype float16 is only supported by CUDA kernels/,
    'ERR_DCN_NOT_IMPLEMENTED',
  ],
  [
    'input.shape with a negative size',
    (c) => {
      c.input = { ...c.input, shape: [2, 4, -6, -6] };
    },
    /input\.shape\[2\] to be a non-negative integer, but got -6/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input.shape not an array',
    (c) => {
      c.input = { ...c.input, shape: 'abc' as Any };
    },
    /input\.shape to be an array of non-negative integers, but got "abc"/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'input shape inconsistent with params',
    (c) => {
      c.input = { ...c.input, shape: [2, 4, 9, 4] };
    },
    /expected input\.shape to be \[2, 4, 6, 6\], but got \[2, 4, 9, 4\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'weight shape',
    (c) => {
      c.weight = { ...c.weight, shape: [4, 4, 3, 3], data: new Float64Array(144) };
    },
    /expected weight\.shape to be \[4, 2, 3, 3\], but got \[4, 4, 3, 3\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'offset channels',
    (c) => {
      c.offset = { ...c.offset!, shape: [2, 40, 4, 4], data: new Float64Array(1280) };
    },
    /expected offset\.shape to be \[2, 36, 4, 4\], but got \[2, 40, 4, 4\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'offset dtype',
    (c) => {
      c.offset = { data: f32(1152), shape: [2, 36, 4, 4], dtype: 'float32' };
    },
    /expected offset\.dtype to be float64 \(the dtype of input\), but got float32/,
    'ERR_DCN_DTYPE_MISMATCH',
  ],
  [
    'mask spatial size',
    (c) => {
      c.mask = { ...c.mask!, shape: [2, 9, 4, 5], data: new Float64Array(360) };
    },
    /expected mask\.shape to be \[2, 9, 4, 4\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'bias length',
    (c) => {
      c.bias = { data: new Float64Array(5), shape: [5], dtype: 'float64' };
    },
    /expected bias\.shape to be \[4\], but got \[5\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'output shape',
    (c) => {
      c.output = emptyNative([2, 4, 4, 3]);
    },
    /expected output\.shape to be \[2, 4, 4, 4\]/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'output dtype',
    (c) => {
      c.output = emptyNative([2, 4, 4, 4], 'float32');
    },
    /expected output\.dtype to be float64/,
    'ERR_DCN_DTYPE_MISMATCH',
  ],
  [
    'output aliases input',
    (c) => {
      c.output = { data: (c.input.data as Float64Array).subarray(0, 128), shape: [2, 4, 4, 4], dtype: 'float64' };
    },
    /expected output not to share memory with input/,
    'ERR_DCN_SHAPE_MISMATCH',
  ],
  [
    'output missing',
    (c) => {
      c.output = undefined as Any;
    },
    /expected output to be a tensor .* but got undefined/,
    'ERR_DCN_INVALID_ARGUMENT',
  ],
  [
    'a throwing getter',
    (c) => {
      c.input = {
        get data(): Float64Array {
          throw new Error('boom from getter');
        },
        shape: [2, 4, 6, 6],
        dtype: 'float64',
      };
    },
    /boom from getter/,
    '',
  ],
];

describe.runIf(addonBuilt)('deformConvForward refuses bad input', () => {
  it('accepts the valid call', () => {
    expect(() => forward(valid())).not.toThrow();
  });
  // The output-size rule is @tvdcn/shape's (the binding checks only what could go out of bounds): an
  // outSize that disagrees with the rule but matches every tensor is in bounds, and is computed.
  it('computes an outSize off the output-size rule when every tensor matches it', () => {
    const c = valid();
    c.params.outSize = [5, 4];
    const t = (shape: number[]): NativeTensor => ({
      data: new Float64Array(shape.reduce((a, v) => a * v, 1)).fill(0.25),
      shape,
      dtype: 'float64',
    });
    c.offset = t([2, 36, 5, 4]);
    c.mask = t([2, 9, 5, 4]);
    c.output = emptyNative([2, 4, 5, 4]);
    forward(c);
    expect((c.output.data as Float64Array).every(Number.isFinite)).toBe(true);
  });
  for (const [name, mutate, message, code] of forwardCases) {
    it(name, () => {
      const c = valid();
      mutate(c);
      let err: Any;
      try {
        forward(c);
      } catch (e) {
        err = e;
      }
      expect(err, 'should throw').toBeInstanceOf(Error);
      expect(err.message).toMatch(message);
      if (code) {
        expect(err.message.startsWith('deformConvForward: ')).toBe(true);
        expect(err.code).toBe(code);
      }
      forward(valid()); // the process (and the addon) still work
    });
  }

  it('a detached buffer is refused, not read', () => {
    const c = valid();
    const buf = (c.input.data as Float64Array).buffer as ArrayBuffer;
    structuredClone(buf, { transfer: [buf] }); // detaches
    expect(() => forward(c)).toThrow(/input\.data\.length to be 288 .* but got 0/);
  });

  it('a getter of a later argument that detaches an earlier one is caught, not a use-after-free', () => {
    const c = valid();
    const buf = (c.input.data as Float64Array).buffer as ArrayBuffer;
    const weightData = c.weight.data;
    c.weight = {
      get data() {
        structuredClone(buf, { transfer: [buf] }); // detaches input.data after it was checked
        return weightData;
      },
      shape: [4, 2, 3, 3],
      dtype: 'float64',
    };
    expect(() => forward(c)).toThrow(/input\.data\.length to be 288 .* but got 0/);
    forward(valid());
  });

  it('no arguments at all', () => {
    expect(() => (b.deformConvForward as Any)()).toThrow(/expected params to be an object, but got undefined/);
  });
});

// The ops layer passes the params packed in a Float64Array (no property read per field): the same
// results, and the same checks with the same messages and codes.
describe.runIf(addonBuilt)('deformConvForward with packed params', () => {
  const set = (f: Float64Array, i: number, v: number): Float64Array => {
    f[i] = v;
    return f;
  };
  const run = (c: Call, params: NativeDeformConvParams | Float64Array) =>
    b.deformConvForward(params, c.input, c.weight, c.offset, c.mask, c.bias, c.output);
  it('computes what the params object computes, bit for bit', () => {
    const a = valid();
    const p = valid();
    run(a, a.params);
    run(p, packDeformConvParams(p.params)); // the queue is off (loadNative): the work ran at the call
    expect(Array.from(p.output.data as Float64Array)).toEqual(Array.from(a.output.data as Float64Array));
  });
  it('says it reads packed params (the ops layer packs them only for an addon that does)', () => {
    expect(b.packedDeformConvParams).toBe(true);
  });
  const cases: [string, (f: Float64Array) => Float64Array, RegExp, string][] = [
    [
      'too short',
      (f) => f.subarray(0, 7),
      /params to be a Float64Array of 8 \+ 6 \* dim numbers/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
    [
      'one number too many',
      (f) => Float64Array.of(...f, 1),
      /params to be a Float64Array of 20 numbers/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
    ['dim 4', (f) => set(f, 0, 4), /params\.dim to be a positive integer <= 3, but got 4/, 'ERR_DCN_INVALID_ARGUMENT'],
    ['transposed 2', (f) => set(f, 1, 2), /params\.transposed to be 0 or 1, but got 2/, 'ERR_DCN_INVALID_ARGUMENT'],
    [
      'batch 1.5',
      (f) => set(f, 2, 1.5),
      /params\.batch to be a non-negative integer, but got 1\.5/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
    ['groups NaN', (f) => set(f, 5, Number.NaN), /params\.groups .* but got NaN/, 'ERR_DCN_INVALID_ARGUMENT'],
    [
      'stride[1] 0',
      (f) => set(f, 11, 0),
      /params\.stride\[1\] to be a positive integer, but got 0/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
    [
      'padding[0] -1',
      (f) => set(f, 12, -1),
      /params\.padding\[0\] to be a non-negative integer, but got -1/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
    [
      'outSize not the shape of the tensors',
      (f) => set(f, 18, 5),
      /expected offset\.shape to be/,
      'ERR_DCN_SHAPE_MISMATCH',
    ],
    [
      'a Float32Array',
      (f) => Float32Array.from(f) as Any,
      /params to be an object or a Float64Array, but got Float32Array/,
      'ERR_DCN_INVALID_ARGUMENT',
    ],
  ];
  for (const [name, mutate, message, code] of cases) {
    it(name, () => {
      const c = valid();
      let err: Any;
      try {
        run(c, mutate(packDeformConvParams(c.params)));
      } catch (e) {
        err = e;
      }
      expect(err, 'should throw').toBeInstanceOf(Error);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith('deformConvForward: ')).toBe(true);
      expect(err.code).toBe(code);
    });
  }
});

const backwardCases: [string, (c: Call) => void, RegExp][] = [
  [
    'grads not an object',
    (c) => {
      c.grads = 5 as Any;
    },
    /expected grads to be an object, but got 5 \(number\)/,
  ],
  [
    'grads.offset without offset',
    (c) => {
      c.offset = null;
      c.params.offsetGroups = 1;
    },
    /grads\.offset to be null because offset is null/,
  ],
  [
    'grads.mask without mask',
    (c) => {
      c.mask = null;
    },
    /grads\.mask to be null because mask is null/,
  ],
  [
    'grads.weight shape',
    (c) => {
      c.grads.weight = emptyNative([4, 2, 3, 2]);
    },
    /expected grads\.weight\.shape to be \[4, 2, 3, 3\], but got \[4, 2, 3, 2\]/,
  ],
  [
    'grads.input dtype',
    (c) => {
      c.grads.input = emptyNative([2, 4, 6, 6], 'float32');
    },
    /expected grads\.input\.dtype to be float64/,
  ],
  [
    'grads.bias shape',
    (c) => {
      c.grads.bias = emptyNative([2]);
    },
    /expected grads\.bias\.shape to be \[4\]/,
  ],
  [
    'gradOutput shape',
    (c) => {
      c.gradOutput = emptyNative([2, 4, 3, 4]);
    },
    /expected gradOutput\.shape to be \[2, 4, 4, 4\]/,
  ],
  [
    'two grads share memory',
    (c) => {
      c.grads.mask = {
        data: (c.grads.offset!.data as Float64Array).subarray(0, 288),
        shape: [2, 9, 4, 4],
        dtype: 'float64',
      };
    },
    /grads\.offset not to share memory with grads\.mask/,
  ],
  [
    'grads.input is the input',
    (c) => {
      c.grads.input = c.input;
    },
    /grads\.input not to share memory with input/,
  ],
];

describe.runIf(addonBuilt)('deformConvBackward refuses bad input', () => {
  it('accepts the valid call, and missing grads fields count as null', () => {
    expect(() => backward(valid())).not.toThrow();
    const c = valid();
    c.grads = { input: c.grads.input } as Any;
    expect(() => backward(c)).not.toThrow();
  });
  for (const [name, mutate, message] of backwardCases) {
    it(name, () => {
      const c = valid();
      mutate(c);
      expect(() => backward(c)).toThrow(message);
      backward(valid());
    });
  }
});

describe.runIf(addonBuilt)('maskSoftmax and runtime functions refuse bad input', () => {
  const m = () => ({ data: new Float64Array(2 * 18 * 5), shape: [2, 18, 5], dtype: 'float64' as const });
  it('maskSoftmaxForward: channels not maskGroups * kernelPoints', () => {
    expect(() => b.maskSoftmaxForward(m(), 2, 8, emptyNative([2, 18, 5]))).toThrow(
      /maskSoftmaxForward: expected mask\.shape to be \[B, maskGroups \* kernelPoints = 16, \.\.\.spatial\], but got \[2, 18, 5\]/,
    );
  });
  it('maskSoftmaxForward: output shape, maskGroups 0, in place', () => {
    expect(() => b.maskSoftmaxForward(m(), 2, 9, emptyNative([2, 18, 4]))).toThrow(
      /expected output\.shape to be \[2, 18, 5\]/,
    );
    expect(() => b.maskSoftmaxForward(m(), 0, 9, emptyNative([2, 18, 5]))).toThrow(
      /maskGroups to be a positive integer/,
    );
    const x = m();
    expect(() => b.maskSoftmaxForward(x, 2, 9, x)).toThrow(/output not to share memory with mask/);
  });
  it('maskSoftmaxBackward: mismatched gradOutput', () => {
    expect(() => b.maskSoftmaxBackward(m(), emptyNative([2, 18, 4]), 2, 9, emptyNative([2, 18, 5]))).toThrow(
      /maskSoftmaxBackward: expected gradOutput\.shape to be \[2, 18, 5\]/,
    );
  });
  it('setNumThreads', () => {
    expect(() => b.setNumThreads(0)).toThrow(/setNumThreads: expected n to be a positive integer <= 1024, but got 0/);
    expect(() => b.setNumThreads(Number.NaN)).toThrow(/but got NaN/);
    expect(() => b.setNumThreads('2' as Any)).toThrow(/but got "2" \(string\)/);
    b.setNumThreads(1);
    expect(b.getNumThreads()).toBe(1);
    b.setNumThreads(2);
    expect(b.getNumThreads()).toBe(2);
  });
  it('_setWorkspaceLimit and _setGemmIsa', () => {
    expect(() => b._setWorkspaceLimit(-5)).toThrow(/bytes to be a positive integer/);
    expect(() => b._setGemmIsa('sse9' as Any)).toThrow(/but got "sse9"/);
    expect(b._setGemmIsa('generic')).toBe(true);
    expect(b._gemmIsa()).toBe('generic');
    expect(b._setGemmIsa('auto')).toBe(true);
  });
  it('_setForcePlanar', () => {
    expect(() => b._setForcePlanar(1 as Any)).toThrow(/_setForcePlanar: expected on to be a boolean/);
    expect(b._getForcePlanar()).toBe(false);
    b._setForcePlanar(true);
    expect(b._getForcePlanar()).toBe(true);
    b._setForcePlanar(false);
    expect(b._getForcePlanar()).toBe(false);
  });
  it('info still works', () => {
    expect(b.abiVersion()).toBe(ABI_VERSION);
    expect(b.buildInfo().withCuda).toBe(false);
    expect(b.cudaDeviceCount().count).toBe(0);
  });
});

describe.runIf(addonBuilt)('random garbage never crashes', () => {
  it('1000 calls with mutated arguments all either succeed or throw an Error', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const garbage: Any[] = [
      null,
      undefined,
      0,
      -1,
      1.5,
      Number.NaN,
      2 ** 60,
      'x',
      true,
      [],
      [1, 2],
      {},
      f32(3),
      new Float64Array(0),
      Symbol('s'),
      () => 1,
      10n,
    ];
    const keys = [
      'dim',
      'transposed',
      'batch',
      'inChannels',
      'outChannels',
      'groups',
      'offsetGroups',
      'maskGroups',
      'kernelSize',
      'stride',
      'padding',
      'dilation',
      'inSize',
      'outSize',
    ];
    for (let i = 0; i < 1000; i++) {
      const c = valid() as Any;
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const where = Math.floor(rand() * 4);
      if (where === 0) c.params[pick(keys)] = pick(garbage);
      else if (where === 1) c[pick(['input', 'weight', 'offset', 'mask', 'bias', 'output'])] = pick(garbage);
      else if (where === 2)
        c[pick(['input', 'weight', 'offset', 'output'])].shape = pick([
          [2],
          [2, 4, 6, 6, 1],
          [0, 4, 6, 6],
          pick(garbage),
        ]);
      else c.grads[pick(['input', 'weight', 'offset', 'mask', 'bias'])] = pick(garbage);
      try {
        if (rand() < 0.5) forward(c);
        else backward(c);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
    forward(valid());
  });
});
