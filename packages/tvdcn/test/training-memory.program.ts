// SPDX-License-Identifier: MIT
// Run by training-memory.test.ts in its own process: the training demo's loop (a modulated
// PackedDeformConv2d on 16 images 3×32×32, Adam, MSE), either as in PyTorch or with each step in tidy().
// Usage: node --import tsx training-memory.program.ts <none|tidy> <steps>. Prints one JSON line.
import { Adam, manualSeed, mseLoss, PackedDeformConv2d, randn, tidy } from '../src/index.js';

const mode = process.argv[2];
const steps = Number(process.argv[3] ?? 150);
if (mode !== 'none' && mode !== 'tidy') throw new Error(`expected mode none or tidy, got ${mode}`);

manualSeed(0);
const x = randn([16, 3, 32, 32]);
const target = randn([16, 1, 32, 32]);
const layer = new PackedDeformConv2d(3, 1, 3, { padding: 1, modulated: true, generatorBias: true });
const optimizer = new Adam(layer.parameters(), { lr: 0.02 });

function step(): number {
  optimizer.zeroGrad();
  const loss = mseLoss(layer.forward(x), target);
  loss.backward();
  optimizer.step();
  return loss.item();
}

const t0 = performance.now();
const losses: number[] = [];
for (let i = 0; i < steps; i++) losses.push(mode === 'tidy' ? tidy(step) : step());
const seconds = (performance.now() - t0) / 1000;
// maxRSS is in kilobytes (getrusage).
console.log(
  JSON.stringify({
    mode,
    steps,
    maxRssKb: process.resourceUsage().maxRSS,
    seconds,
    first: losses[0],
    last: losses.at(-1),
  }),
);
