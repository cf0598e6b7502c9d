// SPDX-License-Identifier: MIT
// Training demo: a modulated PackedDeformConv2d learns to undo a known geometric warp (a rotation about
// the image centre plus a shift) of synthetic images. Its offset generator sees the warped image and two
// coordinate channels, so it can learn the position-dependent offsets that map every output pixel back to
// where its content went. Draws several samples (input, output, target, learned sampling positions) with
// a legend into one PNG. `--help` lists the options (src/cli.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import {
  Adam,
  backendInfo,
  type Device,
  manualSeed,
  mseLoss,
  noGrad,
  NotImplementedError,
  PackedDeformConv2d,
  parseDevice,
  setCudaFloat32Matmul,
  tensor,
  tidy,
  zeros,
} from 'tvdcn';
import { parseDemoArgs, USAGE, UsageError, type DemoOptions } from './cli.js';
import { makeImages, warpImages, withCoordinates, type Warp } from './data.js';
import { drawPicture, meanError, probes } from './picture.js';

let opts: DemoOptions;
try {
  opts = parseDemoArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`demo: ${e.message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const { steps, samples } = opts;
const device = parseDevice(opts.device, 'demo --device') as Device;
const outDir = opts.out ?? join(fileURLToPath(new URL('..', import.meta.url)), 'out');
if (device !== 'cpu') {
  // Fail with the library's one-line reason (no CUDA build, no usable device) rather than a stack trace.
  try {
    zeros([1], { device }).dispose();
  } catch (e) {
    if (!(e instanceof NotImplementedError)) throw e;
    console.error(`demo: cannot train on ${device}: ${e.message}`);
    process.exit(2);
  }
  if (opts.fp32Matmul !== null) setCudaFloat32Matmul(opts.fp32Matmul);
}

const SIZE = 32;
const COUNT = 16;
const warp: Warp = { angleDeg: 10, shiftY: 1.5, shiftX: -1.0 };

manualSeed(0);
const clean = makeImages(COUNT, SIZE, 7);
const warped = warpImages(clean, COUNT, SIZE, warp);
// The model sees the warped image (+ coordinates) and must produce the clean one.
const x = tensor(withCoordinates(warped, COUNT, SIZE), { shape: [COUNT, 3, SIZE, SIZE], device });
const target = tensor(clean, { shape: [COUNT, 1, SIZE, SIZE], device });

const layer = new PackedDeformConv2d(3, 1, 3, {
  padding: 1,
  modulated: true,
  generatorBias: true,
  device,
});
const optimizer = new Adam(layer.parameters(), { lr: 0.02 });

const identityLoss = mseLoss(tensor(warped, { shape: [COUNT, 1, SIZE, SIZE], device }), target).item();
const matmul = opts.fp32Matmul && device !== 'cpu' ? ` (float32 matmul: ${opts.fp32Matmul})` : '';
console.log(`tvdcn training demo — ${backendInfo().candidate ?? 'no binary'} on ${device}${matmul}`);
console.log(
  `warp: rotation ${warp.angleDeg}°, shift (${warp.shiftY}, ${warp.shiftX}) px; ${COUNT} images ${SIZE}×${SIZE}`,
);
console.log(`${layer.toString()}`);

// A live bar on a terminal; otherwise (a log, CI) a plain line at each quarter of the run.
const bar = process.stdout.isTTY
  ? new cliProgress.SingleBar(
      { format: 'training |{bar}| {value}/{total} steps | loss {loss}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
  : null;
const losses: number[] = [];
const t0 = performance.now();
bar?.start(steps, 0, { loss: '-' });
// The training step, as in PyTorch: no tidy() needed. backward() frees the graph's saved tensors, and the
// intermediate tensors nobody disposes are reclaimed by the garbage collector (docs/perf/memory.md).
function trainStep(): number {
  optimizer.zeroGrad();
  const loss = mseLoss(layer.forward(x), target);
  loss.backward();
  optimizer.step();
  return loss.item();
}
for (let step = 0; step < steps; step++) {
  const value = opts.tidy ? tidy(trainStep) : trainStep();
  losses.push(value);
  bar?.update(step + 1, { loss: value.toExponential(3) });
  if (bar === null && ((step + 1) % Math.ceil(steps / 4) === 0 || step + 1 === steps)) {
    console.log(`  step ${String(step + 1).padStart(String(steps).length)}/${steps}  loss ${value.toExponential(3)}`);
  }
}
bar?.stop();
const seconds = (performance.now() - t0) / 1000;

const first = losses[0];
const last = losses[losses.length - 1];
console.log(
  `loss ${first.toExponential(3)} → ${last.toExponential(3)} (${(first / last).toFixed(1)}x lower) in ${seconds.toFixed(1)} s`,
);
console.log(`for comparison, the warped input itself is at ${identityLoss.toExponential(3)} from the target`);
if (opts.losses !== null) {
  const record = {
    device,
    fp32Matmul: device === 'cpu' ? null : (opts.fp32Matmul ?? 'tf32x3'),
    steps,
    seconds,
    losses,
  };
  writeFileSync(opts.losses, `${JSON.stringify(record)}\n`);
  console.log(`wrote the ${steps} per-step losses to ${opts.losses}`);
}

// What the layer learned, for the picture and the check.
const learned = noGrad(() => {
  const { offsetGenerator, maskGenerator } = layer;
  if (offsetGenerator === null || maskGenerator === null) throw new Error('the layer lost its generators');
  return {
    input: warped,
    target: clean,
    output: layer.forward(x).toTypedArray(),
    offset: offsetGenerator.forward(x).toTypedArray(),
    mask: maskGenerator.forward(x).sigmoid().mul(2).toTypedArray(), // maskActivation 'sigmoid' = 2·sigmoid
    weight: layer.weight.toTypedArray(),
  };
});
const errors = Array.from({ length: samples }, (_, n) => meanError(probes(learned, n, SIZE, warp)));
const error = errors.reduce((a, b) => a + b, 0) / samples;
mkdirSync(outDir, { recursive: true });
const picture = join(outDir, 'demo.png');
drawPicture(learned, samples, SIZE, warp, errors).save(picture);
console.log(
  `effective sampling positions are ${error.toFixed(2)} px from the true inverse warp on average (${samples} images)`,
);
console.log(`wrote ${picture} (${samples} images: warped input, output, target, and where the layer samples)`);

if (opts.check) {
  const ok = first / last >= 10 && last < identityLoss && error < 0.75;
  console.log(
    ok
      ? 'check passed: the loss fell by at least 10x, beats the warped input, and the sampling follows the inverse warp'
      : `check FAILED: loss ratio ${(first / last).toFixed(1)} (needs >= 10), final loss ${last.toExponential(3)} ` +
          `(needs < ${identityLoss.toExponential(3)}), sampling error ${error.toFixed(2)} px (needs < 0.75)`,
  );
  console.log(`demo-check: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  process.exit(ok ? 0 : 1);
}
