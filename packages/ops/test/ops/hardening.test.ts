// SPDX-License-Identifier: MIT
// Issue 9 regression tests (findings 2 and 3): odd arguments end in the library's typed errors, never in
// V8's RangeError/TypeError or a plain Error from the addon, and calls that are invalid do not succeed.

import { describe, expect, it } from 'vitest';
import {
  DcnError,
  deformConv1d,
  deformConv2d,
  deformConvTranspose1d,
  DisposedTensorError,
  full,
  InvalidArgumentError,
  ones,
  OutOfMemoryError,
  permute,
  rand,
  randn,
  ShapeMismatchError,
  tensor,
  transpose,
  zeros,
} from '../../src/index.js';
import { fromNativeError } from '../../src/native/native-errors.js';
import { getBinding } from '../../src/native/load-binding.js';
import { nativeOpsAvailable } from './native-setup.js';

/** Runs `fn`, expects a DcnError of `cls` with `code`, and returns it. */
function rejects<E extends DcnError>(fn: () => unknown, cls: { isInstance(e: unknown): e is E }, code: string): E {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected the call to throw').not.toBeNull();
  expect(DcnError.isInstance(caught), String(caught)).toBe(true);
  expect(cls.isInstance(caught), String(caught)).toBe(true);
  expect((caught as DcnError).code).toBe(code);
  return caught as E;
}

const ARG = 'ERR_DCN_INVALID_ARGUMENT';

describe('hostile hyper-parameters of the deformable ops', () => {
  const x = zeros([1, 2, 5, 5]);
  const w = zeros([2, 2, 3, 3]);
  it('a stride array with a replaced constructor is an InvalidArgumentError (the formatter used to throw)', () => {
    const e = rejects(
      () => deformConv2d(x, w, { stride: Object.assign([1, 2, 3], { constructor: 1 }) as unknown as number[] }),
      InvalidArgumentError,
      ARG,
    );
    expect(e.message).toMatch(/but got \[1, 2, 3\] \(array\)$/);
  });
  it('padding 1e300 is not an integer the ops accept', () => {
    expect(rejects(() => deformConv2d(x, w, { padding: 1e300 }), InvalidArgumentError, ARG).argument).toBe('padding');
  });
  it('padding and stride beyond 2^40 are rejected in TypeScript, naming the argument', () => {
    const e = rejects(() => deformConv2d(x, w, { padding: 2 ** 45, stride: 2 ** 45 }), InvalidArgumentError, ARG);
    expect(e.argument).toBe('stride');
    expect(e.message).toMatch(/^deformConv2d\(\): expected stride to be at most 2\^40/);
  });
});

describe.runIf(nativeOpsAvailable())('outputs too large to allocate', () => {
  it('a transposed dilation of 2^40 is an OutOfMemoryError, not "Invalid typed array length"', () => {
    const e = rejects(
      () => deformConvTranspose1d(randn([1, 2, 3]), randn([2, 1, 3]), { dilation: 2 ** 40 }),
      OutOfMemoryError,
      'ERR_DCN_OUT_OF_MEMORY',
    );
    expect(e.message).toMatch(/cannot allocate a float32 tensor of 2199023255555 elements/);
  });
  it('a 1e12-element output is an OutOfMemoryError', () => {
    rejects(
      () => deformConv1d(randn([1, 1, 1]), randn([1, 1, 1]), { padding: 5e11 }),
      OutOfMemoryError,
      'ERR_DCN_OUT_OF_MEMORY',
    );
  });
  it('an output whose element count is not a safe integer is a ShapeMismatchError', () => {
    rejects(
      () => deformConvTranspose1d(zeros([1, 1, 2 ** 20]), zeros([1, 1, 3]), { stride: 2 ** 40 }),
      ShapeMismatchError,
      'ERR_DCN_SHAPE_MISMATCH',
    );
  });
});

describe('factories and shape ops', () => {
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
  const holey = [1, , 2] as number[];
  it.each([
    ['zeros', () => zeros(holey)],
    ['ones', () => ones(holey)],
    ['rand', () => rand(holey)],
    ['randn', () => randn(holey)],
    ['full', () => full(holey, 3)],
    ['zeros 1.5', () => zeros([1, 1.5])],
    ['zeros 2^60', () => zeros([2 ** 60])],
    ['zeros unsafe product', () => zeros([2 ** 30, 2 ** 30, 2 ** 30])],
  ])('%s rejects holes, fractions and unsafe sizes with an InvalidArgumentError', (_, fn) => {
    expect(rejects(fn, InvalidArgumentError, ARG).argument).toBe('shape');
  });
  it('zeros of 2^33 elements is an OutOfMemoryError', () => {
    rejects(() => zeros([2 ** 33]), OutOfMemoryError, 'ERR_DCN_OUT_OF_MEMORY');
  });
  it('transpose of a 0-d tensor checks its dims (as PyTorch: only -1 and 0)', () => {
    rejects(() => transpose(randn([]), 5, 3), InvalidArgumentError, ARG);
    rejects(() => transpose(randn([]), 0, 1), InvalidArgumentError, ARG);
    expect(transpose(tensor(3), 0, -1).item()).toBe(3);
  });
  it('permute rejects holes in dims', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
    const dims = [, 1] as number[];
    rejects(() => permute(zeros([2, 3]), dims), InvalidArgumentError, ARG);
  });
});

describe.runIf(nativeOpsAvailable())('native errors become the library classes (one mapping, at the binding)', () => {
  it('a detached input buffer is a DisposedTensorError', () => {
    const data = new Float32Array(2 * 2 * 5 * 5);
    const x = tensor(data, { shape: [2, 2, 5, 5], copy: false });
    structuredClone(data.buffer, { transfer: [data.buffer] });
    rejects(() => deformConv2d(x, zeros([2, 2, 3, 3])), DisposedTensorError, 'ERR_DCN_DISPOSED');
  });
  it('an argument the addon rejects is an InvalidArgumentError with its code', () => {
    const b = getBinding();
    const t = (shape: number[]) => ({
      data: new Float32Array(shape.reduce((a, v) => a * v, 1)),
      shape,
      dtype: 'float32' as const,
    });
    const params = {
      dim: 1 as const,
      transposed: false,
      batch: 1,
      inChannels: 1,
      outChannels: 1,
      groups: 1,
      offsetGroups: 1,
      maskGroups: 1,
      kernelSize: [1],
      stride: [2 ** 45],
      padding: [0],
      dilation: [1],
      inSize: [1],
      outSize: [1],
    };
    const e = rejects(
      () => b.deformConvForward(params, t([1, 1, 1]), t([1, 1, 1]), null, null, null, t([1, 1, 1])),
      InvalidArgumentError,
      ARG,
    );
    expect(e.cause).toBeInstanceOf(RangeError);
    // A detached buffer handed to the addon directly: a DcnError (with the addon's message), not a plain Error.
    const d = t([1, 1, 1]);
    structuredClone(d.data.buffer, { transfer: [d.data.buffer] });
    let caught: unknown = null;
    try {
      b.deformConvForward({ ...params, stride: [1] }, d, t([1, 1, 1]), null, null, null, t([1, 1, 1]));
    } catch (err) {
      caught = err;
    }
    expect(DcnError.isInstance(caught), String(caught)).toBe(true);
    expect((caught as DcnError).code).toMatch(/^ERR_DCN/);
  });
  it('fromNativeError maps every code to its class', () => {
    const withCode = (code?: string) =>
      Object.assign(new Error('op(): expected input to be good'), code ? { code } : {});
    expect(fromNativeError(withCode('ERR_DCN_INVALID_ARGUMENT'))).toBeInstanceOf(InvalidArgumentError);
    expect((fromNativeError(withCode('ERR_DCN_INVALID_ARGUMENT')) as InvalidArgumentError).argument).toBe('input');
    expect(fromNativeError(withCode('ERR_DCN_SHAPE_MISMATCH'))).toBeInstanceOf(ShapeMismatchError);
    expect(fromNativeError(withCode('ERR_DCN_OUT_OF_MEMORY'))).toBeInstanceOf(OutOfMemoryError);
    expect(fromNativeError(new RangeError('Array buffer allocation failed'))).toBeInstanceOf(OutOfMemoryError);
    const plain = fromNativeError(withCode());
    expect(plain.code).toBe('ERR_DCN');
    expect(plain.cause).toBeInstanceOf(Error);
  });
});
