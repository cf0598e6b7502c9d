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

// Per-corner channel sums of the coordinate gradients: for l < len and corner j < count,
//   sums[j * ld + l] += sum_{ch < nch} coef[ch * coef_stride + l] * X_ch[index[j * ld + l]]
// with X_ch = plane0 + ch * plane_stride and invalid corners (index < 0) reading as 0. Channels are
// added in order, so the result does not depend on how callers split columns.
template <typename T>
using CornerSumsFn = void (*)(int count, const T* plane0, int64_t plane_stride, int64_t nch, const T* coef,
                              int64_t coef_stride, const int32_t* index, int64_t ld, int64_t len, T* sums);

template <typename T>
CornerSumsFn<T> corner_sums_kernel();

}  // namespace dcn::cpu
