// SPDX-License-Identifier: MIT
// Gradient functions by op name: each gradients/<family>.grad.ts exports GradConfigs, and
// register-all-gradients.ts installs them (explicitly, on the first backward: the package is
// side-effect free, so registration cannot ride on imports).

import type { Tensor } from '../tensor/tensor.js';

/** @internal What a gradient function receives besides the output gradient. */
export interface GradContext<A> {
  /** The tensors the op saved, unpacked (disposed after the call unless returned). */
  readonly saved: readonly (Tensor | null)[];
  /** The op's non-tensor arguments. */
  readonly attrs: A;
  /** Per input: whether its gradient is wanted. Compute only those (return null for the others). */
  readonly needsGrad: readonly boolean[];
  /** Per input: its shape (`[]` for an absent optional input). */
  readonly inputShapes: readonly (readonly number[])[];
}

/** @internal The backward of one op: one gradient per input, null where not needed. */
export interface GradConfig<A = never> {
  readonly opName: string;
  backward(gradOutput: Tensor, ctx: GradContext<A>): readonly (Tensor | null)[];
}

const registry = new Map<string, GradConfig<unknown>>();

/** @internal Registers a gradient; a second registration under the same name replaces the first. */
export function registerGradient<A>(config: GradConfig<A>): void {
  registry.set(config.opName, config as unknown as GradConfig<unknown>);
}

/** @internal The gradient of `opName`; an internal error when missing. */
export function getGradient(opName: string): GradConfig<unknown> {
  const config = registry.get(opName);
  if (config === undefined) {
    throw new Error(`internal error: no gradient registered for op '${opName}', please report`);
  }
  return config;
}
