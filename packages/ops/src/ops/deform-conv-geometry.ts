// SPDX-License-Identifier: MIT
// The checked geometry of a deformable convolution call, remembered for the next calls of the same shapes.
//
// NOTE [ The geometry of recent calls ]
// Every forward checks its shapes and hyper-parameters (@tvdcn/shape) and derives the kernels' params from them,
// and on a GPU that host time comes before the call's first launch: the GPU waits for it (docs/cuda.md, session 31:
// the checks, the params and their packing took ~13 % of a forward call's host time on an H100's host, ~4 µs).
// A model calls each of its layers with the same shapes step after step, so the last few successful checks are
// kept with what was asked (the op, the shapes, the hyper-parameters as given, compared by value: a caller may
// reuse and change its arrays) and a call that asks the same gets the same frozen result. Only successful
// checks are kept: a call that throws always runs the checks and throws the same error as before.

import {
  checkDeformConvArgs,
  checkDeformConvTransposeArgs,
  type DeformConvParams,
  type DeformConvShapes,
  type DeformConvTransposeHyperparameters,
  type SpatialDim,
} from '@tvdcn/shape';
import type { NativeDeformConvParams } from '../native/binding.js';

/** The checked geometry and the kernels' params of one call (frozen: shared by the calls that ask the same). */
export interface DeformConvGeometry {
  readonly p: Readonly<DeformConvParams>;
  readonly params: Readonly<NativeDeformConvParams>;
}

type Hyper = number | readonly number[] | undefined;
const HYPER_KEYS = ['stride', 'padding', 'dilation', 'groups', 'outputPadding'] as const;

interface Entry {
  op: string;
  dim: SpatialDim;
  transposed: boolean;
  shapes: (readonly number[] | null)[];
  hyper: Hyper[];
  geometry: DeformConvGeometry;
}

/** How many recent geometries are kept (a model's distinct deformable layers, most recent first). */
const CAPACITY = 16;
const recent: Entry[] = [];

/**
 * A plain copy of `a`, element by element: never `slice()` or `Array.from()`, which would call the caller's
 * `constructor[Symbol.species]` or iterator (the fuzzer's tampered arrays; @tvdcn/shape reads them by index too).
 */
function copyOf(a: readonly unknown[]): number[] {
  const n = a.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = a[i] as number;
  return out;
}

const copyHyper = (v: unknown): Hyper => (Array.isArray(v) ? copyOf(v) : typeof v === 'number' ? v : (v as undefined));

function sameShape(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameHyper(a: Hyper, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && sameShape(a, b as number[]);
  return a === b; // a number or undefined: b must be the same (an array is not)
}

function shapeList(shapes: DeformConvShapes): (readonly number[] | null)[] {
  return [shapes.input, shapes.weight, shapes.offset ?? null, shapes.mask ?? null, shapes.bias ?? null];
}

function matches(
  e: Entry,
  op: string,
  dim: SpatialDim,
  transposed: boolean,
  s: (readonly number[] | null)[],
  hyper: object,
) {
  if (e.op !== op || e.dim !== dim || e.transposed !== transposed) return false;
  for (let i = 0; i < 5; i++) if (!sameShape(e.shapes[i]!, s[i]!)) return false;
  const h = hyper as Record<string, unknown>;
  for (let i = 0; i < HYPER_KEYS.length; i++) if (!sameHyper(e.hyper[i], h[HYPER_KEYS[i]!])) return false;
  return true;
}

/**
 * `o` frozen, its arrays replaced by frozen copies (never a caller's array: one may alias the input); arrays already
 * frozen (the params share the frozen geometry's) are kept.
 */
function frozen<T extends object>(o: T): Readonly<T> {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (Array.isArray(v) && !Object.isFrozen(v)) r[k] = Object.freeze(copyOf(v));
  }
  return Object.freeze(o);
}

/** @internal The kernels' params from the validated geometry (always batched). */
export function toNativeParams(p: DeformConvParams): NativeDeformConvParams {
  return {
    dim: p.dim,
    transposed: p.transposed,
    batch: p.batch,
    inChannels: p.inChannels,
    outChannels: p.outChannels,
    groups: p.groups,
    offsetGroups: p.deformable ? p.offsetGroups : 1,
    maskGroups: p.modulated ? p.maskGroups : 1,
    kernelSize: p.kernelSize,
    stride: p.stride,
    padding: p.padding,
    dilation: p.dilation,
    inSize: p.inSize,
    outSize: p.outSize,
  };
}

/**
 * @internal The checked geometry of a (transposed) deformable convolution and its kernels' params: the checks of
 * `@tvdcn/shape` (which throw the typed errors), or the result of a recent call that asked the same
 * (NOTE [ The geometry of recent calls ]).
 */
export function deformConvGeometry(
  op: string,
  dim: SpatialDim,
  transposed: boolean,
  shapes: DeformConvShapes,
  hyper: DeformConvTransposeHyperparameters,
): DeformConvGeometry {
  const asked = shapeList(shapes);
  for (let i = 0; i < recent.length; i++) {
    const e = recent[i]!;
    if (!matches(e, op, dim, transposed, asked, hyper)) continue;
    if (i > 0) {
      recent.splice(i, 1);
      recent.unshift(e);
    }
    return e.geometry;
  }
  const p = transposed
    ? checkDeformConvTransposeArgs(op, dim, shapes, hyper)
    : checkDeformConvArgs(op, dim, shapes, hyper);
  const geometry: DeformConvGeometry = { p: frozen(p), params: frozen(toNativeParams(p)) };
  const h = hyper as Record<string, unknown>;
  recent.unshift({
    op,
    dim,
    transposed,
    shapes: asked.map((s) => (s === null ? null : copyOf(s))),
    hyper: HYPER_KEYS.map((k) => copyHyper(h[k])),
    geometry,
  });
  if (recent.length > CAPACITY) recent.pop();
  return geometry;
}
