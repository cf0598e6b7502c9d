// SPDX-License-Identifier: MIT
// The error classes of every tvdcn package, each with a stable `code`. Only the classes live here;
// the messages are built where the checks are (see style.md §9.9 for the message grammar).

const DCN_ERROR_MARKER = 'tvdcn.error';

/** Options accepted by every error constructor (the standard `cause`). */
export interface DcnErrorOptions {
  /** The error that caused this one, if any. */
  cause?: unknown;
}

/** Stable `code` values of the tvdcn error classes. */
export const ERROR_CODES = {
  /** A generic {@link DcnError}. */
  DcnError: 'ERR_DCN',
  /** {@link InvalidArgumentError}: a bad hyper-parameter or argument value. */
  InvalidArgumentError: 'ERR_DCN_INVALID_ARGUMENT',
  /** {@link ShapeMismatchError}: tensor shapes that do not fit together. */
  ShapeMismatchError: 'ERR_DCN_SHAPE_MISMATCH',
  /** {@link DeviceMismatchError}: tensors on different devices. */
  DeviceMismatchError: 'ERR_DCN_DEVICE_MISMATCH',
  /** {@link DTypeMismatchError}: tensors of different dtypes. */
  DTypeMismatchError: 'ERR_DCN_DTYPE_MISMATCH',
  /** {@link DisposedTensorError}: use of a disposed tensor. */
  DisposedTensorError: 'ERR_DCN_DISPOSED',
  /** {@link NotImplementedError}: a combination that is not supported. */
  NotImplementedError: 'ERR_DCN_NOT_IMPLEMENTED',
  /** {@link NativeLoadError}: the native binary could not be loaded. */
  NativeLoadError: 'ERR_DCN_NATIVE_LOAD',
  /** {@link OutOfMemoryError}: memory for a tensor or native scratch could not be allocated. */
  OutOfMemoryError: 'ERR_DCN_OUT_OF_MEMORY',
} as const;

/** Any of the stable error codes in {@link ERROR_CODES}. */
export type DcnErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** `Symbol.for` key of the marker a given error class sets on its instances. */
function markerOf(className: string): symbol {
  return className === 'DcnError' ? Symbol.for(DCN_ERROR_MARKER) : Symbol.for(`${DCN_ERROR_MARKER}.${className}`);
}

/** Sets a non-enumerable `true` marker property. */
function mark(target: object, className: string): void {
  Object.defineProperty(target, markerOf(className), {
    value: true,
    enumerable: false,
    writable: false,
    configurable: false,
  });
}

/** True when `value` is an object carrying the marker of `className`. */
function hasMarker(value: unknown, className: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[markerOf(className)] === true
  );
}

/**
 * Base class of every error thrown by the tvdcn packages.
 *
 * Prefer {@link DcnError.isInstance} over `instanceof`: it tests a `Symbol.for('tvdcn.error')` marker, so it
 * also recognises errors thrown by another copy of the package (two versions installed side by side, or the
 * ESM and CJS builds loaded together).
 *
 * @example
 * ```ts
 * try { checkDeformConvArgs('deformConv2d', 2, shapes); }
 * catch (e) { if (DcnError.isInstance(e)) console.log(e.code); }
 * ```
 */
export class DcnError extends Error {
  /** Stable, machine-readable error code, e.g. `'ERR_DCN_SHAPE_MISMATCH'`. */
  readonly code: string;

  /**
   * @param message - the full message, `<op>(): expected <requirement>, but got <actual>`
   * @param code - the stable code (subclasses pass their own; default `'ERR_DCN'`)
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, code: string = ERROR_CODES.DcnError, options?: DcnErrorOptions) {
    super(message, options);
    this.name = 'DcnError';
    this.code = code;
    mark(this, 'DcnError');
  }

  /** True when `error` is a {@link DcnError} (or subclass), from any copy of this package. */
  static isInstance(error: unknown): error is DcnError {
    return hasMarker(error, 'DcnError');
  }
}

/**
 * A bad argument value: a hyper-parameter that is NaN, fractional, negative, of the wrong type or an array
 * of the wrong length. Thrown where PyTorch would raise `TypeError`/`ValueError` (this class extends
 * {@link DcnError}, which extends `Error`; it is not a `TypeError`).
 *
 * Code: `'ERR_DCN_INVALID_ARGUMENT'`.
 */
export class InvalidArgumentError extends DcnError {
  /** Public name of the offending argument, e.g. `'stride'`. */
  readonly argument: string;

  /**
   * @param message - the full message
   * @param argument - public (camelCase) name of the offending argument
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, argument: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.InvalidArgumentError, options);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
    mark(this, 'InvalidArgumentError');
  }

  /** True when `error` is an {@link InvalidArgumentError}, from any copy of this package. */
  static override isInstance(error: unknown): error is InvalidArgumentError {
    return hasMarker(error, 'InvalidArgumentError');
  }
}

/**
 * Tensor shapes that do not fit together (wrong rank, channel counts, spatial sizes, an output size that is
 * not positive). Code: `'ERR_DCN_SHAPE_MISMATCH'`.
 */
export class ShapeMismatchError extends DcnError {
  /**
   * @param message - the full message
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.ShapeMismatchError, options);
    this.name = 'ShapeMismatchError';
    mark(this, 'ShapeMismatchError');
  }

  /** True when `error` is a {@link ShapeMismatchError}, from any copy of this package. */
  static override isInstance(error: unknown): error is ShapeMismatchError {
    return hasMarker(error, 'ShapeMismatchError');
  }
}

/** The inputs of an op live on different devices. Code: `'ERR_DCN_DEVICE_MISMATCH'`. */
export class DeviceMismatchError extends DcnError {
  /**
   * @param message - the full message
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.DeviceMismatchError, options);
    this.name = 'DeviceMismatchError';
    mark(this, 'DeviceMismatchError');
  }

  /** True when `error` is a {@link DeviceMismatchError}, from any copy of this package. */
  static override isInstance(error: unknown): error is DeviceMismatchError {
    return hasMarker(error, 'DeviceMismatchError');
  }
}

/** The inputs of an op have different dtypes. Code: `'ERR_DCN_DTYPE_MISMATCH'`. */
export class DTypeMismatchError extends DcnError {
  /**
   * @param message - the full message
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.DTypeMismatchError, options);
    this.name = 'DTypeMismatchError';
    mark(this, 'DTypeMismatchError');
  }

  /** True when `error` is a {@link DTypeMismatchError}, from any copy of this package. */
  static override isInstance(error: unknown): error is DTypeMismatchError {
    return hasMarker(error, 'DTypeMismatchError');
  }
}

/** A tensor was used after `dispose()`. Code: `'ERR_DCN_DISPOSED'`. */
export class DisposedTensorError extends DcnError {
  /**
   * @param message - the full message; name the next step (e.g. "call keep() on it inside tidy()")
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.DisposedTensorError, options);
    this.name = 'DisposedTensorError';
    mark(this, 'DisposedTensorError');
  }

  /** True when `error` is a {@link DisposedTensorError}, from any copy of this package. */
  static override isInstance(error: unknown): error is DisposedTensorError {
    return hasMarker(error, 'DisposedTensorError');
  }
}

/**
 * A combination that is not implemented (double backward, half precision on CPU, ...).
 * Code: `'ERR_DCN_NOT_IMPLEMENTED'`.
 */
export class NotImplementedError extends DcnError {
  /**
   * @param message - the full message
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.NotImplementedError, options);
    this.name = 'NotImplementedError';
    mark(this, 'NotImplementedError');
  }

  /** True when `error` is a {@link NotImplementedError}, from any copy of this package. */
  static override isInstance(error: unknown): error is NotImplementedError {
    return hasMarker(error, 'NotImplementedError');
  }
}

/** The native binary could not be loaded. Code: `'ERR_DCN_NATIVE_LOAD'`. */
export class NativeLoadError extends DcnError {
  /**
   * @param message - the full (multi-line) message, ending with `Possible solutions:`
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.NativeLoadError, options);
    this.name = 'NativeLoadError';
    mark(this, 'NativeLoadError');
  }

  /** True when `error` is a {@link NativeLoadError}, from any copy of this package. */
  static override isInstance(error: unknown): error is NativeLoadError {
    return hasMarker(error, 'NativeLoadError');
  }
}

/**
 * Memory for a tensor (or for native scratch) could not be allocated: more elements than one typed array
 * can hold, or the host or the GPU is out of memory. Like PyTorch's `torch.OutOfMemoryError`, the call can
 * be retried with smaller inputs. Code: `'ERR_DCN_OUT_OF_MEMORY'`.
 */
export class OutOfMemoryError extends DcnError {
  /**
   * @param message - the full message, naming what was being allocated and how large it was
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, options?: DcnErrorOptions) {
    super(message, ERROR_CODES.OutOfMemoryError, options);
    this.name = 'OutOfMemoryError';
    mark(this, 'OutOfMemoryError');
  }

  /** True when `error` is an {@link OutOfMemoryError}, from any copy of this package. */
  static override isInstance(error: unknown): error is OutOfMemoryError {
    return hasMarker(error, 'OutOfMemoryError');
  }
}
