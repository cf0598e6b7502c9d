// SPDX-License-Identifier: MIT
// Synthetic data: smooth random images, and a known affine warp (rotation about the centre plus a shift)
// applied with bilinear sampling and zero padding.

import { Generator, rand } from 'tvdcn';

const BLOBS = 5;

/**
 * `count` images of `size`×`size`: a few Gaussian blobs and a soft stripe pattern, values in [0, 1]. The
 * random parameters come from a generator of their own, so every run sees the same images whatever else
 * draws random numbers.
 */
export function makeImages(count: number, size: number, seed = 1): Float32Array {
  const generator = new Generator().manualSeed(seed);
  const out = new Float32Array(count * size * size);
  for (let n = 0; n < count; n++) {
    // Per image, uniform in [0, 1): 5 blobs × (y, x, width, amplitude), then the stripes' 2 frequencies.
    const draw = rand([BLOBS * 4 + 2], { dtype: 'float64', generator });
    const u = draw.toTypedArray();
    draw.dispose();
    const blobs = Array.from({ length: BLOBS }, (_, b) => ({
      y: u[4 * b] * size,
      x: u[4 * b + 1] * size,
      s: 2.5 + u[4 * b + 2] * 3.5,
      a: 0.5 + u[4 * b + 3] * 0.5,
    }));
    const fy = 0.15 + u[BLOBS * 4] * 0.2;
    const fx = 0.15 + u[BLOBS * 4 + 1] * 0.2;
    const img = out.subarray(n * size * size, (n + 1) * size * size);
    let max = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let v = 0.25 * (1 + Math.sin(fy * y + fx * x + n));
        for (const b of blobs) v += b.a * Math.exp(-((y - b.y) ** 2 + (x - b.x) ** 2) / (2 * b.s * b.s));
        img[y * size + x] = v;
        max = Math.max(max, v);
      }
    }
    for (let i = 0; i < img.length; i++) img[i] /= max;
  }
  return out;
}

/** The warp: output pixel p samples the source at R(angle)·(p − c) + c + shift (bilinear, zeros outside). */
export interface Warp {
  angleDeg: number;
  shiftY: number;
  shiftX: number;
}

/** Where output pixel (y, x) samples the source under `warp`. */
export function warpSource(warp: Warp, size: number, y: number, x: number): [number, number] {
  const c = (size - 1) / 2;
  const a = (warp.angleDeg * Math.PI) / 180;
  const dy = y - c;
  const dx = x - c;
  return [c + Math.cos(a) * dy + Math.sin(a) * dx + warp.shiftY, c - Math.sin(a) * dy + Math.cos(a) * dx + warp.shiftX];
}

/** Applies `warp` to each `size`×`size` image. */
export function warpImages(images: Float32Array, count: number, size: number, warp: Warp): Float32Array {
  const out = new Float32Array(images.length);
  for (let n = 0; n < count; n++) {
    const src = images.subarray(n * size * size, (n + 1) * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const [sy, sx] = warpSource(warp, size, y, x);
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        let v = 0;
        for (const [yy, wy] of [
          [y0, 1 - (sy - y0)],
          [y0 + 1, sy - y0],
        ] as const) {
          for (const [xx, wx] of [
            [x0, 1 - (sx - x0)],
            [x0 + 1, sx - x0],
          ] as const) {
            if (yy >= 0 && yy < size && xx >= 0 && xx < size) v += wy * wx * src[yy * size + xx];
          }
        }
        out[n * size * size + y * size + x] = v;
      }
    }
  }
  return out;
}

/**
 * The network input: the warped image plus two coordinate channels (y and x in [-1, 1]), so that the
 * offset generator — a convolution, linear in its input — can produce a position-dependent offset field.
 */
export function withCoordinates(images: Float32Array, count: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++) {
    out.set(images.subarray(n * plane, (n + 1) * plane), n * 3 * plane);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        out[n * 3 * plane + plane + y * size + x] = (2 * y) / (size - 1) - 1;
        out[n * 3 * plane + 2 * plane + y * size + x] = (2 * x) / (size - 1) - 1;
      }
    }
  }
  return out;
}
