// SPDX-License-Identifier: MIT
// NOTE [ Small-group backward sampler ]
// The backward's twin of NOTE [ Small-group forward sampler ] (forward_small_groups.cc). With few channels
// per offset group (edvr-64: 8 offset groups of 8 channels) every sample of the backward is one short
// vector per corner, and the general path's costs are per sample: pass A and pass B (column_pass_simd.inc)
// each walk column, segment, kernel point over a corner table of 157 KB per column block (edvr-64), so
// every sample reads ~17 of its cache lines from L2 twice, and pass A reduces each corner's channel sum
// with a scalar tail. Here, as in the forward, the plan is made per (lane block of 16 columns, kernel
// point) for every segment in a few KB that stay in L1 (element offsets of the corners in the
// channels-last input, weights with the mask folded in, the unmasked weights and the coordinate weights
// for the offset and mask gradients), and each sample is then done once, all three loops fused: 2^D
// vector loads of W channels give the column value (colsT of the weight gradient) and the corner sums
// S_j = sum_c dcol_c x_j,c (four at a time by a horizontal-add tree), and the 2^D read-modify-writes of
// the X-gradient accumulator use the same offsets and weights. The offset and mask gradients are then
// formed from S for all 16 lanes at once.
// Values: the conventions of table_block (NOTE [ Linear interpolation ] in sampling.h); colsT is
// bit-identical to pass A's. The X gradient receives the same terms as pass B in (kernel point, column,
// corner) order instead of (column, kernel point, corner), and the corner sums are added in a different
// order than pass A's halving: both are fixed by the geometry (not by the tiling or the thread count), so
// results stay deterministic, and agree with the general path to rounding.
#include "deform_conv/cpu/backward_small_groups.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/macros.h"
#include "deform_conv/cpu/small_groups_common.h"
#include "gemm/cpu/gemm.h"

// GCC on x86-64 only (the vector code is compiled under `#pragma GCC target`); elsewhere
// small_groups_backward_applies is false and the general path runs.
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__clang__)
#define DCN_SGB_X86 1
#include <immintrin.h>
// Vector types wider than the baseline ISA appear in always-inlined helpers only.
#pragma GCC diagnostic ignored "-Wpsabi"
// GCC 12 warns about the undefined pass-through operand inside the AVX-512 conversion intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dcn::cpu {
namespace {

#if DCN_SGB_X86
using small_groups::kLanes;
using small_groups::load_as;
using small_groups::next_block_rows;
using small_groups::NextBlockRows;
using small_groups::Seg;
using small_groups::store_as;

// The sampler for AVX-512 and for AVX2 (NOTE [ Small-group samplers on AVX2 ] in small_groups_isas.inc).
#define DCN_SG_SAMPLER "deform_conv/cpu/backward_small_groups.inc"
#include "deform_conv/cpu/small_groups_isas.inc"
#undef DCN_SG_SAMPLER
#endif

}  // namespace

template <int D, typename T>
bool small_groups_backward_applies(const SamplingGeometry<D>& g, bool has_offset) {
#if DCN_SGB_X86
  if (!std::is_same_v<T, float> || !has_offset) return false;
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") != 0 && std::strcmp(isa, "avx2") != 0) return false;
  return small_groups::segment_bytes(g, int64_t(sizeof(T))) != 0;
#else
  (void)g, (void)has_offset;
  return false;
#endif
}

template <int D, typename T>
void backward_small_groups(const SamplingGeometry<D>& g, const T* xt, const T* dcol, const T* offset, const T* mask,
                           int64_t n0, int64_t nc, T* cols, T* grad_offset, T* grad_mask, T* xgt, uint8_t* marks,
                           int64_t cpi, int64_t chunk) {
#if DCN_SGB_X86
  if constexpr (std::is_same_v<T, float>) {
    const int64_t W = std::min({g.cx / g.offset_groups, g.cx / g.mask_groups, g.cx_per_group()});
    // The instruction set's samplers (small_groups_backward_applies: AVX-512 or AVX2).
    auto run = [&](auto tile) {
      tile(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt, marks, cpi, chunk);
    };
    const bool avx512 = std::strcmp(gemm_isa_name(), "avx512") == 0;
    switch (W * static_cast<int64_t>(sizeof(T))) {
      case 16: return avx512 ? run(isa_avx512::sample_tile_any<D, 16>) : run(isa_avx2::sample_tile_any<D, 16>);
      case 32: return avx512 ? run(isa_avx512::sample_tile_any<D, 32>) : run(isa_avx2::sample_tile_any<D, 32>);
      default: return avx512 ? run(isa_avx512::sample_tile_any<D, 64>) : run(isa_avx2::sample_tile_any<D, 64>);
    }
  }
#endif
  (void)g, (void)xt, (void)dcol, (void)offset, (void)mask, (void)n0, (void)nc, (void)cols, (void)grad_offset;
  (void)grad_mask, (void)xgt, (void)marks, (void)cpi, (void)chunk;
}

#define DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(D, T)                                                             \
  template bool small_groups_backward_applies<D, T>(const SamplingGeometry<D>&, bool);                          \
  template void backward_small_groups<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, const T*, \
                                            int64_t, int64_t, T*, T*, T*, T*, uint8_t*, int64_t, int64_t);
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(1, float)
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(2, float)
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(3, float)
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(1, double)
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(2, double)
DCN_INSTANTIATE_SMALL_GROUPS_BACKWARD(3, double)

}  // namespace dcn::cpu
