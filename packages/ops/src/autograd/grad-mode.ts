// SPDX-License-Identifier: MIT
// Whether ops record the autograd graph: noGrad(), enableGrad(), isGradEnabled(). Not the graph itself
// (grad-node.ts) nor the backward pass (tape.ts).

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';

let enabled = true;

/** True when ops record the graph for `backward()` (the default; false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** @internal Runs `fn` with grad recording on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

function checkSync<T>(op: string, fn: () => T): () => T {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(formatExpected(op, 'fn to be a function', formatValue(fn)), 'fn');
  }
  return () => {
    const result = fn();
    if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
      throw new InvalidArgumentError(
        `${op}(): expected fn to be synchronous, but it returned a Promise; ` +
          `the mode would end before the awaited code runs: call ${op}() around each synchronous part`,
        'fn',
      );
    }
    return result;
  };
}

/**
 * Runs `fn` without recording the autograd graph (PyTorch's `torch.no_grad()`): results of ops inside
 * have `requiresGrad` false and save nothing for backward, which saves memory and time at inference.
 *
 * @param fn - a synchronous function
 * @returns what `fn` returns
 * @throws {@link InvalidArgumentError} when `fn` is not a function or returns a Promise
 * @example
 * ```ts
 * const y = noGrad(() => deformConv2d(x, w, { offset })); // y.requiresGrad === false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, checkSync('noGrad', fn));
}

/**
 * Runs `fn` with graph recording on, also inside {@link noGrad} (PyTorch's `torch.enable_grad()`).
 *
 * @throws {@link InvalidArgumentError} when `fn` is not a function or returns a Promise
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, checkSync('enableGrad', fn));
}
