// SPDX-License-Identifier: MIT
// NOTE [ Vector offset pass ]
// The offset (and mask) gradient of the im2col + GEMM backward, read from the channels-last copy of X (NOTE [ Warp
// im2col from channels-last X ]): one thread per (image, offset group, kernel point, position), positions fastest,
// as offset_grad_kernel, but each corner's channels come as 16-byte vectors (4 float32 or 8 half-type channels per
// load) instead of one scalar load per channel from as many planes. With the benchmark's offsets a warp's 32
// positions land on several rows of each plane, so the scalar kernel spends ~19 sectors and 32 load instructions
// per corner and 32 channels; here it is 32 sectors of which half are used and 1 instruction per 4-8 channels.
// 3D (8 corners, 64 channels per group in 3d-c64) was the offset pass's worst case: 2.1 ms of a 5.1 ms backward.
//
// The values are bitwise offset_grad_kernel's: the same position and corners (linear_corner_grads, and
// linear_corners for the value), the same per-channel terms added in channel order with the same expressions, the
// same mask value per channel (reloaded when the channel leaves its mask group), rounded once. A slice's loads (its
// 2^D vectors and its channels' dcol values) are all issued before its terms are added, which is what NOTE [ Offset
// pass loads ahead ] did by four channels. Taken where a group's channels are a whole number of 16-byte vectors and
// the copy fits the workspace; by default only in the half types with at least 64 channels per group (the driver's
// offset_grad_vector says what measured how).
#pragma once
#include <cstdint>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/cuda/im2col_vector.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// See NOTE [ Vector offset pass ]. xt[bl][s][c] holds the chunk's images channels-last (rows of a.cx channels,
// 16-byte aligned; a.cpo * sizeof(T) a multiple of 16).
template <int D, typename T, bool kMaskGrad, bool kCols>
__global__ void offset_grad_vector_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol,
                                          const T* __restrict__ xt, const T* __restrict__ offset,
                                          const T* __restrict__ mask, T* __restrict__ grad_offset,
                                          T* __restrict__ grad_mask, T* __restrict__ cols) {
  using A = acc_type<T>;
  constexpr int kCount = 1 << D;
  constexpr int kC = 16 / static_cast<int>(sizeof(T));  // channels of one 16-byte vector: one step
  const int64_t n = a.nb * a.og * a.K * a.qlen;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t r = i;
    const int64_t ql = r % a.qlen;
    r /= a.qlen;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t og = r % a.og;
    const int64_t bl = r / a.og;
    const int64_t b = a.b0 + bl, q = a.q0 + ql;
    int64_t pos[D];
    base_position<D>(a, q, kpt, pos);
    A p[D];
    deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
    CornerGrads<D, A, int64_t> cg;
    linear_corner_grads<D, A, int64_t>(p, a.x_size, cg);
    constexpr bool kValue = kMaskGrad || kCols;
    Corners<kCount, A, int64_t> cv;
    if constexpr (kValue) linear_corners<D, A, int64_t>(p, a.x_size, A(1), cv);
    A total[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) total[ax] = 0;
    A total_mask = 0;
    const T* m_ptr = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + kpt) * a.ny + q;
    const int64_t c_begin = og * a.cpo, c_end = c_begin + a.cpo;
    const int64_t first = ((bl * a.cx + c_begin) * a.K + kpt) * a.qlen + ql;
    const A* in = dcol + first;
    T* col_out = kCols ? cols + first : nullptr;
    const int64_t step = a.K * a.qlen;
    int64_t mg_end = c_begin;
    A mval = A(1);
    // The corners' rows of the image in the copy (index 0 where a corner is invalid: a legal address).
    const T* img = xt + bl * a.nx * a.cx;
    for (int64_t c0 = c_begin; c0 < c_end; c0 += kC, in += kC * step) {
      A xk[kCount][kC];
#pragma unroll
      for (int k = 0; k < kCount; ++k) {
        widen16<T, A>(__ldg(reinterpret_cast<const uint4*>(img + cg.index[k] * a.cx + c0)), xk[k]);
      }
      A g[kC];
#pragma unroll
      for (int u = 0; u < kC; ++u) g[u] = in[u * step];
#pragma unroll
      for (int u = 0; u < kC; ++u) {
        // offset_grad_kernel's add_channel for channel c0 + u, term for term.
        A dv[D];
#pragma unroll
        for (int ax = 0; ax < D; ++ax) dv[ax] = 0;
        A v = 0;
#pragma unroll
        for (int k = 0; k < kCount; ++k) {
          const A x = ((cg.valid >> k) & 1u) ? xk[k][u] : A(0);
#pragma unroll
          for (int ax = 0; ax < D; ++ax) dv[ax] += cg.dweight[ax][k] * x;
          if constexpr (kValue) v += cv.weight[k] * (((cv.valid >> k) & 1u) ? x : A(0));
        }
        A w = g[u];
        if (m_ptr != nullptr) {
          const int64_t c = c0 + u;
          if (c >= mg_end) {
            const int64_t mg = c / a.cpm;
            mg_end = (mg + 1) * a.cpm;
            mval = convert<A>(m_ptr[mg * a.K * a.ny]);
          }
          w *= mval;
        }
#pragma unroll
        for (int ax = 0; ax < D; ++ax) total[ax] += w * dv[ax];
        if constexpr (kMaskGrad) total_mask += g[u] * v;
        if constexpr (kCols) {
          *col_out = convert<T>(v * mval);
          col_out += step;
        }
      }
    }
    T* out = grad_offset + ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
#pragma unroll
    for (int ax = 0; ax < D; ++ax) out[ax * a.ny] = convert<T>(total[ax]);
    if constexpr (kMaskGrad) grad_mask[((b * a.mg + og) * a.K + kpt) * a.ny + q] = convert<T>(total_mask);
  }
}

}  // namespace dcn::cuda
