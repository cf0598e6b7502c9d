// SPDX-License-Identifier: MIT
// The second pass of a split sum, shared by the generic sum (reduce_kernel.cu) and the bias gradient's rows
// (NOTE [ Bias gradient rows ], deform_conv_kernel.cuh).
#pragma once
#include <cstdint>

#include "cuda_runtime/scalar.cuh"

namespace dcn::cuda {

// out[o] = sum over s (in order) of partial[s][o], in float64: the partials of a long reduction are
// large and many, and a float32 running sum of them would lose their low bits.
template <typename T>
__global__ void sum_partials_kernel(const acc_type<T>* __restrict__ partial, T* __restrict__ out, int64_t n_out,
                                    int64_t splits) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += stride) {
    double acc = 0;
    for (int64_t s = 0; s < splits; ++s) acc += partial[s * n_out + o];
    out[o] = convert<T>(acc);
  }
}

}  // namespace dcn::cuda
