// SPDX-License-Identifier: MIT
// Broadcasting of `number | number[]` hyper-parameters to one value per spatial dimension, like
// torchvision's `_pair` and tvdcn's ntuple.h. Types and lengths only: validate.ts checks the values.

import { InvalidArgumentError } from './errors.js';
import { formatExpected, formatValue } from './format.js';
import { copyItems, everyItem } from './validate.js';

/** A hyper-parameter given as one number for every dimension, or one number per dimension. */
export type IntOrTuple = number | readonly number[];

/**
 * Turns a number, or an array of 1 or `n` numbers, into an array of exactly `n` numbers.
 * A number and a one-element array are broadcast; an `n`-element array is copied.
 *
 * Only the type and the length are checked: NaN, fractional or negative numbers pass through
 * (use {@link intTuple} to validate the values too).
 *
 * @param x - the value to broadcast
 * @param n - the number of dimensions (a non-negative integer)
 * @param argName - public name of the argument, used in the message (default `'value'`)
 * @param op - public op name used as the message prefix (default: no prefix)
 * @returns a new array of length `n`
 * @throws {@link InvalidArgumentError} (the counterpart of PyTorch's `TypeError`, naming the argument) when
 *   `x` is neither a number nor an array of 1 or `n` numbers
 *
 * @example
 * ```ts
 * ntuple(3, 2);      // [3, 3]
 * ntuple([3], 3);    // [3, 3, 3]
 * ntuple([1, 2], 2); // [1, 2]
 * ntuple([1, 2], 3, 'stride'); // throws: expected stride to be a number or an array of 1 or 3 numbers, ...
 * ```
 */
export function ntuple(x: IntOrTuple, n: number, argName = 'value', op = ''): number[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(formatExpected(op, 'n to be a non-negative integer', formatValue(n)), 'n');
  }
  if (typeof x === 'number') return new Array<number>(n).fill(x);
  if (Array.isArray(x) && (x.length === 1 || x.length === n) && everyItem(x, (item) => typeof item === 'number')) {
    return x.length === n ? copyItems(x as readonly number[]) : new Array<number>(n).fill(x[0] as number);
  }
  const lengths = n === 1 ? '1' : `1 or ${n}`;
  const noun = n === 1 ? 'number' : 'numbers';
  throw new InvalidArgumentError(
    formatExpected(op, `${argName} to be a number or an array of ${lengths} ${noun}`, formatValue(x)),
    argName,
  );
}

/**
 * {@link ntuple} with `n = 1` (PyTorch `_single`).
 * @throws {@link InvalidArgumentError} as {@link ntuple}
 */
export function single(x: IntOrTuple, argName = 'value', op = ''): [number] {
  return ntuple(x, 1, argName, op) as [number];
}

/**
 * {@link ntuple} with `n = 2` (PyTorch `_pair`).
 * @example `pair(3)` → `[3, 3]`
 * @throws {@link InvalidArgumentError} as {@link ntuple}
 */
export function pair(x: IntOrTuple, argName = 'value', op = ''): [number, number] {
  return ntuple(x, 2, argName, op) as [number, number];
}

/**
 * {@link ntuple} with `n = 3` (PyTorch `_triple`).
 * @example `triple([1, 2, 3])` → `[1, 2, 3]`
 * @throws {@link InvalidArgumentError} as {@link ntuple}
 */
export function triple(x: IntOrTuple, argName = 'value', op = ''): [number, number, number] {
  return ntuple(x, 3, argName, op) as [number, number, number];
}
