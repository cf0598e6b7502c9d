// SPDX-License-Identifier: MIT
// Shared parts of the fuzzers: a seeded generator, the library's error classes by code, and the tally
// every fuzzer prints as one JSON line at the end (read by run.mjs).

import { DcnError, ERROR_CODES } from '../packages/tvdcn/dist/index.cjs';

/** mulberry32: a small seeded generator; one per case, seeded from (run seed, case index). */
export class Rng {
  #s: number;
  constructor(seed: number, index: number) {
    this.#s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
    for (let i = 0; i < 4; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** Codes of the library's error classes, by class name. */
const CODE_OF: Record<string, string> = ERROR_CODES as unknown as Record<string, string>;

/** True for a DcnError (or subclass) whose `code` is the one of its class. */
export function isTypedRejection(e: unknown): boolean {
  if (!DcnError.isInstance(e)) return false;
  const name = (e as Error).name;
  return Object.hasOwn(CODE_OF, name) && CODE_OF[name] === (e as DcnError).code;
}

/** One-line description of a thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name} ${(e as { code?: unknown }).code ?? ''}: ${e.message.slice(0, 300)}`;
  return `non-error ${String(e)}`;
}

/** Counters and the first examples of each kind of failure. */
export class Tally {
  calls = 0;
  valid = 0;
  accepted = 0;
  rejected = 0;
  typedRejections = 0;
  untypedRejections = 0;
  invalidAccepted = 0;
  validRejected = 0;
  mismatches = 0;
  prototypeChanges = 0;
  readonly examples: Record<string, string[]> = {};

  /** Records a failure of `kind` with a description of the case. */
  fail(
    kind: 'untypedRejections' | 'invalidAccepted' | 'validRejected' | 'mismatches' | 'prototypeChanges',
    what: string,
  ): void {
    this[kind]++;
    const list = (this.examples[kind] ??= []);
    if (list.length < 5) list.push(what);
  }

  /**
   * Records the outcome of one call: `error` is what it threw (undefined: it returned). `valid`: what the
   * oracle says, or null where the documented rules leave it open (then only the error type is checked).
   */
  outcome(valid: boolean | null, error: unknown, threw: boolean, describe: () => string): void {
    this.calls++;
    if (valid) this.valid++;
    if (!threw) {
      this.accepted++;
      if (valid === false) this.fail('invalidAccepted', describe());
      return;
    }
    this.rejected++;
    if (isTypedRejection(error)) this.typedRejections++;
    else this.fail('untypedRejections', `${describe()} -> ${describeError(error)}`);
    if (valid && !(DcnError.isInstance(error) && (error as DcnError).code === 'ERR_DCN_OUT_OF_MEMORY')) {
      this.fail('validRejected', `${describe()} -> ${describeError(error)}`);
    }
  }

  failures(): number {
    return this.untypedRejections + this.invalidAccepted + this.validRejected + this.mismatches + this.prototypeChanges;
  }
}

/** Parses `--name value` arguments. */
export function args(): Record<string, string> {
  const out: Record<string, string> = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[(argv[i] as string).replace(/^--/, '')] = argv[i + 1] as string;
  return out;
}

/** Describes a value for a failure report (never throws). */
export function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'symbol' || typeof v === 'function') return String(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (v && typeof v === 'object' && 'shape' in v && 'dtype' in v) {
        const t = v as { shape: unknown; dtype: unknown; isDisposed?: boolean };
        return `Tensor(${JSON.stringify(t.shape)}, ${String(t.dtype)}${t.isDisposed ? ', disposed' : ''})`;
      }
      if (Array.isArray(v)) return Array.from({ length: v.length }, (_, i) => (i in v ? v[i] : '<hole>'));
      return v;
    }).slice(0, 600);
  } catch {
    return '<unprintable>';
  }
}
