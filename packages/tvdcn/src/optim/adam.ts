// SPDX-License-Identifier: MIT
// Adam and AdamW: PyTorch's `torch.optim.Adam` / `AdamW` updates (single-tensor form), written out per
// element in the same order of operations, with AMSGrad and maximize.

import { ownValues, readValues } from '../internal/tensor-data.js';
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
  expAvg: Float32Array | Float64Array;
  expAvgSq: Float32Array | Float64Array;
  maxExpAvgSq: Float32Array | Float64Array | null;
}

/** `a + w * (b - a)` as PyTorch's `lerp` computes it (the other form for weights >= 0.5). */
function lerp(a: number, b: number, w: number): number {
  return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
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
      if (p.grad === null) continue;
      const values = ownValues(p, `${this.name}.step`);
      const grad = readValues(p.grad);
      const raw = this.stateOf(p);
      if (raw.step === undefined) {
        const Ctor = values.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
        Object.assign(raw, {
          step: 0,
          expAvg: new Ctor(values.length),
          expAvgSq: new Ctor(values.length),
          maxExpAvgSq: amsgrad ? new Ctor(values.length) : null,
        } satisfies AdamState);
      }
      const s = raw as unknown as AdamState;
      if (amsgrad && s.maxExpAvgSq === null) s.maxExpAvgSq = new (values.constructor as Float64ArrayConstructor)(values.length);
      s.step += 1;
      if (this.decoupled && weightDecay !== 0) {
        const factor = 1 - lr * weightDecay;
        for (let i = 0; i < values.length; i++) values[i] = values[i] * factor;
      }
      const biasCorrection1 = 1 - beta1 ** s.step;
      const biasCorrection2 = 1 - beta2 ** s.step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      const { expAvg, expAvgSq, maxExpAvgSq } = s;
      for (let i = 0; i < values.length; i++) {
        let g = maximize ? -grad[i] : grad[i];
        if (!this.decoupled && weightDecay !== 0) g = g + weightDecay * values[i];
        expAvg[i] = lerp(expAvg[i], g, 1 - beta1);
        expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
        let second = expAvgSq[i];
        if (amsgrad && maxExpAvgSq !== null) {
          maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], expAvgSq[i]);
          second = maxExpAvgSq[i];
        }
        const denom = Math.sqrt(second) / biasCorrection2Sqrt + eps;
        values[i] = values[i] - stepSize * (expAvg[i] / denom);
      }
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
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...options });
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
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...options });
  }

  protected get decoupled(): boolean {
    return true;
  }
}
