// SPDX-License-Identifier: MIT
// The 16-bit matrix product on Hopper's warpgroup tensor-core instructions (wgmma, sm_90a). Included by
// gemm_kernel.cuh, whose loaders (VecLoader), block view (Tile) and epilogue (store_pairs) it shares.
//
// NOTE [ Hopper warpgroup GEMM ]
// On Hopper, mma.sync (gemm_mma16_async_kernel) reaches about a quarter of the 16-bit tensor-core peak on our
// products (docs/cuda.md: r50-c5's forward product ~160 TFLOP/s, big-b32's ~240); the rest of the peak is
// only reachable with wgmma, which multiplies a 64-row slice of A by up to 256 columns of B per instruction,
// both read straight from shared memory by the tensor cores (no ldmatrix, no fragment registers), and runs
// asynchronously to the issuing warps. Here: 256 threads, two warpgroups. A block computes a BM x BN tile
// (128 x 128, 128 x 256, 256 x 128, or 64 x 256 when M <= 64; 128 x 128 at two blocks per multiprocessor when K
// is short); warpgroup w takes rows 64w.. (BM = 128), 128w.. as two m64 slices (BM = 256) or half of the columns
// (BM = 64), in m64 n128 k16 instructions. Every thread
// copies 16-byte vectors global -> shared by cp.async (VecLoader's addresses, zero-filled beyond the edges) into a ring
// of STAGES K steps of 64; the tiles are laid out as wgmma reads them with the 128-byte swizzle: K-major (k contiguous
// in global memory) as rows of 64 k (128 bytes) whose 16-byte chunks are permuted by the row's index mod 8, MN-major (m
// or n contiguous) as blocks of 64 rows, each a stack of 64 k lines of 128 bytes permuted by k mod 8 (wgmma's transpose
// flags take the 16-bit MN-major operands). Per K step: wait for its copies, fence them into the async proxy, one
// barrier, issue the copies of the step two ahead into the slot of the step two behind (whose products are complete),
// then the step's products as one wgmma group, leaving one group in flight. Each accumulator receives the k16 products
// in increasing k, as in the mma.sync kernels, and split-K pieces are cut at the same multiples of 32; whether the
// tensor cores round the k16 sums as mma.sync does is measured (tests compare the two kernels). Only built for sm_90a
// (CMakeLists.txt maps 90 to 90a) and chosen on devices of compute capability 9.0; TVDCN_CUDA_GEMM16=mma keeps
// gemm_mma16_async_kernel, =wgmma128 / =wgmma256 / =wgmma256m / =wgmma2 force the tile (128 x 128, 128 x 256,
// 256 x 128 where M > 64, 128 x 128 two per multiprocessor), =wgmma1 the rule without the two-block tiles (all read
// at each call).
#pragma once
#include <cstdint>

namespace dcn::cuda::gemm_detail {

// Byte offset of the 16-byte chunk that holds element (r, k) (r: the row of A or B, k within the K step of
// 64) in a tile with the 128-byte swizzle: K-major when KC (k contiguous), else MN-major.
template <bool KC>
__device__ __forceinline__ uint32_t wg_chunk(int r, int k) {
  if constexpr (KC) {
    return static_cast<uint32_t>(r * 128 + (((k >> 3) ^ (r & 7)) << 4));
  } else {
    return static_cast<uint32_t>((r >> 6) * 8192 + k * 128 + ((((r & 63) >> 3) ^ (k & 7)) << 4));
  }
}

// Shared-memory matrix descriptor (128-byte swizzle): start address, leading and stride byte offsets.
__device__ __forceinline__ uint64_t wg_desc(uint32_t start, uint32_t lbo, uint32_t sbo) {
  return static_cast<uint64_t>((start & 0x3FFFF) >> 4) | (static_cast<uint64_t>((lbo >> 4) & 0x3FFF) << 16) |
         (static_cast<uint64_t>((sbo >> 4) & 0x3FFF) << 32) | (uint64_t{1} << 62);
}

// The descriptor of rows [r0, r0 + 64 or 128) and the k16 slice kk (0-3) of a tile at shared address
// `tile`: K-major, 8-row groups 1024 bytes apart and the slice 32 bytes further along the row; MN-major,
// 64-row blocks 8192 bytes apart, 8-k groups 1024 bytes apart and the slice 16 lines down.
template <bool KC>
__device__ __forceinline__ uint64_t wg_operand(uint32_t tile, int r0, int kk) {
  if constexpr (KC) {
    return wg_desc(tile + r0 * 128 + kk * 32, 16, 1024);
  } else {
    return wg_desc(tile + (r0 >> 6) * 8192 + kk * 2048, 8192, 1024);
  }
}

// The accumulator registers of an m64n64 (32) and an m64n128 (64) wgmma: their placeholders and their operands
// (float d[32] / d[64]).
#define DCN_WGMMA_REGS32                                                  \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define DCN_WGMMA_REGS64                                                            \
  DCN_WGMMA_REGS32                                                                  \
  ","                                                                               \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define DCN_WGMMA_OUT32                                                                                       \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), \
      "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),  \
      "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), \
      "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define DCN_WGMMA_OUT64                                                                                       \
  DCN_WGMMA_OUT32, "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), \
      "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), \
      "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), \
      "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), \
      "+f"(d[63])

#define DCN_WGMMA_M64N128K16(TY)                                                     \
  asm volatile(                                                                      \
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"                                     \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " {" DCN_WGMMA_REGS64 \
      "}, %64, %65, p, 1, 1, %66, %67;\n}\n"                                         \
      : DCN_WGMMA_OUT64                                                              \
      : "l"(desc_a), "l"(desc_b), "n"(TA), "n"(TB))

// D (64 x 128 float32: thread (warp w of the group, lane l) holds rows 16w + l / 4 (+ 8) and columns
// 8j + 2 (l % 4) (+ 1), entry 4j + 2 * (row half) + column) += A (64 x 16) * B (16 x 128), from shared memory.
// TA / TB: 1 when the operand is MN-major.
template <MmaKind KIND, int TA, int TB>
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  if constexpr (KIND == MmaKind::kF16) {
    DCN_WGMMA_M64N128K16("f16");
  } else {
    DCN_WGMMA_M64N128K16("bf16");
  }
#endif
}
#undef DCN_WGMMA_M64N128K16

__device__ __forceinline__ void wgmma_fence() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
// Keeps the compiler from moving accesses of the accumulators across the asynchronous products.
template <int N>
__device__ __forceinline__ void wgmma_fence_registers(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

__device__ __forceinline__ void cp_async16_to(uint32_t smem, const void* gmem, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(gmem), "r"(bytes));
}

// The ring's depth: one block per multiprocessor (BLOCKS = 1) takes 4-5 K steps (up to 193 KB) and keeps one
// wgmma group in flight, so the copies run two steps ahead; two blocks per multiprocessor (128 x 128 tiles only,
// for short K, where one block's epilogue and prologue would leave the tensor cores idle) take 3 steps (97 KB each)
// and wait for each step's products, so the copies still run two steps ahead.
template <int BM, int BN, int BLOCKS>
constexpr int wgmma16_stages() {
  return BLOCKS == 2 ? 3 : BM + BN > 320 ? 4 : 5;
}
// Dynamic shared memory of gemm_wgmma16_kernel: the ring plus 1 KB to align it to the swizzle's 1024 bytes.
template <int BM, int BN, int BLOCKS = 1>
constexpr int wgmma16_smem_bytes() {
  return wgmma16_stages<BM, BN, BLOCKS>() * (BM + BN) * 64 * 2 + 1024;
}

template <typename TIn, typename TOut, MmaKind KIND, int BM, int BN, bool AKC, bool BNC, bool KFOLD, int BLOCKS = 1>
__global__ void __launch_bounds__(kThreads, BLOCKS) gemm_wgmma16_kernel(const GemmDesc d) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int BK = 64, STAGES = wgmma16_stages<BM, BN, BLOCKS>();
  constexpr int KEEP = BLOCKS == 2 ? 0 : 1;  // wgmma groups left in flight at the end of a K step
  constexpr int AHEAD = STAGES - 1 - KEEP;   // K steps whose copies are in flight
  static_assert(BLOCKS == 1 || (BM == 128 && BN == 128), "two blocks per multiprocessor: 128 x 128 tiles");
  constexpr int MS = BM == 256 ? 2 : 1;       // m64 slices per warpgroup
  constexpr int WN = BM == 64 ? BN / 2 : BN;  // columns per warpgroup
  constexpr int NW = WN / 128;                // n128 products per warpgroup, m64 slice and k16 slice
  constexpr uint32_t A_BYTES = BM * BK * 2, STAGE_BYTES = (BM + BN) * BK * 2;
  static_assert(KIND == MmaKind::kF16 || KIND == MmaKind::kBf16, "16-bit operands");
  static_assert((BM == 256 || BM == 128 || BM == 64) && WN % 128 == 0 && MS * NW <= 2, "tile shape");
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const uint32_t raw = static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw));
  const uint32_t ring = (raw + 1023u) & ~1023u;

  const Tile<TIn, TOut> t(d, BM, BN, 32);  // split-K pieces at the mma.sync kernels' multiples of 32
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32, wg = warp / 4;
  const int wg_m = BM == 64 ? 0 : wg * 64 * MS, wg_n = BM == 64 ? wg * WN : 0;
  using LA = VecLoader<TIn, BM, BK, AKC, KFOLD>;
  using LB = VecLoader<TIn, BN, BK, !BNC, KFOLD>;
  const LA la(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold);
  const LB lb(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold);

  const int64_t ktiles = (t.k_end - t.k_begin + BK - 1) / BK;
  auto issue = [&](int64_t kt, int st) {
    if (kt < ktiles) {
      const int64_t k0 = t.k_begin + kt * BK;
      const uint32_t a_tile = ring + st * STAGE_BYTES, b_tile = a_tile + A_BYTES;
#pragma unroll
      for (int i = 0; i < LA::kVecs; ++i) {
        int bytes;
        const TIn* p = la.src(k0, t.k_end, i, bytes);
        cp_async16_to(a_tile + wg_chunk<AKC>(la.row(i), la.col(i)), bytes > 0 ? p : t.A, bytes);
      }
#pragma unroll
      for (int i = 0; i < LB::kVecs; ++i) {
        int bytes;
        const TIn* p = lb.src(k0, t.k_end, i, bytes);
        cp_async16_to(b_tile + wg_chunk<!BNC>(lb.row(i), lb.col(i)), bytes > 0 ? p : t.B, bytes);
      }
    }
    cp_async_commit();
  };

  float acc[MS * NW][64];  // slice (m, j) at m * NW + j
#pragma unroll
  for (int j = 0; j < MS * NW; ++j) {
#pragma unroll
    for (int r = 0; r < 64; ++r) acc[j][r] = 0.f;
    wgmma_fence_registers(acc[j]);
  }

#pragma unroll
  for (int st = 0; st < AHEAD; ++st) issue(st, st);
  for (int64_t kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<AHEAD - 1>();                                     // this thread's copies of step kt have landed
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // visible to the tensor cores' reads
    __syncthreads();  // everyone's have, and every warpgroup's products of step kt - 1 - KEEP are complete
    issue(kt + AHEAD, static_cast<int>((kt + AHEAD) % STAGES));
    const uint32_t a_tile = ring + static_cast<uint32_t>(kt % STAGES) * STAGE_BYTES, b_tile = a_tile + A_BYTES;
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
#pragma unroll
      for (int m = 0; m < MS; ++m) {
        const uint64_t da = wg_operand<AKC>(a_tile, wg_m + m * 64, kk);
#pragma unroll
        for (int j = 0; j < NW; ++j)
          wgmma_m64n128k16<KIND, AKC ? 0 : 1, BNC ? 1 : 0>(acc[m * NW + j], da,
                                                           wg_operand<!BNC>(b_tile, wg_n + j * 128, kk));
      }
    }
    wgmma_commit();
    wgmma_wait<KEEP>();  // the products of step kt - KEEP are complete
  }
  wgmma_wait<0>();
#pragma unroll
  for (int j = 0; j < MS * NW; ++j) wgmma_fence_registers(acc[j]);
  cp_async_wait<0>();
  const int g = lane / 4, q = lane % 4;
#pragma unroll
  for (int m = 0; m < MS; ++m)
#pragma unroll
    for (int j = 0; j < NW; ++j)
      store_pairs<1, 16>(t, *reinterpret_cast<const float(*)[1][16][4]>(acc[m * NW + j]),
                         wg_m + m * 64 + (warp % 4) * 16, wg_n + j * 128, g, q);
#endif
}

// NOTE [ Hopper warpgroup GEMM, 32-bit operands ]
// The float32 products (TF32, and 3xTF32, the default accurate mode) on wgmma. TF32 wgmma reads both operands
// K-major from shared memory (no transpose flags for 32-bit types), and our products have every layout (the
// forward's columns and the input gradient's operands are MN-major), and the values must be the mma.sync kernels'
// (cvt.rna to TF32, in 3xTF32 the remainder split as well). So the operands go global -> shared raw, by cp.async
// of 16-byte vectors (VecLoader's addresses, any layout) into a ring of 3 K steps of 32; then the block converts
// each landed step once into planes in the layout wgmma reads (K-major, rows of 32 TF32 words = 128 bytes with the
// 128-byte swizzle: the TF32 values, and in 3xTF32 a second plane of remainders), double-buffered, so step kt is
// converted while the tensor cores run step kt - 1. Raw layouts: a K-major operand as rows of 128 bytes (a thread
// converts one 16-byte chunk to one chunk); an MN-major one as lines of one k, their 16-byte chunks permuted by
// (k / 4) mod 8 so that a thread's four reads (lines 4 kb .. 4 kb + 3 at one chunk of 4 rows) and its four
// writes after a 4 x 4 transpose in registers (rows 4 rb .. 4 rb + 3 at chunk kb) are free of bank conflicts. Per K
// step, per k8 slice: in 3xTF32 small(A) x big(B), big(A) x small(B), then big x big, the order of the mma.sync
// kernels; split-K pieces at the same multiples of 32. Two barriers per step. 128 x 128 tiles (3xTF32: 225 KB of
// shared memory); where M <= 64, 64 x 128 (each warpgroup 64 columns, m64n64k8), in TF32 64 x 256 when N >= 1024.
// TVDCN_CUDA_GEMM32=mma keeps gemm_mma_async_kernel (read at each call).

#define DCN_WGMMA_M64N128K8_TF32()                           \
  asm volatile(                                              \
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"             \
      "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32" \
      " {" DCN_WGMMA_REGS64 "}, %64, %65, p, 1, 1;\n}\n"     \
      : DCN_WGMMA_OUT64                                      \
      : "l"(desc_a), "l"(desc_b))

#define DCN_WGMMA_M64N64K8_TF32()                           \
  asm volatile(                                             \
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"            \
      "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32" \
      " {" DCN_WGMMA_REGS32 "}, %32, %33, p, 1, 1;\n}\n"    \
      : DCN_WGMMA_OUT32                                     \
      : "l"(desc_a), "l"(desc_b))

// D (64 x NI float32, the layout of wgmma_m64n128k16 cut to NI columns) += A (64 x 8 TF32) * B (8 x NI TF32), both
// K-major in shared memory; NI = 128 or 64.
template <int NI>
__device__ __forceinline__ void wgmma_m64k8_tf32(float (&d)[NI / 2], uint64_t desc_a, uint64_t desc_b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  static_assert(NI == 128 || NI == 64, "n128 or n64");
  if constexpr (NI == 128) {
    DCN_WGMMA_M64N128K8_TF32();
  } else {
    DCN_WGMMA_M64N64K8_TF32();
  }
#endif
}
#undef DCN_WGMMA_M64N128K8_TF32
#undef DCN_WGMMA_M64N64K8_TF32

// Shared memory of gemm_wgmma_tf32_kernel: two plane sets (TF32 values [and remainders] of A and B, K-major,
// 128 bytes a row), the raw ring of 3 K steps of 32 float32, and 1 KB to align the planes to the swizzle. With A's
// planes made before the product (APRE): two plane sets of B, a ring of 3 K steps of A's planes, B's raw ring.
template <int BM, int BN, bool X3, bool APRE = false>
constexpr int wgmma_tf32_smem_bytes() {
  constexpr int x = X3 ? 2 : 1;
  return APRE ? 2 * BN * 128 * x + 3 * BM * 128 * x + 3 * BN * 128 + 1024
              : 2 * (BM + BN) * 128 * x + 3 * (BM + BN) * 128 + 1024;
}

// NOTE [ TF32 planes of A made once per product ]
// In gemm_wgmma_tf32_kernel every block converts the raw K steps of its A rows, so A's rows are converted once per
// column tile of the product (the forward's weight once per 128 columns). Where A is used by at least two column
// tiles (or batch entries that share it) and its planes fit the workspace limit, wgmma_tf32_planes_kernel first
// writes them once into global memory, in the exact bytes the kernel's shared planes hold (per BM-row tile and K
// step of 32: BM rows of 32 TF32 words with the 128-byte swizzle, then in 3xTF32 the remainders; zeros beyond M and
// K), and the product copies each step's planes by cp.async into a ring of 3 (16-byte chunks at consecutive
// addresses) instead of converting: the same TF32 values, so the same results bit for bit. A's planes of step kt + 2
// are copied after the products of step kt - 1 are complete (the slot they overwrite). TVDCN_CUDA_GEMM32=raw keeps
// the conversion in the kernel (read at each call: an A/B switch and tests).
struct Tf32Planes {
  float* p = nullptr;  // [entry][BM-row tile][K step][words of a step], or nullptr: A is converted in the kernel
  int64_t tiles_m = 0, ksteps = 0;
  int64_t c2 = 1;  // A's distinct entries along the second batch level (b2.count where b2.a != 0, else 1)
};

// 32-bit words of one BM-row tile's planes for one K step of 32.
constexpr int tf32_plane_words(int bm, bool x3) { return bm * 32 * (x3 ? 2 : 1); }

// The entry of A's planes that batch index z reads (batch entries with the same A share planes).
__device__ __forceinline__ int64_t tf32_planes_entry(const GemmDesc& d, const Tf32Planes& ap, int64_t z) {
  const int64_t z1 = z / d.b2.count, z2 = z % d.b2.count;
  return (d.b1.a != 0 ? z1 : 0) * ap.c2 + (d.b2.a != 0 ? z2 : 0);
}

// Writes A's planes (NOTE [ TF32 planes of A made once per product ]): block (x, y) the BM-row tile x % tiles_m, K
// step x / tiles_m of entry y; a thread per 16-byte chunk (4 k of one row), neighbouring threads along A's
// contiguous index.
template <int BM, bool X3>
__global__ void __launch_bounds__(kThreads) wgmma_tf32_planes_kernel(const GemmDesc d, const Tf32Planes ap) {
  const int64_t e = blockIdx.y, e1 = e / ap.c2, e2 = e % ap.c2;
  const float* a = static_cast<const float*>(d.A) + e1 * d.b1.a + e2 * d.b2.a;
  const int64_t mt = blockIdx.x % ap.tiles_m, ks = blockIdx.x / ap.tiles_m;
  const int64_t m0 = mt * BM, k0 = ks * 32;
  uint32_t* out =
      reinterpret_cast<uint32_t*>(ap.p) + ((e * ap.tiles_m + mt) * ap.ksteps + ks) * tf32_plane_words(BM, X3);
  const bool kc = d.a_sk == 1;
  for (int item = threadIdx.x; item < BM * 8; item += kThreads) {
    const int r = kc ? item / 8 : item % BM, c = kc ? item % 8 : item / BM;  // chunk c (k 4c .. 4c + 3) of row r
    const int64_t m = m0 + r;
    uint32_t big[4], small[4] = {0, 0, 0, 0};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t k = k0 + 4 * c + j;
      float v = 0.f;
      if (m < d.M && k < d.K) {
        const int64_t ko = d.kfold > 0 ? (k / d.kfold) * d.a_kf + (k % d.kfold) * d.a_sk : k * d.a_sk;
        v = a[m * d.a_sm + ko];
      }
      big[j] = to_tf32(v);  // as wg_convert_tf32
      if constexpr (X3) small[j] = to_tf32(v - __uint_as_float(big[j]));
    }
    const int off = r * 32 + ((c ^ (r & 7)) << 2);
    *reinterpret_cast<uint4*>(out + off) = make_uint4(big[0], big[1], big[2], big[3]);
    if constexpr (X3)
      *reinterpret_cast<uint4*>(out + BM * 32 + off) = make_uint4(small[0], small[1], small[2], small[3]);
  }
}

// Converts the raw rows [0, R) x k [0, 32) of one operand (K-major raw when KC, else MN-major) into its
// plane(s) at `big` [and `small`, X3], K-major with the 128-byte swizzle.
template <int R, bool KC, bool X3>
__device__ __forceinline__ void wg_convert_tf32(uint32_t raw, uint32_t big, uint32_t small) {
  constexpr int kTotal = KC ? R * 8 : R * 2;  // 16-byte chunks (KC) or 4 x 4 blocks in R x 32
  constexpr int kItems = (kTotal + kThreads - 1) / kThreads;
  static_assert(kTotal % kThreads == 0 || kTotal < kThreads, "whole items per thread, or fewer than threads");
  const auto split = [](float v, uint32_t& b, uint32_t& s) {
    b = to_tf32(v);
    if constexpr (X3) s = to_tf32(v - __uint_as_float(b));
  };
  const auto store = [&](int r, int c, const float(&v)[4]) {
    uint32_t b[4], sm[4] = {0, 0, 0, 0};
#pragma unroll
    for (int e = 0; e < 4; ++e) split(v[e], b[e], sm[e]);
    const uint32_t off = static_cast<uint32_t>(r * 128 + ((c ^ (r & 7)) << 4));
    asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"r"(big + off), "r"(b[0]), "r"(b[1]), "r"(b[2]),
                 "r"(b[3]));
    if constexpr (X3)
      asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"r"(small + off), "r"(sm[0]), "r"(sm[1]), "r"(sm[2]),
                   "r"(sm[3]));
  };
  const auto load = [](uint32_t addr, float(&v)[4]) {
    asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                 : "=f"(v[0]), "=f"(v[1]), "=f"(v[2]), "=f"(v[3])
                 : "r"(addr));
  };
#pragma unroll
  for (int it = 0; it < kItems; ++it) {
    const int item = threadIdx.x + it * kThreads;
    if (kTotal < kThreads && item >= kTotal) break;
    if constexpr (KC) {
      const int c = item % 8, r = item / 8;  // chunk c (k 4c .. 4c + 3) of row r
      float v[4];
      load(raw + static_cast<uint32_t>(r * 128 + c * 16), v);
      store(r, c, v);
    } else {
      const int kb = item % 8, rb = item / 8;  // k 4 kb .. 4 kb + 3, rows 4 rb .. 4 rb + 3
      float v[4][4];                           // v[i][j]: k = 4 kb + i, row 4 rb + j
#pragma unroll
      for (int i = 0; i < 4; ++i) load(raw + static_cast<uint32_t>((4 * kb + i) * R * 4 + ((rb ^ kb) << 4)), v[i]);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float row[4] = {v[0][j], v[1][j], v[2][j], v[3][j]};
        store(4 * rb + j, kb, row);
      }
    }
  }
}

// Raw byte offset of the 16-byte vector whose first element is (r, k) (VecLoader's row and column) in the
// ring: K-major rows of 128 bytes; MN-major lines of R elements with chunks permuted by (k / 4) mod 8.
template <int R, bool KC>
__device__ __forceinline__ uint32_t wg_raw_chunk(int r, int k) {
  if constexpr (KC) {
    return static_cast<uint32_t>(r * 128 + k * 4);
  } else {
    return static_cast<uint32_t>(k * R * 4 + (((r >> 2) ^ ((k >> 2) & 7)) << 4));
  }
}

// The cp.async copies of one operand's K steps in gemm_wgmma_tf32_kernel: VecLoader's vectors (float32, 4 a
// vector), but in the whole K steps of an unfolded K each vector's address is a running pointer plus a constant
// and its byte count is fixed, instead of being recomputed in 64-bit arithmetic per vector and step (ncu found the
// kernel bound by instruction issue with 2 warps per scheduler); the last, partial step and a folded K go through
// VecLoader::src.
template <int R, bool KC, bool KFOLD>
struct RawSteps32 {
  using V = VecLoader<float, R, 32, KC, KFOLD>;
  static constexpr int kVecs = V::kVecs;
  V v;
  const float* p0;       // vector 0's first element in K step 0 (unfolded K)
  int64_t istep, kstep;  // elements between vectors i and i + 1, and between K steps
  uint32_t rows;         // KC: bit i set when vector i's row exists; else the bytes of each vector in a whole step

  __device__ __forceinline__ RawSteps32(const V& loader, int64_t k_begin) : v(loader) {
    if constexpr (KC) {
      p0 = v.ptr + k_begin + v.k_t;
      istep = v.step;
      kstep = 32;
      rows = 0;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) rows |= (v.r_t + i * V::kRowStep < v.r_lim ? 1u : 0u) << i;
    } else {
      p0 = v.ptr + (k_begin + v.k_t) * v.s_k;
      istep = V::kKStep * v.s_k;
      kstep = 32 * v.s_k;
      const int n = v.r_lim - v.r_t;
      rows = static_cast<uint32_t>(n <= 0 ? 0 : n >= 4 ? 16 : 4 * n);
    }
  }
  // Copies K step kt (from k0) into the stage at shared address `stage` (raw layout: wg_raw_chunk).
  __device__ __forceinline__ void issue(uint32_t stage, int64_t kt, int64_t k0, int64_t k_end, const float* any) const {
    if (KFOLD || k0 + 32 > k_end) {
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        int bytes;
        const float* p = v.src(k0, k_end, i, bytes);
        cp_async16_to(stage + wg_raw_chunk<R, KC>(v.row(i), v.col(i)), bytes > 0 ? p : any, bytes);
      }
    } else {
      const float* p = p0 + kt * kstep;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        const int bytes = KC ? static_cast<int>((rows >> i) & 1u) * 16 : static_cast<int>(rows);
        cp_async16_to(stage + wg_raw_chunk<R, KC>(v.row(i), v.col(i)), bytes > 0 ? p + i * istep : any, bytes);
      }
    }
  }
};

template <typename TOut, bool X3, int BM, int BN, bool AKC, bool BNC, bool KFOLD, bool APRE = false>
__global__ void __launch_bounds__(kThreads, 1) gemm_wgmma_tf32_kernel(const GemmDesc d, const Tf32Planes ap) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int BK = 32, STAGES = 3, AHEAD = 2;
  constexpr int WN = BM == 64 ? BN / 2 : BN;  // columns per warpgroup
  constexpr int NI = WN >= 128 ? 128 : 64;    // columns per instruction
  constexpr int NW = WN / NI;                 // products per warpgroup and k8 slice
  static_assert((BM == 128 || BM == 64) && WN % NI == 0 && NW <= 2, "tile shape");
  constexpr uint32_t PLANE_A = BM * 128, PLANE_B = BN * 128, X = X3 ? 2 : 1;
  // Converted planes per set (double-buffered; with APRE B's only), a slot of A's ring of planes (APRE), raw bytes.
  constexpr uint32_t SET = (APRE ? PLANE_B : PLANE_A + PLANE_B) * X, ASLOT = PLANE_A * X;
  constexpr uint32_t RAW_A = APRE ? 0 : BM * BK * 4, RAW = RAW_A + BN * BK * 4;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const uint32_t planes = (static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw)) + 1023u) & ~1023u;
  const uint32_t aring = planes + 2 * SET;  // APRE
  const uint32_t ring = aring + (APRE ? STAGES * ASLOT : 0);

  const Tile<float, TOut> t(d, BM, BN, 32);  // split-K pieces at the mma.sync kernels' multiples of 32
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32, wg = warp / 4;
  const int wg_m = BM == 64 ? 0 : wg * 64, wg_n = BM == 64 ? wg * WN : 0;
  using LA = VecLoader<float, BM, BK, AKC, KFOLD>;
  using LB = VecLoader<float, BN, BK, !BNC, KFOLD>;
  const RawSteps32<BM, AKC, KFOLD> la(LA(t.A, t.m0, t.M, d.a_sm, d.a_sk, d.a_kf, d.kfold), t.k_begin);
  const RawSteps32<BN, !BNC, KFOLD> lb(LB(t.B, t.n0, t.N, d.b_sn, d.b_sk, d.b_kf, d.kfold), t.k_begin);

  const int64_t ktiles = (t.k_end - t.k_begin + BK - 1) / BK;
  // The raw copies of step kt into ring slot st (A's only without APRE); committed by the caller.
  auto issue_raw = [&](int64_t kt, int st) {
    if (kt < ktiles) {
      const int64_t k0 = t.k_begin + kt * BK;
      const uint32_t a_raw = ring + st * RAW;
      if constexpr (!APRE) la.issue(a_raw, kt, k0, t.k_end, t.A);
      lb.issue(a_raw + RAW_A, kt, k0, t.k_end, t.B);
    }
  };
  // APRE: the copies of A's planes of step kt into its ring slot st (16-byte chunks at consecutive addresses).
  const uint32_t* a_planes = nullptr;
  if constexpr (APRE)
    a_planes =
        reinterpret_cast<const uint32_t*>(ap.p) +
        ((tf32_planes_entry(d, ap, blockIdx.y) * ap.tiles_m + t.m0 / BM) * ap.ksteps + t.k_begin / BK) * (ASLOT / 4);
  auto issue_planes = [&](int64_t kt, int st) {
    if (kt < ktiles) {
      const uint32_t* src = a_planes + kt * (ASLOT / 4) + tid * 4;
      const uint32_t dst = aring + static_cast<uint32_t>(st) * ASLOT + tid * 16;
#pragma unroll
      for (int j = 0; j < static_cast<int>(ASLOT / 16 / kThreads); ++j)
        cp_async16_to(dst + j * kThreads * 16, src + j * kThreads * 4, 16);
    }
  };
  static_assert(ASLOT % (16 * kThreads) == 0, "whole chunks per thread");

  float acc[NW][NI / 2];
#pragma unroll
  for (int j = 0; j < NW; ++j) {
#pragma unroll
    for (int r = 0; r < NI / 2; ++r) acc[j][r] = 0.f;
    wgmma_fence_registers(acc[j]);
  }

#pragma unroll
  for (int st = 0; st < AHEAD; ++st) {
    if constexpr (APRE) issue_planes(st, st);
    issue_raw(st, st);
    cp_async_commit();
  }
  int st = 0;  // kt % STAGES (the ring slot of step kt), kept in 32 bits
  for (int64_t kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<AHEAD - 1>();  // this thread's copies of step kt have landed
    __syncthreads();             // everyone's have; step kt - 1 is converted; the products of step kt - 2 are complete
    const int behind = st == 0 ? STAGES - 1 : st - 1;  // the slot of step kt - 1, which step kt + 2 takes
    issue_raw(kt + AHEAD, behind);
    if constexpr (!APRE) cp_async_commit();
    const uint32_t a_raw = ring + static_cast<uint32_t>(st) * RAW, b_raw = a_raw + RAW_A;
    const uint32_t a_slot = aring + static_cast<uint32_t>(st) * ASLOT;  // APRE: A's planes of step kt
    st = st == STAGES - 1 ? 0 : st + 1;
    const uint32_t set = planes + (static_cast<uint32_t>(kt) & 1u) * SET;  // the planes of step kt - 2
    uint32_t a_big, a_small, b_big, b_small;
    if constexpr (APRE) {
      a_big = a_slot;
      a_small = a_slot + PLANE_A;
      b_big = set;
      b_small = set + PLANE_B;
    } else {
      a_big = set;
      b_big = set + PLANE_A;
      a_small = b_big + PLANE_B;
      b_small = a_small + PLANE_A;
      wg_convert_tf32<BM, AKC, X3>(a_raw, a_big, a_small);
    }
    wg_convert_tf32<BN, !BNC, X3>(b_raw, b_big, b_small);
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // visible to the tensor cores' reads
    __syncthreads();
    wgmma_fence();
    // Descriptors of the k8 slice kk: the slice 0's plus kk * 32 bytes (2 in the descriptor's address field, which
    // does not carry: shared addresses stay below 2^18).
    const uint64_t da0 = wg_operand<true>(a_big, wg_m, 0), das0 = wg_operand<true>(a_small, wg_m, 0);
#pragma unroll
    for (int kk = 0; kk < BK / 8; ++kk) {
      const uint64_t da = da0 + 2 * kk;
#pragma unroll
      for (int j = 0; j < NW; ++j) {
        const uint64_t db = wg_operand<true>(b_big, wg_n + j * NI, 0) + 2 * kk;
        if constexpr (X3) {
          wgmma_m64k8_tf32<NI>(acc[j], das0 + 2 * kk, db);
          wgmma_m64k8_tf32<NI>(acc[j], da, wg_operand<true>(b_small, wg_n + j * NI, 0) + 2 * kk);
        }
        wgmma_m64k8_tf32<NI>(acc[j], da, db);
      }
    }
    wgmma_commit();
    wgmma_wait<1>();  // the products of step kt - 1 are complete
    if constexpr (APRE) {
      issue_planes(kt + AHEAD, behind);  // A's slot of step kt - 1: its products are complete
      cp_async_commit();
    }
  }
  wgmma_wait<0>();
#pragma unroll
  for (int j = 0; j < NW; ++j) wgmma_fence_registers(acc[j]);
  cp_async_wait<0>();
  const int g = lane / 4, q = lane % 4;
#pragma unroll
  for (int j = 0; j < NW; ++j)
    store_pairs<1, NI / 8>(t, *reinterpret_cast<const float(*)[1][NI / 8][4]>(acc[j]), wg_m + (warp % 4) * 16,
                           wg_n + j * NI, g, q);
#endif
}

#undef DCN_WGMMA_REGS32
#undef DCN_WGMMA_REGS64
#undef DCN_WGMMA_OUT32
#undef DCN_WGMMA_OUT64

}  // namespace dcn::cuda::gemm_detail
