// SPDX-License-Identifier: MIT
// pad(): PyTorch's F.pad in the modes 'constant', 'reflect', 'replicate' and 'circular', as an
// index-map gather (its gradient is the matching scatter-add). The layers use it for paddingMode.

import { formatExpected, formatShape, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import type { IndexMap } from '../backends/kernel-backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { expectTensor } from './op-utils.js';
import { gatherApply, identityMap, indexMap } from './shape-ops.js';

/** How {@link pad} fills the border. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * @internal The index map of one padded dimension: output position `o` reads input index `map[o]` (-1: the
 * constant). Positions run over `[-before, size + after)` of the input's coordinates.
 *
 * - reflect: mirror about the edge without repeating it (`-1 → 1`, `size → size - 2`)
 * - replicate: clamp to `[0, size - 1]`
 * - circular: wrap modulo `size`
 */
export function padMap(mode: PadMode, size: number, before: number, after: number): IndexMap {
  const n = size + before + after;
  const map = indexMap(n, size);
  for (let o = 0; o < n; o++) {
    const i = o - before;
    let j: number;
    if (i >= 0 && i < size) j = i;
    else if (mode === 'constant') j = -1;
    else if (mode === 'replicate') j = i < 0 ? 0 : size - 1;
    else if (mode === 'reflect') j = i < 0 ? -i : 2 * (size - 1) - i;
    else j = ((i % size) + size) % size;
    map[o] = j;
  }
  return map;
}

/**
 * Pads (or, with negative amounts in 'constant' mode, crops) the last dimensions of `input`, like
 * PyTorch's `F.pad`.
 *
 * @param input - any shape with at least `pads.length / 2` dimensions
 * @param pads - amounts in F.pad order, last dimension first: `[left, right]` pads the last dimension,
 *   `[left, right, top, bottom]` the last two, `[left, right, top, bottom, front, back]` the last three
 * @param mode - `'constant'` (default; fill with `value`), `'reflect'` (mirror without repeating the edge;
 *   each amount smaller than the dimension), `'replicate'` (repeat the edge), `'circular'` (wrap; each
 *   amount at most the dimension). Unlike PyTorch, any number of dimensions can be padded in every mode.
 * @param value - the fill value of `'constant'` mode (default 0)
 * @throws {@link InvalidArgumentError} for an odd-length or too long `pads`, non-integer amounts, negative
 *   amounts outside 'constant' mode, amounts too large for the mode, or an unknown mode
 * @example
 * ```ts
 * pad(zeros([1, 3, 8, 8]), [1, 1, 2, 2]).shape;        // [1, 3, 12, 10]
 * pad(tensor([1, 2, 3]), [2, 1], 'reflect').toArray(); // [3, 2, 1, 2, 3, 2]
 * ```
 */
export const pad = defineOp(
  'pad',
  (op, input: Tensor, pads: readonly number[], mode: PadMode = 'constant', value: number = 0): Tensor => {
    expectTensor(op, input, 'input');
    if (!PAD_MODES.includes(mode)) {
      throw new InvalidArgumentError(
        formatExpected(op, `mode to be one of 'constant', 'reflect', 'replicate', 'circular'`, formatValue(mode)),
        'mode',
      );
    }
    if (
      !Array.isArray(pads) ||
      pads.length % 2 !== 0 ||
      pads.length / 2 > input.ndim ||
      !pads.every((p: unknown) => typeof p === 'number' && Number.isInteger(p))
    ) {
      throw new InvalidArgumentError(
        formatExpected(
          op,
          `pads to be an array of integers of even length at most 2 * ndim = ${2 * input.ndim}`,
          formatValue(pads),
        ),
        'pads',
      );
    }
    if (typeof value !== 'number') {
      throw new InvalidArgumentError(formatExpected(op, 'value to be a number', formatValue(value)), 'value');
    }
    // The padded dimensions' maps; the others get identity maps below.
    const maps: (IndexMap | undefined)[] = input.shape.map(() => undefined);
    const shape = [...input.shape];
    for (let k = 0; k < pads.length / 2; k++) {
      const d = input.ndim - 1 - k;
      const before = pads[2 * k];
      const after = pads[2 * k + 1];
      const size = input.shape[d];
      const where = `dimension ${d} of input with shape ${formatShape(input.shape)}`;
      if (mode !== 'constant' && (before < 0 || after < 0)) {
        throw new InvalidArgumentError(
          formatExpected(op, `non-negative pads in '${mode}' mode`, `${formatValue(pads)}`),
          'pads',
        );
      }
      if (mode === 'constant' && size + before + after < 0) {
        throw new InvalidArgumentError(
          formatExpected(op, `pads that leave a non-negative size in ${where}`, `(${before}, ${after})`),
          'pads',
        );
      }
      if (mode === 'reflect' && (before >= size || after >= size)) {
        throw new InvalidArgumentError(
          formatExpected(op, `reflect pads smaller than the size ${size} of ${where}`, `(${before}, ${after})`),
          'pads',
        );
      }
      if (mode === 'circular' && (before > size || after > size)) {
        throw new InvalidArgumentError(
          formatExpected(op, `circular pads at most the size ${size} of ${where}`, `(${before}, ${after})`),
          'pads',
        );
      }
      if (mode === 'replicate' && size === 0 && before + after > 0) {
        throw new InvalidArgumentError(
          formatExpected(op, `a non-empty ${where} to replicate`, `(${before}, ${after})`),
          'pads',
        );
      }
      if (before === 0 && after === 0) continue;
      // Negative amounts (constant mode) crop: the map starts inside the input.
      maps[d] = padMap(mode, size, before, after);
      shape[d] = size + before + after;
    }
    const all = maps.map((m, d) => m ?? identityMap(input.shape[d]));
    return gatherApply(op, input, all, shape, mode === 'constant' ? value : 0);
  },
);
