// SPDX-License-Identifier: MIT
// Output sizes of (transposed) convolutions, and the transposed `outputSize` → `outputPadding` rule
// (tvdcn-reference §3.1, §3.5, §7.3). Sizes use floor division, as PyTorch does.

import { InvalidArgumentError } from './errors.js';
import { formatExpected, formatOpPrefix, formatShape, formatValue } from './format.js';
import { type IntOrTuple, ntuple } from './ntuple.js';
import { everyItem, intTuple, isNonNegativeInteger } from './validate.js';

/** Broadcasts the hyper-parameters of a size computation to the kind of `inSize`. */
function broadcastArgs(
  fn: string,
  inSize: number | readonly number[],
  args: ReadonlyArray<readonly [string, IntOrTuple]>,
): { scalar: boolean; inSize: number[]; args: number[][] } {
  if (typeof inSize === 'number') {
    for (const [name, value] of args) {
      if (typeof value !== 'number') {
        throw new InvalidArgumentError(
          formatExpected(fn, `${name} to be a number when inSize is a number`, formatValue(value)),
          name,
        );
      }
    }
    return { scalar: true, inSize: [inSize], args: args.map(([, value]) => [value as number]) };
  }
  if (!Array.isArray(inSize)) {
    throw new InvalidArgumentError(
      formatExpected(fn, 'inSize to be a number or an array of numbers', formatValue(inSize)),
      'inSize',
    );
  }
  const n = inSize.length;
  return {
    scalar: false,
    inSize: ntuple(inSize, n, 'inSize', fn),
    args: args.map(([name, value]) => ntuple(value, n, name, fn)),
  };
}

/**
 * Output size of a convolution along each spatial dimension (PyTorch's rule, floor division):
 * `out = floor((in + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1`.
 *
 * Pass numbers to get a number, or arrays (one entry per spatial dimension; numbers and one-element arrays
 * are broadcast) to get an array. The values are not validated and the result may be `<= 0`:
 * {@link checkDeformConvArgs} does the checking.
 *
 * @param inSize - input spatial size(s)
 * @param kernel - kernel size(s)
 * @param stride - (default 1)
 * @param padding - (default 0)
 * @param dilation - (default 1)
 * @throws {@link InvalidArgumentError} when the arrays have different lengths, or `inSize` is a number and
 *   another argument is an array
 *
 * @example
 * ```ts
 * convOutputSize(10, 3);                      // 8
 * convOutputSize([5, 6], [2, 3], [1, 2], [0, 1], [1, 2]); // [4, 2]
 * ```
 */
export function convOutputSize(
  inSize: number,
  kernel: number,
  stride?: number,
  padding?: number,
  dilation?: number,
): number;
export function convOutputSize(
  inSize: readonly number[],
  kernel: IntOrTuple,
  stride?: IntOrTuple,
  padding?: IntOrTuple,
  dilation?: IntOrTuple,
): number[];
export function convOutputSize(
  inSize: number | readonly number[],
  kernel: IntOrTuple,
  stride: IntOrTuple = 1,
  padding: IntOrTuple = 0,
  dilation: IntOrTuple = 1,
): number | number[] {
  const b = broadcastArgs('convOutputSize', inSize, [
    ['kernel', kernel],
    ['stride', stride],
    ['padding', padding],
    ['dilation', dilation],
  ]);
  const [k, s, p, d] = b.args as [number[], number[], number[], number[]];
  const out = b.inSize.map((size, i) => Math.floor((size + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i]) + 1);
  return b.scalar ? (out[0] as number) : out;
}

/**
 * Output size of a transposed convolution along each spatial dimension (PyTorch's rule):
 * `out = (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1 + outputPadding`.
 *
 * Numbers give a number, arrays an array (as {@link convOutputSize}). Values are not validated.
 *
 * @param inSize - input spatial size(s)
 * @param kernel - kernel size(s)
 * @param stride - (default 1)
 * @param padding - (default 0)
 * @param outputPadding - (default 0)
 * @param dilation - (default 1)
 * @throws {@link InvalidArgumentError} when the arrays have different lengths
 *
 * @example
 * ```ts
 * convTransposeOutputSize(2, 3, 2);                             // 5
 * convTransposeOutputSize([4, 2], [2, 3], [1, 2], [0, 1], [0, 1], [1, 2]); // [5, 6]
 * ```
 */
export function convTransposeOutputSize(
  inSize: number,
  kernel: number,
  stride?: number,
  padding?: number,
  outputPadding?: number,
  dilation?: number,
): number;
export function convTransposeOutputSize(
  inSize: readonly number[],
  kernel: IntOrTuple,
  stride?: IntOrTuple,
  padding?: IntOrTuple,
  outputPadding?: IntOrTuple,
  dilation?: IntOrTuple,
): number[];
export function convTransposeOutputSize(
  inSize: number | readonly number[],
  kernel: IntOrTuple,
  stride: IntOrTuple = 1,
  padding: IntOrTuple = 0,
  outputPadding: IntOrTuple = 0,
  dilation: IntOrTuple = 1,
): number | number[] {
  const b = broadcastArgs('convTransposeOutputSize', inSize, [
    ['kernel', kernel],
    ['stride', stride],
    ['padding', padding],
    ['outputPadding', outputPadding],
    ['dilation', dilation],
  ]);
  const [k, s, p, op, d] = b.args as [number[], number[], number[], number[], number[]];
  const out = b.inSize.map((size, i) => (size - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 + op[i]);
  return b.scalar ? (out[0] as number) : out;
}

/**
 * The `outputSize` → `outputPadding` rule of a transposed convolution (PyTorch `_ConvTransposeNd._output_padding`,
 * tvdcn-reference §7.3).
 *
 * `outputSize` may have `N` entries (spatial), `N + 1` (unbatched: `[C, ...spatial]`) or `N + 2` (batched);
 * leading entries are dropped. Per dimension the valid sizes are `min = (in - 1) * stride - 2 * padding +
 * dilation * (kernel - 1) + 1` to `max = min + stride - 1`, and the result is `outputSize - min`.
 *
 * @param op - public op name, the message prefix (e.g. `'DeformConvTranspose2d.forward'`)
 * @param outputSize - the requested output size
 * @param inSize - input spatial sizes (its length is `N`)
 * @param kernel - kernel size(s)
 * @param stride - (default 1)
 * @param padding - (default 0)
 * @param dilation - (default 1)
 * @returns `outputPadding`, one entry per spatial dimension
 * @throws {@link InvalidArgumentError} (`argument` `'outputSize'`) when `outputSize` has the wrong length or
 *   is out of range: `requested an output size of [11, 12], but valid sizes range from [9, 9] to [10, 10]
 *   (for an input of [5, 5])`; also when a hyper-parameter is invalid
 *
 * @example
 * ```ts
 * outputPaddingFor('deformConvTranspose2d', [4, 5, 9, 10], [5, 5], 3, 2, 1); // [0, 1]
 * ```
 */
export function outputPaddingFor(
  op: string,
  outputSize: readonly number[],
  inSize: readonly number[],
  kernel: IntOrTuple,
  stride?: IntOrTuple,
  padding?: IntOrTuple,
  dilation?: IntOrTuple,
): number[];
/**
 * The same rule without an op name (no message prefix), as written in api.md: `outputPaddingFor(outputSize, ...)`.
 */
export function outputPaddingFor(
  outputSize: readonly number[],
  inSize: readonly number[],
  kernel: IntOrTuple,
  stride?: IntOrTuple,
  padding?: IntOrTuple,
  dilation?: IntOrTuple,
): number[];
export function outputPaddingFor(...args: unknown[]): number[] {
  const rest = typeof args[0] === 'string' ? args.slice(1) : args;
  const op = typeof args[0] === 'string' ? args[0] : '';
  const [outputSize, inSize, kernel, stride = 1, padding = 0, dilation = 1] = rest;
  if (!Array.isArray(inSize) || !everyItem(inSize, isNonNegativeInteger)) {
    throw new InvalidArgumentError(
      formatExpected(op, 'inSize to be an array of non-negative integers', formatValue(inSize)),
      'inSize',
    );
  }
  const n = inSize.length;
  const k = intTuple(op, 'kernelSize', kernel, n, { min: 1 });
  const s = intTuple(op, 'stride', stride, n, { min: 1 });
  const p = intTuple(op, 'padding', padding, n, { min: 0 });
  const d = intTuple(op, 'dilation', dilation, n, { min: 1 });
  if (
    !Array.isArray(outputSize) ||
    outputSize.length < n ||
    outputSize.length > n + 2 ||
    !everyItem(outputSize, isNonNegativeInteger)
  ) {
    throw new InvalidArgumentError(
      formatExpected(
        op,
        `outputSize to be an array of ${n} (spatial), ${n + 1} (unbatched) or ${n + 2} (batched) ` +
          'non-negative integers',
        formatValue(outputSize),
      ),
      'outputSize',
    );
  }
  const requested = (outputSize as number[]).slice(outputSize.length - n);
  const minSizes = convTransposeOutputSize(inSize as number[], k, s, p, 0, d);
  const maxSizes = minSizes.map((size, i) => size + s[i] - 1);
  if (requested.some((size, i) => size < minSizes[i] || size > maxSizes[i])) {
    throw new InvalidArgumentError(
      `${formatOpPrefix(op)}requested an output size of ${formatShape(requested)}, ` +
        `but valid sizes range from ${formatShape(minSizes)} to ${formatShape(maxSizes)} ` +
        `(for an input of ${formatShape(inSize as number[])})`,
      'outputSize',
    );
  }
  return requested.map((size, i) => size - minSizes[i]);
}
