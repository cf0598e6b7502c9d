// SPDX-License-Identifier: MIT
// NOTE [ Warp im2col from channels-last X ]
// The columns of the im2col + GEMM paths (deform_conv_kernel.cuh: im2col_kernel) sampled from a
// channels-last copy of X by warps that need nothing from the rest of their block:
//   - a warp owns (image, offset group, 32 consecutive y positions, kernel point); kernel points are the
//     fastest index of the grid, so the warps that run together read the same neighbourhood of X;
//   - lane l builds the sampling plan of position l (the corners of linear_corners or grid_corner, the
//     same builders as im2col_kernel, and the mask value when a whole offset group shares one mask group)
//     and leaves it in the warp's shared memory: each plan is built once for every channel of the group;
//   - the channels of the offset group are taken in blocks of 256 (half types; 128 for float32): for each of
//     the 32 positions in turn (one position for the whole warp, so its plan is read once, as a shared-memory
//     broadcast, for the whole block), lanes over the block's channels, V = 2 channels per lane for the half
//     types where the group's channel count is even: each corner of a position is one contiguous load of up
//     to 128 bytes for the warp. With fewer channels than 32 * V, the lanes cover several positions at once
//     (edvr-64, 8 channels per offset group: 8 positions of 4 lanes);
//   - each value goes to a [position][channel] tile in the warp's shared memory (V values as one store), and
//     the warp writes the tile out one column row at a time, lanes over positions: 32 consecutive elements of
//     a row per store.
// (Session 14's first version took 32 * V channels per step and every (position, channel vector) item read its
// plan from shared memory and divided its index: ncu found it issue-bound, slower than im2col_kernel in 2D.)
// Only __syncwarp between the phases, no block barrier.
//
// Why (docs/cuda.md, "Session 14"): im2col_kernel runs lanes over positions, so with offsets that move
// neighbouring positions by different amounts, each corner load of a warp touches a line per distinct row
// its lanes sample (about 5-8 with the benchmark's offsets in [-2, 2)), for every channel; it ran at
// 0.85 TB/s of column writes in fp16 on r50-c3, far from the bytes' bound. Here a corner is one line for
// 32-64 channels.
//
// The values are bitwise those of im2col_kernel: the same corners, weights and validity bits, the same
// products summed in the same corner order (v += w_i * (valid_i ? x_i : 0)), times the same mask value,
// rounded once to T. Float64 stays on im2col_kernel.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

constexpr int kWarpIm2colWarps = 2;  // warps per block (each one independent)

// Two consecutive channels of a half-type channels-last row as float (one 32-bit load).
template <typename T>
__device__ __forceinline__ float2 load_pair(const T* p) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half22float2(*reinterpret_cast<const __half2*>(p));
  } else {
    return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p));
  }
}

// Shared memory of one warp: the 32 plans (corner offsets into the image's channels-last rows, weights,
// validity bits, mask value) and the [position][channel] tile of a block of kBlockChannels channels (16 KB).
template <int kCount, typename T, typename I, int V>
struct WarpIm2colSmem {
  static constexpr int kBlockChannels = 512 / static_cast<int>(sizeof(T));  // 256 half, 128 float
  static constexpr int kRow = kBlockChannels + (V == 1 ? 1 : 2);  // tile row stride in elements (odd in 32-bit words)
  I offset[kCount][32];
  acc_type<T> weight[kCount][32];
  unsigned valid[32];
  acc_type<T> mask[32];
  T tile[32 * kRow];
};

// See NOTE [ Warp im2col from channels-last X ]. xt[bl][s][c] holds the chunk's images channels-last;
// `q_tiles` = ceil(qlen / 32); `mask_per_channel`: the mask group changes inside an offset group (mask
// groups finer than offset groups), so the mask value is read per channel instead of from the plan.
template <int D, typename T, bool kDeformable, typename I, int V>
__global__ void __launch_bounds__(32 * kWarpIm2colWarps)
    im2col_warp_kernel(const ChunkArgs<D> a, const T* __restrict__ xt, const T* __restrict__ offset,
                       const T* __restrict__ mask, T* __restrict__ cols, int64_t q_tiles, bool mask_per_channel) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  using Smem = WarpIm2colSmem<kCount, T, I, V>;
  constexpr int kRow = Smem::kRow;
  __shared__ Smem smem_all[kWarpIm2colWarps];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  Smem& sm = smem_all[warp];
  const I cx = static_cast<I>(a.cx), cpo = static_cast<I>(a.cpo);
  const int64_t tasks = a.nb * a.og * q_tiles * a.K;
  for (int64_t task = static_cast<int64_t>(blockIdx.x) * kWarpIm2colWarps + warp; task < tasks;
       task += static_cast<int64_t>(gridDim.x) * kWarpIm2colWarps) {
    int64_t r = task;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t qt = r % q_tiles;
    r /= q_tiles;
    const int64_t og = r % a.og;
    const int64_t bl = r / a.og;
    const int64_t b = a.b0 + bl;
    const int64_t ql = qt * 32 + lane;
    const bool live = ql < a.qlen;
    const int64_t q = a.q0 + (live ? ql : 0);
    const int64_t c_first = og * a.cpo;
    // The plan of position `lane` (im2col_kernel's corners, in I as there).
    {
      Corners<kCount, A, I> corners;
      im2col_corners<D, T, kDeformable, I>(a, a.x_size, offset, b, og, static_cast<I>(kpt), q, corners);
#pragma unroll
      for (int i = 0; i < kCount; ++i) {
        sm.offset[i][lane] = corners.index[i] * cx;
        sm.weight[i][lane] = corners.weight[i];
      }
      sm.valid[lane] = corners.valid;
      A m = A(1);
      if (mask != nullptr && !mask_per_channel) {
        m = convert<A>(mask[((b * a.mg + c_first / a.cpm) * a.K + kpt) * a.ny + q]);
      }
      sm.mask[lane] = m;
    }
    __syncwarp();
    const T* img = xt + bl * a.nx * a.cx + c_first;
    // Row (c_first + c0, kpt) of the chunk's columns at position ql; rows of one channel step are K * qlen apart.
    const int64_t row_step = a.K * a.qlen;
    T* out = cols + ((bl * a.cx + c_first) * a.K + kpt) * a.qlen + ql;
    const T* m_ptr = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + kpt) * a.ny + a.q0 + qt * 32;
    const I p_end = static_cast<I>(min(int64_t{32}, a.qlen - qt * 32));  // positions of this tile
    // The value of channel vector c (V channels from c) at position p of the tile into the tile row of p, at column
    // c - c_tile; the plan of p read from the warp's shared memory.
    auto sample = [&](I p, I c, I c_tile, const I (&off)[kCount], const A (&w)[kCount], unsigned valid, A m_plan) {
      const T* src = img + c;
      A v[V];
#pragma unroll
      for (int u = 0; u < V; ++u) v[u] = 0;
#pragma unroll
      for (int i = 0; i < kCount; ++i) {
        const bool ok = (valid >> i) & 1u;
        if constexpr (V == 2) {
          const float2 x = load_pair<T>(src + off[i]);
          v[0] += w[i] * (ok ? x.x : A(0));
          v[1] += w[i] * (ok ? x.y : A(0));
        } else {
          const A x = convert<A>(src[off[i]]);
          v[0] += w[i] * (ok ? x : A(0));
        }
      }
      T r[V];
#pragma unroll
      for (int u = 0; u < V; ++u) {
        A m = m_plan;
        if (mask_per_channel) {
          const int64_t cg = c_first + c + u;
          m = convert<A>(m_ptr[(cg / a.cpm) * a.K * a.ny + p]);
        }
        r[u] = convert<T>(v[u] * m);
      }
      T* dst = &sm.tile[p * kRow + c - c_tile];
      if constexpr (V == 2) {
        using T2 = std::conditional_t<std::is_same_v<T, __half>, __half2, __nv_bfloat162>;
        T2 pair;
        pair.x = r[0];
        pair.y = r[1];
        *reinterpret_cast<T2*>(dst) = pair;  // even element offsets (kRow, c and c_tile even)
      } else {
        dst[0] = r[0];
      }
    };
    auto plan_of = [&](I p, I (&off)[kCount], A (&w)[kCount]) {
#pragma unroll
      for (int i = 0; i < kCount; ++i) {
        off[i] = sm.offset[i][p];
        w[i] = sm.weight[i][p];
      }
    };
    if (cpo >= 32 * V) {
      // Blocks of up to kBlockChannels channels: for each position of the tile (the same for the whole warp, so
      // its plan is read once, as a broadcast, for all the block's channels), lanes over the block's channel
      // vectors; then the block's rows written out.
      constexpr I kBlock = Smem::kBlockChannels;
      for (I cb = 0; cb < cpo; cb += kBlock, out += static_cast<int64_t>(kBlock) * row_step) {
        const I cn = min(kBlock, cpo - cb);
        for (I p = 0; p < p_end; ++p) {
          I off[kCount];
          A w[kCount];
          plan_of(p, off, w);
          const unsigned valid = sm.valid[p];
          const A m_plan = sm.mask[p];
          for (I cv = lane * V; cv < cn; cv += 32 * V) sample(p, cb + cv, cb, off, w, valid, m_plan);
        }
        __syncwarp();
        if (live) {
          for (I rr = 0; rr < cn; ++rr) out[rr * row_step] = sm.tile[lane * kRow + rr];
        }
        __syncwarp();
      }
    } else {
      // Fewer channels than lanes x V: the lanes cover several positions at once, items (position, channel
      // vector) with the vectors fastest (edvr-64: 8 positions of 4 lanes).
      const I nv = cpo / V;  // channel vectors (cpo % V == 0)
      for (I it = lane; it < 32 * nv; it += 32) {
        const I p = it / nv, cv = it - p * nv;
        if (p >= p_end) continue;
        I off[kCount];
        A w[kCount];
        plan_of(p, off, w);
        sample(p, cv * V, 0, off, w, sm.valid[p], sm.mask[p]);
      }
      __syncwarp();
      if (live) {
        for (I rr = 0; rr < cpo; ++rr) out[rr * row_step] = sm.tile[lane * kRow + rr];
      }
      __syncwarp();
    }
  }
}

}  // namespace dcn::cuda
