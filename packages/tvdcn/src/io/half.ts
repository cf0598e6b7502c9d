// SPDX-License-Identifier: MIT
// Conversions between float32 and the 16-bit float formats of safetensors files (IEEE 754 binary16 "F16"
// and bfloat16 "BF16"), on raw bit patterns. Rounding is to nearest, ties to even, as PyTorch's casts.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * @internal The float32 value of an IEEE 754 half-precision bit pattern (exact: every half is a float32).
 */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * @internal The IEEE 754 half-precision bit pattern nearest to `value` after rounding it to float32
 * (ties to even; overflow gives ±Infinity, NaN stays NaN).
 */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf, NaN (quiet)
  // Unbiased exponent e = exponent - 127; half normals have e in [-14, 15].
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00; // overflow
  if (e >= -14) {
    // Normal half: keep 10 of the 23 mantissa bits, round the 13 dropped ones to nearest even.
    let bits = ((e + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) === 1)) bits++; // may carry into the exponent: still right
    return sign | bits;
  }
  if (e < -25) return sign; // below half the smallest subnormal: ±0
  // Subnormal half: value = m * 2^-24 with the implicit leading 1 made explicit.
  const full = mantissa | 0x800000; // 24 significant bits, value = full * 2^(e - 23)
  const shift = -e - 1; // bits to drop so that the result counts units of 2^-24: (e - 23) + 24 = e + 1
  const kept = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  let bits = kept;
  if (rest > halfway || (rest === halfway && (bits & 1) === 1)) bits++;
  return sign | bits;
}

/** @internal The float32 value of a bfloat16 bit pattern (the upper half of a float32; exact). */
export function bfloat16BitsToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/**
 * @internal The bfloat16 bit pattern nearest to `value` after rounding it to float32 (ties to even; NaN
 * stays a quiet NaN).
 */
export function floatToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}
