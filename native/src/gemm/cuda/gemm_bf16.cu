// SPDX-License-Identifier: MIT
// Explicit instantiation of gemm() for __nv_bfloat16 inputs, with __nv_bfloat16 or float32 results (one file per dtype
// so nvcc builds them in parallel).
#include "gemm/cuda/gemm_kernel.cuh"

namespace dcn::cuda {
template void gemm<__nv_bfloat16, __nv_bfloat16>(const GemmDesc&, cudaStream_t);
template void gemm<__nv_bfloat16, float>(const GemmDesc&, cudaStream_t);
}  // namespace dcn::cuda
