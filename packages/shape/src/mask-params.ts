// SPDX-License-Identifier: MIT
// Checks of the mask activations maskSoftmax{1,2,3}d and maskSigmoid (tvdcn-reference §6).

import { InvalidArgumentError, ShapeMismatchError } from './errors.js';
import { formatExpected, formatShape, formatValue } from './format.js';
import type { SpatialDim } from './deform-conv-params.js';
import type { IntOrTuple } from './ntuple.js';
import { expectPositiveNumber, expectShape, intTuple } from './validate.js';

/** Result of {@link checkMaskSoftmaxArgs}. */
export interface MaskSoftmaxParams {
  /** Per spatial dimension. */
  kernelSize: number[];
  /** K = prod(kernelSize). */
  kernelPoints: number;
  /** MG = mask.shape[1] / K. */
  maskGroups: number;
  /** False when the mask had N + 1 dimensions. */
  batched: boolean;
}

/** Kernel dimension symbols in spatial order. */
const KERNEL_SYMBOLS: Record<SpatialDim, string> = { 1: 'kW', 2: 'kH * kW', 3: 'kD * kH * kW' };

/**
 * Validates the arguments of `maskSoftmax{1,2,3}d(mask, kernelSize)`: a softmax over each group's K
 * kernel-point channels.
 *
 * The mask is `[B, maskGroups * K, *outSize]` or, unlike tvdcn, also unbatched `[maskGroups * K, *outSize]`.
 *
 * @param op - public op name used as the message prefix, e.g. `'maskSoftmax2d'`
 * @param dim - N, the number of spatial dimensions
 * @param maskShape - the shape of the mask
 * @param kernelSize - positive integer(s), one per spatial dimension or broadcast
 * @throws {@link ShapeMismatchError} for a mask of the wrong rank, or whose channel count is not a positive
 *   multiple of K: `maskSoftmax2d(): expected mask.shape[1] to be a multiple of kH * kW = 9, but got mask with shape [2, 10, 8, 8]`
 * @throws {@link InvalidArgumentError} for an invalid `kernelSize` or `dim`
 *
 * @example
 * ```ts
 * checkMaskSoftmaxArgs('maskSoftmax2d', 2, [2, 18, 8, 8], 3);
 * // { kernelSize: [3, 3], kernelPoints: 9, maskGroups: 2, batched: true }
 * ```
 */
export function checkMaskSoftmaxArgs(
  op: string,
  dim: SpatialDim,
  maskShape: readonly number[],
  kernelSize: IntOrTuple,
): MaskSoftmaxParams {
  if (dim !== 1 && dim !== 2 && dim !== 3) {
    throw new InvalidArgumentError(formatExpected(op, 'dim to be 1, 2 or 3', formatValue(dim)), 'dim');
  }
  const shape = expectShape(op, 'mask', maskShape);
  const k = intTuple(op, 'kernelSize', kernelSize, dim, { min: 1 });
  if (shape.length !== dim + 1 && shape.length !== dim + 2) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `mask to have ${dim + 1} (unbatched) or ${dim + 2} (batched) dimensions`,
        `mask with shape ${formatShape(shape)}`,
      ),
    );
  }
  const batched = shape.length === dim + 2;
  const cAxis = batched ? 1 : 0;
  const kernelPoints = k.reduce((a, b) => a * b, 1);
  const channels = shape[cAxis];
  if (channels === 0 || channels % kernelPoints !== 0) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `mask.shape[${cAxis}] to be a ${channels === 0 ? 'positive ' : ''}multiple of ` +
          `${KERNEL_SYMBOLS[dim]} = ${kernelPoints}`,
        `mask with shape ${formatShape(shape)}`,
      ),
    );
  }
  return { kernelSize: k, kernelPoints, maskGroups: channels / kernelPoints, batched };
}

/**
 * Validates the `scale` of `maskSigmoid(mask, scale)` (`sigmoid(mask) * scale`, default 2).
 *
 * @returns `scale`
 * @throws {@link InvalidArgumentError} `maskSigmoid(): expected scale to be a positive number, but got 0 (number)`
 *   (also for NaN and ±Infinity)
 */
export function checkMaskSigmoidScale(op: string, scale: unknown): number {
  return expectPositiveNumber(op, 'scale', scale);
}
