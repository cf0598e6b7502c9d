// SPDX-License-Identifier: MIT
// The Optimizer base (PyTorch's `torch.optim.Optimizer`): parameter groups with per-group hyper-parameters,
// per-parameter state, zeroGrad(). The update rules are in sgd.ts and adam.ts: tensor ops under noGrad
// ending in the parameters' in-place methods (add_, mul_, copy_), on the parameters' own device.

import { type Tensor, isTensor } from '@tvdcn/ops';
import { InvalidArgumentError, formatValue } from '@tvdcn/shape';

/** A group of parameters with its own hyper-parameters (those not given come from the defaults). */
export type ParamGroupInput<O> = {
  /** The parameters of the group. */
  params: Iterable<Tensor>;
} & Partial<O>;

/** A parameter group as the optimizer keeps it: every hyper-parameter resolved. */
export type ParamGroup<O> = {
  /** The parameters of the group. */
  params: Tensor[];
} & O;

/** What optimizers accept: parameters (e.g. `module.parameters()`) or parameter groups. */
export type OptimizerParams<O> = Iterable<Tensor> | readonly ParamGroupInput<O>[];

/**
 * Base class of the optimizers (PyTorch's `torch.optim.Optimizer`).
 *
 * @example
 * ```ts
 * const opt = new SGD([
 *   { params: conv.offsetGenerator!.parameters(), lr: 1e-3 },  // a smaller rate for the offsets
 *   { params: [conv.weight, conv.bias!] },
 * ], { lr: 1e-2, momentum: 0.9 });
 * ```
 */
export abstract class Optimizer<O extends object> {
  /** The hyper-parameters of groups that do not set their own. */
  readonly defaults: Readonly<O>;
  /** The parameter groups, in order. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (momentum buffers, moment estimates, step counts). */
  readonly state = new Map<Tensor, Record<string, unknown>>();

  /** The optimizer's class name, the prefix of its messages. */
  protected readonly name: string;

  /**
   * @param name - the class name, for messages
   * @param params - parameters, or parameter groups `{ params, ...hyper-parameters }`
   * @param defaults - the resolved default hyper-parameters
   * @throws {@link InvalidArgumentError} for an empty list, a value that is not a tensor, a non-leaf tensor,
   *   or a parameter in two groups
   */
  protected constructor(name: string, params: OptimizerParams<O>, defaults: O) {
    this.name = name;
    this.defaults = Object.freeze({ ...defaults });
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) {
      throw new InvalidArgumentError(
        `new ${this.name}(): expected at least one parameter, but got an empty parameter list`,
        'params',
      );
    }
    const groups: ParamGroupInput<O>[] = isTensor(list[0])
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>]
      : (list as ParamGroupInput<O>[]);
    for (const group of groups) this.addParamGroup(group);
  }

  /**
   * Adds a parameter group (e.g. layers unfrozen during fine-tuning).
   * @throws {@link InvalidArgumentError} as the constructor
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    const op = `${this.name}.addParamGroup`;
    if (typeof group !== 'object' || group === null || isTensor(group) || !('params' in group)) {
      throw new InvalidArgumentError(
        `${op}(): expected a parameter group { params, ... }, but got ${formatValue(group)}`,
        'params',
      );
    }
    const params = isTensor(group.params) ? [group.params as Tensor] : [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!isTensor(p)) {
        throw new InvalidArgumentError(`${op}(): expected params to be tensors, but got ${formatValue(p)}`, 'params');
      }
      if (!p.isLeaf) {
        throw new InvalidArgumentError(
          `${op}(): expected leaf tensors (parameters), but got the result of an op; use detach() or a module's parameters()`,
          'params',
        );
      }
      if (seen.has(p)) {
        throw new InvalidArgumentError(
          `${op}(): expected every parameter in one group only, but got ${p.toString()} twice`,
          'params',
        );
      }
      seen.add(p);
    }
    const { params: _, ...overrides } = group;
    const resolved = { ...this.defaults, ...overrides } as O;
    this.checkHyperParameters(resolved);
    this.paramGroups.push({ ...resolved, params });
  }

  /** Validates one group's hyper-parameters. */
  protected abstract checkHyperParameters(options: O): void;

  /**
   * Sets the gradient of every parameter to null and disposes the gradient tensors it drops (PyTorch's
   * `zero_grad(set_to_none=True)`; without the dispose, each step would leak the gradients that
   * `backward()` kept). Clone a gradient first if you need it afterwards.
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        p.grad = null;
        g?.dispose();
      }
    }
  }

  /**
   * Updates every parameter that has a gradient, in place, on its device (CPU or CUDA; the state tensors
   * live there too). Nothing is read back to the host.
   * @param closure - re-evaluates the model and returns the loss (optional; its result is returned)
   */
  step(closure?: () => number): number | undefined {
    const loss = closure?.();
    for (const group of this.paramGroups) this.updateGroup(group);
    return loss;
  }

  /** Applies the update rule to one group's parameters with a gradient. */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): Record<string, unknown> {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }
}

/** @internal Checks a hyper-parameter: a finite number >= `min` (and < `below` when given). */
export function expectHyper(op: string, argument: string, value: unknown, min: number, below?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (below !== undefined && value >= below)) {
    const range = below === undefined ? `a number >= ${min}` : `a number in [${min}, ${below})`;
    throw new InvalidArgumentError(
      `${op}(): expected ${argument} to be ${range}, but got ${formatValue(value)}`,
      argument,
    );
  }
  return value;
}
