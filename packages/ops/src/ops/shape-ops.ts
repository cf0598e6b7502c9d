// SPDX-License-Identifier: MIT
// Shape and layout ops with their gradients: reshape/view/flatten/squeeze/unsqueeze (sharing memory),
// permute/transpose, narrow/slice (copies: tensors are always contiguous), cat/stack and broadcastTo,
// plus the internal index-map gather/scatter-add pair behind narrow, slice and pad. The reshape and
// broadcast primitives (and their gradients) are in primitives.ts.

import { formatExpected, formatShape, formatValue, InvalidArgumentError, ShapeMismatchError } from '@tvdcn/shape';
import type { GradFn } from '../autograd/grad-fn.js';
import { recordOp, shouldRecord } from '../autograd/grad-node.js';
import type { IndexMap } from '../backends/kernel-backend.js';
import { getKernels } from '../backends/registry.js';
import { fromStorage, isTensor, type Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';
import { contiguousStrides, numelOf } from '../tensor/layout.js';
import { expectSameDeviceAndDType, expectTensor, normalizeDim } from './op-utils.js';
import { broadcastApply, reshapeApply } from './primitives.js';

// #region reshape family

/** Resolves a requested shape with at most one -1 against `numel`. */
function resolveShape(op: string, x: Tensor, shape: unknown): number[] {
  const bad = (): never => {
    throw new InvalidArgumentError(
      formatExpected(op, 'shape to be an array of non-negative integers with at most one -1', formatValue(shape)),
      'shape',
    );
  };
  if (!Array.isArray(shape)) return bad();
  let inferred = -1;
  let known = 1;
  const out = shape.map((d: unknown, i: number) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < -1) return bad();
    if (d === -1) {
      if (inferred >= 0) bad();
      inferred = i;
      return 1;
    }
    known *= d;
    return d;
  });
  if (inferred >= 0) {
    if (known === 0 || x.numel % known !== 0) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `a shape whose -1 can be inferred for ${x.numel} elements (input shape ${formatShape(x.shape)})`,
          formatShape(shape as number[]),
        ),
      );
    }
    out[inferred] = x.numel / known;
  } else if (known !== x.numel) {
    throw new ShapeMismatchError(
      formatExpected(
        op,
        `a shape with ${x.numel} elements (like the input's ${formatShape(x.shape)})`,
        `${formatShape(out)} (${known} elements)`,
      ),
    );
  }
  return out;
}

/**
 * The same values with another shape, sharing memory (differentiable). One entry may be -1 (inferred).
 * @throws {@link ShapeMismatchError} when the element counts differ
 * @example `reshape(arange(6), [2, -1]).shape` → `[2, 3]`
 */
export const reshape = defineOp('reshape', (op, input: Tensor, shape: readonly number[]): Tensor => {
  expectTensor(op, input, 'input');
  return reshapeApply(op, input, resolveShape(op, input, shape));
});

/** Alias of {@link reshape} (all tensors are contiguous, so every reshape is a view). */
export const view = defineOp('view', (op, input: Tensor, shape: readonly number[]): Tensor => {
  expectTensor(op, input, 'input');
  return reshapeApply(op, input, resolveShape(op, input, shape));
});

/**
 * Merges dimensions `startDim..endDim` into one (default: all), sharing memory.
 * @example `flatten(zeros([2, 3, 4]), 1).shape` → `[2, 12]`
 */
export const flatten = defineOp('flatten', (op, input: Tensor, startDim: number = 0, endDim: number = -1): Tensor => {
  expectTensor(op, input, 'input');
  if (input.ndim === 0) return reshapeApply(op, input, [1]);
  const s = normalizeDim(op, startDim, input.ndim, 'startDim');
  const e = normalizeDim(op, endDim, input.ndim, 'endDim');
  if (s > e) {
    throw new InvalidArgumentError(
      formatExpected(op, 'startDim <= endDim', `startDim = ${startDim}, endDim = ${endDim}`),
      'startDim',
    );
  }
  const shape = [...input.shape.slice(0, s), numelOf(input.shape.slice(s, e + 1)), ...input.shape.slice(e + 1)];
  return reshapeApply(op, input, shape);
});

/**
 * Inserts a dimension of size 1 at `dim` (in `[-ndim - 1, ndim]`), sharing memory.
 * @example `unsqueeze(zeros([3]), 0).shape` → `[1, 3]`
 */
export const unsqueeze = defineOp('unsqueeze', (op, input: Tensor, dim: number): Tensor => {
  expectTensor(op, input, 'input');
  const d = normalizeDim(op, dim, input.ndim + 1);
  const shape = [...input.shape];
  shape.splice(d, 0, 1);
  return reshapeApply(op, input, shape);
});

/**
 * Removes dimensions of size 1: `dim` only (if it has size 1), or all of them when omitted.
 * @example `squeeze(zeros([1, 3, 1])).shape` → `[3]`
 */
export const squeeze = defineOp('squeeze', (op, input: Tensor, dim?: number): Tensor => {
  expectTensor(op, input, 'input');
  let shape: number[];
  if (dim === undefined) {
    shape = input.shape.filter((s) => s !== 1);
  } else {
    const d = normalizeDim(op, dim, input.ndim);
    shape = [...input.shape];
    if (input.ndim > 0 && shape[d] === 1) shape.splice(d, 1);
  }
  return reshapeApply(op, input, shape);
});

// #endregion

// #region permute

/** @internal `x` with its dimensions reordered (a copy), recorded as 'permute'. */
export function permuteApply(op: string, x: Tensor, dims: readonly number[]): Tensor {
  const kx = expectTensor(op, x, 'input');
  const shape = dims.map((d) => x.shape[d]);
  const strides = contiguousStrides(x.shape);
  const kernels = getKernels(x.device);
  const storage = kernels.zeros(x.device, x.dtype, x.numel);
  kernels.copyStrided(
    kx.storage,
    0,
    dims.map((d) => strides[d]),
    storage,
    0,
    contiguousStrides(shape),
    shape,
  );
  const out = fromStorage(storage, shape);
  if (shouldRecord([x])) recordOp(out, permuteGrad, [x], [], { dims });
  return out;
}

/** permute → the inverse permutation. */
const permuteGrad: GradFn<{ dims: readonly number[] }> = {
  opName: 'permute',
  backward: (g, { needsGrad, attrs }) => {
    if (!needsGrad[0]) return [null];
    const inverse = new Array<number>(attrs.dims.length);
    attrs.dims.forEach((d, i) => {
      inverse[d] = i;
    });
    return [permuteApply('permute', g, inverse)];
  },
};

/**
 * The dimensions of `input` reordered: result dimension `i` is input dimension `dims[i]` (a copy).
 * @throws {@link InvalidArgumentError} when `dims` is not a permutation of the dimensions
 * @example `permute(zeros([2, 3, 4]), [2, 0, 1]).shape` → `[4, 2, 3]`
 */
export const permute = defineOp('permute', (op, input: Tensor, dims: readonly number[]): Tensor => {
  expectTensor(op, input, 'input');
  const n = input.ndim;
  const bad = (): never => {
    throw new InvalidArgumentError(
      formatExpected(op, `dims to be a permutation of the ${n} dimensions`, formatValue(dims)),
      'dims',
    );
  };
  if (!Array.isArray(dims) || dims.length !== n) bad();
  // Read by index: map() skips holes and calls a replaced `constructor`.
  const norm: number[] = [];
  for (let i = 0; i < n; i++) {
    const d: unknown = dims[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < -n || d >= n) bad();
    norm.push((d as number) < 0 ? (d as number) + n : (d as number));
  }
  if (new Set(norm).size !== n) bad();
  return permuteApply(op, input, norm);
});

/** `input` with dimensions `dim0` and `dim1` swapped (a copy). */
export const transpose = defineOp('transpose', (op, input: Tensor, dim0: number, dim1: number): Tensor => {
  expectTensor(op, input, 'input');
  // Checked first, also for a 0-d tensor (which accepts dims -1 and 0, as in PyTorch).
  const a = normalizeDim(op, dim0, input.ndim, 'dim0');
  const b = normalizeDim(op, dim1, input.ndim, 'dim1');
  if (input.ndim === 0) return reshapeApply(op, input, []);
  const dims = Array.from({ length: input.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permuteApply(op, input, dims);
});

// #endregion

// #region gather / scatter-add

/** Attributes of the gather/scatter-add pair. */
interface GatherAttrs {
  maps: readonly IndexMap[];
  /** Shape of the gather's output (the scatter's input). */
  outShape: readonly number[];
  /** Shape of the gather's input (the scatter's output). */
  inShape: readonly number[];
  value: number;
}

/** @internal `out[o] = x[maps(o)]` (or `value` where a map is -1), recorded as 'gather'. */
export function gatherApply(
  op: string,
  x: Tensor,
  maps: readonly IndexMap[],
  outShape: readonly number[],
  value: number,
): Tensor {
  const kx = expectTensor(op, x, 'input');
  const out = fromStorage(getKernels(x.device).gather(kx, maps, outShape, value), outShape);
  if (shouldRecord([x])) {
    recordOp(out, gatherGrad, [x], [], { maps, outShape, inShape: x.shape, value } satisfies GatherAttrs);
  }
  return out;
}

/** The adjoint of {@link gatherApply}, recorded as 'scatterAdd'. */
function scatterAddApply(op: string, g: Tensor, attrs: GatherAttrs): Tensor {
  const kg = expectTensor(op, g, 'gradOutput');
  const out = fromStorage(getKernels(g.device).scatterAdd(kg, attrs.maps, attrs.inShape), attrs.inShape);
  if (shouldRecord([g])) recordOp(out, scatterAddGrad, [g], [], attrs);
  return out;
}

/** gather → scatter-add (and back: each is the other's gradient). */
const gatherGrad: GradFn<GatherAttrs> = {
  opName: 'gather',
  backward: (g, { needsGrad, attrs }) => [needsGrad[0] ? scatterAddApply('gather', g, attrs) : null],
};

const scatterAddGrad: GradFn<GatherAttrs> = {
  opName: 'scatterAdd',
  backward: (g, { needsGrad, attrs }) => [
    needsGrad[0] ? gatherApply('scatterAdd', g, attrs.maps, attrs.outShape, 0) : null,
  ],
};

/**
 * @internal A zeroed index map of `length` entries into a dimension of `size`: an Int32Array while every
 * entry (at most `size - 1`) fits in one, else a Float64Array (exact to 2^53; the native kernels then index
 * with int64). The common case keeps 4 bytes an entry; only a dimension longer than 2^31 pays 8.
 */
export function indexMap(length: number, size: number): IndexMap {
  return size <= 2 ** 31 ? new Int32Array(length) : new Float64Array(length);
}

/** @internal The map `start, start + step, ...` (`length` entries) into a dimension of `size`. */
export function rangeMap(length: number, start: number, step: number, size: number): IndexMap {
  const m = indexMap(length, size);
  for (let i = 0; i < length; i++) m[i] = start + i * step;
  return m;
}

/** @internal The identity map of a dimension of `size`. */
export function identityMap(size: number): IndexMap {
  return rangeMap(size, 0, 1, size);
}

/**
 * @internal The maps of a gather that reads `map` along `dim` of `shape` and everything along the other
 * dimensions (no identity map is built for `dim`: it may be the long one).
 */
export function mapsAlong(shape: readonly number[], dim: number, map: IndexMap): IndexMap[] {
  return shape.map((size, d) => (d === dim ? map : identityMap(size)));
}

function expectInt(op: string, argument: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new InvalidArgumentError(formatExpected(op, `${argument} to be an integer`, formatValue(value)), argument);
}

/**
 * The `length` entries of `input` along `dim` starting at `start` (negative counts from the end). A copy
 * (PyTorch's narrow shares memory).
 * @throws {@link InvalidArgumentError} when the range does not fit in the dimension
 * @example `narrow(arange(10), 0, 2, 3).toArray()` → `[2, 3, 4]`
 */
export const narrow = defineOp('narrow', (op, input: Tensor, dim: number, start: number, length: number): Tensor => {
  expectTensor(op, input, 'input');
  if (input.ndim === 0) {
    throw new InvalidArgumentError(formatExpected(op, 'a tensor with at least one dimension', 'a scalar'), 'input');
  }
  const d = normalizeDim(op, dim, input.ndim);
  const size = input.shape[d];
  let s = expectInt(op, 'start', start);
  const len = expectInt(op, 'length', length);
  if (s < 0) s += size;
  if (s < 0 || len < 0 || s + len > size) {
    throw new InvalidArgumentError(
      formatExpected(
        op,
        `start and length within dimension ${d} of size ${size}`,
        `start = ${start}, length = ${length}`,
      ),
      'start',
    );
  }
  const maps = mapsAlong(input.shape, d, rangeMap(len, s, 1, size));
  const shape = [...input.shape];
  shape[d] = len;
  return gatherApply(op, input, maps, shape, 0);
});

/**
 * Entries `start, start + step, ...` before `end` along `dim`, with Python slice semantics (negative
 * indices count from the end; out-of-range bounds are clamped). A copy.
 * @param start - default 0
 * @param end - default the size of `dim`
 * @param step - positive (default 1)
 * @example `slice(arange(10), 0, 1, 8, 3).toArray()` → `[1, 4, 7]`
 */
export const slice = defineOp(
  'slice',
  (op, input: Tensor, dim: number, start?: number | null, end?: number | null, step: number = 1): Tensor => {
    expectTensor(op, input, 'input');
    if (input.ndim === 0) {
      throw new InvalidArgumentError(formatExpected(op, 'a tensor with at least one dimension', 'a scalar'), 'input');
    }
    const d = normalizeDim(op, dim, input.ndim);
    const size = input.shape[d];
    const st = expectInt(op, 'step', step);
    if (st <= 0) throw new InvalidArgumentError(formatExpected(op, 'step to be positive', formatValue(step)), 'step');
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const s = start == null ? 0 : clamp(expectInt(op, 'start', start));
    const e = end == null ? size : clamp(expectInt(op, 'end', end));
    const len = Math.max(0, Math.ceil((e - s) / st));
    const maps = mapsAlong(input.shape, d, rangeMap(len, s, st, size));
    const shape = [...input.shape];
    shape[d] = len;
    return gatherApply(op, input, maps, shape, 0);
  },
);

// #endregion

// #region cat, stack, broadcastTo

/** Attributes of a recorded cat. */
interface CatAttrs {
  dim: number;
  sizes: readonly number[];
}

/**
 * Concatenates tensors along `dim` (default 0). All must have the same rank and sizes except along `dim`,
 * and be on one device with one dtype.
 * @throws {@link ShapeMismatchError} for incompatible shapes
 * @throws {@link InvalidArgumentError} for an empty list or a bad `dim`
 * @example `cat([zeros([2, 3]), ones([1, 3])]).shape` → `[3, 3]`
 */
export const cat = defineOp('cat', (op, tensors: readonly Tensor[], dim: number = 0): Tensor => {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new InvalidArgumentError(
      formatExpected(op, 'tensors to be a non-empty array of Tensors', formatValue(tensors)),
      'tensors',
    );
  }
  const ks = tensors.map((t, i) => expectTensor(op, t, `tensors[${i}]`));
  expectSameDeviceAndDType(
    op,
    tensors.map((t, i) => [`tensors[${i}]`, t] as const),
  );
  const first = tensors[0];
  if (first.ndim === 0) {
    throw new InvalidArgumentError(
      formatExpected(op, 'tensors with at least one dimension', 'a scalar in tensors[0]'),
      'tensors',
    );
  }
  const d = normalizeDim(op, dim, first.ndim);
  tensors.forEach((t, i) => {
    const fits = t.ndim === first.ndim && t.shape.every((s: number, k: number) => k === d || s === first.shape[k]);
    if (!fits) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          `tensors of one rank with equal sizes except in dimension ${d}`,
          `tensors[0] with shape ${formatShape(first.shape)} and tensors[${i}] with shape ${formatShape(t.shape)}`,
        ),
      );
    }
  });
  const sizes = tensors.map((t) => t.shape[d]);
  const shape = [...first.shape];
  shape[d] = sizes.reduce((a, b) => a + b, 0);
  const outStrides = contiguousStrides(shape);
  const kernels = getKernels(first.device);
  const storage = kernels.zeros(first.device, first.dtype, numelOf(shape));
  let offset = 0;
  tensors.forEach((t, i) => {
    kernels.copyStrided(
      ks[i].storage,
      0,
      contiguousStrides(t.shape),
      storage,
      offset * outStrides[d],
      outStrides,
      t.shape,
    );
    offset += sizes[i];
  });
  const out = fromStorage(storage, shape);
  if (shouldRecord(tensors)) recordOp(out, catGrad, tensors, [], { dim: d, sizes } satisfies CatAttrs);
  return out;
});

/** cat → the pieces of the gradient. */
const catGrad: GradFn<CatAttrs> = {
  opName: 'cat',
  backward: (g, { needsGrad, attrs, inputShapes }) => {
    let offset = 0;
    return attrs.sizes.map((size, i) => {
      const start = offset;
      offset += size;
      if (!needsGrad[i]) return null;
      const maps = mapsAlong(g.shape, attrs.dim, rangeMap(size, start, 1, g.shape[attrs.dim]));
      return gatherApply('cat', g, maps, inputShapes[i], 0);
    });
  },
};

/**
 * Stacks tensors of one shape along a new dimension `dim` (default 0).
 * @example `stack([zeros([3]), ones([3])]).shape` → `[2, 3]`
 */
export const stack = defineOp('stack', (op, tensors: readonly Tensor[], dim: number = 0): Tensor => {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new InvalidArgumentError(
      formatExpected(op, 'tensors to be a non-empty array of Tensors', formatValue(tensors)),
      'tensors',
    );
  }
  tensors.forEach((t, i) => {
    expectTensor(op, t, `tensors[${i}]`);
  });
  const first = tensors[0];
  tensors.forEach((t, i) => {
    if (t.shape.length !== first.shape.length || t.shape.some((s: number, k: number) => s !== first.shape[k])) {
      throw new ShapeMismatchError(
        formatExpected(
          op,
          'tensors of one shape',
          `tensors[0] with shape ${formatShape(first.shape)} and tensors[${i}] with shape ${formatShape(t.shape)}`,
        ),
      );
    }
  });
  const d = normalizeDim(op, dim, first.ndim + 1);
  const shape = [...first.shape];
  shape.splice(d, 0, 1);
  return cat(
    tensors.map((t) => reshapeApply(op, t, shape)),
    d,
  );
});

/**
 * `input` repeated along its size-1 (and missing leading) dimensions to `shape` (a copy; PyTorch's
 * `expand` shares memory).
 * @throws {@link ShapeMismatchError} when `input` does not broadcast to `shape`
 * @example `broadcastTo(tensor([1, 2]), [3, 2]).shape` → `[3, 2]`
 */
export const broadcastTo = defineOp('broadcastTo', (op, input: Tensor, shape: readonly number[]): Tensor => {
  expectTensor(op, input, 'input');
  if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new InvalidArgumentError(
      formatExpected(op, 'shape to be an array of non-negative integers', formatValue(shape)),
      'shape',
    );
  }
  return broadcastApply(op, input, shape);
});

// #endregion

/** @internal True for an array of tensors. */
export function isTensorArray(value: unknown): value is Tensor[] {
  return Array.isArray(value) && value.every(isTensor);
}
