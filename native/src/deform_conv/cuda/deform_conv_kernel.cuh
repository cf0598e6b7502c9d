// SPDX-License-Identifier: MIT
// The CUDA column kernels of deformable convolution, in the regular view (see NOTE [ Regular view ] in
// params.h): im2col (sample X into columns) and the offset and mask gradients (col2im, the scatter of
// column gradients into X, is col2im_channels_last.cuh, or col2im_sorted.cuh in deterministic mode). Each is a
// grid-stride loop over one chunk of (image, y position) pairs and calls the element bodies of columns.h and the
// corners of sampling.h, which the CPU kernels share; this file only maps threads to elements.
//
// Thread mapping: one thread per (image, offset group, channel slice, kernel point, y position), y
// position fastest (coalesced offset/mask/column accesses, neighbouring samples). The sampling
// position and its corners depend on (image, offset group, kernel point, y position) only, so they are
// computed once and reused for every channel of the slice.
//
// Column layout of a chunk (images b0 .. b0+nb-1, y positions q0 .. q0+qlen-1):
//   cols[((bl * cx + c) * K + kpt) * qlen + ql]   (row r = c * K + kpt, as the weight's [c][kpt])
// so that the rows of group g are one contiguous block of cx/G * K rows per image.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/fast_divmod.h"
#include "cuda_runtime/scalar.cuh"
#include "deform_conv/columns.h"
#include "deform_conv/params.h"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// Geometry of one chunk, derived on the host from SamplingGeometry (device-copyable).
template <int D>
struct ChunkArgs {
  SmallArray<int64_t, D> x_size, y_size, kernel_size, stride, padding, dilation;
  int64_t cx;        // channels of X
  int64_t K;         // kernel points
  int64_t nx, ny;    // prod(x_size), prod(y_size)
  int64_t og, mg;    // offset groups, mask groups
  int64_t cpo, cpm;  // channels per offset group (cx / og), per mask group (cx / mg)
  int64_t b0, nb;    // images of the chunk
  int64_t q0, qlen;  // y positions of the chunk
  int64_t cper;      // channels per thread (a slice of an offset group)
  int64_t slices;    // slices per offset group: ceil(cpo / cper)
};

// A sample's value from a plane of storage type T with corners in the accumulator type A. For T == A
// this is the shared im2col_element; the half types widen each corner on load.
template <int kCount, typename A, typename T, typename I = int64_t>
__device__ __forceinline__ A sample_value(const T* __restrict__ plane, const Corners<kCount, A, I>& c) {
  if constexpr (std::is_same_v<T, A>) {
    return im2col_element<kCount, A, I>(plane, c);
  } else {
    A v = 0;
#pragma unroll
    for (int i = 0; i < kCount; ++i) {
      const A x = convert<A>(plane[c.index[i]]);
      v += c.weight[i] * (((c.valid >> i) & 1u) ? x : A(0));
    }
    return v;
  }
}

// Value and coordinate derivatives of a sample (see coord_grad_element), for any storage type.
template <int D, typename A, typename T>
__device__ __forceinline__ A sample_grad(const T* __restrict__ plane, const CornerGrads<D, A, int64_t>& c, A* dvalue) {
  if constexpr (std::is_same_v<T, A>) {
    return coord_grad_element<D, A, int64_t>(plane, c, dvalue);
  } else {
    constexpr int kCount = 1 << D;
    A v = 0;
#pragma unroll
    for (int a = 0; a < D; ++a) dvalue[a] = 0;
#pragma unroll
    for (int i = 0; i < kCount; ++i) {
      const A x = ((c.valid >> i) & 1u) ? convert<A>(plane[c.index[i]]) : A(0);
      v += c.weight[i] * x;
#pragma unroll
      for (int a = 0; a < D; ++a) dvalue[a] += c.dweight[a][i] * x;
    }
    return v;
  }
}

// Decomposes a flat index into `count` row-major coordinates over `size`.
template <int D>
__device__ __forceinline__ void unravel(int64_t flat, const SmallArray<int64_t, D>& size, int64_t* out) {
#pragma unroll
  for (int a = D - 1; a >= 0; --a) {
    out[a] = flat % size[a];
    flat /= size[a];
  }
}

// The integer grid position p0 of kernel point kpt at y position q (tvdcn-reference §3.3, no offset).
template <int D>
__device__ __forceinline__ void base_position(const ChunkArgs<D>& a, int64_t q, int64_t kpt, int64_t* pos) {
  int64_t y[D], k[D];
  unravel<D>(q, a.y_size, y);
  unravel<D>(kpt, a.kernel_size, k);
  grid_position<D, float, int64_t>(y, k, a.stride, a.padding, a.dilation, pos);
}

// Continuous sampling position: p0 + offset[b, (og * K + kpt) * D + axis, q].
template <int D, typename A, typename T>
__device__ __forceinline__ void deformed_position(const ChunkArgs<D>& a, const T* __restrict__ offset, int64_t b,
                                                  int64_t og, int64_t kpt, int64_t q, const int64_t* pos, A* p) {
  const T* off = offset + ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
#pragma unroll
  for (int ax = 0; ax < D; ++ax) p[ax] = static_cast<A>(pos[ax]) + convert<A>(off[ax * a.ny]);
}

// Unravels the im2col / col2im thread index (image, offset group, slice, kernel point, y position).
struct ColumnIndex {
  int64_t bl, og, slice, kpt, ql;
  template <int D>
  __device__ __forceinline__ ColumnIndex(int64_t i, const ChunkArgs<D>& a) {
    ql = i % a.qlen;
    i /= a.qlen;
    kpt = i % a.K;
    i /= a.K;
    slice = i % a.slices;
    i /= a.slices;
    og = i % a.og;
    bl = i / a.og;
  }
};

// NOTE [ Division by a run-time constant ] (core/fast_divmod.h) in the im2col kernels: the divisors of their index
// arithmetic (the chunk's positions, kernel points, slices, offset groups, each axis of the output and of the kernel,
// and the channels of a mask group), made once on the host for a launch whose indices are int32 (`on`). With `on`
// false the kernels divide as before: TVDCN_CUDA_IM2COL_DIV=plain (read at each call) for A/B runs and the bitwise
// test; the quotients are the same, so are the columns.
template <int D>
struct ChunkDivisors {
  bool on = false;
  FastDivmod qlen, K, slices, og, cpm;
  FastDivmod y_size[D], kernel_size[D];
};

// Host side: the divisors of a chunk whose sizes all fit int32 (the caller's int32 condition).
template <int D>
ChunkDivisors<D> chunk_divisors(const ChunkArgs<D>& a) {
  ChunkDivisors<D> dv;
  bool empty = a.qlen < 1 || a.K < 1 || a.slices < 1 || a.og < 1 || a.cpm < 1;
  for (int ax = 0; ax < D; ++ax) empty = empty || a.y_size[ax] < 1 || a.kernel_size[ax] < 1;
  if (empty) return dv;  // nothing to divide: the plain arithmetic (`on` false)
  dv.on = true;
  dv.qlen = FastDivmod(static_cast<uint32_t>(a.qlen));
  dv.K = FastDivmod(static_cast<uint32_t>(a.K));
  dv.slices = FastDivmod(static_cast<uint32_t>(a.slices));
  dv.og = FastDivmod(static_cast<uint32_t>(a.og));
  dv.cpm = FastDivmod(static_cast<uint32_t>(a.cpm));
  for (int ax = 0; ax < D; ++ax) {
    dv.y_size[ax] = FastDivmod(static_cast<uint32_t>(a.y_size[ax]));
    dv.kernel_size[ax] = FastDivmod(static_cast<uint32_t>(a.kernel_size[ax]));
  }
  return dv;
}

// The mask group of channel c (< cx): with the divisor where dv.on (int32 only), else with plain division.
template <int D, typename I>
__device__ __forceinline__ int64_t mask_group(const ChunkArgs<D>& a, const ChunkDivisors<D>& dv, int64_t c) {
  if constexpr (std::is_same_v<I, int32_t>) {
    if (dv.on) return dv.cpm.div(static_cast<uint32_t>(c));
  }
  return c / a.cpm;
}

// One im2col thread's sample: image of the chunk, offset group, channel slice, kernel point, position of the
// chunk, and the tap's integer grid position (tvdcn-reference §3.3, no offset).
template <int D, typename I>
struct ThreadSample {
  I bl, og, slice, kpt, ql;
  I pos[D];
};

// The grid position of kernel point kk at y position yq, axis by axis (last fastest).
template <int D, typename I>
__device__ __forceinline__ void tap_position(const ChunkArgs<D>& a, I yq, I kk, I* pos) {
#pragma unroll
  for (int ax = D - 1; ax >= 0; --ax) {
    const I ys = static_cast<I>(a.y_size[ax]), ks = static_cast<I>(a.kernel_size[ax]);
    const I y = yq % ys, k = kk % ks;
    yq /= ys;
    kk /= ks;
    pos[ax] = y * static_cast<I>(a.stride[ax]) - static_cast<I>(a.padding[ax]) + k * static_cast<I>(a.dilation[ax]);
  }
}

// Thread index i of the im2col grid (positions fastest, then kernel points, slices, offset groups, images) as its
// sample, with the divisors where dv.on (int32 only), else with plain division.
template <int D, typename I>
__device__ __forceinline__ ThreadSample<D, I> thread_sample(const ChunkArgs<D>& a, const ChunkDivisors<D>& dv, I i) {
  ThreadSample<D, I> s;
  if constexpr (std::is_same_v<I, int32_t>) {
    if (dv.on) {
      I r;
      dv.qlen.divmod(i, r, s.ql);
      dv.K.divmod(r, r, s.kpt);
      dv.slices.divmod(r, r, s.slice);
      dv.og.divmod(r, s.bl, s.og);
      I yq = static_cast<I>(a.q0) + s.ql, kk = s.kpt;
#pragma unroll
      for (int ax = D - 1; ax >= 0; --ax) {
        I y, k;
        dv.y_size[ax].divmod(yq, yq, y);
        dv.kernel_size[ax].divmod(kk, kk, k);
        s.pos[ax] =
            y * static_cast<I>(a.stride[ax]) - static_cast<I>(a.padding[ax]) + k * static_cast<I>(a.dilation[ax]);
      }
      return s;
    }
  }
  I r = i;
  const I qlen = static_cast<I>(a.qlen), K = static_cast<I>(a.K), slices = static_cast<I>(a.slices);
  const I og_count = static_cast<I>(a.og);
  s.ql = r % qlen;
  r /= qlen;
  s.kpt = r % K;
  r /= K;
  s.slice = r % slices;
  r /= slices;
  s.og = r % og_count;
  s.bl = r / og_count;
  tap_position<D, I>(a, static_cast<I>(a.q0 + s.ql), s.kpt, s.pos);
  return s;
}

// The corners of one im2col sample (image b, offset group og, kernel point kpt, y position q) from its tap's grid
// position pos (tap_position) in I, moved by its offset (linear_corners) or not (grid_corner).
template <int D, typename T, bool kDeformable, typename I>
__device__ __forceinline__ void corners_at(const ChunkArgs<D>& a, const SmallArray<int64_t, D>& x_size,
                                           const T* __restrict__ offset, int64_t b, int64_t og, I kpt, int64_t q,
                                           const I* pos, Corners<kDeformable ? (1 << D) : 1, acc_type<T>, I>& corners) {
  using A = acc_type<T>;
  if constexpr (kDeformable) {
    const T* off = offset + ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
    A p[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) p[ax] = static_cast<A>(pos[ax]) + convert<A>(off[ax * a.ny]);
    linear_corners<D, A, I>(p, x_size, A(1), corners);
  } else {
    grid_corner<D, A, I>(pos, x_size, A(1), corners);
  }
}

// The corners of one im2col sample (tvdcn-reference §3.3): tap_position, then corners_at. im2col_kernel,
// im2col_warp_kernel and im2col_vector_kernel build them the same way, so that their columns are bitwise equal.
template <int D, typename T, bool kDeformable, typename I>
__device__ __forceinline__ void im2col_corners(const ChunkArgs<D>& a, const SmallArray<int64_t, D>& x_size,
                                               const T* __restrict__ offset, int64_t b, int64_t og, I kpt, int64_t q,
                                               Corners<kDeformable ? (1 << D) : 1, acc_type<T>, I>& corners) {
  I pos[D];
  tap_position<D, I>(a, static_cast<I>(q), kpt, pos);
  corners_at<D, T, kDeformable, I>(a, x_size, offset, b, og, kpt, q, pos, corners);
}

// cols[bl, c, kpt, ql] = mask * Interp(X[b, c], p) for the channels c of one slice (tvdcn-reference
// §3.4; §4.1 for Interp). The forward's hot loop, so: index arithmetic in I (int32 whenever the chunk's
// thread count and a plane fit, see NOTE [ Index type ]), plane and column pointers advanced rather
// than recomputed, the mask value reloaded only when the mask group changes, and channels taken four at
// a time so that 4 * 2^D independent corner loads are in flight per thread.
template <int D, typename T, bool kDeformable, typename I>
__global__ void im2col_kernel(const ChunkArgs<D> a, const ChunkDivisors<D> dv, const T* __restrict__ x,
                              const T* __restrict__ offset, const T* __restrict__ mask, T* __restrict__ cols,
                              bool hoist_mask) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  const I n = static_cast<I>(a.nb) * static_cast<I>(a.og) * static_cast<I>(a.slices) * static_cast<I>(a.K) *
              static_cast<I>(a.qlen);
  const I stride = static_cast<I>(blockDim.x) * gridDim.x;
  SmallArray<int64_t, D> x_size = a.x_size;
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const ThreadSample<D, I> s = thread_sample<D, I>(a, dv, i);
    const I og = s.og, slice = s.slice, kpt = s.kpt, bl = s.bl;
    const int64_t b = a.b0 + bl, q = a.q0 + s.ql;
    Corners<kCount, A, I> corners;
    corners_at<D, T, kDeformable, I>(a, x_size, offset, b, og, kpt, q, s.pos, corners);
    const int64_t c_begin = og * a.cpo + static_cast<int64_t>(slice) * a.cper;
    const int64_t c_end = min(og * a.cpo + a.cpo, c_begin + a.cper);
    const T* plane = x + (b * a.cx + c_begin) * a.nx;
    T* out = cols + ((bl * a.cx + c_begin) * a.K + kpt) * a.qlen + s.ql;
    const int64_t out_step = a.K * a.qlen;
    // Mask value of the current mask group, and the first channel of the next group.
    const T* m_ptr = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + kpt) * a.ny + q;
    int64_t mg = mask_group<D, I>(a, dv, c_begin);
    int64_t mg_end = (mg + 1) * a.cpm;
    A mval = m_ptr == nullptr ? A(1) : convert<A>(m_ptr[mg * a.K * a.ny]);
    auto mask_of = [&](int64_t c) -> A {
      if (m_ptr != nullptr && c >= mg_end) {
        mg = c / a.cpm;
        mg_end = (mg + 1) * a.cpm;
        mval = convert<A>(m_ptr[mg * a.K * a.ny]);
      }
      return mval;
    };
    // The slice's channels; with kOneMask (no mask, or the whole slice in one mask group: the common case) without
    // the per-channel check of the mask group (the same value, mval, either way).
    auto channels = [&](auto one_mask) {
      constexpr bool kOneMask = decltype(one_mask)::value;
      int64_t c = c_begin;
      for (; c + 4 <= c_end; c += 4, plane += 4 * a.nx, out += 4 * out_step) {
        A v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = sample_value<kCount, A, T, I>(plane + u * a.nx, corners);
#pragma unroll
        for (int u = 0; u < 4; ++u) out[u * out_step] = convert<T>(v[u] * (kOneMask ? mval : mask_of(c + u)));
      }
      for (; c < c_end; ++c, plane += a.nx, out += out_step) {
        *out = convert<T>(sample_value<kCount, A, T, I>(plane, corners) * (kOneMask ? mval : mask_of(c)));
      }
    };
    if (hoist_mask && (m_ptr == nullptr || c_end <= mg_end))
      channels(std::true_type{});
    else
      channels(std::false_type{});
  }
}

// grad_offset[b, (og * K + kpt) * D + axis, q] = sum over c in offset group og of
//   dcol[bl, c, kpt, ql] * mask * d Interp(X[b, c], p) / d p_axis   (tvdcn-reference §4.3), and with
// kMaskGrad (mask groups = offset groups) in the same pass
// grad_mask[b, og * K + kpt, q] = sum over the same channels of dcol[bl, c, kpt, ql] * Interp(X[b, c], p)
// (§4.4): each corner is loaded once for both. The mask gradient's value uses the corners of
// linear_corners (the forward's early-out, as mask_grad_kernel); where they are valid they are the corners
// of linear_corner_grads (same floor and fractions), so their values are the ones loaded here.
// One thread per (image, offset group, kernel point, y position); no atomics.
//
// NOTE [ Columns from the offset pass ]: with kCols the same pass also writes the chunk's columns,
// cols[bl, c, kpt, ql] = T(mask * Interp(X[b, c], p)), which the backward's weight gradient (and the
// transposed op's input gradient) read, instead of a separate im2col over the same samples. The value is
// the one im2col_kernel computes: the corners of linear_corners (the same position p, built the same
// way), the same products summed in the same corner order (v += w_k * x_k), times the same mask value,
// rounded once; so the columns, and every product of them, are bitwise those of im2col. The column
// layout is dcol's, so the write goes through the dcol read's offset.

// One sample of the offset pass (image bl, offset group og, kernel point kpt, position ql of the chunk): its
// position and corners, the sums of its channels' terms, and their stores. offset_grad_kernel and
// offset_grad_vector_kernel (offset_grad_vector.cuh) share it, so that their gradients and columns are bitwise
// equal: only the loads of the corner values differ.
template <int D, typename T, bool kMaskGrad, bool kCols>
struct OffsetPassSample {
  using A = acc_type<T>;
  static constexpr int kCount = 1 << D;
  static constexpr bool kValue = kMaskGrad || kCols;
  int64_t bl, b, c_begin, c_end, step;  // image of the chunk, of the batch
  CornerGrads<D, A, int64_t> cg;
  Corners<kCount, A, int64_t> cv;
  A total[D];
  A total_mask = 0;
  const T* m_ptr;
  const A* in;  // dcol of the group's first channel
  T* col_out;
  // The mask value of the current mask group, reloaded when the channel leaves it (no division per channel; the
  // same value as m_ptr[(c / cpm) * K * ny]).
  int64_t cpm, mask_step, mg_end;
  A mval = A(1);
  int64_t out_index, mask_index, ny;  // the sample's grad_offset (first axis) and grad_mask elements

  // Sample i of the chunk's (image, offset group, kernel point, position) sequence, positions fastest.
  __device__ __forceinline__ OffsetPassSample(const ChunkArgs<D>& a, int64_t i, const A* __restrict__ dcol,
                                              const T* __restrict__ offset, const T* __restrict__ mask,
                                              T* __restrict__ cols) {
    int64_t r = i;
    const int64_t ql = r % a.qlen;
    r /= a.qlen;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t og = r % a.og;
    bl = r / a.og;
    b = a.b0 + bl;
    const int64_t q = a.q0 + ql;
    int64_t pos[D];
    base_position<D>(a, q, kpt, pos);
    A p[D];
    deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
    linear_corner_grads<D, A, int64_t>(p, a.x_size, cg);
    if constexpr (kValue) linear_corners<D, A, int64_t>(p, a.x_size, A(1), cv);
#pragma unroll
    for (int ax = 0; ax < D; ++ax) total[ax] = 0;
    m_ptr = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + kpt) * a.ny + q;
    c_begin = og * a.cpo;
    c_end = c_begin + a.cpo;
    const int64_t first = ((bl * a.cx + c_begin) * a.K + kpt) * a.qlen + ql;
    in = dcol + first;
    col_out = kCols ? cols + first : nullptr;
    step = a.K * a.qlen;
    cpm = a.cpm;
    mask_step = a.K * a.ny;
    mg_end = c_begin;
    ny = a.ny;
    out_index = ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
    mask_index = ((b * a.mg + og) * a.K + kpt) * a.ny + q;
  }

  // Channel c's terms, from its corner values xk (0 where the corner is outside: cg.valid) and its dcol value g;
  // called in channel order.
  __device__ __forceinline__ void add(int64_t c, const A (&xk)[kCount], A g) {
    A dv[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) dv[ax] = 0;
    A v = 0;
#pragma unroll
    for (int k = 0; k < kCount; ++k) {
#pragma unroll
      for (int ax = 0; ax < D; ++ax) dv[ax] += cg.dweight[ax][k] * xk[k];
      if constexpr (kValue) v += cv.weight[k] * (((cv.valid >> k) & 1u) ? xk[k] : A(0));
    }
    A w = g;
    if (m_ptr != nullptr) {
      if (c >= mg_end) {
        const int64_t mg = c / cpm;
        mg_end = (mg + 1) * cpm;
        mval = convert<A>(m_ptr[mg * mask_step]);
      }
      w *= mval;
    }
#pragma unroll
    for (int ax = 0; ax < D; ++ax) total[ax] += w * dv[ax];
    if constexpr (kMaskGrad) total_mask += g * v;
    if constexpr (kCols) {
      *col_out = convert<T>(v * mval);
      col_out += step;
    }
  }

  __device__ __forceinline__ void store(T* __restrict__ grad_offset, T* __restrict__ grad_mask) const {
#pragma unroll
    for (int ax = 0; ax < D; ++ax) grad_offset[out_index + ax * ny] = convert<T>(total[ax]);
    if constexpr (kMaskGrad) grad_mask[mask_index] = convert<T>(total_mask);
  }
};

template <int D, typename T, bool kMaskGrad, bool kCols = false, bool kAhead = false>
__global__ void offset_grad_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol, const T* __restrict__ x,
                                   const T* __restrict__ offset, const T* __restrict__ mask,
                                   T* __restrict__ grad_offset, T* __restrict__ grad_mask, T* __restrict__ cols) {
  using A = acc_type<T>;
  using Sample = OffsetPassSample<D, T, kMaskGrad, kCols>;
  constexpr int kCount = Sample::kCount;
  const int64_t n = a.nb * a.og * a.K * a.qlen;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Sample s(a, i, dcol, offset, mask, cols);
    auto load_channel = [&](const T* plane, A(&xk)[kCount]) {
#pragma unroll
      for (int k = 0; k < kCount; ++k) xk[k] = ((s.cg.valid >> k) & 1u) ? convert<A>(plane[s.cg.index[k]]) : A(0);
    };
    // With kAhead, channels four at a time: their 4 * (2^D + 1) loads are issued before any is used, then
    // added in channel order, so the sums are the one-at-a-time loop's (NOTE [ Offset pass loads ahead ]).
    const A* in = s.in;
    const int64_t step = s.step;
    const T* plane = x + (s.b * a.cx + s.c_begin) * a.nx;
    int64_t c = s.c_begin;
    for (; kAhead && c + 4 <= s.c_end; c += 4, in += 4 * step, plane += 4 * a.nx) {
      A xk[4][kCount], g[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        load_channel(plane + u * a.nx, xk[u]);
        g[u] = in[u * step];
      }
#pragma unroll
      for (int u = 0; u < 4; ++u) s.add(c + u, xk[u], g[u]);
    }
    for (; c < s.c_end; ++c, in += step, plane += a.nx) {
      A xk[kCount];
      load_channel(plane, xk);
      s.add(c, xk, *in);
    }
    s.store(grad_offset, grad_mask);
  }
}

// grad_mask[b, mg * K + kpt, q] = sum over c in mask group mg of dcol[bl, c, kpt, ql] * Interp(X[b, c], p)
// (tvdcn-reference §4.4: value with the forward's early-out; integer sampling when not deformable).
// One thread per (image, mask group, kernel point, y position); no atomics.
template <int D, typename T, bool kDeformable>
__global__ void mask_grad_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol, const T* __restrict__ x,
                                 const T* __restrict__ offset, T* __restrict__ grad_mask) {
  using A = acc_type<T>;
  const int64_t n = a.nb * a.mg * a.K * a.qlen;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t r = i;
    const int64_t ql = r % a.qlen;
    r /= a.qlen;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t mg = r % a.mg;
    const int64_t bl = r / a.mg;
    const int64_t b = a.b0 + bl, q = a.q0 + ql;
    int64_t pos[D];
    base_position<D>(a, q, kpt, pos);
    const int64_t c_begin = mg * a.cpm, c_end = c_begin + a.cpm;
    const A* in = dcol + ((bl * a.cx + c_begin) * a.K + kpt) * a.qlen + ql;
    A total = 0;
    if constexpr (kDeformable) {
      // The offset group changes along the channels of a mask group when OG > MG: rebuild the corners
      // whenever it does.
      Corners<(1 << D), A, int64_t> corners;
      int64_t og_cur = -1;
      for (int64_t c = c_begin; c < c_end; ++c, in += a.K * a.qlen) {
        const int64_t og = c / a.cpo;
        if (og != og_cur) {
          A p[D];
          deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
          linear_corners<D, A, int64_t>(p, a.x_size, A(1), corners);
          og_cur = og;
        }
        total += *in * sample_value<(1 << D), A, T>(x + (b * a.cx + c) * a.nx, corners);
      }
    } else {
      Corners<1, A, int64_t> corners;
      grid_corner<D, A, int64_t>(pos, a.x_size, A(1), corners);
      for (int64_t c = c_begin; c < c_end; ++c, in += a.K * a.qlen) {
        total += *in * sample_value<1, A, T>(x + (b * a.cx + c) * a.nx, corners);
      }
    }
    grad_mask[(b * a.mg * a.K + mg * a.K + kpt) * a.ny + q] = convert<T>(total);
  }
}

// out[b, c, s] = bias[c] (or 0): the starting value of the transposed op's scatter target.
template <typename T>
__global__ void fill_channels_kernel(T* __restrict__ out, const T* __restrict__ bias, int64_t n, int64_t channels,
                                     int64_t spatial) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    out[i] = bias == nullptr ? convert<T>(0.0f) : bias[(i / spatial) % channels];
  }
}

// out[b, c, s] = src[b, c, s] + bias[c]: the float32 scatter target of a half-type transposed op,
// rounded once.
template <typename T>
__global__ void finalize_channels_kernel(T* __restrict__ out, const acc_type<T>* __restrict__ src,
                                         const T* __restrict__ bias, int64_t n, int64_t channels, int64_t spatial) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    acc_type<T> v = src[i];
    if (bias != nullptr) v += convert<acc_type<T>>(bias[(i / spatial) % channels]);
    out[i] = convert<T>(v);
  }
}

// NOTE [ Bias gradient rows ]
// grad_bias[c] = sum over (b, s) of grad_output[b, c, s], in two fixed-order passes (no atomics, so
// deterministic always): bias_rows_kernel sums each row (b, c) of n elements into row_sum[b * C + c] in
// the accumulator type, one block per row, each thread adding 16-byte vectors (8 half or 4 float
// elements) at a stride of the block, then the threads' sums in a fixed tree; then sum_partials_kernel (the generic
// sum's second pass, elementwise/cuda/sum_partials.cuh) adds the B row sums of each channel in order, in float64. Used
// when the rows are whole vectors (n a multiple of the vector, the base 16-byte aligned); the generic strided sum
// (elementwise/cuda) otherwise.
constexpr int kBiasRowThreads = 128;

template <typename T>
__global__ void __launch_bounds__(kBiasRowThreads)
    bias_rows_kernel(const T* __restrict__ g, acc_type<T>* __restrict__ row_sum, int64_t rows, int64_t n) {
  using A = acc_type<T>;
  constexpr int kVec = 16 / static_cast<int>(sizeof(T));
  struct alignas(16) Vec {
    T v[kVec];
  };
  __shared__ A warp_sums[kBiasRowThreads / 32];
  const int64_t vecs = n / kVec;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const Vec* row = reinterpret_cast<const Vec*>(g + r * n);
    A acc = 0;
    for (int64_t i = threadIdx.x; i < vecs; i += kBiasRowThreads) {
      const Vec v = row[i];
#pragma unroll
      for (int k = 0; k < kVec; ++k) acc += convert<A>(v.v[k]);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      A total = 0;
#pragma unroll
      for (int w = 0; w < kBiasRowThreads / 32; ++w) total += warp_sums[w];
      row_sum[r] = total;
    }
    __syncthreads();
  }
}

// out[i] (=, or += when accumulate) sum over s < splits, in order, of partial[s * n + i].
template <typename A>
__global__ void sum_splits_kernel(A* __restrict__ out, const A* __restrict__ partial, int64_t n, int splits,
                                  bool accumulate) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    A v = accumulate ? out[i] : A(0);
    for (int s = 0; s < splits; ++s) v += partial[static_cast<int64_t>(s) * n + i];
    out[i] = v;
  }
}

}  // namespace dcn::cuda
