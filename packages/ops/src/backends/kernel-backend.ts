// SPDX-License-Identifier: MIT
// The internal interface every device implements: a small table of kernels over storages (the idea of
// ATen's DispatchStub and tfjs's backends). Ops validate and shape-check, then call these; kernels trust
// their arguments. The CPU backend is in cpu/; a CUDA backend implements the same interface over
// device buffers and registers itself in registry.ts.

import type { NativeDeformConvParams } from '../native/binding.js';
import type { Device, DeviceType } from '../tensor/device.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import type { Storage } from '../tensor/storage.js';

/** @internal Elementwise ops of one tensor and a scalar parameter `alpha` (unused by most). */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'abs'
  | 'sign'
  | 'square'
  | 'sqrt'
  | 'addScalar' // x + alpha
  | 'mulScalar' // x * alpha
  | 'divScalar' // x / alpha
  | 'rsubScalar' // alpha - x
  | 'rdivScalar' // alpha / x
  | 'powScalar'; // x ** alpha

/**
 * @internal Elementwise ops of two broadcast tensors. The `*Backward` ops are fused gradients:
 * `a` is the incoming gradient and `b` the saved tensor named in the comment.
 */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sigmoidBackward' // a * b * (1 - b), b = sigmoid output
  | 'tanhBackward' // a * (1 - b * b), b = tanh output
  | 'reluBackward' // b > 0 ? a : 0, b = relu input
  | 'absBackward'; // a * sign(b), b = abs input

/**
 * @internal An index map of {@link KernelBackend.gather}: entry `o` is the index that output index `o` reads
 * along one dimension, or -1. An Int32Array while the indexed dimension has at most 2^31 entries, a
 * Float64Array (whole numbers, exact up to 2^53) for a longer one; see `indexMap` in ops/shape-ops.ts.
 */
export type IndexMap = Int32Array | Float64Array;

/** @internal A tensor as kernels see it: contiguous, row-major. */
export interface KernelTensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
}

/** @internal Which gradients a deformable convolution backward computes. */
export interface DeformConvNeedsGrad {
  input: boolean;
  weight: boolean;
  offset: boolean;
  mask: boolean;
  bias: boolean;
}

/** @internal Gradients of a deformable convolution; `null` where not requested. */
export interface DeformConvGradStorages {
  input: Storage | null;
  weight: Storage | null;
  offset: Storage | null;
  mask: Storage | null;
  bias: Storage | null;
}

/**
 * @internal The kernels of one device type. Every function allocates its result on the device of its
 * first tensor argument; all tensor arguments are on that device and of one dtype (ops check this).
 */
export interface KernelBackend {
  readonly type: DeviceType;

  // --- memory ---
  /** A zero-filled storage. */
  zeros(device: Device, dtype: DType, numel: number): Storage;
  /** A storage holding `data`: the array itself when `adopt` (CPU, matching dtype), else a copy. */
  fromArray(device: Device, dtype: DType, data: TypedArray, adopt: boolean): Storage;
  /** A copy of the values on the CPU (half types widen to float32). */
  read(storage: Storage): TypedArray;
  /**
   * {@link KernelBackend.read} without blocking the event loop (devices whose reads wait for the device;
   * `Tensor.data()` uses `read` where it is absent); into `out` when given (the storage's array type and
   * numel, sharing no memory with it: checked by the caller), resolving with `out`.
   */
  readAsync?(storage: Storage, out?: TypedArray): Promise<TypedArray>;
  /** A copy of `storage` in `dtype` (a plain copy when the dtype is the same). */
  cast(storage: Storage, dtype: DType): Storage;
  /** Sets every element to `value`, in place. */
  fill(storage: Storage, value: number): void;
  /** `dst += src`, in place, same numel. */
  addInPlace(dst: Storage, src: Storage): void;

  // --- elementwise and reductions ---
  unary(op: UnaryOp, x: Storage, alpha: number): Storage;
  /** `op(a, b)` broadcast to `outShape` (NumPy rules; the op checked the shapes). */
  binary(op: BinaryOp, a: KernelTensor, b: KernelTensor, outShape: readonly number[]): Storage;
  /** Sum over `dims` (sorted, unique); the result has the kept dims in order. */
  sum(x: KernelTensor, dims: readonly number[]): Storage;

  // --- data movement ---
  /**
   * Copies `shape` elements from `src` (starting at `srcOffset`, stepping by `srcStrides`, 0 to
   * broadcast) to `dst` (at `dstOffset`, by `dstStrides`), in place.
   */
  copyStrided(
    src: Storage,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Storage,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void;
  /**
   * Gathers `out[o] = x[map_0[o_0], ..., map_n[o_n]]`, or `value` where any map entry is -1. `maps[d]`
   * has `outShape[d]` entries indexing `x.shape[d]`.
   */
  gather(x: KernelTensor, maps: readonly IndexMap[], outShape: readonly number[], value: number): Storage;
  /** The adjoint of {@link KernelBackend.gather}: `gx[map(o)] += g[o]` into a zero tensor of `xShape`. */
  scatterAdd(g: KernelTensor, maps: readonly IndexMap[], xShape: readonly number[]): Storage;

  // --- deformable convolution and mask activations (tvdcn-reference §3 to §6) ---
  /**
   * `saved`: a storage from {@link KernelBackend.deformConvSavedColumns} in which the forward also keeps its
   * columns for the backward (NOTE [ Saved columns of the transposed forward ] in ops/deform-conv.ts).
   */
  deformConvForward(
    params: NativeDeformConvParams,
    input: KernelTensor,
    weight: KernelTensor,
    offset: KernelTensor | null,
    mask: KernelTensor | null,
    bias: KernelTensor | null,
    outShape: readonly number[],
    saved?: Storage | null,
  ): Storage;
  /** `saved`: the forward's saved columns, read instead of recomputed. */
  deformConvBackward(
    params: NativeDeformConvParams,
    input: KernelTensor,
    weight: KernelTensor,
    offset: KernelTensor | null,
    mask: KernelTensor | null,
    gradOutput: KernelTensor,
    biasShape: readonly number[] | null,
    needsGrad: DeformConvNeedsGrad,
    saved?: Storage | null,
  ): DeformConvGradStorages;
  /**
   * A new storage (uninitialised) in which a forward of this transposed op on `device` keeps its columns for
   * the backward, or null where it keeps none (the device or binary does not, or they are larger than its
   * bound).
   */
  deformConvSavedColumns?(
    params: NativeDeformConvParams,
    device: Device,
    dtype: DType,
    hasOffset: boolean,
    hasMask: boolean,
  ): Storage | null;
  /** Softmax over each group's K channels of a batched mask `[B, maskGroups * K, ...]`. */
  maskSoftmaxForward(mask: KernelTensor, maskGroups: number, kernelPoints: number): Storage;
  /** `s * (g - sum_K(g * s))` with `s` the forward output. */
  maskSoftmaxBackward(
    output: KernelTensor,
    gradOutput: KernelTensor,
    maskGroups: number,
    kernelPoints: number,
  ): Storage;
}
