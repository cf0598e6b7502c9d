// SPDX-License-Identifier: MIT
// Runtime information mirroring tvdcn's helpers (has_ops, with_cuda, cuda_version, cuda_arch_list)
// plus backendInfo(): which binary was loaded, from where, and why the others were not.
import { cudaUnavailability } from './cuda-availability.js';
import {
  getLoaded,
  loadBackendAsync,
  type BackendRequest,
  type LoadAttempt,
  type LoadedBinding,
} from './load-binding.js';

import type { WasmBackendInfo } from './load-wasm.js';

export type { BackendRequest, LoadAttempt } from './load-binding.js';
export type { WasmBackendInfo } from './load-wasm.js';

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /** True when a native binary is loaded. */
  loaded: boolean;
  /** `'cuda'` when the CUDA binary is loaded (it may still run on the CPU only), `'cpu'` otherwise. */
  variant: 'cpu' | 'cuda' | null;
  /**
   * Which build serves: `'native'` (a `.node` addon of this platform) or `'wasm'` (`@tvdcn/wasm32`: the
   * browser backend, and Node's fallback where no native package loads).
   */
  binary: 'native' | 'wasm' | null;
  /** Package name (`@tvdcn/linux-x64-gnu`, `@tvdcn/wasm32`, ...) or `TVDCN_NATIVE_PATH`. */
  candidate: string | null;
  /** The `.node` file in use. */
  path: string | null;
  /** `TVDCN_BACKEND` as parsed. */
  requested: BackendRequest | null;
  /** Number of usable CUDA devices (0 when CUDA is not usable). */
  cudaDeviceCount: number;
  /**
   * Why CUDA is not usable, or null when it is: the real cause (the CUDA package is not installed, is
   * installed but no GPU is usable and why, failed to load, or TVDCN_BACKEND=cpu).
   */
  cudaUnavailableReason: string | null;
  /** Every candidate looked at, in order, with its outcome. */
  attempts: readonly LoadAttempt[];
  /** When nothing could be loaded: the full error message. */
  error: string | null;
  /** When the WebAssembly build serves because no native binary could: why (also emitted once as a warning). */
  fallbackNotice: string | null;
  /**
   * When the WebAssembly build serves: which of its variants (`'threads'` or `'single'`), why, and how
   * many threads serve now; null for a native binary.
   */
  wasm: WasmBackendInfo | null;
}

function infoOf(l: LoadedBinding): BackendInfo {
  return {
    loaded: true,
    variant: l.variant,
    binary: l.kind,
    candidate: l.candidate,
    path: l.path,
    requested: l.requested,
    cudaDeviceCount: l.cudaDeviceCount,
    cudaUnavailableReason: cudaUnavailability(l)?.cause ?? null,
    attempts: l.attempts,
    error: null,
    fallbackNotice: l.fallbackNotice,
    wasm: l.wasm?.info() ?? null,
  };
}

/**
 * Loads the backend ahead of the first operation. Required once in browsers, where the WebAssembly
 * build (`@tvdcn/wasm32`) is fetched and compiled asynchronously; optional in Node, where the first
 * operation loads a native binary (or the WebAssembly fallback) synchronously. Rejects with a
 * `NativeLoadError` when nothing loads.
 * @example
 * const info = await loadBackend();
 * console.log(info.binary, info.candidate); // 'wasm' '@tvdcn/wasm32' in a browser
 */
export async function loadBackend(): Promise<BackendInfo> {
  return infoOf(await loadBackendAsync());
}

/**
 * Which native binary is in use and why each other candidate was not. Never throws: when no binary
 * loads, `loaded` is false and `error` holds the message ops would throw.
 * @example
 * console.log(backendInfo().candidate); // '@tvdcn/linux-x64-gnu'
 */
export function backendInfo(): BackendInfo {
  try {
    return infoOf(getLoaded());
  } catch (e) {
    return {
      loaded: false,
      variant: null,
      binary: null,
      candidate: null,
      path: null,
      requested: null,
      cudaDeviceCount: 0,
      cudaUnavailableReason: 'no native binary loaded',
      attempts: [],
      error: e instanceof Error ? e.message : String(e),
      fallbackNotice: null,
      wasm: null,
    };
  }
}

/** True when the native operators are available (tvdcn's `has_ops()`). */
export function hasOps(): boolean {
  return backendInfo().loaded;
}

/** True when the loaded binary was built with CUDA (tvdcn's `with_cuda()`), whether or not a GPU is usable. */
export function withCuda(): boolean {
  return cudaVersion() !== -1;
}

/** CUDA_VERSION the binary was built with (e.g. 13000), or -1 without CUDA or without ops. */
export function cudaVersion(): number {
  try {
    return getLoaded().binding.buildInfo().cudaVersion;
  } catch {
    return -1;
  }
}

/** The CUDA architectures compiled into the binary (e.g. `['75-real', ..., '120-virtual']`); `[]` without CUDA. */
export function cudaArchList(): string[] {
  try {
    return getLoaded().binding.buildInfo().cudaArchList.split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** CUDA device queries. */
export const cuda = {
  /** True when the CUDA binary is loaded and at least one device is usable. */
  isAvailable(): boolean {
    return backendInfo().cudaDeviceCount > 0;
  },
  /** Number of usable CUDA devices (0 when CUDA is not usable). */
  deviceCount(): number {
    return backendInfo().cudaDeviceCount;
  },
};
