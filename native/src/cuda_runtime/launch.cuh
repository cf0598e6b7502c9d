// SPDX-License-Identifier: MIT
// Launch helpers shared by the CUDA kernels: 1-D grid sizing for grid-stride loops, and the index-type
// switch. CUDA sources only.
#pragma once
#include <algorithm>
#include <cstdint>

#include <cuda_runtime.h>

#include "cuda_runtime/stream.h"

namespace dcn::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements: enough to fill the device several times over, never
// more than one element per thread.
inline unsigned grid_for(int64_t n, int device, int threads = kThreads) {
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(multiprocessor_count(device)) * 32;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(needed, cap)));
}

// True when every offset below `n` fits in int32 (the fast index type).
inline bool fits_int32(int64_t n) { return n < (int64_t{1} << 31) - 1; }

}  // namespace dcn::cuda

// NOTE [ Index type ]
// Kernels index with int32 when every element offset they form is below 2^31 (the common case: 32-bit
// integer division and multiplication are several times cheaper) and with int64 otherwise, so tensors
// of more than 2^31 elements work. DCN_INDEX_SWITCH binds `index_t` accordingly; it doubles the number
// of kernel instantiations, so only the elementwise and movement kernels use it.
#define DCN_INDEX_SWITCH(FITS32, ...) \
  [&] {                               \
    if (FITS32) {                     \
      using index_t = int32_t;        \
      return __VA_ARGS__();           \
    }                                 \
    using index_t = int64_t;          \
    return __VA_ARGS__();             \
  }()
