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

// GCC on x86-64 only (the AVX-512 code is compiled under `#pragma GCC target`); elsewhere
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

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
namespace isa_avx512 {

#include "deform_conv/cpu/small_groups_lanes.inc"

template <int Bytes, typename T>
struct Chan {
  typedef T type __attribute__((vector_size(Bytes)));
};

template <typename T>
struct Lane {
  typedef T V __attribute__((vector_size(kLanes * sizeof(T))));
  typedef int32_t I __attribute__((vector_size(kLanes * 4)));
};

// One lane block: columns [i0, i0 + len) of the tile, image b, y positions q0 + l.
// off_loc / m_loc: the block's offsets and masks, row r (channel of the offset / mask tensor of image b)
// at r * ck, lanes past len zero.
template <int D, typename T, int Bytes>
void lane_block(const SamplingGeometry<D>& g, const T* xt, const T* off_loc, const T* m_loc, const Seg* segs,
                int64_t n_segs, int64_t i0, int64_t len, int64_t b, int64_t q0, T* cols, int32_t* plan_off, T* plan_w,
                int64_t ck) {
  using V = typename Lane<T>::V;
  using I = typename Lane<T>::I;
  using M = decltype(V{} < V{});
  using C = typename Chan<Bytes, T>::type;
  constexpr int kC = 1 << D;
  const int64_t K = g.kernel_points, sx = g.x_spatial(), cx = g.cx;
  const int64_t cxg = g.cx_per_group(), ldr = cx * K;
  const int32_t zero_row = static_cast<int32_t>(sx);
  const T* xb = xt + b * (sx + 1) * cx;

  // Grid coordinates of the lanes (lanes past len repeat the last column).
  I yc[D];
  {
    int32_t tmp[D][kLanes];
    for (int l = 0; l < kLanes; ++l) {
      int64_t rem = q0 + std::min<int64_t>(l, len - 1);
      for (int a = D - 1; a >= 0; --a) {
        tmp[a][l] = static_cast<int32_t>(rem % g.y_size[a]);
        rem /= g.y_size[a];
      }
    }
    for (int a = 0; a < D; ++a) yc[a] = load_as<I>(tmp[a]);
  }
  int32_t size[D], pstride[D];
  T fsize[D];
  {
    int32_t st = 1;
    for (int a = D - 1; a >= 0; --a) {
      size[a] = static_cast<int32_t>(g.x_size[a]);
      fsize[a] = static_cast<T>(g.x_size[a]);
      pstride[a] = st;
      st *= size[a];
    }
  }
  int64_t kpt_rem[D];
  for (int a = 0; a < D; ++a) kpt_rem[a] = 0;
  // The rows of X that the next lane block will sample (NOTE [ Prefetching the next lane block ] in
  // small_groups_common.h), one row per kernel point.
  const NextBlockRows next = D == 2 ? next_block_rows(g, q0, len) : NextBlockRows{};
  for (int64_t kpt = 0; kpt < K; ++kpt) {
    for (int64_t r = kpt; r < next.rows; r += K) {
      const int64_t e0 = (next.first + r * next.row_stride) * cx, n = next.pixels * cx;
      for (int64_t e = 0; e < n; e += 64 / static_cast<int64_t>(sizeof(T))) __builtin_prefetch(xb + e0 + e, 0, 3);
    }
    // Kernel point coordinates, row-major.
    {
      int64_t rem = kpt;
      for (int a = D - 1; a >= 0; --a) {
        kpt_rem[a] = rem % g.kernel_size[a];
        rem /= g.kernel_size[a];
      }
    }
    I pint[D];
    for (int a = 0; a < D; ++a) {
      const int32_t step = static_cast<int32_t>(g.stride[a]);
      const int32_t base = static_cast<int32_t>(kpt_rem[a] * g.dilation[a] - g.padding[a]);
      pint[a] = yc[a] * step + base;
    }
    // The plan of every segment: per corner j, element offsets and weights (mask folded in).
    for (int64_t s = 0; s < n_segs; ++s) {
      const Seg& sg = segs[s];
      V m = V{} + T(1);
      if (m_loc) m = load_as<V>(m_loc + (sg.mg * K + kpt) * ck);
      int32_t* so = plan_off + s * kC * kLanes;
      T* sw = plan_w + s * kC * kLanes;
      const I zr = I{} + zero_row, c0 = I{} + static_cast<int32_t>(sg.c0);
      const int32_t cx32 = static_cast<int32_t>(cx);
      if (!off_loc) {
        // The integer grid: one corner of weight 1 where it lies inside, the zero row elsewhere.
        I ok = I{} - 1, idx = I{};
        for (int a = 0; a < D; ++a) {
          ok &= (pint[a] >= 0) & (pint[a] < size[a]);
          idx += pint[a] * pstride[a];
        }
        store_as(so, (ok ? idx : zr) * cx32 + c0);
        store_as(sw, m * T(1));
        for (int j = 1; j < kC; ++j) {
          store_as(so + j * kLanes, zr * cx32 + c0);
          store_as(sw + j * kLanes, m * T(0));
        }
        continue;
      }
      if constexpr (std::is_same_v<T, float>) {
        // The same operations with AVX-512 masks (the vector-extension form below compiles its mask
        // selects into scalar code).
        const __m512 one = _mm512_set1_ps(1.0f);
        __mmask16 nan, outside, dead;
        __m512 pa[D], bad_w, t[D], f0[D];
        __m512i lo[D];
        for (int a = 0; a < D; ++a) {
          pa[a] = _mm512_add_ps(_mm512_cvtepi32_ps(load_as<__m512i>(&pint[a])),
                                _mm512_loadu_ps(off_loc + ((sg.og * K + kpt) * D + a) * ck));
        }
        lane_coordinates<D>(pa, fsize, nan, outside, dead, bad_w, lo, t, f0);
        const __mmask16 bad = nan | dead;
        const __mmask16 live = nan | static_cast<__mmask16>(~outside);
        const __mmask16 keep = static_cast<__mmask16>(~bad & live);
        const __m512 mv = load_as<__m512>(&m);
        const __m512i zri = _mm512_set1_epi32(zero_row), c0i = _mm512_set1_epi32(static_cast<int32_t>(sg.c0));
        const __m512i cxi = _mm512_set1_epi32(cx32);
        for (int j = 0; j < kC; ++j) {
          __m512i idx = _mm512_setzero_si512();
          __mmask16 ok = 0xFFFF;
          __m512 w = one;
          for (int a = 0; a < D; ++a) {
            const int up = (j >> a) & 1;
            const __m512i jj = _mm512_add_epi32(lo[a], _mm512_set1_epi32(up));
            ok &= _mm512_cmpge_epi32_mask(jj, _mm512_setzero_si512()) &
                  _mm512_cmplt_epi32_mask(jj, _mm512_set1_epi32(size[a]));
            idx = _mm512_add_epi32(idx, _mm512_mullo_epi32(jj, _mm512_set1_epi32(pstride[a])));
            w = _mm512_mul_ps(w, up ? t[a] : f0[a]);
          }
          idx = _mm512_mask_mov_epi32(zri, ok & keep, idx);
          w = _mm512_mask_mov_ps(_mm512_maskz_mov_ps(static_cast<__mmask16>(~outside), w), bad, bad_w);
          _mm512_storeu_si512(so + j * kLanes, _mm512_add_epi32(_mm512_mullo_epi32(idx, cxi), c0i));
          _mm512_storeu_ps(sw + j * kLanes, _mm512_maskz_mul_ps(live, mv, w));
        }
        continue;
      }
      V p[D];
      for (int a = 0; a < D; ++a) {
        p[a] = __builtin_convertvector(pint[a], V) + load_as<V>(off_loc + ((sg.og * K + kpt) * D + a) * ck);
      }
      // Per axis (as axis_lanes in column_pass_simd.inc).
      M nan = M{}, outside = M{}, dead = M{};
      V bad_w = V{}, t[D], f0[D];
      I lo[D];
      for (int a = 0; a < D; ++a) {
        const M is_nan = p[a] != p[a];
        const M out_m = (p[a] <= T(-1)) | (p[a] >= fsize[a]);
        const M in = (p[a] > T(-2)) & (p[a] < fsize[a]);
        nan |= is_nan;
        outside |= out_m;
        dead |= ~in & ~is_nan;
        bad_w = is_nan ? p[a] : bad_w;
        const V pc = in ? p[a] : V{};
        const V ft = __builtin_convertvector(__builtin_convertvector(pc, I), V);
        const V f = ft > pc ? ft - T(1) : ft;
        lo[a] = __builtin_convertvector(f, I);
        t[a] = pc - f;
        f0[a] = T(1) - t[a];
      }
      const M bad = nan | dead;
      const M live = nan | ~outside;
      const I keep = __builtin_convertvector(~bad & live, I);
      for (int j = 0; j < kC; ++j) {
        I idx = I{};
        I ok = I{} - 1;
        V w = V{} + T(1);
        for (int a = 0; a < D; ++a) {
          const int up = (j >> a) & 1;
          const I jj = lo[a] + up;
          ok &= (jj >= 0) & (jj < size[a]);
          idx += jj * pstride[a];
          w *= up ? t[a] : f0[a];
        }
        // Not live (outside, not NaN): value 0, as pass A's select; here weight 0 on the zero row.
        idx = (ok & keep) ? idx : zr;
        w = bad ? bad_w : (outside ? V{} : w);
        store_as(so + j * kLanes, idx * cx32 + c0);
        store_as(sw + j * kLanes, live ? m * w : V{});
      }
    }
    // The samples: per column and segment, 2^D loads of W channels.
    for (int64_t l = 0; l < len; ++l) {
      T* row = cols + (i0 + l) * ldr + kpt * cxg;
      for (int64_t s = 0; s < n_segs; ++s) {
        const int32_t* po = plan_off + s * kC * kLanes + l;
        const T* pw = plan_w + s * kC * kLanes + l;
        C v{};
        DCN_UNROLL_FULL
        for (int j = 0; j < kC; ++j) v += pw[j * kLanes] * load_as<C>(xb + po[j * kLanes]);
        store_as(row + segs[s].dst, v);
      }
    }
  }
}

template <int D, typename T, int Bytes>
void sample_tile(const SamplingGeometry<D>& g, const T* xt, const T* offset, const T* mask, int64_t n0, int64_t nc,
                 T* cols) {
  constexpr int kC = 1 << D;
  const int64_t W = Bytes / static_cast<int64_t>(sizeof(T));
  const int64_t n_segs = g.cx / W;
  std::vector<char>& store = small_groups::plan_storage();
  const size_t seg_bytes = static_cast<size_t>(n_segs) * sizeof(Seg);
  const size_t off_bytes = static_cast<size_t>(n_segs * kC * kLanes) * sizeof(int32_t);
  const size_t w_bytes = static_cast<size_t>(n_segs * kC * kLanes) * sizeof(T);
  const int64_t OG = g.offset_groups, MG = g.mask_groups, K = g.kernel_points;
  const int64_t off_rows = offset ? OG * K * D : 0, m_rows = mask ? MG * K : 0;
  const int64_t ck = small_groups::chunk_columns(off_rows + m_rows, int64_t(sizeof(T)));
  const size_t loc_bytes = static_cast<size_t>((off_rows + m_rows) * ck) * sizeof(T);
  const size_t need = seg_bytes + off_bytes + w_bytes + loc_bytes + kLanes * sizeof(T) + 3 * 64;
  if (store.size() < need) store.resize(need);
  Seg* segs = reinterpret_cast<Seg*>(small_groups::align64(store.data()));
  int32_t* plan_off = reinterpret_cast<int32_t*>(small_groups::align64(reinterpret_cast<char*>(segs) + seg_bytes));
  T* plan_w = reinterpret_cast<T*>(small_groups::align64(reinterpret_cast<char*>(plan_off) + off_bytes));
  small_groups::make_segments(g, W, segs);
  T* off_loc = plan_w + n_segs * kC * kLanes;
  T* m_loc = off_loc + off_rows * ck;
  small_groups::for_each_lane_block(g, offset, mask, off_rows, m_rows, n0, nc, ck, off_loc, m_loc,
                                    [&](int64_t i, int64_t len, int64_t b, int64_t q, int64_t k) {
                                      lane_block<D, T, Bytes>(g, xt, offset ? off_loc + k : nullptr,
                                                              mask ? m_loc + k : nullptr, segs, n_segs, i, len, b, q,
                                                              cols, plan_off, plan_w, ck);
                                    });
}

}  // namespace isa_avx512
#pragma GCC pop_options
#endif

}  // namespace

template <int D, typename T>
bool small_groups_applies(const SamplingGeometry<D>& g) {
#if DCN_SG_X86
  if (std::strcmp(gemm_isa_name(), "avx512") != 0 || micro_kernel<T>().fn_rows == nullptr) return false;
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
  switch (W * static_cast<int64_t>(sizeof(T))) {
    case 16: return isa_avx512::sample_tile<D, T, 16>(g, xt, offset, mask, n0, nc, cols);
    case 32: return isa_avx512::sample_tile<D, T, 32>(g, xt, offset, mask, n0, nc, cols);
    default: return isa_avx512::sample_tile<D, T, 64>(g, xt, offset, mask, n0, nc, cols);
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
