// SPDX-License-Identifier: MIT
// Explicit instantiation of gemm() for __half inputs, with __half or float32 results (one file per dtype so
// nvcc builds them in parallel).
#include "gemm/cuda/gemm_kernel.cuh"

namespace dcn::cuda {
template void gemm<__half, __half>(const GemmDesc&, cudaStream_t);
template void gemm<__half, float>(const GemmDesc&, cudaStream_t);
}  // namespace dcn::cuda
