// SPDX-License-Identifier: MIT
// The Tensor class: an n-dimensional, contiguous, row-major array of one dtype on one device, with
// the autograd fields (requiresGrad, grad). Factories are in factories.ts; ops in ../ops/. The methods
// that call ops (add, sum, reshape, backward, ...) go through the TensorMethodOps table, which
// ../tensor-methods.ts (a layer above the ops) installs: this file imports no op and no autograd code.

import {
  DisposedTensorError,
  DTypeMismatchError,
  DeviceMismatchError,
  formatExpected,
  formatShape,
  formatValue,
  InvalidArgumentError,
  ShapeMismatchError,
} from '@tvdcn/shape';
import { getKernels } from '../backends/registry.js';
import { parseDevice, type Device } from './device.js';
import { DTYPE_TO_ARRAY, isDType, type DType, type TypedArray } from './dtype.js';
import { formatTensor, INSPECT_CUSTOM } from './inspect.js';
import { setTensorPredicate, tensorCreated, tensorReleased } from './memory.js';
import { CpuStorage, type Storage, type StorageRecord } from './storage.js';

/** A nested array of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = readonly (number | NestedArray)[];

/**
 * @internal What a tensor keeps of the autograd node that produced it: a reference it gives back when it
 * is disposed. The node itself (autograd/grad-node.ts, a layer above) is opaque here.
 */
export interface TensorGradNode {
  unref(): void;
}

/** Options of `Tensor.backward()` (the backward engine is autograd/tape.ts). */
export interface BackwardOptions {
  /**
   * Keep the tensors saved for backward, so that backward can run through the same graph again
   * (default: the value of `createGraph`).
   */
  retainGraph?: boolean;
  /**
   * Record the backward pass itself, so that the gradients can be differentiated again (default false).
   * Deformable convolution has no second derivative: differentiating its gradient throws
   * NotImplementedError.
   */
  createGraph?: boolean;
}

/**
 * What the garbage collector must release if the tensor is dropped: its reference on the storage (the
 * record, not the memory: see storage.ts's NOTE [ Storages the garbage collector reclaims ]) and its node.
 */
interface TensorState {
  record: StorageRecord | null;
  node: TensorGradNode | null;
}

/** Releases the storage reference and graph of tensors collected without `dispose()`. */
const finalizer = new FinalizationRegistry<TensorState>((state) => {
  const record = state.record;
  if (record === null) return;
  state.record = null;
  tensorReleased(null);
  record.release();
  const node = state.node;
  state.node = null;
  node?.unref();
});

const TENSOR_MARKER = Symbol.for('tvdcn.Tensor');

/** @internal Access to a tensor's private state, for ops and autograd (not exported from the package). */
interface TensorInternals {
  storage(t: Tensor): Storage | null;
  node(t: Tensor): TensorGradNode | null;
  setNode(t: Tensor, node: TensorGradNode | null): void;
  setGradUnchecked(t: Tensor, grad: Tensor | null): void;
}

let internals!: TensorInternals;

/**
 * @internal The ops behind the Tensor methods, installed by ../tensor-methods.ts from the layers above
 * (ops, autograd) so that this file needs none of them. Each entry is the function of the same name.
 */
export interface TensorMethodOps {
  cast(x: Tensor, dtype: DType): Tensor;
  toDevice(x: Tensor, device: Device): Tensor;
  clone(x: Tensor): Tensor;
  reshape(x: Tensor, shape: readonly number[]): Tensor;
  copyInPlace(self: Tensor, src: Tensor): void;
  fillInPlace(self: Tensor, value: number, op?: string): void;
  addInPlace(self: Tensor, other: Tensor | number, alpha: number): void;
  mulInPlace(self: Tensor, other: Tensor | number): void;
  add(a: Tensor | number, b: Tensor | number): Tensor;
  sub(a: Tensor | number, b: Tensor | number): Tensor;
  mul(a: Tensor | number, b: Tensor | number): Tensor;
  div(a: Tensor | number, b: Tensor | number): Tensor;
  neg(x: Tensor): Tensor;
  pow(x: Tensor, exponent: number): Tensor;
  exp(x: Tensor): Tensor;
  log(x: Tensor): Tensor;
  abs(x: Tensor): Tensor;
  square(x: Tensor): Tensor;
  sqrt(x: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
  tanh(x: Tensor): Tensor;
  relu(x: Tensor): Tensor;
  sum(x: Tensor, dim?: number | readonly number[] | null, keepdim?: boolean): Tensor;
  mean(x: Tensor, dim?: number | readonly number[] | null, keepdim?: boolean): Tensor;
  view(x: Tensor, shape: readonly number[]): Tensor;
  flatten(x: Tensor, startDim?: number, endDim?: number): Tensor;
  squeeze(x: Tensor, dim?: number): Tensor;
  unsqueeze(x: Tensor, dim: number): Tensor;
  permute(x: Tensor, dims: readonly number[]): Tensor;
  transpose(x: Tensor, dim0: number, dim1: number): Tensor;
  narrow(x: Tensor, dim: number, start: number, length: number): Tensor;
  slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
  broadcastTo(x: Tensor, shape: readonly number[]): Tensor;
  backward(tensors: readonly Tensor[], gradOutputs: readonly (Tensor | null)[], options?: BackwardOptions): void;
}

let methodOps: TensorMethodOps | null = null;

/** @internal Installs the ops behind the Tensor methods (../tensor-methods.ts; idempotent). */
export function installTensorMethodOps(ops: TensorMethodOps): void {
  methodOps = ops;
}

/** The installed method ops; an internal error when the package entry point was bypassed. */
function ops(): TensorMethodOps {
  if (methodOps === null) {
    throw new Error(
      "internal error: Tensor methods are installed by @tvdcn/ops's entry point (index.ts), which was not loaded; please report",
    );
  }
  return methodOps;
}

let nextId = 1;

/** Message tail of every use-after-dispose error (style.md §9.9 rule 7). */
const DISPOSED_HINT = 'call keep() on it inside tidy(), or do not dispose() it, if you need it afterwards';

/**
 * An n-dimensional array of `float32` or `float64` values (half types on CUDA) with PyTorch-style
 * autograd. Create tensors with {@link tensor}, {@link zeros}, {@link randn}, ...; the constructor is
 * internal.
 *
 * Memory: CPU tensors hold a typed array that the garbage collector frees, but `dispose()` (or `tidy()`)
 * frees it at once and keeps {@link memory} exact; device memory (CUDA) should always be disposed.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = sum(mul(x, x));
 * y.backward();
 * x.grad?.toArray(); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** Size of each dimension, e.g. `[batch, channels, height, width]`. Frozen. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** Where the values live (`'cpu'` or `'cuda:<index>'`). */
  readonly device: Device;
  /** Number of dimensions, `shape.length`. */
  readonly ndim: number;
  /** Number of elements, the product of `shape` (1 for a scalar, `shape = []`). */
  readonly numel: number;
  /** Unique id, for debugging. */
  readonly id: number;

  #storage: Storage | null;
  readonly #state: TensorState;
  #requiresGrad = false;
  #grad: Tensor | null = null;

  /**
   * @internal Wraps a storage; use the factories instead. Takes one reference on `storage`.
   */
  constructor(storage: Storage, shape: readonly number[]) {
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
    this.dtype = storage.dtype;
    this.device = storage.device;
    this.ndim = shape.length;
    let n = 1;
    for (let i = 0; i < shape.length; i++) n *= shape[i];
    this.numel = n;
    this.id = nextId++;
    this.#storage = storage.retain();
    this.#state = { record: storage.record, node: null };
    finalizer.register(this, this.#state, this);
    tensorCreated(this);
  }

  static {
    internals = {
      storage: (t) => t.#storage,
      node: (t) => t.#state.node,
      setNode: (t, node) => {
        t.#state.node = node;
        t.#requiresGrad = node !== null || t.#requiresGrad;
      },
      setGradUnchecked: (t, g) => {
        t.#grad = g;
      },
    };
    setTensorPredicate((x: unknown): x is Tensor => isTensor(x));
  }

  /** Marker for {@link isTensor} across copies of the package. */
  get [TENSOR_MARKER](): true {
    return true;
  }

  /** True once `dispose()` was called. */
  get isDisposed(): boolean {
    return this.#storage === null;
  }

  /**
   * Whether gradients flow to this tensor. Settable on leaves (tensors not produced by an op that
   * recorded the graph); results of ops on such tensors require grad too.
   * @throws {@link InvalidArgumentError} when set to false on a non-leaf (use `detach()`), or to a non-boolean
   */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }

  /** Sets {@link Tensor.requiresGrad} (see the getter for the rules). */
  set requiresGrad(value: boolean) {
    if (typeof value !== 'boolean') {
      throw new InvalidArgumentError(formatExpected('requiresGrad', 'a boolean', formatValue(value)), 'requiresGrad');
    }
    if (!value && this.#state.node !== null) {
      throw new InvalidArgumentError(
        'requiresGrad(): expected a leaf tensor, but got the result of an op; ' +
          'only leaves can stop requiring grad: use detach() to get a tensor without a graph',
        'requiresGrad',
      );
    }
    this.#requiresGrad = value;
  }

  /** True for tensors not produced by a recorded op (user-created tensors, and all tensors under `noGrad()`). */
  get isLeaf(): boolean {
    return this.#state.node === null;
  }

  /**
   * The gradient accumulated by `backward()` (leaves that require grad only), or null. Each `backward()`
   * adds into it in place; set it to null (or use an optimizer's `zeroGrad()`) between steps.
   * @throws {@link ShapeMismatchError}, {@link DTypeMismatchError}, {@link DeviceMismatchError} when set to a
   *   tensor that does not match this one
   */
  get grad(): Tensor | null {
    return this.#grad;
  }

  /** Sets or clears {@link Tensor.grad} (see the getter for the checks). */
  set grad(value: Tensor | null) {
    if (value !== null) {
      if (!isTensor(value)) {
        throw new InvalidArgumentError(formatExpected('grad', 'a Tensor or null', formatValue(value)), 'grad');
      }
      if (!sameShape(value.shape, this.shape)) {
        throw new ShapeMismatchError(
          formatExpected('grad', `a gradient of shape ${formatShape(this.shape)}`, `shape ${formatShape(value.shape)}`),
        );
      }
      if (value.dtype !== this.dtype) {
        throw new DTypeMismatchError(formatExpected('grad', `a gradient of dtype ${this.dtype}`, value.dtype));
      }
      if (value.device !== this.device) {
        throw new DeviceMismatchError(formatExpected('grad', `a gradient on ${this.device}`, value.device));
      }
    }
    this.#grad = value;
  }

  /**
   * A copy of the values in row-major order (half types widen to float32). Writing to it does not
   * change the tensor; {@link Tensor.cpuData} gives the tensor's own array.
   *
   * A synchronising call: it waits for the work queued on this tensor (CPU ops of the Node addon and CUDA
   * ops return before their kernels ran), blocking the JS thread meanwhile; {@link Tensor.data} does not.
   * @throws {@link DisposedTensorError} after `dispose()`
   * @throws the library's typed error (e.g. `OutOfMemoryError`) of a queued CPU op that failed while
   *   computing this tensor or a tensor it was computed from; the message names that op
   */
  toTypedArray(): TypedArray {
    const storage = this.#live('toTypedArray');
    return getKernels(this.device).read(storage);
  }

  /**
   * The same as {@link Tensor.toTypedArray}, as a Promise that never blocks the event loop. The copy is
   * queued behind the tensor's pending work (on the CPU queue for CPU tensors, on the device's stream for
   * CUDA tensors) and awaited off the main thread, so the event loop keeps running while the kernels finish
   * (disposing the tensor meanwhile is safe). A pending `data()` keeps the process alive until it settles.
   *
   * With `out`, the values are written into that array instead of a new one, and the Promise resolves with
   * `out` (a server that reuses its response buffers allocates nothing per request; like the
   * `copyTo(destination)` of WebCodecs' frames). `out` must be the array type of the tensor's dtype
   * (Float64Array for float64, Float32Array otherwise) with exactly `numel` elements, and must not share
   * memory with the tensor; do not read or write it until the Promise settles. (CUDA tensors are
   * downloaded into a staging array first.)
   *
   * Rejects with {@link DisposedTensorError} after `dispose()`, with {@link InvalidArgumentError} for an
   * unsuitable `out`, and with the typed error of a failed queued op (see {@link Tensor.toTypedArray}).
   * @example
   * ```ts
   * const y = layer.forward(x);  // returns at once
   * const out = await y.data();  // the event loop serves other requests meanwhile
   * await y.data(reused);        // the same values, written into an array of your own
   * ```
   */
  data(): Promise<TypedArray>;
  data<T extends TypedArray>(out: T): Promise<T>;
  async data(out?: TypedArray): Promise<TypedArray> {
    const storage = this.#live('data');
    if (out !== undefined) checkReadTarget(out, storage, this.numel);
    const kernels = getKernels(this.device, 'data');
    if (kernels.readAsync !== undefined) return kernels.readAsync(storage, out);
    const values = kernels.read(storage);
    if (out === undefined) return values;
    out.set(values);
    return out;
  }

  /**
   * The tensor's own CPU array, zero-copy (like PyTorch's `.numpy()`): writes change the tensor, and
   * every tensor sharing its memory (`reshape()` and `detach()` results, tensors saved for a backward
   * pass). Changing values saved for backward gives wrong gradients. Meant for optimizers, data loading
   * and interop; prefer {@link Tensor.toTypedArray} otherwise.
   *
   * A synchronising call (see {@link Tensor.toTypedArray}): it waits for the queued work on the tensor,
   * without a copy. Do not keep the array to read or write later while ops on the tensor are queued: take
   * it again (cheap) after queuing them. The array stays this tensor's: once handed out it is never reused
   * for another tensor after `dispose()` (unlike the arrays of disposed tensors never read this way, which the
   * CPU reuses; see `cpuEmptyCache()`).
   * @throws {@link DisposedTensorError} after `dispose()`
   * @throws {@link InvalidArgumentError} for a tensor not on the CPU (use `cpu()` first)
   */
  cpuData(): TypedArray {
    const storage = this.#live('cpuData');
    if (!(storage instanceof CpuStorage)) {
      throw new InvalidArgumentError(
        formatExpected('cpuData', "a tensor on 'cpu'", `a tensor on '${this.device}'; call cpu() first`),
        'tensor',
      );
    }
    return storage.share();
  }

  /**
   * The values as nested arrays (a number for a scalar). A synchronising call (see {@link Tensor.toTypedArray}).
   * @example `tensor([[1, 2], [3, 4]]).toArray()` → `[[1, 2], [3, 4]]`
   */
  toArray(): number | NestedArray {
    const values = this.toTypedArray();
    if (this.ndim === 0) return values[0];
    return nest(values, this.shape, 0, 0);
  }

  /**
   * The single value of a one-element tensor. A synchronising call (see {@link Tensor.toTypedArray}).
   * @throws {@link ShapeMismatchError} when `numel !== 1`
   */
  item(): number {
    if (this.numel !== 1) {
      throw new ShapeMismatchError(
        formatExpected(
          'item',
          'a tensor with one element',
          `shape ${formatShape(this.shape)} (${this.numel} elements)`,
        ),
      );
    }
    return this.toTypedArray()[0];
  }

  /**
   * A copy on another device and/or of another dtype; `this` when nothing changes. Differentiable.
   * @param target - a device (`'cpu'`, `'cuda'`, `'cuda:1'`), a dtype, or both in an object
   * @throws {@link NotImplementedError} for a device without usable kernels (CUDA without a CUDA build or
   *   device) or a half dtype on the CPU
   * @example `x.to('float64')`, `x.to({ device: 'cpu', dtype: 'float32' })`
   */
  to(target: Device | DType | { device?: Device; dtype?: DType }): Tensor {
    let device: Device | undefined;
    let dtype: DType | undefined;
    if (typeof target === 'string') {
      if (isDType(target)) dtype = target;
      else device = parseDevice(target, 'to');
    } else if (typeof target === 'object' && target !== null) {
      if (target.device !== undefined) device = parseDevice(target.device, 'to');
      if (target.dtype !== undefined) {
        if (!isDType(target.dtype)) {
          throw new InvalidArgumentError(
            formatExpected(
              'to',
              "dtype to be 'float32', 'float64', 'float16' or 'bfloat16'",
              formatValue(target.dtype),
            ),
            'dtype',
          );
        }
        dtype = target.dtype;
      }
    } else {
      throw new InvalidArgumentError(
        formatExpected('to', 'a device, a dtype or { device?, dtype? }', formatValue(target)),
        'target',
      );
    }
    this.#live('to');
    const move = device !== undefined && device !== this.device;
    const convert = dtype !== undefined && dtype !== this.dtype;
    if (!move && !convert) return this;
    if (!move) return ops().cast(this, dtype as DType);
    if (!convert) return ops().toDevice(this, device as Device);
    // Convert where both dtypes exist: on the device when leaving it (a half CUDA tensor becomes
    // float32 there, then moves to the CPU), on the target when coming from the CPU.
    const first = this.device === 'cpu' ? ops().toDevice(this, device as Device) : ops().cast(this, dtype as DType);
    try {
      return this.device === 'cpu' ? ops().cast(first, dtype as DType) : ops().toDevice(first, device as Device);
    } finally {
      first.dispose();
    }
  }

  /** `to('cpu')`. */
  cpu(): Tensor {
    return this.to('cpu');
  }

  /**
   * `to('cuda:<index>')`.
   * @throws {@link NotImplementedError} when CUDA is not usable here (the message names the cause)
   */
  cuda(index = 0): Tensor {
    if (!Number.isInteger(index) || index < 0) {
      throw new InvalidArgumentError(
        formatExpected('cuda', 'index to be a non-negative integer', formatValue(index)),
        'index',
      );
    }
    return this.to(`cuda:${index}`);
  }

  /**
   * The same values with another shape (sharing memory; differentiable). One entry may be -1 (inferred).
   * @throws {@link ShapeMismatchError} when the element counts differ
   */
  reshape(shape: readonly number[]): Tensor {
    return ops().reshape(this, shape);
  }

  /** A tensor sharing this one's memory, cut from the graph (`requiresGrad` false). */
  detach(): Tensor {
    return new Tensor(this.#live('detach'), this.shape);
  }

  /** A copy of the values in new memory (differentiable: gradients flow back to `this`). */
  clone(): Tensor {
    return ops().clone(this);
  }

  // #region In-place ops (PyTorch's trailing-underscore methods). They write into this tensor's memory
  // through its device's kernels and are not recorded by autograd.

  /**
   * Copies the values of `src` into this tensor, in place, and returns `this` (PyTorch's `copy_`). `src`
   * must have this tensor's shape, and may be on another device or of another dtype: the values are
   * converted (rounded once to this tensor's dtype). Every tensor sharing this one's memory (`reshape()`,
   * `detach()` results, tensors saved for backward) sees the change.
   *
   * Not recorded by autograd: with grad mode on, it throws for a tensor that requires grad (as PyTorch does
   * for leaves) and for a `src` that requires grad; call it inside {@link noGrad} to update parameters.
   * @throws {@link ShapeMismatchError} when the shapes differ
   * @throws {@link InvalidArgumentError} for a tensor (or `src`) that requires grad while grad mode is on
   * @throws {@link DisposedTensorError} when either tensor was disposed
   * @example
   * ```ts
   * noGrad(() => layer.weight.copy_(loaded));   // loaded may be on the CPU, the weight on CUDA
   * ```
   */
  copy_(src: Tensor): this {
    ops().copyInPlace(this, src);
    return this;
  }

  /**
   * Sets every element to `value` (rounded to the dtype), in place; returns `this` (PyTorch's `fill_`).
   * Not recorded by autograd (see {@link Tensor.copy_}).
   * @throws {@link InvalidArgumentError} for a value that is not a number, or a tensor that requires grad
   *   while grad mode is on
   */
  fill_(value: number): this {
    ops().fillInPlace(this, value);
    return this;
  }

  /** `fill_(0)` (PyTorch's `zero_`). */
  zero_(): this {
    ops().fillInPlace(this, 0, 'zero_');
    return this;
  }

  /**
   * `this += alpha * other`, in place; returns `this` (PyTorch's `add_(other, alpha=1)`). `other` is a
   * number or a tensor of this device and dtype whose shape broadcasts to this one's; `alpha * other` is
   * rounded to the dtype before the sum (two roundings when `alpha` is not 1). Not recorded by autograd
   * (see {@link Tensor.copy_}).
   * @throws {@link ShapeMismatchError}, {@link DeviceMismatchError}, {@link DTypeMismatchError}
   * @throws {@link InvalidArgumentError} for a tensor that requires grad while grad mode is on
   * @example `noGrad(() => p.add_(p.grad!, -lr))` — a plain SGD step
   */
  add_(other: Tensor | number, alpha = 1): this {
    ops().addInPlace(this, other, alpha);
    return this;
  }

  /**
   * `this *= other`, in place; returns `this` (PyTorch's `mul_`). `other` is a number or a tensor of this
   * device and dtype whose shape broadcasts to this one's. Not recorded by autograd (see {@link Tensor.copy_}).
   * @throws {@link ShapeMismatchError}, {@link DeviceMismatchError}, {@link DTypeMismatchError}
   * @throws {@link InvalidArgumentError} for a tensor that requires grad while grad mode is on
   */
  mul_(other: Tensor | number): this {
    ops().mulInPlace(this, other);
    return this;
  }

  // #endregion

  // #region Method forms of the functional ops (as PyTorch's Tensor methods; each is the function of
  // the same name with this tensor as its first argument, and differentiable like it).

  /** `add(this, other)`: elementwise sum with broadcasting. */
  add(other: Tensor | number): Tensor {
    return ops().add(this, other);
  }

  /** `sub(this, other)`: elementwise difference with broadcasting. */
  sub(other: Tensor | number): Tensor {
    return ops().sub(this, other);
  }

  /** `mul(this, other)`: elementwise product with broadcasting. */
  mul(other: Tensor | number): Tensor {
    return ops().mul(this, other);
  }

  /** `div(this, other)`: elementwise quotient with broadcasting. */
  div(other: Tensor | number): Tensor {
    return ops().div(this, other);
  }

  /** `neg(this)`. */
  neg(): Tensor {
    return ops().neg(this);
  }

  /** `pow(this, exponent)`. */
  pow(exponent: number): Tensor {
    return ops().pow(this, exponent);
  }

  /** `exp(this)`. */
  exp(): Tensor {
    return ops().exp(this);
  }

  /** `log(this)`. */
  log(): Tensor {
    return ops().log(this);
  }

  /** `abs(this)`. */
  abs(): Tensor {
    return ops().abs(this);
  }

  /** `square(this)`. */
  square(): Tensor {
    return ops().square(this);
  }

  /** `sqrt(this)`. */
  sqrt(): Tensor {
    return ops().sqrt(this);
  }

  /** `sigmoid(this)`. */
  sigmoid(): Tensor {
    return ops().sigmoid(this);
  }

  /** `tanh(this)`. */
  tanh(): Tensor {
    return ops().tanh(this);
  }

  /** `relu(this)`. */
  relu(): Tensor {
    return ops().relu(this);
  }

  /**
   * `sum(this, dim, keepdim)`: the sum over `dim` (all elements when omitted).
   * @example `x.sum().backward()` — the usual way to start a backward pass
   */
  sum(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return ops().sum(this, dim, keepdim);
  }

  /** `mean(this, dim, keepdim)`: the mean over `dim` (all elements when omitted). */
  mean(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return ops().mean(this, dim, keepdim);
  }

  /** `view(this, shape)`: {@link Tensor.reshape} that never copies. */
  view(shape: readonly number[]): Tensor {
    return ops().view(this, shape);
  }

  /** `flatten(this, startDim, endDim)`. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops().flatten(this, startDim, endDim);
  }

  /** `squeeze(this, dim)`: drops size-1 dimensions (only `dim` when given). */
  squeeze(dim?: number): Tensor {
    return ops().squeeze(this, dim);
  }

  /** `unsqueeze(this, dim)`: inserts a size-1 dimension at `dim`. */
  unsqueeze(dim: number): Tensor {
    return ops().unsqueeze(this, dim);
  }

  /** `permute(this, dims)`. */
  permute(dims: readonly number[]): Tensor {
    return ops().permute(this, dims);
  }

  /** `transpose(this, dim0, dim1)`. */
  transpose(dim0: number, dim1: number): Tensor {
    return ops().transpose(this, dim0, dim1);
  }

  /**
   * `narrow(this, dim, start, length)`: `length` entries of `dim` from `start` (a negative `start` counts
   * from the end). A copy (PyTorch returns a view).
   * @throws {@link InvalidArgumentError} for a `dim`, `start` or `length` out of range
   * @example `x.narrow(1, 0, 2)` — the first two channels
   */
  narrow(dim: number, start: number, length: number): Tensor {
    return ops().narrow(this, dim, start, length);
  }

  /**
   * `slice(this, dim, start, end, step)`: Python's `x[..., start:end:step]` along `dim` (negative and
   * out-of-range bounds clamp as in Python; null or omitted bounds mean the whole axis). A copy.
   * @throws {@link InvalidArgumentError} for a bad `dim` or a `step` that is not a positive integer
   * @example `x.slice(-1, 1, null, 2)` — every other column from the second
   */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return ops().slice(this, dim, start, end, step);
  }

  /**
   * `broadcastTo(this, shape)`: this tensor repeated along size-1 (or missing leading) dimensions to
   * `shape` (PyTorch's `broadcast_to` / `expand`). A copy.
   * @throws {@link ShapeMismatchError} when the shapes do not broadcast
   */
  broadcastTo(shape: readonly number[]): Tensor {
    return ops().broadcastTo(this, shape);
  }

  // #endregion

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad, and adds it to
   * their `.grad`.
   * @param gradOutput - d(loss)/d(this), of this tensor's shape; may be omitted only for one-element tensors
   *   (it is then 1)
   * @param options - `retainGraph` (keep saved tensors for another backward; default false) and
   *   `createGraph` (record the backward itself, for higher-order gradients; default false)
   * @throws {@link ShapeMismatchError} for a `gradOutput` of the wrong shape, or a missing one on a tensor
   *   with more than one element
   * @throws {@link InvalidArgumentError} when this tensor does not require grad
   * @throws {@link NotImplementedError} for a second-order gradient through deformable convolution
   */
  backward(gradOutput?: Tensor, options?: BackwardOptions): void {
    ops().backward([this], gradOutput === undefined ? [null] : [gradOutput], options);
  }

  /**
   * Frees the tensor's memory now (unless other tensors share it, or a backward pass still needs it:
   * then when they are gone; or queued work still reads or writes it: then when that work is done). Later
   * use throws {@link DisposedTensorError}; `shape`, `dtype` and `device` stay readable. Disposing twice
   * does nothing.
   */
  dispose(): void {
    const state = this.#state;
    const storage = this.#storage;
    if (storage === null) return;
    finalizer.unregister(this);
    this.#storage = null;
    state.record = null;
    tensorReleased(this);
    storage.release();
    const node = state.node;
    state.node = null;
    node?.unref();
  }

  /** `dispose()`, for `using x = ...` (explicit resource management). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * What `console.log(t)` and `util.inspect(t)` show: the values as PyTorch prints them (elided to the first
   * and last 3 entries per dimension above 1000 elements), then shape, dtype, device and requiresGrad.
   * @example
   * ```ts
   * console.log(tensor([[1, 2.5], [3, 4]]));
   * // tensor([[1.0000, 2.5000],
   * //         [3.0000, 4.0000]], shape=[2, 2], dtype=float32, device=cpu)
   * ```
   */
  [INSPECT_CUSTOM](_depth?: number, options?: { stylize?: (text: string, styleType: string) => string }): string {
    return formatTensor(this, {}, options);
  }

  /** A one-line summary: `Tensor(shape=[2, 3], dtype=float32, device=cpu)`. */
  toString(): string {
    const flags = `${this.#requiresGrad ? ', requiresGrad=true' : ''}${this.isDisposed ? ', disposed' : ''}`;
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${flags})`;
  }

  /** The storage, or a DisposedTensorError naming `op`. */
  #live(op: string): Storage {
    const storage = this.#storage;
    if (storage === null) {
      throw new DisposedTensorError(`${op}(): the tensor was disposed; ${DISPOSED_HINT}`);
    }
    return storage;
  }
}

/**
 * True when `value` is a {@link Tensor} (also one from another copy of this package).
 */
export function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TENSOR_MARKER] === true;
}

/**
 * @internal The storage of `t` for argument `argument` of `op`.
 * @throws {@link InvalidArgumentError} when `t` is not a tensor
 * @throws {@link DisposedTensorError} when it was disposed
 */
export function storageOf(t: Tensor, op: string, argument: string): Storage {
  if (!isTensor(t)) {
    throw new InvalidArgumentError(formatExpected(op, `${argument} to be a Tensor`, formatValue(t)), argument);
  }
  const storage = internals.storage(t);
  if (storage === null) {
    throw new DisposedTensorError(
      `${op}(): expected ${argument} to be a live tensor, but it was disposed; ${DISPOSED_HINT}`,
    );
  }
  return storage;
}

/** @internal The grad node that produced `t`, or null for a leaf. */
export function gradNodeOf(t: Tensor): TensorGradNode | null {
  return internals.node(t);
}

/** @internal Attaches the grad node that produced `t` (and marks it as requiring grad). */
export function setGradNode(t: Tensor, node: TensorGradNode): void {
  internals.setNode(t, node);
}

/** @internal Sets `.grad` without the checks of the setter (autograd's own, already checked, results). */
export function setGradUnchecked(t: Tensor, grad: Tensor | null): void {
  internals.setGradUnchecked(t, grad);
}

/** @internal Wraps a storage in a new tensor (one reference taken). */
export function fromStorage(storage: Storage, shape: readonly number[]): Tensor {
  return new Tensor(storage, shape);
}

/** @internal True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function nest(values: TypedArray, shape: readonly number[], dim: number, offset: number): NestedArray {
  const size = shape[dim];
  const out = new Array<number | NestedArray>(size);
  if (dim === shape.length - 1) {
    for (let i = 0; i < size; i++) out[i] = values[offset + i];
    return out;
  }
  let stride = 1;
  for (let d = dim + 1; d < shape.length; d++) stride *= shape[d];
  for (let i = 0; i < size; i++) out[i] = nest(values, shape, dim + 1, offset + i * stride);
  return out;
}

/** Checks the `out` array of `data(out)`: the dtype's array type, `numel` elements, no memory shared with the tensor. */
function checkReadTarget(out: unknown, storage: Storage, numel: number): asserts out is TypedArray {
  const Ctor = DTYPE_TO_ARRAY[storage.dtype];
  const expected = `a ${Ctor.name} of ${numel} elements (the tensor's ${storage.dtype} values)`;
  if (!(out instanceof Ctor) || out.length !== numel) {
    const got =
      out instanceof Float32Array || out instanceof Float64Array
        ? `a ${out.constructor.name} of ${out.length} elements`
        : formatValue(out);
    throw new InvalidArgumentError(formatExpected('data', expected, got), 'out');
  }
  if (storage instanceof CpuStorage && storage.sharesMemoryWith(out)) {
    throw new InvalidArgumentError(
      formatExpected('data', 'an out array that shares no memory with the tensor', "the tensor's own memory"),
      'out',
    );
  }
}
