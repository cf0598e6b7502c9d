// SPDX-License-Identifier: MIT
// Statistics of the benchmark: ratios of two peers' times from paired rounds (each round times every
// peer once, back to back), with a distribution-free confidence interval of the median ratio, so one
// round disturbed by another process moves the interval by one order statistic, not by its size.

/** A ratio of times a / b and its confidence interval. */
export interface RatioEstimate {
  /** Median of the per-round ratios a_i / b_i. */
  ratio: number;
  lo: number;
  hi: number;
  /** Half-width of the interval relative to the ratio: max(hi / ratio - 1, 1 - lo / ratio). */
  halfWidth: number;
  rounds: number;
}

/** ln P(X <= k) for X ~ Binomial(n, 1/2). */
function logBinomialCdfHalf(n: number, k: number): number {
  // log C(n, j) accumulated from j = 0; log-sum-exp over j <= k.
  let logC = 0;
  let acc = Number.NEGATIVE_INFINITY;
  for (let j = 0; j <= k; j++) {
    if (j > 0) logC += Math.log((n - j + 1) / j);
    const term = logC - n * Math.LN2;
    acc = acc === Number.NEGATIVE_INFINITY ? term : Math.max(acc, term) + Math.log1p(Math.exp(-Math.abs(acc - term)));
  }
  return acc;
}

/**
 * 1-based rank k of the lower bound of the distribution-free interval [x_(k), x_(n+1-k)] for the median
 * at `level` (0.95: the largest k with P(Bin(n, 1/2) <= k - 1) <= 0.025), or 0 when n is too small
 * for any interval at that level.
 */
export function medianRank(n: number, level = 0.95): number {
  const tail = Math.log((1 - level) / 2);
  let k = 0;
  while (k + 1 <= Math.floor((n + 1) / 2) && logBinomialCdfHalf(n, k) <= tail) k++;
  return k;
}

/** Median of a list (not modified). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Ratio a / b of paired per-round times, with its 95% interval (infinite while rounds are too few). */
export function pairedRatio(a: readonly number[], b: readonly number[], level = 0.95): RatioEstimate {
  const n = Math.min(a.length, b.length);
  const r = Array.from({ length: n }, (_, i) => a[i] / b[i]).sort((p, q) => p - q);
  const ratio = median(r);
  const k = medianRank(n, level);
  if (k === 0) return { ratio, lo: 0, hi: Number.POSITIVE_INFINITY, halfWidth: Number.POSITIVE_INFINITY, rounds: n };
  const lo = r[k - 1];
  const hi = r[n - k];
  return { ratio, lo, hi, halfWidth: Math.max(hi / ratio - 1, 1 - lo / ratio), rounds: n };
}

/** "1.23x [1.19, 1.27]" */
export function formatRatio(e: RatioEstimate | null): string {
  if (!e) return 'n/a';
  if (!Number.isFinite(e.halfWidth)) return `${e.ratio.toFixed(2)}x [too few rounds]`;
  return `${e.ratio.toFixed(2)}x [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;
}
