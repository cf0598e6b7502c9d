import { Generator, manualSeed, rand, zeros } from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import { DeformConv2d } from './deform-conv.js';
import { DeformConvTranspose2d } from './deform-conv-transpose.js';
import { calculateFanInAndFanOut, calculateGain, constant_, kaimingUniform_, uniform_, zeros_ } from './init.js';
import { PackedDeformConv2d } from './packed-deform-conv.js';
import { PackedDeformConvTranspose3d } from './packed-deform-conv-transpose.js';

/** Mean and (population) variance. */
function stats(values: ArrayLike<number>): { mean: number; variance: number; maxAbs: number } {
  let sum = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  }
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, variance: sq / values.length, maxAbs };
}

/** Checks that `values` look like U(-bound, bound): inside the bounds, mean 0 and variance bound²/3. */
function expectUniform(values: ArrayLike<number>, bound: number): void {
  const { mean, variance, maxAbs } = stats(values);
  const n = values.length;
  expect(maxAbs).toBeLessThanOrEqual(Math.fround(bound));
  expect(maxAbs).toBeGreaterThan(0.9 * bound); // the whole range is used
  const sigmaMean = bound / Math.sqrt(3 * n);
  expect(Math.abs(mean)).toBeLessThan(6 * sigmaMean);
  // Var of the sample variance of U(-b, b): (b^4/5 - b^4/9) / n = 4 b^4 / (45 n)
  const sigmaVar = Math.sqrt((4 * bound ** 4) / (45 * n));
  expect(Math.abs(variance - bound ** 2 / 3)).toBeLessThan(6 * sigmaVar);
}

describe('PyTorch initialisation of the layers', () => {
  it('weight and bias ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = weight.shape[1] * K', () => {
    manualSeed(3);
    const conv = new DeformConv2d(32, 64, 3, { groups: 2 }); // weight [64, 16, 3, 3]: fanIn = 144
    expect(conv.weight.shape).toEqual([64, 16, 3, 3]);
    expectUniform(conv.weight.toTypedArray(), 1 / 12);
    const bias = conv.bias!.toTypedArray();
    expect(Math.max(...Array.from(bias, Math.abs))).toBeLessThanOrEqual(1 / 12);
  });

  it('transposed weight [inC, outC/G, *k]: fanIn from weight.shape[1], as PyTorch', () => {
    manualSeed(4);
    const conv = new DeformConvTranspose2d(64, 32, [3, 5], { groups: 4 }); // weight [64, 8, 3, 5]: fanIn = 120
    expect(conv.weight.shape).toEqual([64, 8, 3, 5]);
    expectUniform(conv.weight.toTypedArray(), 1 / Math.sqrt(120));
    for (const v of conv.bias!.toTypedArray()) expect(Math.abs(v)).toBeLessThanOrEqual(Math.fround(1 / Math.sqrt(120)));
  });

  it('zero generators in the packed layers; float64 when asked', () => {
    const conv = new PackedDeformConv2d(4, 4, 3, { modulated: true, generatorBias: true, dtype: 'float64' });
    for (const [name, p] of conv.namedParameters()) {
      expect(p.dtype).toBe('float64');
      expect(p.requiresGrad).toBe(true);
      if (name.includes('generator')) expect(p.toTypedArray().every((v) => v === 0)).toBe(true);
      else expect(p.toTypedArray().some((v) => v !== 0)).toBe(true);
    }
    const transposed = new PackedDeformConvTranspose3d(2, 2, 2, { modulated: true });
    expect(transposed.offsetGenerator!.weight.toTypedArray().every((v) => v === 0)).toBe(true);
    transposed.offsetGenerator!.weight.cpuData().fill(1);
    transposed.resetParameters();
    expect(transposed.offsetGenerator!.weight.toTypedArray().every((v) => v === 0)).toBe(true);
  });

  it('is reproducible with manualSeed', () => {
    manualSeed(7);
    const a = new DeformConv2d(3, 5, 3).weight.toTypedArray();
    manualSeed(7);
    const b = new DeformConv2d(3, 5, 3).weight.toTypedArray();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('init functions', () => {
  it('calculateGain has PyTorch values', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('conv_transpose2d')).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(calculateGain('selu')).toBe(0.75);
    expect(() => calculateGain('gelu' as never)).toThrow(/expected nonlinearity to be one of/);
  });

  it('calculateFanInAndFanOut', () => {
    expect(calculateFanInAndFanOut([8, 4, 3, 3])).toEqual({ fanIn: 36, fanOut: 72 });
    expect(calculateFanInAndFanOut(zeros([5, 2]))).toEqual({ fanIn: 2, fanOut: 5 });
    expect(() => calculateFanInAndFanOut([5])).toThrow(/at least 2 dimensions, but got shape \[5\]/);
  });

  it('kaimingUniform_ in fan_out mode for relu', () => {
    manualSeed(11);
    const t = zeros([64, 128, 3]);
    expect(kaimingUniform_(t, { mode: 'fan_out', nonlinearity: 'relu' })).toBe(t);
    expectUniform(t.toTypedArray(), Math.SQRT2 * Math.sqrt(3 / (64 * 3)));
  });

  it('uniform_, constant_ and zeros_ fill in place', () => {
    manualSeed(12);
    const t = zeros([20_000], { dtype: 'float64' });
    uniform_(t, 2, 4);
    const { mean } = stats(t.toTypedArray());
    expect(t.toTypedArray().every((v) => v >= 2 && v < 4)).toBe(true);
    expect(mean).toBeCloseTo(3, 1);
    constant_(t, 1.5);
    expect(t.toTypedArray().every((v) => v === 1.5)).toBe(true);
    zeros_(t);
    expect(t.toTypedArray().every((v) => v === 0)).toBe(true);
    expect(() => uniform_(t, 1, 0)).toThrow(/expected low <= high, but got low = 1 and high = 0/);
    expect(() => uniform_(t, 0, Infinity)).toThrow(/expected high to be a finite number/);
  });

  it('uniform_ and kaimingUniform_ draw from the generator given, leaving the default one alone', () => {
    const values = (t: ReturnType<typeof zeros>): number[] => Array.from(t.toTypedArray());
    manualSeed(13);
    const next = values(rand([4]));
    manualSeed(13);
    const a = uniform_(zeros([8]), -1, 1, new Generator().manualSeed(5));
    const b = kaimingUniform_(zeros([4, 2]), { a: Math.sqrt(5), generator: new Generator().manualSeed(5) });
    expect(values(rand([4]))).toEqual(next);
    // The same draws, scaled: U(-1, 1) and U(-1/sqrt(2), 1/sqrt(2)) (fanIn = 2, gain = sqrt(1/3)).
    const scaled = values(a).map((v) => Math.fround(v / Math.SQRT2));
    values(b).forEach((v, i) => {
      expect(v).toBeCloseTo(scaled[i], 6);
    });
    expect(values(uniform_(zeros([8]), -1, 1, new Generator().manualSeed(5)))).toEqual(values(a));
    expect(() => uniform_(zeros([2]), 0, 1, {} as Generator)).toThrow(
      /uniform_\(\): expected generator to be a Generator/,
    );
  });
});
