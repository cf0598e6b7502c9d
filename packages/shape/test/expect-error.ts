// SPDX-License-Identifier: MIT
// Test helper: run a function, and assert the error class, its code, and the message text.

import { expect } from 'vitest';
import { DcnError } from '../src/errors.js';

/** An error class of this package, as a value. */
export interface DcnErrorClass<E extends DcnError> {
  new (...args: never[]): E;
  isInstance(error: unknown): error is E;
}

/**
 * Calls `fn`, expects it to throw an instance of `cls` with `code`, whose message matches `pattern`,
 * and checks the message grammar (one line, no final period). Returns the error for further checks.
 */
export function expectDcnError<E extends DcnError>(
  fn: () => unknown,
  cls: DcnErrorClass<E>,
  code: string,
  pattern: RegExp,
): E {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (error) {
    threw = true;
    caught = error;
  }
  expect(threw, 'expected the call to throw').toBe(true);
  expect(caught).toBeInstanceOf(cls);
  expect(cls.isInstance(caught)).toBe(true);
  expect(DcnError.isInstance(caught)).toBe(true);
  const error = caught as E;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(pattern);
  expect(error.message).not.toMatch(/\n/);
  expect(error.message).not.toMatch(/\.$/);
  return error;
}
