// SPDX-License-Identifier: MIT
// Formatting of shapes and values for error messages. Nothing here throws, whatever the value (arrays with
// an odd `constructor`, throwing getters, revoked proxies): the checks are elsewhere.

/** Most array elements {@link formatValue} prints before eliding the rest. */
const MAX_ARRAY_ITEMS = 16;
/** Most characters of a string {@link formatValue} prints. */
const MAX_STRING_CHARS = 64;

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
  try {
    return formatBare(shape, 0);
  } catch {
    return '[?]';
  }
}

/** The elements of an array-like, read by index (never through `map`/`slice`, which call `constructor`). */
function formatItems(value: ArrayLike<unknown>, depth: number): string {
  const length = value.length;
  const items: string[] = [];
  for (let i = 0; i < Math.min(length, MAX_ARRAY_ITEMS); i++) items.push(formatBare(value[i], depth + 1));
  if (length > MAX_ARRAY_ITEMS) items.push(`... ${length - MAX_ARRAY_ITEMS} more`);
  return `[${items.join(', ')}]`;
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
      return value.length > MAX_STRING_CHARS
        ? `'${value.slice(0, MAX_STRING_CHARS)}...' (${value.length} chars)`
        : `'${value}'`;
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function': {
      const name: unknown = Object.getOwnPropertyDescriptor(value, 'name')?.value;
      return typeof name === 'string' && name ? `function ${name}` : 'function';
    }
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (depth > 2) return '[...]';
    return formatItems(value, depth);
  }
  const name = constructorName(value as object);
  if (ArrayBuffer.isView(value) && 'length' in value) {
    return `${name}(${String((value as { length: unknown }).length)})`;
  }
  return name === 'Object' ? '{...}' : `${name} {...}`;
}

/** The constructor name of an object, or `'Object'`; never runs getters of `value` or its constructor. */
function constructorName(value: object): string {
  let ctor: unknown;
  for (let o: object | null = value; o !== null && ctor === undefined; o = Object.getPrototypeOf(o)) {
    ctor = Object.getOwnPropertyDescriptor(o, 'constructor')?.value;
  }
  if (typeof ctor !== 'function') return 'Object';
  const name: unknown = Object.getOwnPropertyDescriptor(ctor, 'name')?.value;
  return typeof name === 'string' && name ? name : 'Object';
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
  try {
    return `${formatBare(value, 0)} (${typeWord(value)})`;
  } catch {
    // A proxy trap or a getter threw (a revoked proxy, a length getter): name the type only.
    return `a value that cannot be read (${typeof value})`;
  }
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
