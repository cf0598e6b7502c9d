// SPDX-License-Identifier: MIT
// Error checks for CUDA runtime calls and kernel launches: a failed call becomes a dcn::Error naming the
// call, the error's name and description; a failed launch names the kernel, its grid and block (never a
// printf). Host code of the CUDA build only.
#pragma once
#include <string>

#include <cuda_runtime.h>

#include "core/error.h"

namespace dcn::cuda {

// Throws dcn::Error for a failed runtime call `call` (the source text of the call).
[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* call) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  const ErrorKind kind = err == cudaErrorMemoryAllocation ? ErrorKind::kRange : ErrorKind::kInternal;
  throw Error(kind,
              detail::concat("CUDA error in ", call, ": ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")"));
}

// After a <<<grid, block>>> launch: throws when the launch itself failed (bad configuration, missing
// kernel image for this GPU, a sticky error from an earlier kernel).
inline void check_launch(const char* kernel, dim3 grid, dim3 block) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return;
  throw Error(ErrorKind::kInternal,
              detail::concat("CUDA kernel launch failed: ", kernel, " with grid (", grid.x, ", ", grid.y, ", ", grid.z,
                             ") and block (", block.x, ", ", block.y, ", ", block.z, "): ", cudaGetErrorName(err), " (",
                             cudaGetErrorString(err), ")"));
}

}  // namespace dcn::cuda

// Evaluates a cudaError_t expression once; throws dcn::Error naming it when it is not cudaSuccess.
#define DCN_CUDA_CHECK(EXPR)                               \
  do {                                                     \
    const cudaError_t dcn_cuda_err_ = (EXPR);              \
    if (dcn_cuda_err_ != cudaSuccess) {                    \
      ::dcn::cuda::throw_cuda_error(dcn_cuda_err_, #EXPR); \
    }                                                      \
  } while (0)

// Checks the launch just made: DCN_CUDA_LAUNCH_CHECK("im2col", grid, block).
#define DCN_CUDA_LAUNCH_CHECK(KERNEL, GRID, BLOCK) ::dcn::cuda::check_launch(KERNEL, GRID, BLOCK)
