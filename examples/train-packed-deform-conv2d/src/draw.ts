// SPDX-License-Identifier: MIT
// Minimal raster drawing for the demo's pictures: grey images scaled up, lines, text, and PNG output
// (pngjs; text in the 7-pixel "Seven Plus" font of js-pixel-fonts, a small MIT package of glyph bitmaps).
import { writeFileSync } from 'node:fs';
import pixelFonts from 'js-pixel-fonts';
import { PNG } from 'pngjs';

/** Height of a line of {@link Canvas.text} at scale 1, in pixels. */
export const TEXT_HEIGHT = pixelFonts.fonts.sevenPlus.lineHeight;

/** An RGB canvas. */
export class Canvas {
  readonly png: PNG;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }

  /** Draws a single-channel image (values in [0, 1]) scaled by `scale` at (top, left). */
  image(values: ArrayLike<number>, size: number, scale: number, top = 0, left = 0): void {
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const v = Math.max(0, Math.min(1, values[Math.floor(y / scale) * size + Math.floor(x / scale)]));
        this.set(top + y, left + x, [v * 255, v * 255, v * 255]);
      }
    }
  }

  /** Sets one pixel, ignoring those outside the canvas. */
  set(y: number, x: number, rgb: readonly number[]): void {
    if (y < 0 || x < 0 || y >= this.height || x >= this.width) return;
    const i = (Math.round(y) * this.width + Math.round(x)) * 4;
    this.png.data[i] = rgb[0];
    this.png.data[i + 1] = rgb[1];
    this.png.data[i + 2] = rgb[2];
    this.png.data[i + 3] = 255;
  }

  /** A straight line from (y0, x0) to (y1, x1). */
  line(y0: number, x0: number, y1: number, x1: number, rgb: readonly number[]): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(y1 - y0, x1 - x0)));
    for (let s = 0; s <= steps; s++) this.set(y0 + ((y1 - y0) * s) / steps, x0 + ((x1 - x0) * s) / steps, rgb);
  }

  /** A filled square of side `r*2+1` centred at (y, x). */
  dot(y: number, x: number, r: number, rgb: readonly number[]): void {
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.set(y + dy, x + dx, rgb);
  }

  /** Width of `text` at `scale`, in pixels. */
  static textWidth(text: string, scale = 1): number {
    const rows = pixelFonts.renderPixels(text, pixelFonts.fonts.sevenPlus);
    return (rows[0]?.length ?? 0) * scale;
  }

  /** Writes `text` with its top-left corner at (top, left), each font pixel a `scale`×`scale` square. */
  text(top: number, left: number, text: string, rgb: readonly number[], scale = 2): void {
    const rows = pixelFonts.renderPixels(text, pixelFonts.fonts.sevenPlus);
    rows.forEach((row, y) => {
      row.forEach((on, x) => {
        if (!on) return;
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) this.set(top + y * scale + dy, left + x * scale + dx, rgb);
      });
    });
  }

  /** Writes the canvas as a PNG file. */
  save(path: string): void {
    writeFileSync(path, PNG.sync.write(this.png));
  }
}
