// SPDX-License-Identifier: MIT
// Formatting of shapes and values for error messages. Nothing here throws; the checks are elsewhere.

/** Most array elements {@link formatValue} prints before eliding the rest. */
const MAX_ARRAY_ITEMS = 16;

/**
 * Formats a shape or any list of numbers as `[2, 18, 8, 8]`.
 *
 * @example
 * ```ts
 * formatShape([2, 18, 8, 8]); // "[2, 18, 8, 8]"
 * formatShape([]);            // "[]"
 * ```
 */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.map(formatNumber).join(', ')}]`;
}

/** Formats a number, keeping `-0` visible. */
function formatNumber(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Formats a value without its type suffix (used for array elements). */
function formatBare(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'number':
      return formatNumber(value);
    case 'string':
      return `'${value}'`;
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return value.name ? `function ${value.name}` : 'function';
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (depth > 2) return '[...]';
    const items = value.slice(0, MAX_ARRAY_ITEMS).map((item: unknown) => formatBare(item, depth + 1));
    if (value.length > MAX_ARRAY_ITEMS) items.push(`... ${value.length - MAX_ARRAY_ITEMS} more`);
    return `[${items.join(', ')}]`;
  }
  const name = constructorName(value as object);
  if (ArrayBuffer.isView(value) && 'length' in value) {
    return `${name}(${String((value as { length: unknown }).length)})`;
  }
  return name === 'Object' ? '{...}' : `${name} {...}`;
}

/** The constructor name of an object, or `'Object'`. */
function constructorName(value: object): string {
  const ctor: unknown = (value as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'Object';
}

/** The type word printed after a value. */
function typeWord(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && value !== null) {
    const name = constructorName(value);
    return name === 'Object' ? 'object' : name;
  }
  return typeof value;
}

/**
 * Formats any value for the "but got ..." part of a message: the value followed by its type in
 * parentheses. `null` and `undefined` are printed alone.
 *
 * @example
 * ```ts
 * formatValue(-1);     // "-1 (number)"
 * formatValue(NaN);    // "NaN (number)"
 * formatValue('abc');  // "'abc' (string)"
 * formatValue([1, 2]); // "[1, 2] (array)"
 * formatValue(null);   // "null"
 * ```
 */
export function formatValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return `${formatBare(value, 0)} (${typeWord(value)})`;
}

/**
 * The prefix of every message: `deformConv2d(): `, or nothing when `op` is empty.
 * Constructors pass `'new DeformConv2d'`.
 */
export function formatOpPrefix(op: string): string {
  return op ? `${op}(): ` : '';
}

/**
 * Builds a message in the project's grammar (style.md §9.9): `<op>(): expected <requirement>, but got <actual>`.
 *
 * @example
 * ```ts
 * formatExpected('deformConv2d', 'groups to be a positive integer', formatValue(0));
 * // "deformConv2d(): expected groups to be a positive integer, but got 0 (number)"
 * ```
 */
export function formatExpected(op: string, requirement: string, actual: string): string {
  return `${formatOpPrefix(op)}expected ${requirement}, but got ${actual}`;
}
