// SPDX-License-Identifier: MIT
// The fused forward of deformable convolution in the regular view (NOTE [ Regular view ] in params.h):
//   Y[b, g*cyg + o, q] = sum_{kpt, c} W[g*cyg + o, c, kpt] * mask * Interp(X[b, g*cxg + c], p(q, kpt))
// as one implicit GEMM on the tensor cores, M = output channels of a group, N = y positions of one
// image, K = (kernel point, input channel), kernel point outer. No column buffer: the producer samples
// the bilinear (linear, trilinear) values, mask applied, straight into the shared-memory B tile.
//
// NOTE [ Fused forward ]
// - CTA tile BM x 128 x BK: BM = 64 (at most 64 output channels per group), 128, or 256 (half types,
//   more than 128 output channels per group, so that each sampled tile feeds twice the channels);
//   half types: 16 warps as 4 (M) x 4 (N), float32: 8 warps as 2 x 4; warp tile BM/WARPS_M x 32; mma.sync (m16n8k16 for
//   float16/bfloat16, m16n8k8 TF32 for float32, three products for 3xTF32), operands read with ldmatrix. A shared row
//   holds 64 bytes of K (32 half or 16 float32 elements) plus 16 bytes of padding, so ldmatrix and the sampler's
//   16-byte stores are free of bank conflicts in both element widths.
// - The weight is permuted once per call into [G][K][BM-padded o][BK-padded c] (zero padding, float32
//   split into its TF32 part and remainder here), so the A tiles are unconditional 16-byte cp.async.
// - X is first copied channels-last (to_channels_last_kernel, per chunk of images): a corner of 8
//   channels is then one 16-byte load, where the channels-first layout needed 8 scattered 2-byte loads
//   (the first version, which measured 1.2x faster than im2col + GEMM at best, see docs/cuda.md).
// - Sampler jobs (position of the tile, octet of 8 channels of the K step): the octets lie in one
//   offset and one mask group (the launcher asks for cx/G, cx/OG and cx/MG to be multiples of 8). The
//   sampling plan (2^D corner indices and weights with the mask folded in) depends on (position,
//   kernel point, offset group, mask group) only: the shared core of sampling.h computes it when that
//   key changes, and every channel of the group reuses it. float32 values are split into TF32 big and
//   small parts once, when staged.
// - Two shared stages: while the warps multiply stage s, they sample and load stage s ^ 1; the corner
//   loads of stage s ^ 1 are issued before the MMA of stage s and blended after it (kPrefetch).
// - Epilogue: bias in float32, rounded once to T, stored to NCHW Y.
//
// NOTE [ Fused forward, narrow tile ]
// In 1D and 2D the position tile can be BN = 64 (kBNNarrow) instead of 128, in 8 warps (4 x 2), so two CTAs
// fit an SM at <= 128 registers, each with its own barriers: one can sample while the other multiplies,
// where the 16 warps of a wide half-type CTA all sample, then all multiply. Half types keep their warp tile
// (BM/4 x 32) and jobs of 8 channels. float32 (wide: 8 warps as 2 x 4, warp tile BM/2 x 32, 64
// accumulators at BM = 128, which spill 144 bytes in TF32 and 328 in 3xTF32 and leave no registers for the
// corner prefetch) gets the half types' warp tile BM/4 x 32 and jobs of 4 channels (one 16-byte load per
// corner), so that each of the 256 threads still has one job: 32 accumulators at BM = 128, and the corner
// prefetch (kPrefetch) fits. The weight tile is loaded twice as often per position. TVDCN_CUDA_FUSED_TILE=narrow|wide
// forces either (fused_tile()); docs/cuda.md (session 9, k12d) has the measurements and the default. Indexing:
// per-plane corner indices in I (int32 when a plane and its reach fit, else int64), image and channel base offsets in
// int64.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_runtime/check.h"
#include "cuda_runtime/scalar.cuh"
#include "deform_conv/params.h"
#include "deform_conv/sampling.h"

namespace dcn::cuda::fused {

constexpr int kThreadsF = 256;
constexpr int kBN = 128;       // y positions per CTA tile (the wide tile; NOTE [ Fused forward, narrow tile ])
constexpr int kBNNarrow = 64;  // y positions per CTA tile, narrow
constexpr int kRowBytes = 64;  // bytes of K per shared row (one K step of the tile)
constexpr int kRowPad = 16;    // padding bytes per shared row
constexpr int kRowStride = kRowBytes + kRowPad;

enum class Kind { kF16, kBf16, kTf32, kTf32x3 };

// Geometry of one launch (device-copyable).
template <int D>
struct Args {
  SmallArray<int64_t, D> x_size, y_size, kernel_size, stride, padding, dilation;
  int64_t nx, ny;    // prod(x_size), prod(y_size)
  int cx, cy, G;     // channels of X and Y, groups
  int cxg, cyg;      // per group
  int K;             // kernel points
  int og, mg;        // offset and mask groups
  int cpo, cpm;      // channels per offset / mask group
  int c_pad, o_pad;  // cxg rounded up to BK, cyg rounded up to BM (the permuted weight's extents)
  int o_tiles, q_tiles;
  int64_t b0;  // first image of the launch (x is the channels-last copy of images b0 ..)
};

__device__ __forceinline__ uint32_t tf32_bits(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

// Big and small TF32 parts of x (x ~= big + small to about 2^-22 relative).
__device__ __forceinline__ void tf32_split(float x, float& big, float& small) {
  const uint32_t hb = tf32_bits(x);
  big = __uint_as_float(hb);
  small = __uint_as_float(tf32_bits(x - big));
}

// W[(g*cyg + o)][c][kpt] -> wp[((g*K + kpt)*o_pad + o)*c_pad + c], zero padded; for 3xTF32 the
// remainder goes to wp_small at the same place.
template <typename T, Kind KIND>
__global__ void permute_weight_kernel(const T* __restrict__ w, T* __restrict__ wp, T* __restrict__ wp_small, int G,
                                      int K, int cyg, int cxg, int o_pad, int c_pad) {
  const int64_t n = int64_t{G} * K * o_pad * c_pad;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t r = i;
    const int c = static_cast<int>(r % c_pad);
    r /= c_pad;
    const int o = static_cast<int>(r % o_pad);
    r /= o_pad;
    const int kpt = static_cast<int>(r % K);
    const int g = static_cast<int>(r / K);
    T v = convert<T>(0.0f);
    if (o < cyg && c < cxg) v = w[((int64_t{g} * cyg + o) * cxg + c) * K + kpt];
    if constexpr (KIND == Kind::kTf32x3) {
      float big, small;
      tf32_split(convert<float>(v), big, small);
      wp[i] = big;
      wp_small[i] = small;
    } else if constexpr (KIND == Kind::kTf32) {
      wp[i] = __uint_as_float(tf32_bits(convert<float>(v)));
    } else {
      wp[i] = v;
    }
  }
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void cp_async16(uint32_t s, const void* g) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(g));
}
__device__ __forceinline__ void cp_async_commit_all() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::); }

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

template <Kind KIND>
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t* a, const uint32_t* b) {
  if constexpr (KIND == Kind::kF16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (KIND == Kind::kBf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

// Shared element type and planes per operand of each kind.
template <Kind KIND>
struct KindTraits {
  static constexpr int kPlanes = KIND == Kind::kTf32x3 ? 2 : 1;
  static constexpr int kElem = (KIND == Kind::kF16 || KIND == Kind::kBf16) ? 2 : 4;
  static constexpr int kBK = kRowBytes / kElem;  // K elements per step: 32 (half) or 16 (float32)
};

// Packs N float values as N elements of the shared type into 2N (half, N = 8) or 4N (float32, N = 8 or 4)
// bytes.
template <typename T, Kind KIND, int N>
__device__ __forceinline__ void store_n(unsigned char* big_row, unsigned char* small_row, const float (&v)[N]) {
  if constexpr (KIND == Kind::kF16 || KIND == Kind::kBf16) {
    static_assert(N == 8, "half types: jobs of 8 channels");
    uint32_t w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const T lo = convert<T>(v[2 * i]), hi = convert<T>(v[2 * i + 1]);
      w[i] = static_cast<uint32_t>(*reinterpret_cast<const uint16_t*>(&lo)) |
             (static_cast<uint32_t>(*reinterpret_cast<const uint16_t*>(&hi)) << 16);
    }
    *reinterpret_cast<uint4*>(big_row) = make_uint4(w[0], w[1], w[2], w[3]);
  } else {
    static_assert(N % 4 == 0, "float32: whole 16-byte vectors");
    float b[N], s[N];
#pragma unroll
    for (int i = 0; i < N; ++i) {
      if constexpr (KIND == Kind::kTf32x3) {
        tf32_split(v[i], b[i], s[i]);
      } else {
        b[i] = __uint_as_float(tf32_bits(v[i]));
      }
    }
#pragma unroll
    for (int q = 0; q < N / 4; ++q) {
      reinterpret_cast<float4*>(big_row)[q] = make_float4(b[4 * q], b[4 * q + 1], b[4 * q + 2], b[4 * q + 3]);
      if constexpr (KIND == Kind::kTf32x3) {
        reinterpret_cast<float4*>(small_row)[q] = make_float4(s[4 * q], s[4 * q + 1], s[4 * q + 2], s[4 * q + 3]);
      }
    }
  }
}

// N elements held as raw 16-byte vectors (V = 1 for half types, N = 8; V = N / 4 for float32), widened to
// float.
template <typename T, int V, int N>
__device__ __forceinline__ void unpack_n(const uint4 (&r)[V], float (&out)[N]) {
  if constexpr (std::is_same_v<T, float>) {
    static_assert(N == 4 * V, "float32: four elements per vector");
#pragma unroll
    for (int v = 0; v < V; ++v) {
      out[4 * v] = __uint_as_float(r[v].x), out[4 * v + 1] = __uint_as_float(r[v].y);
      out[4 * v + 2] = __uint_as_float(r[v].z), out[4 * v + 3] = __uint_as_float(r[v].w);
    }
  } else {
    static_assert(N == 8 && V == 1, "half types: eight elements in one vector");
    const uint32_t w[4] = {r[0].x, r[0].y, r[0].z, r[0].w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if constexpr (std::is_same_v<T, __half>) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
        out[2 * i] = f.x, out[2 * i + 1] = f.y;
      } else {
        const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w[i]));
        out[2 * i] = f.x, out[2 * i + 1] = f.y;
      }
    }
  }
}

// NOTE [ Channels-last by group ]: the copies below write xt[bl][g][p][c'] = x[b0 + bl][g * cg + c'][p] for groups
// of cg channels (cg divides c): with cg == c the plain channels-last copy xt[bl][p][c], with cg < c each group's
// channels-last image on its own, so that a pixel of one group is cg contiguous values and its neighbours follow it
// (the vector im2col's layout: NOTE [ Vector im2col for small offset groups ]). The element of (image bl, channel
// gc, position gp) in it:
__device__ __forceinline__ int64_t channels_last_index(int64_t bl, int64_t gc, int64_t gp, int64_t c, int64_t np,
                                                       int64_t cg) {
  if (cg == c) return (bl * np + gp) * c + gc;
  const int64_t g = gc / cg;
  return ((bl * c + g * cg) * np) + gp * cg + (gc - g * cg);
}

// xt (NOTE [ Channels-last by group ]) from x for nb images (the channels-last copy of the sampled tensor), through
// 32 x 32 shared tiles; blockIdx.x = (position tile, channel tile), blockIdx.y strides over images.
template <typename T>
__global__ void to_channels_last_kernel(const T* __restrict__ x, T* __restrict__ xt, int64_t b0, int64_t nb, int64_t c,
                                        int64_t np, int64_t p_tiles, int64_t cg) {
  __shared__ T tile[32][33];
  const int64_t pt = blockIdx.x % p_tiles, ct = blockIdx.x / p_tiles;
  for (int64_t bl = blockIdx.y; bl < nb; bl += gridDim.y) {
    const T* src = x + (b0 + bl) * c * np;
    for (int r = threadIdx.y; r < 32; r += blockDim.y) {
      const int64_t cc = ct * 32 + r, pp = pt * 32 + threadIdx.x;
      if (cc < c && pp < np) tile[r][threadIdx.x] = src[cc * np + pp];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < 32; r += blockDim.y) {
      const int64_t pp = pt * 32 + r, cc = ct * 32 + threadIdx.x;
      if (cc < c && pp < np) xt[channels_last_index(bl, cc, pp, c, np, cg)] = tile[threadIdx.x][r];
    }
    __syncthreads();
  }
}

// Launches to_channels_last_kernel on stream s for images [b0, b0 + nb) of x (c channels of np positions) into xt
// (the fused forward's copy and the im2col kernels'), by groups of cg channels (0: one group of c).
template <typename T>
inline void launch_to_channels_last(const T* x, T* xt, int64_t b0, int64_t nb, int64_t c, int64_t np, cudaStream_t s,
                                    int64_t cg = 0) {
  const int64_t p_tiles = (np + 31) / 32, c_tiles = (c + 31) / 32;
  const dim3 grid(static_cast<unsigned>(p_tiles * c_tiles), static_cast<unsigned>(nb < 65535 ? nb : 65535));
  to_channels_last_kernel<T><<<grid, dim3(32, 8), 0, s>>>(x, xt, b0, nb, c, np, p_tiles, cg > 0 ? cg : c);
  DCN_CUDA_LAUNCH_CHECK("to_channels_last_kernel", grid.x, 256);
}

// The same copy with 16-byte accesses on both sides (the default where it applies; needs np % V == 0, with
// V = 16 / sizeof(T) elements per vector, and c % V == 0): a tile of TC = 8V channels x TP = 8V positions
// (half types 64 x 64, float32 32 x 32) is read as rows of V positions of one channel (a warp: 32
// channels' rows) and stored transposed, element by element, to a [position][channel] shared tile (a
// warp's stores: 32 consecutive channels of one position, no bank conflict), then written as vectors of V
// channels of one position (a quarter warp: 128 contiguous bytes of one xt row; its shared reads likewise). By groups
// of cg channels (NOTE [ Channels-last by group ]; cg % V == 0, so a vector stays in its group) the stores take
// `run` vectors of one group at a time (a power of two dividing both 8 and cg / V), positions next: consecutive
// threads write one group's consecutive positions, contiguous in xt (a warp: 512 bytes), where the order of all 8
// vectors of a position first (run = 8, the plain copy's) would send a quarter warp's vectors to as many groups
// (NOTE [ Grouped copy's store order ]).
template <typename T>
__global__ void to_channels_last_vec_kernel(const T* __restrict__ x, T* __restrict__ xt, int64_t b0, int64_t nb,
                                            int64_t c, int64_t np, int64_t p_tiles, int64_t cg, int run) {
  constexpr int V = 16 / static_cast<int>(sizeof(T));
  constexpr int TC = 8 * V, TP = 8 * V;
  constexpr int RS = TC + V;  // row stride of the shared tile in elements (16-byte rows)
  __shared__ __align__(16) T tile[TP * RS];
  const int64_t pt = blockIdx.x % p_tiles, ct = blockIdx.x / p_tiles;
  const int64_t p0 = pt * TP, c0 = ct * TC;
  for (int64_t bl = blockIdx.y; bl < nb; bl += gridDim.y) {
    const T* src = x + (b0 + bl) * c * np;
    for (int i = threadIdx.x; i < TC * TP / V; i += blockDim.x) {
      const int cc = i % TC, pv = i / TC;
      const int64_t gc = c0 + cc, gp = p0 + int64_t{pv} * V;
      if (gc < c && gp < np) {
        const uint4 r = __ldg(reinterpret_cast<const uint4*>(src + gc * np + gp));
        T e[V];
        memcpy(e, &r, sizeof(r));
#pragma unroll
        for (int u = 0; u < V; ++u) tile[(pv * V + u) * RS + cc] = e[u];
      }
    }
    __syncthreads();
    for (int j = threadIdx.x; j < TP * TC / V; j += blockDim.x) {
      const int rest = j / run, p = rest % TP, cv = (rest / TP) * run + j % run;
      const int64_t gc = c0 + int64_t{cv} * V, gp = p0 + p;
      if (gc < c && gp < np) {
        *reinterpret_cast<uint4*>(xt + channels_last_index(bl, gc, gp, c, np, cg)) =
            *reinterpret_cast<const uint4*>(&tile[p * RS + cv * V]);
      }
    }
    __syncthreads();
  }
}

// Whether to_channels_last_vec_kernel applies to x (c channels of np positions): whole 16-byte vectors of positions
// and of channels, and x 16-byte aligned.
template <typename T>
inline bool channels_last_vec_applies(const T* x, int64_t c, int64_t np) {
  constexpr int64_t kVec = 16 / static_cast<int64_t>(sizeof(T));
  return np % kVec == 0 && c % kVec == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0;
}

// Launches to_channels_last_vec_kernel on stream s for images [b0, b0 + nb) of x into xt (where
// channels_last_vec_applies and cg % V == 0), by groups of cg channels (0: one group of c).
// NOTE [ Grouped copy's store order ]: the run of vectors stored per group is the largest power of two dividing 8 and
// cg / V, unless `position_run` is false (TVDCN_CUDA_CL_COPY=channel_order at the caller, an A/B switch: 8, the
// order before session 29's by-group copies); either way every (position, vector) of the tile is stored once, the
// same values.
template <typename T>
inline void launch_to_channels_last_vec(const T* x, T* xt, int64_t b0, int64_t nb, int64_t c, int64_t np,
                                        cudaStream_t s, int64_t cg = 0, bool position_run = true) {
  constexpr int64_t kVec = 16 / static_cast<int64_t>(sizeof(T));
  constexpr int64_t kTile = 8 * kVec;
  const int64_t p_tiles = (np + kTile - 1) / kTile, c_tiles = (c + kTile - 1) / kTile;
  const dim3 grid(static_cast<unsigned>(p_tiles * c_tiles), static_cast<unsigned>(nb < 65535 ? nb : 65535));
  if (cg <= 0) cg = c;
  int run = 8;
  while (position_run && run > 1 && (cg / kVec) % run != 0) run >>= 1;
  to_channels_last_vec_kernel<T><<<grid, 256, 0, s>>>(x, xt, b0, nb, c, np, p_tiles, cg, run);
  DCN_CUDA_LAUNCH_CHECK("to_channels_last_vec_kernel", grid.x, 256);
}

// Shared memory of the kernel: [stage][operand A|B][plane][rows][kRowStride bytes].
template <Kind KIND, int BM, int BN>
constexpr int smem_bytes() {  // BM = 256, BN = 128: 61440 bytes (half types)
  return 2 * KindTraits<KIND>::kPlanes * (BM + BN) * kRowStride;
}

// Threads of a CTA: WARPS_M x (BN / 32) warps; every variant is launched with at most 128 registers per
// thread (512 threads per SM at least).
template <int BN, int WARPS_M>
__host__ __device__ constexpr int fused_threads() {
  return WARPS_M * (BN / 32) * 32;
}

template <int D, typename T, Kind KIND, int BM, int BN, int WARPS_M, bool kDeformable, typename I, bool kLanePlans>
__global__ void __launch_bounds__(fused_threads<BN, WARPS_M>(), 512 / fused_threads<BN, WARPS_M>())
    fused_forward_kernel(const Args<D> a, const T* __restrict__ x, const T* __restrict__ offset,
                         const T* __restrict__ mask, const T* __restrict__ wp, const T* __restrict__ wp_small,
                         const T* __restrict__ bias, T* __restrict__ y) {
  using Tr = KindTraits<KIND>;
  constexpr int kPlanes = Tr::kPlanes;
  constexpr int kBK = Tr::kBK;
  constexpr int kThreads = fused_threads<BN, WARPS_M>();
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  constexpr int kWM = BM / WARPS_M, kWN = 32;
  constexpr int kMT = kWM / 16, kNT = kWN / 8;
  constexpr int kPlaneA = BM * kRowStride, kPlaneB = BN * kRowStride;
  constexpr int kStage = kPlanes * (kPlaneA + kPlaneB);

  extern __shared__ __align__(128) unsigned char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp % WARPS_M, wn = warp / WARPS_M;

  // Tile of this CTA: output-channel tile fastest (CTAs sampling the same positions run together).
  int64_t blk = blockIdx.x;
  const int ot = static_cast<int>(blk % a.o_tiles);
  blk /= a.o_tiles;
  const int g = static_cast<int>(blk % a.G);
  blk /= a.G;
  const int64_t qt = blk % a.q_tiles;
  const int64_t b = a.b0 + blk / a.q_tiles;

  // Sampler jobs: (position n of the tile, octet of 8 channels of the K step); a thread has kJobs of
  // them, all with the same octet, positions kThreads / kOpp apart. X is channels-last here (xt), so an
  // octet's corner is one 16-byte (half) or two 16-byte (float32) loads, and the kOpp lanes of one
  // position read one contiguous run of the step's channels.
  // Channels per job: 8, or 4 for the float32 narrow tile (8 warps at 16 channels per K step; NOTE
  // [ Fused forward, narrow tile ]), so that every thread has one job.
  constexpr int kJW = kBK * BN / kThreads;
  static_assert(kJW == 8 || (kJW == 4 && Tr::kElem == 4), "jobs of 8 channels, or 4 in float32");
  constexpr int kOpp = kBK / kJW;
  static_assert((kOpp & (kOpp - 1)) == 0 && kOpp <= 32, "a position's lanes: a power of two within a warp");
  constexpr int kJobs = BN * kOpp / kThreads;
  static_assert(kJobs >= 1 && (BN * kOpp) % kThreads == 0, "whole sampler jobs per thread");
  const int oct = tid % kOpp;
  int64_t qj[kJobs];
  bool qok[kJobs];
  I yq[kJobs][D];
#pragma unroll
  for (int j = 0; j < kJobs; ++j) {
    const int n = tid / kOpp + j * (kThreads / kOpp);
    qj[j] = qt * BN + n;
    qok[j] = qj[j] < a.ny;
    int64_t r = qok[j] ? qj[j] : 0;
#pragma unroll
    for (int ax = D - 1; ax >= 0; --ax) {
      yq[j][ax] = static_cast<I>(r % a.y_size[ax]);
      r /= a.y_size[ax];
    }
  }
  const T* xb = x + (b - a.b0) * a.nx * a.cx;  // channels-last chunk of images b0 ..

  // The cached sampling plan of each job and its key.
  int key_kpt[kJobs], key_og[kJobs], key_mg[kJobs];
  I cidx[kJobs][kCount];
  float cw[kJobs][kCount];
  unsigned cvalid[kJobs];
#pragma unroll
  for (int j = 0; j < kJobs; ++j) key_kpt[j] = key_og[j] = key_mg[j] = -1;

  // The plan of job j's position at (kpt, og, mgi) into idx / w / valid (the mask folded into the weights).
  auto plan_into = [&](int j, int kpt, int og, int mgi, I(&idx)[kCount], float(&w)[kCount], unsigned& valid) {
    const int64_t q = qj[j];
    I pos[D];
    {
      int kk = kpt;
#pragma unroll
      for (int ax = D - 1; ax >= 0; --ax) {
        const int ks = static_cast<int>(a.kernel_size[ax]);
        const int k = kk % ks;
        kk /= ks;
        pos[ax] = yq[j][ax] * static_cast<I>(a.stride[ax]) - static_cast<I>(a.padding[ax]) +
                  static_cast<I>(k) * static_cast<I>(a.dilation[ax]);
      }
    }
    float m = 1.0f;
    if (mask != nullptr) m = convert<float>(mask[((b * a.mg + mgi) * a.K + kpt) * a.ny + q]);
    Corners<kCount, float, I> c;
    if constexpr (kDeformable) {
      const T* off = offset + ((b * a.og + og) * a.K + kpt) * int64_t{D} * a.ny + q;
      float p[D];
#pragma unroll
      for (int ax = 0; ax < D; ++ax) p[ax] = static_cast<float>(pos[ax]) + convert<float>(off[ax * a.ny]);
      linear_corners<D, float, I>(p, a.x_size, 1.0f, c);
    } else {
      grid_corner<D, float, I>(pos, a.x_size, 1.0f, c);
    }
#pragma unroll
    for (int i = 0; i < kCount; ++i) {
      idx[i] = c.index[i];
      w[i] = c.weight[i] * m;
    }
    valid = c.valid;
  };
  auto make_plan = [&](int j, int kpt, int og, int mgi) {
    plan_into(j, kpt, og, mgi, cidx[j], cw[j], cvalid[j]);
    key_kpt[j] = kpt;
    key_og[j] = og;
    key_mg[j] = mgi;
  };

  const int c_steps = a.c_pad / kBK;
  const int n_it = a.K * c_steps;
  const int64_t w_group = int64_t{g} * a.K * a.o_pad * a.c_pad;

  // A tile of step (kpt, c0): rows ot*BM .. +BM of the permuted weight at (g, kpt), columns c0 .. c0+kBK.
  auto load_a = [&](int kpt, int c0, int stage) {
    const int64_t base = w_group + (int64_t{kpt} * a.o_pad + int64_t{ot} * BM) * a.c_pad + c0;
    constexpr int kChunks = BM * (kRowBytes / 16);
#pragma unroll
    for (int p = 0; p < kPlanes; ++p) {
      const T* src = (p == 0 ? wp : wp_small) + base;
      unsigned char* dst = smem + stage * kStage + p * kPlaneA;
      // A compile-time count of chunks a thread (the loop from tid was not unrolled: ~20 PTX instructions of
      // division and 64-bit arithmetic a chunk, re-derived at every step).
#pragma unroll
      for (int k = 0; k < (kChunks + kThreads - 1) / kThreads; ++k) {
        const int i = tid + k * kThreads;
        if (kChunks % kThreads == 0 || i < kChunks) {
          const int r = i / (kRowBytes / 16), ch = i % (kRowBytes / 16);
          cp_async16(smem_addr(dst + r * kRowStride + ch * 16),
                     reinterpret_cast<const unsigned char*>(src + int64_t{r} * a.c_pad) + ch * 16);
        }
      }
    }
    cp_async_commit_all();
  };

  // B tile of step it, in two halves: gather() computes the plan when its key changes and issues the
  // corner loads of the thread's octet into registers; finish() blends them and stores the octet to
  // the shared tile. With kPrefetch the main loop puts the MMA of the current stage between the two,
  // so the loads' latency can overlap the tensor-core work, when the accumulators and the raw corners
  // fit the register budget (half types up to BM = 128 in 3D and BM = 256 in 2D; float32 with BM = 64,
  // or in 1D). Measured: 3D float16 1.7x faster, 2D half types unchanged (docs/cuda.md).
  static_assert(kJobs == 1, "one sampler job per thread");
  constexpr int kVecs = kJW * Tr::kElem / 16;  // 16-byte vectors per corner and job: 1 (half), 2 or 1 (float32)
  constexpr bool kPrefetch = kMT * kNT * 4 + kCount * kVecs * 4 <= 80;  // accumulators + raw corners
  uint4 raw[kCount][kVecs];
  bool live = false;
  // NOTE [ Plans made by the lanes of a position ]
  // The kOpp lanes of one position (consecutive lanes of a warp, one per job of the K step) need the same plan
  // wherever it depends on the kernel point alone (one offset group, at most one mask group: kLanePlans, chosen by
  // the host), and in SIMT each lane making it costs the warp the plan's instructions at every kernel point (~250
  // PTX instructions in 3D, a quarter of a float16 step's at two steps a kernel point). Instead lane `oct` of a
  // position makes the plan of kernel point base + oct once for kOpp kernel points (base a multiple of kOpp), and at
  // each kernel point every lane takes its position's plan from the lane that made it (2^D + 1 shuffles of index and
  // weight words, plus the valid bits): the same function of the same inputs, moved bit for bit, so the tiles are
  // bitwise those of the plan made by every lane (TVDCN_CUDA_FUSED_PLAN=thread keeps that; tested). A template
  // switch (kLanePlans), not a run-time one: with both paths in one kernel the 3D float16 kernel spilled (ptxas: 32
  // bytes), as its own kernel it does not. Instantiated for the deformable 3D half-type kernels (the fused forward's
  // default uses): elsewhere the plan is either trivial (no offsets) or the kernel runs only when forced.
  I lidx[kCount];
  float lw[kCount];
  unsigned lvalid = 0;
  int lbase = -1;  // the base kernel point of the lane's own plan
  auto gather = [&](int kpt, int c0) {
    const int cl = c0 + oct * kJW;  // first channel of the job, within the group
    if constexpr (kLanePlans) {
      // Uniform: every thread of the CTA is at the same step, so the shuffles see the whole warp.
      if (kpt != key_kpt[0]) {
        const int base = kpt - kpt % kOpp;
        if (base != lbase) {
          const int mk = base + oct;
          if (qok[0] && mk < a.K) {
            plan_into(0, mk, 0, 0, lidx, lw, lvalid);
          } else {
            lvalid = 0;
          }
          lbase = base;
        }
        const int src = (lane & ~(kOpp - 1)) | (kpt - base);
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          cidx[0][i] = __shfl_sync(0xffffffffu, lidx[i], src);
          cw[0][i] = __shfl_sync(0xffffffffu, lw[i], src);
        }
        cvalid[0] = __shfl_sync(0xffffffffu, lvalid, src);
        key_kpt[0] = kpt;
      }
      live = qok[0] && cl < a.cxg;
      if (!live) return;
    } else {
      live = qok[0] && cl < a.cxg;
      if (!live) return;
      const int cg = g * a.cxg + cl;
      // Offset and mask group of channel cg: the cached key's group while cg lies in it (no division in
      // the steady state; the key is -1 before the first plan, which never matches).
      int ogi = key_og[0];
      if (static_cast<unsigned>(cg - ogi * a.cpo) >= static_cast<unsigned>(a.cpo)) ogi = cg / a.cpo;
      int mgi = 0;
      if (mask != nullptr) {
        mgi = key_mg[0];
        if (static_cast<unsigned>(cg - mgi * a.cpm) >= static_cast<unsigned>(a.cpm)) mgi = cg / a.cpm;
      }
      if (kpt != key_kpt[0] || ogi != key_og[0] || mgi != key_mg[0]) make_plan(0, kpt, ogi, mgi);
    }
    const int cg = g * a.cxg + cl;
#pragma unroll
    for (int i = 0; i < kCount; ++i) {
      const uint4* src = reinterpret_cast<const uint4*>(xb + static_cast<int64_t>(cidx[0][i]) * a.cx + cg);
      const bool ok = (cvalid[0] >> i) & 1u;
#pragma unroll
      for (int v = 0; v < kVecs; ++v) raw[i][v] = ok ? __ldg(src + v) : make_uint4(0, 0, 0, 0);
    }
  };
  auto finish = [&](int stage) {
    const int n = tid / kOpp;
    float v[kJW];
#pragma unroll
    for (int u = 0; u < kJW; ++u) v[u] = 0.0f;
    if (live) {
#pragma unroll
      for (int i = 0; i < kCount; ++i) {
        float xv[kJW];
        unpack_n<T, kVecs, kJW>(raw[i], xv);
#pragma unroll
        for (int u = 0; u < kJW; ++u) v[u] += cw[0][i] * xv[u];
      }
    }
    unsigned char* dst = smem + stage * kStage + kPlanes * kPlaneA + n * kRowStride + oct * kJW * Tr::kElem;
    store_n<T, KIND, kJW>(dst, dst + kPlaneB, v);
  };

  float acc[kMT][kNT][4];
#pragma unroll
  for (int i = 0; i < kMT; ++i)
#pragma unroll
    for (int j = 0; j < kNT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

  // (kernel point, first channel) of the next step to load: counters instead of a division per step.
  int nk = 0, nc = 0;
  auto advance = [&]() {
    nc += kBK;
    if (nc >= a.c_pad) nc = 0, ++nk;
  };
  if (n_it > 0) {
    load_a(nk, nc, 0);
    gather(nk, nc);
    advance();
    finish(0);
    cp_async_wait_all();
  }
  __syncthreads();

  for (int it = 0; it < n_it; ++it) {
    const int s = it & 1;
    const bool more = it + 1 < n_it;
    if (more) {
      load_a(nk, nc, s ^ 1);
      gather(nk, nc);
      advance();
      if constexpr (!kPrefetch) finish(s ^ 1);
    }
    const unsigned char* sa = smem + s * kStage;
    const unsigned char* sb = sa + kPlanes * kPlaneA;
#pragma unroll
    for (int ks = 0; ks < 2; ++ks) {  // two MMA K steps of 32 bytes per shared row
      uint32_t bf[kPlanes][kNT][2];
#pragma unroll
      for (int p = 0; p < kPlanes; ++p) {
#pragma unroll
        for (int np = 0; np < kNT / 2; ++np) {
          const int row = wn * kWN + np * 16 + (lane & 7) + ((lane >> 4) << 3);
          const int col = ks * 32 + ((lane >> 3) & 1) * 16;
          uint32_t r[4];
          ldsm_x4(r, smem_addr(sb + p * kPlaneB + row * kRowStride + col));
          bf[p][2 * np][0] = r[0];
          bf[p][2 * np][1] = r[1];
          bf[p][2 * np + 1][0] = r[2];
          bf[p][2 * np + 1][1] = r[3];
        }
      }
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        uint32_t af[kPlanes][4];
        const int row = wm * kWM + mt * 16 + (lane & 15);
        const int col = ks * 32 + (lane >> 4) * 16;
#pragma unroll
        for (int p = 0; p < kPlanes; ++p) ldsm_x4(af[p], smem_addr(sa + p * kPlaneA + row * kRowStride + col));
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt) {
          if constexpr (KIND == Kind::kTf32x3) {
            mma<KIND>(acc[mt][nt], af[1], bf[0][nt]);
            mma<KIND>(acc[mt][nt], af[0], bf[1][nt]);
          }
          mma<KIND>(acc[mt][nt], af[0], bf[0][nt]);
        }
      }
    }
    if constexpr (kPrefetch) {
      if (more) finish(s ^ 1);
    }
    cp_async_wait_all();
    __syncthreads();
  }

  // Epilogue: C fragment (row lane/4 (+8), columns 2*(lane%4) + {0, 1}) of each 16 x 8 tile.
  const int64_t q_base = qt * BN + wn * kWN;
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const int o = ot * BM + wm * kWM + mt * 16 + (lane >> 2) + hr * 8;
      if (o >= a.cyg) continue;
      const int oc = g * a.cyg + o;
      const float bv = bias != nullptr ? convert<float>(bias[oc]) : 0.0f;
      T* yrow = y + (b * a.cy + oc) * a.ny;
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int64_t qq = q_base + nt * 8 + 2 * (lane & 3) + e;
          if (qq < a.ny) yrow[qq] = convert<T>(acc[mt][nt][hr * 2 + e] + bv);
        }
      }
    }
  }
}

}  // namespace dcn::cuda::fused
