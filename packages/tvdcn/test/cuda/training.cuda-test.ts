// SPDX-License-Identifier: MIT
// GPU suite of tvdcn (node:test; bundled by scripts/gpu-check.sh into .gpu/tvdcn-cuda-tests.mjs and run
// by scripts/gpu/train-demo-on-gpu.sh): the device paths of training against the CPU. SGD, Adam and AdamW
// steps on CUDA parameters (float64: to 1e-13; float32: to 1e-6), loadStateDict from CPU tensors into a
// CUDA module, init (resetParameters) on CUDA parameters, and a whole training step of a layer. Not run by
// vitest (the name does not end in .test.ts). TVDCN_GPU_TEST_DEVICE=cpu dry-runs it with the CPU in place.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Adam,
  AdamW,
  type DType,
  DeformConv2d,
  Generator,
  type Optimizer,
  PackedDeformConv2d,
  SGD,
  type Tensor,
  backendInfo,
  cuda,
  manualSeed,
  mseLoss,
  randn,
  tensor,
  uniform,
} from '../../src/index.js';

const DRY_RUN = process.env.TVDCN_GPU_TEST_DEVICE === 'cpu';
const DEVICE = DRY_RUN ? 'cpu' : 'cuda:0';
const SKIP: string | false =
  DRY_RUN || cuda.isAvailable() ? false : `no usable CUDA device (${backendInfo().cudaUnavailableReason})`;

/** `n` numbers uniform in [-1, 1) from `generator` (seeded, so a failure reproduces), as a CPU array. */
function randomArray(generator: Generator, n: number): Float64Array {
  const t = uniform([n], -1, 1, { dtype: 'float64', generator });
  const a = t.toTypedArray() as Float64Array;
  t.dispose();
  return a;
}

/** ||a - b|| / ||b||. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}

type MakeOptimizer = (p: Tensor) => Optimizer<object>;
const OPTIMIZERS: [string, MakeOptimizer][] = [
  [
    'SGD momentum, dampening, weight decay',
    (p) => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
  ],
  ['SGD nesterov, maximize', (p) => new SGD([p], { lr: 0.05, momentum: 0.8, nesterov: true, maximize: true })],
  ['Adam with L2 weight decay and AMSGrad', (p) => new Adam([p], { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
  ['Adam maximize, betas (0.4, 0.9)', (p) => new Adam([p], { lr: 0.02, betas: [0.4, 0.9], maximize: true })],
  ['AdamW', (p) => new AdamW([p], { lr: 0.01, weightDecay: 0.05 })],
];

describe('training on CUDA against the CPU', { skip: SKIP }, () => {
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const [name, make] of OPTIMIZERS) {
      it(`${name}: 6 steps [${dtype}]`, () => {
        const generator = new Generator().manualSeed(7);
        const n = 4099;
        const init = randomArray(generator, n);
        const onCpu = tensor(init, { dtype, requiresGrad: true });
        const onGpu = tensor(init, { dtype, device: DEVICE, requiresGrad: true });
        const cpuOpt = make(onCpu);
        const gpuOpt = make(onGpu);
        for (let step = 0; step < 6; step++) {
          const g = randomArray(generator, n);
          onCpu.grad = tensor(g, { dtype });
          onGpu.grad = tensor(g, { dtype, device: DEVICE });
          cpuOpt.step();
          gpuOpt.step();
        }
        assert.equal(onGpu.device, DEVICE);
        assert.ok(onGpu.isLeaf && onGpu.requiresGrad);
        for (const value of Object.values(gpuOpt.state.get(onGpu) ?? {})) {
          if (typeof value === 'object' && value !== null)
            assert.equal((value as Tensor).device, DEVICE, 'state on the device');
        }
        const err = relErr(onGpu.toTypedArray(), onCpu.toTypedArray());
        console.log(`  ${name} [${dtype}]: ${err.toExponential(2)}`);
        assert.ok(err <= (dtype === 'float64' ? 1e-13 : 1e-6), `relative error ${err}`);
      });
    }
  }

  it('loadStateDict copies CPU float64 tensors into a CUDA module; init runs on CUDA parameters', () => {
    manualSeed(3);
    const cpu = new DeformConv2d(4, 6, 3, { padding: 1 });
    const gpu = new DeformConv2d(4, 6, 3, { padding: 1, device: DEVICE });
    const dict = Object.fromEntries(Object.entries(cpu.stateDict()).map(([k, v]) => [k, v.to('float64')]));
    gpu.loadStateDict(dict);
    for (const [k, v] of Object.entries(gpu.stateDict())) {
      assert.equal(v.device, DEVICE);
      assert.deepEqual(Array.from(v.toTypedArray()), Array.from(cpu.stateDict()[k].toTypedArray()), k);
    }
    // Same seed, same draws (made on the CPU), the same values on either device.
    manualSeed(11);
    cpu.resetParameters();
    manualSeed(11);
    gpu.resetParameters();
    const w = gpu.weight.toTypedArray();
    assert.deepEqual(Array.from(w), Array.from(cpu.weight.toTypedArray()));
    const bound = 1 / Math.sqrt(4 * 9);
    assert.ok(w.every((x) => Math.abs(x) <= bound) && w.some((x) => x !== 0));
  });

  it('ten Adam steps of a modulated PackedDeformConv2d: losses and weights follow the CPU', () => {
    const run = (device: 'cpu' | typeof DEVICE): [number[], Float32Array | Float64Array] => {
      manualSeed(5);
      const layer = new PackedDeformConv2d(3, 4, 3, { padding: 1, modulated: true, generatorBias: true, device });
      const x = randn([2, 3, 12, 12]).to(device);
      const y = randn([2, 4, 12, 12]).to(device);
      const opt = new Adam(layer.parameters(), { lr: 0.01 });
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) {
        opt.zeroGrad();
        const loss = mseLoss(layer.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item());
        loss.dispose();
      }
      return [losses, layer.weight.toTypedArray()];
    };
    const [cpuLosses, cpuWeight] = run('cpu');
    const [gpuLosses, gpuWeight] = run(DEVICE);
    const lossErr = Math.max(...cpuLosses.map((l, i) => Math.abs(gpuLosses[i] - l) / l));
    const weightErr = relErr(gpuWeight, cpuWeight);
    console.log(`  packed layer: max loss rel. diff ${lossErr.toExponential(2)}, weight ${weightErr.toExponential(2)}`);
    assert.ok(lossErr < 1e-3 && weightErr < 1e-3, `loss ${lossErr}, weight ${weightErr}`);
  });
});
