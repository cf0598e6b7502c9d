// SPDX-License-Identifier: MIT
// GPU suite: the CUDA kernel table against the CPU one, through the public ops: elementwise and
// broadcast ops with their gradients, sums and means, strided copies (permute, cat, narrow, stack),
// pad in every mode and its gradient, mask softmax and sigmoid, casts, async reads, memory accounting,
// and a tensor of more than 2^31 elements. Every dtype; halves against float64 on their rounded inputs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  abs,
  add,
  cat,
  cudaEmptyCache,
  cudaMemoryStats,
  deformConv2d,
  div,
  exp,
  full,
  grad,
  isDeterministic,
  log,
  maskSigmoid,
  maskSoftmax2d,
  mean,
  mul,
  narrow,
  neg,
  noGrad,
  pad,
  permute,
  pow,
  relu,
  setDeterministic,
  sigmoid,
  sqrt,
  square,
  stack,
  sub,
  sum,
  tanh,
  tensor,
  tidy,
  type DType,
  type Tensor,
} from '../../src/index.js';
import { cudaKernels } from '../../src/backends/cuda/cuda-backend.js';
import { bufferOf } from '../../src/backends/cuda/cuda-storage.js';
import {
  type NativeDeformConvAllocatingForward,
  type NativeDeformConvBufferForm,
  type NativeDeformConvParams,
  type NativeDeviceBuffer,
  packDeformConvParams,
} from '../../src/native/binding.js';
import { type CudaDeviceBuffer, getCudaBinding } from '../../src/native/cuda-binding.js';
import { storageOf } from '../../src/tensor/tensor.js';
import {
  ALL_DTYPES,
  CACHING_ONLY,
  DEVICE,
  DRY_RUN,
  FULL_ONLY,
  SKIP,
  expectClose,
  hasNaN,
  poison,
  rng,
  roundTo,
  tolerance,
  uniformArray,
} from './helpers.js';

const DTYPES = ALL_DTYPES;
const toGpu = (v: Float64Array, d: DType, shape?: readonly number[]): Tensor =>
  tensor(d === 'float64' ? v : Float32Array.from(v), { shape: shape ?? [v.length], dtype: d, device: DEVICE });

/** A GPU tensor of `dtype` and the CPU float64 tensor of the same (rounded) values, both leaves. */
function pair(r: () => number, shape: readonly number[], dtype: DType, lo = -1, hi = 1): [Tensor, Tensor] {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = roundTo(uniformArray(r, n, lo, hi), dtype, (x, d) => toGpu(x, d));
  const gpu = toGpu(v, dtype, shape);
  gpu.requiresGrad = true;
  const cpu = tensor(v, { shape, dtype: 'float64', requiresGrad: true });
  return [gpu, cpu];
}

function vals(t: Tensor): Float64Array {
  return Float64Array.from(t.toTypedArray());
}

/** Runs f on both sides with a random output gradient; compares the output and input gradients. */
function check(what: string, dtype: DType, inputs: [Tensor, Tensor][], f: (...xs: Tensor[]) => Tensor, seed = 1): void {
  tidy(() => {
    const r = rng(seed);
    const gpuIn = inputs.map(([g]) => g);
    const cpuIn = inputs.map(([, c]) => c);
    const yc = f(...cpuIn);
    poison(dtype, [yc.numel, ...cpuIn.map((t) => t.numel)]);
    const yg = f(...gpuIn);
    assert.deepEqual(yg.shape, yc.shape, `${what}: shapes`);
    assert.equal(yg.device, DEVICE);
    assert.equal(yg.dtype, dtype);
    const out = vals(yg);
    assert.ok(!hasNaN(out), `${what}: unwritten (NaN) output elements`);
    expectClose(`${what} [${dtype}] forward`, out, vals(yc), tolerance(dtype, 'elementwise') * 4);
    const go = roundTo(uniformArray(r, yc.numel), dtype, (x, d) => toGpu(x, d));
    const gc = grad(yc, cpuIn, tensor(go, { shape: yc.shape, dtype: 'float64' }), { allowUnused: true });
    const gg = grad(yg, gpuIn, toGpu(go, dtype, yc.shape), { allowUnused: true });
    gc.forEach((g, i) => {
      if (g === null) return;
      const h = gg[i];
      assert.ok(h !== null, `${what}: missing gradient ${i}`);
      expectClose(`${what} [${dtype}] grad ${i}`, vals(h), vals(g), tolerance(dtype, 'elementwise') * 8);
    });
  });
}

describe('CUDA kernels against the CPU', { skip: SKIP }, () => {
  for (const dtype of DTYPES) {
    it(`unary ops with gradients [${dtype}]`, () => {
      const r = rng(11);
      const ops: [string, (x: Tensor) => Tensor, number, number][] = [
        ['neg', neg, -2, 2],
        ['exp', exp, -2, 2],
        ['log', log, 0.2, 3],
        ['sigmoid', sigmoid, -4, 4],
        ['tanh', tanh, -3, 3],
        ['relu', relu, -2, 2],
        ['abs', abs, -2, 2],
        ['square', square, -2, 2],
        ['sqrt', sqrt, 0.1, 4],
        ['pow 3', (x) => pow(x, 3), -2, 2],
        ['pow 0.5', (x) => pow(x, 0.5), 0.1, 4],
        ['addScalar', (x) => add(x, 1.5), -2, 2],
        ['mulScalar', (x) => mul(x, -0.75), -2, 2],
        ['divScalar', (x) => div(x, 1.75), -2, 2],
        ['rsubScalar', (x) => sub(2, x), -2, 2],
        ['rdivScalar', (x) => div(3, x), 0.5, 2],
      ];
      for (const [name, f, lo, hi] of ops) check(name, dtype, [pair(r, [3, 5, 7], dtype, lo, hi)], f);
    });

    it(`broadcast binary ops with gradients [${dtype}]`, () => {
      const r = rng(12);
      const shapes: [number[], number[]][] = [
        [
          [4, 6],
          [4, 6],
        ],
        [[4, 6], [6]],
        [
          [3, 1, 5],
          [1, 4, 1],
        ],
        [
          [2, 3, 4, 5],
          [3, 1, 5],
        ],
        [[7], []],
      ];
      for (const [sa, sb] of shapes) {
        for (const [name, f] of [
          ['add', add],
          ['sub', sub],
          ['mul', mul],
          ['div', div],
        ] as const) {
          const a = pair(r, sa, dtype);
          const b = pair(r, sb, dtype, name === 'div' ? 0.5 : -1, name === 'div' ? 2 : 1);
          check(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, dtype, [a, b], (x, y) => f(x, y));
        }
      }
    });

    it(`sums and means over dimensions [${dtype}]`, () => {
      const r = rng(13);
      const x = pair(r, [3, 4, 5, 6], dtype);
      for (const dims of [null, 0, 1, 3, [0, 2], [1, 3], [0, 1, 2], [2, 3], [0, 3]] as const) {
        check(`sum ${JSON.stringify(dims)}`, dtype, [x], (t) => sum(t, dims as never));
        check(`mean keepdim ${JSON.stringify(dims)}`, dtype, [x], (t) => mean(t, dims as never, true));
      }
      // A long reduction that is split over blocks, and a long kept dim.
      const y = pair(r, [3, 70000], dtype);
      check('sum long rows', dtype, [y], (t) => sum(t, 1));
      check('sum long cols', dtype, [y], (t) => sum(t, 0));
    });

    it(`strided copies: permute, cat, stack, narrow [${dtype}]`, () => {
      const r = rng(14);
      const x = pair(r, [2, 3, 4, 5], dtype);
      const y = pair(r, [2, 3, 1, 5], dtype);
      check('permute', dtype, [x], (t) => permute(t, [3, 1, 0, 2]));
      check('cat', dtype, [x, y], (a, b) => cat([a, b], 2));
      check('stack', dtype, [x, x], (a, b) => stack([a, b], 1));
      check('narrow', dtype, [x], (t) => narrow(t, 3, 1, 3));
    });

    it(`pad in every mode, and its gradient [${dtype}]`, () => {
      const r = rng(15);
      const x = pair(r, [2, 3, 6, 7], dtype);
      for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
        check(`pad ${mode}`, dtype, [x], (t) => pad(t, [2, 1, 3, 2], mode, 0.25));
      }
    });

    it(`mask softmax and sigmoid [${dtype}]`, () => {
      const r = rng(16);
      const m = pair(r, [2, 2 * 9, 5, 6], dtype, -3, 3);
      check('maskSoftmax2d', dtype, [m], (t) => maskSoftmax2d(t, 3));
      check('maskSigmoid', dtype, [m], (t) => maskSigmoid(t, 2));
    });

    it(`casts to every dtype, and async reads [${dtype}]`, async () => {
      const r = rng(17);
      // float32-representable values, so float64 -> half rounds once either way.
      const v = roundTo(Float64Array.from(uniformArray(r, 1000, -100, 100), Math.fround), dtype, (x, d) => toGpu(x, d));
      const g = toGpu(v, dtype);
      for (const to of DTYPES) {
        const c = g.to(to);
        const expected = roundTo(v, to, (x, d) => toGpu(x, d));
        assert.deepEqual(
          Array.from(c.toTypedArray()),
          Array.from(Float64Array.from(expected, (e) => (to === 'float64' ? e : Math.fround(e)))),
          `cast ${dtype} -> ${to}`,
        );
        if (c !== g) c.dispose();
      }
      const viaCpu = g.to(dtype === 'float64' ? 'float64' : 'float32').cpu();
      assert.deepEqual(Array.from(await g.data()), Array.from(viaCpu.toTypedArray()));
      const storage = storageOf(g, 'test', 'g');
      if (!DRY_RUN)
        assert.deepEqual(Array.from(await cudaKernels.readAsync(storage)), Array.from(viaCpu.toTypedArray()));
      g.dispose();
      viaCpu.dispose();
    });
  }

  for (const dtype of DTYPES) {
    it(`in-place ops: copy_ across devices and dtypes, fill_, zero_, add_, mul_ [${dtype}]`, async () => {
      const r = rng(18);
      const v = roundTo(Float64Array.from(uniformArray(r, 777, -4, 4), Math.fround), dtype, (x, d) => toGpu(x, d));
      const w = roundTo(Float64Array.from(uniformArray(r, 777, -4, 4), Math.fround), dtype, (x, d) => toGpu(x, d));
      tidy(() => {
        const g = toGpu(v, dtype);
        // From the CPU (float64 and float32) into the device tensor, and back into CPU tensors.
        g.zero_();
        assert.deepEqual(Array.from(g.toTypedArray()), Array(777).fill(0), 'zero_');
        g.copy_(tensor(w, { dtype: 'float64' }));
        assert.deepEqual(Array.from(vals(g)), Array.from(w), 'copy_ from the CPU (float64)');
        const back = tensor(new Float64Array(777), { dtype: 'float64' }).copy_(g);
        assert.deepEqual(Array.from(vals(back)), Array.from(w), 'copy_ to the CPU');
        const back32 = tensor(new Float32Array(777)).copy_(g);
        assert.deepEqual(Array.from(vals(back32)), Array.from(w, Math.fround), 'copy_ to the CPU (float32)');
        // Same device, another dtype.
        const other: DType = dtype === 'float32' ? 'float64' : 'float32';
        const h = toGpu(v, other);
        g.copy_(h);
        assert.deepEqual(Array.from(vals(g)), Array.from(v), `copy_ from ${other} on the device`);
        // fill_, add_ (alpha, broadcast), mul_ against the same ops out of place.
        g.fill_(0.5);
        assert.deepEqual(Array.from(vals(g)), Array(777).fill(0.5), 'fill_');
        g.copy_(toGpu(v, dtype));
        const ref = add(toGpu(v, dtype), mul(toGpu(w, dtype), -0.25));
        g.add_(toGpu(w, dtype), -0.25);
        assert.deepEqual(Array.from(vals(g)), Array.from(vals(ref)), 'add_(other, alpha)');
        g.mul_(2).add_(1);
        assert.deepEqual(Array.from(vals(g)), Array.from(vals(add(mul(ref, 2), 1))), 'mul_(2).add_(1)');
        const m = toGpu(v, dtype, [7, 111]);
        m.mul_(toGpu(Float64Array.from([2]), dtype));
        assert.deepEqual(
          Array.from(vals(m)),
          Array.from(v, (x) => 2 * x),
          'mul_ with a broadcast tensor',
        );
        // Under grad mode, a parameter is refused; under noGrad it updates in place.
        const p = toGpu(v, dtype);
        p.requiresGrad = true;
        assert.throws(() => p.add_(1), /a leaf that requires grad/);
        noGrad(() => p.copy_(toGpu(w, dtype)));
        assert.deepEqual(Array.from(vals(p)), Array.from(w), 'copy_ under noGrad');
        if (!DRY_RUN) {
          // cuda:0 -> cuda:0 through copy_ of a detached alias is a no-op.
          p.detach().copy_(p.detach());
          assert.deepEqual(Array.from(vals(p)), Array.from(w));
        }
      });
      // to({ device: 'cpu', dtype }) converts on the device first (half types have no CPU dtype).
      const g = toGpu(v, dtype);
      for (const target of ['float32', 'float64'] as const) {
        const c = g.to({ device: 'cpu', dtype: target });
        assert.equal(c.device, 'cpu');
        assert.equal(c.dtype, target);
        assert.deepEqual(
          Array.from(vals(c)),
          Array.from(v, target === 'float32' ? Math.fround : (x) => x),
          `to(cpu, ${target})`,
        );
        if (c !== g) c.dispose();
      }
      // data() resolves from the CUDA backend's readAsync (disposing the tensor meanwhile is safe).
      const pending = g.data();
      g.dispose();
      assert.deepEqual(
        Array.from(await pending),
        Array.from(v, dtype === 'float64' ? (x) => x : Math.fround),
        'data()',
      );
      // data(out): the same values, into an array of the dtype's array type (Float32Array for the half types).
      const g2 = toGpu(v, dtype);
      const out = dtype === 'float64' ? new Float64Array(v.length) : new Float32Array(v.length);
      const filled = await g2.data(out);
      g2.dispose();
      assert.equal(filled, out);
      assert.deepEqual(Array.from(out), Array.from(v, dtype === 'float64' ? (x) => x : Math.fround), 'data(out)');
    });
  }

  it("binding: deform conv tensors as device buffers alone give the view form's results, and bad buffers throw", {
    skip: DRY_RUN,
  }, () => {
    // NOTE [ Device buffers as tensors ] (deform_conv_binding.cc): the ops layer passes CUDA tensors as their
    // buffers alone, shapes from the params; the same checks as the view form, by other code.
    const b = getCudaBinding('test');
    assert.equal(b.deformConvBuffers, true);
    const bb = b as unknown as NativeDeformConvBufferForm;
    // 2D, groups 2, offset groups 2, one mask group: input [2, 4, 6, 6], weight [4, 2, 3, 3], offset
    // [2, 36, 4, 4], mask [2, 9, 4, 4], bias [4], output [2, 4, 4, 4].
    const params: NativeDeformConvParams = {
      dim: 2,
      transposed: false,
      batch: 2,
      inChannels: 4,
      outChannels: 4,
      groups: 2,
      offsetGroups: 2,
      maskGroups: 1,
      kernelSize: [3, 3],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      inSize: [6, 6],
      outSize: [4, 4],
    };
    const packed = packDeformConvParams(params);
    const packedPlain = packDeformConvParams({ ...params, offsetGroups: 1 }); // without offset and mask
    const r = rng(41);
    // Deterministic mode: the gradients' scatter then adds in a fixed order, so both forms agree bitwise.
    const wasDeterministic = isDeterministic();
    setDeterministic(true);
    try {
      for (const dtype of ['float32', 'float16'] as const) {
        tidy(() => {
          const t = (shape: number[], lo = -1, hi = 1) =>
            toGpu(
              uniformArray(
                r,
                shape.reduce((a, c) => a * c, 1),
                lo,
                hi,
              ),
              dtype,
              shape,
            );
          const x = t([2, 4, 6, 6]);
          const w = t([4, 2, 3, 3]);
          const off = t([2, 36, 4, 4], -2, 2);
          const m = t([2, 9, 4, 4], 0, 1);
          const bias = t([4]);
          const gOut = t([2, 4, 4, 4]);
          const buf = (u: Tensor): NativeDeviceBuffer => bufferOf(storageOf(u, 'test', 'u'));
          const view = (u: Tensor) => ({ data: buf(u), shape: u.shape, dtype });
          const fresh = (u: Tensor) => full(u.shape, Number.NaN, { device: DEVICE, dtype });
          for (const withOffset of [true, false]) {
            const o = withOffset ? off : null;
            const mk = withOffset ? m : null;
            const bs = withOffset ? bias : null;
            const pp = withOffset ? packed : packedPlain;
            const [y1, y2] = [fresh(gOut), fresh(gOut)];
            b.deformConvForward(pp, view(x), view(w), o && view(o), mk && view(mk), bs && view(bs), view(y1));
            bb.deformConvForward(pp, buf(x), buf(w), o && buf(o), mk && buf(mk), bs && buf(bs), buf(y2));
            const forwardValues = vals(y2);
            assert.ok(!hasNaN(forwardValues), `[${dtype}] forward: every element written`);
            assert.deepEqual(
              forwardValues,
              vals(y1),
              `[${dtype}] forward, offset ${withOffset}: bitwise the view form's`,
            );
            // NOTE [ The forward's output made after its launches ]: a null output is made by the binding.
            assert.equal(b.deformConvForwardAllocates, true);
            const ba = b as unknown as NativeDeformConvAllocatingForward;
            const made = ba.deformConvForward(pp, buf(x), buf(w), o && buf(o), mk && buf(mk), bs && buf(bs), null);
            const madeBuffer = made as CudaDeviceBuffer;
            assert.deepEqual(
              [madeBuffer.numel, madeBuffer.dtype, madeBuffer.device, madeBuffer.freed],
              [128, dtype, 0, false],
            );
            assert.deepEqual(
              Float64Array.from(b.cudaDownload(madeBuffer)),
              forwardValues,
              `[${dtype}] forward, offset ${withOffset}: the made output bitwise the given one`,
            );
            b.cudaBufferFree(madeBuffer);
            const g1 = [x, w, off, m, bias].map(fresh);
            const g2 = [x, w, off, m, bias].map(fresh);
            const [gi1, gw1, go1, gm1, gb1] = g1 as [Tensor, Tensor, Tensor, Tensor, Tensor];
            const [gi2, gw2, go2, gm2, gb2] = g2 as [Tensor, Tensor, Tensor, Tensor, Tensor];
            b.deformConvBackward(pp, view(x), view(w), o && view(o), mk && view(mk), view(gOut), {
              input: view(gi1),
              weight: view(gw1),
              offset: o && view(go1),
              mask: mk && view(gm1),
              bias: view(gb1),
            });
            bb.deformConvBackward(pp, buf(x), buf(w), o && buf(o), mk && buf(mk), buf(gOut), {
              input: buf(gi2),
              weight: buf(gw2),
              offset: o && buf(go2),
              mask: mk && buf(gm2),
              bias: buf(gb2),
            });
            const used = withOffset ? [0, 1, 2, 3, 4] : [0, 1, 4];
            for (const i of used) {
              const got = vals(g2[i] as Tensor);
              assert.ok(!hasNaN(got), `[${dtype}] gradient ${i}: every element written`);
              assert.deepEqual(got, vals(g1[i] as Tensor), `[${dtype}] gradient ${i}, offset ${withOffset}: bitwise`);
            }
          }
          // Bad buffers: each throws an Error with a code, naming the argument; nothing is launched.
          const y = fresh(gOut);
          const other = toGpu(uniformArray(r, 72), dtype === 'float32' ? 'float16' : 'float32', [4, 2, 3, 3]);
          const grads = () => ({ input: buf(fresh(x)), weight: null, offset: null, mask: null, bias: null });
          // A disposed tensor's buffer (its memory back in the cache): refused, not read.
          const gone = fresh(bias);
          const goneBuffer = buf(gone);
          gone.dispose();
          // Any arguments: the point is to pass what the types forbid.
          type Loose = (...z: unknown[]) => unknown;
          const fwd =
            (...a: unknown[]) =>
            () =>
              (b.deformConvForward as unknown as Loose)(packed, ...a);
          const bwd =
            (...a: unknown[]) =>
            () =>
              (b.deformConvBackward as unknown as Loose)(packed, ...a);
          const bwdPlain =
            (...a: unknown[]) =>
            () =>
              (b.deformConvBackward as unknown as Loose)(packedPlain, ...a);
          const cases: [string, () => unknown, RegExp][] = [
            [
              'a view among buffers',
              fwd(buf(x), view(w), buf(off), buf(m), buf(bias), buf(y)),
              /expected weight to be a CUDA device buffer/,
            ],
            [
              'a number for mask',
              fwd(buf(x), buf(w), buf(off), 3, buf(bias), buf(y)),
              /expected mask to be a CUDA device buffer or null \(the input is one\), but got 3/,
            ],
            [
              'the bias buffer as the weight',
              fwd(buf(x), buf(bias), buf(off), buf(m), buf(bias), buf(y)),
              /expected weight\.data to have 72 elements/,
            ],
            [
              'a weight of another dtype',
              fwd(buf(x), buf(other), buf(off), buf(m), buf(bias), buf(y)),
              /expected weight\.dtype to be/,
            ],
            [
              'the output buffer as the input',
              fwd(buf(y), buf(w), buf(off), buf(m), buf(bias), buf(y)),
              /expected input\.data to have 288 elements/,
            ],
            [
              'a freed buffer',
              fwd(buf(x), buf(w), buf(off), buf(m), goneBuffer, buf(y)),
              /bias\.data: the device buffer was already freed/,
            ],
            [
              'saved given',
              fwd(buf(x), buf(w), buf(off), buf(m), buf(bias), buf(y), buf(y)),
              /expected saved to be null/,
            ],
            [
              'a bad weight with the output to be made',
              fwd(buf(x), buf(bias), buf(off), buf(m), buf(bias), null),
              /expected weight\.data to have 72 elements/,
            ],
            [
              'grads.mask is the mask',
              bwd(buf(x), buf(w), buf(off), buf(m), buf(gOut), { ...grads(), mask: buf(m) }),
              /grads\.mask not to share memory with mask/,
            ],
            [
              'grads.offset without offset',
              bwdPlain(buf(x), buf(w), null, null, buf(gOut), { ...grads(), offset: buf(t([2, 18, 4, 4])) }),
              /grads\.offset to be null because offset is null/,
            ],
            [
              'grads not an object',
              bwd(buf(x), buf(w), buf(off), buf(m), buf(gOut), 7),
              /expected grads to be an object/,
            ],
          ];
          for (const [what, call, message] of cases) {
            assert.throws(call, (e: unknown) => {
              assert.ok(e instanceof Error, `${what}: an Error`);
              assert.match(e.message, message, what);
              assert.equal(typeof (e as { code?: unknown }).code, 'string', `${what}: a code`);
              return true;
            });
          }
          assert.ok(hasNaN(vals(y)), 'no bad call wrote the output');
        });
      }
    } finally {
      setDeterministic(wasDeterministic);
    }
  });

  it('memory: a deform conv output made by the binding is counted, and returned on dispose', {
    skip: DRY_RUN || CACHING_ONLY,
  }, () => {
    // NOTE [ The forward's output made after its launches ] (deform_conv_binding.cc).
    const x = full([2, 8, 6, 6], 0.5, { device: DEVICE });
    const w = full([8, 8, 3, 3], 0.25, { device: DEVICE });
    const offset = full([2, 18, 6, 6], 0.3, { device: DEVICE });
    const before = cudaMemoryStats(DEVICE).allocated;
    const y = deformConv2d(x, w, { offset, padding: 1 });
    assert.ok(cudaMemoryStats(DEVICE).allocated >= before + 4 * y.numel, 'the output counted');
    // The values: as on the CPU (the float32 kernels; 1e-5 relative).
    const cpu = deformConv2d(x.cpu(), w.cpu(), { offset: offset.cpu(), padding: 1 });
    expectClose('made output', vals(y), vals(cpu), 1e-5);
    y.dispose();
    assert.equal(cudaMemoryStats(DEVICE).allocated, before, 'returned on dispose');
    for (const t of [x, w, offset, cpu]) t.dispose();
  });

  it('memory: freed tensors return to the cache, emptyCache returns the cache', {
    skip: DRY_RUN || CACHING_ONLY,
  }, () => {
    cudaEmptyCache();
    const before = cudaMemoryStats(DEVICE);
    const t = full([1 << 20], 3, { device: DEVICE });
    const during = cudaMemoryStats(DEVICE);
    assert.ok(during.allocated >= before.allocated + 4 * (1 << 20), 'allocation counted');
    t.dispose();
    const after = cudaMemoryStats(DEVICE);
    assert.equal(after.allocated, before.allocated, 'all returned');
    assert.ok(after.cached >= 4 * (1 << 20), 'kept for reuse');
    cudaEmptyCache();
    assert.equal(cudaMemoryStats(DEVICE).cached, 0, 'cache emptied');
  });

  it('memory: a device buffer is made by the binding only (its constructor refuses JS, before and after a buffer)', {
    skip: DRY_RUN,
  }, () => {
    // The constructor takes a type-tagged External that only the binding's allocation makes (cuda_memory_binding.cc).
    const b = getCudaBinding('test');
    const buf = b.cudaBufferAlloc(0, 'float32', 8);
    const Ctor = (buf as unknown as { constructor: new (...a: unknown[]) => unknown }).constructor;
    for (const args of [[], [{}], [buf], [1, 2]]) {
      assert.throws(() => new Ctor(...args), /not constructible from JS/, `new DeviceBuffer(${args.length} args)`);
    }
    const next = b.cudaBufferAlloc(0, 'float16', 4);
    assert.deepEqual([next.numel, next.dtype, next.byteLength, next.freed], [4, 'float16', 8, false]);
    assert.throws(() => new Ctor(), /not constructible from JS/, 'after a second allocation');
    b.cudaBufferFree(next);
    b.cudaBufferFree(buf);
    assert.equal(buf.freed, true);
  });

  it("profiler: the host mode times the binding's steps and the driver's phases, no CUDA events", {
    skip: DRY_RUN,
  }, () => {
    // NOTE [ Host phases ] (core/host_phase.h).
    const b = getCudaBinding('test');
    const x = full([1, 8, 6, 6], 0.5, { device: DEVICE });
    const w = full([8, 8, 3, 3], 0.25, { device: DEVICE });
    const offset = full([1, 18, 6, 6], 0.3, { device: DEVICE });
    b._cudaProfileReport();
    b._cudaProfile('host');
    let report: Record<string, number>;
    try {
      for (let i = 0; i < 3; i++) tidy(() => void deformConv2d(x, w, { offset, padding: 1 }));
      report = b._cudaProfileReport();
    } finally {
      b._cudaProfile(false);
    }
    for (const phase of [
      'forward',
      'forward:read',
      'forward:driver',
      'driver:setup',
      'alloc:allocate',
      'alloc:object',
    ]) {
      const calls = report[`host:${phase}:calls`];
      const once = !phase.startsWith('alloc:'); // the op may allocate more than its output
      assert.ok(once ? calls === 3 : calls >= 3, `${phase}: ${calls} times in 3 calls (${JSON.stringify(report)})`);
      assert.ok(report[`host:${phase}`] > 0, `${phase}: some time`);
    }
    assert.ok(report['host:forward'] >= report['host:forward:driver'], 'the call includes its driver');
    assert.ok(!Object.keys(report).some((k) => !k.startsWith('host:')), 'no device phase recorded');
    b._cudaProfile(false);
    tidy(() => void deformConv2d(x, w, { offset, padding: 1 }));
    assert.deepEqual(b._cudaProfileReport(), {}, 'off: nothing recorded');
    for (const t of [x, w, offset]) t.dispose();
  });

  it('memory: device bytes are reported to V8 in steps of 256 MB (allocating and freeing leaves the report alone)', {
    skip: DRY_RUN || process.env.TVDCN_CUDA_V8_REPORT === 'exact',
  }, () => {
    // NOTE [ Device memory reported to V8 in steps ] (cuda_memory_binding.cc): the report follows the live bytes
    // only when they move more than 256 MB away from it, so that a call that allocates a large output does not
    // start a V8 collection every time.
    const b = getCudaBinding('test');
    const MB = 2 ** 20;
    const start = b._cudaV8Report();
    assert.ok(
      Math.abs(start.live - start.reported) <= 256 * MB,
      `within a step at the start: ${JSON.stringify(start)}`,
    );
    const big = full([150 * MB], 1, { device: DEVICE }); // 600 MB: more than two steps
    const afterBig = b._cudaV8Report();
    assert.equal(afterBig.live, start.live + 600 * MB, 'live bytes counted exactly');
    assert.equal(afterBig.reported, afterBig.live, 'a move of more than a step is reported in full');
    for (const mb of [64, 200, 64, 256]) {
      const t = full([(mb * MB) / 4], 2, { device: DEVICE });
      const during = b._cudaV8Report();
      assert.equal(during.live, afterBig.live + mb * MB, `${mb} MB counted`);
      assert.equal(during.reported, afterBig.reported, `${mb} MB: within a step, not reported`);
      t.dispose();
      assert.deepEqual(b._cudaV8Report(), afterBig, `${mb} MB freed: back where it was`);
    }
    const t257 = full([(257 * MB) / 4], 2, { device: DEVICE });
    assert.equal(b._cudaV8Report().reported, afterBig.live + 257 * MB, 'just over a step: reported');
    t257.dispose();
    big.dispose();
    const end = b._cudaV8Report();
    assert.equal(end.live, start.live, 'all freed');
    assert.equal(end.reported, end.live, 'the fall of more than a step reported in full');
  });

  it('a float16 tensor of more than 2^31 elements (64-bit indexing)', { skip: DRY_RUN || FULL_ONLY }, () => {
    const n = 2 ** 31 + 2 ** 20 + 3;
    tidy(() => {
      const x = full([n], 1, { device: DEVICE, dtype: 'float16' });
      const y = mul(x, 0.5); // 64-bit elementwise
      const z = y.to('float32'); // 64-bit cast
      const total = sum(z).item(); // split reduction over 2^31+ elements
      assert.ok(Math.abs(total - n / 2) <= 1e-6 * n, `sum ${total} vs ${n / 2}`);
      // narrow() and pad() reading beyond 2^31: Float64Array maps, the int64 gather kernel.
      assert.deepEqual(Array.from(narrow(z, 0, n - 3, 3).toTypedArray()), [0.5, 0.5, 0.5]);
      assert.deepEqual(Array.from(pad(z, [-(n - 2), 1], 'constant', 7).toTypedArray()), [0.5, 0.5, 7]);
      // Strided copies at offsets beyond 2^31 (through the kernel table).
      const tail = (src: Tensor, dtype: DType, count: number): number[] => {
        const dst = cudaKernels.zeros(DEVICE, dtype, count).retain();
        cudaKernels.copyStrided(storageOf(src, 'test', 'src'), n - count, [1], dst, 0, [1], [count]);
        const v = Array.from(cudaKernels.read(dst));
        dst.release();
        return v;
      };
      assert.deepEqual(tail(z, 'float32', 3), [0.5, 0.5, 0.5]);
      assert.deepEqual(tail(x, 'float16', 1000), Array(1000).fill(1));
    });
    cudaEmptyCache();
  });
});
