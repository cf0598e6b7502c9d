// SPDX-License-Identifier: MIT
// Why CUDA cannot be used in this process, in words that name the real cause: the loader's attempts say
// whether the CUDA binary is installed, failed to load, was skipped for want of a usable GPU, or was not
// wanted (TVDCN_BACKEND=cpu); the loaded binary says whether it has CUDA kernels and devices.
import type { LoadedBinding } from './load-binding.js';

/** Why CUDA is not usable, and what to do about it. */
export interface CudaUnavailability {
  /** The cause, e.g. `no GPU is usable (cudaErrorNoDevice: ...), although @tvdcn/linux-x64-gnu-cuda is installed`. */
  cause: string;
  /** The remedy, e.g. `check the NVIDIA driver and GPU (nvidia-smi)`. */
  remedy: string;
}

const DRIVER_REMEDY =
  'check that an NVIDIA GPU and driver are visible to this process (nvidia-smi; in a container, its GPU ' +
  "options), or keep tensors on 'cpu'";

/**
 * @internal The cause and remedy when `loaded` cannot run CUDA kernels, or null when it can.
 */
export function cudaUnavailability(loaded: LoadedBinding): CudaUnavailability | null {
  if (loaded.variant === 'cuda') {
    if (loaded.cudaDeviceCount > 0) return null;
    return {
      cause: `no GPU is usable (${loaded.cudaUnavailableReason ?? 'unknown reason'}) for the loaded CUDA binary (${loaded.candidate})`,
      remedy: DRIVER_REMEDY,
    };
  }
  if (loaded.kind === 'wasm') {
    return {
      cause: `the WebAssembly build (${loaded.candidate}) serves this process, and it has no CUDA`,
      remedy: `install the CUDA package of a supported platform, or keep tensors on 'cpu'`,
    };
  }
  if (loaded.candidate === 'TVDCN_NATIVE_PATH') {
    return {
      cause: `the binary at TVDCN_NATIVE_PATH (${loaded.path}) was built without CUDA`,
      remedy: 'point TVDCN_NATIVE_PATH at a CUDA build (native/build/cuda/Release/tvdcn_cuda.node), or unset it',
    };
  }
  const cuda = loaded.attempts.find((a) => a.candidate.endsWith('-cuda'));
  const cudaPkg = cuda?.candidate ?? `${loaded.candidate}-cuda`;
  if (cuda?.reason === 'TVDCN_BACKEND=cpu') {
    return {
      cause: 'TVDCN_BACKEND=cpu chose the CPU binary',
      remedy: 'unset TVDCN_BACKEND (or set it to auto or cuda) to use CUDA',
    };
  }
  if (cuda === undefined || cuda.reason === 'package not installed') {
    return {
      cause: `the loaded binary (${loaded.candidate}) has no CUDA kernels and ${cudaPkg} is not installed`,
      remedy: `install ${cudaPkg} on a machine with an NVIDIA GPU and driver, or keep tensors on 'cpu'`,
    };
  }
  if (cuda.reason.startsWith('no usable GPU')) {
    const detail = cuda.reason.replace(/^no usable GPU:?\s*/, '') || 'unknown reason';
    return { cause: `no GPU is usable (${detail}), although ${cudaPkg} is installed`, remedy: DRIVER_REMEDY };
  }
  return {
    cause: `${cudaPkg} is installed but could not be used: ${cuda.reason}`,
    remedy: `reinstall ${cudaPkg} at the version of @tvdcn/ops, or keep tensors on 'cpu' (backendInfo().attempts lists what was tried)`,
  };
}
