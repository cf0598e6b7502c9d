// SPDX-License-Identifier: MIT
// NOTE [ Saved columns of the transposed forward ] (ops/deform-conv.ts, native/src/deform_conv/cpu/column_pass.cc):
// a recorded transposed forward whose offset or mask requires grad keeps its columns for the backward. The
// gradients equal those of the recomputing backward bit for bit, the backward really reads the saved columns,
// nothing is saved without grad or above the bound, and the memory goes with the graph.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  deformConvTranspose1d,
  deformConvTranspose2d,
  deformConvTranspose3d,
  manualSeed,
  memory,
  noGrad,
  rand,
  randn,
  sum,
  mul,
  tidy,
  type DType,
  type Tensor,
} from '../../src/index.js';
import type { NativeBinding, NativeTensor } from '../../src/native/binding.js';
import { getBinding } from '../../src/native/load-binding.js';
import { nativeOpsAvailable } from './native-setup.js';

const ready = nativeOpsAvailable() && typeof getBinding().deformConvSavedColumns === 'function';
type Hooks = NativeBinding & {
  _setCpuQueue?(on: boolean): boolean;
  _setWorkspaceLimit(bytes: number): void;
  _getWorkspaceLimit(): number;
  _setForcePlanar(on: boolean): void;
};
const b = (): Hooks => getBinding() as Hooks;
const convT = { 1: deformConvTranspose1d, 2: deformConvTranspose2d, 3: deformConvTranspose3d } as const;

interface Case {
  name: string;
  dim: 1 | 2 | 3;
  batch: number;
  inC: number;
  outC: number;
  size: number[];
  k: number[];
  stride: number;
  padding: number;
  groups?: number;
  offsetGroups?: number;
  offset?: boolean;
  mask?: boolean;
}

const cases: Case[] = [
  // 64 output channels x 16 kernel points: rows of 4 KB (float32), stored padded (NOTE [ Padded colsT rows ]).
  {
    name: 'up-t2d-like, padded rows',
    dim: 2,
    batch: 2,
    inC: 32,
    outC: 64,
    size: [6, 5],
    k: [4, 4],
    stride: 2,
    padding: 1,
  },
  {
    name: '2D, groups 2, two offset groups',
    dim: 2,
    batch: 1,
    inC: 12,
    outC: 8,
    size: [5, 4],
    k: [3, 3],
    stride: 2,
    padding: 1,
    groups: 2,
    offsetGroups: 2,
  },
  {
    name: '2D, offset only',
    dim: 2,
    batch: 2,
    inC: 6,
    outC: 5,
    size: [4, 6],
    k: [3, 2],
    stride: 1,
    padding: 0,
    mask: false,
  },
  {
    name: '2D, mask only',
    dim: 2,
    batch: 1,
    inC: 5,
    outC: 7,
    size: [5, 5],
    k: [3, 3],
    stride: 2,
    padding: 1,
    offset: false,
  },
  { name: '1D', dim: 1, batch: 3, inC: 16, outC: 16, size: [40], k: [3], stride: 2, padding: 1 },
  {
    name: '3D',
    dim: 3,
    batch: 1,
    inC: 8,
    outC: 16,
    size: [3, 4, 3],
    k: [2, 3, 3],
    stride: 2,
    padding: 1,
    offsetGroups: 2,
  },
  // Eight offset groups of 8 channels: the small-group sampler (rows of ldr, not padded).
  {
    name: '2D, small offset groups',
    dim: 2,
    batch: 1,
    inC: 16,
    outC: 64,
    size: [6, 6],
    k: [3, 3],
    stride: 1,
    padding: 1,
    offsetGroups: 8,
  },
];

interface Inputs {
  x: Tensor;
  w: Tensor;
  off: Tensor | null;
  m: Tensor | null;
  bias: Tensor;
  g: Tensor;
}

function inputs(c: Case, dtype: DType): Inputs {
  manualSeed(7);
  const K = c.k.reduce((a, v) => a * v, 1);
  const og = c.offsetGroups ?? 1;
  const groups = c.groups ?? 1;
  const outSize = c.size.map((n, a) => (n - 1) * c.stride - 2 * c.padding + c.k[a]);
  const opt = { dtype, requiresGrad: true };
  return {
    x: randn([c.batch, c.inC, ...c.size], opt),
    w: randn([c.inC, c.outC / groups, ...c.k], opt),
    off: c.offset === false ? null : randn([c.batch, og * c.dim * K, ...c.size], opt),
    m: c.mask === false ? null : rand([c.batch, og * K, ...c.size], opt),
    bias: randn([c.outC], opt),
    g: randn([c.batch, c.outC, ...outSize], { dtype }),
  };
}

function forward(c: Case, t: Inputs): Tensor {
  return convT[c.dim](t.x, t.w, {
    offset: t.off,
    mask: t.m,
    bias: t.bias,
    stride: c.stride,
    padding: c.padding,
    groups: c.groups ?? 1,
  });
}

/** Every gradient of sum(y * g), as raw bytes (bit-exact comparison), after a fresh forward. */
function gradients(c: Case, t: Inputs): Uint8Array[] {
  for (const p of [t.x, t.w, t.off, t.m, t.bias]) if (p) p.grad = null;
  sum(mul(forward(c, t), t.g)).backward();
  return [t.x, t.w, t.off, t.m, t.bias].map((p) =>
    p === null ? new Uint8Array(0) : new Uint8Array((p.grad as Tensor).toTypedArray().slice().buffer),
  );
}

/** The `saved` argument of the binding's forward calls while `fn` runs. */
function savedArgs(fn: () => void): (NativeTensor | null | undefined)[] {
  const spy = vi.spyOn(getBinding(), 'deformConvForward');
  fn();
  const got = spy.mock.calls.map((a) => a[7]);
  spy.mockRestore();
  return got;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.runIf(ready)('saved columns of the transposed forward', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const c of cases) {
      it(`gradients equal the recomputing backward's bit for bit: ${c.name}, ${dtype}`, () => {
        const t = inputs(c, dtype);
        let withSaved: Uint8Array[] = [];
        const saved = savedArgs(() => {
          withSaved = gradients(c, t);
        });
        expect(saved).toHaveLength(1);
        expect((saved[0] as NativeTensor).data as Float32Array | Float64Array).not.toHaveLength(0);
        // The recomputing backward: the query says "nothing to save" (as above the bound).
        vi.spyOn(getBinding(), 'deformConvSavedColumns').mockReturnValue(0);
        const recomputed = savedArgs(() => {
          const r = gradients(c, t);
          for (let i = 0; i < r.length; i++) expect(Buffer.from(withSaved[i]).equals(Buffer.from(r[i]))).toBe(true);
        });
        expect(recomputed).toEqual([undefined]);
      });
    }
  }

  it('the backward reads them: corrupting the saved columns changes the offset gradient (queue off)', () => {
    const c = cases[0];
    const t = inputs(c, 'float32');
    const was = b()._setCpuQueue?.(false);
    try {
      const ref = gradients(c, t);
      const real = getBinding().deformConvBackward.bind(getBinding());
      vi.spyOn(getBinding(), 'deformConvBackward').mockImplementation((...args) => {
        const saved = args[7] as NativeTensor;
        const data = saved.data as Float32Array;
        for (let i = 64; i < data.length; i++) data[i] += 1; // past the 64-byte header: the rows
        return real(...args);
      });
      const got = gradients(c, t);
      expect(Buffer.from(got[0]).equals(Buffer.from(ref[0]))).toBe(true); // input gradient: not from the columns
      expect(Buffer.from(got[2]).equals(Buffer.from(ref[2]))).toBe(false); // offset gradient: from them
    } finally {
      if (was !== undefined) b()._setCpuQueue?.(was);
    }
  });

  it('nothing is saved without grad, nor when neither the offset nor the mask requires grad', () => {
    const c = cases[0];
    const t = inputs(c, 'float32');
    expect(savedArgs(() => noGrad(() => forward(c, t)))).toEqual([undefined]);
    const frozen = { ...t, off: (t.off as Tensor).detach(), m: (t.m as Tensor).detach() };
    expect(savedArgs(() => forward(c, frozen))).toEqual([undefined]); // the weight and input still require grad
    expect(savedArgs(() => forward(c, { ...frozen, off: t.off }))).toHaveLength(1);
    expect(savedArgs(() => forward(c, { ...frozen, off: t.off }))[0]).toBeDefined();
    expect(savedArgs(() => forward(c, { ...frozen, m: t.m }))[0]).toBeDefined();
  });

  it('bounded by the workspace limit: larger columns are recomputed, with the same gradients', () => {
    const c = cases[0];
    const t = inputs(c, 'float64');
    const limit = b()._getWorkspaceLimit();
    const K = 16;
    // Columns of this case: batch * prod(size) rows of outC * K float64 values (64 KB: padded by a cache line) and
    // a 128-byte head.
    const bytes = (c.batch * 30 * (c.outC * K + 8) + 16) * 8;
    expect(getBinding().deformConvSavedColumns?.({ ...nativeParams(c) }, 'float64', true, true)).toBe(bytes / 8);
    try {
      b()._setWorkspaceLimit(bytes);
      const at = savedArgs(() => forward(c, t));
      expect((at[0] as NativeTensor).data as Float64Array).toHaveLength(bytes / 8);
      b()._setWorkspaceLimit(bytes - 1);
      let below: Uint8Array[] = [];
      expect(savedArgs(() => (below = gradients(c, t)))).toEqual([undefined]);
      vi.spyOn(getBinding(), 'deformConvSavedColumns').mockReturnValue(0);
      const ref = gradients(c, t);
      for (let i = 0; i < ref.length; i++) expect(Buffer.from(below[i]).equals(Buffer.from(ref[i]))).toBe(true);
    } finally {
      b()._setWorkspaceLimit(limit);
    }
  });

  it('the memory goes with the graph: kept until backward(), freed by it; retainGraph keeps it for a second', () => {
    const c = cases[0];
    const t = inputs(c, 'float32');
    const columnsBytes = (getBinding().deformConvSavedColumns?.(nativeParams(c), 'float32', true, true) ?? 0) * 4;
    expect(columnsBytes).toBeGreaterThan(0);
    const y = noGrad(() => forward(c, t));
    const outBytes = y.numel * 4;
    y.dispose();
    const before = memory().bytes;
    const loss = tidy(() => sum(mul(forward(c, t), t.g)));
    // The columns and the loss (the output and the product went with tidy: mul keeps z only for g's gradient).
    expect(memory().bytes - before).toBe(columnsBytes + 4);
    loss.backward(undefined, { retainGraph: true });
    const first = Array.from((t.off as Tensor).grad?.toTypedArray() ?? []);
    (t.off as Tensor).grad = null;
    const held = memory().bytes; // with the gradients of the first backward but the offset's
    loss.backward();
    expect(Array.from((t.off as Tensor).grad?.toTypedArray() ?? [])).toEqual(first);
    // The second backward (without retainGraph) freed the saved tensors, the columns among them.
    expect(held + (t.off as Tensor).numel * 4 - memory().bytes).toBe(columnsBytes);
    // Without a backward, disposing the output frees the columns with the graph.
    const before2 = memory().bytes;
    const z2 = forward(c, t);
    expect(memory().bytes - before2).toBe(outBytes + columnsBytes);
    z2.dispose();
    expect(memory().bytes).toBe(before2);
  });

  it('a stale buffer is not read: a planar forward marks it empty, the backward recomputes', () => {
    const c = cases[0];
    const t = inputs(c, 'float32');
    const params = nativeParams(c);
    const n = getBinding().deformConvSavedColumns?.(params, 'float32', true, true) ?? 0;
    const was = b()._setCpuQueue?.(false);
    const nt = (x: Tensor): NativeTensor => ({
      data: x.toTypedArray().slice() as Float32Array,
      shape: x.shape,
      dtype: 'float32',
    });
    const zerosLike = (shape: readonly number[]): NativeTensor => ({
      data: new Float32Array(shape.reduce((a, v) => a * v, 1)),
      shape,
      dtype: 'float32',
    });
    try {
      const saved: NativeTensor = { data: new Float32Array(n), shape: [n], dtype: 'float32' };
      const args = [nt(t.x), nt(t.w), nt(t.off as Tensor), nt(t.m as Tensor)] as const;
      const out = zerosLike(t.g.shape);
      getBinding().deformConvForward(params, ...args, nt(t.bias), out, saved); // fills it
      // Another input, forward on the planar kernels: the buffer is marked as holding nothing.
      const x2 = nt(t.x.mul(2));
      b()._setForcePlanar(true);
      getBinding().deformConvForward(params, x2, args[1], args[2], args[3], nt(t.bias), out, saved);
      b()._setForcePlanar(false);
      const back = (s: NativeTensor | null) => {
        const grads = { input: null, weight: null, offset: zerosLike(args[2].shape), mask: null, bias: null };
        getBinding().deformConvBackward(params, x2, args[1], args[2], args[3], nt(t.g), grads, s);
        return grads.offset.data as Float32Array;
      };
      expect(Array.from(back(saved))).toEqual(Array.from(back(null)));
    } finally {
      b()._setForcePlanar(false);
      if (was !== undefined) b()._setCpuQueue?.(was);
    }
  });

  it('deformConvSavedColumns is 0 for a regular op and with the planar kernels', () => {
    const c = cases[0];
    const p = nativeParams(c);
    expect(getBinding().deformConvSavedColumns?.(p, 'float32', true, true)).toBeGreaterThan(0);
    expect(
      getBinding().deformConvSavedColumns?.(
        { ...p, transposed: false, inSize: p.outSize, outSize: p.inSize },
        'float32',
        true,
        true,
      ),
    ).toBe(0);
    try {
      b()._setForcePlanar(true);
      expect(getBinding().deformConvSavedColumns?.(p, 'float32', true, true)).toBe(0);
    } finally {
      b()._setForcePlanar(false);
    }
  });
});

/** The batched native params of a case (transposed). */
function nativeParams(c: Case) {
  const og = c.offsetGroups ?? 1;
  const rep = (v: number) => c.size.map(() => v);
  return {
    dim: c.dim,
    transposed: true,
    batch: c.batch,
    inChannels: c.inC,
    outChannels: c.outC,
    groups: c.groups ?? 1,
    offsetGroups: og,
    maskGroups: og,
    kernelSize: c.k,
    stride: rep(c.stride),
    padding: rep(c.padding),
    dilation: rep(1),
    inSize: c.size,
    outSize: c.size.map((n, a) => (n - 1) * c.stride - 2 * c.padding + c.k[a]),
  };
}
