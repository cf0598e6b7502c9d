// SPDX-License-Identifier: MIT
// Layout arithmetic of contiguous row-major tensors, shared by the kernels (CPU and CUDA) and the ops:
// element counts, strides, broadcast strides and the merging of dimensions. Pure functions on shapes.

/** @internal Product of a shape. */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** @internal Row-major strides of a contiguous tensor. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * @internal Strides that read a contiguous tensor of `shape` broadcast to `outShape` (right-aligned;
 * 0 along broadcast dimensions).
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  const strides = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    strides[i + offset] = shape[i] === 1 && outShape[i + offset] !== 1 ? 0 : own[i];
  }
  return strides;
}

/**
 * @internal Merges neighbouring dimensions that every operand walks contiguously (stride[i] ==
 * stride[i + 1] * shape[i + 1]), and drops size-1 dimensions, so loops run over as few, as long rows
 * as possible. Returns the new shape and strides (at least one dimension).
 */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * size)) {
      outShape[last] *= size;
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][d];
    } else {
      outShape.push(size);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(1);
  }
  return { shape: outShape, strides: outStrides };
}
