// SPDX-License-Identifier: MIT
// The one place where errors thrown by the addon become the library's classes. Native code throws plain
// JS errors carrying an `ERR_DCN_*` code (native/src/napi/errors.h); wrapping the binding once, where it
// is loaded, means every native call site throws a DcnError subclass with the same code.

import {
  DcnError,
  DTypeMismatchError,
  ERROR_CODES,
  InvalidArgumentError,
  NotImplementedError,
  OutOfMemoryError,
  ShapeMismatchError,
} from '@tvdcn/shape';

/** The argument a native message names: `... expected <name> to ...` or `<name> must ...`, else `'arguments'`. */
function argumentOf(message: string): string {
  const m =
    /expected (?:the )?([A-Za-z_][\w.]*)/.exec(message) ??
    /^(?:[\w.]+\(\): )?([A-Za-z_][\w.]*) (?:must|is|has)/.exec(message);
  return m?.[1] ?? 'arguments';
}

/**
 * @internal Maps an error thrown by a native function to the library's class for its `code`
 * (`ERR_DCN_INVALID_ARGUMENT` → {@link InvalidArgumentError}, ...). DcnErrors pass unchanged; anything
 * else (a message without a code, e.g. from a detached buffer) becomes a {@link DcnError} with code
 * `'ERR_DCN'`. The original error is kept as `cause`.
 */
export function fromNativeError(error: unknown): DcnError {
  if (DcnError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const options = { cause: error };
  switch (code) {
    case ERROR_CODES.InvalidArgumentError:
      return new InvalidArgumentError(message, argumentOf(message), options);
    case ERROR_CODES.ShapeMismatchError:
      return new ShapeMismatchError(message, options);
    case ERROR_CODES.DTypeMismatchError:
      return new DTypeMismatchError(message, options);
    case ERROR_CODES.NotImplementedError:
      return new NotImplementedError(message, options);
    case ERROR_CODES.OutOfMemoryError:
      return new OutOfMemoryError(message, options);
    default:
      if (error instanceof RangeError && /allocation failed|out of memory/i.test(message)) {
        return new OutOfMemoryError(message, options);
      }
      return new DcnError(message, ERROR_CODES.DcnError, options);
  }
}

/**
 * @internal A copy of `binding` whose functions throw {@link fromNativeError} of whatever the native
 * function throws. Non-function properties are copied as they are.
 */
export function withTypedErrors<T extends object>(binding: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(binding)) {
    const value = (binding as Record<string, unknown>)[key];
    if (typeof value !== 'function') {
      out[key] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    out[key] = function (this: unknown, ...args: unknown[]): unknown {
      try {
        return fn.apply(binding, args);
      } catch (e) {
        throw fromNativeError(e);
      }
    };
  }
  return out as T;
}
