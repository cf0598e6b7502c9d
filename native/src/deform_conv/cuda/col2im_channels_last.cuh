// SPDX-License-Identifier: MIT
// The default (atomic) col2im of deformable convolution: the regular op's input gradient and the
// transposed op's forward. See NOTE [ Channels-last col2im ].
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/env.h"
#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// NOTE [ Channels-last col2im ]
// col2im adds weight * mask * dcol[bl, c, kpt, q] to the 2^D corners of every sample. The sample's
// corners depend on (image, offset group, kernel point, position) only; the channels of an offset group
// add to the same corners. The target is therefore kept channels-last, gxl[b][s][c] in the accumulator
// type: the lanes of a warp own consecutive channels of one sample, so each atomic instruction of a warp
// adds to one contiguous run of up to 32 elements (one 128-byte line in float32) instead of 32 scattered
// lines (the channels-first target, with lanes over positions, cost one L2 atomic transaction per lane).
// A block owns (image, offset group, kernel point, 32 positions): 32 threads compute the 32 sampling
// plans (the shared linear_corners / grid_corner) into shared memory once; then, per slice of 32
// channels, the block stages dcol * mask through shared memory (coalesced along positions) and adds it
// transposed (lanes along channels). channels_first_kernel turns gxl into [b][c][s] (+ bias, rounded to
// T) at the end. The number and the values of the additions are those of col2im_element; only their order
// differs, which atomics leave unspecified anyway (setDeterministic(true) keeps the sorted col2im).
// When a warp instruction covers several samples (fewer than 32 channels per offset group, or the
// four-channel vector atomics below), they are spread over the tile (spread()): neighbouring positions
// share corners, and atomics of one instruction to one address serialise (measured, docs/cuda.md).
// With float32 targets and channels per offset group and channels of X multiples of 4, each lane adds
// four consecutive channels with one vector atomic (red.global.add.v4.f32, sm_90; 16-byte aligned since
// cx, the offset group's first channel and the slice's lane offsets are multiples of 4): a quarter of
// the atomic instructions, the same additions.
constexpr int kCol2imPositions = 32;
constexpr int kCol2imThreads = 256;

// The samples that one warp instruction adds for, spread over the tile: the g samples of an instruction
// (consecutive `sub`) are kCol2imPositions / g positions apart instead of neighbours. Neighbouring
// positions share corners (with small offsets), and atomics of one instruction to one address
// serialise. A bijection of [0, kCol2imPositions) for g a power of two <= kCol2imPositions.
__device__ __forceinline__ int spread(int sub, int g) { return (sub % g) * (kCol2imPositions / g) + sub / g; }

__device__ __forceinline__ void red_add_v4(float* p, float a, float b, float c, float d) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("red.global.add.v4.f32 [%0], {%1, %2, %3, %4};" ::"l"(p), "f"(a), "f"(b), "f"(c), "f"(d) : "memory");
#else
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
  atomicAdd(p + 2, c);
  atomicAdd(p + 3, d);
#endif
}
__device__ __forceinline__ void red_add_v4(double* p, double a, double b, double c, double d) {
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
  atomicAdd(p + 2, c);
  atomicAdd(p + 3, d);
}

template <int D, typename T, bool kDeformable>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_channels_last_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol,
                                const T* __restrict__ offset, const T* __restrict__ mask, acc_type<T>* __restrict__ gxl,
                                int64_t blocks) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  constexpr int TQ = kCol2imPositions;
  __shared__ int64_t s_base[kCount][TQ];  // (b * nx + corner) * cx
  __shared__ A s_weight[kCount][TQ];
  __shared__ unsigned s_valid[TQ];
  __shared__ A s_val[2][32][TQ + 1];  // two slices: the next is staged while the current is added
  const int tid = static_cast<int>(threadIdx.x);
  // Staging: thread tid loads channels cl0 + kRows * t (t < kPer) of position j of a slice.
  constexpr int kRows = kCol2imThreads / TQ, kPer = 32 / kRows;
  static_assert(kCol2imThreads % TQ == 0 && 32 % kRows == 0, "whole staging rows per thread");
  const int j_st = tid % TQ, cl0 = tid / TQ;
  // Lanes per sample: the channels of one slice (at most 32) rounded up to a power of two.
  const int slice_max = static_cast<int>(a.cpo < 32 ? a.cpo : 32);
  int shift = 0;
  while ((1 << shift) < slice_max) ++shift;
  const int width = 1 << shift;
  constexpr bool kVector4 = std::is_same_v<A, float>;
  // Four lanes' channels per lane: every slice is then whole quads (cpo % 4 == 0) and every target
  // address 16-byte aligned (cx % 4 == 0); width >= 4 follows from cpo >= 4.
  // Only with 32 lanes per sample (cpo >= 32), where a warp instruction covers 4 samples: with fewer
  // lanes per sample the samples of one instruction collide more often (measured, run 8).
  const bool vec4 = a.cpo % 4 == 0 && a.cx % 4 == 0 && width == 32;
  const int64_t qtiles = (a.qlen + TQ - 1) / TQ;
  for (int64_t blk = blockIdx.x; blk < blocks; blk += gridDim.x) {
    int64_t r = blk;
    const int64_t qt = r % qtiles;
    r /= qtiles;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t og = r % a.og;
    const int64_t bl = r / a.og;
    const int64_t b = a.b0 + bl;
    const int64_t ql0 = qt * TQ;
    const int tq = static_cast<int>(a.qlen - ql0 < TQ ? a.qlen - ql0 : TQ);
    __syncthreads();  // the previous block's readers of the shared plan are done
    if (tid < TQ) {
      unsigned valid = 0;
      if (tid < tq) {
        const int64_t q = a.q0 + ql0 + tid;
        int64_t pos[D];
        base_position<D>(a, q, kpt, pos);
        Corners<kCount, A, int64_t> c;
        if constexpr (kDeformable) {
          A p[D];
          deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
          linear_corners<D, A, int64_t>(p, a.x_size, A(1), c);
        } else {
          grid_corner<D, A, int64_t>(pos, a.x_size, A(1), c);
        }
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          s_base[i][tid] = (b * a.nx + c.index[i]) * a.cx;
          s_weight[i][tid] = c.weight[i];
        }
        valid = c.valid;
      }
      s_valid[tid] = valid;
    }
    const int64_t c_og = og * a.cpo;
    // dcol * mask of slice c0 for this thread's (channel, position) pairs, into registers. The mask is
    // one value per position while the slice lies in one mask group (the usual case: one load per
    // thread and slice, no division per element); the same products as before either way.
    const int64_t kq = a.K * a.qlen;
    const A* dsrc = dcol + ((bl * a.cx + c_og + cl0) * a.K + kpt) * a.qlen + ql0 + j_st;
    const T* msrc = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + kpt) * a.ny + a.q0 + ql0 + j_st;
    A vals[kPer];
    auto load_slice = [&](int64_t c0) {
      const int cc = static_cast<int>(a.cpo - c0 < 32 ? a.cpo - c0 : 32);
      if (j_st >= tq) return;
      const int64_t cfirst = c_og + c0;
      // Channel indices fit int32 (cx does): 32-bit divisions, once per slice.
      const int cpm = static_cast<int>(a.cpm), cf = static_cast<int>(cfirst);
      const int64_t mg_first = msrc == nullptr ? 0 : cf / cpm;
      const bool uniform = msrc == nullptr || mg_first == (cf + cc - 1) / cpm;
      const A mv = (msrc != nullptr && uniform) ? convert<A>(msrc[mg_first * a.K * a.ny]) : A(1);
#pragma unroll
      for (int t = 0; t < kPer; ++t) {
        const int cl = cl0 + t * kRows;
        if (cl < cc) {
          // Read once: streamed past L2 (evict-first), where the scatter target's lines should stay.
          A v = __ldcs(dsrc + (c0 + t * kRows) * kq);
          if (msrc != nullptr) v *= uniform ? mv : convert<A>(msrc[int64_t{(cf + cl) / cpm} * a.K * a.ny]);
          vals[t] = v;
        }
      }
    };
    load_slice(0);
    int buf = 0;
    for (int64_t c0 = 0; c0 < a.cpo; c0 += 32, buf ^= 1) {
      const int cc = static_cast<int>(a.cpo - c0 < 32 ? a.cpo - c0 : 32);
      if (j_st < tq) {
#pragma unroll
        for (int t = 0; t < kPer; ++t) {
          if (cl0 + t * kRows < cc) s_val[buf][cl0 + t * kRows][j_st] = vals[t];
        }
      }
      // The slice (and, for the first, the plan) is visible; with two buffers, every thread here has
      // finished adding the slice before last, whose buffer the next store reuses.
      __syncthreads();
      if (c0 + 32 < a.cpo) load_slice(c0 + 32);  // in flight while this slice's atomics issue
      if (kVector4 && vec4) {
        // Four channels per lane, one 16-byte red.global.add.v4.f32 per corner (sm_90); a warp
        // instruction covers g = 128 / width samples, spread over the tile (see spread()).
        const int g = 128 >> shift;
        for (int u = tid; u < (TQ << shift) / 4; u += kCol2imThreads) {
          const int j = spread((u * 4) >> shift, g), cl = (u * 4) & (width - 1);
          if (cl >= cc || j >= tq) continue;
          const unsigned valid = s_valid[j];
          if (valid == 0) continue;
          const A v0 = s_val[buf][cl][j], v1 = s_val[buf][cl + 1][j], v2 = s_val[buf][cl + 2][j],
                  v3 = s_val[buf][cl + 3][j];
          A* dst = gxl + c_og + c0 + cl;
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            if ((valid >> i) & 1u) {
              const A w = s_weight[i][j];
              red_add_v4(dst + s_base[i][j], w * v0, w * v1, w * v2, w * v3);
            }
          }
        }
      } else {
        const int g = 32 >> shift;  // samples per warp instruction
        for (int u = tid; u < (TQ << shift); u += kCol2imThreads) {
          const int j = spread(u >> shift, g), cl = u & (width - 1);
          if (cl >= cc || j >= tq) continue;
          const unsigned valid = s_valid[j];
          if (valid == 0) continue;
          const A v = s_val[buf][cl][j];
          A* dst = gxl + c_og + c0 + cl;
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            if ((valid >> i) & 1u) atomic_add(dst + s_base[i][j], s_weight[i][j] * v);
          }
        }
      }
    }
  }
}

// out[b][c][s] = T(src[b][s][c] (+ bias[c])): the channels-last col2im target back to the tensor's
// layout, through 32 x 32 shared tiles (both sides coalesced). Blocks of 32 x 8 threads.
template <typename T>
__global__ void __launch_bounds__(256)
    channels_first_kernel(T* __restrict__ out, const acc_type<T>* __restrict__ src, const T* __restrict__ bias,
                          int64_t batch, int64_t channels, int64_t spatial) {
  using A = acc_type<T>;
  __shared__ A tile[32][33];
  const int64_t ts = (spatial + 31) / 32, tc = (channels + 31) / 32;
  const int64_t tiles = batch * tc * ts;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t s0 = (t % ts) * 32, c0 = ((t / ts) % tc) * 32, b = t / (ts * tc);
    __syncthreads();
    for (int k = ty; k < 32; k += 8) {
      const int64_t s = s0 + k, c = c0 + tx;
      if (s < spatial && c < channels) tile[k][tx] = src[(b * spatial + s) * channels + c];
    }
    __syncthreads();
    for (int k = ty; k < 32; k += 8) {
      const int64_t c = c0 + k, s = s0 + tx;
      if (s < spatial && c < channels) {
        A v = tile[tx][k];
        if (bias != nullptr) v += convert<A>(bias[c]);
        out[(b * channels + c) * spatial + s] = convert<T>(v);
      }
    }
  }
}

// channels_first_kernel for float32 sources with channels a multiple of 4 and an even spatial size (the
// half types' and float32's scatter targets): tiles of kChannelsFirstPositions positions x 32 channels,
// read as float4 along channels (four per thread in flight) and written as pairs of positions (one 4-byte
// store of two half values, or 8 bytes of two floats, per lane). The values are those of
// channels_first_kernel: T(src (+ bias)), rounded once.
// TVDCN_CUDA_CHANNELS_FIRST=scalar keeps channels_first_kernel (the A/B switch, read once per process).
constexpr int kChannelsFirstPositions = 128;
inline bool channels_first_vector() {
  static const bool on = !env_is("TVDCN_CUDA_CHANNELS_FIRST", "scalar");
  return on;
}

template <typename T>
struct alignas(2 * sizeof(T)) ValuePair {
  T v[2];
};

template <typename T>
__global__ void __launch_bounds__(256, 4)
    channels_first_v4_kernel(T* __restrict__ out, const float* __restrict__ src, const T* __restrict__ bias,
                             int64_t batch, int64_t channels, int64_t spatial) {
  constexpr int P = kChannelsFirstPositions;
  __shared__ float tile[32][P + 1];  // [channel][position]; the +1 spreads the float4 rows over banks
  const int64_t ts = (spatial + P - 1) / P, tc = (channels + 31) / 32;
  const int64_t tiles = batch * tc * ts;
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t tile_id = blockIdx.x; tile_id < tiles; tile_id += gridDim.x) {
    const int64_t s0 = (tile_id % ts) * P, c0 = ((tile_id / ts) % tc) * 32, b = tile_id / (ts * tc);
    const float* sb = src + (b * spatial + s0) * channels + c0;
    __syncthreads();
    // P positions x 8 float4 = P * 8 vectors; 256 threads: P / 32 each, all loads first.
    float4 v[P / 32];
#pragma unroll
    for (int i = 0; i < P / 32; ++i) {
      const int idx = t + i * 256, sl = idx >> 3, cq = (idx & 7) * 4;
      v[i] = (s0 + sl < spatial && c0 + cq < channels)
                 ? __ldcs(reinterpret_cast<const float4*>(sb + static_cast<int64_t>(sl) * channels + cq))
                 : make_float4(0.f, 0.f, 0.f, 0.f);
    }
#pragma unroll
    for (int i = 0; i < P / 32; ++i) {
      const int idx = t + i * 256, sl = idx >> 3, cq = (idx & 7) * 4;
      tile[cq][sl] = v[i].x;
      tile[cq + 1][sl] = v[i].y;
      tile[cq + 2][sl] = v[i].z;
      tile[cq + 3][sl] = v[i].w;
    }
    __syncthreads();
    // 32 channels x P / 2 pairs: a warp stores 32 consecutive pairs of one channel (128 bytes in half).
#pragma unroll
    for (int i = 0; i < P / 16; ++i) {
      const int idx = t + i * 256, cl = idx / (P / 2), pr = (idx % (P / 2)) * 2;
      const int64_t c = c0 + cl, s = s0 + pr;
      if (c < channels && s < spatial) {  // spatial is even: s + 1 < spatial too
        float a0 = tile[cl][pr], a1 = tile[cl][pr + 1];
        if (bias != nullptr) {
          const float bc = convert<float>(bias[c]);
          a0 += bc;
          a1 += bc;
        }
        ValuePair<T> pair;
        pair.v[0] = convert<T>(a0);
        pair.v[1] = convert<T>(a1);
        *reinterpret_cast<ValuePair<T>*>(out + (b * channels + c) * spatial + s) = pair;
      }
    }
  }
}

}  // namespace dcn::cuda
