// SPDX-License-Identifier: MIT
// The offset and mask gradients of a deformable convolution from a channels-last copy of the sampled
// tensor. See NOTE [ Channels-last coordinate gradients ].
#pragma once
#include <cstdint>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// NOTE [ Channels-last coordinate gradients ]
// grad_offset[b, (og * K + kpt) * D + a, q] = sum over the channels c of offset group og of
//   dcol[bl, c, kpt, q] * mask[c] * d Interp(X[b, c], p) / d p_a, and (mask groups = offset groups)
// grad_mask[b, og * K + kpt, q] = sum over the same channels of dcol[bl, c, kpt, q] * Interp(X[b, c], p)
// (tvdcn-reference §4.3, §4.4; offset_grad_kernel and mask_grad_kernel compute the same sums with one
// thread per sample looping over the channels of a channels-first X, so the lanes of a warp load 32
// scattered corners). Here a block owns (image, offset group, kernel point, 32 positions): 32 threads
// build the 32 samples' corner gradients (the shared linear_corner_grads) into shared memory; per slice
// of 32 channels the block stages dcol and the mask through shared memory (coalesced along positions),
// then lanes over channels read the corners from the channels-last copy xl[b][s][c] (one contiguous run
// per warp and corner), and a butterfly over the lanes of a sample sums the slice; each thread keeps the
// sums of its samples over the slices in registers and writes them once. The value weights of
// linear_corner_grads equal those of linear_corners (same early-out, same products), so the mask
// gradient reads the same values as mask_grad_kernel. No atomics: deterministic, and the order of the
// sums is fixed (slices in order, a butterfly within a slice).
constexpr int kCoordPositions = 32;
constexpr int kCoordThreads = 256;

template <int D, typename T, bool kOffsetGrad, bool kMaskGrad>
__global__ void __launch_bounds__(kCoordThreads)
    coord_grads_channels_last_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol,
                                     const T* __restrict__ xl, const T* __restrict__ offset,
                                     const T* __restrict__ mask, T* __restrict__ grad_offset,
                                     T* __restrict__ grad_mask, int64_t blocks) {
  using A = acc_type<T>;
  constexpr int kCount = 1 << D;
  constexpr int TQ = kCoordPositions;
  constexpr int kPer = TQ * 32 / kCoordThreads;  // samples per thread at 32 lanes per sample
  __shared__ int64_t s_base[kCount][TQ];         // (b * nx + corner) * cx
  __shared__ A s_w[kCount][TQ];
  __shared__ A s_dw[D][kCount][TQ];
  __shared__ unsigned s_valid[TQ];
  __shared__ A s_dcol[32][TQ + 1];
  __shared__ A s_mask[32][TQ + 1];
  const int tid = static_cast<int>(threadIdx.x);
  const int slice_max = static_cast<int>(a.cpo < 32 ? a.cpo : 32);
  int shift = 0;
  while ((1 << shift) < slice_max) ++shift;
  const int width = 1 << shift;
  const int units = TQ << shift;
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
        A p[D];
        deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
        CornerGrads<D, A, int64_t> cg;
        linear_corner_grads<D, A, int64_t>(p, a.x_size, cg);
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          s_base[i][tid] = (b * a.nx + cg.index[i]) * a.cx;
          s_w[i][tid] = cg.weight[i];
#pragma unroll
          for (int ax = 0; ax < D; ++ax) s_dw[ax][i][tid] = cg.dweight[ax][i];
        }
        valid = cg.valid;
      }
      s_valid[tid] = valid;
    }
    A acc_off[kPer][D];
    A acc_mask[kPer];
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      acc_mask[k] = 0;
#pragma unroll
      for (int ax = 0; ax < D; ++ax) acc_off[k][ax] = 0;
    }
    const int64_t c_og = og * a.cpo;
    for (int64_t c0 = 0; c0 < a.cpo; c0 += 32) {
      const int cc = static_cast<int>(a.cpo - c0 < 32 ? a.cpo - c0 : 32);
      if (c0 > 0) __syncthreads();  // the previous slice's readers of s_dcol / s_mask are done
      for (int u = tid; u < 32 * TQ; u += kCoordThreads) {
        const int cl = u / TQ, j = u % TQ;
        if (cl < cc && j < tq) {
          const int64_t c = c_og + c0 + cl;
          s_dcol[cl][j] = dcol[((bl * a.cx + c) * a.K + kpt) * a.qlen + ql0 + j];
          s_mask[cl][j] =
              mask == nullptr ? A(1) : convert<A>(mask[((b * a.mg + c / a.cpm) * a.K + kpt) * a.ny + a.q0 + ql0 + j]);
        }
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < kPer; ++k) {
        const int u = tid + k * kCoordThreads;
        if (u >= units) break;  // uniform per warp: units is a multiple of 32
        const int j = u >> shift, cl = u & (width - 1);
        A d_off[D];
        A d_mask = 0;
#pragma unroll
        for (int ax = 0; ax < D; ++ax) d_off[ax] = 0;
        if (cl < cc && j < tq) {
          const unsigned valid = s_valid[j];
          const T* xp = xl + c_og + c0 + cl;
          A v = 0, dv[D];
#pragma unroll
          for (int ax = 0; ax < D; ++ax) dv[ax] = 0;
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            const A x = ((valid >> i) & 1u) ? convert<A>(xp[s_base[i][j]]) : A(0);
            v += s_w[i][j] * x;
#pragma unroll
            for (int ax = 0; ax < D; ++ax) dv[ax] += s_dw[ax][i][j] * x;
          }
          const A g = s_dcol[cl][j];
          const A w = g * s_mask[cl][j];
#pragma unroll
          for (int ax = 0; ax < D; ++ax) d_off[ax] = w * dv[ax];
          d_mask = g * v;
        }
        for (int o = width >> 1; o > 0; o >>= 1) {
          if constexpr (kOffsetGrad) {
#pragma unroll
            for (int ax = 0; ax < D; ++ax) d_off[ax] += __shfl_xor_sync(0xffffffffu, d_off[ax], o);
          }
          if constexpr (kMaskGrad) d_mask += __shfl_xor_sync(0xffffffffu, d_mask, o);
        }
#pragma unroll
        for (int ax = 0; ax < D; ++ax) acc_off[k][ax] += d_off[ax];
        acc_mask[k] += d_mask;
      }
    }
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int u = tid + k * kCoordThreads;
      if (u >= units) break;
      const int j = u >> shift, cl = u & (width - 1);
      if (cl != 0 || j >= tq) continue;
      const int64_t q = a.q0 + ql0 + j;
      if constexpr (kOffsetGrad) {
        T* out = grad_offset + ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
#pragma unroll
        for (int ax = 0; ax < D; ++ax) out[ax * a.ny] = convert<T>(acc_off[k][ax]);
      }
      if constexpr (kMaskGrad) grad_mask[((b * a.mg + og) * a.K + kpt) * a.ny + q] = convert<T>(acc_mask[k]);
    }
  }
}

}  // namespace dcn::cuda
