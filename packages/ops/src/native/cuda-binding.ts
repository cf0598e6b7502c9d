// SPDX-License-Identifier: MIT
// The TypeScript types of the CUDA exports of tvdcn.node (native/src/napi/cuda_*_binding.cc), present only
// in the CUDA build. The shared exports (deformConvForward, maskSoftmaxForward, the tensor kernels fill,
// unary, binary, sum, ... of binding.ts) accept device tensors too: a NativeTensor whose `data` is a CudaDeviceBuffer runs on its GPU.

import { NotImplementedError } from '@tvdcn/shape';
import type { NativeBinding, NativeDeviceBuffer, NativeDType, NativeTensor } from './binding.js';
import { cudaUnavailability } from './cuda-availability.js';
import { getLoaded } from './load-binding.js';

/** @internal A block of device memory (DeviceBuffer in C++). Read-only views of its fields. */
export interface CudaDeviceBuffer extends NativeDeviceBuffer {
  readonly numel: number;
  readonly dtype: NativeDType;
  readonly device: number;
  readonly byteLength: number;
  readonly freed: boolean;
}

/** What `cudaMemoryStats()` reports for one device, in bytes (counts where named). */
export interface CudaMemoryStats {
  /** Blocks in use by tensors and workspaces (size-class rounded). */
  allocated: number;
  /** Free blocks kept by the caching allocator for reuse (returned by `cudaEmptyCache()`). */
  cached: number;
  /** `allocated + cached`: what the process holds from the driver. */
  reserved: number;
  /** High-water mark of `allocated` since start or `cudaResetPeakMemory()`. */
  peakAllocated: number;
  /** Bytes asked for by the blocks in use, before rounding. */
  requested: number;
  /** Blocks in use. */
  blocks: number;
  /** Allocations served. */
  allocCount: number;
  /** Allocations that needed a cudaMalloc (the rest came from the cache). */
  cudaMallocCount: number;
}

/** @internal Properties of a CUDA device. */
export interface CudaDeviceProperties {
  name: string;
  major: number;
  minor: number;
  multiProcessorCount: number;
  totalMemory: number;
  l2CacheSize: number;
}

/** How float32 matrix products run on CUDA: CUDA cores, tensor cores with 3 TF32 products, or 1. */
export type CudaFloat32Matmul = 'float32' | 'tf32x3' | 'tf32';

/** @internal An opaque CUDA event (test and benchmark timing only). */
export interface CudaEvent {
  readonly __tvdcnCudaEvent: true;
}

/** @internal The CUDA exports. Every compute call is asynchronous on the device's stream. */
export interface CudaNativeBinding {
  cudaBufferAlloc(device: number, dtype: NativeDType, numel: number): CudaDeviceBuffer;
  cudaBufferFree(buffer: CudaDeviceBuffer): void;
  /** Copies host values in, converting to the buffer's dtype on the device. */
  cudaUpload(buffer: CudaDeviceBuffer, data: Float32Array | Float64Array): void;
  /** A fresh array of the values (Float64Array for float64, Float32Array otherwise); waits for the GPU. */
  cudaDownload(buffer: CudaDeviceBuffer): Float32Array | Float64Array;
  /** The same, resolved from a worker thread without blocking the event loop. */
  cudaDownloadAsync(buffer: CudaDeviceBuffer): Promise<Float32Array | Float64Array>;
  cudaMemoryStats(device?: number): CudaMemoryStats;
  cudaEmptyCache(device?: number): void;
  cudaResetPeakMemory(device?: number): void;
  cudaSynchronize(device?: number): void;
  cudaSetDevice(device: number): void;
  cudaGetDevice(): number;
  cudaMemGetInfo(device?: number): { free: number; total: number };
  cudaDeviceProperties(device?: number): CudaDeviceProperties;
  setDeterministic(on: boolean): void;
  getDeterministic(): boolean;
  cudaSetFloat32Matmul(mode: CudaFloat32Matmul): void;
  cudaGetFloat32Matmul(): CudaFloat32Matmul;
  cudaSetWorkspaceLimit(bytes: number): void;
  _cudaEventRecord(device?: number): CudaEvent;
  _cudaEventElapsedMs(start: CudaEvent, end: CudaEvent): number;
  /** Allows (default) or forbids the 128 x 256 tiles of the float32 tensor-core GEMM (benchmarks, tests). */
  _cudaSetGemmWideTiles(on: boolean): void;
  /** Test switch: allows (default) or forbids the 16-bit GEMM's 16-byte vector loads. */
  _cudaSetGemmVectorLoads(on: boolean): void;
  /** Test counter: how many times the Hopper warpgroup (wgmma) GEMM kernels (16- and 32-bit) have been launched. */
  _cudaWgmmaLaunches(): number;
  /**
   * Test counter: how many times the float32 warpgroup GEMM's TF32 planes of A were made once before a product
   * (instead of in every block; `TVDCN_CUDA_GEMM32=raw` turns that off).
   */
  _cudaTf32PlanesLaunches(): number;
  /**
   * Test counter: how many im2col launches (thread and vector kernels) divided their indices with host-made divisors
   * (`TVDCN_CUDA_IM2COL_DIV=plain` turns that off).
   */
  _cudaIm2colDivisorLaunches(): number;
  /**
   * Test probe: the bytes of this environment's live device buffers and what was reported of them to V8 as
   * external memory (in steps of 256 MB: native/src/napi/cuda_memory_binding.cc, NOTE [ Device memory
   * reported to V8 in steps ]).
   */
  _cudaV8Report(): { live: number; reported: number };
  /**
   * Allows (default: half types on grids that fill the device, where it measured faster) or forbids the
   * fused implicit-GEMM forward kernel; `force`: wherever it applies, float32 too (benchmarks, tests).
   */
  _cudaSetFusedConv(on: boolean, force?: boolean): void;
  /**
   * Phase profiler of the deformable-convolution driver (benchmarks only): `true` times each phase on the GPU
   * (CUDA events), `'host'` the host's time in each phase and in the binding's steps (NOTE [ Host phases ]).
   */
  _cudaProfile(on: boolean | 'host'): void;
  /**
   * Milliseconds per phase (im2col, gemm_forward, ...) since the last report; waits for the GPU. In the host mode,
   * `host:<phase>` (total ms) and `host:<phase>:calls`.
   */
  _cudaProfileReport(): Record<string, number>;
}

/** @internal A device tensor as the shared exports take it. */
export interface CudaNativeTensor extends NativeTensor {
  readonly data: CudaDeviceBuffer;
}

/** @internal The loaded binding with its CUDA exports. */
export type CudaBinding = NativeBinding & CudaNativeBinding;

let checked: CudaBinding | null = null;

/**
 * @internal The loaded binding, when it can run CUDA kernels (a CUDA build with at least one usable
 * device). `what` names the request in the error.
 * @throws {@link NotImplementedError} naming the reason otherwise
 */
export function getCudaBinding(what: string): CudaBinding {
  if (checked !== null) return checked;
  const loaded = getLoaded();
  const b = loaded.binding as NativeBinding & Partial<CudaNativeBinding>;
  const why = cudaUnavailability(loaded);
  if (why !== null || typeof b.cudaBufferAlloc !== 'function') {
    const cause = why?.cause ?? `the loaded binary (${loaded.candidate}) has no CUDA exports`;
    const remedy = why?.remedy ?? "keep tensors on 'cpu'";
    throw new NotImplementedError(
      `${what}: expected a usable CUDA device, but ${cause}; ${remedy} (backendInfo() tells which binary ` +
        'is loaded and why)',
    );
  }
  checked = b as CudaBinding;
  return checked;
}

/** @internal Forgets the checked binding (tests that reset the loader). */
export function _resetCudaBindingForTests(): void {
  checked = null;
}
