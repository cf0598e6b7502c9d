// SPDX-License-Identifier: MIT
// The CPU GEMM of gemm.h. Micro-kernels are compiled for AVX-512 and AVX2+FMA with function target
// attributes and picked at run time with __builtin_cpu_supports, so the binary runs on any x86-64; on
// AArch64 (where Advanced SIMD is part of the base ISA) NEON kernels are the default; elsewhere only the
// portable kernel exists.
#include "gemm/cpu/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/buffer.h"
#include "core/macros.h"
#include "core/parallel.h"
#include "gemm/cpu/transpose_avx512.h"

#if defined(__x86_64__) || defined(_M_X64)
#define DCN_GEMM_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define DCN_GEMM_NEON 1
#include <arm_neon.h>
#endif

namespace dcn::cpu {
namespace {

// ---------------------------------------------------------------------------------------------------
// Micro-kernels. Each keeps the MR x NR tile of C in registers and streams the packed panels once.

// Portable kernel: plain loops the compiler vectorizes for the baseline ISA (SSE2 on x86-64).
template <typename T, int MR, int NR>
void uk_generic(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  T r[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[p * MR + i];
      for (int j = 0; j < NR; ++j) r[i][j] += ai * b[p * NR + j];
    }
  }
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < NR; ++j) ci[j] = accumulate ? ci[j] + r[i][j] : r[i][j];
  }
}

#if DCN_GEMM_X86
// AVX2 + FMA: 6 x 16 floats (12 accumulators + 2 B vectors + 1 broadcast of 16 ymm registers) or 6 x 8 doubles, one
// body (uk_avx2_body) for both types and both ways of reading A: packed (step p's 6 values at a + 6 p) or 6 rows of a
// row-major matrix (row i at a + i * lda; MicroKernel::fn_rows). The same FMAs in the same order either way.
template <typename T>
struct Avx2;
template <>
struct Avx2<float> {
  using V = __m256;
  static constexpr int kLanes = 8;
  __attribute__((target("avx2,fma"))) static V zero() { return _mm256_setzero_ps(); }
  __attribute__((target("avx2,fma"))) static V load(const float* p) { return _mm256_loadu_ps(p); }
  __attribute__((target("avx2,fma"))) static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  __attribute__((target("avx2,fma"))) static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((target("avx2,fma"))) static V add(V a, V b) { return _mm256_add_ps(a, b); }
  __attribute__((target("avx2,fma"))) static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};
template <>
struct Avx2<double> {
  using V = __m256d;
  static constexpr int kLanes = 4;
  __attribute__((target("avx2,fma"))) static V zero() { return _mm256_setzero_pd(); }
  __attribute__((target("avx2,fma"))) static V load(const double* p) { return _mm256_loadu_pd(p); }
  __attribute__((target("avx2,fma"))) static V broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  __attribute__((target("avx2,fma"))) static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  __attribute__((target("avx2,fma"))) static V add(V a, V b) { return _mm256_add_pd(a, b); }
  __attribute__((target("avx2,fma"))) static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
};

// R < 6 (packed A only): the panel's first R rows (MicroKernel::fn_part: the panel stride stays 6), each row's result
// the full kernel's.
// kBRows: B read in place as the rows of a row-major matrix (step p at b + p * ldb; gemm_b_rows_f32), else packed.
template <typename T, bool kRows, int R = 6, bool kBRows = false>
__attribute__((target("avx2,fma"), always_inline)) inline void uk_avx2_body(int64_t kc, const T* a, int64_t lda,
                                                                            const T* b, T* c, int64_t ldc,
                                                                            bool accumulate, int64_t ldb = 0) {
  static_assert(R == 6 || !kRows, "a partial panel reads A packed");
  using X = Avx2<T>;
  constexpr int MR = 6, L = X::kLanes;
  typename X::V r[R][2];
  DCN_UNROLL_FULL
  for (int i = 0; i < R; ++i) r[i][0] = r[i][1] = X::zero();
  for (int64_t p = 0; p < kc; ++p) {
    const typename X::V b0 = X::load(b);
    const typename X::V b1 = X::load(b + L);
    DCN_UNROLL_FULL
    for (int i = 0; i < R; ++i) {
      const typename X::V ai = X::broadcast(kRows ? a + i * lda + p : a + i);
      r[i][0] = X::fmadd(ai, b0, r[i][0]);
      r[i][1] = X::fmadd(ai, b1, r[i][1]);
    }
    if (!kRows) a += MR;
    b += kBRows ? ldb : 2 * L;
  }
  DCN_UNROLL_FULL
  for (int i = 0; i < R; ++i) {
    T* ci = c + i * ldc;
    if (accumulate) {
      r[i][0] = X::add(r[i][0], X::load(ci));
      r[i][1] = X::add(r[i][1], X::load(ci + L));
    }
    X::store(ci, r[i][0]);
    X::store(ci + L, r[i][1]);
  }
}

__attribute__((target("avx2,fma"))) void uk_avx2_f32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                                     bool accumulate) {
  uk_avx2_body<float, false>(kc, a, 0, b, c, ldc, accumulate);
}

__attribute__((target("avx2,fma"))) void uk_avx2_f32_rows(int64_t kc, const float* a, int64_t lda, const float* b,
                                                          float* c, int64_t ldc, bool accumulate) {
  uk_avx2_body<float, true>(kc, a, lda, b, c, ldc, accumulate);
}

__attribute__((target("avx2,fma"))) void uk_avx2_f64(int64_t kc, const double* a, const double* b, double* c,
                                                     int64_t ldc, bool accumulate) {
  uk_avx2_body<double, false>(kc, a, 0, b, c, ldc, accumulate);
}

__attribute__((target("avx2,fma"))) void uk_avx2_f64_rows(int64_t kc, const double* a, int64_t lda, const double* b,
                                                          double* c, int64_t ldc, bool accumulate) {
  uk_avx2_body<double, true>(kc, a, lda, b, c, ldc, accumulate);
}

// The AVX-512F micro-kernels: 12 x 32 floats (24 accumulators + 2 B vectors + 1 broadcast of 32 zmm registers) or
// 12 x 16 doubles, one body (uk_avx512_body) for every way they read their operands. Per step p: B's two vectors, then
// for each row i a broadcast of A's (i, p) and two FMAs; the first R rows of the tile; at the end C (+ C) stored. Where
// A and B come from (packed panels, or read in place) and whether the kernel prefetches changes only addresses, so
// every variant computes each element by the same FMA chain from zero as the packed kernel on the packed copy of its
// operands: the same results.
// - A: a packed panel (step p's 12 values at a + 12 p), the columns of a row-major matrix (rows i0.. of its transpose:
//   a + p * lda; gemm_a_cols_f32), or 12 rows of a row-major matrix (row i at a + i * lda; gemm_rows_a).
// - B: a packed panel (b + p * 2 vectors) or the rows of a row-major matrix (b + p * ldb; gemm_b_rows_f32).
// - PF: meanwhile pf_lines 64-byte lines from pf are prefetched into L2, one every 4 steps (MicroKernel::fn_rows_pf:
//   the forward's next weight panel, docs/perf/cpu.md session 15).
// - PFC (with PF): meanwhile also the first two vectors (2 x 64 bytes) of c_rows rows of C from c_next on, ldc apart,
//   with write intent, one row every 8 steps (MicroKernel::fn_pf: NOTE [ Next C tile prefetched by the kernel ]).
template <typename T>
struct Avx512;
template <>
struct Avx512<float> {
  using V = __m512;
  static constexpr int kLanes = 16;
  __attribute__((target("avx512f"))) static V zero() { return _mm512_setzero_ps(); }
  __attribute__((target("avx512f"))) static V load(const float* p) { return _mm512_loadu_ps(p); }
  __attribute__((target("avx512f"))) static V set1(float x) { return _mm512_set1_ps(x); }
  __attribute__((target("avx512f"))) static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  __attribute__((target("avx512f"))) static V add(V a, V b) { return _mm512_add_ps(a, b); }
  __attribute__((target("avx512f"))) static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};
template <>
struct Avx512<double> {
  using V = __m512d;
  static constexpr int kLanes = 8;
  __attribute__((target("avx512f"))) static V zero() { return _mm512_setzero_pd(); }
  __attribute__((target("avx512f"))) static V load(const double* p) { return _mm512_loadu_pd(p); }
  __attribute__((target("avx512f"))) static V set1(double x) { return _mm512_set1_pd(x); }
  __attribute__((target("avx512f"))) static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  __attribute__((target("avx512f"))) static V add(V a, V b) { return _mm512_add_pd(a, b); }
  __attribute__((target("avx512f"))) static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
};

enum class AIn { kPanel, kCols, kRows };

template <typename T, int R, AIn A_IN, bool B_ROWS, bool PF, bool PFC = false>
__attribute__((target("avx512f"), always_inline)) inline void uk_avx512_body(
    int64_t kc, const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate, const T* pf,
    int64_t pf_lines, const T* c_next = nullptr, int64_t c_rows = 0) {
  using X = Avx512<T>;
  constexpr int L = X::kLanes;
  typename X::V r[R][2];
  const T* ar[R];
  DCN_UNROLL_FULL
  for (int i = 0; i < R; ++i) {
    r[i][0] = r[i][1] = X::zero();
    if constexpr (A_IN == AIn::kRows) ar[i] = a + i * lda;
  }
  const T* pf_end = PF ? pf + pf_lines * L : nullptr;
  for (int64_t p = 0; p < kc; ++p) {
    const typename X::V b0 = X::load(b);
    const typename X::V b1 = X::load(b + L);
    DCN_UNROLL_FULL
    for (int i = 0; i < R; ++i) {
      const typename X::V ai = X::set1(A_IN == AIn::kRows ? ar[i][p] : a[i]);
      r[i][0] = X::fmadd(ai, b0, r[i][0]);
      r[i][1] = X::fmadd(ai, b1, r[i][1]);
    }
    if constexpr (A_IN == AIn::kPanel) a += 12;
    if constexpr (A_IN == AIn::kCols) a += lda;
    b += B_ROWS ? ldb : 2 * L;
    if constexpr (PF) {
      if ((p & 3) == 3 && pf < pf_end) {
        _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T1);
        pf += L;
      }
    }
    if constexpr (PFC) {
      if ((p & 7) == 1 && c_rows > 0) {
        __builtin_prefetch(c_next, 1, 3);
        __builtin_prefetch(c_next + L, 1, 3);
        c_next += ldc;
        --c_rows;
      }
    }
  }
  DCN_UNROLL_FULL
  for (int i = 0; i < R; ++i) {
    T* ci = c + i * ldc;
    if (accumulate) {
      r[i][0] = X::add(r[i][0], X::load(ci));
      r[i][1] = X::add(r[i][1], X::load(ci + L));
    }
    X::store(ci, r[i][0]);
    X::store(ci + L, r[i][1]);
  }
}

// Calls f(std::integral_constant<int, rows>{}) for rows in 1..12 (beyond: 12).
template <typename F>
decltype(auto) with_rows(int rows, F&& f) {
  switch (rows) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    case 8: return f(std::integral_constant<int, 8>{});
    case 9: return f(std::integral_constant<int, 9>{});
    case 10: return f(std::integral_constant<int, 10>{});
    case 11: return f(std::integral_constant<int, 11>{});
    default: return f(std::integral_constant<int, 12>{});
  }
}

// Packed A and B: uk_avx512_f32 = uk_avx512_f32_first_rows<12>; with R < 12 a packed panel's first R rows only
// (MicroKernel::fn_part: A's panel stride stays 12), each row's result the full kernel's.
template <int R>
__attribute__((target("avx512f"))) void uk_avx512_f32_first_rows(int64_t kc, const float* a, const float* b, float* c,
                                                                 int64_t ldc, bool accumulate) {
  uk_avx512_body<float, R, AIn::kPanel, false, false>(kc, a, 0, b, 0, c, ldc, accumulate, nullptr, 0);
}
constexpr auto uk_avx512_f32 = uk_avx512_f32_first_rows<12>;
void uk_avx512_f32_part(int rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  with_rows(std::min(rows, 11),
            [&](auto r) { uk_avx512_f32_first_rows<decltype(r)::value>(kc, a, b, c, ldc, accumulate); });
}

// AVX2's partial panels (MicroKernel::fn_part): rows < 6 of a packed panel, without the FMAs of its zero rows and
// without the full kernel's detour through a buffer (docs/perf/cpu.md, session 35).
template <typename T, int R>
__attribute__((target("avx2,fma"))) void uk_avx2_first_rows(int64_t kc, const T* a, const T* b, T* c, int64_t ldc,
                                                            bool accumulate) {
  uk_avx2_body<T, false, R>(kc, a, 0, b, c, ldc, accumulate);
}
template <typename T>
void uk_avx2_part(int rows, int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  with_rows(std::min(rows, 5),
            [&](auto r) { uk_avx2_first_rows<T, decltype(r)::value>(kc, a, b, c, ldc, accumulate); });
}

// AVX2 with B read in place as the rows of a row-major matrix (columns j0..j0 + 15). (gemm_b_rows_f32.)
template <int R>
__attribute__((target("avx2,fma"))) void uk_avx2_f32_b_rows(int64_t kc, const float* a, const float* b, int64_t ldb,
                                                            float* c, int64_t ldc, bool accumulate) {
  uk_avx2_body<float, false, R, true>(kc, a, 0, b, c, ldc, accumulate, ldb);
}
void uk_avx2_f32_b_rows_part(int rows, int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                             bool accumulate) {
  with_rows(std::min(rows, 6),
            [&](auto r) { uk_avx2_f32_b_rows<decltype(r)::value>(kc, a, b, ldb, c, ldc, accumulate); });
}

// B read in place as the rows of a row-major matrix (columns j0..j0 + 31: step p at b + p * ldb). (gemm_b_rows_f32.)
template <int R>
__attribute__((target("avx512f"))) void uk_avx512_f32_b_rows(int64_t kc, const float* a, const float* b, int64_t ldb,
                                                             float* c, int64_t ldc, bool accumulate) {
  uk_avx512_body<float, R, AIn::kPanel, true, false>(kc, a, 0, b, ldb, c, ldc, accumulate, nullptr, 0);
}
void uk_avx512_f32_b_rows_part(int rows, int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                               bool accumulate) {
  with_rows(rows, [&](auto r) { uk_avx512_f32_b_rows<decltype(r)::value>(kc, a, b, ldb, c, ldc, accumulate); });
}

// A read in place as the columns of a row-major matrix (step p's R values at a + p * lda). (gemm_a_cols_f32.)
template <int R>
__attribute__((target("avx512f"))) void uk_avx512_f32_a_cols(int64_t kc, const float* a, int64_t lda, const float* b,
                                                             float* c, int64_t ldc, bool accumulate) {
  uk_avx512_body<float, R, AIn::kCols, false, false>(kc, a, lda, b, 0, c, ldc, accumulate, nullptr, 0);
}
void uk_avx512_f32_a_cols_part(int rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                               bool accumulate) {
  with_rows(rows, [&](auto r) { uk_avx512_f32_a_cols<decltype(r)::value>(kc, a, lda, b, c, ldc, accumulate); });
}

// A read in place from 12 rows of a row-major matrix (stride lda), with and without the prefetch (gemm_rows_a).
__attribute__((target("avx512f"))) void uk_avx512_f32_rows(int64_t kc, const float* a, int64_t lda, const float* b,
                                                           float* c, int64_t ldc, bool accumulate) {
  uk_avx512_body<float, 12, AIn::kRows, false, false>(kc, a, lda, b, 0, c, ldc, accumulate, nullptr, 0);
}
__attribute__((target("avx512f"))) void uk_avx512_f32_rows_pf(int64_t kc, const float* a, int64_t lda, const float* b,
                                                              float* c, int64_t ldc, bool accumulate, const float* pf,
                                                              int64_t pf_lines) {
  uk_avx512_body<float, 12, AIn::kRows, false, true>(kc, a, lda, b, 0, c, ldc, accumulate, pf, pf_lines);
}

// Packed A and B with the prefetch (macro_kernel_pf: the dcol GEMM's W', docs/perf/cpu.md session 17).
__attribute__((target("avx512f"))) void uk_avx512_f32_pf(int64_t kc, const float* a, const float* b, float* c,
                                                         int64_t ldc, bool accumulate, const float* pf,
                                                         int64_t pf_lines, const float* c_next, int64_t c_rows) {
  uk_avx512_body<float, 12, AIn::kPanel, false, true, true>(kc, a, 0, b, 0, c, ldc, accumulate, pf, pf_lines, c_next,
                                                            c_rows);
}

// The double kernels: packed (with and without the prefetch), and A's rows in place with and without the prefetch.
__attribute__((target("avx512f"))) void uk_avx512_f64(int64_t kc, const double* a, const double* b, double* c,
                                                      int64_t ldc, bool accumulate) {
  uk_avx512_body<double, 12, AIn::kPanel, false, false>(kc, a, 0, b, 0, c, ldc, accumulate, nullptr, 0);
}
__attribute__((target("avx512f"))) void uk_avx512_f64_pf(int64_t kc, const double* a, const double* b, double* c,
                                                         int64_t ldc, bool accumulate, const double* pf,
                                                         int64_t pf_lines, const double* c_next, int64_t c_rows) {
  uk_avx512_body<double, 12, AIn::kPanel, false, true, true>(kc, a, 0, b, 0, c, ldc, accumulate, pf, pf_lines, c_next,
                                                             c_rows);
}
__attribute__((target("avx512f"))) void uk_avx512_f64_rows(int64_t kc, const double* a, int64_t lda, const double* b,
                                                           double* c, int64_t ldc, bool accumulate) {
  uk_avx512_body<double, 12, AIn::kRows, false, false>(kc, a, lda, b, 0, c, ldc, accumulate, nullptr, 0);
}
__attribute__((target("avx512f"))) void uk_avx512_f64_rows_pf(int64_t kc, const double* a, int64_t lda, const double* b,
                                                              double* c, int64_t ldc, bool accumulate, const double* pf,
                                                              int64_t pf_lines) {
  uk_avx512_body<double, 12, AIn::kRows, false, true>(kc, a, lda, b, 0, c, ldc, accumulate, pf, pf_lines);
}
#endif

#if DCN_GEMM_NEON
// AArch64 NEON: 8 x 12 floats (24 accumulators + 3 B vectors + 2 A vectors of 32 q registers) or 6 x 8 doubles (24 +
// 4 + 3), one body (uk_neon_body) for both types and both ways of reading A, as uk_avx2_body: packed (step p's MR
// values at a + MR p, MR / L vector loads of L lanes, row i's value used through lane i % L of its vector: fmla by
// element, no broadcast) or MR rows of a row-major matrix (row i at a + i * lda; MicroKernel::fn_rows). With PF
// (MicroKernel::fn_rows_pf) meanwhile pf_lines 64-byte lines from pf are prefetched into L2 (prfm pldl2keep, the
// _MM_HINT_T1 of the AVX-512 kernels), one every 4 steps. Each accumulator takes the same fused multiply-adds (one
// rounding each) in the same order of p either way: the same results.
// NOTE [ NEON rows kernel's scalar loads ]
// Read in place, step p's A values lie in MR different rows: one load each, used through lane 0 (fmla by element). An
// empty asm on each value keeps it in a register, so that GCC emits `ldr s` / `ldr d` rather than folding the load
// into a replicating `ld1r` (which on Arm's cores, e.g. the Neoverse N1 guide's, takes a vector pipe besides the load
// pipe, beside the FMAs); the asm is volatile, which makes it a scheduling barrier for GCC, so that its first
// scheduling pass does not hoist all MR loads ahead of the FMAs: with them hoisted (GCC 12, -O3) 8 values + 3 B vectors
// + 24 accumulators outgrew the 32 registers and 3 accumulators lived on the stack (27 stack accesses in the float
// one-step loop; now none, the loop 3 B loads, 8 scalar loads and 24 FMAs). A x4 unroll over p with one vector load per
// row (lane s for step s) would keep 8 A vectors live: 35 registers as well.

// NOTE [ NEON float rows kernel by pairs of steps ]
// Read in place, the float kernel takes steps p and p + 1 together: each row's two values in one 8-byte load (`ldr d`,
// lanes 0 and 1), then its 3 FMAs of step p and its 3 FMAs of step p + 1, with both steps' B vectors (3 `ldp q`) held:
// 24 accumulators + 6 B vectors + 1-2 A pairs of the 32 registers (no spill, GCC 12). Each accumulator still takes
// step p's FMA before step p + 1's: the same results; an odd last step goes through the one-step loop. Per step that
// is 1.5 B loads + 4 A loads + 24 FMAs, against one step at a time's 3 + 8 + 24 and the packed kernel's 2 + 1 + 24
// (`ldp`): in instructions (the only proxy here, under qemu) the in-place kernel costs about what the packed one does.
// The prefetching form (fn_rows_pf) tests for its prefetch once a pair. Not for double: 24 accumulators + 8 B vectors.

// The NEON operations of uk_neon_body, overloaded by type (float32x4_t: 4 floats, float64x2_t: 2 doubles).
inline float32x4_t neon_dup(float x) { return vdupq_n_f32(x); }
inline float64x2_t neon_dup(double x) { return vdupq_n_f64(x); }
inline float32x4_t neon_load(const float* p) { return vld1q_f32(p); }
inline float64x2_t neon_load(const double* p) { return vld1q_f64(p); }
template <int kLane>
inline float32x4_t neon_fma_lane(float32x4_t acc, float32x4_t b, float32x4_t a) {
  return vfmaq_laneq_f32(acc, b, a, kLane);
}
template <int kLane>
inline float64x2_t neon_fma_lane(float64x2_t acc, float64x2_t b, float64x2_t a) {
  return vfmaq_laneq_f64(acc, b, a, kLane);
}
inline float32x4_t neon_fma_n(float32x4_t acc, float32x4_t b, float a) { return vfmaq_n_f32(acc, b, a); }
inline float64x2_t neon_fma_n(float64x2_t acc, float64x2_t b, double a) { return vfmaq_n_f64(acc, b, a); }
inline float32x4_t neon_add(float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }
inline float64x2_t neon_add(float64x2_t a, float64x2_t b) { return vaddq_f64(a, b); }
inline void neon_store(float* p, float32x4_t v) { vst1q_f32(p, v); }
inline void neon_store(double* p, float64x2_t v) { vst1q_f64(p, v); }

// f(std::integral_constant<int, i>{}) for i = 0 .. N - 1 in order (a lane index must be a constant).
template <typename F, int... I>
__attribute__((always_inline)) inline void for_each_index(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}

template <typename T, bool kRows, bool PF>
__attribute__((always_inline)) inline void uk_neon_body(int64_t kc, const T* a, int64_t lda, const T* b, T* c,
                                                        int64_t ldc, bool accumulate, const T* pf, int64_t pf_lines) {
  using V = decltype(neon_dup(T(0)));
  constexpr bool kF32 = sizeof(T) == 4;
  constexpr int MR = kF32 ? 8 : 6, NB = kF32 ? 3 : 4, L = kF32 ? 4 : 2;
  constexpr int64_t kLine = 64 / static_cast<int64_t>(sizeof(T));
  V r[MR][NB];
  const T* ar[MR];
  DCN_UNROLL_FULL
  for (int i = 0; i < MR; ++i) {
    DCN_UNROLL_FULL
    for (int j = 0; j < NB; ++j) r[i][j] = neon_dup(T(0));
    ar[i] = a + i * lda;
  }
  const T* pf_end = PF ? pf + pf_lines * kLine : nullptr;
  int64_t p = 0;
  if constexpr (kRows && kF32) {
    // NOTE [ NEON float rows kernel by pairs of steps ]
    for (; p + 2 <= kc; p += 2) {
      V b0[NB], b1[NB];
      DCN_UNROLL_FULL
      for (int j = 0; j < NB; ++j) b0[j] = neon_load(b + j * L), b1[j] = neon_load(b + (NB + j) * L);
      DCN_UNROLL_FULL
      for (int i = 0; i < MR; ++i) {
        float32x2_t ai = vld1_f32(ar[i] + p);
        asm volatile("" : "+w"(ai));  // NOTE [ NEON rows kernel's scalar loads ]
        DCN_UNROLL_FULL
        for (int j = 0; j < NB; ++j) r[i][j] = vfmaq_lane_f32(r[i][j], b0[j], ai, 0);
        DCN_UNROLL_FULL
        for (int j = 0; j < NB; ++j) r[i][j] = vfmaq_lane_f32(r[i][j], b1[j], ai, 1);
      }
      b += 2 * NB * L;
      if constexpr (PF) {
        if ((p & 3) == 2 && pf < pf_end) {  // step p + 1 = 3 (mod 4)
          __builtin_prefetch(pf, 0, 2);
          pf += kLine;
        }
      }
    }
  }
  for (; p < kc; ++p) {
    V bv[NB];
    [[maybe_unused]] V av[MR / L];
    DCN_UNROLL_FULL
    for (int j = 0; j < NB; ++j) bv[j] = neon_load(b + j * L);
    if constexpr (!kRows) {
      DCN_UNROLL_FULL
      for (int q = 0; q < MR / L; ++q) av[q] = neon_load(a + q * L);
    }
    for_each_index(
        [&](auto row) {
          constexpr int i = decltype(row)::value;
          if constexpr (kRows) {
            T ai = ar[i][p];
            asm volatile("" : "+w"(ai));  // NOTE [ NEON rows kernel's scalar loads ]
            DCN_UNROLL_FULL
            for (int j = 0; j < NB; ++j) r[i][j] = neon_fma_n(r[i][j], bv[j], ai);
          } else {
            DCN_UNROLL_FULL
            for (int j = 0; j < NB; ++j) r[i][j] = neon_fma_lane<i % L>(r[i][j], bv[j], av[i / L]);
          }
        },
        std::make_integer_sequence<int, MR>{});
    if constexpr (!kRows) a += MR;
    b += NB * L;
    if constexpr (PF) {
      if ((p & 3) == 3 && pf < pf_end) {
        __builtin_prefetch(pf, 0, 2);
        pf += kLine;
      }
    }
  }
  DCN_UNROLL_FULL
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    DCN_UNROLL_FULL
    for (int j = 0; j < NB; ++j) {
      if (accumulate) r[i][j] = neon_add(r[i][j], neon_load(ci + j * L));
      neon_store(ci + j * L, r[i][j]);
    }
  }
}

// Packed A and B; A read in place from MR rows of a row-major matrix (stride lda), with and without the prefetch.
template <typename T>
void uk_neon(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  uk_neon_body<T, false, false>(kc, a, 0, b, c, ldc, accumulate, nullptr, 0);
}
template <typename T>
void uk_neon_rows(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc, bool accumulate) {
  uk_neon_body<T, true, false>(kc, a, lda, b, c, ldc, accumulate, nullptr, 0);
}
template <typename T>
void uk_neon_rows_pf(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc, bool accumulate, const T* pf,
                     int64_t pf_lines) {
  uk_neon_body<T, true, true>(kc, a, lda, b, c, ldc, accumulate, pf, pf_lines);
}
#endif

const MicroKernel<float> kGenericF32{4, 8, uk_generic<float, 4, 8>, "generic", nullptr, nullptr, nullptr, nullptr};
const MicroKernel<double> kGenericF64{4, 4, uk_generic<double, 4, 4>, "generic", nullptr, nullptr, nullptr, nullptr};
#if DCN_GEMM_X86
const MicroKernel<float> kAvx2F32{6, 16, uk_avx2_f32, "avx2", uk_avx2_f32_rows, uk_avx2_part<float>, nullptr, nullptr};
const MicroKernel<double> kAvx2F64{6, 8, uk_avx2_f64, "avx2", uk_avx2_f64_rows, uk_avx2_part<double>, nullptr, nullptr};
const MicroKernel<float> kAvx512F32{
    12, 32, uk_avx512_f32, "avx512", uk_avx512_f32_rows, uk_avx512_f32_part, uk_avx512_f32_rows_pf, uk_avx512_f32_pf};
const MicroKernel<double> kAvx512F64{
    12, 16, uk_avx512_f64, "avx512", uk_avx512_f64_rows, nullptr, uk_avx512_f64_rows_pf, uk_avx512_f64_pf};
#endif
#if DCN_GEMM_NEON
const MicroKernel<float> kNeonF32{
    8, 12, uk_neon<float>, "neon", uk_neon_rows<float>, nullptr, uk_neon_rows_pf<float>, nullptr};
const MicroKernel<double> kNeonF64{
    6, 8, uk_neon<double>, "neon", uk_neon_rows<double>, nullptr, uk_neon_rows_pf<double>, nullptr};
#endif

bool cpu_has(GemmIsa isa) {
#if DCN_GEMM_X86
  __builtin_cpu_init();
  switch (isa) {
    case GemmIsa::kAvx512: return __builtin_cpu_supports("avx512f");
    case GemmIsa::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
  }
#elif DCN_GEMM_NEON
  return isa == GemmIsa::kGeneric || isa == GemmIsa::kAuto || isa == GemmIsa::kNeon;
#else
  return isa == GemmIsa::kGeneric || isa == GemmIsa::kAuto;
#endif
}

GemmIsa best_isa() {
  if (cpu_has(GemmIsa::kAvx512)) return GemmIsa::kAvx512;
  if (cpu_has(GemmIsa::kAvx2)) return GemmIsa::kAvx2;
#if DCN_GEMM_NEON
  return GemmIsa::kNeon;
#else
  return GemmIsa::kGeneric;
#endif
}

std::atomic<GemmIsa>& current_isa() {
  static std::atomic<GemmIsa> isa{best_isa()};
  return isa;
}

// Edge tiles run the full micro-kernel into this buffer, then copy the valid part.
constexpr int kMaxTile = 16 * 32;
// Bytes of a packed B block meant to stay in the L2 cache.
constexpr int64_t kL2Bytes = 512 * 1024;

}  // namespace

bool set_gemm_isa(GemmIsa isa) {
  if (isa == GemmIsa::kAuto) isa = best_isa();
  if (!cpu_has(isa)) return false;
  current_isa().store(isa);
  return true;
}

const char* gemm_isa_name() {
  switch (current_isa().load()) {
    case GemmIsa::kAvx512: return "avx512";
    case GemmIsa::kAvx2: return "avx2";
    case GemmIsa::kNeon: return "neon";
    default: return "generic";
  }
}

namespace {
// The kernels of an instruction set (those this build lacks: the portable ones).
template <typename T>
const MicroKernel<T>& kernels_of(GemmIsa isa);
template <>
const MicroKernel<float>& kernels_of<float>(GemmIsa isa) {
  switch (isa) {
#if DCN_GEMM_X86
    case GemmIsa::kAvx512: return kAvx512F32;
    case GemmIsa::kAvx2: return kAvx2F32;
#endif
#if DCN_GEMM_NEON
    case GemmIsa::kNeon: return kNeonF32;
#endif
    default: return kGenericF32;
  }
}
template <>
const MicroKernel<double>& kernels_of<double>(GemmIsa isa) {
  switch (isa) {
#if DCN_GEMM_X86
    case GemmIsa::kAvx512: return kAvx512F64;
    case GemmIsa::kAvx2: return kAvx2F64;
#endif
#if DCN_GEMM_NEON
    case GemmIsa::kNeon: return kNeonF64;
#endif
    default: return kGenericF64;
  }
}

std::atomic<bool>& rows_a_on() {
  static std::atomic<bool> on{true};
  return on;
}

// The kernels without fn_rows and fn_rows_pf (set_gemm_rows_a(false)).
template <typename T>
MicroKernel<T> packed_only(MicroKernel<T> uk) {
  uk.fn_rows = nullptr;
  uk.fn_rows_pf = nullptr;
  return uk;
}
}  // namespace

void set_gemm_rows_a(bool on) { rows_a_on().store(on); }
bool gemm_rows_a_enabled() { return rows_a_on().load(); }

template <typename T>
const MicroKernel<T>& micro_kernel() {
  const GemmIsa isa = current_isa().load();
  if (rows_a_on().load(std::memory_order_relaxed)) return kernels_of<T>(isa);
  static_assert(static_cast<int>(GemmIsa::kAuto) == 0 && static_cast<int>(GemmIsa::kGeneric) == 1 &&
                    static_cast<int>(GemmIsa::kAvx2) == 2 && static_cast<int>(GemmIsa::kAvx512) == 3 &&
                    static_cast<int>(GemmIsa::kNeon) == 4,
                "the table below is indexed by GemmIsa");
  static const MicroKernel<T> packed[] = {
      // in GemmIsa's order
      packed_only(kernels_of<T>(GemmIsa::kAuto)), packed_only(kernels_of<T>(GemmIsa::kGeneric)),
      packed_only(kernels_of<T>(GemmIsa::kAvx2)), packed_only(kernels_of<T>(GemmIsa::kAvx512)),
      packed_only(kernels_of<T>(GemmIsa::kNeon))};
  return packed[static_cast<int>(isa)];
}
template const MicroKernel<float>& micro_kernel<float>();
template const MicroKernel<double>& micro_kernel<double>();

#if DCN_GEMM_X86
// pack_a's panel from `rows` <= mr <= 16 contiguous rows of A (row stride rs): 16 columns at a time transposed in
// registers, each column's mr values (zeros beyond `rows`) one masked store; the last k % 16 columns one by one.
__attribute__((target("avx512f"))) void pack_a_panel_avx512(int64_t k, const float* a, int64_t rs, int64_t rows, int mr,
                                                            float* panel) {
  const __mmask16 mk = static_cast<__mmask16>((1u << mr) - 1u);
  __m512 r[16];
  int64_t p0 = 0;
  for (; p0 + 16 <= k; p0 += 16) {
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(a + i * rs + p0) : _mm512_setzero_ps();
    transpose16_avx512(r);
    for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(panel + (p0 + j) * mr, mk, r[j]);
  }
  for (; p0 < k; ++p0)
    for (int i = 0; i < mr; ++i) panel[p0 * mr + i] = i < rows ? a[i * rs + p0] : 0.0f;
}
#endif

#if DCN_GEMM_X86
// pack_a's panel from the columns of A (its `rows` <= mr <= 16 values of column p contiguous at a + p * cs): one masked
// load and store per column (zeros beyond `rows`). (The dcol GEMM's Y^T: ~0.4 % of r50-c4's forward + backward samples,
// ~0.17 ms a thread, in the scalar loop below; docs/perf/cpu.md, session 26.)
__attribute__((target("avx512f"))) void pack_a_panel_cols_avx512(int64_t k, const float* a, int64_t cs, int64_t rows,
                                                                 int mr, float* panel) {
  const __mmask16 mk = static_cast<__mmask16>((1u << mr) - 1u), mr_ = static_cast<__mmask16>((1u << rows) - 1u);
  for (int64_t p = 0; p < k; ++p) _mm512_mask_storeu_ps(panel + p * mr, mk, _mm512_maskz_loadu_ps(mr_, a + p * cs));
}
#endif

template <typename T>
void pack_a(int64_t m, int64_t k, const T* a, int64_t rs, int64_t cs, int mr, T* out) {
#if DCN_GEMM_X86
  if constexpr (std::is_same_v<T, float>) {
    if (cs == 1 && mr <= 16 && k >= 16 && current_isa().load(std::memory_order_relaxed) == GemmIsa::kAvx512) {
      for (int64_t i0 = 0; i0 < m; i0 += mr)
        pack_a_panel_avx512(k, a + i0 * rs, rs, std::min<int64_t>(mr, m - i0), mr, out + (i0 / mr) * k * mr);
      return;
    }
    if (rs == 1 && mr <= 16 && current_isa().load(std::memory_order_relaxed) == GemmIsa::kAvx512) {
      for (int64_t i0 = 0; i0 < m; i0 += mr)
        pack_a_panel_cols_avx512(k, a + i0, cs, std::min<int64_t>(mr, m - i0), mr, out + (i0 / mr) * k * mr);
      return;
    }
  }
#endif
  for (int64_t i0 = 0; i0 < m; i0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, m - i0);
    T* panel = out + (i0 / mr) * k * mr;
    if (cs == 1) {
      // Rows of A are contiguous: read along them, write with stride mr.
      for (int64_t i = 0; i < rows; ++i) {
        const T* src = a + (i0 + i) * rs;
        for (int64_t p = 0; p < k; ++p) panel[p * mr + i] = src[p];
      }
      for (int64_t i = rows; i < mr; ++i)
        for (int64_t p = 0; p < k; ++p) panel[p * mr + i] = T(0);
    } else {
      for (int64_t p = 0; p < k; ++p) {
        const T* src = a + p * cs + i0 * rs;
        T* dst = panel + p * mr;
        for (int64_t i = 0; i < rows; ++i) dst[i] = src[i * rs];
        for (int64_t i = rows; i < mr; ++i) dst[i] = T(0);
      }
    }
  }
}

template <typename T>
void pack_b(int64_t k, int64_t n, const T* b, int64_t rs, int64_t cs, int nr, T* out) {
  for (int64_t j0 = 0; j0 < n; j0 += nr) {
    const int64_t cols = std::min<int64_t>(nr, n - j0);
    T* panel = out + (j0 / nr) * k * nr;
    if (cs == 1) {
      for (int64_t p = 0; p < k; ++p) {
        const T* src = b + p * rs + j0;
        T* dst = panel + p * nr;
        std::memcpy(dst, src, sizeof(T) * cols);
        for (int64_t j = cols; j < nr; ++j) dst[j] = T(0);
      }
    } else {
      // Columns of B are contiguous (B is a transposed row-major matrix).
      for (int64_t j = 0; j < cols; ++j) {
        const T* src = b + (j0 + j) * cs;
        for (int64_t p = 0; p < k; ++p) panel[p * nr + j] = src[p * rs];
      }
      for (int64_t j = cols; j < nr; ++j)
        for (int64_t p = 0; p < k; ++p) panel[p * nr + j] = T(0);
    }
  }
}

namespace {
// macro_kernel, or with lda > 0 the same over A read in place by uk.fn_rows (A panel r = the mr rows
// starting at a + r * a_panel_stride, row stride lda). With lda > 0, the order kBPanelInL1 and prefetch_b
// (gemm_rows_a's), the full tiles run uk.fn_rows_pf: the calls on B panel s prefetch panel s + 1
// into L2, each call its share of the panel's lines, and those on the last panel the b_next_lines lines at
// b_next (the next reduction block's first panel; none where b_next is null).
// NOTE [ Next C tile prefetched by the kernel ]
// With prefetch_c the next C tile's lines (mr rows x nr values: 24 lines) were prefetched with write intent all at
// once before each micro-kernel call. In the backward's GEMMs (macro_kernel_pf: the dcol GEMM, the shared weight
// GEMM, whose C is grad_weight', 2.4-9.4 MB on r50, from L3 or memory) each call also prefetches its share of the
// next B panel, so the burst found the miss buffers full and stalled (~40 % of the tile loop's samples in a profile,
// docs/perf/cpu.md, session 21). Where the call is the packed kernel with the B prefetch (fn_pf) and the next tile
// has whole nr columns, the kernel itself now prefetches the next tile's rows, one every 8 of its kc steps; elsewhere
// the burst as before. Only when lines are prefetched changes: the same results.
template <typename T>
void macro_kernel_impl(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t kc, const T* a, int64_t a_panel_stride,
                       int64_t lda, const T* b, T* c, int64_t ldc, bool accumulate, MacroOrder order,
                       bool prefetch_c = false, bool prefetch_b = false, const T* b_next = nullptr,
                       int64_t b_next_lines = 0) {
  const int mr = uk.mr, nr = uk.nr;
  alignas(64) T tmp[kMaxTile];
  const bool a_outer = order == MacroOrder::kAPanelInL1;
  prefetch_b = prefetch_b && !a_outer && (lda > 0 ? uk.fn_rows_pf != nullptr : uk.fn_pf != nullptr);
  constexpr int64_t kLineElems = 64 / static_cast<int64_t>(sizeof(T));
  const int64_t m_panels = (m + mr - 1) / mr, panel_lines = (kc * nr + kLineElems - 1) / kLineElems;
  auto tile = [&](int64_t i0, int64_t j0) {
    const int64_t rows = std::min<int64_t>(mr, m - i0), cols = std::min<int64_t>(nr, n - j0);
    // With prefetch_c, the next C tile (in the loop order below): by the kernel where this tile's call is fn_pf
    // (NOTE [ Next C tile prefetched by the kernel ]), else here, all of its lines at once.
    const T* c_next = nullptr;
    int64_t c_rows = 0;
    if (prefetch_c) {
      const bool wrap = a_outer ? j0 + nr >= n : i0 + mr >= m;
      const int64_t pi = a_outer ? (wrap ? i0 + mr : i0) : (wrap ? 0 : i0 + mr);
      const int64_t pj = a_outer ? (wrap ? 0 : j0 + nr) : (wrap ? j0 + nr : j0);
      if (pi < m && pj < n) {
        constexpr int64_t kLine = 64 / static_cast<int64_t>(sizeof(T));
        const int64_t prows = std::min<int64_t>(mr, m - pi), pcols = std::min<int64_t>(nr, n - pj);
        if (prefetch_b && lda == 0 && rows == mr && cols == nr && pcols == nr && nr == 2 * kLine && prows <= kc / 8) {
          c_next = c + pi * ldc + pj;
          c_rows = prows;
        } else {
          for (int64_t r = 0; r < prows; ++r)
            for (int64_t e = 0; e < pcols; e += kLine) __builtin_prefetch(c + (pi + r) * ldc + pj + e, 1, 3);
        }
      }
    }
    const T* ap = a + (i0 / mr) * a_panel_stride;
    const T* bp = b + (j0 / nr) * kc * nr;
    T* cp = c + i0 * ldc + j0;
    if (rows == mr && cols == nr) {
      if (prefetch_b) {
        // This call's share of the next panel's lines, at most kc / 4 (the kernel prefetches one every 4 steps).
        const bool last = j0 + nr >= n;
        const T* next = last ? b_next : bp + kc * nr;
        const int64_t lines = last ? b_next_lines : panel_lines, r = i0 / mr;
        // Shared among the full row panels only where A is packed (a partial panel's call, fn_part, prefetches
        // nothing: its share was never fetched).
        const int64_t sp = lda == 0 && m >= mr ? m / mr : m_panels;
        const int64_t l0 = r * lines / sp, l1 = std::min((r + 1) * lines / sp, l0 + kc / 4);
        const T* pf = next ? next + l0 * kLineElems : nullptr;
        const int64_t pf_lines = next ? l1 - l0 : 0;
        if (lda > 0)
          uk.fn_rows_pf(kc, ap, lda, bp, cp, ldc, accumulate, pf, pf_lines);
        else
          uk.fn_pf(kc, ap, bp, cp, ldc, accumulate, pf, pf_lines, c_next, c_rows);
      } else if (lda > 0)
        uk.fn_rows(kc, ap, lda, bp, cp, ldc, accumulate);
      else
        uk.fn(kc, ap, bp, cp, ldc, accumulate);
    } else if (lda == 0 && cols == nr && uk.fn_part != nullptr) {
      uk.fn_part(static_cast<int>(rows), kc, ap, bp, cp, ldc, accumulate);  // the panel's last rows only
    } else {
      if (lda > 0)
        uk.fn_rows(kc, ap, lda, bp, tmp, nr, false);
      else
        uk.fn(kc, ap, bp, tmp, nr, false);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          cp[i * ldc + j] = accumulate ? cp[i * ldc + j] + tmp[i * nr + j] : tmp[i * nr + j];
    }
  };
  if (a_outer) {
    for (int64_t i0 = 0; i0 < m; i0 += mr)
      for (int64_t j0 = 0; j0 < n; j0 += nr) tile(i0, j0);
  } else {
    for (int64_t j0 = 0; j0 < n; j0 += nr)
      for (int64_t i0 = 0; i0 < m; i0 += mr) tile(i0, j0);
  }
}

// gemm, or with lda_rows > 0 gemm_rows_a (A read in place from a, row stride lda_rows).
template <typename T>
void gemm_impl(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
               const T* apacked, int64_t lda_rows, const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc,
               bool accumulate, const T* bpacked, bool prefetch_b = false) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  const int mr = uk.mr, nr = uk.nr;
  const int64_t kc_max = std::min<int64_t>(kGemmKc, k);
  // Blocking: a packed B block (kc x nc) stays in L2 while every mc-row block of A streams past it;
  // the kc x nr panel being used stays in L1. Tasks own column blocks of C, split further by rows
  // when there are fewer column blocks than threads (then B is packed once per split).
  const int64_t threads = get_num_threads();
  const int64_t mc = int64_t{mr} * (mr >= 12 ? 12 : 24);
  const int64_t nc_max = std::max<int64_t>(nr, (kL2Bytes / (kc_max * int64_t(sizeof(T)))) / nr * nr);
  int64_t nc = std::min<int64_t>(nc_max, (n + nr - 1) / nr * nr);
  if ((n + nc - 1) / nc < 2 * threads) {
    nc = std::max<int64_t>(4 * nr, ((n + 2 * threads - 1) / (2 * threads) + nr - 1) / nr * nr);
    nc = std::min(nc, nc_max);
  }
  const int64_t n_blocks = (n + nc - 1) / nc;
  const int64_t m_panels = (m + mr - 1) / mr;
  const int64_t m_splits = std::min<int64_t>(m_panels, std::max<int64_t>(1, (2 * threads + n_blocks - 1) / n_blocks));
  const int64_t split_panels = (m_panels + m_splits - 1) / m_splits;
  const int64_t n_tasks = n_blocks * m_splits;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_tasks));
  // Scratch per thread, allocated per call so nested or concurrent calls never share it.
  const int64_t a_buf = apacked || lda_rows > 0 ? 0 : mc * kc_max;
  const int64_t b_buf = bpacked ? 0 : nc * kc_max;
  const int64_t n_pad = (n + nr - 1) / nr * nr;
  Buffer<T> scratch(static_cast<size_t>((a_buf + b_buf) * std::max(n_threads, 1)));
  parallel_tasks(n_tasks, n_threads, [&](int64_t task, int tid) {
    const int64_t jb = task / m_splits, sb = task % m_splits;
    const int64_t j0 = jb * nc, ncur = std::min(nc, n - j0);
    const int64_t m_begin = sb * split_panels * mr, m_end = std::min(m, (sb + 1) * split_panels * mr);
    T* abuf = scratch.data() + static_cast<size_t>(tid) * (a_buf + b_buf);
    T* bbuf = abuf + a_buf;
    for (int64_t p0 = 0; p0 < k; p0 += kc_max) {
      const int64_t kc = std::min(kc_max, k - p0);
      const T* bp = bbuf;
      if (bpacked)
        bp = bpacked + p0 * n_pad + (j0 / nr) * kc * nr;
      else
        pack_b(kc, ncur, b + p0 * rsb + j0 * csb, rsb, csb, nr, bbuf);
      for (int64_t i0 = m_begin; i0 < m_end; i0 += mc) {
        const int64_t mcur = std::min(mc, m_end - i0);
        const T* ap;
        int64_t a_stride;
        if (lda_rows > 0) {
          ap = a + i0 * lda_rows + p0;
          a_stride = mr * lda_rows;
        } else if (apacked) {
          ap = apacked + (i0 / mr) * k * mr + p0 * mr;
          a_stride = k * mr;
        } else {
          pack_a(mcur, kc, a + i0 * rsa + p0 * csa, rsa, csa, mr, abuf);
          ap = abuf;
          a_stride = kc * mr;
        }
        // With prefetch_b (gemm_rows_a, bpacked): the B panels of this block in turn, after the last one the
        // next block's first panel of this task's columns.
        const int64_t kc_next = std::min(kc_max, k - p0 - kc);
        const bool pf = prefetch_b && lda_rows > 0 && bpacked != nullptr;
        const T* b_next = pf && kc_next > 0 ? bpacked + (p0 + kc) * n_pad + (j0 / nr) * kc_next * nr : nullptr;
        const int64_t b_next_lines = b_next ? (kc_next * nr * static_cast<int64_t>(sizeof(T)) + 63) / 64 : 0;
        macro_kernel_impl(uk, mcur, ncur, kc, ap, a_stride, lda_rows, bp, c + i0 * ldc + j0, ldc, accumulate || p0 > 0,
                          MacroOrder::kBPanelInL1, false, pf, b_next, b_next_lines);
      }
    }
  });
}
}  // namespace

template <typename T>
void macro_kernel(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t kc, const T* a, int64_t a_panel_stride,
                  const T* b, T* c, int64_t ldc, bool accumulate, MacroOrder order, bool prefetch_c) {
  macro_kernel_impl(uk, m, n, kc, a, a_panel_stride, int64_t{0}, b, c, ldc, accumulate, order, prefetch_c);
}

#if DCN_GEMM_X86
namespace {
// NOTE [ Backward GEMM loop without divisions ]
// macro_kernel_pf for the AVX-512 float kernels and n a multiple of 32 (the backward's dcol GEMM where it streams W'
// and its shared weight GEMM: r50-c4, r50-c5): macro_kernel_impl's loops and prefetches (order kBPanelInL1, the B panel
// shares, the next C tile by the kernel or in a burst), written out for this case. macro_kernel_impl's tile lambda
// worked out each call's share of the next B panel with two 64-bit divisions by the panel count and its panel
// pointers with divisions by mr and nr (~1.2 % of r50-c4's backward samples in the lambda, ~55 cycles a call); here
// the shares are stepped per panel, l1 = l0 + q (+ 1 where the remainder carries), the same lines as
// [r * lines / full, (r + 1) * lines / full). The same calls on the same panels: bit-identical. Measured with
// pack_a_panel_cols_avx512 (docs/perf/cpu.md, session 26): r50-c4's and r50-c5's backward tiles -0.1 to -1.4 ms at 2
// threads (5 of 5 rounds each), forward + backward 0.98-0.99x in the bench.
void macro_kernel_pf_avx512_f32(int64_t m, int64_t n, int64_t kc, const float* a, int64_t a_panel_stride,
                                const float* b, float* c, int64_t ldc, bool accumulate, const float* b_next,
                                int64_t b_next_lines) {
  constexpr int64_t mr = 12, nr = 32, kLine = 16;
  const int64_t full = m / mr, rest = m - full * mr;
  const int64_t panel_lines = kc * nr / kLine, sp = std::max<int64_t>(full, 1);
  for (int64_t j0 = 0; j0 < n; j0 += nr) {
    const float* bp = b + j0 * kc;
    const bool last = j0 + nr >= n;
    // The calls on this panel prefetch the next one (those on the last panel the caller's next B lines), full row
    // panel r taking its share, at most kc / 4 lines; the partial panel prefetches none.
    const float* next = last ? b_next : bp + kc * nr;
    const int64_t lines = next ? (last ? b_next_lines : panel_lines) : 0;
    const int64_t q = lines / sp, rm = lines - q * sp;
    int64_t l0 = 0, carry = 0;
    const float* ap = a;
    for (int64_t i0 = 0; i0 < m; i0 += mr, ap += a_panel_stride) {
      // The next C tile in this order (the next row panel, else the next B panel's first): by the kernel, one row
      // every 8 steps, where this tile is full and the next one has at most kc / 8 rows; else all of its lines here.
      const bool wrap = i0 + mr >= m;
      const int64_t pi = wrap ? 0 : i0 + mr, pj = wrap ? j0 + nr : j0;
      const int64_t prows = pj < n ? std::min(mr, m - pi) : 0;
      float* cp = c + i0 * ldc + j0;
      const bool whole = i0 + mr <= m;
      const float* c_next = nullptr;
      int64_t c_rows = 0;
      if (whole && prows > 0 && prows <= kc / 8) {
        c_next = c + pi * ldc + pj;
        c_rows = prows;
      } else {
        for (int64_t i = 0; i < prows; ++i)
          for (int64_t e = 0; e < nr; e += kLine) __builtin_prefetch(c + (pi + i) * ldc + pj + e, 1, 3);
      }
      if (!whole) {
        uk_avx512_f32_part(static_cast<int>(rest), kc, ap, bp, cp, ldc, accumulate);  // the panel's last rows only
        continue;
      }
      int64_t l1 = l0 + q;
      carry += rm;
      if (carry >= sp) {
        carry -= sp;
        ++l1;
      }
      uk_avx512_f32_pf(kc, ap, bp, cp, ldc, accumulate, next ? next + l0 * kLine : nullptr,
                       std::min(l1, l0 + kc / 4) - l0, c_next, c_rows);
      l0 = l1;
    }
  }
}
}  // namespace
#endif

template <typename T>
void macro_kernel_pf(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t kc, const T* a, int64_t a_panel_stride,
                     const T* b, T* c, int64_t ldc, bool accumulate, const T* b_next, int64_t b_next_lines) {
#if DCN_GEMM_X86
  if constexpr (std::is_same_v<T, float>) {
    if (uk.fn_pf == uk_avx512_f32_pf && n % 32 == 0 && kc > 0) {
      macro_kernel_pf_avx512_f32(m, n, kc, a, a_panel_stride, b, c, ldc, accumulate, b_next, b_next_lines);
      return;
    }
  }
#endif
  macro_kernel_impl(uk, m, n, kc, a, a_panel_stride, int64_t{0}, b, c, ldc, accumulate, MacroOrder::kBPanelInL1,
                    /*prefetch_c=*/true, /*prefetch_b=*/true, b_next, b_next_lines);
}

bool gemm_a_cols_f32(int64_t m, int64_t n, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                     int64_t ldc, bool accumulate) {
#if DCN_GEMM_X86
  if (current_isa().load() != GemmIsa::kAvx512 || n % 32 != 0) return false;
  // B panel by B panel (kc x 32 packed, in L1 while A's columns stream past it), as macro_kernel's kBPanelInL1,
  // the next C tile prefetched as its prefetch_c does.
  for (int64_t j0 = 0; j0 < n; j0 += 32) {
    const float* bp = b + (j0 / 32) * kc * 32;
    for (int64_t i0 = 0; i0 < m; i0 += 12) {
      const bool wrap = i0 + 12 >= m;
      const int64_t pi = wrap ? 0 : i0 + 12, pj = wrap ? j0 + 32 : j0;
      if (pj < n)
        for (int64_t r = 0; r < std::min<int64_t>(12, m - pi); ++r) {
          __builtin_prefetch(c + (pi + r) * ldc + pj, 1, 3);
          __builtin_prefetch(c + (pi + r) * ldc + pj + 16, 1, 3);
        }
      uk_avx512_f32_a_cols_part(static_cast<int>(std::min<int64_t>(12, m - i0)), kc, a + i0, lda, bp, c + i0 * ldc + j0,
                                ldc, accumulate);
    }
  }
  return true;
#else
  (void)m, (void)n, (void)kc, (void)a, (void)lda, (void)b, (void)c, (void)ldc, (void)accumulate;
  return false;
#endif
}

#if DCN_GEMM_X86
// gemm_b_rows_f32's loops for a kernel of MR x NR: A panel by A panel (the panel, MR x kc, stays in L1 while B's rows
// stream past it), the next C tile prefetched as macro_kernel's prefetch_c does (NR / 16 lines a row).
template <int MR, int NR, typename Part>
void b_rows_loops(int64_t m, int64_t n, int64_t kc, const float* a, int64_t a_panel_stride, const float* b, int64_t ldb,
                  float* c, int64_t ldc, bool accumulate, Part part) {
  for (int64_t i0 = 0; i0 < m; i0 += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, m - i0));
    const float* ap = a + (i0 / MR) * a_panel_stride;
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
      const bool wrap = j0 + NR >= n;
      const int64_t pi = wrap ? i0 + MR : i0, pj = wrap ? 0 : j0 + NR;
      if (pi < m)
        for (int64_t r = 0; r < std::min<int64_t>(MR, m - pi); ++r)
          for (int l = 0; l < NR; l += 16) __builtin_prefetch(c + (pi + r) * ldc + pj + l, 1, 3);
      part(rows, kc, ap, b + j0, ldb, c + i0 * ldc + j0, ldc, accumulate);
    }
  }
}
#endif

bool gemm_b_rows_f32(int64_t m, int64_t n, int64_t kc, const float* a, int64_t a_panel_stride, const float* b,
                     int64_t ldb, float* c, int64_t ldc, bool accumulate) {
#if DCN_GEMM_X86
  const GemmIsa isa = current_isa().load();
  if (isa == GemmIsa::kAvx2 && n % 16 == 0) {
    b_rows_loops<6, 16>(m, n, kc, a, a_panel_stride, b, ldb, c, ldc, accumulate, uk_avx2_f32_b_rows_part);
    return true;
  }
  if (isa != GemmIsa::kAvx512 || n % 32 != 0) return false;
  b_rows_loops<12, 32>(m, n, kc, a, a_panel_stride, b, ldb, c, ldc, accumulate, uk_avx512_f32_b_rows_part);
  return true;
#else
  (void)m, (void)n, (void)kc, (void)a, (void)a_panel_stride, (void)b, (void)ldb, (void)c, (void)ldc, (void)accumulate;
  return false;
#endif
}

template <typename T>
void gemm(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
          const T* apacked, const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc, bool accumulate,
          const T* bpacked) {
  gemm_impl(uk, m, n, k, a, rsa, csa, apacked, int64_t{0}, b, rsb, csb, c, ldc, accumulate, bpacked);
}

template <typename T>
void gemm_rows_a(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* bpacked,
                 T* c, int64_t ldc, bool accumulate, bool prefetch_b) {
  gemm_impl(uk, m, n, k, a, lda, int64_t{1}, static_cast<const T*>(nullptr), lda, static_cast<const T*>(nullptr),
            int64_t{0}, int64_t{0}, c, ldc, accumulate, bpacked, prefetch_b);
}

template <typename T>
void pack_b_blocks(int64_t k, int64_t n, const T* b, int64_t rs, int64_t cs, int nr, T* out) {
  const int64_t kc_max = std::min<int64_t>(kGemmKc, k);
  const int64_t n_pad = (n + nr - 1) / nr * nr;
  const int64_t n_blocks = (k + kc_max - 1) / std::max<int64_t>(1, kc_max);
  parallel_for(0, n_blocks, 1, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      const int64_t p0 = blk * kc_max, kc = std::min(kc_max, k - p0);
      pack_b(kc, n, b + p0 * rs, rs, cs, nr, out + p0 * n_pad);
    }
  });
}

#define DCN_INSTANTIATE_GEMM(T)                                                                                       \
  template void pack_a<T>(int64_t, int64_t, const T*, int64_t, int64_t, int, T*);                                     \
  template void pack_b<T>(int64_t, int64_t, const T*, int64_t, int64_t, int, T*);                                     \
  template void macro_kernel<T>(const MicroKernel<T>&, int64_t, int64_t, int64_t, const T*, int64_t, const T*, T*,    \
                                int64_t, bool, MacroOrder, bool);                                                     \
  template void macro_kernel_pf<T>(const MicroKernel<T>&, int64_t, int64_t, int64_t, const T*, int64_t, const T*, T*, \
                                   int64_t, bool, const T*, int64_t);                                                 \
  template void gemm<T>(const MicroKernel<T>&, int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const T*,       \
                        const T*, int64_t, int64_t, T*, int64_t, bool, const T*);                                     \
  template void gemm_rows_a<T>(const MicroKernel<T>&, int64_t, int64_t, int64_t, const T*, int64_t, const T*, T*,     \
                               int64_t, bool, bool);                                                                  \
  template void pack_b_blocks<T>(int64_t, int64_t, const T*, int64_t, int64_t, int, T*);
DCN_INSTANTIATE_GEMM(float)
DCN_INSTANTIATE_GEMM(double)

}  // namespace dcn::cpu
