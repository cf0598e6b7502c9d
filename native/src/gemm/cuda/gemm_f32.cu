// SPDX-License-Identifier: MIT
// Explicit instantiation of gemm() for float inputs (one file per dtype so nvcc builds them in parallel).
#include "gemm/cuda/gemm_kernel.cuh"

namespace dcn::cuda {
template void gemm<float, float>(const GemmDesc&, cudaStream_t);
}  // namespace dcn::cuda
