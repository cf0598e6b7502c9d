// SPDX-License-Identifier: MIT
// Predicates and `expect*` checks for hyper-parameters and shapes. Each `expect*` returns the checked value
// or throws an InvalidArgumentError whose message names the op, the argument, the requirement and the value.

import { InvalidArgumentError } from './errors.js';
import { formatExpected, formatValue } from './format.js';

/**
 * True for a safe integer: a number without fractional part whose magnitude is at most
 * `Number.MAX_SAFE_INTEGER` (so not NaN, not ±Infinity, not 1e300), the range where sizes and their
 * products stay exact.
 */
export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * @internal True when `value` is an array and `test` holds for each of its `length` elements, holes
 * included (`Array.prototype.every` skips holes, so `[1, , 2]` would pass it).
 */
export function everyItem(value: unknown, test: (item: unknown) => boolean): value is unknown[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (!test(value[i])) return false;
  return true;
}

/**
 * @internal A plain copy of an array's elements read by index (spread and `Array.from` would call a
 * user-supplied `Symbol.iterator`).
 */
export function copyItems<T>(value: readonly T[]): T[] {
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) out[i] = value[i] as T;
  return out;
}

/**
 * @internal The product of `shape`, or `null` when the product (or any factor) is not a safe integer.
 * Checked before allocating anything of that size.
 */
export function safeProduct(shape: readonly number[]): number | null {
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    n *= shape[i] as number;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** True for an integer `> 0`. */
export function isPositiveInteger(value: unknown): value is number {
  return isInteger(value) && value > 0;
}

/** True for an integer `>= 0`. */
export function isNonNegativeInteger(value: unknown): value is number {
  return isInteger(value) && value >= 0;
}

/** True for a finite number `> 0`. */
export function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/**
 * True for a shape: an array of non-negative integers.
 * @example `isShape([2, 3, 0])` → `true`; `isShape([2, -1])` → `false`
 */
export function isShape(value: unknown): value is readonly number[] {
  return everyItem(value, isNonNegativeInteger);
}

/** Phrases for a lower bound: `[singular, plural]`, e.g. `['a positive integer', 'positive integers']`. */
function describeIntegers(min: number | undefined): [string, string] {
  if (min === undefined) return ['an integer', 'integers'];
  if (min === 1) return ['a positive integer', 'positive integers'];
  if (min === 0) return ['a non-negative integer', 'non-negative integers'];
  return [`an integer >= ${min}`, `integers >= ${min}`];
}

/** True for an integer that is at least `min` (when given). */
function isIntegerAtLeast(value: unknown, min: number | undefined): value is number {
  return isInteger(value) && (min === undefined || value >= min);
}

/** Shared body of the scalar `expect*Integer` checks. */
function expectIntegerAtLeast(op: string, argument: string, value: unknown, min: number | undefined): number {
  if (isIntegerAtLeast(value, min)) return value;
  const [singular] = describeIntegers(min);
  throw new InvalidArgumentError(formatExpected(op, `${argument} to be ${singular}`, formatValue(value)), argument);
}

/**
 * Checks that `value` is an integer (rejects NaN, ±Infinity, fractions and non-numbers).
 *
 * @param op - public op name, the message prefix (e.g. `'deformConv2d'`; `''` for none)
 * @param argument - public name of the argument (e.g. `'groups'`)
 * @param value - the value to check
 * @returns `value`
 * @throws {@link InvalidArgumentError} `<op>(): expected <argument> to be an integer, but got 1.5 (number)`
 */
export function expectInteger(op: string, argument: string, value: unknown): number {
  return expectIntegerAtLeast(op, argument, value, undefined);
}

/**
 * Checks that `value` is an integer `> 0`.
 *
 * @returns `value`
 * @throws {@link InvalidArgumentError} `<op>(): expected <argument> to be a positive integer, but got 0 (number)`
 * @example `expectPositiveInteger('deformConv2d', 'groups', 2)` → `2`
 */
export function expectPositiveInteger(op: string, argument: string, value: unknown): number {
  return expectIntegerAtLeast(op, argument, value, 1);
}

/**
 * Checks that `value` is an integer `>= 0`.
 *
 * @returns `value`
 * @throws {@link InvalidArgumentError} `<op>(): expected <argument> to be a non-negative integer, but got -1 (number)`
 */
export function expectNonNegativeInteger(op: string, argument: string, value: unknown): number {
  return expectIntegerAtLeast(op, argument, value, 0);
}

/**
 * Checks that `value` is a finite number `> 0`.
 *
 * @returns `value`
 * @throws {@link InvalidArgumentError} `<op>(): expected <argument> to be a positive number, but got 0 (number)`
 */
export function expectPositiveNumber(op: string, argument: string, value: unknown): number {
  if (isPositiveNumber(value)) return value;
  throw new InvalidArgumentError(
    formatExpected(op, `${argument} to be a positive number`, formatValue(value)),
    argument,
  );
}

/**
 * Checks that `value` is a shape (an array of non-negative integers) and returns a copy.
 *
 * @param argument - what the shape belongs to, e.g. `'input'` (printed as `input.shape`)
 * @throws {@link InvalidArgumentError} `<op>(): expected input.shape to be an array of non-negative integers, but got ...`
 */
export function expectShape(op: string, argument: string, value: unknown): number[] {
  if (isShape(value)) return copyItems(value);
  throw new InvalidArgumentError(
    formatExpected(op, `${argument}.shape to be an array of non-negative integers`, formatValue(value)),
    argument,
  );
}

/** Options of {@link intTuple}. */
export interface IntTupleOptions {
  /** Smallest allowed value (inclusive): `1` for positive, `0` for non-negative; no bound when omitted. */
  min?: number;
}

/**
 * Broadcasts `value` to `n` integers (as {@link ntuple}) and checks each of them, with one message for every
 * failure (wrong type, wrong length, NaN, fraction, below `min`) that shows the whole value.
 *
 * @param op - public op name, the message prefix
 * @param argument - public name of the argument, e.g. `'stride'`
 * @param value - a number, or an array of 1 (broadcast) or `n` numbers
 * @param n - the number of spatial dimensions
 * @param options - `{ min }`: `1` for positive integers, `0` for non-negative integers
 * @returns a new array of `n` integers
 * @throws {@link InvalidArgumentError}
 *   `deformConv2d(): expected stride to be a positive integer or an array of 2 positive integers, but got -1 (number)`
 *
 * @example
 * ```ts
 * intTuple('deformConv2d', 'stride', 2, 2, { min: 1 });      // [2, 2]
 * intTuple('deformConv2d', 'padding', [1, 0], 2, { min: 0 }); // [1, 0]
 * ```
 */
export function intTuple(
  op: string,
  argument: string,
  value: unknown,
  n: number,
  options: IntTupleOptions = {},
): number[] {
  const { min } = options;
  if (isIntegerAtLeast(value, min)) return new Array<number>(n).fill(value);
  if (
    Array.isArray(value) &&
    (value.length === 1 || value.length === n) &&
    everyItem(value, (item) => isIntegerAtLeast(item, min))
  ) {
    return value.length === n ? copyItems(value as number[]) : new Array<number>(n).fill(value[0] as number);
  }
  const [singular, plural] = describeIntegers(min);
  const arrayPart = n === 1 ? `an array of 1 ${singular.replace(/^an? /, '')}` : `an array of ${n} ${plural}`;
  throw new InvalidArgumentError(
    formatExpected(op, `${argument} to be ${singular} or ${arrayPart}`, formatValue(value)),
    argument,
  );
}
