// SPDX-License-Identifier: MIT
// col2im with the additions of a tile of samples summed in shared memory before the global atomics
// (float accumulators, deformable). See NOTE [ Windowed col2im, one thread per sample ].
#pragma once
#include <cstdint>

#include "core/env.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// NOTE [ Windowed col2im, one thread per sample ]
// The channels-last col2im (NOTE [ Channels-last col2im ]) issues one global atomic per (sample, corner,
// channel) and runs at the L2 atomic rate (ncu, docs/cuda.md, session 6): the transposed 3D benchmark adds
// 64 values into every element of its target. Here a block owns an image, a tile of y positions
// (win_tile<D>), all kernel points and CW channels of one offset group (and one mask group). For offsets
// in [-kWinMargin, kWinMargin) every corner of the tile's samples lies in a window of the target: the
// tile's grid positions widened by kWinMargin on each side and one for the upper corner. The block adds
// into that window in shared memory, win[c][e] (float), and then adds each non-zero window element to the
// channels-last target gxl[b][s][c] with one global atomic. A sample with a corner outside the window (a
// larger offset) adds all its corners to the target directly. Session 6's first windowed kernel (run 24,
// 2.2-2.7x slower) staged dcol through shared memory per kernel point with two barriers each and built
// the plans with a quarter of the threads; here each thread owns whole samples (kernel point, position;
// positions fastest, so the dcol, offset and mask loads of a warp are runs along x), computes its plan in
// registers and adds it for the CW channels (four channels' dcol loads in flight), with no barrier
// between samples: two barriers per block in all (window zeroed, window complete). Within a warp
// instruction the lanes add one channel for 32 samples: addresses c * ep + e spread over the banks by
// the samples' corners. The flush reads lanes over (element, channel), conflict-free by the padding of
// ep (see col2im_window_pitch). The products are those of col2im_element (weight * (dcol * mask)); only
// the order of the additions differs, which the atomics leave unspecified anyway. Deterministic mode
// keeps the sorted col2im.
// Measured (docs/cuda.md, session 8): on sm_90 a float atomic add to shared memory is a compare-and-swap
// loop (ATOMS.CAST.SPIN), about one add per clock per SM here, slower than the L2's global float adds
// (red.global.add) wherever those do not collide within a warp instruction: 2-3.7x slower than the
// channels-last kernel with 32 or more channels per offset group (r50-c3, big-b32, 3d-c64, tr2d, tr3d),
// but faster with 16 or 8 in 1D and 2D (1.2-2.8x: there a warp instruction of the channels-last kernel
// adds for 2 or 4 neighbouring samples, whose corners collide), and no faster in 3D (1.0-1.1x). So by
// default (kAuto) it runs in 1D and 2D with at most 16 channels per offset group;
// TVDCN_CUDA_COL2IM=window runs it wherever it applies, =atomic never (read once per process; the A/B
// switch).
constexpr int kWinThreads = 256;
constexpr int kWinMargin = 2;
constexpr int kWinMaxSmem = 74 * 1024;   // three blocks per SM
constexpr int kWinAutoMaxChannels = 16;  // kAuto: D <= 2 and channels per offset group <= this

enum class Col2imWindow { kAuto, kAlways, kNever };
inline Col2imWindow col2im_window_mode() {
  static const Col2imWindow m = env_is("TVDCN_CUDA_COL2IM", "window")   ? Col2imWindow::kAlways
                                : env_is("TVDCN_CUDA_COL2IM", "atomic") ? Col2imWindow::kNever
                                                                        : Col2imWindow::kAuto;
  return m;
}

// TVDCN_CUDA_COL2IM_CW=32, 16 or 8: the channels per window, where they fit, instead of the choice of
// col2im_window (for tests: every width on small problems; read once per process). 0: not set.
inline int col2im_window_forced_width() {
  static const int cw = env_is("TVDCN_CUDA_COL2IM_CW", "32")   ? 32
                        : env_is("TVDCN_CUDA_COL2IM_CW", "16") ? 16
                        : env_is("TVDCN_CUDA_COL2IM_CW", "8")  ? 8
                                                               : 0;
  return cw;
}

// Tile of y positions per block along axis `ax` (last axis fastest), and its positions.
template <int D>
__host__ __device__ constexpr int win_tile(int ax) {
  if constexpr (D == 1) {
    return 128;
  } else if constexpr (D == 2) {
    return 8;
  } else {
    return ax == D - 1 ? 8 : 2;
  }
}
template <int D>
__host__ __device__ constexpr int win_tile_positions() {
  int p = 1;
  for (int ax = 0; ax < D; ++ax) p *= win_tile<D>(ax);
  return p;
}

template <int D>
struct WinGeom {
  int ext[D];        // window extent along each axis
  int64_t tiles[D];  // tiles along each axis
  int elems;         // prod(ext)
  int pitch;         // floats per channel row of the window (>= elems)
};

// Floats per channel row: at least `elems`, and (32 / cw) times an odd number, so that the flush's lanes
// (32 / cw elements x cw channels) fall on 32 different banks.
inline int col2im_window_pitch(int elems, int cw) {
  const int unit = 32 / cw;
  int m = (elems + unit - 1) / unit;
  if (m % 2 == 0) ++m;
  return m * unit;
}

// Extent along axis ax of the window of a tile of `tile` y positions: their samples' lower corners, widened by
// kWinMargin on each side and one for the upper corner (host).
template <int D>
inline int64_t window_extent(const ChunkArgs<D>& a, int ax, int64_t tile) {
  return (tile - 1) * a.stride[ax] + (a.kernel_size[ax] - 1) * a.dilation[ax] + 1 + 2 * kWinMargin;
}

// The block's tile from its index r (tiles along each axis, last fastest, of `tile` positions): its first
// y position t0, its window's origin org (kWinMargin before the tile's first sample) and the positions tn
// it has along each axis (fewer at the grid's end). Returns what is left of r (offset group, image).
template <int D>
__device__ __forceinline__ int64_t window_tile(int64_t r, const int64_t (&tiles)[D], const int (&tile)[D],
                                               const ChunkArgs<D>& a, int64_t (&t0)[D], int64_t (&org)[D],
                                               int (&tn)[D]) {
#pragma unroll
  for (int ax = D - 1; ax >= 0; --ax) {
    t0[ax] = (r % tiles[ax]) * tile[ax];
    r /= tiles[ax];
  }
#pragma unroll
  for (int ax = 0; ax < D; ++ax) {
    org[ax] = t0[ax] * a.stride[ax] - a.padding[ax] - kWinMargin;
    const int64_t left = a.y_size[ax] - t0[ax];
    tn[ax] = static_cast<int>(left < tile[ax] ? left : tile[ax]);
  }
  return r;
}

// Sample s of a tile (kernel point s / positions, then the tile's positions, last axis fastest): its kernel
// point and grid position y; false where y lies past the grid's end.
template <int D>
__device__ __forceinline__ bool window_sample(int s, int positions, const int (&tile)[D], const int64_t (&t0)[D],
                                              const int (&tn)[D], int& kpt, int64_t (&y)[D]) {
  kpt = s / positions;
  int rem = s - kpt * positions;
  bool inside = true;
#pragma unroll
  for (int ax = D - 1; ax >= 0; --ax) {
    const int tj = rem % tile[ax];
    rem /= tile[ax];
    inside = inside && tj < tn[ax];
    y[ax] = t0[ax] + tj;
  }
  return inside;
}

// The continuous position p of kernel point kpt (which fits int32) at grid position y of image b, offset group
// og; returns y's flat index q. The same position as im2col's (base_position, deformed_position).
template <int D, typename T>
__device__ __forceinline__ int64_t window_sample_position(const ChunkArgs<D>& a, const T* __restrict__ offset,
                                                          int64_t b, int64_t og, int kpt, const int64_t (&y)[D],
                                                          float (&p)[D]) {
  int64_t q = 0, kk[D];
#pragma unroll
  for (int ax = 0; ax < D; ++ax) q = q * a.y_size[ax] + y[ax];
  int kr = kpt;  // 32-bit divisions
#pragma unroll
  for (int ax = D - 1; ax >= 0; --ax) {
    const int ks = static_cast<int>(a.kernel_size[ax]);
    kk[ax] = kr % ks;
    kr /= ks;
  }
  int64_t pos[D];
  grid_position<D, float, int64_t>(y, kk, a.stride, a.padding, a.dilation, pos);
  deformed_position<D, float, T>(a, offset, b, og, kpt, q, pos, p);
  return q;
}

// The flat position in the image of window element e (the window's origin org and extents ext, last axis
// fastest): false where the element lies outside the image (it holds only the corners linear_corners drops).
template <int D>
__device__ __forceinline__ bool window_element_position(int e, const int64_t (&org)[D], const int (&ext)[D],
                                                        const SmallArray<int64_t, D>& x_size, int64_t& sflat) {
  int64_t coord[D];
#pragma unroll
  for (int ax = D - 1; ax >= 0; --ax) {
    coord[ax] = org[ax] + e % ext[ax];
    e /= ext[ax];
  }
  bool ok = true;
  sflat = 0;
#pragma unroll
  for (int ax = 0; ax < D; ++ax) {
    ok = ok && coord[ax] >= 0 && coord[ax] < x_size[ax];
    sflat = sflat * x_size[ax] + coord[ax];
  }
  return ok;
}

template <int D, int CW, typename T>
__global__ void __launch_bounds__(kWinThreads)
    col2im_window_kernel(const ChunkArgs<D> a, const WinGeom<D> g, const float* __restrict__ dcol,
                         const T* __restrict__ offset, const T* __restrict__ mask, float* __restrict__ gxl,
                         int64_t blocks) {
  constexpr int kCount = 1 << D;
  constexpr int P = win_tile_positions<D>();
  extern __shared__ float win[];  // [CW][g.pitch]
  const int tid = static_cast<int>(threadIdx.x);
  const int K = static_cast<int>(a.K);
  const int nsamples = P * K;
  const int64_t slices = a.cpo / CW;
  const int64_t kq = a.K * a.qlen;
  for (int64_t blk = blockIdx.x; blk < blocks; blk += gridDim.x) {
    int64_t r = blk;
    const int64_t sl = r % slices;
    r /= slices;
    int64_t t0[D], org[D];
    int tn[D], tile[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) tile[ax] = win_tile<D>(ax);
    r = window_tile<D>(r, g.tiles, tile, a, t0, org, tn);
    const int64_t og = r % a.og;
    const int64_t bl = r / a.og;
    const int64_t b = a.b0 + bl;
    const int64_t c_first = og * a.cpo + sl * CW;
    __syncthreads();  // the previous block's flush is done with the window
    for (int e = tid; e < CW * g.pitch; e += kWinThreads) win[e] = 0.f;
    __syncthreads();
    const float* dbase = dcol + (bl * a.cx + c_first) * kq;
    const T* mbase = mask == nullptr ? nullptr : mask + (b * a.mg + c_first / a.cpm) * a.K * a.ny;
    for (int s = tid; s < nsamples; s += kWinThreads) {
      int kpt;
      int64_t y[D];
      if (!window_sample<D>(s, P, tile, t0, tn, kpt, y)) continue;
      float p[D];  // kernel points fit int32 (checked by col2im_window)
      const int64_t q = window_sample_position<D, T>(a, offset, b, og, kpt, y, p);
      const float* dp = dbase + kpt * a.qlen + (q - a.q0);
      const float mv = mbase == nullptr ? 1.f : convert<float>(mbase[kpt * a.ny + q]);
      // The plan: in the window, every corner's window index, weight and validity, as linear_corners.
      bool in_win = true;
      int l0 = 0, wstride[D];
      float t[D];
      unsigned lo_ok = 0, hi_ok = 0;  // bit ax: corner lo (lo + 1) inside the plane along ax
#pragma unroll
      for (int ax = 0; ax < D; ++ax) {
        const float pa = p[ax];
        const float sz = static_cast<float>(a.x_size[ax]);
        if (!(pa > -1.f && pa < sz)) {  // outside the plane or NaN: linear_corners below decides
          in_win = false;
          t[ax] = 0.f;
          continue;
        }
        const float f = dcn_floor(pa);
        const int64_t lo = static_cast<int64_t>(f);
        t[ax] = pa - f;
        const int64_t loc = lo - org[ax];
        if (loc < 0 || loc > g.ext[ax] - 2) in_win = false;
        l0 = l0 * g.ext[ax] + static_cast<int>(loc);
        lo_ok |= (lo >= 0 ? 1u : 0u) << ax;
        hi_ok |= (lo + 1 < a.x_size[ax] ? 1u : 0u) << ax;
      }
      if (in_win) {
        int st = 1;
#pragma unroll
        for (int ax = D - 1; ax >= 0; --ax) {
          wstride[ax] = st;
          st *= g.ext[ax];
        }
        int widx[kCount];
        float w[kCount];
        unsigned valid = 0;
#pragma unroll
        for (int i = 0; i < kCount; ++i) {
          int idx = l0;
          float wi = 1.f;
          bool ok = true;
#pragma unroll
          for (int ax = 0; ax < D; ++ax) {
            const int up = (i >> ax) & 1;
            idx += up * wstride[ax];
            ok = ok && ((up ? hi_ok : lo_ok) >> ax & 1u);
            wi *= up ? t[ax] : 1.f - t[ax];
          }
          widx[i] = idx;
          w[i] = wi;
          valid |= ok ? (1u << i) : 0u;
        }
#pragma unroll
        for (int c0 = 0; c0 < CW; c0 += 4) {
          float v[4];
#pragma unroll
          for (int u = 0; u < 4; ++u) v[u] = __ldcs(dp + (c0 + u) * kq) * mv;
#pragma unroll
          for (int u = 0; u < 4; ++u) {
            float* row = win + (c0 + u) * g.pitch;
#pragma unroll
            for (int i = 0; i < kCount; ++i) {
              if ((valid >> i) & 1u) atomicAdd(row + widx[i], w[i] * v[u]);
            }
          }
        }
      } else {
        Corners<kCount, float, int64_t> c;
        linear_corners<D, float, int64_t>(p, a.x_size, 1.f, c);
        if (c.valid == 0) continue;
        float* dst = gxl + b * a.nx * a.cx + c_first;
        for (int cc = 0; cc < CW; ++cc) {
          const float v = __ldcs(dp + cc * kq) * mv;
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            if ((c.valid >> i) & 1u) atomicAdd(dst + c.index[i] * a.cx + cc, c.weight[i] * v);
          }
        }
      }
    }
    __syncthreads();
    // The window into the target: lanes over (element, channel), channels fastest (each warp instruction
    // adds to 32 / CW runs of CW consecutive floats).
    float* dst = gxl + b * a.nx * a.cx + c_first;
    for (int idx = tid; idx < CW * g.elems; idx += kWinThreads) {
      const int e = idx / CW, c = idx % CW;
      const float v = win[c * g.pitch + e];
      if (v == 0.f) continue;  // nothing was added there (or it summed to zero: adding it changes nothing)
      int64_t sflat;
      if (window_element_position<D>(e, org, g.ext, a.x_size, sflat)) atomicAdd(dst + sflat * a.cx + c, v);
    }
  }
}

// Launches col2im_window_kernel for a chunk of whole images where it applies and is chosen
// (col2im_window_mode; float accumulators, with offsets; CW = 32, 16 or 8 channels dividing the channels
// per offset group and per mask group, and a window of CW channels within kWinMaxSmem); false: the caller
// runs the channels-last kernel. CW is the largest that fits, halved (down to 8) while the grid has fewer
// than 4 blocks per SM (or forced, above).
template <int D, typename T>
bool col2im_window(int sms, cudaStream_t stream, const ChunkArgs<D>& a, const float* dcol, const T* offset,
                   const T* mask, float* gxl) {
  constexpr int P = win_tile_positions<D>();
  const Col2imWindow mode = col2im_window_mode();
  if (mode == Col2imWindow::kNever || (mode == Col2imWindow::kAuto && (D == 3 || a.cpo > kWinAutoMaxChannels)))
    return false;
  if (offset == nullptr || a.K > (int64_t{1} << 30) / P) return false;
  WinGeom<D> g;
  int64_t elems = 1, tiles = 1;
  for (int ax = 0; ax < D; ++ax) {
    const int64_t ext = window_extent<D>(a, ax, win_tile<D>(ax));
    if (ext > (int64_t{1} << 16)) return false;
    elems *= ext;
    if (elems > (int64_t{1} << 16)) return false;
    g.ext[ax] = static_cast<int>(ext);
    g.tiles[ax] = (a.y_size[ax] + win_tile<D>(ax) - 1) / win_tile<D>(ax);
    tiles *= g.tiles[ax];
  }
  g.elems = static_cast<int>(elems);
  auto fits = [&](int cw) {
    return a.cpo % cw == 0 && (mask == nullptr || a.cpm % cw == 0) &&
           int64_t{cw} * col2im_window_pitch(g.elems, cw) * int64_t{sizeof(float)} <= kWinMaxSmem;
  };
  auto count = [&](int cw) { return a.nb * a.og * tiles * (a.cpo / cw); };
  int cw = fits(32) ? 32 : fits(16) ? 16 : fits(8) ? 8 : 0;
  if (cw == 0) return false;
  while (cw > 8 && count(cw) < int64_t{4} * sms) cw /= 2;
  const int forced = col2im_window_forced_width();
  if (forced != 0 && fits(forced)) cw = forced;
  g.pitch = col2im_window_pitch(g.elems, cw);
  const int64_t blocks = count(cw);
  const unsigned grid = static_cast<unsigned>(blocks < (int64_t{1} << 30) ? blocks : (int64_t{1} << 30));
  const int smem = cw * g.pitch * static_cast<int>(sizeof(float));
  auto launch = [&](auto kernel) {
    ensure_max_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
    kernel<<<grid, kWinThreads, static_cast<size_t>(smem), stream>>>(a, g, dcol, offset, mask, gxl, blocks);
    DCN_CUDA_LAUNCH_CHECK("col2im_window_kernel", grid, kWinThreads);
  };
  if (cw == 32)
    launch(col2im_window_kernel<D, 32, T>);
  else if (cw == 16)
    launch(col2im_window_kernel<D, 16, T>);
  else
    launch(col2im_window_kernel<D, 8, T>);
  return true;
}

}  // namespace dcn::cuda
