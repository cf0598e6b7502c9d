import { type Tensor, isTensor, memory, mul, sum, tensor, tidy } from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW } from './adam.js';
import { SGD } from './sgd.js';

/** A float64 leaf parameter. */
function param(values: number[]): Tensor {
  return tensor(values, { dtype: 'float64', requiresGrad: true });
}

/** Sets `p.grad` to `values` (as backward would). */
function setGrad(p: Tensor, values: number[]): void {
  p.grad = tensor(values, { dtype: 'float64' });
}

function values(p: Tensor): number[] {
  return Array.from(p.toTypedArray());
}

function expectClose(actual: number[], expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i], digits);
  });
}

describe('SGD (hand-computed PyTorch updates)', () => {
  it('momentum, dampening and weight decay over two steps', () => {
    const p = param([1, -2]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 });
    setGrad(p, [0.5, -1]);
    opt.step();
    // d = g + 0.01 p = [0.51, -1.02]; buf = d; p -= 0.1 buf
    expectClose(values(p), [0.949, -1.898]);
    setGrad(p, [0.25, 0.5]);
    opt.step();
    // d = [0.25949, 0.48102]; buf = 0.9 buf + 0.9 d = [0.692541, -0.485082]; p -= 0.1 buf
    expectClose(values(p), [0.8797459, -1.8494918]);
  });

  it('nesterov over two steps', () => {
    const p = param([1, -2]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true });
    setGrad(p, [0.5, -1]);
    opt.step(); // buf = g; d = g + 0.9 buf = [0.95, -1.9]
    expectClose(values(p), [0.905, -1.81]);
    setGrad(p, [0.25, 0.5]);
    opt.step(); // buf = 0.9 buf + g = [0.7, -0.4]; d = g + 0.9 buf = [0.88, 0.14]
    expectClose(values(p), [0.817, -1.824]);
  });

  it('plain SGD, maximize, and parameters without a gradient', () => {
    const p = param([1]);
    const q = param([5]);
    new SGD([p, q], { lr: 0.5, maximize: true }).step();
    expect(values(p)).toEqual([1]);
    setGrad(p, [2]);
    new SGD([p, q], { lr: 0.5, maximize: true }).step();
    expect(values(p)).toEqual([2]);
    expect(values(q)).toEqual([5]);
  });

  it('updates in place: the parameter keeps its identity and its float32 dtype', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    const before = p;
    p.grad = tensor([1, 1]);
    opt.step();
    expect(p).toBe(before);
    expect(p.dtype).toBe('float32');
    expect(values(p)).toEqual([Math.fround(0.9), Math.fround(1.9)]);
  });

  it('trains through backward: loss = sum(w * x)', () => {
    const w = param([1, 2]);
    const x = tensor([3, -1], { dtype: 'float64' });
    const opt = new SGD([w], { lr: 0.1 });
    opt.zeroGrad();
    sum(mul(w, x)).backward();
    opt.step();
    expectClose(values(w), [0.7, 2.1]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('parameter groups override the defaults', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([{ params: [a], lr: 1 }, { params: [b] }], { lr: 0.1 });
    setGrad(a, [1]);
    setGrad(b, [1]);
    opt.step();
    expect(values(a)).toEqual([0]);
    expectClose(values(b), [0.9]);
    expect(opt.paramGroups[1].lr).toBe(0.1);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['an empty list', () => new SGD([]), /new SGD\(\): expected at least one parameter/],
    ['a negative lr', () => new SGD([param([1])], { lr: -1 }), /expected lr to be a number >= 0, but got -1/],
    [
      'nesterov without momentum',
      () => new SGD([param([1])], { nesterov: true }),
      /momentum > 0 and dampening = 0 with nesterov/,
    ],
    [
      'a parameter twice',
      () => {
        const p = param([1]);
        return new SGD([{ params: [p] }, { params: [p] }]);
      },
      /every parameter in one group only/,
    ],
    ['a non-leaf', () => new SGD([mul(param([1]), 2)]), /expected leaf tensors/],
  ])('rejects %s', (_, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('Adam and AdamW (hand-computed PyTorch updates)', () => {
  // Reference values from the algorithm of the PyTorch docs: m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t),
  // p -= lr m̂ / (√v̂ + eps), with lr 0.1, betas (0.9, 0.999), eps 1e-8 and gradients 0.5 then -0.25.
  it('Adam over two steps', () => {
    const p = param([1]);
    const opt = new Adam([p], { lr: 0.1 });
    setGrad(p, [0.5]);
    opt.step();
    expectClose(values(p), [0.900000002], 14);
    setGrad(p, [-0.25]);
    opt.step();
    expectClose(values(p), [0.8733662987078463], 14);
  });

  it('AdamW (decoupled weight decay 0.1) over two steps', () => {
    const p = param([1]);
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.1 });
    setGrad(p, [0.5]);
    opt.step();
    expectClose(values(p), [0.890000002], 14);
    setGrad(p, [-0.25]);
    opt.step();
    expectClose(values(p), [0.8544662986878463], 14);
  });

  it('Adam with L2 weight decay 0.1 and AMSGrad over two steps', () => {
    const p = param([1]);
    const opt = new Adam([p], { lr: 0.1, weightDecay: 0.1, amsgrad: true });
    setGrad(p, [0.5]);
    opt.step();
    expectClose(values(p), [0.9000000016666666], 14);
    setGrad(p, [0.01]);
    opt.step();
    expectClose(values(p), [0.8216672686454422], 14);
  });

  it('keeps the defaults of PyTorch', () => {
    const p = param([1]);
    expect(new Adam([p]).defaults).toEqual({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
    });
    expect(new AdamW([p]).defaults.weightDecay).toBe(1e-2);
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'beta1 = 1',
      () => new Adam([param([1])], { betas: [1, 0.999] }),
      /expected betas\[0\] to be a number in \[0, 1\), but got 1/,
    ],
    ['a negative eps', () => new Adam([param([1])], { eps: -1 }), /expected eps to be a number >= 0/],
    [
      'a negative weight decay',
      () => new AdamW([param([1])], { weightDecay: -0.1 }),
      /new AdamW\(\): expected weightDecay/,
    ],
  ])('rejects %s', (_, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('device-agnostic steps (tensor ops under noGrad)', () => {
  it("state lives in tensors of the parameter's device and dtype, survives tidy(), and leaves the parameter a leaf", () => {
    const p = tensor([1, -2], { requiresGrad: true });
    const adam = new Adam([p], { lr: 0.1, amsgrad: true });
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        p.grad = tensor([0.5, -1]);
        adam.step();
        sgd.step();
      });
    }
    const s = adam.state.get(p)!;
    for (const key of ['expAvg', 'expAvgSq', 'maxExpAvgSq'] as const) {
      const t = s[key] as Tensor;
      expect(isTensor(t)).toBe(true);
      expect(t.isDisposed).toBe(false);
      expect([t.device, t.dtype]).toEqual([p.device, p.dtype]);
    }
    expect(s.step).toBe(3);
    expect((sgd.state.get(p)!.momentumBuffer as Tensor).isDisposed).toBe(false);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
  });

  it('a step allocates no tensors beyond the state (intermediates are disposed)', () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    p.grad = tensor([1, 1, 1]);
    const opt = new AdamW([p], { lr: 0.01 });
    opt.step();
    const before = memory().tensors;
    opt.step();
    opt.step();
    expect(memory().tensors).toBe(before);
  });

  it('Adam matches a per-element reference in float32 over several steps', () => {
    const p = tensor([0.3, -1.2, 2.5], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.05, weightDecay: 0.01 });
    const ref = [0.3, -1.2, 2.5].map(Math.fround);
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const grads = [
      [0.5, -0.25, 1],
      [-0.1, 0.3, 0.2],
      [0.05, 0.05, -0.4],
    ];
    grads.forEach((g, k) => {
      p.grad = tensor(g);
      opt.step();
      const t = k + 1;
      for (let i = 0; i < 3; i++) {
        const gi = g[i] + 0.01 * ref[i];
        m[i] = m[i] + 0.1 * (gi - m[i]);
        v[i] = v[i] * 0.999 + 0.001 * gi * gi;
        ref[i] = ref[i] - (0.05 / (1 - 0.9 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
      }
      values(p).forEach((x, i) => {
        expect(x).toBeCloseTo(ref[i], 6);
      });
    });
  });
});
