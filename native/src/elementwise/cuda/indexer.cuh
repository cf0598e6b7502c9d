// SPDX-License-Identifier: MIT
// Offsets of N strided operands for a linear index over a shape (row-major): the broadcasting and
// strided-copy helper of the elementwise and movement kernels. CUDA sources only.
#pragma once
#include <cstdint>

#include "elementwise/cuda_ops.h"

namespace dcn::cuda {

template <typename index_t, int N>
struct Indexer {
  int ndim;
  index_t sizes[kMaxStridedDims];
  index_t strides[N][kMaxStridedDims];

  // off[k] = sum_d i_d * strides[k][d] where (i_0, ..., i_{ndim-1}) is `linear` unravelled over sizes.
  __device__ __forceinline__ void offsets(index_t linear, index_t (&off)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const index_t s = sizes[d];
      const index_t i = linear % s;
      linear /= s;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
  }
};

template <typename index_t, int N>
Indexer<index_t, N> make_indexer(int ndim, const int64_t* shape, const int64_t* const (&strides)[N]) {
  Indexer<index_t, N> ix{};
  ix.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    ix.sizes[d] = static_cast<index_t>(shape[d]);
    for (int k = 0; k < N; ++k) ix.strides[k][d] = static_cast<index_t>(strides[k][d]);
  }
  return ix;
}

// Largest |offset| an operand reaches: base + sum_d (shape[d] - 1) * |stride[d]|.
inline int64_t max_offset(int64_t base, int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t m = base < 0 ? -base : base;
  for (int d = 0; d < ndim; ++d) {
    const int64_t s = strides[d] < 0 ? -strides[d] : strides[d];
    if (shape[d] > 0) m += (shape[d] - 1) * s;
  }
  return m;
}

}  // namespace dcn::cuda
