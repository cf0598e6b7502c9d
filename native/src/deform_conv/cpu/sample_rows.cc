// SPDX-License-Identifier: MIT
// AVX-512 and AVX2 versions of sample_rows.h (function target attributes, chosen at run time): the
// im2col rows and the per-corner channel sums of the coordinate gradients.
#include "deform_conv/cpu/sample_rows.h"

#include <cstring>

#include "gemm/cpu/gemm.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DCN_SAMPLE_X86 1
#endif

namespace dcn::cpu {
namespace {

#if DCN_SAMPLE_X86

// --- AVX-512: 16 floats or 8 doubles per vector -----------------------------------------------------

template <int kCount>
__attribute__((target("avx512f"))) void rows_avx512_f32(const float* const* planes, int nch, const int32_t* index,
                                                        const float* weight, int64_t ld, int64_t len,
                                                        float* const* dst) {
  const __m512i zero_i = _mm512_setzero_si512();
  for (int64_t l = 0; l < len; l += 16) {
    const int64_t rem = len - l;
    const __mmask16 lanes = rem >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rem) - 1);
    __m512i idx[kCount];
    __m512 w[kCount];
    __mmask16 ok[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm512_maskz_loadu_epi32(lanes, index + j * ld + l);
      w[j] = _mm512_maskz_loadu_ps(lanes, weight + j * ld + l);
      ok[j] = _mm512_mask_cmpge_epi32_mask(lanes, idx[j], zero_i);
    }
    for (int ch = 0; ch < nch; ++ch) {
      __m512 acc = _mm512_setzero_ps();
      for (int j = 0; j < kCount; ++j) {
        const __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), ok[j], idx[j], planes[ch], 4);
        acc = _mm512_fmadd_ps(w[j], x, acc);
      }
      _mm512_mask_storeu_ps(dst[ch] + l, lanes, acc);
    }
  }
}

template <int kCount>
__attribute__((target("avx512f"))) void rows_avx512_f64(const double* const* planes, int nch, const int32_t* index,
                                                        const double* weight, int64_t ld, int64_t len,
                                                        double* const* dst) {
  for (int64_t l = 0; l < len; l += 8) {
    const int64_t rem = len - l;
    const __mmask8 lanes = rem >= 8 ? __mmask8(0xFF) : __mmask8((1u << rem) - 1);
    __m256i idx[kCount];
    __m512d w[kCount];
    __mmask8 ok[kCount];
    for (int j = 0; j < kCount; ++j) {
      const int32_t* src = index + j * ld + l;
      if (rem >= 8) {
        idx[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      } else {
        alignas(32) int32_t tail[8];
        for (int k = 0; k < 8; ++k) tail[k] = k < rem ? src[k] : -1;  // lanes past the run: invalid
        idx[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
      }
      w[j] = _mm512_maskz_loadu_pd(lanes, weight + j * ld + l);
      const __m256i valid = _mm256_cmpgt_epi32(idx[j], _mm256_set1_epi32(-1));
      ok[j] = static_cast<__mmask8>(_mm256_movemask_ps(_mm256_castsi256_ps(valid)));
    }
    for (int ch = 0; ch < nch; ++ch) {
      __m512d acc = _mm512_setzero_pd();
      for (int j = 0; j < kCount; ++j) {
        const __m512d x = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), ok[j], idx[j], planes[ch], 8);
        acc = _mm512_fmadd_pd(w[j], x, acc);
      }
      _mm512_mask_storeu_pd(dst[ch] + l, lanes, acc);
    }
  }
}

// --- AVX2: 8 floats or 4 doubles per vector ---------------------------------------------------------

__attribute__((target("avx2"))) inline __m256i tail_mask8(int64_t rem) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem < 8 ? rem : 8)), iota);
}

template <int kCount>
__attribute__((target("avx2,fma"))) void rows_avx2_f32(const float* const* planes, int nch, const int32_t* index,
                                                       const float* weight, int64_t ld, int64_t len,
                                                       float* const* dst) {
  for (int64_t l = 0; l < len; l += 8) {
    const __m256i lanes = tail_mask8(len - l);
    __m256i idx[kCount];
    __m256 w[kCount];
    __m256 ok[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm256_maskload_epi32(index + j * ld + l, lanes);
      w[j] = _mm256_maskload_ps(weight + j * ld + l, lanes);
      // valid = in the run and index >= 0 (index > -1)
      ok[j] = _mm256_castsi256_ps(_mm256_and_si256(lanes, _mm256_cmpgt_epi32(idx[j], _mm256_set1_epi32(-1))));
    }
    for (int ch = 0; ch < nch; ++ch) {
      __m256 acc = _mm256_setzero_ps();
      for (int j = 0; j < kCount; ++j) {
        const __m256 x = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), planes[ch], idx[j], ok[j], 4);
        acc = _mm256_fmadd_ps(w[j], x, acc);
      }
      _mm256_maskstore_ps(dst[ch] + l, lanes, acc);
    }
  }
}

template <int kCount>
__attribute__((target("avx2,fma"))) void rows_avx2_f64(const double* const* planes, int nch, const int32_t* index,
                                                       const double* weight, int64_t ld, int64_t len,
                                                       double* const* dst) {
  for (int64_t l = 0; l < len; l += 4) {
    const int64_t rem = len - l;
    const __m128i lanes32 =
        _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(rem < 4 ? rem : 4)), _mm_setr_epi32(0, 1, 2, 3));
    const __m256i lanes64 = _mm256_cvtepi32_epi64(lanes32);
    __m128i idx[kCount];
    __m256d w[kCount];
    __m256d ok[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm_maskload_epi32(index + j * ld + l, lanes32);
      w[j] = _mm256_maskload_pd(weight + j * ld + l, lanes64);
      const __m128i valid = _mm_and_si128(lanes32, _mm_cmpgt_epi32(idx[j], _mm_set1_epi32(-1)));
      ok[j] = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(valid));
    }
    for (int ch = 0; ch < nch; ++ch) {
      __m256d acc = _mm256_setzero_pd();
      for (int j = 0; j < kCount; ++j) {
        const __m256d x = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), planes[ch], idx[j], ok[j], 8);
        acc = _mm256_fmadd_pd(w[j], x, acc);
      }
      _mm256_maskstore_pd(dst[ch] + l, lanes64, acc);
    }
  }
}

// Runtime corner count -> template.
#define DCN_SAMPLE_ROWS_DISPATCH(NAME, T)                                                                  \
  void NAME(int count, const T* const* planes, int nch, const int32_t* index, const T* weight, int64_t ld, \
            int64_t len, T* const* dst) {                                                                  \
    switch (count) {                                                                                       \
      case 1: return NAME##_t<1>(planes, nch, index, weight, ld, len, dst);                                \
      case 2: return NAME##_t<2>(planes, nch, index, weight, ld, len, dst);                                \
      case 4: return NAME##_t<4>(planes, nch, index, weight, ld, len, dst);                                \
      default: return NAME##_t<8>(planes, nch, index, weight, ld, len, dst);                               \
    }                                                                                                      \
  }
template <int C>
void avx512_f32_t(const float* const* p, int n, const int32_t* i, const float* w, int64_t ld, int64_t len,
                  float* const* d) {
  rows_avx512_f32<C>(p, n, i, w, ld, len, d);
}
template <int C>
void avx512_f64_t(const double* const* p, int n, const int32_t* i, const double* w, int64_t ld, int64_t len,
                  double* const* d) {
  rows_avx512_f64<C>(p, n, i, w, ld, len, d);
}
template <int C>
void avx2_f32_t(const float* const* p, int n, const int32_t* i, const float* w, int64_t ld, int64_t len,
                float* const* d) {
  rows_avx2_f32<C>(p, n, i, w, ld, len, d);
}
template <int C>
void avx2_f64_t(const double* const* p, int n, const int32_t* i, const double* w, int64_t ld, int64_t len,
                double* const* d) {
  rows_avx2_f64<C>(p, n, i, w, ld, len, d);
}
DCN_SAMPLE_ROWS_DISPATCH(avx512_f32, float)
DCN_SAMPLE_ROWS_DISPATCH(avx512_f64, double)
DCN_SAMPLE_ROWS_DISPATCH(avx2_f32, float)
DCN_SAMPLE_ROWS_DISPATCH(avx2_f64, double)

// --- Corner sums (coordinate gradients) -----------------------------------------------------------

constexpr int64_t kSumChannelBlock = 16;

template <int kCount>
__attribute__((target("avx512f"))) void sums_avx512_f32_block(const float* plane0, int64_t plane_stride, int64_t nch,
                                                              const float* coef, int64_t coef_stride,
                                                              const int32_t* index, int64_t ld, int64_t len,
                                                              float* sums) {
  const __m512i zero_i = _mm512_setzero_si512();
  for (int64_t l = 0; l < len; l += 16) {
    const int64_t rem = len - l;
    const __mmask16 lanes = rem >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rem) - 1);
    __m512i idx[kCount];
    __mmask16 ok[kCount];
    __m512 acc[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm512_maskz_loadu_epi32(lanes, index + j * ld + l);
      ok[j] = _mm512_mask_cmpge_epi32_mask(lanes, idx[j], zero_i);
      acc[j] = _mm512_maskz_loadu_ps(lanes, sums + j * ld + l);
    }
    const float* plane = plane0;
    const float* c = coef + l;
    for (int64_t ch = 0; ch < nch; ++ch, plane += plane_stride, c += coef_stride) {
      const __m512 cv = _mm512_maskz_loadu_ps(lanes, c);
      for (int j = 0; j < kCount; ++j) {
        const __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), ok[j], idx[j], plane, 4);
        acc[j] = _mm512_fmadd_ps(cv, x, acc[j]);
      }
    }
    for (int j = 0; j < kCount; ++j) _mm512_mask_storeu_ps(sums + j * ld + l, lanes, acc[j]);
  }
}

template <int kCount>
__attribute__((target("avx512f"))) void sums_avx512_f64_block(const double* plane0, int64_t plane_stride, int64_t nch,
                                                              const double* coef, int64_t coef_stride,
                                                              const int32_t* index, int64_t ld, int64_t len,
                                                              double* sums) {
  for (int64_t l = 0; l < len; l += 8) {
    const int64_t rem = len - l;
    const __mmask8 lanes = rem >= 8 ? __mmask8(0xFF) : __mmask8((1u << rem) - 1);
    __m256i idx[kCount];
    __mmask8 ok[kCount];
    __m512d acc[kCount];
    for (int j = 0; j < kCount; ++j) {
      const int32_t* src = index + j * ld + l;
      if (rem >= 8) {
        idx[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      } else {
        alignas(32) int32_t tail[8];
        for (int k = 0; k < 8; ++k) tail[k] = k < rem ? src[k] : -1;
        idx[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
      }
      const __m256i valid = _mm256_cmpgt_epi32(idx[j], _mm256_set1_epi32(-1));
      ok[j] = static_cast<__mmask8>(_mm256_movemask_ps(_mm256_castsi256_ps(valid)));
      acc[j] = _mm512_maskz_loadu_pd(lanes, sums + j * ld + l);
    }
    const double* plane = plane0;
    const double* c = coef + l;
    for (int64_t ch = 0; ch < nch; ++ch, plane += plane_stride, c += coef_stride) {
      const __m512d cv = _mm512_maskz_loadu_pd(lanes, c);
      for (int j = 0; j < kCount; ++j) {
        const __m512d x = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), ok[j], idx[j], plane, 8);
        acc[j] = _mm512_fmadd_pd(cv, x, acc[j]);
      }
    }
    for (int j = 0; j < kCount; ++j) _mm512_mask_storeu_pd(sums + j * ld + l, lanes, acc[j]);
  }
}

template <int kCount>
__attribute__((target("avx2,fma"))) void sums_avx2_f32_block(const float* plane0, int64_t plane_stride, int64_t nch,
                                                             const float* coef, int64_t coef_stride,
                                                             const int32_t* index, int64_t ld, int64_t len,
                                                             float* sums) {
  for (int64_t l = 0; l < len; l += 8) {
    const __m256i lanes = tail_mask8(len - l);
    __m256i idx[kCount];
    __m256 ok[kCount];
    __m256 acc[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm256_maskload_epi32(index + j * ld + l, lanes);
      ok[j] = _mm256_castsi256_ps(_mm256_and_si256(lanes, _mm256_cmpgt_epi32(idx[j], _mm256_set1_epi32(-1))));
      acc[j] = _mm256_maskload_ps(sums + j * ld + l, lanes);
    }
    const float* plane = plane0;
    const float* c = coef + l;
    for (int64_t ch = 0; ch < nch; ++ch, plane += plane_stride, c += coef_stride) {
      const __m256 cv = _mm256_maskload_ps(c, lanes);
      for (int j = 0; j < kCount; ++j) {
        const __m256 x = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, idx[j], ok[j], 4);
        acc[j] = _mm256_fmadd_ps(cv, x, acc[j]);
      }
    }
    for (int j = 0; j < kCount; ++j) _mm256_maskstore_ps(sums + j * ld + l, lanes, acc[j]);
  }
}

template <int kCount>
__attribute__((target("avx2,fma"))) void sums_avx2_f64_block(const double* plane0, int64_t plane_stride, int64_t nch,
                                                             const double* coef, int64_t coef_stride,
                                                             const int32_t* index, int64_t ld, int64_t len,
                                                             double* sums) {
  for (int64_t l = 0; l < len; l += 4) {
    const int64_t rem = len - l;
    const __m128i lanes32 =
        _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(rem < 4 ? rem : 4)), _mm_setr_epi32(0, 1, 2, 3));
    const __m256i lanes64 = _mm256_cvtepi32_epi64(lanes32);
    __m128i idx[kCount];
    __m256d ok[kCount];
    __m256d acc[kCount];
    for (int j = 0; j < kCount; ++j) {
      idx[j] = _mm_maskload_epi32(index + j * ld + l, lanes32);
      const __m128i valid = _mm_and_si128(lanes32, _mm_cmpgt_epi32(idx[j], _mm_set1_epi32(-1)));
      ok[j] = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(valid));
      acc[j] = _mm256_maskload_pd(sums + j * ld + l, lanes64);
    }
    const double* plane = plane0;
    const double* c = coef + l;
    for (int64_t ch = 0; ch < nch; ++ch, plane += plane_stride, c += coef_stride) {
      const __m256d cv = _mm256_maskload_pd(c, lanes64);
      for (int j = 0; j < kCount; ++j) {
        const __m256d x = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), plane, idx[j], ok[j], 8);
        acc[j] = _mm256_fmadd_pd(cv, x, acc[j]);
      }
    }
    for (int j = 0; j < kCount; ++j) _mm256_maskstore_pd(sums + j * ld + l, lanes64, acc[j]);
  }
}

#define DCN_CORNER_SUMS_DISPATCH(NAME, T)                                                                      \
  void NAME(int count, const T* plane0, int64_t plane_stride, int64_t nch, const T* coef, int64_t coef_stride, \
            const int32_t* index, int64_t ld, int64_t len, T* sums) {                                          \
    switch (count) {                                                                                           \
      case 1: return NAME##_t<1>(plane0, plane_stride, nch, coef, coef_stride, index, ld, len, sums);          \
      case 2: return NAME##_t<2>(plane0, plane_stride, nch, coef, coef_stride, index, ld, len, sums);          \
      case 4: return NAME##_t<4>(plane0, plane_stride, nch, coef, coef_stride, index, ld, len, sums);          \
      default: return NAME##_t<8>(plane0, plane_stride, nch, coef, coef_stride, index, ld, len, sums);         \
    }                                                                                                          \
  }
// Channel blocks outermost, so the planes of one block stay in L1 across all column blocks; each
// element still sums its channels in order. `Block` is one of the *_block kernels above.
template <typename T,
          void (*Block)(const T*, int64_t, int64_t, const T*, int64_t, const int32_t*, int64_t, int64_t, T*)>
void sums_in_channel_blocks(const T* plane0, int64_t plane_stride, int64_t nch, const T* coef, int64_t coef_stride,
                            const int32_t* index, int64_t ld, int64_t len, T* sums) {
  for (int64_t c0 = 0; c0 < nch; c0 += kSumChannelBlock) {
    const int64_t n = nch - c0 < kSumChannelBlock ? nch - c0 : kSumChannelBlock;
    Block(plane0 + c0 * plane_stride, plane_stride, n, coef + c0 * coef_stride, coef_stride, index, ld, len, sums);
  }
}

template <int C>
void sums512_f32_t(const float* p, int64_t ps, int64_t n, const float* c, int64_t cs, const int32_t* i, int64_t ld,
                   int64_t len, float* s) {
  sums_in_channel_blocks<float, sums_avx512_f32_block<C>>(p, ps, n, c, cs, i, ld, len, s);
}
template <int C>
void sums512_f64_t(const double* p, int64_t ps, int64_t n, const double* c, int64_t cs, const int32_t* i, int64_t ld,
                   int64_t len, double* s) {
  sums_in_channel_blocks<double, sums_avx512_f64_block<C>>(p, ps, n, c, cs, i, ld, len, s);
}
template <int C>
void sums2_f32_t(const float* p, int64_t ps, int64_t n, const float* c, int64_t cs, const int32_t* i, int64_t ld,
                 int64_t len, float* s) {
  sums_in_channel_blocks<float, sums_avx2_f32_block<C>>(p, ps, n, c, cs, i, ld, len, s);
}
template <int C>
void sums2_f64_t(const double* p, int64_t ps, int64_t n, const double* c, int64_t cs, const int32_t* i, int64_t ld,
                 int64_t len, double* s) {
  sums_in_channel_blocks<double, sums_avx2_f64_block<C>>(p, ps, n, c, cs, i, ld, len, s);
}
DCN_CORNER_SUMS_DISPATCH(sums512_f32, float)
DCN_CORNER_SUMS_DISPATCH(sums512_f64, double)
DCN_CORNER_SUMS_DISPATCH(sums2_f32, float)
DCN_CORNER_SUMS_DISPATCH(sums2_f64, double)
#endif  // DCN_SAMPLE_X86

}  // namespace

template <>
SampleRowsFn<float> sample_rows_kernel<float>() {
#if DCN_SAMPLE_X86
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") == 0) return avx512_f32;
  if (std::strcmp(isa, "avx2") == 0) return avx2_f32;
#endif
  return nullptr;
}

template <>
SampleRowsFn<double> sample_rows_kernel<double>() {
#if DCN_SAMPLE_X86
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") == 0) return avx512_f64;
  if (std::strcmp(isa, "avx2") == 0) return avx2_f64;
#endif
  return nullptr;
}

template <>
CornerSumsFn<float> corner_sums_kernel<float>() {
#if DCN_SAMPLE_X86
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") == 0) return sums512_f32;
  if (std::strcmp(isa, "avx2") == 0) return sums2_f32;
#endif
  return nullptr;
}

template <>
CornerSumsFn<double> corner_sums_kernel<double>() {
#if DCN_SAMPLE_X86
  const char* isa = gemm_isa_name();
  if (std::strcmp(isa, "avx512") == 0) return sums512_f64;
  if (std::strcmp(isa, "avx2") == 0) return sums2_f64;
#endif
  return nullptr;
}

}  // namespace dcn::cpu
