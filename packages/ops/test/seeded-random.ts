// SPDX-License-Identifier: MIT
// The one seeded generator of the ops test suites (vitest, node:test GPU suites): mulberry32, uniform in
// [0, 1). Small, fast and reproducible, so every generated case and every failure can be replayed from its
// seed. Not the library's generator (src/tensor/random.ts, behind manualSeed/rand/randn), which tests
// must not depend on for their inputs.

/** A generator of uniform numbers in [0, 1), seeded with `seed` (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
