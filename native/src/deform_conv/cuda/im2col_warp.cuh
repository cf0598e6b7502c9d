// SPDX-License-Identifier: MIT
// NOTE [ Warp im2col from channels-last X ]
// The columns of the im2col + GEMM paths (deform_conv_kernel.cuh: im2col_kernel) sampled from a
// channels-last copy of X by warps that need nothing from the rest of their block:
//   - a warp owns (image, offset group, 32 consecutive y positions, kernel point); kernel points are the
//     fastest index of the grid, so the warps that run together read the same neighbourhood of X;
//   - lane l builds the sampling plan of position l (the corners of linear_corners or grid_corner, the
//     same builders as im2col_kernel, and the mask value when a whole offset group shares one mask group)
//     and leaves it in the warp's shared memory: each plan is built once for every channel of the group;
//   - the channels of the offset group are taken 32 * V at a time (V = 2 channels per lane for the half
//     types where the group's channel count is even): lanes over channels, so each corner of a position is
//     one contiguous load of up to 128 bytes for the whole warp. With fewer channels than 32 * V, the lanes
//     cover several positions at once (edvr-64, 8 channels per offset group: 8 positions of 4 lanes);
//   - each value goes to a [position][channel] tile in the warp's shared memory, and the warp writes the
//     tile out one column row at a time, lanes over positions: 32 consecutive elements of a row per store.
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

constexpr int kWarpIm2colWarps = 4;  // warps per block (each one independent)

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
// validity bits, mask value) and the [position][channel] tile of 32 * V channels.
template <int kCount, typename T, typename I, int V>
struct WarpIm2colSmem {
  static constexpr int kRow = 32 * V + (V == 1 ? 1 : 2);  // tile row stride in elements (odd in 32-bit words)
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
    for (I c0 = 0; c0 < cpo; c0 += 32 * V, out += static_cast<int64_t>(32 * V) * row_step) {
      const I nv = min(I(32), (cpo - c0) / V);  // channel vectors of this step (cpo % V == 0)
      // Items (position, channel vector), channel vectors fastest: lane + 32 j.
      for (I it = lane; it < 32 * nv; it += 32) {
        const I p = it / nv, cv = it - p * nv;
        if (qt * 32 + p >= a.qlen) continue;
        const I c = c0 + cv * V;
        const T* src = img + c;
        A v[V];
#pragma unroll
        for (int u = 0; u < V; ++u) v[u] = 0;
        const unsigned valid = sm.valid[p];
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          const A w = sm.weight[i][p];
          const bool ok = (valid >> i) & 1u;
          if constexpr (V == 2) {
            const float2 x = load_pair<T>(src + sm.offset[i][p]);
            v[0] += w * (ok ? x.x : A(0));
            v[1] += w * (ok ? x.y : A(0));
          } else {
            const A x = convert<A>(src[sm.offset[i][p]]);
            v[0] += w * (ok ? x : A(0));
          }
        }
#pragma unroll
        for (int u = 0; u < V; ++u) {
          A m = sm.mask[p];
          if (mask_per_channel) {
            const int64_t cg = c_first + c + u;
            m = convert<A>(m_ptr[(cg / a.cpm) * a.K * a.ny + p]);
          }
          sm.tile[p * kRow + c + u - c0] = convert<T>(v[u] * m);
        }
      }
      __syncwarp();
      if (live) {
        for (I rr = 0; rr < nv * V; ++rr) out[rr * row_step] = sm.tile[lane * kRow + rr];
      }
      __syncwarp();
    }
  }
}

}  // namespace dcn::cuda
