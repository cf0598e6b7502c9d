// SPDX-License-Identifier: MIT
// Padding arguments of the layers: 'same' | 'valid' | number(s) → per-side amounts, and the padding modes
// (PyTorch `_ConvNd`, tvdcn-reference §7.1). The functional ops take numbers only.

import { InvalidArgumentError } from './errors.js';
import { formatExpected, formatOpPrefix, formatShape, formatValue } from './format.js';
import type { IntOrTuple } from './ntuple.js';
import { intTuple } from './validate.js';

/** The padding modes of the layers, as PyTorch's `padding_mode`. */
export const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'] as const;

/** One of {@link PADDING_MODES}. */
export type PaddingMode = (typeof PADDING_MODES)[number];

/** The padding strings of PyTorch layers. */
export type PaddingString = 'same' | 'valid';

/** A layer's `padding` option: symmetric amounts, or `'same'` / `'valid'`. */
export type PaddingArg = IntOrTuple | PaddingString;

/** Result of {@link resolvePadding}. */
export interface ResolvedPadding {
  /** Symmetric padding to pass to the op: equal to `left` (for `'same'` with an odd total, add the extra right side yourself). */
  padding: number[];
  /** Padding before each spatial dimension. */
  left: number[];
  /** Padding after each spatial dimension. */
  right: number[];
  /** True when `left` equals `right` in every dimension. */
  symmetric: boolean;
  /** `[left, right]` pairs, last dimension first: the argument of a `pad()` call (PyTorch `_reversed_padding_repeated_twice`). */
  reversedPaddingRepeatedTwice: number[];
}

/**
 * Resolves a layer's `padding` into per-side amounts.
 *
 * - a number or an array of 1 or `n` non-negative integers: symmetric padding;
 * - `'valid'`: no padding;
 * - `'same'`: output size = input size; per dimension `total = dilation * (kernel - 1)`,
 *   `left = floor(total / 2)`, `right = total - left` (PyTorch). Only for stride 1.
 *
 * @param op - public op name, the message prefix (e.g. `'new DeformConv2d'`)
 * @param padding - the padding argument
 * @param kernel - kernel size(s)
 * @param dilation - dilation(s)
 * @param stride - stride(s)
 * @param n - number of spatial dimensions
 * @throws {@link InvalidArgumentError} for an unknown string, invalid numbers, or `'same'` with a stride other
 *   than 1 (`padding='same' is not supported for strided convolutions`)
 *
 * @example
 * ```ts
 * resolvePadding('new DeformConv2d', 'same', [3, 4], 1, 1, 2);
 * // { padding: [1, 1], left: [1, 1], right: [1, 2], symmetric: false, reversedPaddingRepeatedTwice: [1, 2, 1, 1] }
 * ```
 */
export function resolvePadding(
  op: string,
  padding: PaddingArg,
  kernel: IntOrTuple,
  dilation: IntOrTuple,
  stride: IntOrTuple,
  n: number,
): ResolvedPadding {
  let left: number[];
  let right: number[];
  if (padding === 'valid') {
    left = new Array<number>(n).fill(0);
    right = new Array<number>(n).fill(0);
  } else if (padding === 'same') {
    const s = intTuple(op, 'stride', stride, n, { min: 1 });
    if (s.some((value) => value !== 1)) {
      throw new InvalidArgumentError(
        `${formatOpPrefix(op)}padding='same' is not supported for strided convolutions: ` +
          `expected stride to be 1, but got ${formatShape(s)}`,
        'padding',
      );
    }
    const k = intTuple(op, 'kernelSize', kernel, n, { min: 1 });
    const d = intTuple(op, 'dilation', dilation, n, { min: 1 });
    const total = k.map((size, i) => d[i] * (size - 1));
    left = total.map((t) => Math.floor(t / 2));
    right = total.map((t, i) => t - left[i]);
  } else if (typeof padding === 'string') {
    throw new InvalidArgumentError(
      formatExpected(
        op,
        `padding to be 'same', 'valid', a non-negative integer or an array of ${n} non-negative integers`,
        formatValue(padding),
      ),
      'padding',
    );
  } else {
    left = intTuple(op, 'padding', padding, n, { min: 0 });
    right = [...left];
  }
  const reversedPaddingRepeatedTwice: number[] = [];
  for (let i = n - 1; i >= 0; i--) reversedPaddingRepeatedTwice.push(left[i], right[i]);
  return {
    padding: [...left],
    left,
    right,
    symmetric: left.every((value, i) => value === right[i]),
    reversedPaddingRepeatedTwice,
  };
}

/** True when `value` is one of {@link PADDING_MODES}. */
export function isPaddingMode(value: unknown): value is PaddingMode {
  return typeof value === 'string' && (PADDING_MODES as readonly string[]).includes(value);
}

/**
 * Checks a layer's `paddingMode`.
 *
 * @returns `mode`
 * @throws {@link InvalidArgumentError}
 *   `<op>(): expected paddingMode to be one of 'zeros', 'reflect', 'replicate', 'circular', but got 'foo' (string)`
 */
export function checkPaddingMode(op: string, mode: unknown): PaddingMode {
  if (isPaddingMode(mode)) return mode;
  throw new InvalidArgumentError(
    formatExpected(op, `paddingMode to be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}`, formatValue(mode)),
    'paddingMode',
  );
}
