// SPDX-License-Identifier: MIT
// Autograd: accumulation into .grad, grad(), noGrad, createGraph (second order), gradient pruning
// (needsGrad), gradcheck itself.

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  add,
  DcnError,
  deformConv2d,
  enableGrad,
  grad,
  gradcheck,
  InvalidArgumentError,
  isGradEnabled,
  mul,
  NotImplementedError,
  noGrad,
  ones,
  pow,
  randn,
  ShapeMismatchError,
  sigmoid,
  square,
  sum,
  tanh,
  tensor,
  zeros,
} from '../../src/index.js';
import { cpuKernels } from '../../src/backends/cpu/cpu-backend.js';
import { expectClose, f64 } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backward()', () => {
  it('accumulates into .grad of leaves, in place', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    sum(square(x)).backward();
    const g = x.grad;
    expect(g?.toArray()).toEqual([2, 4, 6]);
    sum(mul(x, 3)).backward();
    expect(x.grad).toBe(g); // same tensor, added into
    expect(x.grad?.toArray()).toEqual([5, 7, 9]);
    expect(x.grad?.requiresGrad).toBe(false);
  });

  it('sums the gradients of a tensor used twice, and of a user gradOutput', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const y = add(mul(x, x), x); // x used three times
    y.backward(
      tensor([
        [1, 0],
        [0, 2],
      ]),
    );
    expect(x.grad?.toArray()).toEqual([
      [3, 0],
      [0, 18],
    ]);
  });

  it('does not hand the caller gradOutput to a leaf', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const gOut = tensor([1, 1]);
    add(x, 0).backward(gOut);
    add(x, 0).backward(gOut); // in-place accumulation must not modify gOut
    expect(gOut.toArray()).toEqual([1, 1]);
    expect(x.grad?.toArray()).toEqual([2, 2]);
  });

  it('a leaf as its own root', () => {
    const x = tensor(2, { requiresGrad: true });
    x.backward();
    expect(x.grad?.item()).toBe(1);
  });

  it('checks the root and its gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => tensor([1, 2]).backward()).toThrow(InvalidArgumentError);
    expect(() => tensor([1, 2]).backward()).toThrow(/backward\(\): expected tensor to require grad/);
    expect(() => mul(x, 2).backward()).toThrow(ShapeMismatchError);
    expect(() => mul(x, 2).backward()).toThrow(
      /gradOutput for a tensor with 2 elements \(shape \[2\]\); it may be omitted only for one-element tensors/,
    );
    expect(() => mul(x, 2).backward(ones([3]))).toThrow(/expected gradOutput to have shape \[2\], but got shape \[3\]/);
    expect(() => mul(x, 2).backward(ones([2], { dtype: 'float64' }))).toThrow(/gradOutput of dtype float32/);
  });
});

describe('grad()', () => {
  it('returns gradients without touching .grad, also for non-leaf inputs', () => {
    const x = f64([1, 2, 3], true);
    const h = mul(x, x);
    const y = sum(mul(h, 2));
    const [dx, dh] = grad(y, [x, h]);
    expectClose(dx, [4, 8, 12]);
    expectClose(dh, [2, 2, 2]);
    expect(x.grad).toBeNull();
  });

  it('unused inputs: an error, or null with allowUnused', () => {
    const x = f64([1], true);
    const z = f64([1], true);
    const y = sum(mul(x, 2));
    expect(() => grad(y, [x, z], null, { retainGraph: true })).toThrow(
      /inputs\[1\], which the outputs do not depend on; pass \{ allowUnused: true \}/,
    );
    const [dx, dz] = grad(y, [x, z], null, { allowUnused: true });
    expectClose(dx as NonNullable<typeof dx>, [2]);
    expect(dz).toBeNull();
    expect(() => grad(sum(x), [tensor([1])])).toThrow(/inputs\[0\] to require grad/);
  });

  it('computes only what leads to the requested inputs', () => {
    const a = f64([1, 2], true);
    const b = f64([3, 4], true);
    const y = sum(mul(sigmoid(a), tanh(b)));
    const unary = vi.spyOn(cpuKernels, 'binary');
    grad(y, [a]);
    const ops = unary.mock.calls.map((c) => c[0]);
    expect(ops).toContain('sigmoidBackward');
    expect(ops).not.toContain('tanhBackward');
  });
});

describe('grad mode', () => {
  it('noGrad records nothing; enableGrad turns it back on', () => {
    const x = ones([2], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = enableGrad(() => mul(x, 2));
      expect(inner.requiresGrad).toBe(true);
      return mul(x, 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
    expect(() => noGrad(async () => 1)).toThrow(/noGrad\(\): expected fn to be synchronous/);
  });
});

describe('createGraph', () => {
  it('second derivative of x³ is 6x', () => {
    const x = f64([1, -2, 0.5], true);
    const [g] = grad(sum(pow(x, 3)), [x], null, { createGraph: true });
    expectClose(g, [3, 12, 0.75]);
    expect(g.requiresGrad).toBe(true);
    const [h] = grad(sum(g), [x]);
    expectClose(h, [6, -12, 3]);
  });

  it('second derivative through saved outputs (sigmoid, tanh)', () => {
    const x = f64([0.3, -1.2], true);
    const [g] = grad(sum(sigmoid(x)), [x], null, { createGraph: true });
    const [h] = grad(sum(g), [x]);
    const s = [0.3, -1.2].map((v) => 1 / (1 + Math.exp(-v)));
    expectClose(
      h,
      s.map((v) => v * (1 - v) * (1 - 2 * v)),
    );
    const [gt] = grad(sum(tanh(x)), [x], null, { createGraph: true });
    const [ht] = grad(sum(gt), [x]);
    expectClose(
      ht,
      [0.3, -1.2].map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)),
    );
  });

  it('gradcheck of a gradient (double backward of elementwise ops)', () => {
    const x = f64([0.4, -0.7, 1.1], true);
    expect(gradcheck((t) => grad(sum(mul(sigmoid(t), square(t))), [t], null, { createGraph: true })[0], [x])).toBe(
      true,
    );
  });
});

describe('needsGrad pruning (deformable convolution, kernels mocked)', () => {
  function mockDeformKernels() {
    const forward = vi
      .spyOn(cpuKernels, 'deformConvForward')
      .mockImplementation((_p, input, _w, _o, _m, _b, outShape) =>
        cpuKernels.zeros(
          'cpu',
          input.storage.dtype,
          outShape.reduce((a, b) => a * b, 1),
        ),
      );
    const backward = vi
      .spyOn(cpuKernels, 'deformConvBackward')
      .mockImplementation((_p, input, weight, offset, mask, _g, biasShape, needs) => {
        const z = (need: boolean, shape: readonly number[] | null | undefined) =>
          need && shape
            ? cpuKernels.zeros(
                'cpu',
                input.storage.dtype,
                shape.reduce((a, b) => a * b, 1),
              )
            : null;
        return {
          input: z(needs.input, input.shape),
          weight: z(needs.weight, weight.shape),
          offset: z(needs.offset, offset?.shape),
          mask: z(needs.mask, mask?.shape),
          bias: z(needs.bias, biasShape),
        };
      });
    return { forward, backward };
  }

  it('a frozen weight and an input without grad are not computed', () => {
    const { backward } = mockDeformKernels();
    const input = randn([1, 2, 5, 5]);
    const weight = randn([3, 2, 3, 3]); // frozen
    const offset = randn([1, 18, 3, 3], { requiresGrad: true });
    const bias = zeros([3], { requiresGrad: true });
    sum(deformConv2d(input, weight, { offset, bias })).backward();
    expect(backward).toHaveBeenCalledTimes(1);
    expect(backward.mock.calls[0][7]).toEqual({
      input: false,
      weight: false,
      offset: true,
      mask: false,
      bias: true,
    });
    expect(offset.grad?.shape).toEqual([1, 18, 3, 3]);
    expect(bias.grad?.shape).toEqual([3]);
  });

  it('grad() with respect to the weight only asks for the weight', () => {
    const { backward } = mockDeformKernels();
    const input = randn([2, 5, 5], { requiresGrad: true }); // unbatched
    const weight = randn([3, 2, 3, 3], { requiresGrad: true });
    const mask = randn([9, 3, 3], { requiresGrad: true });
    const y = deformConv2d(input, weight, { mask });
    expect(y.shape).toEqual([3, 3, 3]);
    const [gw] = grad(sum(y), [weight]);
    expect(gw.shape).toEqual([3, 2, 3, 3]);
    expect(backward.mock.calls[0][7]).toEqual({
      input: false,
      weight: true,
      offset: false,
      mask: false,
      bias: false,
    });
  });

  it('double backward through deformable convolution is NotImplementedError', () => {
    mockDeformKernels();
    const input = randn([1, 1, 4, 4], { requiresGrad: true });
    const weight = randn([1, 1, 3, 3], { requiresGrad: true });
    const [gi] = grad(sum(deformConv2d(input, weight)), [input], null, { createGraph: true });
    expect(gi.requiresGrad).toBe(true);
    expect(() => grad(sum(gi), [weight])).toThrow(NotImplementedError);
    expect(() => grad(sum(gi), [weight])).toThrow(
      /deformConv2d\(\): .*double backward through deformable convolution is not implemented/,
    );
  });
});

describe('gradcheck()', () => {
  it('passes a correct gradient and reports a wrong one', () => {
    const x = f64([0.1, 0.5, -0.3], true);
    expect(gradcheck((t) => sigmoid(t), [x])).toBe(true);
    expect(gradcheck((t) => sigmoid(t), [x], { fastMode: true })).toBe(true);
    // A function whose "gradient" is wrong: the forward is t², the recorded backward that of 3t.
    const wrong = (t: ReturnType<typeof f64>) =>
      add(
        mul(t, 3),
        noGrad(() => sub3(square(t), mul(t, 3))),
      );
    expect(gradcheck(wrong, [x], { raiseException: false })).toBe(false);
    expect(() => gradcheck(wrong, [x])).toThrow(DcnError);
    expect(() => gradcheck(wrong, [x])).toThrow(
      /gradcheck\(\): expected the analytic gradient to match the numerical one/,
    );
    expect(gradcheck(wrong, [x], { raiseException: false, fastMode: true })).toBe(false);
  });

  it('needs float64 inputs that require grad', () => {
    expect(() => gradcheck((t) => t, [tensor([1], { requiresGrad: true })])).toThrow(/float64 CPU tensor/);
    expect(() => gradcheck((t) => t, [f64([1])])).toThrow(/at least one input that requires grad/);
  });
});

function sub3(a: ReturnType<typeof f64>, b: ReturnType<typeof f64>) {
  return add(a, mul(b, -1));
}
