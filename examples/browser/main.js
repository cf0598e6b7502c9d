// SPDX-License-Identifier: MIT
// The page's script: draws a test image, runs it through a PackedDeformConv2d on the WebAssembly backend
// and shows the result. document.body.dataset.done is set when finished (the headless test waits for it).
import { PackedDeformConv2d, backendInfo, loadBackend, noGrad, tensor } from 'tvdcn';

const status = document.getElementById('status');
const size = 128;

function drawInput(ctx) {
  for (let y = 0; y < size; y += 16) {
    for (let x = 0; x < size; x += 16) {
      ctx.fillStyle = ((x + y) / 16) % 2 ? '#1f4e79' : '#f2f2f2';
      ctx.fillRect(x, y, 16, 16);
    }
  }
  const g = ctx.createRadialGradient(64, 64, 4, 64, 64, 56);
  g.addColorStop(0, 'rgba(255, 80, 40, 0.95)');
  g.addColorStop(1, 'rgba(255, 200, 0, 0.15)');
  ctx.fillStyle = g;
  ctx.beginPath();
  ctx.arc(64, 64, 52, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = '#111';
  ctx.font = 'bold 26px sans-serif';
  ctx.fillText('tvdcn', 30, 72);
}

/** RGBA pixels -> [1, 3, H, W] float32 in [0, 1]. */
function toTensor(pixels) {
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) data[c * size * size + i] = pixels[4 * i + c] / 255;
  }
  return tensor(data, { dtype: 'float32' }).reshape([1, 3, size, size]);
}

function toPixels(t) {
  const data = t.toTypedArray();
  const out = new Uint8ClampedArray(4 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(255 * Math.min(1, Math.max(0, data[c * size * size + i])));
    out[4 * i + 3] = 255;
  }
  return out;
}

async function main() {
  const info = await loadBackend();
  const inCtx = document.getElementById('input').getContext('2d');
  drawInput(inCtx);
  const x = toTensor(inCtx.getImageData(0, 0, size, size).data);

  const k = 5,
    centre = 12; // 5x5 kernel, centre point index
  const layer = new PackedDeformConv2d(3, 3, k, { padding: 2, modulated: false, dtype: 'float32' });
  noGrad(() => {
    // Main kernel: output channel c copies input channel c at the centre tap.
    const w = layer.weight.cpuData();
    w.fill(0);
    for (let c = 0; c < 3; c++) w[((c * 3 + c) * k + 2) * k + 2] = 1;
    layer.bias?.cpuData().fill(0);
    // Offset generator [2*25, 3, 5, 5]: the centre point's (dy, dx) = a blur of (red - blue, green - red).
    const g = layer.offsetGenerator.weight.cpuData();
    g.fill(0);
    const tap = (o, c, v) => {
      for (let i = 0; i < k * k; i++) g[(o * 3 + c) * k * k + i] = v / (k * k);
    };
    tap(2 * centre, 0, 14);
    tap(2 * centre, 2, -14);
    tap(2 * centre + 1, 1, 14);
    tap(2 * centre + 1, 0, -14);
    layer.offsetGenerator.bias?.cpuData().fill(0);
  });
  const t0 = performance.now();
  const y = noGrad(() => layer.forward(x));
  const ms = performance.now() - t0;
  const outCtx = document.getElementById('output').getContext('2d');
  outCtx.putImageData(new ImageData(toPixels(y), size, size), 0, 0);
  const b = backendInfo();
  status.textContent =
    `backend: ${b.binary} (${b.candidate}), ${b.path}\n` +
    `forward of [1, 3, ${size}, ${size}] with a 5x5 PackedDeformConv2d: ${ms.toFixed(1)} ms\n` +
    `cross-origin isolated: ${self.crossOriginIsolated}; loaded via ${info.attempts.map((a) => a.reason).join(', ')}\n` +
    `build: ${b.wasm?.variant ?? 'native'}, ${b.wasm?.numThreads ?? '?'} thread(s): ${b.wasm?.reason ?? ''}`;
  document.body.dataset.done = '1';
}

main().catch((e) => {
  status.textContent = `failed: ${e.stack ?? e}`;
  document.body.dataset.done = 'error';
});
