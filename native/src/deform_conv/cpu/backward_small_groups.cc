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

// GCC on x86-64 only (the AVX-512 code is compiled under `#pragma GCC target`); elsewhere
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

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define DCN_SG_AVX512 1
namespace isa_avx512 {

#include "deform_conv/cpu/small_groups_lanes.inc"

// The plan of one segment for one (lane block, kernel point), and the corner sums of its samples.
template <int D>
struct SegPlan {
  static constexpr int kC = 1 << D;
  // sum4 trees per sample
  static constexpr int kTrees = (kC + 3) / 4;
  int32_t off[kC][kLanes];   // idx * cx + c0, idx as table_block's (the zero row when invalid or bad)
  int32_t soff[kC][kLanes];  // the same with the zero row also where the sample is not live: the scatter
  float wv[kC][kLanes];      // live ? m * w_j : 0
  float wu[kC][kLanes];      // w_j (table_block's w, no mask)
  float dw[D][kC][kLanes];   // table_block's coordinate weights
  float m[kLanes];           // the mask (1 without one)
  int32_t live[kLanes];      // 1: the value is read; 0: column value 0, no scatter
  // sum_c dcol_c * x_j,c of the lane's sample, corners 4t .. 4t + 3 at S4[t][lane]: each tree's four sums
  // leave in one 16-byte store (four scalar stores, three of them vextractps, were ~6 of the ~70 micro-ops of
  // a sample), and are turned into lane vectors once per lane block (corner_sums).
  float S4[kTrees][kLanes][4];
};

// The corner sums of a segment's 16 lanes as one vector per corner: a 16 x 4 transposition of each tree's block.
template <int D>
DCN_INLINE void corner_sums(const SegPlan<D>& p, float (*S)[kLanes]) {
  // lo / hi: corners {0, 1} / {2, 3} of 8 lanes (4 from each source), lanes in order.
  alignas(64) static constexpr int32_t kLo[16] = {0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29};
  alignas(64) static constexpr int32_t kHi[16] = {2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31};
  const __m512i lo = _mm512_load_si512(kLo), hi = _mm512_load_si512(kHi);
  for (int t = 0; t < SegPlan<D>::kTrees; ++t) {
    const float* b = &p.S4[t][0][0];
    const __m512 z0 = _mm512_loadu_ps(b), z1 = _mm512_loadu_ps(b + 16), z2 = _mm512_loadu_ps(b + 32),
                 z3 = _mm512_loadu_ps(b + 48);
    const __m512 a = _mm512_permutex2var_ps(z0, lo, z1), c = _mm512_permutex2var_ps(z2, lo, z3);
    const __m512 bb = _mm512_permutex2var_ps(z0, hi, z1), d = _mm512_permutex2var_ps(z2, hi, z3);
    const __m512 out[4] = {_mm512_shuffle_f32x4(a, c, 0x44), _mm512_shuffle_f32x4(a, c, 0xEE),
                           _mm512_shuffle_f32x4(bb, d, 0x44), _mm512_shuffle_f32x4(bb, d, 0xEE)};
    for (int j = 0; j < 4 && 4 * t + j < SegPlan<D>::kC; ++j) _mm512_storeu_ps(S[4 * t + j], out[j]);
  }
}

// Four horizontal sums at once: [sum a, sum b, sum c, sum d].
DCN_INLINE __m128 sum4(__m128 a, __m128 b, __m128 c, __m128 d) {
  return _mm_hadd_ps(_mm_hadd_ps(a, b), _mm_hadd_ps(c, d));
}
DCN_INLINE __m128 sum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}
DCN_INLINE __m256 halves(__m512 a) { return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1)); }
DCN_INLINE __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  return sum4(halves(a), halves(b), halves(c), halves(d));
}

// NOTE [ Corner sums of two columns ]
// With 8-channel segments each sample's four corner sums took a 256-bit tree (sum4: three vhaddps, an
// extract and an add), ~2 ns per sample alone (a microbenchmark, 1.9 ns), about as much as the rest of a
// sample's arithmetic. Two columns' products in one 512-bit vector per corner (column l in the low half)
// go through the same tree with vhaddps's pairing written as two shuffles and an add (hadd_pair), and the
// final low + high 128-bit halves of each column as two lane shuffles and an add: every sum pairs the same
// terms in the same order as sum4, so S4 is bit-identical, in half the instructions (0.96 ns per sample in
// the microbenchmark). Both columns' S4 entries are adjacent: one 32-byte store.
DCN_INLINE __m512 pair(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }
// Per 128-bit lane, as _mm_hadd_ps: [a0 + a1, a2 + a3, b0 + b1, b2 + b3].
DCN_INLINE __m512 hadd_pair(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}
// [sum4 of the low halves (column l), sum4 of the high halves (column l + 1)].
DCN_INLINE __m256 sum4_pair(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 h = hadd_pair(hadd_pair(a, b), hadd_pair(c, d));
  // 128-bit lanes [h0 + h1, h2 + h3, ...]: h0 + h1 is sum4's low + high half of column l.
  return _mm512_castps512_ps256(_mm512_add_ps(_mm512_shuffle_f32x4(h, h, 0x88), _mm512_shuffle_f32x4(h, h, 0xDD)));
}

template <int Bytes>
struct Chan;
template <>
struct Chan<16> {
  using type = __m128;
};
template <>
struct Chan<32> {
  using type = __m256;
};
template <>
struct Chan<64> {
  using type = __m512;
};

// One lane block: columns [i0, i0 + len) of the tile (xb / xgb: the planes of their image), y positions
// q0 + l. off_loc / m_loc: the block's offsets and masks, row r at r * ck, lanes past len zero. acc: the
// offset and mask gradients of the block's kLanes lanes, rows [OG * K * D + MG * K] at r * lda, zeroed here
// (lanes past len are overwritten by the next block or never written out: NOTE [ Coordinate gradient rows ]).
template <int D, int Bytes, bool kX, bool kCoord>
void lane_block(const SamplingGeometry<D>& g, const float* xb, const float* dcol, float* cols, bool grad_offset,
                bool grad_mask, float* xgb, uint8_t* mk, int64_t chunk, const float* off_loc, const float* m_loc,
                const Seg* segs, int64_t n_segs, int64_t i0, int64_t len, int64_t q0, SegPlan<D>* plan, float* acc,
                int64_t lda, int64_t ck) {
  using C = typename Chan<Bytes>::type;
  using V = float __attribute__((vector_size(kLanes * 4)));
  constexpr int kC = 1 << D;
  const int64_t K = g.kernel_points, sx = g.x_spatial(), cx = g.cx;
  const int64_t cxg = g.cx_per_group(), ldr = cx * K, OG = g.offset_groups, MG = g.mask_groups;
  const int32_t zero_row = static_cast<int32_t>(sx);
  float* acc_off = acc;
  float* acc_mask = acc + OG * K * D * lda;
  if constexpr (kCoord)
    for (int64_t r = 0; r < OG * K * D + MG * K; ++r) _mm512_storeu_ps(acc + r * lda, _mm512_setzero_ps());

  // Grid coordinates of the lanes (lanes past len repeat the last column).
  __m512i yc[D];
  {
    int32_t tmp[D][kLanes];
    for (int l = 0; l < kLanes; ++l) {
      int64_t rem = q0 + std::min<int64_t>(l, len - 1);
      for (int a = D - 1; a >= 0; --a) {
        tmp[a][l] = static_cast<int32_t>(rem % g.y_size[a]);
        rem /= g.y_size[a];
      }
    }
    for (int a = 0; a < D; ++a) yc[a] = _mm512_loadu_si512(tmp[a]);
  }
  int32_t size[D], pstride[D];
  float fsize[D];
  {
    int32_t st = 1;
    for (int a = D - 1; a >= 0; --a) {
      size[a] = static_cast<int32_t>(g.x_size[a]);
      fsize[a] = static_cast<float>(g.x_size[a]);
      pstride[a] = st;
      st *= size[a];
    }
  }
  // NOTE [ Corner sums of two columns ]: 8-channel segments (edvr-64) with the corner sums wanted.
  constexpr bool kPairs = kX && kCoord && Bytes == 32;
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512i zri = _mm512_set1_epi32(zero_row), cxi = _mm512_set1_epi32(static_cast<int32_t>(cx));
  // The rows of X and of the X gradient that the next lane block will sample (NOTE [ Prefetching the next
  // lane block ]), one row per kernel point.
  const NextBlockRows next = D == 2 ? next_block_rows(g, q0, len) : NextBlockRows{};
  for (int64_t kpt = 0; kpt < K; ++kpt) {
    for (int64_t r = kpt; r < next.rows; r += K) {
      const int64_t e0 = (next.first + r * next.row_stride) * cx, n = next.pixels * cx;
      if (xb)
        for (int64_t e = 0; e < n; e += 64 / int64_t(sizeof(float)))
          _mm_prefetch(reinterpret_cast<const char*>(xb + e0 + e), _MM_HINT_T0);
      if (xgb)
        for (int64_t e = 0; e < n; e += 64 / int64_t(sizeof(float))) __builtin_prefetch(xgb + e0 + e, 1, 3);
    }
    __m512i pint[D];
    {
      int64_t rem = kpt;
      int64_t kc[D];
      for (int a = D - 1; a >= 0; --a) {
        kc[a] = rem % g.kernel_size[a];
        rem /= g.kernel_size[a];
      }
      for (int a = 0; a < D; ++a) {
        const int32_t step = static_cast<int32_t>(g.stride[a]);
        const int32_t base = static_cast<int32_t>(kc[a] * g.dilation[a] - g.padding[a]);
        pint[a] = _mm512_add_epi32(_mm512_mullo_epi32(yc[a], _mm512_set1_epi32(step)), _mm512_set1_epi32(base));
      }
    }
    // The plan of every segment (the operations of table_block, with AVX-512 masks), and the range of
    // positions the scatter reaches.
    __m512i pmin = _mm512_set1_epi32(INT32_MAX), pmax = _mm512_set1_epi32(-1);
    for (int64_t s = 0; s < n_segs; ++s) {
      const Seg& sg = segs[s];
      SegPlan<D>& p = plan[s];
      const __m512 mv = m_loc ? _mm512_loadu_ps(m_loc + (sg.mg * K + kpt) * ck) : one;
      __mmask16 nan, outside, dead;
      __m512 pa[D], bad_w, t[D], f0[D];
      __m512i lo[D];
      for (int a = 0; a < D; ++a) {
        pa[a] = _mm512_add_ps(_mm512_cvtepi32_ps(pint[a]), _mm512_loadu_ps(off_loc + ((sg.og * K + kpt) * D + a) * ck));
      }
      lane_coordinates<D>(pa, fsize, nan, outside, dead, bad_w, lo, t, f0);
      const __mmask16 bad = nan | dead;
      const __mmask16 live = nan | static_cast<__mmask16>(~outside);
      const __mmask16 keep = static_cast<__mmask16>(~bad & live);
      const __m512i c0i = _mm512_set1_epi32(static_cast<int32_t>(sg.c0));
      _mm512_storeu_ps(p.m, mv);
      _mm512_storeu_si512(p.live, _mm512_maskz_mov_epi32(live, _mm512_set1_epi32(1)));
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
        const __m512i tidx = _mm512_mask_mov_epi32(zri, ok & static_cast<__mmask16>(~bad), idx);
        const __mmask16 sok = ok & keep;
        const __m512i sidx = _mm512_mask_mov_epi32(zri, sok, idx);
        pmin = _mm512_min_epi32(pmin, sidx);
        pmax = _mm512_mask_max_epi32(pmax, sok, pmax, sidx);
        w = _mm512_mask_mov_ps(_mm512_maskz_mov_ps(static_cast<__mmask16>(~outside), w), bad, bad_w);
        _mm512_storeu_si512(p.off[j], _mm512_add_epi32(_mm512_mullo_epi32(tidx, cxi), c0i));
        _mm512_storeu_si512(p.soff[j], _mm512_add_epi32(_mm512_mullo_epi32(sidx, cxi), c0i));
        _mm512_storeu_ps(p.wv[j], _mm512_maskz_mul_ps(live, mv, w));
        if constexpr (kCoord) {
          _mm512_storeu_ps(p.wu[j], w);
          for (int a = 0; a < D; ++a) {
            __m512 dw = ((j >> a) & 1) ? one : _mm512_set1_ps(-1.0f);
            for (int b2 = 0; b2 < D; ++b2) {
              if (b2 == a) continue;
              dw = _mm512_mul_ps(dw, ((j >> b2) & 1) ? t[b2] : f0[b2]);
            }
            _mm512_storeu_ps(p.dw[a][j], _mm512_mask_mov_ps(dw, bad, bad_w));
          }
        }
      }
    }
    // Zero the chunks of the accumulator that this kernel point's scatter reaches before the first write
    // into them (writes to the zero row land anywhere in its chunk and are never read).
    if (xgb) {
      const int32_t hi = _mm512_reduce_max_epi32(pmax);
      if (hi >= 0) {
        const int32_t lo = _mm512_reduce_min_epi32(pmin);
        for (int64_t k = lo / chunk; k <= hi / chunk; ++k) {
          if (mk[k]) continue;
          mk[k] = 1;
          float* z = xgb + k * chunk * cx;
          std::fill(z, z + std::min(chunk, sx + 1 - k * chunk) * cx, 0.0f);
        }
      }
    }
    // The samples: per column and segment, 2^D loads of W channels for the column value and the corner
    // sums, and 2^D read-modify-writes of the X gradient.
    int64_t l = 0;
    if constexpr (kPairs) {
      // Columns two at a time where the corner sums of both go through one 512-bit tree (NOTE [ Corner sums
      // of two columns ]); each column's value and scatter as below, column l's before column l + 1's.
      for (; l + 1 < len; l += 2) {
        const float* drow = dcol + (i0 + l) * ldr + kpt * cxg;
        float* crow = cols ? cols + (i0 + l) * ldr + kpt * cxg : nullptr;
        for (int64_t s = 0; s < n_segs; ++s) {
          SegPlan<D>& p = plan[s];
          const int64_t dst = segs[s].dst;
          C d[2], x[2][kC < 4 ? 4 : kC];
          DCN_UNROLL_FULL
          for (int u = 0; u < 2; ++u) {
            const int64_t lu = l + u;
            d[u] = load_as<C>(drow + u * ldr + dst);
            DCN_UNROLL_FULL
            for (int j = 0; j < kC; ++j) x[u][j] = load_as<C>(xb + p.off[j][lu]);
            // The plan's weights and scatter offsets of the sample read before its stores (which may alias
            // them for the compiler): one broadcast per weight serves the column value and the scatter.
            C wb[kC];
            int32_t so[kC];
            DCN_UNROLL_FULL
            for (int j = 0; j < kC; ++j) {
              wb[j] = _mm256_broadcast_ss(&p.wv[j][lu]);
              so[j] = p.soff[j][lu];
            }
            const int32_t live = p.live[lu];
            if (crow) {
              C v{};
              DCN_UNROLL_FULL
              for (int j = 0; j < kC; ++j) v += wb[j] * x[u][j];
              store_as(crow + u * ldr + dst, live ? v : C{});
            }
            if (xgb) {
              DCN_UNROLL_FULL
              for (int j = 0; j < kC; ++j) {
                float* tgt = xgb + so[j];
                store_as(tgt, load_as<C>(tgt) + wb[j] * d[u]);
              }
            }
          }
          const __m512 dd = pair(d[0], d[1]);
          DCN_UNROLL_FULL
          for (int j0 = 0; j0 < kC; j0 += 4) {
            __m512 q[4];
            DCN_UNROLL_FULL
            for (int j = 0; j < 4; ++j)
              q[j] = j0 + j < kC ? _mm512_mul_ps(dd, pair(x[0][j0 + j], x[1][j0 + j])) : _mm512_setzero_ps();
            _mm256_storeu_ps(p.S4[j0 / 4][l], sum4_pair(q[0], q[1], q[2], q[3]));
          }
        }
      }
    }
    for (; l < len; ++l) {
      const float* drow = dcol ? dcol + (i0 + l) * ldr + kpt * cxg : nullptr;
      float* crow = cols ? cols + (i0 + l) * ldr + kpt * cxg : nullptr;
      for (int64_t s = 0; s < n_segs; ++s) {
        SegPlan<D>& p = plan[s];
        const int64_t dst = segs[s].dst;
        C d{};
        if (kCoord || xgb) d = load_as<C>(drow + dst);
        if constexpr (kX) {
          C x[kC < 4 ? 4 : kC];
          DCN_UNROLL_FULL
          for (int j = 0; j < kC; ++j) x[j] = load_as<C>(xb + p.off[j][l]);
          if (crow) {
            C v{};
            DCN_UNROLL_FULL
            for (int j = 0; j < kC; ++j) v += p.wv[j][l] * x[j];
            store_as(crow + dst, p.live[l] ? v : C{});
          }
          if constexpr (kCoord) {
            DCN_UNROLL_FULL
            for (int j0 = 0; j0 < kC; j0 += 4) {
              C q[4];
              DCN_UNROLL_FULL
              for (int j = 0; j < 4; ++j) q[j] = j0 + j < kC ? d * x[j0 + j] : C{};  // x has >= 4 entries
              _mm_storeu_ps(p.S4[j0 / 4][l], sum4(q[0], q[1], q[2], q[3]));
            }
          }
        }
        if (xgb) {
          DCN_UNROLL_FULL
          for (int j = 0; j < kC; ++j) {
            float* tgt = xgb + p.soff[j][l];
            store_as(tgt, load_as<C>(tgt) + p.wv[j][l] * d);
          }
        }
      }
    }
    // The offset and mask gradients of the lanes: in segment order, as pass A.
    if constexpr (kCoord) {
      for (int64_t s = 0; s < n_segs; ++s) {
        const Seg& sg = segs[s];
        const SegPlan<D>& p = plan[s];
        alignas(64) float St[kC][kLanes];
        corner_sums(p, St);
        V S[kC];
        for (int j = 0; j < kC; ++j) S[j] = load_as<V>(St[j]);
        if (grad_mask) {
          V v = V{};
          for (int j = 0; j < kC; ++j) v += load_as<V>(p.wu[j]) * S[j];
          float* am = acc_mask + (sg.mg * K + kpt) * lda;
          store_as(am, load_as<V>(am) + v);
        }
        if (grad_offset) {
          const V m = load_as<V>(p.m);
          for (int a = 0; a < D; ++a) {
            V dv = V{};
            for (int j = 0; j < kC; ++j) dv += load_as<V>(p.dw[a][j]) * S[j];
            float* ao = acc_off + ((sg.og * K + kpt) * D + a) * lda;
            store_as(ao, load_as<V>(ao) + m * dv);
          }
        }
      }
    }
  }
}

// NOTE [ Coordinate gradient rows ]
// The offset and mask gradients of a chunk of columns (one image, at most ck of them) are accumulated lane
// block by lane block in acc ([rows][lda], the chunk's y position q at lane q % kLanes, so every block but the
// first is one aligned vector per row) and each row is written out once at the chunk's end, one contiguous
// run per row. The rows are 4 * prod(y_size) bytes apart (edvr-64: 64 KB, all 216 rows of a block in one L1
// and two L2 sets) and the tensors come from the caller, usually not 64-byte aligned: storing each block's
// 16 lanes as it finished (one unaligned masked store over two lines, each line fetched for ownership twice,
// by two blocks) was ~29 % of this sampler's time (perf, edvr-64). Here the whole lines of a run are
// streamed past the cache and only its first and last partial lines are stored (the neighbouring chunk,
// maybe on another thread, stores the rest of those lines: disjoint bytes). dst is a float, so 4-byte aligned:
// the head ends on a line boundary.
DCN_INLINE void write_row(float* dst, const float* src, int64_t n) {
  int64_t e = 0;
  const int64_t head = std::min<int64_t>(n, ((64 - (reinterpret_cast<uintptr_t>(dst) & 63)) & 63) / 4);
  if (head > 0) {
    const __mmask16 mh = static_cast<__mmask16>((1u << head) - 1u);
    _mm512_mask_storeu_ps(dst, mh, _mm512_maskz_loadu_ps(mh, src));
    e = head;
  }
  for (; e + kLanes <= n; e += kLanes) _mm512_stream_ps(dst + e, _mm512_loadu_ps(src + e));
  if (e < n) {
    const __mmask16 mt = static_cast<__mmask16>((1u << (n - e)) - 1u);
    _mm512_mask_storeu_ps(dst + e, mt, _mm512_maskz_loadu_ps(mt, src + e));
  }
}

template <int D, int Bytes, bool kX, bool kCoord>
void sample_tile(const SamplingGeometry<D>& g, const float* xt, const float* dcol, const float* offset,
                 const float* mask, int64_t n0, int64_t nc, float* cols, float* grad_offset, float* grad_mask,
                 float* xgt, uint8_t* marks, int64_t cpi, int64_t chunk) {
  const int64_t W = Bytes / 4;
  const int64_t n_segs = g.cx / W, sx = g.x_spatial(), cx = g.cx;
  const int64_t K = g.kernel_points, OG = g.offset_groups, MG = g.mask_groups;
  const int64_t off_rows = OG * K * D, m_rows = mask ? MG * K : 0;
  const int64_t ck = small_groups::chunk_columns(off_rows + m_rows, int64_t(sizeof(float)));
  // The chunk's gradient rows (NOTE [ Coordinate gradient rows ]): ck lanes from the first block's phase, one
  // more vector for it; rows ck / 16 + 1 lines apart (17 for ck = 256), so a block's rows spread over the L1 sets.
  const int64_t acc_rows = OG * K * D + MG * K, lda = ck + kLanes;
  std::vector<char>& store = small_groups::plan_storage();
  const size_t seg_bytes = static_cast<size_t>(n_segs) * sizeof(Seg);
  const size_t plan_bytes = static_cast<size_t>(n_segs) * sizeof(SegPlan<D>);
  const size_t acc_bytes = kCoord ? static_cast<size_t>(acc_rows * lda) * sizeof(float) : 0;
  const size_t loc_bytes = static_cast<size_t>((off_rows + m_rows) * ck) * sizeof(float);
  const size_t need = seg_bytes + plan_bytes + acc_bytes + loc_bytes + 5 * 64;
  if (store.size() < need) store.resize(need);
  using small_groups::align64;
  Seg* segs = reinterpret_cast<Seg*>(align64(store.data()));
  SegPlan<D>* plan = reinterpret_cast<SegPlan<D>*>(align64(reinterpret_cast<char*>(segs) + seg_bytes));
  float* acc = reinterpret_cast<float*>(align64(reinterpret_cast<char*>(plan) + plan_bytes));
  float* off_loc = reinterpret_cast<float*>(align64(reinterpret_cast<char*>(acc) + acc_bytes));
  float* m_loc = off_loc + off_rows * ck;
  small_groups::make_segments(g, W, segs);
  int64_t phase = 0;  // the lane of acc that holds the chunk's first column
  auto block = [&](int64_t i, int64_t len, int64_t b, int64_t q, int64_t k) {
    const float* xb = xt ? xt + b * (sx + 1) * cx : nullptr;
    float* xgb = xgt ? xgt + b * (sx + 1) * cx : nullptr;
    uint8_t* mk = xgt ? marks + b * cpi : nullptr;
    if (k == 0) phase = q % kLanes;
    lane_block<D, Bytes, kX, kCoord>(g, xb, dcol, cols, grad_offset != nullptr, grad_mask != nullptr, xgb, mk, chunk,
                                     off_loc + k, mask ? m_loc + k : nullptr, segs, n_segs, i, len, q, plan,
                                     acc + phase + k, lda, ck);
  };
  auto chunk_end = [&](int64_t, int64_t clen, int64_t b, int64_t q) {
    if constexpr (kCoord) {
      const int64_t sy = g.y_spatial();
      if (grad_offset)
        for (int64_t r = 0; r < OG * K * D; ++r)
          write_row(grad_offset + (b * OG * K * D + r) * sy + q, acc + r * lda + phase, clen);
      if (grad_mask)
        for (int64_t r = 0; r < MG * K; ++r)
          write_row(grad_mask + (b * MG * K + r) * sy + q, acc + (OG * K * D + r) * lda + phase, clen);
    }
  };
  // Chunks of columns with their offsets and masks copied to contiguous rows first, as in the forward.
  small_groups::for_each_lane_block(g, offset, mask, off_rows, m_rows, n0, nc, ck, off_loc, m_loc, block, chunk_end);
  _mm_sfence();  // the streamed gradient stores are ordered before anything that follows
}

template <int D, int Bytes>
void sample_tile_any(const SamplingGeometry<D>& g, const float* xt, const float* dcol, const float* offset,
                     const float* mask, int64_t n0, int64_t nc, float* cols, float* grad_offset, float* grad_mask,
                     float* xgt, uint8_t* marks, int64_t cpi, int64_t chunk) {
  const bool coord = grad_offset || grad_mask;
  if (coord)
    sample_tile<D, Bytes, true, true>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt, marks, cpi,
                                      chunk);
  else if (cols)
    sample_tile<D, Bytes, true, false>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt, marks, cpi,
                                       chunk);
  else
    sample_tile<D, Bytes, false, false>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt, marks,
                                        cpi, chunk);
}

}  // namespace isa_avx512
#undef DCN_SG_AVX512
#pragma GCC pop_options
#endif

}  // namespace

template <int D, typename T>
bool small_groups_backward_applies(const SamplingGeometry<D>& g, bool has_offset) {
#if DCN_SGB_X86
  if (!std::is_same_v<T, float> || !has_offset) return false;
  if (std::strcmp(gemm_isa_name(), "avx512") != 0) return false;
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
    switch (W * static_cast<int64_t>(sizeof(T))) {
      case 16:
        return isa_avx512::sample_tile_any<D, 16>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt,
                                                  marks, cpi, chunk);
      case 32:
        return isa_avx512::sample_tile_any<D, 32>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt,
                                                  marks, cpi, chunk);
      default:
        return isa_avx512::sample_tile_any<D, 64>(g, xt, dcol, offset, mask, n0, nc, cols, grad_offset, grad_mask, xgt,
                                                  marks, cpi, chunk);
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
