import { describe, expect, it } from 'vitest';
import {
  DcnError,
  DeviceMismatchError,
  DisposedTensorError,
  DTypeMismatchError,
  ERROR_CODES,
  InvalidArgumentError,
  NativeLoadError,
  NotImplementedError,
  OutOfMemoryError,
  ShapeMismatchError,
} from './errors.js';

const SUBCLASSES = [
  { cls: ShapeMismatchError, name: 'ShapeMismatchError', code: 'ERR_DCN_SHAPE_MISMATCH' },
  { cls: DeviceMismatchError, name: 'DeviceMismatchError', code: 'ERR_DCN_DEVICE_MISMATCH' },
  { cls: DTypeMismatchError, name: 'DTypeMismatchError', code: 'ERR_DCN_DTYPE_MISMATCH' },
  { cls: DisposedTensorError, name: 'DisposedTensorError', code: 'ERR_DCN_DISPOSED' },
  { cls: NotImplementedError, name: 'NotImplementedError', code: 'ERR_DCN_NOT_IMPLEMENTED' },
  { cls: NativeLoadError, name: 'NativeLoadError', code: 'ERR_DCN_NATIVE_LOAD' },
  { cls: OutOfMemoryError, name: 'OutOfMemoryError', code: 'ERR_DCN_OUT_OF_MEMORY' },
] as const;

describe('DcnError', () => {
  it('is an Error with a code, a name and the marker', () => {
    const e = new DcnError('op(): expected x, but got y');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DcnError');
    expect(e.code).toBe('ERR_DCN');
    expect(e.message).toBe('op(): expected x, but got y');
    expect(DcnError.isInstance(e)).toBe(true);
    expect(typeof e.stack).toBe('string');
  });

  it('accepts a custom code and a cause', () => {
    const cause = new Error('inner');
    const e = new DcnError('m', 'ERR_DCN_CUSTOM', { cause });
    expect(e.code).toBe('ERR_DCN_CUSTOM');
    expect(e.cause).toBe(cause);
  });

  it('isInstance rejects plain errors and non-objects', () => {
    for (const value of [new Error('x'), new TypeError('x'), null, undefined, 'ERR_DCN', 42, {}]) {
      expect(DcnError.isInstance(value)).toBe(false);
    }
  });

  it('isInstance recognises an error of another copy of the package (Symbol.for marker)', () => {
    const foreign = new Error('from another copy');
    Object.defineProperty(foreign, Symbol.for('tvdcn.error'), { value: true });
    Object.defineProperty(foreign, Symbol.for('tvdcn.error.ShapeMismatchError'), { value: true });
    expect(foreign instanceof DcnError).toBe(false);
    expect(DcnError.isInstance(foreign)).toBe(true);
    expect(ShapeMismatchError.isInstance(foreign)).toBe(true);
    expect(InvalidArgumentError.isInstance(foreign)).toBe(false);
  });

  it('keeps the marker out of enumeration and JSON', () => {
    const e = new ShapeMismatchError('m');
    expect(Object.keys(e)).not.toContain('tvdcn.error');
    expect(Object.getOwnPropertySymbols(e).every((s) => !Object.getOwnPropertyDescriptor(e, s)?.enumerable)).toBe(true);
  });
});

describe('InvalidArgumentError', () => {
  it('has code ERR_DCN_INVALID_ARGUMENT, a name and the argument', () => {
    const e = new InvalidArgumentError('deformConv2d(): expected stride to be ..., but got -1 (number)', 'stride');
    expect(e).toBeInstanceOf(DcnError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('InvalidArgumentError');
    expect(e.code).toBe('ERR_DCN_INVALID_ARGUMENT');
    expect(e.argument).toBe('stride');
    expect(InvalidArgumentError.isInstance(e)).toBe(true);
    expect(DcnError.isInstance(e)).toBe(true);
    expect(ShapeMismatchError.isInstance(e)).toBe(false);
    expect(String(e)).toBe('InvalidArgumentError: deformConv2d(): expected stride to be ..., but got -1 (number)');
  });
});

describe.each(SUBCLASSES)('$name', ({ cls, name, code }) => {
  it(`has code ${code} and name ${name}`, () => {
    const e = new cls('message');
    expect(e).toBeInstanceOf(DcnError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe(name);
    expect(e.code).toBe(code);
    expect(e.message).toBe('message');
    expect(ERROR_CODES[name]).toBe(code);
  });

  it('isInstance is specific to the class', () => {
    const e = new cls('message');
    expect(cls.isInstance(e)).toBe(true);
    expect(DcnError.isInstance(e)).toBe(true);
    expect(InvalidArgumentError.isInstance(e)).toBe(false);
    for (const other of SUBCLASSES) {
      if (other.cls !== cls) expect(other.cls.isInstance(e)).toBe(false);
    }
  });
});

describe('ERROR_CODES', () => {
  it('are unique and start with ERR_DCN', () => {
    const codes = Object.values(ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_DCN/);
  });
});
