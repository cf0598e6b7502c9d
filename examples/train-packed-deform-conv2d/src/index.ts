// SPDX-License-Identifier: MIT
// Training demo: a modulated PackedDeformConv2d learns to undo a known geometric warp (a rotation about
// the image centre plus a shift) of synthetic images. Its offset generator sees the warped image and two
// coordinate channels, so it can learn the position-dependent offsets that map every output pixel back to
// where its content went. Writes PNGs of input, output, target and the learned sampling offsets.
//   pnpm --filter @tvdcn/example-train-packed-deform-conv2d start [--steps N] [--device cuda] [--quick] [--check]
//     [--out DIR] [--losses FILE] [--fp32-matmul float32|tf32x3|tf32]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import {
  Adam,
  type CudaFloat32Matmul,
  type Device,
  manualSeed,
  mseLoss,
  noGrad,
  NotImplementedError,
  PackedDeformConv2d,
  parseDevice,
  setCudaFloat32Matmul,
  tensor,
  backendInfo,
  zeros,
} from 'tvdcn';
import { makeImages, warpImages, warpSource, withCoordinates, type Warp } from './data.js';
import { Canvas } from './draw.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const steps = Number(option('steps', quick ? '250' : '400'));
const device = parseDevice(option('device', 'cpu'), 'demo --device') as Device;
const outDir = option('out', join(fileURLToPath(new URL('..', import.meta.url)), 'out'));
// The per-step losses as JSON ({ device, fp32Matmul, steps, losses }), e.g. to compare CPU and CUDA curves.
const lossesFile = option('losses', '');
// How float32 matrix products run on CUDA (default 'tf32x3'; 'float32' is IEEE float32, 'tf32' the fastest).
const fp32Matmul = option('fp32-matmul', '');
if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps: expected a positive integer, but got ${option('steps', '')}`);
if (device !== 'cpu') {
  // Fail with the library's one-line reason (no CUDA build, no usable device) rather than a stack trace.
  try {
    zeros([1], { device }).dispose();
  } catch (e) {
    if (!(e instanceof NotImplementedError)) throw e;
    console.error(`demo: cannot train on ${device}: ${e.message}`);
    process.exit(2);
  }
}
if (fp32Matmul !== '') {
  if (!['float32', 'tf32x3', 'tf32'].includes(fp32Matmul)) {
    throw new Error(`--fp32-matmul: expected float32, tf32x3 or tf32, but got ${fp32Matmul}`);
  }
  if (device !== 'cpu') setCudaFloat32Matmul(fp32Matmul as CudaFloat32Matmul);
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
console.log(`tvdcn training demo — ${backendInfo().candidate ?? 'no binary'} on ${device}${fp32Matmul && device !== 'cpu' ? ` (float32 matmul: ${fp32Matmul})` : ''}`);
console.log(`warp: rotation ${warp.angleDeg}°, shift (${warp.shiftY}, ${warp.shiftX}) px; ${COUNT} images ${SIZE}×${SIZE}`);
console.log(`${layer.toString()}`);

const bar = new cliProgress.SingleBar(
  { format: 'training |{bar}| {value}/{total} steps | loss {loss}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 },
  cliProgress.Presets.shades_classic,
);
const losses: number[] = [];
const t0 = performance.now();
bar.start(steps, 0, { loss: '-' });
for (let step = 0; step < steps; step++) {
  optimizer.zeroGrad();
  const loss = mseLoss(layer.forward(x), target);
  loss.backward();
  optimizer.step();
  const value = loss.item();
  losses.push(value);
  loss.dispose();
  bar.update(step + 1, { loss: value.toExponential(3) });
}
bar.stop();
const seconds = (performance.now() - t0) / 1000;

const first = losses[0];
const last = losses[losses.length - 1];
console.log(`loss ${first.toExponential(3)} → ${last.toExponential(3)} (${(first / last).toFixed(1)}x lower) in ${seconds.toFixed(1)} s`);
console.log(`for comparison, the warped input itself is at ${identityLoss.toExponential(3)} from the target`);
if (lossesFile !== '') {
  const record = { device, fp32Matmul: device === 'cpu' ? null : fp32Matmul || 'tf32x3', steps, seconds, losses };
  writeFileSync(lossesFile, `${JSON.stringify(record)}\n`);
  console.log(`wrote the ${steps} per-step losses to ${lossesFile}`);
}

// Pictures: input | output | target, and where the layer samples the warped input.
mkdirSync(outDir, { recursive: true });
const { output, offset, mask, weight } = noGrad(() => {
  const { offsetGenerator, maskGenerator } = layer;
  if (offsetGenerator === null || maskGenerator === null) throw new Error('the layer lost its generators');
  return {
    output: layer.forward(x).toTypedArray(),
    offset: offsetGenerator.forward(x).toTypedArray(),
    mask: maskGenerator.forward(x).sigmoid().mul(2).toTypedArray(), // maskActivation 'sigmoid' = 2·sigmoid
    weight: layer.weight.toTypedArray(),
  };
});
const scale = 8;
const plane = SIZE * SIZE;
for (const [name, values] of [['input', warped], ['output', output], ['target', clean]] as const) {
  const c = new Canvas(SIZE * scale, SIZE * scale);
  c.image(values.subarray(0, plane), SIZE, scale);
  c.save(join(outDir, `${name}.png`));
}
// The effective sampling position of an output pixel: the mean of its 9 taps' positions (kernel grid +
// learned offset; offset channel = kpt * 2 + axis, y first), weighted by weight × mask of the image
// channel. The arrow goes from the output pixel (blue) to it (red); green is the true inverse warp.
const c = new Canvas(SIZE * scale, SIZE * scale);
c.image(warped.subarray(0, plane), SIZE, scale);
let err = 0;
let n = 0;
for (let y = 2; y < SIZE; y += 4) {
  for (let xq = 2; xq < SIZE; xq += 4) {
    let sy = 0;
    let sx = 0;
    let total = 0;
    for (let kpt = 0; kpt < 9; kpt++) {
      const a = weight[kpt] * mask[kpt * plane + y * SIZE + xq]; // weight[0, 0, i, j], input channel 0
      sy += a * (y + Math.floor(kpt / 3) - 1 + offset[kpt * 2 * plane + y * SIZE + xq]);
      sx += a * (xq + (kpt % 3) - 1 + offset[(kpt * 2 + 1) * plane + y * SIZE + xq]);
      total += a;
    }
    const [ey, ex] = [sy / total, sx / total];
    const [ty, tx] = warpInverse(warp, SIZE, y, xq);
    err += Math.hypot(ey - ty, ex - tx);
    n++;
    const cy = (y + 0.5) * scale;
    const cx = (xq + 0.5) * scale;
    c.dot((ty + 0.5) * scale, (tx + 0.5) * scale, 2, [40, 200, 60]);
    c.line(cy, cx, (ey + 0.5) * scale, (ex + 0.5) * scale, [230, 40, 40]);
    c.dot((ey + 0.5) * scale, (ex + 0.5) * scale, 1, [230, 40, 40]);
    c.dot(cy, cx, 1, [30, 60, 230]);
  }
}
c.save(join(outDir, 'offsets.png'));
console.log(`effective sampling positions are ${(err / n).toFixed(2)} px from the true inverse warp on average`);
console.log(`wrote ${['input', 'output', 'target', 'offsets'].map((f) => `${f}.png`).join(', ')} to ${outDir}`);

if (args.includes('--check')) {
  const ok = first / last >= 10 && last < identityLoss && err / n < 0.75;
  console.log(
    ok
      ? 'check passed: the loss fell by at least 10x, beats the warped input, and the sampling follows the inverse warp'
      : 'check FAILED',
  );
  process.exit(ok ? 0 : 1);
}

/** Where the clean image's pixel (y, x) went in the warped image: the inverse of {@link warpSource}. */
function warpInverse(w: Warp, size: number, y: number, xx: number): [number, number] {
  // warpSource maps warped-image pixel p to clean position s; invert by a few fixed-point iterations.
  let py = y;
  let px = xx;
  for (let i = 0; i < 20; i++) {
    const [sy, sx] = warpSource(w, size, py, px);
    py += y - sy;
    px += xx - sx;
  }
  return [py, px];
}
