// SPDX-License-Identifier: MIT
// The demo's picture: one row per sample image (warped input | layer output | clean target | where the
// layer samples), column titles, and a legend of the arrows. Also the measurement behind --check: how far
// the layer's effective sampling positions are from the true inverse warp.
import { Canvas, TEXT_HEIGHT } from './draw.js';
import { type Warp, warpSource } from './data.js';

/** What the trained layer produced for all images, as flat row-major arrays. */
export interface Learned {
  /** `[count, 1, size, size]` inputs (warped), outputs, and targets (clean). */
  input: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
  output: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
  target: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
  /** `[count, 18, size, size]`: offset channel `kpt * 2 + axis`, y first. */
  offset: ArrayLike<number>;
  /** `[count, 9, size, size]`: the modulation of each tap (after the mask activation). */
  mask: ArrayLike<number>;
  /** The layer's weight `[1, 3, 3, 3]`; taps of input channel 0 (the image) are `weight[0..8]`. */
  weight: ArrayLike<number>;
}

/** One probed output pixel: where it is, where the layer effectively samples, where it should. */
export interface Probe {
  y: number;
  x: number;
  /** The mean of the 9 taps' positions (kernel grid + learned offset), weighted by weight × mask. */
  sampled: [number, number];
  /** The true inverse warp of (y, x). */
  truth: [number, number];
}

/** Where the clean image's pixel (y, x) went in the warped image: the inverse of {@link warpSource}. */
export function warpInverse(w: Warp, size: number, y: number, x: number): [number, number] {
  // warpSource maps warped-image pixel p to clean position s; invert by a few fixed-point iterations.
  let py = y;
  let px = x;
  for (let i = 0; i < 20; i++) {
    const [sy, sx] = warpSource(w, size, py, px);
    py += y - sy;
    px += x - sx;
  }
  return [py, px];
}

/** The probes of image `n` on a grid of every 4th pixel. */
export function probes(l: Learned, n: number, size: number, warp: Warp): Probe[] {
  const plane = size * size;
  const out: Probe[] = [];
  for (let y = 2; y < size; y += 4) {
    for (let x = 2; x < size; x += 4) {
      let sy = 0;
      let sx = 0;
      let total = 0;
      for (let kpt = 0; kpt < 9; kpt++) {
        const a = l.weight[kpt] * l.mask[(n * 9 + kpt) * plane + y * size + x];
        sy += a * (y + Math.floor(kpt / 3) - 1 + l.offset[(n * 18 + kpt * 2) * plane + y * size + x]);
        sx += a * (x + (kpt % 3) - 1 + l.offset[(n * 18 + kpt * 2 + 1) * plane + y * size + x]);
        total += a;
      }
      out.push({ y, x, sampled: [sy / total, sx / total], truth: warpInverse(warp, size, y, x) });
    }
  }
  return out;
}

/** Mean distance, in pixels, between sampled and true positions. */
export function meanError(ps: readonly Probe[]): number {
  let err = 0;
  for (const p of ps) err += Math.hypot(p.sampled[0] - p.truth[0], p.sampled[1] - p.truth[1]);
  return err / ps.length;
}

const BLUE = [30, 60, 230];
const RED = [220, 30, 30];
const GREEN = [30, 170, 50];
const INK = [20, 20, 20];
const GREY = [110, 110, 110];

/** Draws `samples` images' rows and the legend; `errors[n]` is image n's mean sampling error. */
export function drawPicture(l: Learned, samples: number, size: number, warp: Warp, errors: readonly number[]): Canvas {
  const scale = 5;
  const panel = size * scale;
  const gap = 10;
  const margin = 14;
  const labelW = 84;
  const titleH = TEXT_HEIGHT * 2 + 12;
  const legendH = 4 * (TEXT_HEIGHT * 2 + 8) + 16;
  const titles = ['warped input', 'layer output', 'target (clean)', 'where it samples'];
  const width = margin * 2 + labelW + titles.length * panel + (titles.length - 1) * gap;
  const height = margin * 2 + titleH + samples * panel + (samples - 1) * gap + legendH;
  const c = new Canvas(width, height);
  const plane = size * size;
  titles.forEach((t, i) => {
    const left = margin + labelW + i * (panel + gap);
    c.text(margin, left + Math.max(0, (panel - Canvas.textWidth(t, 2)) / 2), t, INK, 2);
  });
  for (let n = 0; n < samples; n++) {
    const top = margin + titleH + n * (panel + gap);
    c.text(top + panel / 2 - TEXT_HEIGHT * 2 - 2, margin, `image ${n}`, INK, 2);
    c.text(top + panel / 2 + 3, margin, `${errors[n].toFixed(2)} px`, GREY, 2);
    const images = [l.input, l.output, l.target, l.input];
    images.forEach((values, i) => {
      c.image(values.subarray(n * plane, (n + 1) * plane), size, scale, top, margin + labelW + i * (panel + gap));
    });
    const left = margin + labelW + 3 * (panel + gap);
    const at = (v: number): number => (v + 0.5) * scale;
    for (const p of probes(l, n, size, warp)) {
      c.dot(top + at(p.truth[0]), left + at(p.truth[1]), 2, GREEN);
      c.line(top + at(p.y), left + at(p.x), top + at(p.sampled[0]), left + at(p.sampled[1]), RED);
      c.dot(top + at(p.sampled[0]), left + at(p.sampled[1]), 1, RED);
      c.dot(top + at(p.y), left + at(p.x), 1, BLUE);
    }
  }
  // Legend, under the last column's arrows and spanning the picture.
  let y = margin + titleH + samples * panel + (samples - 1) * gap + 16;
  const x = margin + labelW;
  const entries: [string, (yy: number) => void][] = [
    ['blue: an output pixel (every 4th row, column)', (yy) => c.dot(yy, x + 10, 2, BLUE)],
    [
      'red: where the layer samples it from (9 taps, mean)',
      (yy) => {
        c.line(yy, x + 2, yy, x + 18, RED);
        c.dot(yy, x + 18, 1, RED);
      },
    ],
    ['green: where the true inverse warp says', (yy) => c.dot(yy, x + 10, 2, GREEN)],
  ];
  for (const [label, mark] of entries) {
    mark(y + TEXT_HEIGHT);
    c.text(y, x + 30, label, INK, 2);
    y += TEXT_HEIGHT * 2 + 8;
  }
  c.text(
    y + 2,
    margin,
    `px: mean red-green distance. warp: ${warp.angleDeg} deg, shift (${warp.shiftY}, ${warp.shiftX})`,
    GREY,
    2,
  );
  return c;
}
