// SPDX-License-Identifier: MIT
// The kernels behind gemm.h, and the launcher that picks one. Included by one explicit-instantiation
// file per input dtype (gemm_{f32,f64,f16,bf16}.cu), so nvcc builds them in parallel.
//
// Two kernels share the blocking scheme (one 2-D output tile per block, blocks along M fastest so that
// neighbouring blocks share the B panel in L2) and the operand loaders:
// - gemm_simt_kernel: CUDA cores, in the accumulator type (float64 for float64; float32 for the rest).
//   128 x 128 x 8 tiles (64 x 64 x 8 for float64), 256 threads of 8 x 8 (4 x 4) results, two shared
//   buffers with register prefetch: one barrier per K step.
// - gemm_mma_kernel: tensor cores through mma.sync (sm_80+ PTX, runs on Hopper): 128 x 128 x 32 tiles,
//   8 warps of 64 x 32, float32 accumulators; TF32 (optionally split 3x for float32 accuracy), FP16 and
//   BF16 operands, register-staged with one K step of prefetch. 16-bit operands are loaded as 16-byte
//   vectors along their contiguous index when the strides and bases allow (VecLoader, vector_ok), else
//   element by element (Loader).
// Two more keep the operands out of registers, global -> shared by cp.async through a ring of K steps:
// gemm_mma_async_kernel (float32 inputs, TF32 / 3xTF32) and gemm_mma16_async_kernel (16-bit inputs where
// VecLoader applies; NOTE [ 16-bit GEMM pipeline ]); the float32 one with 128 x 256 tiles when they fill
// the device. On compute capability 9.0 the 16-bit products where VecLoader applies run on
// gemm_wgmma16_kernel (gemm_wgmma.cuh, NOTE [ Hopper warpgroup GEMM ]) instead.
// Each operand is laid out in shared memory the way it is contiguous in global memory (A as [m][k] when
// k is contiguous, else [k][m]; likewise B), so the global loads are coalesced and the stores to shared
// memory conflict-free; the paddings keep the fragment reads conflict-free in either layout.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/settings.h"
#include "cuda_runtime/stream.h"
#include "gemm/cuda/gemm.h"

namespace dcn::cuda {
namespace gemm_detail {

constexpr int kThreads = 256;

// Per-block view of a GemmDesc: the batch entry and K piece of this block applied.
template <typename TIn, typename TOut>
struct Tile {
  const TIn* A;
  const TIn* B;
  TOut* C;
  const TIn* bias;
  int64_t M, N, k_begin, k_end, m0, n0, c_sm, c_sn;
  bool accumulate;

  __device__ __forceinline__ Tile(const GemmDesc& d, int bm, int bn, int bk) {
    const int64_t tiles_m = (d.M + bm - 1) / bm;
    const int64_t t = blockIdx.x;
    m0 = (t % tiles_m) * bm;
    n0 = (t / tiles_m) * bn;
    const int64_t z = blockIdx.y;
    const int64_t z1 = z / d.b2.count, z2 = z % d.b2.count;
    const int split = blockIdx.z;
    A = static_cast<const TIn*>(d.A) + z1 * d.b1.a + z2 * d.b2.a;
    B = static_cast<const TIn*>(d.B) + z1 * d.b1.b + z2 * d.b2.b;
    C = static_cast<TOut*>(d.C) + z1 * d.b1.c + z2 * d.b2.c + split * d.c_split;
    bias =
        (d.bias != nullptr && split == 0) ? static_cast<const TIn*>(d.bias) + z1 * d.b1.bias + z2 * d.b2.bias : nullptr;
    M = d.M;
    N = d.N;
    // Pieces of whole K tiles.
    const int64_t tiles_k = (d.K + bk - 1) / bk;
    const int64_t per = (tiles_k + d.splits - 1) / d.splits;
    k_begin = min(d.K, split * per * bk);
    k_end = min(d.K, k_begin + per * bk);
    c_sm = d.c_sm;
    c_sn = d.c_sn;
    accumulate = d.accumulate;
  }

  // Element (m, n) of the result: C = acc + bias [+ C].
  template <typename Acc>
  __device__ __forceinline__ void store(int64_t m, int64_t n, Acc v) const {
    if (m >= M || n >= N) return;
    TOut* c = C + m * c_sm + n * c_sn;
    if (bias != nullptr) v += convert<Acc>(bias[m]);
    if (accumulate) v += convert<Acc>(*c);
    *c = convert<TOut>(v);
  }
};

// One operand's share of a tile: R rows (m of A, n of B) by BK steps of K, E elements per thread.
// Element (r, k) is at P[r * s_r + k * s_k] (with KFOLD: P[r * s_r + (k / kfold) * s_kf + (k % kfold)],
// which requires k contiguous). When k is contiguous (KC) a thread keeps one k and walks rows
// r_t + i * (threads / BK); otherwise it keeps one row and walks k_t + i * (threads / R). Either way its
// addresses are one base pointer plus i times a constant, and neighbouring threads read neighbouring
// addresses.
template <typename TIn, int R, int BK, int E, bool KC, bool KFOLD>
struct Loader {
  static_assert(!KFOLD || KC, "a folded K needs k contiguous");
  static constexpr int kRowStep = kThreads / BK;  // KC: rows between a thread's elements
  static constexpr int kKStep = kThreads / R;     // !KC: k between a thread's elements
  const TIn* ptr;                                 // element (r_t, k = 0)
  int64_t step;                                   // KC: address step between a thread's elements (kRowStep rows)
  int64_t s_k, s_kf, kfold;
  int r_t, k_t, r_lim;

  __device__ __forceinline__ Loader(const TIn* base, int64_t r0, int64_t rows, int64_t s_r, int64_t s_k_, int64_t s_kf_,
                                    int64_t kfold_) {
    const int tid = threadIdx.x;
    if constexpr (KC) {
      k_t = tid % BK;
      r_t = tid / BK;
    } else {
      r_t = tid % R;
      k_t = tid / R;
    }
    ptr = base + (r0 + r_t) * s_r;
    step = static_cast<int64_t>(kRowStep) * s_r;
    s_k = s_k_;
    s_kf = s_kf_;
    kfold = kfold_;
    r_lim = static_cast<int>(rows - r0 < R ? rows - r0 : R);  // rows of this tile that exist
  }
  // Tile coordinates of element i.
  __device__ __forceinline__ int row(int i) const { return KC ? r_t + i * kRowStep : r_t; }
  __device__ __forceinline__ int col(int i) const { return KC ? k_t : k_t + i * kKStep; }

  template <typename S>
  __device__ __forceinline__ void load(int64_t k0, int64_t k_end, S (&v)[E]) const {
    if constexpr (KC) {
      const int64_t k = k0 + k_t;
      const bool k_ok = k < k_end;
      int64_t koff;
      if constexpr (KFOLD)
        koff = (k / kfold) * s_kf + (k % kfold);
      else
        koff = k * s_k;
#pragma unroll
      for (int i = 0; i < E; ++i) {
        v[i] = (k_ok && r_t + i * kRowStep < r_lim) ? convert<S>(ptr[i * step + koff]) : convert<S>(0.0f);
      }
    } else {
      const bool r_ok = r_t < r_lim;
#pragma unroll
      for (int i = 0; i < E; ++i) {
        const int64_t k = k0 + k_t + i * kKStep;
        v[i] = (r_ok && k < k_end) ? convert<S>(ptr[k * s_k]) : convert<S>(0.0f);
      }
    }
  }
};

// The 16-bit twin of Loader in 16-byte vectors: 8 consecutive elements along the operand's contiguous
// index (k when KC, the row otherwise) per load, so a thread issues E / 8 loads instead of E. Used when
// that index has stride 1 and the other strides, the base and the batch offsets are multiples of 8
// elements (vector_ok()); a vector that crosses the end of the rows or of K is read element by element
// with zeros beyond. The shared tile receives the same elements as from Loader (measured: the scalar
// loads were ~40% of the instructions of gemm_mma_kernel, docs/cuda.md run 11).
template <typename TIn, int R, int BK, bool KC, bool KFOLD>
struct VecLoader {
  static_assert(sizeof(TIn) == 2 || sizeof(TIn) == 4, "16- or 32-bit elements (32-bit: src() only)");
  static_assert(!KFOLD || KC, "a folded K needs k contiguous");
  static constexpr int kV = 16 / static_cast<int>(sizeof(TIn));  // elements per vector
  static constexpr int kVecs = R * BK / kV / kThreads;           // vectors per thread and K step
  static constexpr int kRowStep = kThreads / (BK / kV);          // KC: rows between a thread's vectors
  static constexpr int kKStep = kThreads / (R / kV);             // !KC: k between a thread's vectors
  static_assert(kVecs >= 1 && (R * BK) % (kV * kThreads) == 0, "whole vectors per thread");
  const TIn* ptr;  // KC: element (r_t, k = 0); !KC: element (r_t, k = 0), r_t .. r_t + 7 contiguous
  int64_t step, s_k, s_kf, kfold;
  int r_t, k_t, r_lim;

  __device__ __forceinline__ VecLoader(const TIn* base, int64_t r0, int64_t rows, int64_t s_r, int64_t s_k_,
                                       int64_t s_kf_, int64_t kfold_) {
    const int tid = threadIdx.x;
    if constexpr (KC) {
      k_t = (tid % (BK / kV)) * kV;
      r_t = tid / (BK / kV);
    } else {
      r_t = (tid % (R / kV)) * kV;
      k_t = tid / (R / kV);
    }
    ptr = base + (r0 + r_t) * s_r;
    step = static_cast<int64_t>(kRowStep) * s_r;
    s_k = s_k_;
    s_kf = s_kf_;
    kfold = kfold_;
    r_lim = static_cast<int>(rows - r0 < R ? rows - r0 : R);
  }
  // Tile coordinates of the first element of vector i.
  __device__ __forceinline__ int row(int i) const { return KC ? r_t + i * kRowStep : r_t; }
  __device__ __forceinline__ int col(int i) const { return KC ? k_t : k_t + i * kKStep; }

  __device__ __forceinline__ void load(int64_t k0, int64_t k_end, uint4 (&v)[kVecs]) const {
    static_assert(sizeof(TIn) == 2, "register-staged vectors: 16-bit elements");
    if constexpr (KC) {
      const int64_t k = k0 + k_t;
      int64_t koff;  // a vector never crosses a fold (kfold % 8 == 0, k % 8 == 0)
      if constexpr (KFOLD)
        koff = (k / kfold) * s_kf + (k % kfold);
      else
        koff = k;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        const bool r_ok = r_t + i * kRowStep < r_lim;
        const TIn* p = ptr + i * step + koff;
        if (r_ok && k + kV <= k_end) {
          v[i] = *reinterpret_cast<const uint4*>(p);
        } else {
          uint16_t e[kV];
#pragma unroll
          for (int j = 0; j < kV; ++j) e[j] = (r_ok && k + j < k_end) ? reinterpret_cast<const uint16_t*>(p)[j] : 0;
          v[i] = pack8(e);
        }
      }
    } else {
      const bool full = r_t + kV <= r_lim;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        const int64_t k = k0 + k_t + i * kKStep;
        const TIn* p = ptr + k * s_k;
        if (full && k < k_end) {
          v[i] = *reinterpret_cast<const uint4*>(p);
        } else {
          uint16_t e[kV];
#pragma unroll
          for (int j = 0; j < kV; ++j)
            e[j] = (k < k_end && r_t + j < r_lim) ? reinterpret_cast<const uint16_t*>(p)[j] : 0;
          v[i] = pack8(e);
        }
      }
    }
  }
  // For a cp.async of vector i of the K step at k0 (gemm_mma16_async_kernel): its first element and the
  // number of bytes to read, the elements that exist (a prefix of the vector: it runs along the
  // contiguous index); the copy zero-fills the rest of the 16 bytes. 0 bytes: nothing is read.
  __device__ __forceinline__ const TIn* src(int64_t k0, int64_t k_end, int i, int& bytes) const {
    if constexpr (KC) {
      const int64_t k = k0 + k_t;
      int64_t koff;
      if constexpr (KFOLD)
        koff = (k / kfold) * s_kf + (k % kfold);
      else
        koff = k;
      const int64_t left = k_end - k;
      const int n = (r_t + i * kRowStep < r_lim && left > 0) ? static_cast<int>(left < kV ? left : kV) : 0;
      bytes = n * static_cast<int>(sizeof(TIn));
      return ptr + i * step + koff;
    } else {
      const int64_t k = k0 + k_t + i * kKStep;
      const int rows = r_lim - r_t;
      const int n = (k < k_end && rows > 0) ? (rows < kV ? rows : kV) : 0;
      bytes = n * static_cast<int>(sizeof(TIn));
      return ptr + k * s_k;
    }
  }
  __device__ __forceinline__ static uint4 pack8(const uint16_t (&e)[kV]) {
    return make_uint4(e[0] | (uint32_t{e[1]} << 16), e[2] | (uint32_t{e[3]} << 16), e[4] | (uint32_t{e[5]} << 16),
                      e[6] | (uint32_t{e[7]} << 16));
  }
};

// Whether VecLoader can read both operands of d: the contiguous index of each operand has stride 1, and
// every other stride, the bases and the batch offsets are multiples of `vec` elements (16 bytes: 8 16-bit
// or 4 32-bit elements), so no vector crosses a row, a fold or a 16-byte boundary.
inline bool vector_ok(const GemmDesc& d, bool akc, bool bnc, int64_t vec = 8) {
  const auto m8 = [vec](int64_t x) { return x % vec == 0; };
  const auto al = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  if (!al(d.A) || !al(d.B)) return false;
  if (!m8(d.b1.a) || !m8(d.b2.a) || !m8(d.b1.b) || !m8(d.b2.b)) return false;
  if (d.kfold > 0 && (!m8(d.kfold) || !m8(d.a_kf) || !m8(d.b_kf))) return false;
  // A: k contiguous (rows a_sm apart) or m contiguous (k steps a_sk apart).
  const bool a_ok = akc ? m8(d.a_sm) : (d.a_sm == 1 && m8(d.a_sk));
  // B: n contiguous (k steps b_sk apart) or k contiguous (columns b_sn apart).
  const bool b_ok = bnc ? m8(d.b_sk) : (d.b_sk == 1 && m8(d.b_sn));
  return a_ok && b_ok;
}

// ---------------------------------------------------------------------------------------------------
// CUDA-core kernel

template <typename Acc>
struct SimtConfig;
template <>
struct SimtConfig<float> {
  static constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
};
template <>
struct SimtConfig<double> {
  static constexpr int BM = 64, BN = 64, BK = 8, TM = 4, TN = 4;
};

__device__ __forceinline__ void load4(const float* p, float* out) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = v.x;
  out[1] = v.y;
  out[2] = v.z;
  out[3] = v.w;
}
__device__ __forceinline__ void load4(const double* p, double* out) {
  const double2 v0 = *reinterpret_cast<const double2*>(p);
  const double2 v1 = *reinterpret_cast<const double2*>(p + 2);
  out[0] = v0.x;
  out[1] = v0.y;
  out[2] = v1.x;
  out[3] = v1.y;
}

template <typename TIn, typename TOut, bool AKC, bool BNC, bool KFOLD>
__global__ void __launch_bounds__(kThreads) gemm_simt_kernel(const GemmDesc d) {
  using Acc = acc_type<TIn>;
  using Cfg = SimtConfig<Acc>;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  constexpr int TX = BN / TN;              // threads along n
  constexpr int RM = TM / 4, RN = TN / 4;  // 4-wide row / column groups per thread
  constexpr int EA = BM * BK / kThreads;   // A elements loaded per thread and K step
  constexpr int EB = BN * BK / kThreads;
  constexpr int PAD = 4;  // keeps 16-byte alignment and spreads banks
  static_assert((BM / TM) * (BN / TN) == kThreads, "one result block per thread");
  __shared__ __align__(16) Acc As[2][BK][BM + PAD];
  __shared__ __align__(16) Acc Bs[2][BK][BN + PAD];

  const Tile<TIn, TOut> t(d, BM, BN, BK);
  const int tid = threadIdx.x;
  const int tx = tid % TX, ty = tid / TX;
  const Loader<TIn, BM, BK, EA, AKC, KFOLD> la(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold);
  const Loader<TIn, BN, BK, EB, !BNC, KFOLD> lb(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold);
  Acc ra[EA], rb[EB];
  auto load = [&](int64_t k0) {
    la.load(k0, t.k_end, ra);
    lb.load(k0, t.k_end, rb);
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < EA; ++i) As[buf][la.col(i)][la.row(i)] = ra[i];
#pragma unroll
    for (int i = 0; i < EB; ++i) Bs[buf][lb.col(i)][lb.row(i)] = rb[i];
  };

  Acc acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0;

  if (t.k_begin < t.k_end) {
    load(t.k_begin);
    stash(0);
    __syncthreads();
    int buf = 0;
    for (int64_t k0 = t.k_begin; k0 < t.k_end; k0 += BK) {
      const bool next = k0 + BK < t.k_end;
      if (next) load(k0 + BK);  // in flight during the products below
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        Acc a[TM], b[TN];
        // Row group r covers rows r * (BM / RM) + ty * 4 + [0, 4): 16-byte reads, broadcast in a warp.
#pragma unroll
        for (int r = 0; r < RM; ++r) load4(&As[buf][kk][r * (BM / RM) + ty * 4], a + 4 * r);
#pragma unroll
        for (int r = 0; r < RN; ++r) load4(&Bs[buf][kk][r * (BN / RN) + tx * 4], b + 4 * r);
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
      }
      // The other buffer was last read before the previous barrier: safe to overwrite.
      if (next) stash(buf ^ 1);
      __syncthreads();
      buf ^= 1;
    }
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t m = t.m0 + (i / 4) * (BM / RM) + ty * 4 + (i % 4);
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t n = t.n0 + (j / 4) * (BN / RN) + tx * 4 + (j % 4);
      t.store(m, n, acc[i][j]);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Tensor-core kernel

enum class MmaKind { kTf32, kTf32x3, kF16, kBf16 };

__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ void mma_tf32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_f16(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Four 8 x 8 matrices of 16-bit elements from shared memory, transposed: lane l gives the address of
// row l % 8 of matrix l / 8 (8 contiguous elements, 16-byte aligned); register j of lane l receives
// elements (rows 2 * (l % 4) and 2 * (l % 4) + 1, column l / 4) of matrix j, the lower row in the low half.
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
}

// The same without .trans: register j of lane l receives elements (row l / 4, columns 2 * (l % 4) and
// 2 * (l % 4) + 1) of matrix j, the lower column in the low half.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) {
  const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
}

// Shared tile of one operand, rows x cols stored row-major with padding; `kInner` tells whether its
// second index is K (then 16-bit pairs along K are one 32-bit word).
template <typename S, int ROWS, int COLS, int PAD>
struct SmemTile {
  S v[ROWS][COLS + PAD];
};

template <typename TIn, typename TOut, MmaKind KIND, int BM, bool AKC, bool BNC, bool KFOLD, bool VEC = false>
__global__ void __launch_bounds__(kThreads) gemm_mma_kernel(const GemmDesc d) {
  constexpr int BN = 128, BK = 32;
  constexpr bool kHalf = KIND == MmaKind::kF16 || KIND == MmaKind::kBf16;
  constexpr int KSTEP = kHalf ? 16 : 8;
  constexpr int MI = BM / 32, NI = 4;  // m16 and n8 tiles per warp (warp tile BM/2 x 32)
  using S = TIn;                       // shared-memory element: float, __half or __nv_bfloat16
  // Paddings (in elements): rows along K of 32 + 4 floats / 32 + 8 halves; rows along M/N of 128 + 8.
  constexpr int PADK = kHalf ? 8 : 4;
  constexpr int PADMN = 8;
  // A as [m][k] when k is contiguous in global memory, else [k][m]; B as [k][n] when n is contiguous,
  // else [n][k].
  using ATile = std::conditional_t<AKC, SmemTile<S, BM, BK, PADK>, SmemTile<S, BK, BM, PADMN>>;
  using BTile = std::conditional_t<BNC, SmemTile<S, BK, BN, PADMN>, SmemTile<S, BN, BK, PADK>>;
  __shared__ __align__(16) ATile As;
  __shared__ __align__(16) BTile Bs;
  auto a_at = [&](int m, int k) -> S& {
    if constexpr (AKC)
      return As.v[m][k];
    else
      return As.v[k][m];
  };
  auto b_at = [&](int k, int n) -> S& {
    if constexpr (BNC)
      return Bs.v[k][n];
    else
      return Bs.v[n][k];
  };

  const Tile<TIn, TOut> t(d, BM, BN, BK);
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, q = lane % 4;  // groupID and thread-in-group of the mma fragment layouts
  const int wm = (warp / 4) * (BM / 2), wn = (warp % 4) * 32;

  constexpr int EA = BM * BK / kThreads, EB = BN * BK / kThreads;  // elements per thread and K step
  // Scalar loads (any strides), or 16-byte vectors along each operand's contiguous index (VEC: see
  // VecLoader); either way the same shared tiles.
  using LA = std::conditional_t<VEC, VecLoader<TIn, BM, BK, AKC, KFOLD>, Loader<TIn, BM, BK, EA, AKC, KFOLD>>;
  using LB = std::conditional_t<VEC, VecLoader<TIn, BN, BK, !BNC, KFOLD>, Loader<TIn, BN, BK, EB, !BNC, KFOLD>>;
  const LA la(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold);
  const LB lb(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold);
  constexpr int RA = VEC ? EA / 8 : EA, RB = VEC ? EB / 8 : EB;
  using RT = std::conditional_t<VEC, uint4, S>;
  RT ra[RA], rb[RB];
  auto load = [&](int64_t k0) {
    la.load(k0, t.k_end, ra);
    lb.load(k0, t.k_end, rb);
  };
  auto stash = [&] {
#pragma unroll
    for (int i = 0; i < RA; ++i) {
      if constexpr (VEC)
        *reinterpret_cast<uint4*>(&a_at(la.row(i), la.col(i))) = ra[i];
      else
        a_at(la.row(i), la.col(i)) = ra[i];
    }
#pragma unroll
    for (int i = 0; i < RB; ++i) {
      if constexpr (VEC)
        *reinterpret_cast<uint4*>(&b_at(lb.col(i), lb.row(i))) = rb[i];
      else
        b_at(lb.col(i), lb.row(i)) = rb[i];
    }
  };

  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  if (t.k_begin < t.k_end) load(t.k_begin);
  for (int64_t k0 = t.k_begin; k0 < t.k_end; k0 += BK) {
    __syncthreads();  // the previous step's fragment reads are done
    stash();
    __syncthreads();
    if (k0 + BK < t.k_end) load(k0 + BK);  // in flight during the products below
#pragma unroll
    for (int ks = 0; ks < BK; ks += KSTEP) {
      uint32_t af[MI][4], bf[NI][2];
      if constexpr (kHalf) {
        // m16n8k16: a0 (g, 2q..2q+1), a1 (g+8, 2q..), a2 (g, 2q+8..), a3 (g+8, 2q+8..);
        // b0 (k 2q..2q+1, n g), b1 (k 2q+8.., n g).
        // Tiles stored [k][m] / [k][n] (m or n contiguous): ldmatrix.trans gives the k pairs directly
        // (matrix j of A: k + (j / 2) * 8, m + (j % 2) * 8; of B: k + (j % 2) * 8, n + (j / 2) * 8), where
        // packing two 16-bit reads took three instructions per register.
        const int lm = lane >> 3, lr = lane & 7;
#pragma unroll
        for (int i = 0; i < MI; ++i) {
          if constexpr (AKC) {
            const int m = wm + i * 16 + g;
#pragma unroll
            for (int r = 0; r < 4; ++r) {
              const int mm = m + (r & 1) * 8, kk = ks + 2 * q + (r >> 1) * 8;
              af[i][r] = *reinterpret_cast<const uint32_t*>(&a_at(mm, kk));
            }
          } else {
            ldsm_x4_trans(af[i], &a_at(wm + i * 16 + (lm & 1) * 8, ks + (lm >> 1) * 8 + lr));
          }
        }
        if constexpr (!BNC) {
#pragma unroll
          for (int j = 0; j < NI; ++j) {
            const int n = wn + j * 8 + g;
#pragma unroll
            for (int r = 0; r < 2; ++r) bf[j][r] = *reinterpret_cast<const uint32_t*>(&b_at(ks + 2 * q + r * 8, n));
          }
        } else {
#pragma unroll
          for (int j = 0; j < NI; j += 2) {
            uint32_t r[4];
            ldsm_x4_trans(r, &b_at(ks + (lm & 1) * 8 + lr, wn + (j + (lm >> 1)) * 8));
            bf[j][0] = r[0];
            bf[j][1] = r[1];
            bf[j + 1][0] = r[2];
            bf[j + 1][1] = r[3];
          }
        }
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int j = 0; j < NI; ++j) {
            if constexpr (KIND == MmaKind::kF16)
              mma_f16(acc[i][j], af[i], bf[j]);
            else
              mma_bf16(acc[i][j], af[i], bf[j]);
          }
      } else {
        // m16n8k8 tf32: a0 (g, q), a1 (g+8, q), a2 (g, q+4), a3 (g+8, q+4); b0 (k q, n g), b1 (k q+4, n g).
        float av[MI][4], bv[NI][2];
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int r = 0; r < 4; ++r) av[i][r] = a_at(wm + i * 16 + g + (r & 1) * 8, ks + q + (r >> 1) * 4);
#pragma unroll
        for (int j = 0; j < NI; ++j)
#pragma unroll
          for (int r = 0; r < 2; ++r) bv[j][r] = b_at(ks + q + r * 4, wn + j * 8 + g);
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int r = 0; r < 4; ++r) af[i][r] = to_tf32(av[i][r]);
#pragma unroll
        for (int j = 0; j < NI; ++j)
#pragma unroll
          for (int r = 0; r < 2; ++r) bf[j][r] = to_tf32(bv[j][r]);
        if constexpr (KIND == MmaKind::kTf32x3) {
          // x = big + small with big = tf32(x), small = tf32(x - big): a*b ~ big*big + big*small +
          // small*big (the small*small term is below float32 rounding). Small terms first.
          uint32_t as[MI][4], bs[NI][2];
#pragma unroll
          for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int r = 0; r < 4; ++r) as[i][r] = to_tf32(av[i][r] - __uint_as_float(af[i][r]));
#pragma unroll
          for (int j = 0; j < NI; ++j)
#pragma unroll
            for (int r = 0; r < 2; ++r) bs[j][r] = to_tf32(bv[j][r] - __uint_as_float(bf[j][r]));
#pragma unroll
          for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int j = 0; j < NI; ++j) {
              mma_tf32(acc[i][j], as[i], bf[j]);
              mma_tf32(acc[i][j], af[i], bs[j]);
            }
        }
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], af[i], bf[j]);
      }
    }
  }
  // c0 (g, 2q), c1 (g, 2q+1), c2 (g+8, 2q), c3 (g+8, 2q+1).
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int64_t m = t.m0 + wm + i * 16 + g + (r >> 1) * 8;
        const int64_t n = t.n0 + wn + j * 8 + 2 * q + (r & 1);
        t.store(m, n, acc[i][j][r]);
      }
}

// Two adjacent output elements, stored as one access.
template <typename T>
struct alignas(2 * sizeof(T)) Pair {
  T x, y;
};

// The epilogue of the cp.async kernels: the accumulators of a warp tile (MI x NI m16n8 tiles at (wm, wn))
// into C. Fragment layout: c0 (g, 2q), c1 (g, 2q+1), c2 (g+8, 2q), c3 (g+8, 2q+1). Per row one base
// address and bias; the pair (2q, 2q+1) as one 2-element store where n is contiguous and the address
// aligned (ncu: with K = 128-256 the element-wise epilogue of Tile::store was as many instructions as the
// main loop). The same values as Tile::store: (acc + bias) [+ C], rounded once.
template <int MI, int NI, typename TIn, typename TOut>
__device__ __forceinline__ void store_pairs(const Tile<TIn, TOut>& t, const float (&acc)[MI][NI][4], int wm, int wn,
                                            int g, int q) {
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t m = t.m0 + wm + i * 16 + g + h * 8;
      if (m >= t.M) continue;
      TOut* row = t.C + m * t.c_sm;
      const float b = t.bias != nullptr ? convert<float>(t.bias[m]) : 0.f;
#pragma unroll
      for (int j = 0; j < NI; ++j) {
        const int64_t n = t.n0 + wn + j * 8 + 2 * q;
        float v0 = acc[i][j][2 * h], v1 = acc[i][j][2 * h + 1];
        if (t.bias != nullptr) {
          v0 += b;
          v1 += b;
        }
        if (t.c_sn == 1 && n + 1 < t.N && reinterpret_cast<uintptr_t>(row + n) % (2 * sizeof(TOut)) == 0) {
          TOut* c = row + n;
          if (t.accumulate) {
            v0 += convert<float>(c[0]);
            v1 += convert<float>(c[1]);
          }
          *reinterpret_cast<Pair<TOut>*>(c) = Pair<TOut>{convert<TOut>(v0), convert<TOut>(v1)};
        } else {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            if (n + e >= t.N) continue;
            TOut* c = row + (n + e) * t.c_sn;
            float v = e == 0 ? v0 : v1;
            if (t.accumulate) v += convert<float>(*c);
            *c = convert<TOut>(v);
          }
        }
      }
    }
}

// ---------------------------------------------------------------------------------------------------
// Tensor-core kernel for float32 operands with a cp.async pipeline

__device__ __forceinline__ void cp_async4(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int n = valid ? 4 : 0;  // 0: zero-fill, nothing read
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// The float32-input twin of gemm_mma_kernel: operands go global -> shared with cp.async (4 bytes per
// element, so any stride and alignment works) through a ring of STAGES K steps, so loads of the next
// STAGES - 1 K steps are in flight while the tensor cores work on the current one, with no register
// staging. TF32 products, or 3xTF32 (see gemm_mma_kernel) for float32 accuracy.
// NOTE [ TF32 split at staging ]
// Without SPLIT every warp converts the elements of its fragments when it reads them (2 cvt + 1
// subtract per element in 3xTF32, 1 cvt in TF32), and each element of A is read by 4 warps, of B by 2:
// ncu found the TF32 products bound by instruction issue and latency in that path (docs/cuda.md,
// session 6). With SPLIT the block converts each landed K step once, into a second shared buffer in
// fragment order: for every m16 x k8 piece of A, lane l's four TF32 words (a0..a3) as one 16-byte
// entry (and in 3xTF32 the four remainders in a second plane); for every k8 x n8 piece of B, lane l's
// (b0, b1) [and their remainders] as one 8-byte [16-byte] entry. The fragment reads are then one
// 16-byte load per A piece and plane and one 8/16-byte load per B piece, no conversions; the values,
// and the products in their order, are the same as without SPLIT (bitwise the same results). The ring
// has 2 stages and there are two fragment buffers, so step kt + 1 is converted while step kt's products
// run, with one barrier per K step; 2 x (BM + BN) x 128 bytes of shared memory per plane. Off by default
// (TVDCN_CUDA_TF32_SPLIT=on|narrow): measured slower than converting at each read for TF32 (0.66-0.92x)
// and, for 3xTF32, no faster than the same kernel without it at the same tile (docs/cuda.md, session 7,
// helper k12b).
template <typename TOut, MmaKind KIND, int BM, int BN, bool AKC, bool BNC, bool KFOLD, int STAGES = 3,
          bool SPLIT = false>
__global__ void __launch_bounds__(kThreads, 1) gemm_mma_async_kernel(const GemmDesc d) {
  constexpr int BK = 32;
  constexpr int MI = BM / 32, NI = BN / 32;  // warps 2 x 4, warp tile BM/2 x BN/4
  constexpr bool X3 = KIND == MmaKind::kTf32x3;
  using ATile = std::conditional_t<AKC, SmemTile<float, BM, BK, 4>, SmemTile<float, BK, BM, 8>>;
  using BTile = std::conditional_t<BNC, SmemTile<float, BK, BN, 8>, SmemTile<float, BN, BK, 4>>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ATile* As = reinterpret_cast<ATile*>(smem_raw);
  BTile* Bs = reinterpret_cast<BTile*>(smem_raw + STAGES * sizeof(ATile));
  // SPLIT: the fragment buffer after the ring. KS k8 pieces per K step; piece (mt, ks) of A is entry
  // mt * KS + ks (32 lanes each), piece (nt, ks) of B likewise.
  constexpr int KS = BK / 8, UA = BM / 16 * KS, UB = BN / 8 * KS;
  using BFrag = std::conditional_t<X3, uint4, uint2>;  // (b0, b1[, small b0, small b1])
  // Two fragment buffers (K steps kt and kt + 1), each: A's big parts, [A's remainders,] B's entries.
  constexpr int kFragBytes = (X3 ? 2 : 1) * UA * 32 * 16 + UB * 32 * static_cast<int>(sizeof(BFrag));
  unsigned char* const frag_base = smem_raw + STAGES * (sizeof(ATile) + sizeof(BTile));
  auto fa = [&](int buf) { return reinterpret_cast<uint4*>(frag_base + buf * kFragBytes); };
  auto fas = [&](int buf) { return fa(buf) + UA * 32; };
  auto fb = [&](int buf) { return reinterpret_cast<BFrag*>(fa(buf) + (X3 ? 2 : 1) * UA * 32); };
  auto a_at = [&](int st, int m, int k) -> float& {
    if constexpr (AKC)
      return As[st].v[m][k];
    else
      return As[st].v[k][m];
  };
  auto b_at = [&](int st, int k, int n) -> float& {
    if constexpr (BNC)
      return Bs[st].v[k][n];
    else
      return Bs[st].v[n][k];
  };

  const Tile<float, TOut> t(d, BM, BN, BK);
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, q = lane % 4;
  const int wm = (warp / 4) * (BM / 2), wn = (warp % 4) * (BN / 4);
  constexpr int EA = BM * BK / kThreads, EB = BN * BK / kThreads;
  const Loader<float, BM, BK, EA, AKC, KFOLD> la(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold);
  const Loader<float, BN, BK, EB, !BNC, KFOLD> lb(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold);

  // Issues the copies of K step `kt` (from k_begin) into stage `st`; always commits a group, so the
  // group count per thread stays uniform.
  const int64_t ktiles = (t.k_end - t.k_begin + BK - 1) / BK;
  auto issue = [&](int64_t kt, int st) {
    if (kt < ktiles) {
      const int64_t k0 = t.k_begin + kt * BK;
      if constexpr (AKC) {
        const int64_t k = k0 + la.k_t;
        const bool k_ok = k < t.k_end;
        int64_t koff;
        if constexpr (KFOLD)
          koff = (k / la.kfold) * la.s_kf + (k % la.kfold);
        else
          koff = k * la.s_k;
#pragma unroll
        for (int i = 0; i < EA; ++i) {
          const bool ok = k_ok && la.row(i) < la.r_lim;
          cp_async4(&a_at(st, la.row(i), la.k_t), ok ? la.ptr + i * la.step + koff : t.A, ok);
        }
      } else {
        const bool r_ok = la.r_t < la.r_lim;
#pragma unroll
        for (int i = 0; i < EA; ++i) {
          const int64_t k = k0 + la.col(i);
          const bool ok = r_ok && k < t.k_end;
          cp_async4(&a_at(st, la.r_t, la.col(i)), ok ? la.ptr + k * la.s_k : t.A, ok);
        }
      }
      if constexpr (!BNC) {
        const int64_t k = k0 + lb.k_t;
        const bool k_ok = k < t.k_end;
        int64_t koff;
        if constexpr (KFOLD)
          koff = (k / lb.kfold) * lb.s_kf + (k % lb.kfold);
        else
          koff = k * lb.s_k;
#pragma unroll
        for (int i = 0; i < EB; ++i) {
          const bool ok = k_ok && lb.row(i) < lb.r_lim;
          cp_async4(&b_at(st, lb.k_t, lb.row(i)), ok ? lb.ptr + i * lb.step + koff : t.B, ok);
        }
      } else {
        const bool r_ok = lb.r_t < lb.r_lim;
#pragma unroll
        for (int i = 0; i < EB; ++i) {
          const int64_t k = k0 + lb.col(i);
          const bool ok = r_ok && k < t.k_end;
          cp_async4(&b_at(st, lb.col(i), lb.r_t), ok ? lb.ptr + k * lb.s_k : t.B, ok);
        }
      }
    }
    cp_async_commit();
  };

  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  if constexpr (SPLIT) {
    // NOTE [ TF32 split at staging ]: a 2-stage ring and two fragment buffers, one barrier per K step.
    // In step kt: K step kt + 1 has landed (wait + barrier), K step kt + 2 is issued into the ring stage
    // that step kt occupied (converted in step kt - 1), step kt + 1 is converted into the other fragment
    // buffer while (in other warps, and after it in this one) the products of step kt run on this one.
    static_assert(STAGES == 2, "the split pipeline converts one step ahead of a 2-stage ring");
    // Warp w converts pieces w, w + 8, ... of A and of B of ring stage st into fragment buffer buf; the
    // reads follow the fragment pattern (conflict-free through the paddings), the writes are
    // lane-contiguous.
    auto convert = [&](int st, int buf) {
      uint4* Fa = fa(buf);
      uint4* Fas = fas(buf);
      BFrag* Fb = fb(buf);
#pragma unroll
      for (int p = 0; p < UA / 8; ++p) {
        const int u = warp + p * 8, m = (u / KS) * 16 + g, k = (u % KS) * 8 + q;
        const float v0 = a_at(st, m, k), v1 = a_at(st, m + 8, k), v2 = a_at(st, m, k + 4), v3 = a_at(st, m + 8, k + 4);
        const uint4 big = make_uint4(to_tf32(v0), to_tf32(v1), to_tf32(v2), to_tf32(v3));
        Fa[u * 32 + lane] = big;
        if constexpr (X3) {
          Fas[u * 32 + lane] = make_uint4(to_tf32(v0 - __uint_as_float(big.x)), to_tf32(v1 - __uint_as_float(big.y)),
                                          to_tf32(v2 - __uint_as_float(big.z)), to_tf32(v3 - __uint_as_float(big.w)));
        }
      }
#pragma unroll
      for (int p = 0; p < UB / 8; ++p) {
        const int u = warp + p * 8, n = (u / KS) * 8 + g, k = (u % KS) * 8 + q;
        const float v0 = b_at(st, k, n), v1 = b_at(st, k + 4, n);
        const uint32_t b0 = to_tf32(v0), b1 = to_tf32(v1);
        if constexpr (X3) {
          Fb[u * 32 + lane] = make_uint4(b0, b1, to_tf32(v0 - __uint_as_float(b0)), to_tf32(v1 - __uint_as_float(b1)));
        } else {
          Fb[u * 32 + lane] = make_uint2(b0, b1);
        }
      }
    };
    issue(0, 0);
    issue(1, 1);
    if (ktiles > 0) {
      cp_async_wait<1>();
      __syncthreads();
      convert(0, 0);
    }
    for (int64_t kt = 0; kt < ktiles; ++kt) {
      const int buf = static_cast<int>(kt & 1);
      cp_async_wait<0>();  // this thread's copies of step kt + 1 have landed
      __syncthreads();     // everyone's have; fragments of kt are written; everyone is done with kt - 1
      issue(kt + 2, buf);  // into the stage of step kt, converted in step kt - 1
      if (kt + 1 < ktiles) convert(buf ^ 1, buf ^ 1);
      const uint4* Fa = fa(buf);
      const uint4* Fas = fas(buf);
      const BFrag* Fb = fb(buf);
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
        uint32_t bf[NI][2], bs[NI][2];
#pragma unroll
        for (int j = 0; j < NI; ++j) {
          const BFrag e = Fb[((wn / 8 + j) * KS + ks) * 32 + lane];
          bf[j][0] = e.x;
          bf[j][1] = e.y;
          if constexpr (X3) {
            bs[j][0] = e.z;
            bs[j][1] = e.w;
          }
        }
#pragma unroll
        for (int i = 0; i < MI; ++i) {
          const int u = (wm / 16 + i) * KS + ks;
          const uint4 ea = Fa[u * 32 + lane];
          const uint32_t af[4] = {ea.x, ea.y, ea.z, ea.w};
          if constexpr (X3) {
            const uint4 es = Fas[u * 32 + lane];
            const uint32_t as[4] = {es.x, es.y, es.z, es.w};
            // The order of the kernel without SPLIT: small x big, big x small, big x big.
#pragma unroll
            for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], as, bf[j]);
#pragma unroll
            for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], af, bs[j]);
          }
#pragma unroll
          for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], af, bf[j]);
        }
      }
    }
  } else {
#pragma unroll
    for (int st = 0; st < STAGES - 1; ++st) issue(st, st);
    for (int64_t kt = 0; kt < ktiles; ++kt) {
      cp_async_wait<STAGES - 2>();  // this thread's copies of step kt have landed
      __syncthreads();              // everyone's have, and everyone is done with step kt - 1
      issue(kt + STAGES - 1, static_cast<int>((kt + STAGES - 1) % STAGES));
      const int st = static_cast<int>(kt % STAGES);
#pragma unroll
      for (int ks = 0; ks < BK; ks += 8) {
        // m16n8k8 tf32 fragments, as in gemm_mma_kernel.
        uint32_t bf[NI][2], bs[NI][2];
#pragma unroll
        for (int j = 0; j < NI; ++j)
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            const float v = b_at(st, ks + q + r * 4, wn + j * 8 + g);
            bf[j][r] = to_tf32(v);
            if constexpr (KIND == MmaKind::kTf32x3) bs[j][r] = to_tf32(v - __uint_as_float(bf[j][r]));
          }
#pragma unroll
        for (int i = 0; i < MI; ++i) {
          uint32_t af[4], as[4];
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            const float v = a_at(st, wm + i * 16 + g + (r & 1) * 8, ks + q + (r >> 1) * 4);
            af[r] = to_tf32(v);
            if constexpr (KIND == MmaKind::kTf32x3) as[r] = to_tf32(v - __uint_as_float(af[r]));
          }
          // Three passes over j, so NI independent accumulators separate dependent products.
          if constexpr (KIND == MmaKind::kTf32x3) {
#pragma unroll
            for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], as, bf[j]);
#pragma unroll
            for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], af, bs[j]);
          }
#pragma unroll
          for (int j = 0; j < NI; ++j) mma_tf32(acc[i][j], af, bf[j]);
        }
      }
    }
  }
  cp_async_wait<0>();
  if constexpr (KIND == MmaKind::kTf32x3 && BN > 128 && !SPLIT) {
    // Element by element: with the pair epilogue this instantiation (254 registers) spills in the main
    // loop, and its products with K = 128-512 measured 1.02-1.07x slower (docs/cuda.md, Session 6).
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int j = 0; j < NI; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int64_t m = t.m0 + wm + i * 16 + g + (r >> 1) * 8;
          const int64_t n = t.n0 + wn + j * 8 + 2 * q + (r & 1);
          t.store(m, n, acc[i][j][r]);
        }
  } else {
    store_pairs<MI, NI>(t, acc, wm, wn, g, q);
  }
}

// Dynamic shared memory of gemm_mma_async_kernel: the ring, and with SPLIT the fragment buffer (one
// 4-byte word per element and plane: two planes in 3xTF32).
template <int BM, int BN, bool AKC, bool BNC, int STAGES = 3, bool SPLIT = false, bool X3 = false>
constexpr int async_smem_bytes() {
  constexpr int a = AKC ? BM * (32 + 4) : 32 * (BM + 8);
  constexpr int b = BNC ? 32 * (BN + 8) : BN * (32 + 4);
  return STAGES * 4 * (a + b) + (SPLIT ? 2 * (X3 ? 2 : 1) * 4 * 32 * (BM + BN) : 0);
}

// ---------------------------------------------------------------------------------------------------
// Tensor-core kernel for 16-bit operands with a cp.async pipeline

// 16 bytes global -> shared of which the first `bytes` (0..16) are read and the rest zero-filled; both
// addresses 16-byte aligned.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, int bytes) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

// NOTE [ 16-bit GEMM pipeline ]
// The float16/bfloat16 product where VecLoader applies (vector_ok: every benchmark shape's forward,
// dcol and weight products). gemm_mma_kernel staged each K step through registers with one step of
// prefetch, and ncu found it waiting on those loads (big-b32 dcol product: long scoreboard 36%, 126
// registers; weight product 164 registers, one block per SM; docs/cuda.md, runs 11-12). Here the 16-byte
// vectors of VecLoader go global -> shared by cp.async into a ring of STAGES K steps (three steps in
// flight while the tensor cores work on the fourth), one barrier per K step, no staging registers; the
// fragments of every layout come from ldmatrix (.trans for the [k][m] / [k][n] tiles). 8 warps of
// BM/2 x BN/4: 128 x 128 tiles (64 x 32 per warp, two blocks per SM), 64 x 128 when M <= 64. (128 x 256
// tiles, 64 x 64 per warp, needed 238 registers, one block per SM, and measured 1.2-1.4x slower on every
// benchmark shape: docs/cuda.md, run 16; the kernel still takes BN = 256.) The shared
// tiles hold the same elements as gemm_mma_kernel's and every accumulator receives the same products in
// the same K order, so the results are bitwise those of gemm_mma_kernel, whatever the tile (tested).
template <typename TIn, typename TOut, MmaKind KIND, int BM, int BN, bool AKC, bool BNC, bool KFOLD>
__global__ void __launch_bounds__(kThreads, BN > 128 ? 1 : 2) gemm_mma16_async_kernel(const GemmDesc d) {
  constexpr int BK = 32, STAGES = 4, PAD = 8;
  constexpr int MI = BM / 32, NI = BN / 32;  // m16 and n8 tiles per warp
  static_assert(KIND == MmaKind::kF16 || KIND == MmaKind::kBf16, "16-bit operands");
  static_assert(NI % 2 == 0, "B fragments come in pairs of n8 tiles");
  using S = TIn;
  using ATile = std::conditional_t<AKC, SmemTile<S, BM, BK, PAD>, SmemTile<S, BK, BM, PAD>>;
  using BTile = std::conditional_t<BNC, SmemTile<S, BK, BN, PAD>, SmemTile<S, BN, BK, PAD>>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  ATile* As = reinterpret_cast<ATile*>(smem_raw);
  BTile* Bs = reinterpret_cast<BTile*>(smem_raw + STAGES * sizeof(ATile));
  auto a_at = [&](int st, int m, int k) -> S& {
    if constexpr (AKC)
      return As[st].v[m][k];
    else
      return As[st].v[k][m];
  };
  auto b_at = [&](int st, int k, int n) -> S& {
    if constexpr (BNC)
      return Bs[st].v[k][n];
    else
      return Bs[st].v[n][k];
  };

  const Tile<TIn, TOut> t(d, BM, BN, BK);
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, q = lane % 4;
  const int lm = lane >> 3, lr = lane & 7;  // ldmatrix: the matrix and row this lane addresses
  const int wm = (warp / 4) * (BM / 2), wn = (warp % 4) * (BN / 4);
  using LA = VecLoader<TIn, BM, BK, AKC, KFOLD>;
  using LB = VecLoader<TIn, BN, BK, !BNC, KFOLD>;
  const LA la(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold);
  const LB lb(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold);

  // Issues the copies of K step `kt` (from k_begin) into stage `st`; always commits a group, so the
  // group count per thread stays uniform.
  const int64_t ktiles = (t.k_end - t.k_begin + BK - 1) / BK;
  auto issue = [&](int64_t kt, int st) {
    if (kt < ktiles) {
      const int64_t k0 = t.k_begin + kt * BK;
#pragma unroll
      for (int i = 0; i < LA::kVecs; ++i) {
        int bytes;
        const TIn* p = la.src(k0, t.k_end, i, bytes);
        cp_async16(&a_at(st, la.row(i), la.col(i)), bytes > 0 ? p : t.A, bytes);
      }
#pragma unroll
      for (int i = 0; i < LB::kVecs; ++i) {
        int bytes;
        const TIn* p = lb.src(k0, t.k_end, i, bytes);
        cp_async16(&b_at(st, lb.col(i), lb.row(i)), bytes > 0 ? p : t.B, bytes);
      }
    }
    cp_async_commit();
  };

  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

#pragma unroll
  for (int st = 0; st < STAGES - 1; ++st) issue(st, st);
  for (int64_t kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<STAGES - 2>();  // this thread's copies of step kt have landed
    __syncthreads();              // everyone's have, and everyone is done with step kt - 1
    issue(kt + STAGES - 1, static_cast<int>((kt + STAGES - 1) % STAGES));
    const int st = static_cast<int>(kt % STAGES);
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      // m16n8k16 fragments as in gemm_mma_kernel. A: matrix j of the x4 is (m + (j % 2) * 8, k + (j / 2) * 8);
      // B: matrices (n tile j, k), (j, k + 8), (j + 1, k), (j + 1, k + 8).
      uint32_t bf[NI][2];
#pragma unroll
      for (int j = 0; j < NI; j += 2) {
        uint32_t r[4];
        if constexpr (BNC)
          ldsm_x4_trans(r, &b_at(st, ks + (lm & 1) * 8 + lr, wn + (j + (lm >> 1)) * 8));
        else
          ldsm_x4(r, &b_at(st, ks + (lm & 1) * 8, wn + (j + (lm >> 1)) * 8 + lr));
        bf[j][0] = r[0];
        bf[j][1] = r[1];
        bf[j + 1][0] = r[2];
        bf[j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        uint32_t af[4];
        if constexpr (AKC)
          ldsm_x4(af, &a_at(st, wm + i * 16 + (lm & 1) * 8 + lr, ks + (lm >> 1) * 8));
        else
          ldsm_x4_trans(af, &a_at(st, wm + i * 16 + (lm & 1) * 8, ks + (lm >> 1) * 8 + lr));
#pragma unroll
        for (int j = 0; j < NI; ++j) {
          if constexpr (KIND == MmaKind::kF16)
            mma_f16(acc[i][j], af, bf[j]);
          else
            mma_bf16(acc[i][j], af, bf[j]);
        }
      }
    }
  }
  cp_async_wait<0>();
  store_pairs<MI, NI>(t, acc, wm, wn, g, q);
}

// Dynamic shared memory of gemm_mma16_async_kernel (4 stages of 16-bit tiles, padding 8).
template <int BM, int BN, bool AKC, bool BNC>
constexpr int async16_smem_bytes() {
  constexpr int a = AKC ? BM * (32 + 8) : 32 * (BM + 8);
  constexpr int b = BNC ? 32 * (BN + 8) : BN * (32 + 8);
  return 4 * 2 * (a + b);
}

}  // namespace gemm_detail
}  // namespace dcn::cuda

#include "gemm/cuda/gemm_wgmma.cuh"

namespace dcn::cuda {
namespace gemm_detail {

// ---------------------------------------------------------------------------------------------------
// Launch

template <typename Kernel, typename... Extra>
void launch(Kernel kernel, const GemmDesc& d, int bm, int bn, cudaStream_t stream, const char* name, int smem = 0,
            const Extra&... extra) {
  const int64_t tiles = ((d.M + bm - 1) / bm) * ((d.N + bn - 1) / bn);
  const int64_t batches = d.b1.count * d.b2.count;
  DCN_CHECK(tiles < (int64_t{1} << 31) && batches <= 65535 && d.splits <= 65535, kRange, "gemm: internal error: grid (",
            tiles, ", ", batches, ", ", d.splits, ") too large, please report");
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(batches), static_cast<unsigned>(d.splits));
  if (smem > 48 * 1024) {
    ensure_max_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  }
  kernel<<<grid, kThreads, smem, stream>>>(d, extra...);
  DCN_CUDA_LAUNCH_CHECK(name, grid, dim3(kThreads));
}

// NOTE [ TF32 planes of A made once per product ]: A's planes for BM-row tiles where A serves at least 8 column tiles
// of BN (or batch entries that share it), K has at least 4 steps of 32, the tiles have 128 rows or the product is
// 3xTF32, and the planes fit the workspace limit; else {} (A converted in the kernel). Measured (docs/cuda.md,
// session 17, run 1): 1.13-1.29x on the forwards and 2D weight gradients; slower where A served 5-6 column tiles
// (edvr-64's and 1d-c256's weight gradients, 0.89-0.94x), where K had 2 steps (3d-c64's and edvr-64's input-gradient
// columns, 0.95-0.99x) and on 64-row TF32 tiles (0.96x). `ws` holds the planes until the end of the caller's scope
// (stream order makes the release safe).
template <int BM, bool X3>
Tf32Planes tf32_planes(const GemmDesc& d, int bn, cudaStream_t stream, Workspace& ws) {
  if (!wgmma32_a_planes()) return {};
  const int64_t c1 = d.b1.a != 0 ? d.b1.count : 1, c2 = d.b2.a != 0 ? d.b2.count : 1;
  const int64_t uses = ((d.N + bn - 1) / bn) * (d.b1.count / c1) * (d.b2.count / c2);
  Tf32Planes ap;
  ap.tiles_m = (d.M + BM - 1) / BM;
  ap.ksteps = (d.K + 31) / 32;
  ap.c2 = c2;
  const int64_t bytes = c1 * c2 * ap.tiles_m * ap.ksteps * tf32_plane_words(BM, X3) * 4;
  if (uses < 8 || ap.ksteps < 4 || (BM == 64 && !X3) || bytes > workspace_limit() ||
      ap.tiles_m * ap.ksteps >= (int64_t{1} << 31) || c1 * c2 > 65535)
    return {};
  int device = 0;
  DCN_CUDA_CHECK(cudaGetDevice(&device));
  ws = Workspace(device, static_cast<std::size_t>(bytes));
  ap.p = ws.as<float>();
  const dim3 grid(static_cast<unsigned>(ap.tiles_m * ap.ksteps), static_cast<unsigned>(c1 * c2));
  wgmma_tf32_planes_kernel<BM, X3><<<grid, kThreads, 0, stream>>>(d, ap);
  DCN_CUDA_LAUNCH_CHECK("wgmma_tf32_planes_kernel", grid, dim3(kThreads));
  tf32_planes_launches().fetch_add(1, std::memory_order_relaxed);
  return ap;
}

// Binds the layout template arguments from the strides. A folded K is only used (and only compiled)
// with k contiguous in both operands.
template <template <bool, bool, bool> class Pick>
void dispatch_layout(const GemmDesc& d, cudaStream_t stream) {
  const bool akc = d.a_sk == 1, bnc = d.b_sn == 1;
  if (d.kfold > 0) {
    DCN_CHECK(akc && d.b_sk == 1 && !bnc, kInternal,
              "gemm: internal error: a folded K needs k contiguous in A and B, please report");
    Pick<true, false, true>::run(d, stream);
  } else if (akc && bnc) {
    Pick<true, true, false>::run(d, stream);
  } else if (akc) {
    Pick<true, false, false>::run(d, stream);
  } else if (bnc) {
    Pick<false, true, false>::run(d, stream);
  } else {
    Pick<false, false, false>::run(d, stream);
  }
}

template <typename TIn, typename TOut>
struct SimtPick {
  template <bool AKC, bool BNC, bool KFOLD>
  struct P {
    static void run(const GemmDesc& d, cudaStream_t s) {
      using Cfg = SimtConfig<acc_type<TIn>>;
      launch(gemm_simt_kernel<TIn, TOut, AKC, BNC, KFOLD>, d, Cfg::BM, Cfg::BN, s, "gemm_simt_kernel");
    }
  };
};

// Tensor-core kernels: 64-row tiles when M <= 64 (half of a 128-row tile would be padding).
template <typename TIn, typename TOut, MmaKind KIND>
struct MmaPick {
  template <bool AKC, bool BNC, bool KFOLD>
  struct P {
    static void run(const GemmDesc& d, cudaStream_t s) {
      if (gemm_vector_loads() && vector_ok(d, AKC, BNC) && !gemm16_register_staged()) {
        if (const Wgmma16Tiles w = wgmma16_tiles(); w != Wgmma16Tiles::kOff) {
          // NOTE [ Hopper warpgroup GEMM ]: 64 x 256 tiles when M <= 64; else 128 x 128 two per multiprocessor
          // when each block's K is short (at most 16 steps of 64), or at most 40 steps with more 128 x 128 tiles than
          // multiprocessors (session 16, run 6: r50-c3's forward 1.14x, the 2D weight gradients 1.03-1.11x, r50-c4's
          // and big-b32's forwards 1.04x; slower with one wave, r50-c5's forward 0.84x, and with K ~3000, 1d-c256's
          // weight gradient 0.91x); else 128 x 128 or 128 x 256 at one block per
          // multiprocessor by their waves: a wide tile does twice the work in ~1.8x the time (big-b32's forward: 7
          // waves of wide tiles 0.309 ms against 13 of 128 x 128 0.320), so wide when waves(wide) * 1.8 <
          // waves(128 x 128) (docs/cuda.md, session 15, runs 6-7: the faster tile on 8 of the 9 measured products,
          // not on r50-c3's forward); 256 x 128 only when forced.
          int device = 0;
          DCN_CUDA_CHECK(cudaGetDevice(&device));
          const int sms = multiprocessor_count(device);
          const int64_t batches = d.b1.count * d.b2.count * d.splits;
          const int64_t wide = ((d.M + 127) / 128) * ((d.N + 255) / 256) * batches;
          const int64_t narrow = ((d.M + 127) / 128) * ((d.N + 127) / 128) * batches;
          const int64_t k_piece = (d.K + d.splits - 1) / d.splits;
          const bool auto_rule = w == Wgmma16Tiles::kAuto || w == Wgmma16Tiles::kOneBlock;
          if (d.M <= 64) {
            launch(gemm_wgmma16_kernel<TIn, TOut, KIND, 64, 256, AKC, BNC, KFOLD>, d, 64, 256, s, "gemm_wgmma16_kernel",
                   wgmma16_smem_bytes<64, 256>());
          } else if (w == Wgmma16Tiles::kTwoPerSm ||
                     (w == Wgmma16Tiles::kAuto && (k_piece <= 1024 || (narrow > sms && k_piece <= 2560)))) {
            launch(gemm_wgmma16_kernel<TIn, TOut, KIND, 128, 128, AKC, BNC, KFOLD, 2>, d, 128, 128, s,
                   "gemm_wgmma16_kernel", wgmma16_smem_bytes<128, 128, 2>());
          } else if (w == Wgmma16Tiles::kTall) {
            launch(gemm_wgmma16_kernel<TIn, TOut, KIND, 256, 128, AKC, BNC, KFOLD>, d, 256, 128, s,
                   "gemm_wgmma16_kernel", wgmma16_smem_bytes<256, 128>());
          } else if (w == Wgmma16Tiles::kWide ||
                     (auto_rule && 180 * ((wide + sms - 1) / sms) < 100 * ((narrow + sms - 1) / sms))) {
            launch(gemm_wgmma16_kernel<TIn, TOut, KIND, 128, 256, AKC, BNC, KFOLD>, d, 128, 256, s,
                   "gemm_wgmma16_kernel", wgmma16_smem_bytes<128, 256>());
          } else {
            launch(gemm_wgmma16_kernel<TIn, TOut, KIND, 128, 128, AKC, BNC, KFOLD>, d, 128, 128, s,
                   "gemm_wgmma16_kernel", wgmma16_smem_bytes<128, 128>());
          }
          wgmma_launches().fetch_add(1, std::memory_order_relaxed);
          return;
        }
        // NOTE [ 16-bit GEMM pipeline ]: 128 x 128 tiles (128 x 256 measured slower), 64 x 128 when M <= 64.
        if (d.M <= 64) {
          launch(gemm_mma16_async_kernel<TIn, TOut, KIND, 64, 128, AKC, BNC, KFOLD>, d, 64, 128, s,
                 "gemm_mma16_async_kernel", async16_smem_bytes<64, 128, AKC, BNC>());
        } else {
          launch(gemm_mma16_async_kernel<TIn, TOut, KIND, 128, 128, AKC, BNC, KFOLD>, d, 128, 128, s,
                 "gemm_mma16_async_kernel", async16_smem_bytes<128, 128, AKC, BNC>());
        }
      } else if (gemm_vector_loads() && vector_ok(d, AKC, BNC)) {
        if (d.M <= 64) {
          launch(gemm_mma_kernel<TIn, TOut, KIND, 64, AKC, BNC, KFOLD, true>, d, 64, 128, s, "gemm_mma_kernel");
        } else {
          launch(gemm_mma_kernel<TIn, TOut, KIND, 128, AKC, BNC, KFOLD, true>, d, 128, 128, s, "gemm_mma_kernel");
        }
      } else if (d.M <= 64) {
        launch(gemm_mma_kernel<TIn, TOut, KIND, 64, AKC, BNC, KFOLD>, d, 64, 128, s, "gemm_mma_kernel");
      } else {
        launch(gemm_mma_kernel<TIn, TOut, KIND, 128, AKC, BNC, KFOLD>, d, 128, 128, s, "gemm_mma_kernel");
      }
    }
  };
};

template <typename TOut, MmaKind KIND>
struct MmaAsyncPick {
  template <bool AKC, bool BNC, bool KFOLD>
  struct P {
    static void run(const GemmDesc& d, cudaStream_t s) {
      constexpr bool X3 = KIND == MmaKind::kTf32x3;
      if (vector_ok(d, AKC, BNC, 4) && wgmma32_enabled()) {
        // NOTE [ Hopper warpgroup GEMM, 32-bit operands ]: 64-row products on 64 x 128 tiles (two warpgroups of
        // n64), in TF32 on 64 x 256 when N >= 1024 (edvr-64's weight gradient, 576 columns, measured 0.84x on 64 x
        // 256 tiles, a quarter of them padding: docs/cuda.md, session 16, run 1); 3xTF32 has no room for 64 x 256.
        // NOTE [ TF32 planes of A made once per product ]: A's planes made before the product where they pay.
        Workspace ws;
        const auto run = [&](auto bm_c, auto bn_c) {
          constexpr int BM = decltype(bm_c)::value, BN = decltype(bn_c)::value;
          if (const Tf32Planes ap = tf32_planes<BM, X3>(d, BN, s, ws); ap.p != nullptr) {
            launch(gemm_wgmma_tf32_kernel<TOut, X3, BM, BN, AKC, BNC, KFOLD, true>, d, BM, BN, s,
                   "gemm_wgmma_tf32_kernel", wgmma_tf32_smem_bytes<BM, BN, X3, true>(), ap);
          } else {
            launch(gemm_wgmma_tf32_kernel<TOut, X3, BM, BN, AKC, BNC, KFOLD>, d, BM, BN, s, "gemm_wgmma_tf32_kernel",
                   wgmma_tf32_smem_bytes<BM, BN, X3>(), Tf32Planes{});
          }
        };
        if (d.M > 64) {
          run(std::integral_constant<int, 128>{}, std::integral_constant<int, 128>{});
        } else if (X3 || d.N < 1024) {
          run(std::integral_constant<int, 64>{}, std::integral_constant<int, 128>{});
        } else if constexpr (!X3) {
          run(std::integral_constant<int, 64>{}, std::integral_constant<int, 256>{});
        }
        wgmma_launches().fetch_add(1, std::memory_order_relaxed);
        return;
      }
      // 128 x 256 tiles (64 x 64 per warp: half the shared-memory reads per product) when they still
      // give every multiprocessor a block; else 128 x 128; 64 x 128 when M <= 64.
      int device = 0;
      DCN_CUDA_CHECK(cudaGetDevice(&device));
      const int sms = multiprocessor_count(device);
      const int64_t wide = ((d.M + 127) / 128) * ((d.N + 255) / 256) * d.b1.count * d.b2.count * d.splits;
      const Tf32Split split = gemm_tf32_split();
      // 3xTF32 with a folded K (the weight gradient) or K <= 128: 128 x 128 tiles measured 1.06-1.33x
      // faster than 128 x 256 (docs/cuda.md, session 7, helper k12b, run 3).
      // (TVDCN_CUDA_GEMM_X3_TILES=wide: 128 x 256 for these too, as before; an A/B switch.)
      const bool narrow_x3 = X3 && (KFOLD || d.K <= 128) && !gemm_x3_wide_always();
      if (split != Tf32Split::kOff) {
        // NOTE [ TF32 split at staging ]: a 2-stage ring and two fragment buffers. TF32 at 128 x 256
        // (206 KB) where the wide tiles apply, unless kNarrow; 3xTF32 (two planes) at 128 x 128 (200 KB).
        if (d.M <= 64) {
          launch(gemm_mma_async_kernel<TOut, KIND, 64, 128, AKC, BNC, KFOLD, 2, true>, d, 64, 128, s,
                 "gemm_mma_async_kernel", async_smem_bytes<64, 128, AKC, BNC, 2, true, X3>());
        } else if constexpr (!X3) {
          if (gemm_wide_tiles() && wide >= sms && split != Tf32Split::kNarrow) {
            launch(gemm_mma_async_kernel<TOut, KIND, 128, 256, AKC, BNC, KFOLD, 2, true>, d, 128, 256, s,
                   "gemm_mma_async_kernel", async_smem_bytes<128, 256, AKC, BNC, 2, true, X3>());
          } else {
            launch(gemm_mma_async_kernel<TOut, KIND, 128, 128, AKC, BNC, KFOLD, 2, true>, d, 128, 128, s,
                   "gemm_mma_async_kernel", async_smem_bytes<128, 128, AKC, BNC, 2, true, X3>());
          }
        } else {
          launch(gemm_mma_async_kernel<TOut, KIND, 128, 128, AKC, BNC, KFOLD, 2, true>, d, 128, 128, s,
                 "gemm_mma_async_kernel", async_smem_bytes<128, 128, AKC, BNC, 2, true, X3>());
        }
      } else if (d.M <= 64) {
        launch(gemm_mma_async_kernel<TOut, KIND, 64, 128, AKC, BNC, KFOLD>, d, 64, 128, s, "gemm_mma_async_kernel",
               async_smem_bytes<64, 128, AKC, BNC>());
      } else if (gemm_wide_tiles() && wide >= sms && !narrow_x3) {
        launch(gemm_mma_async_kernel<TOut, KIND, 128, 256, AKC, BNC, KFOLD>, d, 128, 256, s, "gemm_mma_async_kernel",
               async_smem_bytes<128, 256, AKC, BNC>());
      } else {
        launch(gemm_mma_async_kernel<TOut, KIND, 128, 128, AKC, BNC, KFOLD>, d, 128, 128, s, "gemm_mma_async_kernel",
               async_smem_bytes<128, 128, AKC, BNC>());
      }
    }
  };
};

}  // namespace gemm_detail

template <typename TIn, typename TOut>
void gemm(const GemmDesc& d, cudaStream_t stream) {
  using namespace gemm_detail;
  if (d.M <= 0 || d.N <= 0 || d.b1.count <= 0 || d.b2.count <= 0) return;
  if constexpr (std::is_same_v<TIn, double>) {
    dispatch_layout<SimtPick<TIn, TOut>::template P>(d, stream);
  } else if constexpr (std::is_same_v<TIn, float>) {
    switch (float32_matmul()) {
      case Float32Matmul::kTf32x3: dispatch_layout<MmaAsyncPick<TOut, MmaKind::kTf32x3>::template P>(d, stream); break;
      case Float32Matmul::kTf32: dispatch_layout<MmaAsyncPick<TOut, MmaKind::kTf32>::template P>(d, stream); break;
      default: dispatch_layout<SimtPick<TIn, TOut>::template P>(d, stream);
    }
  } else if constexpr (std::is_same_v<TIn, __half>) {
    dispatch_layout<MmaPick<TIn, TOut, MmaKind::kF16>::template P>(d, stream);
  } else {
    dispatch_layout<MmaPick<TIn, TOut, MmaKind::kBf16>::template P>(d, stream);
  }
}

}  // namespace dcn::cuda
