// SPDX-License-Identifier: MIT
// NOTE [ Small-group forward sampler ]
// With few channels per offset group (edvr-64: 64 channels in 8 offset groups of 8) each sample of the
// forward is one short vector per corner, and the general path's costs are per sample, not per channel:
// its corner table (structure-of-arrays SampleBlocks of 32 columns with room for the backward's
// coordinate weights, 157 KB per column block for edvr-64, mostly outside L1) is read through 9 cache
// lines per sample, and pass A walks column, segment, kernel point, so consecutive samples read
// different tables. Here the sampling plan is made per (lane block of 16 columns, kernel point) for every
// segment (run of W channels with one offset, mask and weight group) in a few KB that stay in L1:
// for every lane, segment and corner, the element offset idx * cx + c0 into the channels-last input and
// the corner weight with the mask folded in (0, and the zero row, where the sample is not live). The
// columns of the lane block are then sampled at once: per (column, segment) 2^D vector loads of W
// channels, 2^D FMAs and one store, straight into the row of colsT that the GEMM reads in place.
// Values: the same conventions as table_block (sampling.h, NOTE [ Linear interpolation ]) and the same
// operations in the same order as pass A (m * w_j, then v = sum_j (m w_j) x_j from zero), so colsT, and
// with it the output, is bit-identical to the general path's.
#include "deform_conv/cpu/forward_small_groups.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/macros.h"
#include "deform_conv/cpu/small_groups_common.h"
#include "gemm/cpu/gemm.h"

// GCC on x86-64 only (the vector code is compiled under `#pragma GCC target`); elsewhere
// small_groups_applies is false and the general path runs.
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__clang__)
#define DCN_SG_X86 1
#include <immintrin.h>
// Vector types wider than the baseline ISA appear in always-inlined helpers only.
#pragma GCC diagnostic ignored "-Wpsabi"
// GCC 12 warns about the undefined pass-through operand inside the AVX-512 conversion intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dcn::cpu {
namespace {

#if DCN_SG_X86
using small_groups::kLanes;
using small_groups::load_as;
using small_groups::next_block_rows;
using small_groups::NextBlockRows;
using small_groups::Seg;
using small_groups::store_as;

// The sampler for AVX-512 and for AVX2 (NOTE [ Small-group samplers on AVX2 ] in small_groups_isas.inc).
#define DCN_SG_SAMPLER "deform_conv/cpu/forward_small_groups.inc"
#include "deform_conv/cpu/small_groups_isas.inc"
#undef DCN_SG_SAMPLER
#endif

}  // namespace

template <int D, typename T>
bool small_groups_applies(const SamplingGeometry<D>& g) {
#if DCN_SG_X86
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") != 0 && std::strcmp(isa, "avx2") != 0) return false;
  if (micro_kernel<T>().fn_rows == nullptr) return false;
  return small_groups::segment_bytes(g, int64_t(sizeof(T))) != 0;
#else
  (void)g;
  return false;
#endif
}

template <int D, typename T>
void sample_small_groups(const SamplingGeometry<D>& g, const T* xt, const T* offset, const T* mask, int64_t n0,
                         int64_t nc, T* cols) {
#if DCN_SG_X86
  const int64_t W = std::min({g.cx / g.offset_groups, g.cx / g.mask_groups, g.cx_per_group()});
  const bool avx512 = std::strcmp(gemm_isa_name(), "avx512") == 0;  // else AVX2 (small_groups_applies)
  switch (W * static_cast<int64_t>(sizeof(T))) {
    case 16:
      return avx512 ? isa_avx512::sample_tile<D, T, 16>(g, xt, offset, mask, n0, nc, cols)
                    : isa_avx2::sample_tile<D, T, 16>(g, xt, offset, mask, n0, nc, cols);
    case 32:
      return avx512 ? isa_avx512::sample_tile<D, T, 32>(g, xt, offset, mask, n0, nc, cols)
                    : isa_avx2::sample_tile<D, T, 32>(g, xt, offset, mask, n0, nc, cols);
    default:
      return avx512 ? isa_avx512::sample_tile<D, T, 64>(g, xt, offset, mask, n0, nc, cols)
                    : isa_avx2::sample_tile<D, T, 64>(g, xt, offset, mask, n0, nc, cols);
  }
#else
  (void)g, (void)xt, (void)offset, (void)mask, (void)n0, (void)nc, (void)cols;
#endif
}

#define DCN_INSTANTIATE_SMALL_GROUPS(D, T)                                                                            \
  template bool small_groups_applies<D, T>(const SamplingGeometry<D>&);                                               \
  template void sample_small_groups<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, int64_t, int64_t, \
                                          T*);
DCN_INSTANTIATE_SMALL_GROUPS(1, float)
DCN_INSTANTIATE_SMALL_GROUPS(2, float)
DCN_INSTANTIATE_SMALL_GROUPS(3, float)
DCN_INSTANTIATE_SMALL_GROUPS(1, double)
DCN_INSTANTIATE_SMALL_GROUPS(2, double)
DCN_INSTANTIATE_SMALL_GROUPS(3, double)

}  // namespace dcn::cpu
