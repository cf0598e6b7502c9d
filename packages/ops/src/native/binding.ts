// SPDX-License-Identifier: MIT
// The TypeScript type of every export of tvdcn.node: the only file where native names appear.
// The C++ side is native/src/napi/*_binding.cc; keep both in step and bump ABI_VERSION with
// native/src/core/version.h whenever a signature changes.

/** @internal Binary interface version; must equal `abiVersion()` of the loaded `.node`. */
export const ABI_VERSION = 4;

/** @internal Element types the native code knows. Half types exist only on CUDA. */
export type NativeDType = 'float32' | 'float64' | 'float16' | 'bfloat16';

/**
 * @internal Opaque handle of device memory owned by the native side (CUDA builds only). JS never reads
 * it; it is passed back to native functions.
 */
export interface NativeDeviceBuffer {
  readonly __tvdcnDeviceBuffer: true;
}

/**
 * @internal A contiguous row-major tensor as the binding sees it. On the CPU `data` is the tensor's own
 * typed array (zero-copy); on CUDA it is a {@link NativeDeviceBuffer}. `data.length` (or the buffer's
 * element count) must equal the product of `shape`: native code checks it again before any access.
 */
export interface NativeTensor {
  readonly data: Float32Array | Float64Array | NativeDeviceBuffer;
  readonly shape: readonly number[];
  readonly dtype: NativeDType;
  /**
   * The storage's id (never reused; see `Storage.id`): the CPU queue orders and poisons work by it. Absent
   * or 0: untracked.
   */
  readonly id?: number;
}

/**
 * @internal What a compute function returns: on the CPU of the Node addon, the sequence number of the task
 * it queued on the environment's CPU queue (`cpuQueueSync` waits for it); nothing where it ran at once
 * (CUDA, which queues on its stream; the WebAssembly build; the queue switched off).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: the WebAssembly binding's compute functions return void
export type NativeTaskResult = number | undefined | void;

/** @internal A storage poisoned by a failed queued task, as `cpuQueueSync` reports it. */
export interface NativePoisoned {
  id: number;
  /** The error of the failed task (message "<op> failed in queued CPU work: ...", `code` as thrown errors). */
  error: Error;
}

/** @internal What `_cpuQueueStats()` reports (tests and benchmarks). */
export interface NativeCpuQueueStats {
  submitted: number;
  completed: number;
  /** References to typed arrays held by queued work in this environment. */
  refs: number;
  /** Bytes of the typed arrays those references hold (bounded: submitting waits above 256 MiB). */
  heldBytes: number;
  pendingPromises: number;
  poisoned: number;
  /** CPU queues alive in the process (one per environment: main thread and workers). */
  processQueues: number;
  /** References held by queued work in the whole process. */
  processRefs: number;
  enabled: boolean;
  /** How long the queue's executor now polls for the next task before sleeping, in ns (adaptive: 500-50000). */
  executorSpinNs: number;
  /** Shares of the thread pool's workers that their region's caller ran because no worker had taken them yet (native/src/core/region_join.h, NOTE [ Late shares ]). */
  poolLateShares: number;
}

/**
 * @internal Resolved geometry of one deformable convolution, computed once in TypeScript by
 * `@tvdcn/shape` and re-checked in C++. Tensors are always passed batched:
 * - regular:    input [B, inChannels, ...inSize], weight [outChannels, inChannels/groups, ...kernelSize],
 *               offset [B, offsetGroups*dim*K, ...outSize], mask [B, maskGroups*K, ...outSize],
 *               output [B, outChannels, ...outSize]
 * - transposed: input [B, inChannels, ...inSize], weight [inChannels, outChannels/groups, ...kernelSize],
 *               offset [B, offsetGroups*dim*K, ...inSize], mask [B, maskGroups*K, ...inSize],
 *               output [B, outChannels, ...outSize]
 */
export interface NativeDeformConvParams {
  dim: 1 | 2 | 3;
  transposed: boolean;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  offsetGroups: number; // 1 when offset is null
  maskGroups: number; // 1 when mask is null
  kernelSize: readonly number[];
  stride: readonly number[];
  padding: readonly number[];
  dilation: readonly number[];
  inSize: readonly number[];
  outSize: readonly number[];
}

/**
 * @internal {@link NativeDeformConvParams} packed in 8 + 6 * dim numbers, the form the ops layer passes
 * (the binding then reads no property per field): `[dim, transposed ? 1 : 0, batch, inChannels,
 * outChannels, groups, offsetGroups, maskGroups, ...kernelSize, ...stride, ...padding, ...dilation,
 * ...inSize, ...outSize]` (see {@link packDeformConvParams}). The binding checks it as it checks the object.
 */
export type NativePackedDeformConvParams = Float64Array;

const packedOfFrozen = new WeakMap<NativeDeformConvParams, NativePackedDeformConvParams>();

/**
 * @internal `p` packed, once per frozen params object (the ops layer shares one between the calls of a geometry:
 * NOTE [ The geometry of recent calls ] in ops/deform-conv-geometry.ts); packed anew otherwise. The binding only
 * reads the array.
 */
export function packedDeformConvParams(p: NativeDeformConvParams): NativePackedDeformConvParams {
  if (!Object.isFrozen(p)) return packDeformConvParams(p);
  let out = packedOfFrozen.get(p);
  if (out === undefined) {
    out = packDeformConvParams(p);
    packedOfFrozen.set(p, out);
  }
  return out;
}

/** @internal `p` packed (see {@link NativePackedDeformConvParams}). */
export function packDeformConvParams(p: NativeDeformConvParams): NativePackedDeformConvParams {
  const d = p.dim;
  const out = new Float64Array(8 + 6 * d);
  out[0] = d;
  out[1] = p.transposed ? 1 : 0;
  out[2] = p.batch;
  out[3] = p.inChannels;
  out[4] = p.outChannels;
  out[5] = p.groups;
  out[6] = p.offsetGroups;
  out[7] = p.maskGroups;
  const arrays = [p.kernelSize, p.stride, p.padding, p.dilation, p.inSize, p.outSize];
  for (let k = 0; k < 6; k++) {
    const a = arrays[k]!;
    for (let i = 0; i < d; i++) out[8 + k * d + i] = a[i]!;
  }
  return out;
}

/** @internal The buffer form's forward arguments before its output: the packed params and the read buffers. */
export type NativeDeformConvForwardBuffers = [
  params: NativePackedDeformConvParams,
  input: NativeDeviceBuffer,
  weight: NativeDeviceBuffer,
  offset: NativeDeviceBuffer | null,
  mask: NativeDeviceBuffer | null,
  bias: NativeDeviceBuffer | null,
];

/**
 * @internal The buffer form of deformConvForward / deformConvBackward on a CUDA device (where the addon says
 * {@link NativeBinding.deformConvBuffers}): packed params, and every tensor given as its device buffer alone,
 * its shape the one the params give it, its dtype the buffer's (the addon then reads three N-API values a
 * tensor, its type, type tag and object, instead of about ten: NOTE [ Device buffers as tensors ] in
 * native/src/napi/deform_conv_binding.cc).
 * The checks are those of the view form; `saved` must be null.
 */
export interface NativeDeformConvBufferForm {
  deformConvForward(...args: [...NativeDeformConvForwardBuffers, output: NativeDeviceBuffer]): NativeTaskResult;
  deformConvBackward(
    params: NativePackedDeformConvParams,
    input: NativeDeviceBuffer,
    weight: NativeDeviceBuffer,
    offset: NativeDeviceBuffer | null,
    mask: NativeDeviceBuffer | null,
    gradOutput: NativeDeviceBuffer,
    grads: {
      input: NativeDeviceBuffer | null;
      weight: NativeDeviceBuffer | null;
      offset: NativeDeviceBuffer | null;
      mask: NativeDeviceBuffer | null;
      bias: NativeDeviceBuffer | null;
    },
  ): NativeTaskResult;
}

/**
 * @internal The buffer form's forward that makes its output (where the addon says
 * {@link NativeBinding.deformConvForwardAllocates}): with a null `output` it allocates the output, queues the
 * kernels on it and returns its device buffer, wrapped after the launches (NOTE [ The forward's output made after
 * its launches ] in native/src/napi/deform_conv_binding.cc).
 */
export interface NativeDeformConvAllocatingForward {
  deformConvForward(...args: [...NativeDeformConvForwardBuffers, output: null]): NativeDeviceBuffer;
}

/** @internal Gradient buffers to fill; `null` means "not needed" and costs no work. */
export interface NativeDeformConvGrads {
  input: NativeTensor | null;
  weight: NativeTensor | null;
  offset: NativeTensor | null;
  mask: NativeTensor | null;
  bias: NativeTensor | null;
}

/** @internal What `buildInfo()` reports. */
export interface NativeBuildInfo {
  withCuda: boolean;
  cudaVersion: number; // CUDA_VERSION the binary was built with, -1 without CUDA
  cudaArchList: string; // space-separated CMAKE_CUDA_ARCHITECTURES, '' without CUDA
  hardwareConcurrency: number;
  compiler: string;
}

/** @internal What `cudaDeviceCount()` reports: `error` is the cudaError_t (-1 in a CPU-only build). */
export interface NativeDeviceCount {
  count: number;
  error: number;
  reason: string;
}

/** @internal The op names of the `unary` export (kernel-backend.ts's UnaryOp). */
export type NativeUnaryOp =
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
  | 'addScalar'
  | 'mulScalar'
  | 'divScalar'
  | 'rsubScalar'
  | 'rdivScalar'
  | 'powScalar';

/** @internal The op names of the `binary` export (kernel-backend.ts's BinaryOp). */
export type NativeBinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sigmoidBackward'
  | 'tanhBackward'
  | 'reluBackward'
  | 'absBackward';

/**
 * @internal The tensor kernels of the KernelBackend (native/src/napi/elementwise_binding.cc), on every
 * device: CPU typed arrays (the native thread pool, synchronous) and CUDA device buffers (asynchronous on
 * the device's stream). Tensors are read flat (only their element count matters); shapes, strides (in
 * elements) and offsets come as plain arrays, at most 64 dimensions on the CPU and 16 on CUDA (merge
 * them first). All tensors of a call share one device and, except for `cast`, one dtype. Outputs must not
 * overlap what the call reads (`fill`, `cast`, `addInPlace` and `unary` may work exactly in place;
 * `copyStrided` on the CPU copies overlapping ranges through a temporary). Every element of an output is
 * written, except where a strided copy does not reach.
 */
export interface NativeTensorKernels {
  /** `out[i] = value`. */
  fill(out: NativeTensor, value: number): NativeTaskResult;
  /** `dst[i] = src[i]` converted to `dst.dtype` (same element count). */
  cast(src: NativeTensor, dst: NativeTensor): NativeTaskResult;
  /** `dst[i] += src[i]`. */
  addInPlace(dst: NativeTensor, src: NativeTensor): NativeTaskResult;
  /** `out[i] = op(x[i], alpha)`, computed in float64 and rounded once to the dtype on the CPU. */
  unary(op: NativeUnaryOp, x: NativeTensor, out: NativeTensor, alpha: number): NativeTaskResult;
  /**
   * `out` (contiguous, `shape`) `= op(a, b)`, the operands read through `aStrides` / `bStrides` (one per
   * dimension of `shape`, 0 along broadcast dimensions, never negative).
   */
  binary(
    op: NativeBinaryOp,
    a: NativeTensor,
    aStrides: readonly number[],
    b: NativeTensor,
    bStrides: readonly number[],
    out: NativeTensor,
    shape: readonly number[],
  ): NativeTaskResult;
  /**
   * `out` = `x` (contiguous, `shape`) summed over `dims`; the kept dimensions stay in order. Accumulates
   * in float64 (CPU) in an order fixed by the shape: identical results for every thread count.
   */
  sum(x: NativeTensor, shape: readonly number[], dims: readonly number[], out: NativeTensor): NativeTaskResult;
  /** Copies `shape` elements from `src` (at `srcOffset`, by `srcStrides`) to `dst` (at `dstOffset`, by `dstStrides`). */
  copyStrided(
    src: NativeTensor,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: NativeTensor,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): NativeTaskResult;
  /**
   * `out[o] = x[maps_0[o_0], ..., maps_n[o_n]]`, or `value` where an entry is -1 (`maps[d]` has `outShape[d]`
   * entries; Float64Array maps, whole numbers, for dimensions longer than 2^31).
   */
  gather(
    x: NativeTensor,
    xShape: readonly number[],
    maps: readonly (Int32Array | Float64Array)[],
    outShape: readonly number[],
    value: number,
    out: NativeTensor,
  ): NativeTaskResult;
  /**
   * The adjoint of `gather`: `out` (`xShape`, fully written) `[i] = sum of g[o] over map(o) = i`, each in
   * increasing `o` (deterministic).
   */
  scatterAdd(
    g: NativeTensor,
    gShape: readonly number[],
    maps: readonly (Int32Array | Float64Array)[],
    xShape: readonly number[],
    out: NativeTensor,
  ): NativeTaskResult;
}

/**
 * @internal The addon's exports. All compute functions check every argument at the call and throw an
 * `Error` (never crash) on inconsistent ones; then they run or queue the work (see
 * {@link NativeTaskResult}) and write every element of their output tensors (outputs need not be zeroed).
 * The `cpuQueue*` exports exist in the Node addon only (not in the WebAssembly build, whose CPU work is
 * synchronous).
 */
export interface NativeBinding extends Partial<NativeTensorKernels> {
  abiVersion(): number;
  buildInfo(): NativeBuildInfo;
  cudaDeviceCount(): NativeDeviceCount;
  /** Threads used by CPU kernels (default: hardware concurrency, or TVDCN_NUM_THREADS). */
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** True where deformConvForward/Backward read packed params ({@link NativePackedDeformConvParams}). */
  packedDeformConvParams?: boolean;
  /**
   * True where deformConvForward/Backward also take their CUDA tensors as device buffers alone
   * ({@link NativeDeformConvBufferForm}).
   */
  deformConvBuffers?: boolean;
  /** True where the buffer form's forward also makes its output ({@link NativeDeformConvAllocatingForward}). */
  deformConvForwardAllocates?: boolean;
  /**
   * `saved`: where given (a transposed op on the CPU, {@link NativeBinding.deformConvSavedColumns} elements), the
   * forward also keeps its columns there for the backward.
   */
  deformConvForward(
    params: NativeDeformConvParams | NativePackedDeformConvParams,
    input: NativeTensor,
    weight: NativeTensor,
    offset: NativeTensor | null,
    mask: NativeTensor | null,
    bias: NativeTensor | null,
    output: NativeTensor,
    saved?: NativeTensor | null,
  ): NativeTaskResult;
  /**
   * `saved`: the forward's saved columns ({@link NativeBinding.deformConvSavedColumns}), read instead of
   * recomputed where the forward filled them; older addons and other builds ignore the argument.
   */
  deformConvBackward(
    params: NativeDeformConvParams | NativePackedDeformConvParams,
    input: NativeTensor,
    weight: NativeTensor,
    offset: NativeTensor | null,
    mask: NativeTensor | null,
    gradOutput: NativeTensor,
    grads: NativeDeformConvGrads,
    saved?: NativeTensor | null,
  ): NativeTaskResult;
  /**
   * Elements of the 1-D `saved` tensor (the input's dtype, CPU) in which a CPU forward of this transposed op keeps
   * its columns for the backward, or 0 where it keeps none (a regular op, the columns above the CPU workspace
   * limit, the planar kernels). Absent in older addons and the WebAssembly build: nothing is saved there.
   */
  deformConvSavedColumns?(
    params: NativeDeformConvParams | NativePackedDeformConvParams,
    dtype: 'float32' | 'float64',
    hasOffset: boolean,
    hasMask: boolean,
  ): number;
  /** Softmax over the K kernel points of each mask group: mask [B, maskGroups*K, ...spatial]. */
  maskSoftmaxForward(
    mask: NativeTensor,
    maskGroups: number,
    kernelPoints: number,
    output: NativeTensor,
  ): NativeTaskResult;
  /** gradMask = s * (g - sum_K(g * s)) with s the forward output. */
  maskSoftmaxBackward(
    output: NativeTensor,
    gradOutput: NativeTensor,
    maskGroups: number,
    kernelPoints: number,
    gradMask: NativeTensor,
  ): NativeTaskResult;

  // --- the CPU queue (Node addon only; native/src/napi/cpu_queue.h) ---
  /**
   * Blocks until CPU task `seq` (and every task before it) ran; returns the number of tasks completed,
   * or that number with the storages poisoned since the last call.
   */
  cpuQueueSync?(seq: number): number | { completed: number; poisoned: NativePoisoned[] };
  /**
   * Queues a copy of `src` into `dst` (same dtype and length) after the work queued before; the promise
   * resolves with `dst`, or rejects with the error poisoning `src`.
   */
  cpuQueueRead?<T extends Float32Array | Float64Array>(src: NativeTensor, dst: T): Promise<T>;
  /** Drops the poison record of storage `id` (freed). */
  cpuQueueForget?(id: number): void;
  /** Switches the queue off (CPU work runs at the call, after draining) or on; returns the previous state. */
  _setCpuQueue?(on: boolean): boolean;
  /** The most work (about elements touched) run at the call on an idle queue; -1: none (benchmarks). */
  _setCpuInlineCost?(cost: number): void;
  /** The next `count` queued tasks of `op` ('*': any) fail with an out-of-memory error (tests only). */
  _injectCpuFault?(op: string, count: number): void;
  /** Each pool worker sleeps `us` microseconds before it takes up each region (tests only; 0: none). */
  _setPoolWorkerDelay?(us: number): void;
  _cpuQueueStats?(): NativeCpuQueueStats;
}

/**
 * @internal True when `binding` has the tensor kernels (the Node-API addon; the WebAssembly build may
 * not): the CPU backend runs its TypeScript loops otherwise.
 */
export function hasTensorKernels(binding: NativeBinding): binding is NativeBinding & NativeTensorKernels {
  return (
    typeof binding.fill === 'function' &&
    typeof binding.cast === 'function' &&
    typeof binding.addInPlace === 'function' &&
    typeof binding.unary === 'function' &&
    typeof binding.binary === 'function' &&
    typeof binding.sum === 'function' &&
    typeof binding.copyStrided === 'function' &&
    typeof binding.gather === 'function' &&
    typeof binding.scatterAdd === 'function'
  );
}
