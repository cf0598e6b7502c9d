// SPDX-License-Identifier: MIT
// Vectorized im2col rows: up to four channels of one kernel point over a run of columns of one image,
// from a table of corner indices and weights (built by sampling.h, laid out structure-of-arrays).
// AVX-512 and AVX2 versions use masked gathers, so invalid corners are never read and count as exactly 0.
#pragma once
#include <cstdint>

namespace dcn::cpu {

// dst[ch][l] = sum_{j < count} (index[j * ld + l] >= 0 ? weight[j * ld + l] * planes[ch][index[j * ld + l]] : 0)
// for l < len and ch < nch (nch <= 4); `count` is 1 (integer grid), 2, 4 or 8 (2^D corners).
template <typename T>
using SampleRowsFn = void (*)(int count, const T* const* planes, int nch, const int32_t* index, const T* weight,
                              int64_t ld, int64_t len, T* const* dst);

// The vector kernel of the instruction set selected for the GEMM (set_gemm_isa), or null for the
// portable path (callers then use their scalar loop).
template <typename T>
SampleRowsFn<T> sample_rows_kernel();

}  // namespace dcn::cpu
