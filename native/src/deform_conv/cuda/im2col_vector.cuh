// SPDX-License-Identifier: MIT
// NOTE [ Vector im2col for small offset groups ]
// The columns of the im2col + GEMM paths where an offset group's channels are 16, 32 or 64 bytes (float32: 4, 8
// or 16 channels; the half types: 8, 16 or 32), as in EDVR's alignment convolutions (64 channels in 8 offset
// groups). One thread per (image, offset group, kernel point, position), positions fastest, as im2col_kernel; but
// it samples from a channels-last copy of X (the one NOTE [ Warp im2col from channels-last X ] makes), where a
// corner of the group is one to four 16-byte loads for all its channels, instead of one scalar load per channel
// from as many planes. Per sample of an 8-channel float32 group: 8 vector loads touching 4 sectors, against 32
// scalar loads over ~19 sectors (a warp's 32 positions land on 4-5 rows of each plane with the benchmark's
// offsets), so the L1 wavefronts and load instructions that bound im2col_kernel there drop by about 4x. The
// writes are im2col_kernel's: for each channel, 32 consecutive positions of one column row per warp store.
//
// The values are bitwise those of im2col_kernel (and of the warp kernel): the same corners, weights and validity
// bits (im2col_corners), the same products summed in the same corner order (v += w_i * (valid_i ? x_i : 0)),
// times the same mask value (a whole group shares one mask group here), rounded once to T. Not for float64, nor
// where mask groups are finer than offset groups (the mask would change inside a group: the warp kernel's
// per-channel case).
//
// It reads a copy made by slice (NOTE [ Channels-last by group ], session 29): each slice's channels (a small offset
// group, or a thread's 16-64 bytes of a large one) as an image of their own, so a pixel's slice is followed by the next
// pixel's, and a sample's two corners along the last axis are adjacent (one 32-byte sector or 128-byte line for both,
// mostly), as are the corners of neighbouring positions; in the one copy of all channels
// (TVDCN_CUDA_IM2COL_COPY=channels_last) every corner is on a line of its own, cx values from its neighbour.
//
// Larger groups whose channels are a multiple of 64 bytes (ResNet's 256 and 512 channels in one group) take it
// too, split into slices of 16-64 bytes (a thread per sample and slice, its plan built once per slice). From the one
// copy of all channels the slices were 1.0-1.6x slower than im2col_kernel (docs/cuda.md, session 19); from the copy by
// slice they are faster in the half types (session 29: r50-c3's forward 1.07x, big-b32's 1.05x, 1d-c256's 1.10x,
// r50-c4's and r50-c5's even), the default there in 1D and 2D, and slower in float32 (0.82-0.95x), only with
// TVDCN_CUDA_IM2COL=vector there. 16-byte groups are the default in every dim (edvr-64 in the half types).
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

constexpr int kIm2colVectorThreads = 256;

// N 32-bit words of T values (one float32 value or two half-type values a word), widened to A.
template <typename T, typename A, int N>
__device__ __forceinline__ void widen_words(const unsigned (&words)[N], A* out) {
#pragma unroll
  for (int j = 0; j < N; ++j) {
    if constexpr (std::is_same_v<T, float>) {
      out[j] = __uint_as_float(words[j]);
    } else {
      float2 f;
      if constexpr (std::is_same_v<T, __half>) {
        __half2 h;
        memcpy(&h, &words[j], sizeof(h));
        f = __half22float2(h);
      } else {
        __nv_bfloat162 h;
        memcpy(&h, &words[j], sizeof(h));
        f = __bfloat1622float2(h);
      }
      out[2 * j] = f.x;
      out[2 * j + 1] = f.y;
    }
  }
}

// The kElems values of T in one 16-byte vector, widened to A.
template <typename T, typename A>
__device__ __forceinline__ void widen16(const uint4& raw, A* out) {
  const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
  widen_words<T, A, 4>(words, out);
}

// See NOTE [ Vector im2col for small offset groups ]. xt holds the chunk's images channels-last (NOTE [ Channels-last
// by group ]): slice s of offset group og of image bl at xt + bl * nx * cx + og * group_stride + s * slice_stride,
// its pixels pixel_stride apart (by slice: the slice's channels kC, nx * cpo and nx * kC; in one copy of all channels:
// cx, cpo and kC; 16-byte aligned either way, kC * sizeof(T) being a multiple of 16); a thread takes kVec 16-byte
// vectors of channels (a.cper == kVec * 16 / sizeof(T)), a.slices of them per offset group; I indexes threads,
// positions and the copy's elements of one image; dv: NOTE [ Division by a run-time constant ].
template <int D, typename T, bool kDeformable, typename I, int kVec>
__global__ void __launch_bounds__(kIm2colVectorThreads)
    im2col_vector_kernel(const ChunkArgs<D> a, const ChunkDivisors<D> dv, const T* __restrict__ xt,
                         int64_t pixel_stride, int64_t group_stride, int64_t slice_stride, const T* __restrict__ offset,
                         const T* __restrict__ mask, T* __restrict__ cols) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  constexpr int kElems = 16 / static_cast<int>(sizeof(T));
  constexpr int kC = kVec * kElems;  // channels of a slice
  const I ps = static_cast<I>(pixel_stride), cpo = static_cast<I>(a.cpo);
  const I n = static_cast<I>(a.nb) * static_cast<I>(a.og) * static_cast<I>(a.slices) * static_cast<I>(a.K) *
              static_cast<I>(a.qlen);
  const I stride = static_cast<I>(blockDim.x) * gridDim.x;
  const int64_t out_step = a.K * a.qlen;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const ThreadSample<D, I> s = thread_sample<D, I>(a, dv, i);
    const I og = s.og, kpt = s.kpt, bl = s.bl, ql = s.ql;
    const int64_t b = a.b0 + bl, q = a.q0 + ql;
    Corners<kCount, A, I> corners;
    corners_at<D, T, kDeformable, I>(a, a.x_size, offset, b, og, kpt, q, s.pos, corners);
    const I c_first = og * cpo + s.slice * static_cast<I>(kC);
    A m = A(1);
    if (mask != nullptr) {
      m = convert<A>(mask[((b * a.mg + mask_group<D, I>(a, dv, c_first)) * a.K + kpt) * a.ny + q]);
    }
    const T* img = xt + static_cast<int64_t>(bl) * a.nx * a.cx + og * group_stride + s.slice * slice_stride;
    A v[kC];
#pragma unroll
    for (int u = 0; u < kC; ++u) v[u] = 0;
#pragma unroll
    for (int c = 0; c < kCount; ++c) {
      const A w = corners.weight[c];
      const bool ok = (corners.valid >> c) & 1u;
      // index 0 when invalid: always a legal address, as in im2col_element.
      const uint4* src = reinterpret_cast<const uint4*>(img + corners.index[c] * ps);
#pragma unroll
      for (int j = 0; j < kVec; ++j) {
        A x[kElems];
        // NOTE [ Invalid corners by the word ]: an invalid corner's vector is zeroed before it is widened: all-zero
        // bits widen to +0, the value a select per element gives (`ok ? x : 0`, im2col_kernel's), so the FMAs see the
        // same operands, and the compiler zeroes words (~13 logic instructions a sample of one vector) where the
        // select took one per element (32); session 30: 1.00-1.04x on the benchmark's shapes (docs/cuda.md).
        uint4 raw = __ldg(src + j);
        if (!ok) raw = make_uint4(0u, 0u, 0u, 0u);
        widen16<T, A>(raw, x);
#pragma unroll
        for (int e = 0; e < kElems; ++e) v[j * kElems + e] += w * x[e];
      }
    }
    T* out = cols + ((static_cast<int64_t>(bl) * a.cx + c_first) * a.K + kpt) * a.qlen + ql;
#pragma unroll
    for (int u = 0; u < kC; ++u) out[u * out_step] = convert<T>(v[u] * m);
  }
}

}  // namespace dcn::cuda
