// SPDX-License-Identifier: MIT
// The recorded graph: one GradNode per op result that requires grad, its edges to the inputs' nodes
// (or to leaf tensors), and the tensors saved for its backward. Not the backward pass (tape.ts).
//
// NOTE [ Graph lifetime ]
// A node is reference-counted: its output tensor holds one reference, and each downstream node's edge
// one more. Saved tensors hold a reference on their storage, so disposing a tensor the graph still needs
// frees nothing until the graph lets go: after a backward() without retainGraph, or when the last
// reference to the node goes (its output and everything computed from it disposed or collected).

import { DcnError } from '@tvdcn/shape';
import type { GradFn } from './grad-fn.js';
import { isGradEnabled } from './grad-mode.js';
import type { Storage } from '../tensor/storage.js';
import { fromStorage, gradNodeOf as storedNodeOf, setGradNode, storageOf, type Tensor } from '../tensor/tensor.js';

/** @internal Where the gradient of one input goes: the input's node, or the input itself when a leaf. */
export interface Edge {
  readonly node: GradNode | null;
  readonly leaf: Tensor | null;
}

/**
 * @internal A tensor saved for backward: a reference on its storage, unpacked into a new tensor on use.
 * When the saved tensor required grad, it also remembers where gradients of it go (its node, or the
 * leaf itself), so that a backward with createGraph can differentiate through saved values.
 */
export class SavedTensor {
  #storage: Storage | null;
  readonly shape: readonly number[];
  /** Where a gradient of the saved value goes: 'self' for the op's own output. */
  #edge: Edge | 'self' | null;

  constructor(t: Tensor, op: string, isOutput: boolean) {
    this.#storage = storageOf(t, op, 'tensor').retain();
    this.shape = t.shape;
    if (isOutput) {
      // Not retained: the node owns this saved tensor, a reference back would keep both alive.
      this.#edge = 'self';
    } else if (!t.requiresGrad) {
      this.#edge = null;
    } else {
      const node = gradNodeOf(t);
      node?.retain();
      this.#edge = node === null ? { node: null, leaf: t } : { node, leaf: null };
    }
  }

  /**
   * A new tensor over the saved storage (the caller's scope disposes it). While the graph is recorded
   * (createGraph), it is linked to the saved value's origin through an identity node.
   */
  unpack(owner: GradNode): Tensor {
    const storage = this.#storage;
    if (storage === null) {
      throw new DcnError(
        `backward(): the tensors saved for the backward of ${owner.opName} were already freed by a previous backward(); ` +
          'pass { retainGraph: true } to the first backward() to run backward twice',
      );
    }
    const t = fromStorage(storage, this.shape);
    const edge = this.#edge;
    if (edge !== null && isGradEnabled()) {
      const source = edge === 'self' ? { node: owner, leaf: null } : edge;
      const node = new GradNode(identityGrad, [source], [this.shape], [], null, this.shape);
      node.retain();
      setGradNode(t, node);
    }
    return t;
  }

  /**
   * Drops the storage reference (idempotent). Returns the origin node whose reference the caller must
   * now drop, if any (returned rather than dropped here, so that long graphs unwind without recursion).
   */
  release(): GradNode | null {
    const storage = this.#storage;
    this.#storage = null;
    storage?.release();
    const edge = this.#edge;
    this.#edge = null;
    return edge !== null && edge !== 'self' ? edge.node : null;
  }
}

/** The link from an unpacked saved tensor to its origin: the gradient passes through. */
const identityGrad: GradFn<null> = {
  opName: 'identity',
  backward: (g, { needsGrad }) => [needsGrad[0] ? g : null],
};

/**
 * @internal The grad node that produced `t`, or null for a leaf. Tensors hold their node opaquely
 * (tensor.ts's TensorGradNode); only recordOp below ever stores one, always a GradNode.
 */
export function gradNodeOf(t: Tensor): GradNode | null {
  return storedNodeOf(t) as GradNode | null;
}

/** @internal One recorded op. */
export class GradNode {
  /** The op's gradient (defined beside the op, handed over by recordOp). */
  readonly gradFn: GradFn<unknown>;
  /** The op's name, for messages. */
  readonly opName: string;
  /** One per input; null where the input needs no gradient. */
  readonly edges: readonly (Edge | null)[];
  /** Shape of each input (`[]` for an absent optional input). */
  readonly inputShapes: readonly (readonly number[])[];
  /** Non-tensor arguments the backward needs. */
  readonly attrs: unknown;
  /** Shape of the op's output (the gradient's shape). */
  readonly outputShape: readonly number[];
  #saved: readonly (SavedTensor | null)[];
  #refs = 0;

  constructor(
    gradFn: GradFn<unknown>,
    edges: readonly (Edge | null)[],
    inputShapes: readonly (readonly number[])[],
    saved: readonly (SavedTensor | null)[],
    attrs: unknown,
    outputShape: readonly number[],
  ) {
    this.gradFn = gradFn;
    this.opName = gradFn.opName;
    this.edges = edges;
    this.inputShapes = inputShapes;
    this.#saved = saved;
    this.attrs = attrs;
    this.outputShape = outputShape;
    for (const edge of edges) edge?.node?.retain();
  }

  /** Adds a reference (an output tensor or a downstream edge). */
  retain(): void {
    this.#refs++;
  }

  /** Removes a reference; at zero, frees the saved tensors and lets go of the upstream nodes. */
  unref(): void {
    GradNode.#unrefAll([this]);
  }

  /** Drops one reference of each node on `stack`, cascading upstream without recursion. */
  static #unrefAll(stack: GradNode[]): void {
    while (stack.length > 0) {
      const node = stack.pop() as GradNode;
      if (--node.#refs > 0) continue;
      for (const s of node.#saved) {
        const origin = s?.release();
        if (origin) stack.push(origin);
      }
      for (const edge of node.edges) if (edge?.node) stack.push(edge.node);
    }
  }

  /** New tensors over the saved storages (null where nothing was saved). */
  unpackSaved(): (Tensor | null)[] {
    return this.#saved.map((s) => (s === null ? null : s.unpack(this)));
  }

  /** Frees the saved tensors (after a backward without retainGraph). */
  releaseSaved(): void {
    const origins: GradNode[] = [];
    for (const s of this.#saved) {
      const origin = s?.release();
      if (origin) origins.push(origin);
    }
    if (origins.length > 0) GradNode.#unrefAll(origins);
  }
}

/**
 * @internal True when an op on `inputs` must record a node: grad mode is on and one input requires
 * grad. Ops test this before preparing what they would save.
 */
export function shouldRecord(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * @internal Records that `output` was computed from `inputs` by the op whose gradient is `gradFn`,
 * saving `saved` and `attrs` for that gradient. Call only when {@link shouldRecord} is true. Returns
 * `output`.
 */
export function recordOp<A>(
  output: Tensor,
  gradFn: GradFn<A>,
  inputs: readonly (Tensor | null | undefined)[],
  saved: readonly (Tensor | null | undefined)[],
  attrs: A,
): Tensor {
  const edges = inputs.map((t): Edge | null => {
    if (t == null || !t.requiresGrad) return null;
    const node = gradNodeOf(t);
    return node === null ? { node: null, leaf: t } : { node, leaf: null };
  });
  const node = new GradNode(
    gradFn as GradFn<unknown>,
    edges,
    inputs.map((t) => (t == null ? [] : t.shape)),
    saved.map((t) => (t == null ? null : new SavedTensor(t, gradFn.opName, t === output))),
    attrs,
    output.shape,
  );
  node.retain();
  setGradNode(output, node);
  return output;
}
