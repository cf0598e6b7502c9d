// SPDX-License-Identifier: MIT
// The seedable generators behind rand()/randn()/uniform()/normal(): xoshiro128** seeded through
// splitmix32, one default generator (manualSeed) and any number of Generator objects (the `generator`
// option). Reproducible for a given seed, but NOT PyTorch's stream (the same seed gives other numbers
// than torch.manual_seed).

import { formatExpected, formatValue, InvalidArgumentError } from '@tvdcn/shape';

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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The low 32 bits of a safe integer seed; throws for anything else. */
function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(formatExpected(op, 'seed to be an integer', formatValue(seed)), 'seed');
  }
  return Number(BigInt.asUintN(32, BigInt(seed)));
}

/** A uniform number in [0, 1) from a generator's stream (the module's access to its private state). */
let nextDouble: (gen: Generator) => number;

/**
 * A seedable stream of random numbers (PyTorch's `torch.Generator`): pass it as `generator` to
 * {@link rand}, {@link randn}, {@link uniform}, {@link normal}, {@link randLike} or {@link randnLike} to
 * draw from it instead of the default generator that {@link manualSeed} seeds. Each generator has its own
 * state, so a data pipeline and a model initialisation seeded separately do not disturb each other.
 * The stream (xoshiro128**) is this package's own: the same seed gives the same numbers on every
 * platform and device, but not the numbers of PyTorch.
 *
 * @example
 * ```ts
 * const g = new Generator().manualSeed(42);
 * const a = rand([3], { generator: g });
 * g.manualSeed(42);
 * rand([3], { generator: g }); // the values of `a` again
 * ```
 */
export class Generator {
  readonly #state = new Uint32Array(4);
  #initialSeed = 0;

  /** A generator seeded from `Math.random()` (call {@link Generator.manualSeed} for a reproducible stream). */
  constructor() {
    this.#seed((Math.random() * 0x100000000) >>> 0);
  }

  /**
   * Restarts the stream from `seed`; returns this generator (as PyTorch's `Generator.manual_seed`).
   *
   * @param seed - an integer (only its low 32 bits matter)
   * @throws {@link InvalidArgumentError} when `seed` is not an integer
   */
  manualSeed(seed: number): this {
    this.#seed(checkSeed('Generator.manualSeed', seed));
    return this;
  }

  /** The seed the stream last started from (its low 32 bits, as an unsigned integer). */
  initialSeed(): number {
    return this.#initialSeed;
  }

  #seed(seed: number): void {
    this.#initialSeed = seed;
    const next = splitmix32(seed);
    const state = this.#state;
    for (let i = 0; i < 4; i++) state[i] = next();
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  }

  static {
    nextDouble = (gen) => gen.#nextDouble();
  }

  /** Next 32 random bits (xoshiro128**). */
  #nextUint32(): number {
    const s = this.#state;
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

  /** A uniform number in [0, 1) with 53 random bits. */
  #nextDouble(): number {
    const a = this.#nextUint32() >>> 5;
    const b = this.#nextUint32() >>> 6;
    return (a * 67108864 + b) * (1 / 9007199254740992);
  }
}

/** The generator of the factories when none is given; {@link manualSeed} seeds it. */
const defaultGenerator = new Generator();

/**
 * @internal The generator an options object names, or the default one.
 * @throws {@link InvalidArgumentError} when `generator` is given but is not a {@link Generator}
 */
export function resolveGenerator(op: string, generator: unknown): Generator {
  if (generator === undefined) return defaultGenerator;
  if (generator instanceof Generator) return generator;
  throw new InvalidArgumentError(
    formatExpected(op, 'generator to be a Generator', formatValue(generator)),
    'generator',
  );
}

/**
 * @internal Fills `out` with uniform numbers in `[low, high)` from `gen`. For float32 output, values that
 * would round up to `high` are clamped below it.
 */
export function fillUniform(out: Float32Array | Float64Array, low: number, high: number, gen = defaultGenerator): void {
  const span = high - low;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = low + span * nextDouble(gen);
  if (out instanceof Float32Array && span > 0) {
    const top = Math.fround(high);
    for (let i = 0; i < n; i++) if (out[i] >= top) out[i] = low;
  }
}

/** @internal Fills `out` with normal numbers N(mean, std²) from `gen` (Box-Muller on pairs). */
export function fillNormal(out: Float32Array | Float64Array, mean: number, std: number, gen = defaultGenerator): void {
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - nextDouble(gen); // (0, 1]: log is finite
    const u2 = nextDouble(gen);
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
  }
}

/**
 * Seeds the default generator: the one {@link rand}, {@link randn}, {@link uniform}, {@link normal} (and
 * the layers' initialisation) draw from when no `generator` option is given. The same seed gives the same
 * numbers on every platform. The stream is this package's own (xoshiro128**), not PyTorch's:
 * `manualSeed(0)` here and `torch.manual_seed(0)` give different values.
 *
 * @param seed - an integer (only its low 32 bits matter)
 * @returns the default generator (as PyTorch's `torch.manual_seed`)
 * @throws {@link InvalidArgumentError} when `seed` is not an integer
 */
export function manualSeed(seed: number): Generator {
  defaultGenerator.manualSeed(checkSeed('manualSeed', seed));
  return defaultGenerator;
}
