// SPDX-License-Identifier: MIT
// NativeBinding over the WebAssembly build (@tvdcn/wasm32, native/wasm/wasm_api.cc). WebAssembly code
// reads only its own memory, so each call copies its tensors in and its outputs back out (the Node-API
// binding is zero-copy). Arrays that share an ArrayBuffer are copied as one range, so aliasing between
// arguments looks the same to the native checks as it does in the Node-API binding. Errors come back as
// codes and become the same JS errors (class and `code`) that native/src/napi/errors.cc throws.
// No Node built-in is used here: this file serves browsers too.
import type {
  NativeBinding,
  NativeBuildInfo,
  NativeDeformConvGrads,
  NativeDeformConvParams,
  NativePackedDeformConvParams,
  NativeDeviceCount,
  NativeTensor,
} from './binding.js';

/** @internal The exports of tvdcn.mjs (emscripten) that this adapter uses. */
export interface TvdcnWasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _tvdcn_abi_version(): number;
  _tvdcn_last_error(): number;
  _tvdcn_get_num_threads(): number;
  _tvdcn_set_num_threads(n: number): number;
  _tvdcn_threads_enabled(): number;
  _tvdcn_start_threads(n: number): number;
  _tvdcn_running_threads(): number;
  _tvdcn_worker_runs(): number;
  _tvdcn_deform_conv_forward(params: number, slots: number): number;
  _tvdcn_deform_conv_backward(params: number, slots: number): number;
  _tvdcn_mask_softmax_forward(slots: number, maskGroups: number, kernelPoints: number): number;
  _tvdcn_mask_softmax_backward(slots: number, maskGroups: number, kernelPoints: number): number;
  UTF8ToString(pointer: number): string;
  /**
   * The pthreads build's shared memory (load-wasm.ts sets it). A Worker that grows it leaves `HEAPU8` of
   * this thread on the old, shorter buffer, so views are taken from here.
   */
  tvdcnMemory?: { readonly buffer: ArrayBufferLike };
}

/** This module's memory as bytes, as long as it is now. */
function heapOf(mod: TvdcnWasmModule): Uint8Array {
  const buffer = mod.tvdcnMemory?.buffer;
  return buffer === undefined || buffer === mod.HEAPU8.buffer ? mod.HEAPU8 : new Uint8Array(buffer);
}

const SLOT = 12; // doubles per tensor slot: present, pointer, dtype, ndim, sizes x8 (wasm_api.cc)
const MAX_DIMS = 8;

// dcn::ErrorKind order (core/error.h) -> JS error class and code (napi/errors.cc).
const ERRORS: ReadonlyArray<[ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, string]> = [
  [TypeError, 'ERR_DCN_INVALID_ARGUMENT'],
  [RangeError, 'ERR_DCN_INVALID_ARGUMENT'],
  [Error, 'ERR_DCN_SHAPE_MISMATCH'],
  [TypeError, 'ERR_DCN_DTYPE_MISMATCH'],
  [Error, 'ERR_DCN_NOT_IMPLEMENTED'],
  [Error, 'ERR_DCN'],
];

type CpuArray = Float32Array | Float64Array;

function cpuArray(t: NativeTensor, name: string): CpuArray {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  const err = new TypeError(`${name}: the WebAssembly backend takes CPU tensors (float32/float64) only`);
  (err as { code?: string }).code = 'ERR_DCN_INVALID_ARGUMENT';
  throw err;
}

/** The tensors of one call in this module's memory; `release()` frees them. */
class CallFrame {
  readonly #mod: TvdcnWasmModule;
  readonly #allocs: number[] = [];
  readonly #groups = new Map<ArrayBufferLike, { lo: number; hi: number; ptr: number }>();
  readonly #entries: { t: NativeTensor | null; output: boolean }[] = [];

  constructor(mod: TvdcnWasmModule) {
    this.#mod = mod;
  }

  #alloc(bytes: number): number {
    const p = this.#mod._malloc(Math.max(bytes, 8));
    if (p === 0) {
      const err = new RangeError(`out of WebAssembly memory (asked for ${bytes} bytes)`);
      (err as { code?: string }).code = 'ERR_DCN';
      throw err;
    }
    this.#allocs.push(p);
    return p;
  }

  /** Registers a tensor (null: absent) as an input or an output, in slot order. */
  add(t: NativeTensor | null, output: boolean, name: string): void {
    if (t !== null) {
      const a = cpuArray(t, name);
      const g = this.#groups.get(a.buffer);
      const lo = a.byteOffset,
        hi = a.byteOffset + a.byteLength;
      if (g) {
        g.lo = Math.min(g.lo, lo);
        g.hi = Math.max(g.hi, hi);
      } else {
        this.#groups.set(a.buffer, { lo, hi, ptr: 0 });
      }
    }
    this.#entries.push({ t, output });
  }

  /** Allocates, copies the inputs in, and writes params and slots; returns their pointers. */
  prepare(params: readonly number[] | null): { params: number; slots: number } {
    for (const [buffer, g] of this.#groups) {
      // 8-byte aligned start so every float64 array inside the range stays aligned.
      const pad = g.lo % 8;
      g.ptr = this.#alloc(g.hi - g.lo + pad) + pad;
      void buffer;
    }
    const slotsPtr = this.#alloc(this.#entries.length * SLOT * 8);
    const paramsPtr = params ? this.#alloc(params.length * 8) : 0;
    const heap = heapOf(this.#mod); // read after the last allocation (memory growth replaces it)
    for (const [buffer, g] of this.#groups) {
      const needsIn = this.#entries.some((e) => e.t && !e.output && cpuArray(e.t, '').buffer === buffer);
      if (needsIn) heap.set(new Uint8Array(buffer, g.lo, g.hi - g.lo), g.ptr);
    }
    const slots = new Float64Array(heap.buffer, slotsPtr, this.#entries.length * SLOT);
    slots.fill(0);
    this.#entries.forEach((e, i) => {
      if (!e.t) return;
      const a = cpuArray(e.t, '');
      const g = this.#groups.get(a.buffer)!;
      const base = i * SLOT;
      slots[base] = 1;
      slots[base + 1] = g.ptr + (a.byteOffset - g.lo);
      slots[base + 2] = e.t.dtype === 'float32' ? 0 : e.t.dtype === 'float64' ? 1 : 2;
      if (e.t.shape.length > MAX_DIMS) throw new RangeError(`at most ${MAX_DIMS} dimensions, got ${e.t.shape.length}`);
      slots[base + 3] = e.t.shape.length;
      e.t.shape.forEach((s, d) => {
        slots[base + 4 + d] = s;
      });
      // The data length must match the shape (the Node-API binding checks this on the typed array).
      const numel = e.t.shape.reduce((x, y) => x * y, 1);
      if (numel !== a.length) {
        const err = new Error(`expected ${e.t.shape.length}-d data of ${numel} elements, but got ${a.length}`);
        (err as { code?: string }).code = 'ERR_DCN_SHAPE_MISMATCH';
        throw err;
      }
    });
    if (params) new Float64Array(heap.buffer, paramsPtr, params.length).set(params);
    return { params: paramsPtr, slots: slotsPtr };
  }

  /** Copies the outputs back into their JS arrays. */
  finish(): void {
    const heap = heapOf(this.#mod); // the kernels' threads may have grown the memory
    for (const e of this.#entries) {
      if (!e.t || !e.output) continue;
      const a = cpuArray(e.t, '');
      const g = this.#groups.get(a.buffer)!;
      const at = g.ptr + (a.byteOffset - g.lo);
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(heap.subarray(at, at + a.byteLength));
    }
  }

  release(): void {
    for (const p of this.#allocs) this.#mod._free(p);
    this.#allocs.length = 0;
  }
}

function paramsArray(p: NativeDeformConvParams | NativePackedDeformConvParams): readonly number[] {
  // The packed form is already this layout.
  if (p instanceof Float64Array) {
    // The C++ side reads 8 + 6 * dim numbers: refuse any other length here (the Node-API binding checks it).
    if (p.length !== 8 + 6 * (p[0] ?? 0)) {
      const err = new TypeError(
        `deformConv: expected params to be a Float64Array of 8 + 6 * dim numbers, but got ${p.length}`,
      );
      (err as { code?: string }).code = 'ERR_DCN_INVALID_ARGUMENT';
      throw err;
    }
    return Array.from(p);
  }
  return [
    p.dim,
    p.transposed ? 1 : 0,
    p.batch,
    p.inChannels,
    p.outChannels,
    p.groups,
    p.offsetGroups,
    p.maskGroups,
    ...p.kernelSize,
    ...p.stride,
    ...p.padding,
    ...p.dilation,
    ...p.inSize,
    ...p.outSize,
  ];
}

/**
 * @internal A NativeBinding running the WebAssembly kernels of `mod` (an instantiated tvdcn.mjs or
 * tvdcn-threads.mjs). `hardwareConcurrency` is what the host reports (navigator / os). tvdcn.mjs runs on
 * the calling thread whatever setNumThreads asks; tvdcn-threads.mjs uses at most the threads it started
 * with (load-wasm.ts), and setNumThreads(n) above that count uses that count.
 */
export function createWasmBinding(mod: TvdcnWasmModule, hardwareConcurrency: number): NativeBinding {
  const check = (status: number): void => {
    if (status === 0) return;
    const [Ctor, code] = ERRORS[status - 1] ?? ERRORS[5]!;
    const err = new Ctor(mod.UTF8ToString(mod._tvdcn_last_error()));
    (err as { code?: string }).code = code;
    throw err;
  };
  const call = (
    tensors: ReadonlyArray<[NativeTensor | null, boolean, string]>,
    params: readonly number[] | null,
    run: (paramsPtr: number, slotsPtr: number) => number,
  ): void => {
    const frame = new CallFrame(mod);
    try {
      for (const [t, output, name] of tensors) frame.add(t, output, name);
      const ptrs = frame.prepare(params);
      check(run(ptrs.params, ptrs.slots));
      frame.finish();
    } finally {
      frame.release();
    }
  };
  const threaded = mod._tvdcn_threads_enabled() === 1;
  if (!threaded) check(mod._tvdcn_set_num_threads(1));
  return {
    abiVersion: () => mod._tvdcn_abi_version(),
    packedDeformConvParams: true, // paramsArray reads both forms
    buildInfo: (): NativeBuildInfo => ({
      withCuda: false,
      cudaVersion: -1,
      cudaArchList: '',
      hardwareConcurrency,
      compiler: `emscripten wasm32 simd128${threaded ? ' pthreads' : ''}`,
    }),
    cudaDeviceCount: (): NativeDeviceCount => ({ count: 0, error: -1, reason: 'the WebAssembly build has no CUDA' }),
    setNumThreads(n: number): void {
      if (!Number.isInteger(n) || n < 1) {
        const err = new RangeError(`setNumThreads: expected a positive integer, but got ${n}`);
        (err as { code?: string }).code = 'ERR_DCN_INVALID_ARGUMENT';
        throw err;
      }
      // Without pthreads the kernels run on the calling thread whatever is asked.
      if (threaded) check(mod._tvdcn_set_num_threads(n));
    },
    getNumThreads: () => mod._tvdcn_get_num_threads(),
    deformConvForward(params, input, weight, offset, mask, bias, output): void {
      call(
        [
          [input, false, 'input'],
          [weight, false, 'weight'],
          [offset, false, 'offset'],
          [mask, false, 'mask'],
          [bias, false, 'bias'],
          [output, true, 'output'],
        ],
        paramsArray(params),
        (p, s) => mod._tvdcn_deform_conv_forward(p, s),
      );
    },
    deformConvBackward(params, input, weight, offset, mask, gradOutput, grads: NativeDeformConvGrads): void {
      call(
        [
          [input, false, 'input'],
          [weight, false, 'weight'],
          [offset, false, 'offset'],
          [mask, false, 'mask'],
          [gradOutput, false, 'gradOutput'],
          [grads.input, true, 'grads.input'],
          [grads.weight, true, 'grads.weight'],
          [grads.offset, true, 'grads.offset'],
          [grads.mask, true, 'grads.mask'],
          [grads.bias, true, 'grads.bias'],
        ],
        paramsArray(params),
        (p, s) => mod._tvdcn_deform_conv_backward(p, s),
      );
    },
    maskSoftmaxForward(mask, maskGroups, kernelPoints, output): void {
      call(
        [
          [mask, false, 'mask'],
          [output, true, 'output'],
        ],
        null,
        (_p, s) => mod._tvdcn_mask_softmax_forward(s, maskGroups, kernelPoints),
      );
    },
    maskSoftmaxBackward(output, gradOutput, maskGroups, kernelPoints, gradMask): void {
      call(
        [
          [output, false, 'output'],
          [gradOutput, false, 'gradOutput'],
          [gradMask, true, 'gradMask'],
        ],
        null,
        (_p, s) => mod._tvdcn_mask_softmax_backward(s, maskGroups, kernelPoints),
      );
    },
  };
}
