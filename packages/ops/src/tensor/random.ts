// SPDX-License-Identifier: MIT
// The seedable generator behind rand()/randn(): xoshiro128** seeded through splitmix32. Reproducible
// for a given seed, but NOT PyTorch's stream (the same seed gives other numbers than torch.manual_seed).

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';

const state = new Uint32Array(4);

/** splitmix32 step, used only to expand a seed into the four state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function seedState(seed: number): void {
  const next = splitmix32(seed);
  for (let i = 0; i < 4; i++) state[i] = next();
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
}

seedState((Math.random() * 0x100000000) >>> 0);

/** @internal Next 32 random bits (xoshiro128**). */
export function nextUint32(): number {
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** @internal A uniform number in [0, 1) with 53 random bits. */
export function nextDouble(): number {
  const a = nextUint32() >>> 5;
  const b = nextUint32() >>> 6;
  return (a * 67108864 + b) * (1 / 9007199254740992);
}

/**
 * @internal Fills `out` with uniform numbers in `[low, high)`. For float32 output, values that would
 * round up to `high` are clamped below it.
 */
export function fillUniform(out: Float32Array | Float64Array, low: number, high: number): void {
  const span = high - low;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = low + span * nextDouble();
  if (out instanceof Float32Array && span > 0) {
    const top = Math.fround(high);
    for (let i = 0; i < n; i++) if (out[i] >= top) out[i] = low;
  }
}

/** @internal Fills `out` with normal numbers N(mean, std²) (Box-Muller on pairs). */
export function fillNormal(out: Float32Array | Float64Array, mean: number, std: number): void {
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - nextDouble(); // (0, 1]: log is finite
    const u2 = nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
  }
}

/**
 * Seeds the generator of {@link rand}, {@link randn}, {@link uniform} and {@link normal}: the same seed
 * gives the same numbers on every platform. The stream is this package's own (xoshiro128**), not
 * PyTorch's: `manualSeed(0)` here and `torch.manual_seed(0)` give different values.
 *
 * @param seed - an integer (only its low 32 bits matter)
 * @throws {@link InvalidArgumentError} when `seed` is not an integer
 */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(formatExpected('manualSeed', 'seed to be an integer', formatValue(seed)), 'seed');
  }
  seedState(Number(BigInt.asUintN(32, BigInt(seed))));
}
