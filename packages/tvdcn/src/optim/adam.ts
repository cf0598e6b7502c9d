// SPDX-License-Identifier: MIT
// Adam and AdamW: PyTorch's `torch.optim.Adam` / `AdamW` updates (single-tensor form), written as
// tensor ops under noGrad in PyTorch's order of operations, with AMSGrad and maximize. They run on the
// parameters' device (CPU or CUDA); the moment estimates are tensors of the parameter's dtype there.

import { type Tensor, keep, noGrad, tidy, zerosLike } from '@tvdcn/ops';
import { Optimizer, type OptimizerParams, type ParamGroup, expectHyper } from './optimizer.js';

/** Hyper-parameters of {@link Adam} and {@link AdamW} (PyTorch's names in camelCase). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled weight decay (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead (default false). */
  maximize: boolean;
}

/** Per-parameter state of Adam. */
interface AdamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
  maxExpAvgSq: Tensor | null;
}

/**
 * `a = lerp(a, b, w)` in place, as PyTorch's `lerp_` computes it: `a + w * (b - a)`, or
 * `b - (b - a) * (1 - w)` for weights >= 0.5.
 */
function lerp_(a: Tensor, b: Tensor, w: number): void {
  const diff = b.sub(a);
  if (w < 0.5) a.add_(diff, w);
  else a.copy_(b.sub(diff.mul(1 - w)));
}

/** @internal Shared implementation of {@link Adam} and {@link AdamW}. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  /** True for AdamW: weight decay multiplies the parameter instead of adding to the gradient. */
  protected abstract get decoupled(): boolean;

  protected checkHyperParameters(o: AdamOptions): void {
    const op = `new ${this.name}`;
    expectHyper(op, 'lr', o.lr, 0);
    expectHyper(op, 'eps', o.eps, 0);
    expectHyper(op, 'betas[0]', o.betas?.[0], 0, 1);
    expectHyper(op, 'betas[1]', o.betas?.[1], 0, 1);
    expectHyper(op, 'weightDecay', o.weightDecay, 0);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    for (const p of group.params) {
      const grad = p.grad;
      if (grad === null) continue;
      const raw = this.stateOf(p);
      tidy(() =>
        noGrad(() => {
          if (raw.step === undefined) {
            Object.assign(raw, {
              step: 0,
              expAvg: keep(zerosLike(p)),
              expAvgSq: keep(zerosLike(p)),
              maxExpAvgSq: amsgrad ? keep(zerosLike(p)) : null,
            } satisfies AdamState);
          }
          const s = raw as unknown as AdamState;
          if (amsgrad && s.maxExpAvgSq === null) s.maxExpAvgSq = keep(zerosLike(p));
          s.step += 1;
          let g = maximize ? grad.neg() : grad;
          if (this.decoupled) {
            if (weightDecay !== 0) p.mul_(1 - lr * weightDecay);
          } else if (weightDecay !== 0) {
            g = g.add(p.mul(weightDecay));
          }
          const { expAvg, expAvgSq, maxExpAvgSq } = s;
          lerp_(expAvg, g, 1 - beta1);
          expAvgSq.mul_(beta2).add_(g.mul(1 - beta2).mul(g));
          const biasCorrection1 = 1 - beta1 ** s.step;
          const biasCorrection2 = 1 - beta2 ** s.step;
          const stepSize = lr / biasCorrection1;
          const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
          let second = expAvgSq;
          if (amsgrad && maxExpAvgSq !== null) {
            // max(vmax, v) as vmax + relu(v - vmax): exact where v <= vmax or vmax >= v / 2, within one
            // rounding of v otherwise (@tvdcn/ops has no elementwise maximum).
            maxExpAvgSq.add_(expAvgSq.sub(maxExpAvgSq).relu());
            second = maxExpAvgSq;
          }
          const denom = second.sqrt().div(biasCorrection2Sqrt).add(eps);
          p.add_(expAvg.div(denom), -stepSize);
        }),
      );
    }
  }
}

/**
 * Adam (Kingma & Ba, https://arxiv.org/abs/1412.6980; PyTorch's `torch.optim.Adam`), per parameter `p`
 * with gradient `g` at step `t`:
 *
 * ```
 * g = g + weightDecay * p
 * m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g²;  (AMSGrad: vmax = max(vmax, v), used for v)
 * p = p - lr / (1 - beta1^t) * m / (√v / √(1 - beta2^t) + eps)
 * ```
 *
 * @example
 * ```ts
 * const opt = new Adam(layer.parameters(), { lr: 1e-2 });
 * opt.zeroGrad(); mseLoss(layer.forward(x), target).backward(); opt.step();
 * ```
 */
export class Adam extends AdamBase {
  /**
   * @param params - parameters (e.g. `module.parameters()`) or parameter groups
   * @param options - lr (1e-3), betas ([0.9, 0.999]), eps (1e-8), weightDecay (0), amsgrad, maximize
   * @throws {@link InvalidArgumentError} for out-of-range hyper-parameters
   */
  constructor(params: OptimizerParams<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      ...options,
    });
  }

  protected get decoupled(): boolean {
    return false;
  }
}

/**
 * AdamW (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101; PyTorch's `torch.optim.AdamW`): Adam
 * with decoupled weight decay, `p = p * (1 - lr * weightDecay)` before the Adam step (whose gradient then
 * has no L2 term). The default weight decay is 1e-2.
 */
export class AdamW extends AdamBase {
  /**
   * @param params - parameters (e.g. `module.parameters()`) or parameter groups
   * @param options - lr (1e-3), betas ([0.9, 0.999]), eps (1e-8), weightDecay (1e-2), amsgrad, maximize
   * @throws {@link InvalidArgumentError} for out-of-range hyper-parameters
   */
  constructor(params: OptimizerParams<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
      maximize: false,
      ...options,
    });
  }

  protected get decoupled(): boolean {
    return true;
  }
}
