// SPDX-License-Identifier: MIT
// tidy(), keep() and memory(): what is disposed when, and how saved tensors and graphs hold memory.

import { describe, expect, it } from 'vitest';
import {
  add,
  DcnError,
  InvalidArgumentError,
  keep,
  memory,
  mul,
  ones,
  sigmoid,
  sum,
  tensor,
  tidy,
  zeros,
} from '../../src/index.js';

describe('memory()', () => {
  it('counts tensors, storages and bytes per device', () => {
    const before = memory();
    const t = zeros([10], { dtype: 'float64' });
    const v = t.reshape([2, 5]);
    let now = memory();
    expect(now.tensors - before.tensors).toBe(2);
    expect(now.storages - before.storages).toBe(1); // the view shares the storage
    expect(now.bytes - before.bytes).toBe(80);
    expect(now.devices.cpu.bytes - (before.devices.cpu?.bytes ?? 0)).toBe(80);
    t.dispose();
    now = memory();
    expect(now.storages - before.storages).toBe(1); // still held by the view
    v.dispose();
    now = memory();
    expect(now.tensors).toBe(before.tensors);
    expect(now.storages).toBe(before.storages);
    expect(now.bytes).toBe(before.bytes);
  });
});

describe('tidy()', () => {
  it('disposes the tensors created inside and not returned', () => {
    const a = ones([3]);
    const before = memory();
    const result = tidy(() => {
      const b = add(a, 1);
      const c = mul(b, b);
      expect(b.isDisposed).toBe(false);
      return c;
    });
    expect(result.toArray()).toEqual([4, 4, 4]);
    expect(memory().tensors - before.tensors).toBe(1);
    expect(a.isDisposed).toBe(false);
  });

  it('keeps tensors returned in arrays, plain objects and maps, and kept tensors', () => {
    const before = memory().tensors;
    let kept = null as unknown as ReturnType<typeof ones>;
    const out = tidy(() => {
      kept = keep(ones([1]));
      ones([1]); // dropped
      return { list: [ones([1]), { deep: ones([1]) }], map: new Map([['k', ones([1])]]), n: 3 };
    });
    expect(memory().tensors - before).toBe(4);
    expect(kept.isDisposed).toBe(false);
    expect(out.list[0]).toBeDefined();
    expect(out.n).toBe(3);
  });

  it('nested tidy: returned tensors belong to the outer scope', () => {
    const before = memory().tensors;
    let inner = null as unknown as ReturnType<typeof ones>;
    tidy(() => {
      inner = tidy(() => ones([2]));
      expect(inner.isDisposed).toBe(false);
      return null;
    });
    expect(inner.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('disposes also when fn throws', () => {
    const before = memory().tensors;
    expect(() =>
      tidy(() => {
        ones([2]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(before);
  });

  it('refuses async functions and non-functions', () => {
    expect(() => tidy(async () => ones([1]))).toThrow(InvalidArgumentError);
    expect(() => tidy(async () => ones([1]))).toThrow(
      /tidy\(\): expected fn to be synchronous, but it returned a Promise/,
    );
    expect(() => tidy(3 as unknown as () => void)).toThrow(
      /tidy\(\): expected fn to be a function, but got 3 \(number\)/,
    );
  });

  it('ops dispose their own intermediates', () => {
    const x = ones([2, 3]);
    const before = memory().tensors;
    const loss = sum(mul(add(x, 1), 2)); // add and mul results are the caller's
    expect(memory().tensors - before).toBe(3);
    loss.dispose();
  });
});

describe('graphs and saved tensors', () => {
  it('backward works after tidy disposed the intermediates; memory returns after backward', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const before = memory();
    const loss = tidy(() => {
      const h = sigmoid(mul(x, x)); // sigmoid saves its output; mul saves x
      return sum(mul(h, 2));
    });
    expect(memory().tensors - before.tensors).toBe(1);
    loss.backward();
    expect(x.grad?.shape).toEqual([3]);
    loss.dispose();
    const after = memory();
    expect(after.tensors - before.tensors).toBe(1); // x.grad
    expect(after.storages - before.storages).toBe(1);
  });

  it('disposing the outputs of an unused graph frees its saved tensors', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const before = memory();
    tidy(() => {
      sum(sigmoid(mul(x, 3)));
      return null;
    });
    expect(memory().storages).toBe(before.storages);
    expect(memory().bytes).toBe(before.bytes);
  });

  it('a second backward needs retainGraph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = sum(sigmoid(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(() => y.backward()).toThrow(DcnError);
    expect(() => y.backward()).toThrow(/already freed by a previous backward\(\); pass \{ retainGraph: true \}/);
  });

  it('backward inside tidy leaves only the gradients', () => {
    const w = tensor([0.5, -0.5], { requiresGrad: true });
    const before = memory();
    for (let step = 0; step < 3; step++) {
      tidy(() => {
        const loss = sum(mul(sigmoid(mul(w, 3)), w));
        loss.backward();
        return null;
      });
    }
    expect(memory().tensors - before.tensors).toBe(1); // w.grad, accumulated in place
    expect(memory().storages - before.storages).toBe(1);
  });
});
