// SPDX-License-Identifier: MIT
// The README's "What it looks like" example on the CPU, seeded, returning what it computed: run in Node
// (native binary) and in Chromium (WebAssembly) by test/browser-test.mjs and compared.
import { Adam, PackedDeformConv2d, manualSeed, mseLoss, randn } from 'tvdcn';

/** Runs one training step of the README example in `dtype`; returns the loss, output, gradients and new weights. */
export function readmeExample(dtype = 'float32') {
  manualSeed(0);
  const layer = new PackedDeformConv2d(64, 64, 3, { padding: 1, modulated: true, device: 'cpu', dtype });
  const opt = new Adam(layer.parameters(), { lr: 1e-3 });
  const x = randn([8, 64, 32, 32], { device: 'cpu', dtype });
  const output = layer.forward(x);
  const loss = mseLoss(output, randn([8, 64, 32, 32], { device: 'cpu', dtype }));
  opt.zeroGrad();
  loss.backward();
  const result = {
    loss: loss.item(),
    output: output.toTypedArray(),
    gradWeight: layer.weight.grad.toTypedArray(),
    gradOffsetGenerator: layer.offsetGenerator.weight.grad.toTypedArray(),
    gradMaskGenerator: layer.maskGenerator.weight.grad.toTypedArray(),
  };
  opt.step();
  result.weightAfterStep = layer.weight.toTypedArray();
  return result;
}
