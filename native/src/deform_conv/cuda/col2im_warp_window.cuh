// SPDX-License-Identifier: MIT
// col2im with the additions of a tile of samples summed in shared memory by warps that own their channels,
// without shared-memory atomics (float accumulators, deformable, 1D and 2D). See NOTE [ Warp-owned window
// col2im ].
#pragma once
#include <cstdint>

#include "core/env.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/profile.h"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "deform_conv/cuda/col2im_channels_last.cuh"
#include "deform_conv/cuda/col2im_window.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// NOTE [ Warp-owned window col2im ]
// The channels-last col2im (NOTE [ Channels-last col2im ]) issues one global atomic per (sample, corner,
// channel) and runs at the L2's atomic rate (650-850 G additions/s on an H100, docs/cuda.md, session 20): it
// is the largest phase of the 2D backwards. The windowed col2im (NOTE [ Windowed col2im, one thread per
// sample ]) sums a tile's samples in shared memory first but with shared float atomics, which sm_90 runs
// as compare-and-swap loops; it pays only where few channels per offset group make the global atomics
// collide. Here the additions to shared memory need no atomics at all: a lane owns one channel and a warp
// owns 32 channels of a window, and walks the samples of its tile one after the other, so no two threads
// ever add to the same window element.
//   A block (kWwWarps warps) owns an image, a tile of y positions (runs of kWwRun consecutive positions along
// the last axis; ww_tile below), all kernel points and 32 * warps_c channels of one offset group (and one
// mask group). Each warp has its own window win[e][32] (element e of the window, the grid positions of the
// tile's samples widened by kWinMargin on each side, as the windowed kernel's; 128 bytes per element, lane =
// channel: conflict-free). With warps_c < kWwWarps (32 or 64 channels per offset group) the warps of one
// channel slice split the kernel points and each keeps its own copy of the window. The block makes each
// sample's plan once into shared memory: its 2^D corner weights (as linear_corners makes them) and the byte
// offsets of its corners in a warp's window, or a mark for a sample with a corner outside the window (its
// position kept instead) or a position outside the grid; and its mask value. Then each warp, per run of
// kWwRun positions of one kernel point, loads its channels' dcol values (one
// 32-byte sector per lane, two 16-byte loads where aligned, kWwDepth runs in flight), and per sample
// loads its 2^D window elements, adds weight * (dcol * mask) and stores them back: distinct corners of one
// sample never alias, and the next sample's loads follow the stores in the same warp. Samples whose
// corners leave the window (offsets beyond kWinMargin) add to the target directly (lane = channel: one
// 128-byte line per corner). At the end the block adds each window element's copies (in warp order) and
// adds the sum to the channels-last target gxl[b][s][c] with one 16-byte red.global.add.v4.f32 per four
// channels; elements outside the image (the corners linear_corners drops) are skipped.
// The products are those of col2im_element (weight * (dcol * mask), the weight built as linear_corners
// builds it); only the order of the additions differs, which the atomics leave unspecified anyway.
// Deterministic mode keeps the sorted col2im. Measured (docs/cuda.md, session 20, H100): 1.07-1.09x faster than
// the channels-last kernel in 1D (1d-c256), 0.9-1.0x in 2D, so by default it runs in 1D only
// (col2im_warp_window_on).
constexpr int kWwWarps = 4;
constexpr int kWwThreads = 32 * kWwWarps;
constexpr int kWwRun = 8;              // positions per run along the last axis
constexpr int kWwMaxSmem = 74 * 1024;  // three blocks per SM (228 KB, 1 KB reserved per block)
constexpr int kWwMaxRuns = 16;         // runs per tile
constexpr int kWwDepth = 4;            // runs of dcol values in flight per warp

// Where the kernel runs (read at each call): TVDCN_CUDA_COL2IM=warp wherever it applies (1D and 2D); =atomic or
// =window never; by default in 1D only, where it measured faster than the channels-last kernel (2D: slower or
// equal; docs/cuda.md, session 20).
template <int D>
inline bool col2im_warp_window_on() {
  if (env_is("TVDCN_CUDA_COL2IM", "warp")) return true;
  if (env_is("TVDCN_CUDA_COL2IM", "atomic") || env_is("TVDCN_CUDA_COL2IM", "window")) return false;
  return D == 1;
}

template <int D>
struct WwGeom {
  int runs;          // runs of kWwRun positions per tile: its rows (2D) or consecutive runs (1D)
  int ext[D];        // window extent along each axis
  int64_t tiles[D];  // tiles along each axis
  int elems;         // prod(ext)
  int positions;     // runs * kWwRun
  int warps_c;       // warps over channels (1, 2 or 4)
  int64_t slices;    // channel slices of 32 * warps_c per offset group
  bool vec;          // every run's dcol values are a 16-byte aligned run of kWwRun floats
};

// Tile extent along axis ax (last axis fastest): 2D: runs rows of kWwRun positions (wider rows measured slower,
// docs/cuda.md, session 20, run 3); 1D: runs * kWwRun positions.
template <int D>
__host__ __device__ inline int ww_tile(const WwGeom<D>& g, int ax) {
  if constexpr (D == 1) {
    return g.runs * kWwRun;
  } else {
    return ax == D - 1 ? kWwRun : g.runs;
  }
}

template <int D, typename T>
__global__ void __launch_bounds__(kWwThreads, 3)
    col2im_warp_window_kernel(const ChunkArgs<D> a, const WwGeom<D> g, const float* __restrict__ dcol,
                              const T* __restrict__ offset, const T* __restrict__ mask, float* __restrict__ gxl,
                              int64_t blocks) {
  static_assert(D == 1 || D == 2, "1D and 2D");
  constexpr int kCount = 1 << D;
  extern __shared__ float4 ww_smem[];
  float4* win4 = ww_smem;                             // [kWwWarps][elems][8] (32 channels)
  float4* plan_w = ww_smem + kWwWarps * g.elems * 8;  // [K][positions]: corner weights (direct: position)
  int4* plan_o = reinterpret_cast<int4*>(plan_w + g.positions * a.K);    // corner byte offsets; x: -1 direct, -2 none
  float* plan_m = reinterpret_cast<float*>(plan_o + g.positions * a.K);  // mask value
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int K = static_cast<int>(a.K);
  const int P = g.positions;
  const int ns = K * P;
  const int split = kWwWarps / g.warps_c;
  const int wc = warp / split, wk = warp % split;  // the warp's channel slice in the block, kernel-point share
  const int64_t kq = a.K * a.qlen;
  const int e_up1 = D == 2 ? g.ext[1] : 1;                          // window stride of axis 0's upper corner
  constexpr int kElemBytes = 32 * static_cast<int>(sizeof(float));  // a window element: 32 channels
  float* mywin = reinterpret_cast<float*>(win4 + warp * g.elems * 8) + lane;
  for (int64_t blk = blockIdx.x; blk < blocks; blk += gridDim.x) {
    int64_t r = blk;
    const int64_t sl = r % g.slices;
    r /= g.slices;
    int64_t t0[D], org[D];
    int tn[D], tile[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) tile[ax] = ww_tile<D>(g, ax);
    r = window_tile<D>(r, g.tiles, tile, a, t0, org, tn);
    const int64_t og = r % a.og;
    const int64_t bl = r / a.og;
    const int64_t b = a.b0 + bl;
    const int64_t c_first = og * a.cpo + sl * 32 * g.warps_c;
    __syncthreads();  // the previous block's flush is done with the windows and the plan
    for (int i = tid; i < kWwWarps * g.elems * 8; i += kWwThreads) win4[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    // The plans: one thread per sample (kernel point, position in the tile).
    const T* mbase = mask == nullptr ? nullptr : mask + (b * a.mg + c_first / a.cpm) * a.K * a.ny;
    for (int s = tid; s < ns; s += kWwThreads) {
      int kpt;
      int64_t y[D];
      const bool inside = window_sample<D>(s, P, tile, t0, tn, kpt, y);
      float4 pw = make_float4(0.f, 0.f, 0.f, 0.f);
      int4 po = make_int4(-2, 0, 0, 0);
      float pm = 0.f;
      if (inside) {
        float p[D];
        const int64_t q = window_sample_position<D, T>(a, offset, b, og, kpt, y, p);
        bool in_win = true;
        int l0 = 0;
        float t[D];
#pragma unroll
        for (int ax = 0; ax < D; ++ax) {
          const float pa = p[ax];
          t[ax] = 0.f;
          if (!(pa > -1.f && pa < static_cast<float>(a.x_size[ax]))) {  // outside or NaN: linear_corners decides
            in_win = false;
            continue;
          }
          const float f = dcn_floor(pa);
          t[ax] = pa - f;
          const int64_t loc = static_cast<int64_t>(f) - org[ax];
          if (loc < 0 || loc > g.ext[ax] - 2) in_win = false;
          l0 = l0 * g.ext[ax] + static_cast<int>(loc);
        }
        if (in_win) {
          // The weights as linear_corners builds them (scale 1, axes in order); corners in the window.
          float w[4] = {0.f, 0.f, 0.f, 0.f};
          int o[4] = {0, 0, 0, 0};
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            float wi = 1.f;
#pragma unroll
            for (int ax = 0; ax < D; ++ax) {
              const int up = (i >> ax) & 1;
              wi *= up ? t[ax] : 1.f - t[ax];
            }
            w[i] = wi;
            o[i] = (l0 + (D == 2 ? ((i & 1) * e_up1 + ((i >> 1) & 1)) : (i & 1))) * kElemBytes;
          }
          pw = make_float4(w[0], w[1], w[2], w[3]);
          po = make_int4(o[0], o[1], o[2], o[3]);
        } else {
          pw.x = p[0];
          if constexpr (D == 2) pw.y = p[1];
          po.x = -1;
        }
        pm = mbase == nullptr ? 1.f : convert<float>(mbase[kpt * a.ny + q]);
      }
      plan_w[s] = pw;
      plan_o[s] = po;
      plan_m[s] = pm;
    }
    __syncthreads();
    // The warp's samples: its kernel points, every run of the tile.
    const int64_t c = c_first + wc * 32 + lane;
    const float* drow = dcol + (bl * a.cx + c) * kq;
    float* direct = gxl + b * a.nx * a.cx + c;
    const int nk = (K - wk + split - 1) / split;  // kernel points of this warp
    const int items = nk * g.runs;
    // A run of the warp: its index, kernel point (wk + split * (it / runs)) and run in the tile (2D: its row);
    // advanced by counting (no division per run).
    struct Cursor {
      int it, kpt, run;
    };
    auto advance = [&](Cursor& cu) {
      ++cu.it;
      if (++cu.run == g.runs) {
        cu.run = 0;
        cu.kpt += split;
      }
    };
    // The run's first y position q and its length (0 where it lies outside the grid).
    auto run_at = [&](const Cursor& cu, int64_t& q, int& len) {
      if constexpr (D == 1) {
        const int first = cu.run * kWwRun;
        len = tn[0] - first < kWwRun ? tn[0] - first : kWwRun;
        q = t0[0] + first;
      } else {
        len = cu.run < tn[0] ? tn[1] : 0;
        q = (t0[0] + cu.run) * a.y_size[1] + t0[1];
      }
    };
    auto load_run = [&](const Cursor& cu, float(&v)[kWwRun]) {
      if (cu.it >= items) return;
      int len;
      int64_t q;
      run_at(cu, q, len);
      if (len <= 0) return;
      const float* src = drow + cu.kpt * a.qlen + (q - a.q0);
      if (g.vec && len == kWwRun) {
        const float4 lo = __ldcs(reinterpret_cast<const float4*>(src));
        const float4 hi = __ldcs(reinterpret_cast<const float4*>(src) + 1);
        v[0] = lo.x, v[1] = lo.y, v[2] = lo.z, v[3] = lo.w, v[4] = hi.x, v[5] = hi.y, v[6] = hi.z, v[7] = hi.w;
      } else {
#pragma unroll
        for (int j = 0; j < kWwRun; ++j) v[j] = j < len ? __ldcs(src + j) : 0.f;
      }
    };
    // One run's samples: per sample its window elements loaded, added to and stored back.
    auto add_run = [&](const Cursor& cu, const float(&vals)[kWwRun]) {
      int len;
      int64_t q;  // unused here
      run_at(cu, q, len);
      const int s0 = cu.kpt * P + cu.run * kWwRun;
      char* const wbytes = reinterpret_cast<char*>(mywin);
      // One sample: its corners loaded, then stored (distinct corners never alias; the next sample's loads
      // follow these stores).
      auto add_one = [&](int j) {
        const int4 po = plan_o[s0 + j];
        const float v = vals[j] * plan_m[s0 + j];
        const float4 pw = plan_w[s0 + j];
        if (po.x >= 0) {
          const int o[4] = {po.x, po.y, po.z, po.w};
          const float w[4] = {pw.x, pw.y, pw.z, pw.w};
          float acc[kCount];
#pragma unroll
          for (int i = 0; i < kCount; ++i) acc[i] = *reinterpret_cast<const float*>(wbytes + o[i]);
#pragma unroll
          for (int i = 0; i < kCount; ++i) *reinterpret_cast<float*>(wbytes + o[i]) = acc[i] + w[i] * v;
        } else if (po.x == -1) {
          float p[D];
          p[0] = pw.x;
          if constexpr (D == 2) p[1] = pw.y;
          Corners<kCount, float, int64_t> cr;
          linear_corners<D, float, int64_t>(p, a.x_size, 1.f, cr);
#pragma unroll
          for (int i = 0; i < kCount; ++i) {
            if ((cr.valid >> i) & 1u) atomicAdd(direct + cr.index[i] * a.cx, cr.weight[i] * v);
          }
        }
      };
#pragma unroll
      for (int j = 0; j < kWwRun; ++j) {
        if (j >= len) break;
        add_one(j);
      }
    };
    // kWwDepth runs' dcol values in flight (a ring of registers, indices fixed by the unrolled steps): one
    // run (32 bytes per lane) per warp is too little to cover the latency of these scattered rows.
    float ring[kWwDepth][kWwRun];
    Cursor ld{0, wk, 0};
    Cursor ad = ld;
#pragma unroll
    for (int d = 0; d + 1 < kWwDepth; ++d) {
      load_run(ld, ring[d]);
      advance(ld);
    }
    while (ad.it < items) {
#pragma unroll
      for (int d = 0; d < kWwDepth; ++d) {
        if (ad.it >= items) break;
        load_run(ld, ring[(d + kWwDepth - 1) % kWwDepth]);
        advance(ld);
        add_run(ad, ring[d]);
        advance(ad);
      }
    }
    __syncthreads();
    // The windows into the target: per channel slice, element and quad of channels, the copies summed in
    // warp order; a warp instruction adds to four elements' 128-byte runs.
    const int total = g.warps_c * g.elems * 8;
    for (int i = tid; i < total; i += kWwThreads) {
      const int quad = i & 7;
      const int rest = i >> 3;
      const int e = rest % g.elems, cs = rest / g.elems;
      float4 sum = win4[(cs * split) * g.elems * 8 + e * 8 + quad];
      for (int k = 1; k < split; ++k) {
        const float4 w = win4[(cs * split + k) * g.elems * 8 + e * 8 + quad];
        sum.x += w.x, sum.y += w.y, sum.z += w.z, sum.w += w.w;
      }
      if (sum.x == 0.f && sum.y == 0.f && sum.z == 0.f && sum.w == 0.f) continue;  // adding it changes nothing
      int64_t sflat;
      if (window_element_position<D>(e, org, g.ext, a.x_size, sflat))
        red_add_v4(gxl + (b * a.nx + sflat) * a.cx + c_first + cs * 32 + quad * 4, sum.x, sum.y, sum.z, sum.w);
    }
  }
}

// Launches col2im_warp_window_kernel for a chunk of whole images where it applies and is chosen
// (col2im_warp_window_on; 1D and 2D, with offsets; channels per offset group a multiple of 32, each block's
// channels in one mask group; cx a multiple of 4; windows that fit three blocks per SM and take at least 1.5
// additions per element); false: the caller runs another col2im.
template <int D, typename T>
bool col2im_warp_window(cudaStream_t stream, const ChunkArgs<D>& a, const float* dcol, const T* offset, const T* mask,
                        float* gxl) {
  if constexpr (D == 3) {
    return false;
  } else {
    if (!col2im_warp_window_on<D>() || offset == nullptr) return false;
    if (a.cpo % 32 != 0 || a.cx % 4 != 0 || a.K > (int64_t{1} << 20)) return false;
    if (reinterpret_cast<uintptr_t>(gxl) % 16 != 0) return false;
    WwGeom<D> g{};
    g.warps_c = a.cpo % 128 == 0 ? 4 : a.cpo % 64 == 0 ? 2 : 1;
    while (mask != nullptr && g.warps_c > 1 && a.cpm % (32 * g.warps_c) != 0) g.warps_c /= 2;
    if (mask != nullptr && a.cpm % 32 != 0) return false;
    g.slices = a.cpo / (32 * g.warps_c);
    // The most runs per tile whose windows and plans fit kWwMaxSmem.
    int64_t smem = 0;
    for (g.runs = kWwMaxRuns; g.runs >= 1; g.runs /= 2) {
      int64_t elems = 1;
      for (int ax = 0; ax < D; ++ax) {
        const int64_t ext = window_extent<D>(a, ax, ww_tile<D>(g, ax));
        elems = ext > (int64_t{1} << 16) ? (int64_t{1} << 40) : elems * ext;
        g.ext[ax] = static_cast<int>(ext < (int64_t{1} << 16) ? ext : 0);
      }
      smem = kWwWarps * elems * 128 + a.K * g.runs * kWwRun * 36;  // windows; plan: 16 + 16 + 4 bytes per sample
      if (elems < (int64_t{1} << 16) && smem <= kWwMaxSmem) {
        g.elems = static_cast<int>(elems);
        break;
      }
    }
    if (g.runs < 1) return false;
    g.positions = g.runs * kWwRun;
    // Additions per window element (full tiles): below 1.5 the flush costs about what it saves.
    if (a.K * g.positions * (int64_t{1} << D) * 2 < int64_t{3} * g.elems) return false;
    int64_t tiles = 1;
    for (int ax = 0; ax < D; ++ax) {
      g.tiles[ax] = (a.y_size[ax] + ww_tile<D>(g, ax) - 1) / ww_tile<D>(g, ax);
      tiles *= g.tiles[ax];
    }
    g.vec = reinterpret_cast<uintptr_t>(dcol) % 16 == 0 && a.qlen % 4 == 0 && a.q0 % 4 == 0 && a.y_size[D - 1] % 4 == 0;
    const int64_t blocks = a.nb * a.og * tiles * g.slices;
    if (blocks == 0) return true;
    const ScopedPhase phase("col2im_warp", stream);
    const unsigned grid = static_cast<unsigned>(blocks < (int64_t{1} << 30) ? blocks : (int64_t{1} << 30));
    auto kernel = col2im_warp_window_kernel<D, T>;
    ensure_max_dynamic_smem(reinterpret_cast<const void*>(kernel), static_cast<int>(smem));
    kernel<<<grid, kWwThreads, static_cast<size_t>(smem), stream>>>(a, g, dcol, offset, mask, gxl, blocks);
    DCN_CUDA_LAUNCH_CHECK("col2im_warp_window_kernel", grid, kWwThreads);
    return true;
  }
}

}  // namespace dcn::cuda
