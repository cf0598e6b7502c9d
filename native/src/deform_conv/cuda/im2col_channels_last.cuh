// SPDX-License-Identifier: MIT
// im2col of deformable convolution from a channels-last copy of the sampled tensor. See NOTE [
// Channels-last im2col ].
#pragma once
#include <cstdint>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// NOTE [ Channels-last im2col ]
// cols[bl, c, kpt, q] = mask * Interp(X[b, c], p), the columns of im2col_kernel (same layout, same values:
// the corners of linear_corners / grid_corner, sum_i weight_i * corner_i as in im2col_element, times the
// mask, rounded once), read from xl[b][s][c]. im2col_kernel runs lanes over positions, so each corner load
// of a warp touches 32 scattered sectors of a channels-first plane; here a block owns (image, offset
// group, kernel point, 32 positions), 32 threads put the 32 samples' corners into shared memory, and per
// slice of 32 channels the lanes run over channels (one contiguous run per warp and corner), the values
// go through shared memory and are written along positions (coalesced), as the columns are laid out.
constexpr int kIm2colPositions = 32;
constexpr int kIm2colThreads = 256;

template <int D, typename T, bool kDeformable>
__global__ void __launch_bounds__(kIm2colThreads)
    im2col_channels_last_kernel(const ChunkArgs<D> a, const T* __restrict__ xl, const T* __restrict__ offset,
                                const T* __restrict__ mask, T* __restrict__ cols, int64_t blocks) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  constexpr int TQ = kIm2colPositions;
  __shared__ int64_t s_base[kCount][TQ];  // (b * nx + corner) * cx
  __shared__ A s_w[kCount][TQ];
  __shared__ unsigned s_valid[TQ];
  __shared__ A s_val[32][TQ + 1];
  const int tid = static_cast<int>(threadIdx.x);
  const int slice_max = static_cast<int>(a.cpo < 32 ? a.cpo : 32);
  int shift = 0;
  while ((1 << shift) < slice_max) ++shift;
  const int width = 1 << shift;
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
          s_w[i][tid] = c.weight[i];
        }
        valid = c.valid;
      }
      s_valid[tid] = valid;
    }
    const int64_t c_og = og * a.cpo;
    for (int64_t c0 = 0; c0 < a.cpo; c0 += 32) {
      const int cc = static_cast<int>(a.cpo - c0 < 32 ? a.cpo - c0 : 32);
      __syncthreads();  // the plan is written; the previous slice's writers of the columns are done
      for (int u = tid; u < (TQ << shift); u += kIm2colThreads) {
        const int j = u >> shift, cl = u & (width - 1);
        if (cl >= cc || j >= tq) continue;
        const unsigned valid = s_valid[j];
        const T* xp = xl + c_og + c0 + cl;
        A v = 0;
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          const A x = ((valid >> i) & 1u) ? convert<A>(xp[s_base[i][j]]) : A(0);
          v += s_w[i][j] * x;
        }
        if (mask != nullptr) {
          v *= convert<A>(mask[((b * a.mg + (c_og + c0 + cl) / a.cpm) * a.K + kpt) * a.ny + a.q0 + ql0 + j]);
        }
        s_val[cl][j] = v;
      }
      __syncthreads();
      for (int u = tid; u < 32 * TQ; u += kIm2colThreads) {
        const int cl = u / TQ, j = u % TQ;
        if (cl < cc && j < tq) {
          const int64_t c = c_og + c0 + cl;
          cols[((bl * a.cx + c) * a.K + kpt) * a.qlen + ql0 + j] = convert<T>(s_val[cl][j]);
        }
      }
    }
  }
}

}  // namespace dcn::cuda
