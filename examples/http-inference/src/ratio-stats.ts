// SPDX-License-Identifier: MIT
// How sure a side-by-side comparison is: for per-round ratios (queue ÷ sync requests/s), their median, a
// bootstrap 95 % interval of that median, and a one-sided sign test of "the first mode is ahead". On a shared
// 2-core machine one mode's rate moves ±25 % between rows, so a handful of rounds cannot tell a 5 % lead from
// noise; the load test prints these so that a reader does not have to redo the arithmetic.
import { Generator, rand } from 'tvdcn';

/** The median of `values` (not empty). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A percentile-bootstrap 95 % interval of the median of `values` (resampled with replacement `reps` times):
 * [low, high]. With fewer than 2 values it is the value itself.
 */
export function medianInterval(values: readonly number[], reps = 4000, seed = 1): [number, number] {
  if (values.length < 2) return [values[0] ?? Number.NaN, values[0] ?? Number.NaN];
  // The library's seeded generator: the same rounds always print the same interval.
  const draws = rand([reps, values.length], { dtype: 'float64', generator: new Generator().manualSeed(seed) });
  const u = draws.toTypedArray();
  draws.dispose();
  const medians: number[] = [];
  const sample = new Array<number>(values.length);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(u[r * values.length + i] * values.length)];
    medians.push(median(sample));
  }
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(0.025 * reps)], medians[Math.ceil(0.975 * reps) - 1]];
}

/**
 * The one-sided sign test: the probability of at least `ahead` of `n` rounds going one way if either way were
 * equally likely (ties count as not ahead).
 */
export function signTestP(ahead: number, n: number): number {
  let p = 0;
  let c = 1; // C(n, 0)
  for (let k = 0; k <= n; k++) {
    if (k >= ahead) p += c;
    c = (c * (n - k)) / (k + 1);
  }
  return p / 2 ** n;
}
