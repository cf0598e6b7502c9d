// SPDX-License-Identifier: MIT
// GPU suite: two CUDA devices (runs when cuda.deviceCount() >= 2, skips with the reason otherwise).
// Tensors made on cuda:1 report it, their native buffers live on device 1 and are accounted in its pool
// only; transfers cuda:0 -> cuda:1 -> cpu (to(), copy_) keep the values; mixing the devices throws
// DeviceMismatchError without allocating anything (no implicit copies); deformable convolution forward
// and backward (offset, mask, bias, groups; regular and transposed) on cuda:1 against cuda:0 and the CPU
// float64 reference; elementwise ops, sums, pad, copies and mask softmax on cuda:1 against the CPU; a
// training loop on cuda:1 while cuda:0 holds and updates other tensors (nothing allocated on cuda:0 by
// the loop, the current CUDA device left as it was). TVDCN_GPU_TEST_DEVICE=cpu dry-runs the checks that
// do not need two distinct devices with the CPU in place of both.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  add,
  cat,
  cuda,
  cudaDeviceProperties,
  cudaEmptyCache,
  cudaMemoryStats,
  cudaSynchronize,
  deformConv2d,
  deformConvTranspose2d,
  DeviceMismatchError,
  div,
  exp,
  full,
  grad,
  keep,
  maskSoftmax2d,
  mean,
  mseLoss,
  mul,
  narrow,
  noGrad,
  pad,
  permute,
  pow,
  randn,
  relu,
  sigmoid,
  stack,
  sub,
  sum,
  tanh,
  tensor,
  tidy,
  zeros,
  type Device,
  type DType,
  type Tensor,
} from '../../src/index.js';
import { bufferOf } from '../../src/backends/cuda/cuda-storage.js';
import { getCudaBinding } from '../../src/native/cuda-binding.js';
import { storageOf } from '../../src/tensor/tensor.js';
import {
  ALL_DTYPES,
  DIRECT_ALLOCATOR,
  DRY_RUN,
  SKIP,
  expectClose,
  hasNaN,
  poison,
  rng,
  roundTo,
  tolerance,
  uniformArray,
} from './helpers.js';

/** The two devices under test (the CPU for both in a dry run). */
const D0 = (DRY_RUN ? 'cpu' : 'cuda:0') as Device;
const D1 = (DRY_RUN ? 'cpu' : 'cuda:1') as Device;

/** Why this suite is skipped (false: it runs). */
const SKIP_MULTI: string | false =
  SKIP !== false
    ? SKIP
    : DRY_RUN || cuda.deviceCount() >= 2
      ? false
      : `multi-GPU checks need two CUDA devices, but ${cuda.deviceCount()} is usable (run them on a two-GPU machine)`;

/** `skip` of a check that needs two distinct devices. */
const TWO_DEVICES: string | false = DRY_RUN ? 'needs two distinct devices (dry run on the CPU)' : false;

const toDev = (v: Float64Array, d: DType, device: Device, shape?: readonly number[]): Tensor =>
  tensor(d === 'float64' ? v : Float32Array.from(v), { shape: shape ?? [v.length], dtype: d, device });

/** Rounds values to `dtype` (through cuda:0 for the half types). */
const rounded = (v: Float64Array, dtype: DType): Float64Array => roundTo(v, dtype, (x, d) => toDev(x, d, D0));

function vals(t: Tensor): Float64Array {
  return Float64Array.from(t.toTypedArray());
}

/** The CUDA device index of a tensor's native buffer. */
function bufferDevice(t: Tensor): number {
  return bufferOf(storageOf(t, 'test', 't')).device;
}

/** Poisons the next outputs on `device` (a no-op on the CPU). */
function poisonOn(device: Device, dtype: DType, numels: readonly number[]): void {
  if (device !== 'cpu') poison(dtype, numels, 3, Number(device.slice(5)));
}

/** The CUDA device that is current on this thread (DeviceGuard must leave it as it was). */
function currentDevice(): number {
  return getCudaBinding('test').cudaGetDevice();
}

// --- deformable convolution: one regular and one transposed 2D problem with every optional input ---

interface ConvCase {
  name: string;
  transposed: boolean;
  shapes: { input: number[]; weight: number[]; offset: number[]; mask: number[]; bias: number[] };
  opts: Record<string, number>;
}

const CONV_CASES: ConvCase[] = [
  {
    // output floor((9 + 2 * 2 - 2 * 2 - 1) / 2) + 1 = 5 by floor((8 + 4 - 4 - 1) / 2) + 1 = 4
    name: 'deformConv2d, groups 2, og 2, mg 2, stride 2, dilation 2, bias',
    transposed: false,
    shapes: {
      input: [2, 4, 9, 8],
      weight: [6, 2, 3, 3],
      offset: [2, 2 * 2 * 9, 5, 4],
      mask: [2, 2 * 9, 5, 4],
      bias: [6],
    },
    opts: { stride: 2, padding: 2, dilation: 2, groups: 2 },
  },
  {
    // weight [cin, cout / groups, k, k]; offset and mask groups over cout = 6, on the input grid;
    // output (5 - 1) * 2 - 2 + 3 + 1 = 10 by (4 - 1) * 2 - 2 + 3 + 1 = 8
    name: 'deformConvTranspose2d, groups 2, og 2, mg 2, stride 2, outputPadding 1, bias',
    transposed: true,
    shapes: {
      input: [2, 4, 5, 4],
      weight: [4, 3, 3, 3],
      offset: [2, 2 * 2 * 9, 5, 4],
      mask: [2, 2 * 9, 5, 4],
      bias: [6],
    },
    opts: { stride: 2, padding: 1, dilation: 1, groups: 2, outputPadding: 1 },
  },
];
const CONV_INPUTS = ['input', 'weight', 'offset', 'mask', 'bias'] as const;
const CONV_RANGES: Record<(typeof CONV_INPUTS)[number], [number, number]> = {
  input: [-1, 1],
  weight: [-0.5, 0.5],
  offset: [-2.5, 2.5],
  mask: [0, 1],
  bias: [-1, 1],
};

interface ConvResult {
  out: Float64Array;
  grads: Float64Array[];
  devices: Device[];
}

/** Forward and the five gradients of `c` on `device` in `dtype`, on the given (already rounded) values. */
function runConv(c: ConvCase, device: Device, dtype: DType, values: Float64Array[], gradOut: Float64Array): ConvResult {
  return tidy(() => {
    const xs = CONV_INPUTS.map((name, k) => {
      const t = toDev(values[k], dtype, device, c.shapes[name]);
      t.requiresGrad = true;
      return t;
    });
    const [x, w, offset, mask, bias] = xs;
    const fn = c.transposed ? deformConvTranspose2d : deformConv2d;
    const outNumel = c.transposed ? 2 * 6 * 10 * 8 : 2 * 6 * 5 * 4;
    poisonOn(device, dtype, [outNumel]);
    const y = fn(x, w, { offset, mask, bias, ...c.opts });
    const g = toDev(gradOut, dtype, device, y.shape);
    poisonOn(
      device,
      dtype,
      values.map((v) => v.length),
    );
    const gs = grad(y, xs, g);
    return {
      out: vals(y),
      grads: gs.map((t) => vals(t as Tensor)),
      devices: [y.device, ...gs.map((t) => (t as Tensor).device)],
    };
  });
}

// --- elementwise ops, sums, pad and copies, with gradients ---

/** Runs `f` on `device` in `dtype` and on the CPU in float64; compares the output and the input gradients. */
function checkOn(
  device: Device,
  what: string,
  dtype: DType,
  shapes: [number[], number, number][],
  f: (...xs: Tensor[]) => Tensor,
  seed: number,
): void {
  tidy(() => {
    const r = rng(seed);
    const values = shapes.map(([shape, lo, hi]) =>
      rounded(
        uniformArray(
          r,
          shape.reduce((a, b) => a * b, 1),
          lo,
          hi,
        ),
        dtype,
      ),
    );
    const cpuIn = shapes.map(([shape], k) => tensor(values[k], { shape, dtype: 'float64', requiresGrad: true }));
    const devIn = shapes.map(([shape], k) => {
      const t = toDev(values[k], dtype, device, shape);
      t.requiresGrad = true;
      return t;
    });
    const yc = f(...cpuIn);
    poisonOn(device, dtype, [yc.numel, ...values.map((v) => v.length)]);
    const yd = f(...devIn);
    assert.equal(yd.device, device, `${what}: output device`);
    if (device !== 'cpu') assert.equal(bufferDevice(yd), Number(device.slice(5)), `${what}: output buffer's device`);
    assert.deepEqual(yd.shape, yc.shape, `${what}: shapes`);
    const out = vals(yd);
    assert.ok(!hasNaN(out), `${what}: unwritten (NaN) output elements`);
    const tol = tolerance(dtype, 'elementwise');
    expectClose(`${what} on ${device} [${dtype}] forward`, out, vals(yc), tol * 4);
    const go = rounded(uniformArray(r, yc.numel), dtype);
    const gc = grad(yc, cpuIn, tensor(go, { shape: yc.shape, dtype: 'float64' }), { allowUnused: true });
    const gd = grad(yd, devIn, toDev(go, dtype, device, yc.shape), { allowUnused: true });
    gc.forEach((g, i) => {
      if (g === null) return;
      const h = gd[i];
      assert.ok(h !== null, `${what}: missing gradient ${i}`);
      assert.equal(h.device, device, `${what}: gradient ${i} device`);
      expectClose(`${what} on ${device} [${dtype}] grad ${i}`, vals(h), vals(g), tol * 8);
    });
  });
}

// --- a small training loop ---

interface TrainResult {
  losses: number[];
  params: Float64Array[];
}

/**
 * Five steps of gradient descent on the weight, bias, offset and mask logits of a grouped, modulated
 * deformable convolution followed by tanh, reflect padding and an MSE loss, all on `device`. `between`
 * runs after each step (the GPU run works on cuda:0 there).
 */
function train(device: Device, dtype: DType, between: (step: number) => void = () => {}): TrainResult {
  const r = rng(77);
  const x = toDev(uniformArray(r, 2 * 4 * 6 * 6), dtype, device, [2, 4, 6, 6]);
  const target = toDev(uniformArray(r, 2 * 4 * 8 * 8, -0.5, 0.5), dtype, device, [2, 4, 8, 8]);
  const shapes = [
    [4, 2, 3, 3], // weight (groups 2)
    [4], // bias
    [2, 18, 6, 6], // offset
    [2, 9, 6, 6], // mask logits
  ];
  const scales = [0.3, 0.1, 1, 1];
  let params = shapes.map((shape, k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = toDev(uniformArray(r, n, -scales[k], scales[k]), dtype, device, shape);
    t.requiresGrad = true;
    return t;
  });
  const lr = 0.5;
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const next = tidy(() => {
      const [w, b, offset, maskLogits] = params;
      const y = deformConv2d(x, w, { offset, mask: sigmoid(maskLogits), bias: b, padding: 1, groups: 2 });
      const loss = mseLoss(pad(tanh(y), [1, 1, 1, 1], 'reflect'), target);
      assert.equal(loss.device, device);
      const gs = grad(loss, params);
      losses.push(loss.item());
      return noGrad(() =>
        params.map((p, k) => {
          const g = gs[k] as Tensor;
          assert.equal(g.device, device, `gradient ${k} device`);
          const q = keep(sub(p, mul(g, lr)));
          q.requiresGrad = true;
          return q;
        }),
      );
    });
    for (const p of params) p.dispose();
    params = next;
    between(step);
  }
  const out = params.map(vals);
  for (const t of [...params, x, target]) t.dispose();
  return { losses, params: out };
}

describe('two CUDA devices: cuda:1 alone, and next to cuda:0', { skip: SKIP_MULTI }, () => {
  it('tensors made on cuda:1 report it, live in device 1 buffers and are accounted on device 1 only', {
    skip: TWO_DEVICES,
  }, () => {
    cudaSynchronize();
    cudaEmptyCache();
    const before = currentDevice();
    // A cached block on cuda:0, to check that emptying cuda:1's cache leaves cuda:0's alone, and a
    // tensor on 'cuda' (cuda:0) to move.
    full([1 << 18], 0, { device: 'cuda:0' }).dispose();
    const src0 = tensor([1, 2, 3], { device: 'cuda' });
    const s0 = cudaMemoryStats('cuda:0');
    const s1 = cudaMemoryStats('cuda:1');
    assert.ok(DIRECT_ALLOCATOR || s0.cached > 0, 'a cached block on cuda:0');
    const props = [cudaDeviceProperties(0), cudaDeviceProperties(1)];
    console.log(
      `cuda:0 ${props[0].name} (${props[0].multiProcessorCount} SMs), cuda:1 ${props[1].name} (${props[1].multiProcessorCount} SMs)`,
    );
    const n = 1 << 20;
    const made = [
      full([n], 2, { device: 'cuda:1' }),
      zeros([256, 1024], { device: 'cuda:1', dtype: 'float64' }),
      tensor(new Float32Array(1000).fill(1.5), { device: 'cuda:1', dtype: 'float16' }),
      randn([64, 64], { device: 'cuda:1', dtype: 'bfloat16' }),
      src0.cuda(1),
    ];
    const bytes = 4 * n + 8 * 256 * 1024 + 2 * 1000 + 2 * 64 * 64 + 4 * 3;
    for (const t of made) {
      assert.equal(t.device, 'cuda:1');
      assert.equal(bufferDevice(t), 1, 'the native buffer is on device 1');
    }
    // Results of ops on cuda:1 stay there.
    const derived = [mul(made[0], 3), made[0].to('float64'), sum(made[1]), pad(made[3], [1, 1], 'replicate')];
    for (const t of derived) {
      assert.equal(t.device, 'cuda:1');
      assert.equal(bufferDevice(t), 1);
    }
    assert.equal(
      tidy(() => sum(derived[0]).item()),
      6 * n,
    );
    assert.deepEqual(Array.from(made[4].toTypedArray()), [1, 2, 3]);
    const during1 = cudaMemoryStats('cuda:1');
    const during0 = cudaMemoryStats('cuda:0');
    assert.ok(
      during1.allocated >= s1.allocated + bytes,
      `cuda:1 allocated ${during1.allocated} < ${s1.allocated} + ${bytes}`,
    );
    assert.ok(during1.blocks >= s1.blocks + made.length + derived.length, 'blocks counted on cuda:1');
    assert.equal(during0.allocCount, s0.allocCount, 'nothing allocated on cuda:0');
    assert.ok(during0.allocated <= s0.allocated, 'nothing allocated on cuda:0');
    for (const t of [...made, ...derived]) t.dispose();
    const after1 = cudaMemoryStats('cuda:1');
    assert.ok(after1.allocated <= s1.allocated, 'everything returned on cuda:1');
    assert.ok(DIRECT_ALLOCATOR || after1.cached >= 4 * n, 'kept for reuse on cuda:1');
    const cached0 = cudaMemoryStats('cuda:0').cached;
    cudaEmptyCache('cuda:1');
    assert.equal(cudaMemoryStats('cuda:1').cached, 0, "cuda:1's cache emptied");
    assert.equal(cudaMemoryStats('cuda:0').cached, cached0, "cuda:0's cache untouched");
    src0.dispose();
    cudaSynchronize('cuda:1');
    assert.equal(currentDevice(), before, 'the current device is unchanged');
    cudaEmptyCache();
  });

  for (const dtype of ALL_DTYPES) {
    it(`transfers cuda:0 -> cuda:1 -> cpu (and back) keep the values [${dtype}]`, async () => {
      const r = rng(21);
      // float32-representable values, so that the half types round once either way.
      const v = rounded(Float64Array.from(uniformArray(r, 1200, -100, 100), Math.fround), dtype);
      const hostView = dtype === 'float64' ? 'float64' : 'float32';
      const x0 = toDev(v, dtype, D0, [30, 40]);
      const x1 = x0.to(D1);
      assert.equal(x1.device, D1);
      assert.equal(x1.dtype, dtype);
      assert.deepEqual(x1.shape, [30, 40]);
      if (!DRY_RUN) assert.equal(bufferDevice(x1), 1);
      const h = x1.to(hostView); // a half type widens on the device: the CPU has no half dtypes
      const c = h.cpu();
      if (h !== x1) h.dispose();
      assert.equal(c.device, 'cpu');
      assert.deepEqual(Array.from(vals(c)), Array.from(v), 'cuda:0 -> cuda:1 -> cpu');
      const back = x1.to(D0);
      assert.equal(back.device, D0);
      assert.deepEqual(Array.from(vals(back)), Array.from(v), 'cuda:1 -> cuda:0');
      // A permuted (copied) tensor moves with its values in the new order.
      const p1 = permute(x0, [1, 0]).to(D1);
      const pc = permute(tensor(v, { shape: [30, 40], dtype: 'float64' }), [1, 0]);
      assert.deepEqual(Array.from(vals(p1)), Array.from(vals(pc)), 'permuted, then moved');
      // copy_ is the explicit copy between devices: into a tensor of cuda:1, and back into one of cuda:0.
      const into1 = zeros([30, 40], { device: D1, dtype }).copy_(x0);
      const into0 = full([30, 40], 5, { device: D0, dtype }).copy_(into1);
      assert.equal(into1.device, D1);
      if (!DRY_RUN) assert.equal(bufferDevice(into1), 1);
      assert.deepEqual(Array.from(vals(into1)), Array.from(v), 'copy_ cuda:0 -> cuda:1');
      assert.deepEqual(Array.from(vals(into0)), Array.from(v), 'copy_ cuda:1 -> cuda:0');
      into0.dispose();
      into1.dispose();
      // Asynchronous reads of both devices at once.
      const [a0, a1] = await Promise.all([x0.data(), x1.data()]);
      assert.deepEqual(Array.from(a1), Array.from(a0), 'data() on both devices');
      if (!DRY_RUN) {
        const x1b = x0.cuda(1);
        assert.equal(x1b.device, 'cuda:1');
        assert.deepEqual(Array.from(vals(x1b)), Array.from(v), 'cuda(1)');
        x1b.dispose();
      }
      for (const t of [x0, x1, c, back, p1, pc]) t.dispose();
    });
  }

  it('mixing cuda:0 and cuda:1 inputs throws DeviceMismatchError and allocates nothing (no implicit copy)', {
    skip: TWO_DEVICES,
  }, () => {
    tidy(() => {
      const a0 = full([4, 5], 1, { device: 'cuda:0' });
      const b1 = full([4, 5], 2, { device: 'cuda:1' });
      const c = CONV_CASES[0];
      const on = (name: keyof ConvCase['shapes'], device: Device) => full(c.shapes[name], 0.25, { device });
      const conv1 = CONV_INPUTS.map((name) => on(name, 'cuda:1'));
      const conv0 = CONV_INPUTS.map((name) => on(name, 'cuda:0'));
      const xin = full(c.shapes.input, 0.5, { device: 'cuda:1' });
      xin.requiresGrad = true;
      const y1 = deformConv2d(xin, conv1[1], { offset: conv1[2], mask: conv1[3], bias: conv1[4], ...c.opts });
      const g0 = full(y1.shape, 1, { device: 'cuda:0' }); // a gradient of the output on the other device
      const s0 = cudaMemoryStats('cuda:0');
      const s1 = cudaMemoryStats('cuda:1');
      assert.throws(
        () => add(a0, b1),
        (e: unknown) => e instanceof DeviceMismatchError && /no implicit copies/.test(e.message),
      );
      assert.throws(() => mul(b1, a0), DeviceMismatchError);
      assert.throws(() => div(a0, b1), DeviceMismatchError);
      assert.throws(() => cat([a0, b1], 0), DeviceMismatchError);
      assert.throws(() => stack([b1, a0], 0), DeviceMismatchError);
      assert.throws(() => mseLoss(b1, a0), DeviceMismatchError);
      assert.throws(() => b1.add_(a0), DeviceMismatchError);
      assert.throws(() => b1.mul_(a0), DeviceMismatchError);
      // Each deformable-convolution input in turn on cuda:0, the others on cuda:1.
      for (let k = 0; k < CONV_INPUTS.length; k++) {
        const xs = conv1.map((t, i) => (i === k ? conv0[i] : t));
        assert.throws(
          () => deformConv2d(xs[0], xs[1], { offset: xs[2], mask: xs[3], bias: xs[4], ...c.opts }),
          DeviceMismatchError,
          `deformConv2d with ${CONV_INPUTS[k]} on cuda:0`,
        );
      }
      assert.throws(() => grad(y1, [xin], g0), DeviceMismatchError);
      assert.throws(() => y1.backward(g0), DeviceMismatchError);
      const e0 = cudaMemoryStats('cuda:0');
      const e1 = cudaMemoryStats('cuda:1');
      assert.ok(e0.allocated <= s0.allocated, 'nothing allocated on cuda:0');
      assert.ok(e1.allocated <= s1.allocated, 'nothing allocated on cuda:1');
      assert.equal(e0.allocCount, s0.allocCount, 'no allocation attempted on cuda:0');
      assert.equal(e1.allocCount, s1.allocCount, 'no allocation attempted on cuda:1');
    });
  });

  for (const c of CONV_CASES) {
    for (const dtype of ALL_DTYPES) {
      it(`${c.name} on cuda:1 equals cuda:0 and the CPU float64 reference, forward and all gradients [${dtype}]`, () => {
        const r = rng(c.transposed ? 31 : 30);
        const values = CONV_INPUTS.map((name) => {
          const [lo, hi] = CONV_RANGES[name];
          return rounded(
            uniformArray(
              r,
              c.shapes[name].reduce((a, b) => a * b, 1),
              lo,
              hi,
            ),
            dtype,
          );
        });
        const outNumel = c.transposed ? 2 * 6 * 10 * 8 : 2 * 6 * 5 * 4;
        const go = rounded(uniformArray(r, outNumel), dtype);
        const ref = runConv(c, 'cpu', 'float64', values, go);
        const on0 = runConv(c, D0, dtype, values, go);
        const on1 = runConv(c, D1, dtype, values, go);
        for (const d of on1.devices) assert.equal(d, D1, 'results on cuda:1');
        for (const d of on0.devices) assert.equal(d, D0, 'results on cuda:0');
        const names = ['output', ...CONV_INPUTS.map((n) => `grad ${n}`)];
        [on0, on1].forEach((res, dev) => {
          [res.out, ...res.grads].forEach((got, k) => {
            assert.ok(!hasNaN(got), `cuda:${dev} ${names[k]}: unwritten (NaN) elements`);
            const want = k === 0 ? ref.out : ref.grads[k - 1];
            expectClose(
              `cuda:${dev} ${c.name} ${names[k]} [${dtype}]`,
              got,
              want,
              tolerance(dtype, k === 0 ? 'forward' : 'backward'),
            );
          });
        });
        [on1.out, ...on1.grads].forEach((got, k) => {
          const want = k === 0 ? on0.out : on0.grads[k - 1];
          expectClose(
            `cuda:1 vs cuda:0 ${c.name} ${names[k]} [${dtype}]`,
            got,
            want,
            tolerance(dtype, k === 0 ? 'forward' : 'backward'),
          );
        });
        // The regular forward has no atomics: on two devices of one model it is the same bits.
        if (!c.transposed && !DRY_RUN) {
          const [p0, p1] = [cudaDeviceProperties(0), cudaDeviceProperties(1)];
          if (p0.name === p1.name && p0.multiProcessorCount === p1.multiProcessorCount) {
            assert.deepEqual(on1.out, on0.out, 'regular forward bitwise equal on cuda:0 and cuda:1');
          }
        }
      });
    }
  }

  for (const dtype of ALL_DTYPES) {
    it(`elementwise ops, sums, pad, copies and mask softmax on cuda:1, with gradients [${dtype}]`, () => {
      let seed = 40;
      const x: [number[], number, number] = [[2, 3, 6, 7], -1, 1];
      const pos: [number[], number, number] = [[2, 3, 6, 7], 0.5, 2];
      const check = (what: string, shapes: [number[], number, number][], f: (...xs: Tensor[]) => Tensor) =>
        checkOn(D1, what, dtype, shapes, f, seed++);
      check('exp', [x], exp);
      check('sigmoid', [x], sigmoid);
      check('relu', [x], relu);
      check('pow 3', [x], (t) => pow(t, 3));
      check('mulScalar', [x], (t) => mul(t, -0.75));
      check(
        'add broadcast',
        [
          [[3, 1, 5], -1, 1],
          [[1, 4, 1], -1, 1],
        ],
        add,
      );
      check(
        'mul broadcast',
        [
          [[2, 3, 4, 5], -1, 1],
          [[3, 1, 5], -1, 1],
        ],
        mul,
      );
      check('div', [x, pos], div);
      check('sum all', [x], (t) => sum(t));
      check('sum [0, 2]', [x], (t) => sum(t, [0, 2]));
      check('mean keepdim 3', [x], (t) => mean(t, 3, true));
      check('sum long rows', [[[3, 70000], -1, 1]], (t) => sum(t, 1));
      for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
        check(`pad ${mode}`, [x], (t) => pad(t, [2, 1, 3, 2], mode, 0.25));
      }
      check('permute', [x], (t) => permute(t, [3, 1, 0, 2]));
      check('cat', [x, [[2, 3, 1, 7], -1, 1]], (a, b) => cat([a, b], 2));
      check('narrow', [x], (t) => narrow(t, 3, 1, 3));
      check('maskSoftmax2d (2 mask groups)', [[[2, 2 * 9, 5, 6], -3, 3]], (t) => maskSoftmax2d(t, 3));
    });
  }

  it('a training loop on cuda:1 while cuda:0 holds and updates other tensors: same losses and parameters as the CPU', async () => {
    const before = DRY_RUN ? 0 : currentDevice();
    for (const dtype of ['float64', 'float32'] as DType[]) {
      // cuda:0 holds tensors of its own during the whole loop, and works on them between the steps.
      const r = rng(90);
      const other = uniformArray(r, 1 << 16);
      let resident = toDev(other, 'float64', D0, [256, 256]);
      const held = full([1 << 18], 7, { device: D0 });
      if (!DRY_RUN) {
        cudaSynchronize();
        cudaEmptyCache('cuda:1');
      }
      const s0 = DRY_RUN ? null : cudaMemoryStats('cuda:0');
      const s1 = DRY_RUN ? null : cudaMemoryStats('cuda:1');
      let between0 = 0; // allocations on cuda:0 by the work between the steps
      const gpu = train(D1, dtype, (step) => {
        const a = DRY_RUN ? 0 : cudaMemoryStats('cuda:0').allocCount;
        const next = tidy(() =>
          keep(add(narrow(narrow(pad(resident, [1, 1, 1, 1], 'replicate'), 0, 1, 256), 1, 1, 256), 1)),
        );
        resident.dispose();
        resident = next;
        assert.equal(resident.device, D0);
        assert.equal(
          tidy(() => sum(held).item()),
          7 * (1 << 18),
          `cuda:0 tensor intact after step ${step}`,
        );
        if (!DRY_RUN) between0 += cudaMemoryStats('cuda:0').allocCount - a;
      });
      if (s0 !== null && s1 !== null) {
        const e0 = cudaMemoryStats('cuda:0');
        assert.equal(e0.allocCount - s0.allocCount, between0, 'the cuda:1 loop allocated nothing on cuda:0');
        assert.ok(e0.allocated <= s0.allocated, 'cuda:0 holds what it held');
        assert.ok(cudaMemoryStats('cuda:1').allocated <= s1.allocated, 'everything of the loop returned on cuda:1');
        assert.equal(currentDevice(), before, 'the current device is unchanged');
      }
      const cpu = train('cpu', 'float64');
      assert.deepEqual(
        Array.from(await resident.data()),
        Array.from(other, (v) => v + 1 + 1 + 1 + 1 + 1),
        'the cuda:0 tensor holds its own updates',
      );
      resident.dispose();
      held.dispose();
      console.log(`training loop on ${D1} [${dtype}]: losses ${gpu.losses.map((l) => l.toExponential(4)).join(', ')}`);
      assert.ok(gpu.losses[4] < gpu.losses[0], `the loss decreases: ${gpu.losses.join(', ')}`);
      const tol = dtype === 'float64' ? 1e-10 : 1e-4;
      expectClose(`losses on ${D1} [${dtype}] vs the CPU`, gpu.losses, cpu.losses, tol);
      gpu.params.forEach((p, k) => {
        expectClose(`parameter ${k} after 5 steps on ${D1} [${dtype}] vs the CPU`, p, cpu.params[k], tol);
      });
    }
  });
});
