// SPDX-License-Identifier: MIT
// The op fuzzer (issue 9): seeded calls of the public ops with valid and hostile arguments. For each call
// an oracle written from the documented rules (api.md, the TSDoc of the ops, tvdcn's shape rules) decides
// whether it is valid, independently of @tvdcn/shape's checks. Properties: every rejection is a DcnError
// subclass carrying its class's code; no invalid call is accepted; valid calls return what a float64
// reference computes (deformable convolutions) or what the definition says (factories, transpose,
// permute). Crashes and hangs are caught by run.mjs, which runs this file in child processes.
//
// Usage: node --import tsx fuzz/ops-fuzz.ts --seed 1 --from 0 --to 10000
// Prints "progress <i>" every 1000 calls and one JSON line (the tally) at the end.

import * as T from '../packages/tvdcn/dist/index.cjs';
import {
  deformConvReference,
  deformConvTransposeReference,
  type RefTensor,
} from '../packages/ops/test/reference/deform-conv-reference.js';
import { args, Rng, show, Tally } from './lib.js';

type Tensor = T.Tensor;
type DType = 'float32' | 'float64';

const MAX_HYPER = 2 ** 40;

// Values that are wrong for most arguments (and a few that are right for some).
const HOSTILE: readonly (() => unknown)[] = [
  () => 0,
  () => -1,
  () => 1.5,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => 1e300,
  () => 2 ** 40,
  () => 2 ** 40 + 1,
  () => 2 ** 53,
  () => -0,
  () => '2',
  () => null,
  () => true,
  () => [],
  () => [1],
  () => [1, 2, 3],
  () => [2, 1], // biome-ignore lint/suspicious/noSparseArray: a hole is the point
  () => [1, , 1],
  () => Object.assign([1, 1], { constructor: 1 }),
  () => ({}),
  () => 1n,
  () => Symbol('s'),
  () => () => 1,
  () => new Float32Array(2),
  () => [Number.NaN, 1],
  () => [2 ** 45, 1],
  () => [1.5],
  () => ({ length: 2, 0: 1, 1: 1 }),
  () => 2 ** 45,
  () => [0],
  () => [-1, 1],
];

/** Tensors made by this case that the oracle must treat as unusable. */
const detached = new WeakSet<object>();

function isLive(v: unknown): v is Tensor {
  return T.isTensor(v) && !v.isDisposed && !detached.has(v);
}

function isSafeIntAtLeast(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** The documented int-or-tuple rule: an integer >= min, or an array of 1 or n of them (holes invalid). */
function intTuple(v: unknown, n: number, min: number, max = Number.MAX_SAFE_INTEGER): number[] | null {
  if (isSafeIntAtLeast(v, min)) return v <= max ? new Array<number>(n).fill(v) : null;
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== n)) return null;
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (!isSafeIntAtLeast(x, min) || x > max) return null;
    out.push(x);
  }
  return out.length === n ? out : new Array<number>(n).fill(out[0] as number);
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface ConvPlan {
  dim: number;
  transposed: boolean;
  args: unknown[]; // input, weight, options
}

/** Oracle for deformConv{N}d / deformConvTranspose{N}d: the output shape, or null for an invalid call. */
function convOracle(
  dim: number,
  transposed: boolean,
  input: unknown,
  weight: unknown,
  options: unknown,
): number[] | null {
  let opts: Record<string, unknown> = {};
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) return null;
    const allowed = [
      'offset',
      'mask',
      'bias',
      'stride',
      'padding',
      'dilation',
      'groups',
      ...(transposed ? ['outputPadding'] : []),
    ];
    for (const key of Object.keys(options)) if (!allowed.includes(key)) return null;
    opts = options as Record<string, unknown>;
  }
  const offset = opts.offset ?? null;
  const mask = opts.mask ?? null;
  const bias = opts.bias ?? null;
  const tensors = [input, weight, offset, mask, bias].filter((t) => t !== null);
  if (!isLive(input) || !isLive(weight) || tensors.some((t) => !isLive(t))) return null;
  const live = tensors as Tensor[];
  if (live.some((t) => t.dtype !== input.dtype || t.device !== input.device)) return null;
  const n = dim;
  const stride = intTuple(opts.stride ?? 1, n, 1, MAX_HYPER);
  const padding = intTuple(opts.padding ?? 0, n, 0, MAX_HYPER);
  const dilation = intTuple(opts.dilation ?? 1, n, 1, MAX_HYPER);
  const groups = opts.groups ?? 1;
  if (!stride || !padding || !dilation || !isSafeIntAtLeast(groups, 1)) return null;
  let outputPadding = new Array<number>(n).fill(0);
  if (transposed) {
    const op = intTuple(opts.outputPadding ?? 0, n, 0);
    if (!op || op.some((p, i) => p >= Math.max(stride[i] as number, dilation[i] as number))) return null;
    outputPadding = op;
  }
  const x = input.shape;
  const w = weight.shape;
  if (x.length !== n + 1 && x.length !== n + 2) return null;
  if (w.length !== n + 2) return null;
  const batched = x.length === n + 2;
  const c = batched ? 1 : 0;
  const batch = batched ? (x[0] as number) : 1;
  const cin = x[c] as number;
  const inSize = x.slice(c + 1);
  const k = w.slice(2);
  if (k.some((v) => v <= 0)) return null;
  const K = prod(k);
  let cout: number;
  if (!transposed) {
    if ((w[1] as number) * groups !== cin || (w[0] as number) % groups !== 0) return null;
    cout = w[0] as number;
  } else {
    if (w[0] !== cin || cin % groups !== 0) return null;
    cout = (w[1] as number) * groups;
  }
  const outSize = inSize.map((s, i) =>
    transposed
      ? (s - 1) * (stride[i] as number) -
        2 * (padding[i] as number) +
        (dilation[i] as number) * ((k[i] as number) - 1) +
        1 +
        (outputPadding[i] as number)
      : Math.floor(
          (s + 2 * (padding[i] as number) - (dilation[i] as number) * ((k[i] as number) - 1) - 1) /
            (stride[i] as number),
        ) + 1,
  );
  if (outSize.some((s) => s <= 0)) return null;
  const outShape = batched ? [batch, cout, ...outSize] : [cout, ...outSize];
  if (!Number.isSafeInteger(prod(outShape)) || outSize.some((s) => !Number.isSafeInteger(s))) return null;
  const grid = transposed ? inSize : outSize;
  const grouped = (t: Tensor, factor: number): boolean => {
    const s = t.shape;
    if (s.length !== x.length) return false;
    if (batched && s[0] !== batch) return false;
    const ch = s[c] as number;
    if (ch === 0 || ch % factor !== 0) return false;
    const gc = ch / factor;
    if (cin % gc !== 0 || (transposed && cout % gc !== 0)) return false;
    return s.slice(c + 1).every((v, i) => v === grid[i]);
  };
  if (offset !== null && !grouped(offset as Tensor, n * K)) return null;
  if (mask !== null && !grouped(mask as Tensor, K)) return null;
  if (bias !== null && ((bias as Tensor).shape.length !== 1 || (bias as Tensor).shape[0] !== cout)) return null;
  return outShape;
}

/** A tensor of `shape` with seeded values in [lo, hi]. */
function make(rng: Rng, shape: number[], dtype: DType, lo = -1, hi = 1): Tensor {
  const data = new Float64Array(prod(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rng.next();
  return T.tensor(dtype === 'float64' ? data : Float32Array.from(data), { shape, dtype });
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** A hyper-parameter as a number or an array (or left out when it is the default). */
function hyper(rng: Rng, values: number[], def: number): unknown {
  if (values.every((v) => v === def) && rng.chance(0.5)) return undefined;
  if (values.every((v) => v === values[0]) && rng.chance(0.5)) return values[0];
  if (values.every((v) => v === values[0]) && rng.chance(0.2)) return [values[0]];
  return [...values];
}

function planConv(rng: Rng): ConvPlan {
  const dim = rng.int(1, 3);
  const transposed = rng.chance(0.4);
  const dtype: DType = rng.chance(0.5) ? 'float32' : 'float64';
  const batched = rng.chance(0.8);
  const B = rng.chance(0.05) ? 0 : rng.int(1, 2);
  const G = rng.pick([1, 1, 1, 2]);
  const cin = G * rng.int(1, 2);
  const coutG = rng.int(1, 2);
  const cout = G * coutG;
  const maxIn = [0, 7, 5, 4][dim] as number;
  const k = Array.from({ length: dim }, () => rng.int(1, dim === 3 ? 2 : 3));
  const stride = Array.from({ length: dim }, () => rng.int(1, 2));
  const padding = Array.from({ length: dim }, () => rng.int(0, 2));
  const dilation = Array.from({ length: dim }, () => rng.int(1, 2));
  const inSize = Array.from({ length: dim }, (_, i) =>
    Math.max(
      rng.int(1, maxIn),
      transposed ? 1 : (dilation[i] as number) * ((k[i] as number) - 1) + 1 - 2 * (padding[i] as number),
    ),
  );
  const outputPadding = stride.map((s, i) =>
    transposed && rng.chance(0.3) ? rng.int(0, Math.max(s, dilation[i] as number) - 1) : 0,
  );
  const outSize = inSize.map((s, i) =>
    transposed
      ? (s - 1) * (stride[i] as number) -
        2 * (padding[i] as number) +
        (dilation[i] as number) * ((k[i] as number) - 1) +
        1 +
        (outputPadding[i] as number)
      : Math.floor(
          (s + 2 * (padding[i] as number) - (dilation[i] as number) * ((k[i] as number) - 1) - 1) /
            (stride[i] as number),
        ) + 1,
  );
  const K = prod(k);
  const grid = transposed ? inSize : outSize;
  const lead = batched ? [B] : [];
  // Shapes first (mutations change them), tensors made at the end.
  const spec: Record<
    string,
    { shape: number[]; dtype: DType; lo: number; hi: number; state: 'ok' | 'disposed' | 'detached' } | null
  > = {
    input: { shape: [...lead, cin, ...inSize], dtype, lo: -1, hi: 1, state: 'ok' },
    weight: { shape: transposed ? [cin, coutG, ...k] : [cout, cin / G, ...k], dtype, lo: -1, hi: 1, state: 'ok' },
    offset: null,
    mask: null,
    bias: null,
  };
  const common = divisors(transposed ? gcd(cin, cout) : cin);
  if (rng.chance(0.7))
    spec.offset = { shape: [...lead, rng.pick(common) * dim * K, ...grid], dtype, lo: -2.5, hi: 2.5, state: 'ok' };
  if (rng.chance(0.5))
    spec.mask = { shape: [...lead, rng.pick(common) * K, ...grid], dtype, lo: 0, hi: 1, state: 'ok' };
  if (rng.chance(0.5)) spec.bias = { shape: [cout], dtype, lo: -1, hi: 1, state: 'ok' };
  const opts: Record<string, unknown> = {
    stride: hyper(rng, stride, 1),
    padding: hyper(rng, padding, 0),
    dilation: hyper(rng, dilation, 1),
    groups: G === 1 && rng.chance(0.5) ? undefined : G,
  };
  if (transposed) opts.outputPadding = hyper(rng, outputPadding, 0);
  let options: unknown = opts;
  const replaced: Record<string, unknown> = {};

  const mutations = rng.pick([0, 0, 0, 1, 1, 2]);
  const names = ['input', 'weight', 'offset', 'mask', 'bias'];
  for (let m = 0; m < mutations; m++) {
    const kind = rng.int(0, 9);
    if (kind <= 2) {
      const key = rng.pick(['stride', 'padding', 'dilation', 'groups', ...(transposed ? ['outputPadding'] : [])]);
      opts[key] = rng.pick(HOSTILE)();
    } else if (kind <= 4) {
      const s = spec[rng.pick(names)];
      if (s) {
        const r = rng.int(0, 3);
        if (r === 0 && s.shape.length > 0) s.shape.pop();
        else if (r === 1) s.shape.push(rng.int(1, 2));
        else if (s.shape.length > 0) {
          const i = rng.int(0, s.shape.length - 1);
          s.shape[i] = Math.max(0, (s.shape[i] as number) + rng.pick([-1, 1, 2]));
        }
      }
    } else if (kind === 5) {
      replaced[rng.pick(names)] = rng.pick([null, undefined, 3, [1, 2], {}, 'x']);
    } else if (kind === 6) {
      const s = spec[rng.pick(names)];
      if (s) s.dtype = s.dtype === 'float32' ? 'float64' : 'float32';
    } else if (kind === 7) {
      const s = spec[rng.pick(names)];
      if (s) s.state = rng.chance(0.5) ? 'disposed' : 'detached';
    } else if (kind === 8) {
      opts[rng.pick(['foo', 'outputPadding', 'kernelSize', '__proto__', 'constructor'])] = 1;
    } else {
      options = rng.pick([null, 5, [], 'x', undefined, Object.create(null)]);
    }
  }
  const tensors: Record<string, unknown> = {};
  for (const name of names) {
    const s = spec[name];
    if (Object.hasOwn(replaced, name)) tensors[name] = replaced[name];
    else if (!s) tensors[name] = undefined;
    else {
      const t = make(rng, s.shape, s.dtype, s.lo, s.hi);
      if (s.state === 'disposed') t.dispose();
      if (s.state === 'detached' && t.numel > 0) {
        tensors[name] = detachTensor(t, s.shape, s.dtype);
        continue;
      }
      tensors[name] = t;
    }
  }
  if (options === opts) {
    for (const name of ['offset', 'mask', 'bias']) if (tensors[name] !== undefined) opts[name] = tensors[name];
    for (const key of Object.keys(opts)) if (opts[key] === undefined && rng.chance(0.7)) delete opts[key];
  }
  return { dim, transposed, args: [tensors.input, tensors.weight, options] };
}

/** A tensor sharing a typed array whose buffer is then transferred away (detached). */
function detachTensor(source: Tensor, shape: number[], dtype: DType): Tensor {
  const data = source.toTypedArray();
  const t = T.tensor(data, { shape, dtype, copy: false });
  structuredClone(data.buffer, { transfer: [data.buffer] });
  detached.add(t);
  return t;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function ref(t: Tensor | null | undefined, batch: boolean): RefTensor | null {
  if (t === null || t === undefined) return null;
  const data = Float64Array.from(t.toTypedArray());
  return { data, shape: batch ? [1, ...t.shape] : [...t.shape] };
}

/** Runs one deformable convolution case and checks it against the oracle and the reference. */
function convCase(rng: Rng, tally: Tally, index: number): void {
  const plan = planConv(rng);
  const [input, weight, options] = plan.args;
  const name = `deformConv${plan.transposed ? 'Transpose' : ''}${plan.dim}d` as const;
  const fn = (T as unknown as Record<string, (...a: unknown[]) => Tensor>)[name] as (...a: unknown[]) => Tensor;
  const expected = convOracle(plan.dim, plan.transposed, input, weight, options);
  const describe = (): string => `#${index} ${name}(${show(input)}, ${show(weight)}, ${show(options)})`;
  let out: Tensor | null = null;
  let error: unknown;
  let threw = false;
  try {
    out = fn(input, weight, options);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(expected !== null, error, threw, describe);
  if (out === null || expected === null) return;
  if (out.shape.length !== expected.length || out.shape.some((v, i) => v !== expected[i])) {
    tally.fail('mismatches', `${describe()}: shape ${show(out.shape)}, expected ${show(expected)}`);
    return;
  }
  // Valid and accepted: the values against the float64 reference.
  const o = (options ?? {}) as Record<string, unknown>;
  const n = plan.dim;
  const x = input as Tensor;
  const batched = x.shape.length === n + 2;
  const refOpts = {
    stride: intTuple(o.stride ?? 1, n, 1) as number[],
    padding: intTuple(o.padding ?? 0, n, 0) as number[],
    dilation: intTuple(o.dilation ?? 1, n, 1) as number[],
    groups: (o.groups ?? 1) as number,
    outputPadding: plan.transposed ? (intTuple(o.outputPadding ?? 0, n, 0) as number[]) : undefined,
  };
  const r = (plan.transposed ? deformConvTransposeReference : deformConvReference)(
    ref(x, !batched) as RefTensor,
    ref(weight as Tensor, false) as RefTensor,
    ref((o.offset ?? null) as Tensor | null, !batched),
    ref((o.mask ?? null) as Tensor | null, !batched),
    ref((o.bias ?? null) as Tensor | null, false),
    refOpts,
  );
  const got = out.toTypedArray();
  let scale = 1;
  for (const v of r.data) scale = Math.max(scale, Math.abs(v));
  const tol = (x.dtype === 'float64' ? 1e-10 : 2e-4) * scale;
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs((got[i] as number) - (r.data[i] as number)) <= tol)) {
      tally.fail('mismatches', `${describe()}: element ${i} is ${got[i]}, reference ${r.data[i]}`);
      return;
    }
  }
}

const FACTORIES = { zeros: T.zeros, ones: T.ones, full: T.full, rand: T.rand, randn: T.randn };

/** zeros/ones/full/rand/randn with valid and hostile shapes and options. */
function factoryCase(rng: Rng, tally: Tally, index: number): void {
  const op = rng.pick(['zeros', 'ones', 'full', 'rand', 'randn'] as const);
  let shape: unknown = Array.from({ length: rng.int(0, 4) }, () => rng.int(0, 3));
  if (rng.chance(0.4)) {
    shape = rng.pick<() => unknown>([
      // biome-ignore lint/suspicious/noSparseArray: a hole is the point
      () => [1, , 2],
      () => [1, 1.5],
      () => [-1],
      () => [Number.NaN],
      () => [2 ** 60],
      () => ['2'],
      () => [2 ** 30, 2 ** 30, 2 ** 30],
      () => [[2]],
      () => null,
      () => 3,
      () => Object.assign([2, 2], { constructor: 1 }),
      () => new Float32Array([2]),
      () => [2 ** 33],
      () => [1e300],
      () => [2 ** 53],
      () => [Number.POSITIVE_INFINITY],
      () => ({ length: 1, 0: 2 }),
    ])();
  }
  const value: unknown = rng.chance(0.8)
    ? rng.next() * 4 - 2
    : rng.pick<unknown>(['1', null, Number.NaN, undefined, 1n]);
  const opts: unknown = rng.chance(0.7)
    ? undefined
    : rng.pick<unknown>([
        null,
        { dtype: 'float64' },
        { dtype: 'float16' },
        { dtype: 'int8' },
        { requiresGrad: 'yes' },
        { requiresGrad: true },
        { device: 'cpu' },
        { device: 'gpu' },
        5,
      ]);
  // Oracle: a shape is an array of non-negative safe integers (holes invalid) with a safe product; options
  // absent or an object with a CPU dtype, a boolean requiresGrad and device 'cpu'; full's value a number.
  let valid = Array.isArray(shape);
  if (valid) {
    const s = shape as unknown[];
    let p = 1;
    for (let i = 0; i < s.length; i++) {
      if (!isSafeIntAtLeast(s[i], 0)) valid = false;
      else p *= s[i] as number;
    }
    if (!Number.isSafeInteger(p)) valid = false;
  }
  if (opts !== undefined) {
    if (typeof opts !== 'object' || opts === null) valid = false;
    else {
      const o = opts as Record<string, unknown>;
      if (o.dtype !== undefined && o.dtype !== 'float32' && o.dtype !== 'float64') valid = false;
      if (o.requiresGrad !== undefined && typeof o.requiresGrad !== 'boolean') valid = false;
      if (o.device !== undefined && o.device !== 'cpu') valid = false;
    }
  }
  if (op === 'full' && typeof value !== 'number') valid = false;
  const describe = (): string =>
    `#${index} ${op}(${show(shape)}${op === 'full' ? `, ${show(value)}` : ''}, ${show(opts)})`;
  let out: Tensor | null = null;
  let error: unknown;
  let threw = false;
  try {
    const f = FACTORIES[op] as unknown as (...a: unknown[]) => Tensor;
    out = op === 'full' ? f(shape, value, opts) : f(shape, opts);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(valid, error, threw, describe);
  if (!out || !valid) return;
  const s = shape as number[];
  if (out.shape.length !== s.length || out.shape.some((v, i) => v !== s[i])) {
    tally.fail('mismatches', `${describe()}: shape ${show(out.shape)}`);
    return;
  }
  const data = out.toTypedArray();
  const f32 = (v: number): number => (out.dtype === 'float32' ? Math.fround(v) : v);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    const ok =
      op === 'zeros'
        ? v === 0
        : op === 'ones'
          ? v === 1
          : op === 'full'
            ? Object.is(v, f32(value as number)) || (Number.isNaN(v) && Number.isNaN(value))
            : op === 'rand'
              ? v >= 0 && v <= 1
              : Number.isFinite(v);
    if (!ok) {
      tally.fail('mismatches', `${describe()}: element ${i} is ${v}`);
      return;
    }
  }
}

/** transpose / permute with valid and hostile dims, checked element by element. */
function dimsCase(rng: Rng, tally: Tally, index: number): void {
  const rank = rng.int(0, 4);
  const shape = Array.from({ length: rank }, () => rng.int(1, 3));
  const x = make(rng, shape, 'float64');
  const r = Math.max(rank, 1);
  const dimValue = (): unknown => (rng.chance(0.8) ? rng.int(-r - 1, r) : rng.pick(HOSTILE)());
  const usePermute = rng.chance(0.4);
  let dims: unknown;
  let perm: number[] | null = null;
  if (usePermute) {
    const base = Array.from({ length: rank }, (_, i) => i);
    for (let i = rank - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [base[i], base[j]] = [base[j] as number, base[i] as number];
    }
    dims = rng.chance(0.7)
      ? base.map((d) => (rng.chance(0.3) ? d - rank : d))
      : rng.chance(0.5)
        ? [...base, 0]
        : rng.pick(HOSTILE)();
    if (Array.isArray(dims) && dims.length === rank) {
      const norm: number[] = [];
      for (let i = 0; i < rank; i++) {
        const d: unknown = dims[i];
        if (typeof d !== 'number' || !Number.isInteger(d) || d < -rank || d >= rank) break;
        norm.push(d < 0 ? d + rank : d);
      }
      if (norm.length === rank && new Set(norm).size === rank) perm = norm;
    }
  } else {
    const d0 = dimValue();
    const d1 = dimValue();
    dims = [d0, d1];
    const okDim = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= -r && d <= r - 1;
    if (okDim(d0) && okDim(d1)) {
      perm = Array.from({ length: rank }, (_, i) => i);
      if (rank > 0) {
        const a = d0 < 0 ? d0 + r : d0;
        const b = d1 < 0 ? d1 + r : d1;
        perm[a] = b;
        perm[b] = a;
      }
    }
  }
  const describe = (): string =>
    `#${index} ${usePermute ? 'permute' : 'transpose'}(Tensor(${show(shape)}), ${show(dims)})`;
  let out: Tensor | null = null;
  let error: unknown;
  let threw = false;
  try {
    out = usePermute
      ? T.permute(x, dims as number[])
      : T.transpose(x, (dims as unknown[])[0] as number, (dims as unknown[])[1] as number);
  } catch (e) {
    threw = true;
    error = e;
  }
  tally.outcome(perm !== null, error, threw, describe);
  if (!out || !perm) return;
  const outShape = perm.map((d) => shape[d] as number);
  if (out.shape.length !== outShape.length || out.shape.some((v, i) => v !== outShape[i])) {
    tally.fail('mismatches', `${describe()}: shape ${show(out.shape)}, expected ${show(outShape)}`);
    return;
  }
  const src = x.toTypedArray();
  const got = out.toTypedArray();
  const strides = shape.map((_, i) => prod(shape.slice(i + 1)));
  for (let flat = 0; flat < got.length; flat++) {
    let rem = flat;
    let srcIndex = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const size = outShape[i] as number;
      srcIndex += (rem % size) * (strides[perm[i] as number] as number);
      rem = Math.floor(rem / size);
    }
    if (got[flat] !== src[srcIndex]) {
      tally.fail('mismatches', `${describe()}: element ${flat}`);
      return;
    }
  }
}

function main(): void {
  const a = args();
  const seed = Number(a.seed ?? 1);
  const from = Number(a.from ?? 0);
  const to = Number(a.to ?? 1000);
  const tally = new Tally();
  for (let i = from; i < to; i++) {
    if ((i - from) % 1000 === 0) process.stdout.write(`progress ${i}\n`);
    const rng = new Rng(seed, i);
    const kind = rng.next();
    T.tidy(() => {
      if (kind < 0.8) convCase(rng, tally, i);
      else if (kind < 0.9) factoryCase(rng, tally, i);
      else dimsCase(rng, tally, i);
    });
  }
  process.stdout.write(`${JSON.stringify({ kind: 'ops', seed, from, to, ...tally })}\n`);
}

main();
