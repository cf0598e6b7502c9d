// SPDX-License-Identifier: MIT
// The backward pass: walks the recorded graph from the outputs in reverse topological order, calls
// each op's gradient with a needsGrad mask (so unneeded gradients cost nothing), and accumulates into
// the leaves' `.grad` (backward) or returns the gradients (grad).

import {
  DTypeMismatchError,
  DeviceMismatchError,
  formatExpected,
  formatShape,
  formatValue,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@tvdcn/shape';
import { getKernels } from '../backends/registry.js';
import { add } from '../ops/elementwise.js';
import { reshape } from '../ops/shape-ops.js';
import { onesLike } from '../tensor/factories.js';
import { keep, runInScope } from '../tensor/memory.js';
import {
  isTensor,
  sameShape,
  setGradUnchecked,
  storageOf,
  type BackwardOptions,
  type Tensor,
} from '../tensor/tensor.js';
import { type GradNode, gradNodeOf } from './grad-node.js';
import { withGradMode } from './grad-mode.js';

/** Options of {@link grad}. */
export interface GradOptions extends BackwardOptions {
  /** Return null for inputs the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
}

/** A per-run record of which nodes receive a gradient and which run their backward. */
interface Plan {
  /** Nodes that receive a gradient (targets, or on a path to one). */
  receives: Set<GradNode>;
  /** Nodes whose backward runs (on a path to a target). */
  runs: Set<GradNode>;
  /** Nodes in discovery post-order (children before parents). */
  order: GradNode[];
}

/** Finds the nodes reachable from `roots` and which of them lead to the targets. */
function plan(
  roots: readonly GradNode[],
  targetLeaves: Map<Tensor, number> | null,
  targetNodes: Map<GradNode, number> | null,
): Plan {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  // Iterative post-order DFS: a node is emitted after all its children.
  const stack: Array<{ node: GradNode; next: number }> = [];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    stack.push({ node: root, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const edges = top.node.edges;
      let pushed = false;
      while (top.next < edges.length) {
        const child = edges[top.next++]?.node;
        if (child && !seen.has(child)) {
          seen.add(child);
          stack.push({ node: child, next: 0 });
          pushed = true;
          break;
        }
      }
      if (!pushed) {
        stack.pop();
        order.push(top.node);
      }
    }
  }
  if (targetLeaves === null || targetNodes === null) {
    const all = new Set(order);
    return { receives: all, runs: all, order };
  }
  const receives = new Set<GradNode>();
  const runs = new Set<GradNode>();
  for (const node of order) {
    let leads = false;
    for (const edge of node.edges) {
      if (edge === null) continue;
      if (edge.leaf !== null ? targetLeaves.has(edge.leaf) : receives.has(edge.node as GradNode)) {
        leads = true;
        break;
      }
    }
    if (leads) runs.add(node);
    if (leads || targetNodes.has(node)) receives.add(node);
  }
  return { receives, runs, order };
}

/** Checks a root and its gradient; returns the gradient or null (meaning ones). */
function checkRoot(op: string, root: unknown, gradOutput: unknown, index: number, many: boolean): Tensor | null {
  const name = many ? `outputs[${index}]` : 'tensor';
  if (!isTensor(root)) {
    throw new InvalidArgumentError(formatExpected(op, `${name} to be a Tensor`, formatValue(root)), name);
  }
  storageOf(root, op, name);
  if (!root.requiresGrad) {
    throw new InvalidArgumentError(
      formatExpected(
        op,
        `${name} to require grad`,
        `a tensor with requiresGrad false; set requiresGrad = true on the leaves (inputs, weights) ` +
          'before computing it, and compute it outside noGrad()',
      ),
      name,
    );
  }
  const gName = many ? `gradOutputs[${index}]` : 'gradOutput';
  if (gradOutput === null || gradOutput === undefined) {
    if (root.numel !== 1) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `${gName} for a tensor with ${root.numel} elements (shape ${formatShape(root.shape)}); ` +
            'it may be omitted only for one-element tensors',
          'none',
        ),
      );
    }
    return null;
  }
  if (!isTensor(gradOutput)) {
    throw new InvalidArgumentError(formatExpected(op, `${gName} to be a Tensor`, formatValue(gradOutput)), gName);
  }
  storageOf(gradOutput, op, gName);
  if (!sameShape(gradOutput.shape, root.shape)) {
    throw new ShapeMismatchError(
      formatExpected(op, `${gName} to have shape ${formatShape(root.shape)}`, `shape ${formatShape(gradOutput.shape)}`),
    );
  }
  if (gradOutput.dtype !== root.dtype) {
    throw new DTypeMismatchError(formatExpected(op, `${gName} of dtype ${root.dtype}`, gradOutput.dtype));
  }
  if (gradOutput.device !== root.device) {
    throw new DeviceMismatchError(formatExpected(op, `${gName} on ${root.device}`, gradOutput.device));
  }
  return gradOutput;
}

/**
 * Runs backward from `roots`. With `targets` null, accumulates into every leaf's `.grad`; otherwise
 * returns the gradient of each target (null where none arrived).
 */
function run(
  roots: readonly Tensor[],
  rootGrads: readonly (Tensor | null)[],
  options: GradOptions,
  targets: readonly Tensor[] | null,
): (Tensor | null)[] {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const targetLeaves = targets === null ? null : new Map<Tensor, number>();
  const targetNodes = targets === null ? null : new Map<GradNode, number>();
  if (targets !== null) {
    targets.forEach((t, i) => {
      const node = gradNodeOf(t);
      if (node === null) targetLeaves?.set(t, i);
      else targetNodes?.set(node, i);
    });
  }
  const results: (Tensor | null)[] = targets === null ? [] : targets.map(() => null);

  return withGradMode(createGraph, () =>
    runInScope(() => {
      // Tensors handed to a holder (pending, results, a leaf's grad); a second hand-off gets an alias,
      // so that each holder can dispose (or add into) its own.
      const handed = new Set<Tensor>();
      const handOff = (t: Tensor): Tensor => {
        const out = handed.has(t) ? reshape(t, t.shape) : t;
        handed.add(out);
        return out;
      };
      const pending = new Map<GradNode, Tensor>();
      const addPending = (node: GradNode, g: Tensor): void => {
        const prev = pending.get(node);
        if (prev === undefined) {
          pending.set(node, handOff(g));
          return;
        }
        const sum = add(prev, g);
        handed.delete(prev);
        prev.dispose();
        if (!handed.has(g)) g.dispose();
        pending.set(node, handOff(sum));
      };
      const toLeaf = (leaf: Tensor, g: Tensor): void => {
        if (targets !== null) {
          const i = targetLeaves?.get(leaf);
          if (i === undefined) return;
          const prev = results[i];
          if (prev === null) {
            results[i] = handOff(g);
          } else {
            const sum = add(prev, g);
            handed.delete(prev);
            prev.dispose();
            results[i] = handOff(sum);
          }
          return;
        }
        accumulateGrad(leaf, handOff(g), createGraph);
      };

      // --- seed the roots ---
      const rootNodes: GradNode[] = [];
      roots.forEach((root, i) => {
        const given = rootGrads[i];
        // The caller's gradient is aliased: autograd may add into what it hands to a leaf.
        const g = given === null ? onesLike(root) : reshape(given, given.shape);
        const node = gradNodeOf(root);
        if (node === null) {
          toLeaf(root, g);
          return;
        }
        rootNodes.push(node);
        addPending(node, g);
      });

      // --- walk the graph in reverse topological order (Kahn) ---
      const { receives, runs, order } = plan(rootNodes, targetLeaves, targetNodes);
      const deps = new Map<GradNode, number>();
      for (const node of order) {
        if (!runs.has(node)) continue;
        for (const edge of node.edges) {
          const child = edge?.node;
          if (child && receives.has(child)) deps.set(child, (deps.get(child) ?? 0) + 1);
        }
      }
      const ready: GradNode[] = [];
      for (const node of new Set(rootNodes)) if (receives.has(node) && !deps.get(node)) ready.push(node);

      while (ready.length > 0) {
        const node = ready.pop() as GradNode;
        const g = pending.get(node);
        pending.delete(node);
        let inResults = false;
        if (g !== undefined) {
          const ti = targetNodes?.get(node);
          if (ti !== undefined) {
            results[ti] = g;
            inResults = true;
          } else {
            handed.delete(g);
          }
        }
        if (runs.has(node) && g !== undefined) {
          const needsGrad = node.edges.map((edge) => {
            if (edge === null) return false;
            if (edge.leaf !== null) return targetLeaves === null || targetLeaves.has(edge.leaf);
            return receives.has(edge.node as GradNode);
          });
          const config = node.gradFn;
          const grads = runInScope(() =>
            config.backward(g, {
              saved: node.unpackSaved(),
              attrs: node.attrs,
              needsGrad,
              inputShapes: node.inputShapes,
            }),
          );
          if (grads.length !== node.edges.length) {
            throw new Error(
              `internal error: the gradient of ${node.opName} returned ${grads.length} gradients for ${node.edges.length} inputs, please report`,
            );
          }
          if (!inResults && !grads.includes(g)) g.dispose();
          grads.forEach((gi, i) => {
            if (gi === null) return;
            const edge = node.edges[i];
            if (edge === null || !needsGrad[i]) {
              if (gi !== g) gi.dispose();
              return;
            }
            if (!sameShape(gi.shape, node.inputShapes[i])) {
              throw new Error(
                `internal error: the gradient of ${node.opName} for input ${i} has shape ${formatShape(gi.shape)}, ` +
                  `expected ${formatShape(node.inputShapes[i])}, please report`,
              );
            }
            if (edge.leaf !== null) toLeaf(edge.leaf, gi);
            else addPending(edge.node as GradNode, gi);
          });
        } else if (g !== undefined && !inResults) {
          g.dispose();
        }
        if (!retainGraph) node.releaseSaved();
        if (runs.has(node)) {
          for (const edge of node.edges) {
            const child = edge?.node;
            if (!child || !receives.has(child)) continue;
            const left = (deps.get(child) ?? 0) - 1;
            deps.set(child, left);
            if (left === 0) ready.push(child);
          }
        }
      }
      return results;
    }),
  );
}

/** Adds `g` into `leaf.grad` (in place when possible), or makes it the gradient. */
function accumulateGrad(leaf: Tensor, g: Tensor, createGraph: boolean): void {
  if (leaf.isDisposed) {
    g.dispose();
    return;
  }
  const current = leaf.grad;
  if (current === null || current.isDisposed) {
    // Adopt the computed gradient when nothing else shares its memory; else copy it.
    let value = g;
    if (!createGraph && (storageOf(g, 'backward', 'grad').refCount !== 1 || gradNodeOf(g) !== null)) {
      value = g.detach().clone();
      g.dispose();
    }
    setGradUnchecked(leaf, keep(value));
    return;
  }
  if (!createGraph && gradNodeOf(current) === null) {
    getKernels(current.device).addInPlace(storageOf(current, 'backward', 'grad'), storageOf(g, 'backward', 'grad'));
    g.dispose();
    return;
  }
  const sum = add(current, g);
  g.dispose();
  setGradUnchecked(leaf, keep(sum));
}

/**
 * @internal The engine behind `Tensor.backward()` (and a multi-output backward): accumulates the
 * gradients of `tensors` into the `.grad` of every leaf that requires grad.
 */
export function backward(
  tensors: readonly Tensor[],
  gradTensors: readonly (Tensor | null)[],
  options: BackwardOptions = {},
): void {
  const grads = tensors.map((t, i) => checkRoot('backward', t, gradTensors[i], i, tensors.length > 1));
  run(tensors, grads, options, null);
}

/**
 * The gradients of `outputs` with respect to `inputs` (PyTorch's `torch.autograd.grad`), returned
 * instead of accumulated into `.grad`. Only the gradients on a path to `inputs` are computed.
 *
 * @param outputs - tensors that require grad
 * @param inputs - tensors that require grad (leaves or intermediate results)
 * @param gradOutputs - d(loss)/d(output) per output, of its shape; may be omitted (or null) only for
 *   one-element outputs
 * @param options - `retainGraph`, `createGraph` (see {@link BackwardOptions}) and `allowUnused`
 * @returns one gradient per input, of the input's shape
 * @throws {@link InvalidArgumentError} for an output or input that does not require grad, or an input
 *   the outputs do not depend on (unless `allowUnused`)
 * @throws {@link ShapeMismatchError} for a gradOutput of the wrong shape
 * @example
 * ```ts
 * const x = randn([3], { requiresGrad: true });
 * const [dx] = grad(sum(square(x)), [x]); // 2 * x
 * ```
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null,
  options?: GradOptions & { allowUnused?: false },
): Tensor[];
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs: Tensor | readonly (Tensor | null)[] | null | undefined,
  options: GradOptions,
): (Tensor | null)[];
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null,
  options: GradOptions = {},
): (Tensor | null)[] {
  const outs = isTensor(outputs) ? [outputs] : [...(outputs as readonly Tensor[])];
  const ins = isTensor(inputs) ? [inputs] : [...(inputs as readonly Tensor[])];
  let gs: readonly (Tensor | null)[];
  if (gradOutputs === undefined || gradOutputs === null) gs = outs.map(() => null);
  else if (isTensor(gradOutputs)) gs = [gradOutputs];
  else gs = gradOutputs;
  if (!Array.isArray(outs) || outs.length === 0) {
    throw new InvalidArgumentError(formatExpected('grad', 'at least one output', formatValue(outputs)), 'outputs');
  }
  if (gs.length !== outs.length) {
    throw new InvalidArgumentError(
      formatExpected('grad', `one gradOutput per output (${outs.length})`, `${gs.length} gradOutputs`),
      'gradOutputs',
    );
  }
  const checked = outs.map((t, i) => checkRoot('grad', t, gs[i] ?? null, i, true));
  ins.forEach((t, i) => {
    if (!isTensor(t)) {
      throw new InvalidArgumentError(
        formatExpected('grad', `inputs[${i}] to be a Tensor`, formatValue(t)),
        `inputs[${i}]`,
      );
    }
    storageOf(t, 'grad', `inputs[${i}]`);
    if (!t.requiresGrad) {
      throw new InvalidArgumentError(
        formatExpected('grad', `inputs[${i}] to require grad`, 'a tensor with requiresGrad false'),
        `inputs[${i}]`,
      );
    }
  });
  const results = run(outs, checked, options, ins);
  if (!options.allowUnused) {
    const unused = results.indexOf(null);
    if (unused >= 0) {
      for (const r of results) r?.dispose();
      throw new InvalidArgumentError(
        formatExpected(
          'grad',
          `every input to be used in computing the outputs`,
          `inputs[${unused}], which the outputs do not depend on; pass { allowUnused: true } to get null for it`,
        ),
        `inputs[${unused}]`,
      );
    }
  }
  return results;
}
