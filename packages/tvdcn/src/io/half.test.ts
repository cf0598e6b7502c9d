import { describe, expect, it } from 'vitest';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from './half.js';

describe('float16', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest normal
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('%d <-> bits %i', (value, bits) => {
    expect(floatToHalfBits(value)).toBe(bits);
    expect(Object.is(halfBitsToFloat(bits), value)).toBe(true);
  });

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(floatToHalfBits(halfBitsToFloat(h))).toBe(h);
    }
  });

  it('rounds to nearest, ties to even', () => {
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and 1 + 2^-10: even is 1
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, even is up
    expect(floatToHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above halfway
    expect(floatToHalfBits(65520)).toBe(0x7c00); // overflow to infinity
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000); // halfway to the smallest subnormal: even is 0
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN)))).toBe(true);
  });
});

describe('bfloat16', () => {
  it.each([
    [0, 0x0000],
    [1, 0x3f80],
    [-2, 0xc000],
    [Infinity, 0x7f80],
    [3.140625, 0x4049],
  ])('%d <-> bits %i', (value, bits) => {
    expect(floatToBfloat16Bits(value)).toBe(bits);
    expect(bfloat16BitsToFloat(bits)).toBe(value);
  });

  it('rounds to nearest, ties to even, and keeps NaN', () => {
    expect(floatToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie: even is down
    expect(floatToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie: even is up
    expect(Number.isNaN(bfloat16BitsToFloat(floatToBfloat16Bits(NaN)))).toBe(true);
  });
});
