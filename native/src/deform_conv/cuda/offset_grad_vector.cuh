// SPDX-License-Identifier: MIT
// NOTE [ Vector offset pass ]
// The offset (and mask) gradient of the im2col + GEMM backward, read from the channels-last copy of X (NOTE [ Warp
// im2col from channels-last X ]): one thread per (image, offset group, kernel point, position), positions fastest,
// as offset_grad_kernel, but each corner's channels come as 16-byte vectors (4 float32 or 8 half-type channels per
// load) instead of one scalar load per channel from as many planes: 8 times fewer load instructions in 3D with the
// half types. 3D (8 corners, 64 channels per group in 3d-c64) was the offset pass's worst case: 2.1 ms of a 5.1 ms
// backward; 1.45 ms with this kernel (H100, docs/cuda.md, session 19). Measured, it pays only where the instructions
// were the bound: a lane's 16 bytes sit at its own row, one sector each, where the planar loads of neighbouring
// positions share sectors, so in float32 (4 channels per vector) and on small groups it is slower.
//
// The values are bitwise offset_grad_kernel's: both kernels run one sample through OffsetPassSample (the same
// position and corners, the same per-channel terms in channel order, the same mask value per channel, rounded once);
// only the corner loads differ. A step's loads (its 2^D vectors and its channels' dcol values) are all issued before
// its terms are added, which is what NOTE [ Offset pass loads ahead ] did by four channels. Taken where a group's
// channels are a whole number of 16-byte vectors and the copy fits the workspace; by default only in 2D and 3D, in
// the half types with at least 64 channels per group (the driver's offset_grad_vector says what measured how).
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
  using Sample = OffsetPassSample<D, T, kMaskGrad, kCols>;
  constexpr int kCount = Sample::kCount;
  constexpr int kC = 16 / static_cast<int>(sizeof(T));  // channels of one 16-byte vector: one step
  const int64_t n = a.nb * a.og * a.K * a.qlen;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Sample s(a, i, dcol, offset, mask, cols);
    // The corners' rows of the image in the copy (index 0 where a corner is invalid: a legal address).
    const T* img = xt + s.bl * a.nx * a.cx;
    const A* in = s.in;
    for (int64_t c0 = s.c_begin; c0 < s.c_end; c0 += kC, in += kC * s.step) {
      A xv[kCount][kC];
#pragma unroll
      for (int k = 0; k < kCount; ++k) {
        widen16<T, A>(__ldg(reinterpret_cast<const uint4*>(img + s.cg.index[k] * a.cx + c0)), xv[k]);
      }
      A g[kC];
#pragma unroll
      for (int u = 0; u < kC; ++u) g[u] = in[u * s.step];
#pragma unroll
      for (int u = 0; u < kC; ++u) {
        A xk[kCount];
#pragma unroll
        for (int k = 0; k < kCount; ++k) xk[k] = ((s.cg.valid >> k) & 1u) ? xv[k][u] : A(0);
        s.add(c0 + u, xk, g[u]);
      }
    }
    s.store(grad_offset, grad_mask);
  }
}

}  // namespace dcn::cuda
