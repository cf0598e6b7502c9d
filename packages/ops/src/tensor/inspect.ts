// SPDX-License-Identifier: MIT
// How `console.log(t)` and `util.inspect(t)` show a tensor: its values, formatted as PyTorch does (one
// number format for the whole tensor, right-aligned columns, large tensors elided to their first and last
// 3 entries per dimension), then shape, dtype, device and requiresGrad. Browser-safe: the hook is the
// well-known `Symbol.for('nodejs.util.inspect.custom')`, no import of node:util.

import type { Device } from './device.js';
import type { DType, TypedArray } from './dtype.js';

/** What the formatter reads of a tensor (a structural type: tensor.ts imports this file, not the reverse). */
interface PrintableTensor {
  readonly isDisposed: boolean;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  readonly requiresGrad: boolean;
  cpuData(): TypedArray;
  toTypedArray(): TypedArray;
}

/** The symbol `util.inspect` looks for on an object (Node's `util.inspect.custom`). */
export const INSPECT_CUSTOM: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** Options of {@link formatTensor} (PyTorch's `set_printoptions` names, camelCased). */
export interface TensorPrintOptions {
  /** Digits after the decimal point (default 4). */
  precision?: number;
  /** Above this many elements the tensor is elided (default 1000). */
  threshold?: number;
  /** Entries shown at each end of an elided dimension (default 3). */
  edgeItems?: number;
  /** Characters per line before a row wraps (default 80). */
  lineWidth?: number;
}

/** The subset of `util.inspect`'s options used: colours through `stylize`. */
interface InspectOptionsLike {
  stylize?: (text: string, styleType: string) => string;
}

type Mode = 'int' | 'fixed' | 'sci';

/** Picks one number format for all shown values, as PyTorch's `_Formatter` does. */
function chooseMode(values: readonly number[]): Mode {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return 'fixed';
  if (finite.every(Number.isInteger)) {
    const maxAbs = Math.max(...finite.map(Math.abs));
    return maxAbs > 1e8 ? 'sci' : 'int';
  }
  const nonzero = finite.map(Math.abs).filter((v) => v > 0);
  if (nonzero.length === 0) return 'fixed';
  const max = Math.max(...nonzero);
  const min = Math.min(...nonzero);
  return max / min > 1000 || max > 1e8 || min < 1e-4 ? 'sci' : 'fixed';
}

function formatNumber(v: number, mode: Mode, precision: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (mode === 'int') return `${Object.is(v, -0) ? '-0' : v.toFixed(0)}.`;
  if (mode === 'sci') {
    // 1.2346e+00, as Python prints exponents (at least two digits).
    return v.toExponential(precision).replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return v.toFixed(precision);
}

/** The indices shown along a dimension of `size`: all, or the first and last `edge` (null marks "..."). */
function shownIndices(size: number, summarize: boolean, edge: number): (number | null)[] {
  if (!summarize || size <= 2 * edge) return Array.from({ length: size }, (_, i) => i);
  return [
    ...Array.from({ length: edge }, (_, i) => i),
    null,
    ...Array.from({ length: edge }, (_, i) => size - edge + i),
  ];
}

/**
 * The values of `t` as PyTorch prints them, without the `tensor(` prefix and the trailing attributes:
 * `[[ 1.0000, -2.5000],\n [ 3.0000,  4.0000]]` (continuation lines indented by `indent`).
 */
export function formatValues(
  values: ArrayLike<number>,
  shape: readonly number[],
  indent: number,
  options: TensorPrintOptions = {},
  stylize: (s: string) => string = (s) => s,
): string {
  const precision = options.precision ?? 4;
  const threshold = options.threshold ?? 1000;
  const edge = options.edgeItems ?? 3;
  const lineWidth = options.lineWidth ?? 80;
  let numel = 1;
  for (const s of shape) numel *= s;
  const summarize = numel > threshold;
  const strides: number[] = new Array(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  if (shape.length === 0) {
    const mode = chooseMode([values[0]]);
    return stylize(formatNumber(values[0], mode, precision));
  }
  if (numel === 0) return '[]';

  // The values that will be shown decide the format and the column width.
  const shown: number[] = [];
  const collect = (dim: number, offset: number): void => {
    for (const i of shownIndices(shape[dim], summarize, edge)) {
      if (i === null) continue;
      if (dim === shape.length - 1) shown.push(values[offset + i]);
      else collect(dim + 1, offset + i * strides[dim]);
    }
  };
  collect(0, 0);
  const mode = chooseMode(shown);
  const width = Math.max(...shown.map((v) => formatNumber(v, mode, precision).length));
  const cell = (v: number): string => stylize(formatNumber(v, mode, precision).padStart(width));

  const render = (dim: number, offset: number, pad: number): string => {
    const idx = shownIndices(shape[dim], summarize, edge);
    if (dim === shape.length - 1) {
      // One row, wrapped to lineWidth like PyTorch (`width + 2` characters per entry).
      const perLine = Math.max(1, Math.floor((lineWidth - pad) / (width + 2)));
      const items = idx.map((i) => (i === null ? ' ...' : cell(values[offset + i]))); // PyTorch's ' ...'
      const lines: string[] = [];
      for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(pad + 1)}`)}]`;
    }
    const gap = `,${'\n'.repeat(shape.length - dim - 1)}${' '.repeat(pad + 1)}`;
    const parts = idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim], pad + 1)));
    return `[${parts.join(gap)}]`;
  };
  return render(0, 0, indent);
}

/**
 * `tensor([[...]], shape=[2, 3], dtype=float32, device=cpu)` (plus `requiresGrad=true` when set), the
 * values elided to the first and last 3 per dimension above 1000 elements. A disposed tensor shows
 * `<disposed>` instead of values.
 */
export function formatTensor(
  t: PrintableTensor,
  options: TensorPrintOptions = {},
  inspectOptions?: InspectOptionsLike,
): string {
  const stylize = inspectOptions?.stylize;
  const number = stylize ? (s: string): string => stylize(s, 'number') : undefined;
  const prefix = 'tensor(';
  let body: string;
  if (t.isDisposed) {
    body = '<disposed>';
  } else {
    const values = t.device === 'cpu' ? t.cpuData() : t.toTypedArray();
    body = formatValues(values, t.shape, prefix.length, options, number);
  }
  const attrs = [`shape=[${t.shape.join(', ')}]`, `dtype=${t.dtype}`, `device=${t.device}`];
  if (t.requiresGrad) attrs.push('requiresGrad=true');
  return `${prefix}${body}, ${attrs.join(', ')})`;
}
