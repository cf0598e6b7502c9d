// SPDX-License-Identifier: MIT
// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum: PyTorch's
// `torch.optim.SGD` update (single-tensor form), as tensor ops under noGrad in PyTorch's order of
// operations, so it runs on the parameters' device (CPU or CUDA); the momentum buffer is a tensor there.

import { type Tensor, keep, noGrad, tidy } from '@tvdcn/ops';
import { InvalidArgumentError } from '@tvdcn/shape';
import { Optimizer, type OptimizerParams, type ParamGroup, expectHyper } from './optimizer.js';

/** Hyper-parameters of {@link SGD} (PyTorch's names in camelCase). */
export interface SGDOptions {
  /** Learning rate (default 1e-3, as PyTorch). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximise the objective instead (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent (PyTorch's `torch.optim.SGD`), per parameter `p` with gradient `g`:
 *
 * ```
 * g = g + weightDecay * p
 * buf = g (first step), or momentum * buf + (1 - dampening) * g          (when momentum != 0)
 * g = nesterov ? g + momentum * buf : buf                                (when momentum != 0)
 * p = p - lr * g                                                        (p + lr * g when maximize)
 * ```
 *
 * @example
 * ```ts
 * const opt = new SGD(conv.parameters(), { lr: 0.01, momentum: 0.9 });
 * opt.zeroGrad(); mseLoss(conv.forward(x), y).backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  /**
   * @param params - parameters (e.g. `module.parameters()`) or parameter groups
   * @param options - lr, momentum, dampening, weightDecay, nesterov, maximize
   * @throws {@link InvalidArgumentError} for negative hyper-parameters, or nesterov without momentum or
   *   with dampening
   */
  constructor(params: OptimizerParams<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super('SGD', params, {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...options,
    });
  }

  protected checkHyperParameters(o: SGDOptions): void {
    const op = `new ${this.name}`;
    expectHyper(op, 'lr', o.lr, 0);
    expectHyper(op, 'momentum', o.momentum, 0);
    expectHyper(op, 'dampening', o.dampening, -Infinity);
    expectHyper(op, 'weightDecay', o.weightDecay, 0);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new InvalidArgumentError(
        `${op}(): expected momentum > 0 and dampening = 0 with nesterov, but got momentum = ${o.momentum} and dampening = ${o.dampening}`,
        'nesterov',
      );
    }
  }

  protected updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const p of group.params) {
      const grad = p.grad;
      if (grad === null) continue;
      const state = this.stateOf(p);
      tidy(() =>
        noGrad(() => {
          let d = maximize ? grad.neg() : grad;
          if (weightDecay !== 0) d = d.add(p.mul(weightDecay));
          if (momentum !== 0) {
            let buf = state.momentumBuffer as Tensor | undefined;
            if (buf === undefined) {
              buf = keep(d.clone());
              state.momentumBuffer = buf;
            } else {
              buf.mul_(momentum).add_(d, 1 - dampening);
            }
            d = nesterov ? d.add(buf.mul(momentum)) : buf;
          }
          p.add_(d, -lr);
        }),
      );
    }
  }
}
