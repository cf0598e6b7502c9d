// SPDX-License-Identifier: MIT
// What a gradient is (PyTorch's grad_fn): the backward of one op, defined beside the op in its ops/ file
// and handed to recordOp() when the op records itself. The graph node keeps it; the backward engine
// (tape.ts) calls it. No registry and no registration: nothing depends on a module having been loaded.

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
export interface GradFn<A> {
  /** The recorded op's name, for messages (`'mul'`, `'deformConv'`). */
  readonly opName: string;
  backward(gradOutput: Tensor, ctx: GradContext<A>): readonly (Tensor | null)[];
}
