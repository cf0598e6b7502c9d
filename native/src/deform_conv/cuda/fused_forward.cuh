// SPDX-License-Identifier: MIT
// Host side of the fused forward (NOTE [ Fused forward ] in fused_forward_kernel.cuh): decides whether
// the fused kernel takes a regular-view forward, picks the tile, permutes the weight and launches.
// Returns false when it does not apply, and the caller runs the im2col + GEMM path instead:
//   - float64, or float32 in the 'float32' (CUDA-core) matmul mode;
//   - channels per group, per offset group or per mask group not a multiple of 8;
//   - unless forced (_cudaSetFusedConv(true, true)): float32, and grids of fewer CTAs than half the SMs, where
//     the fused kernel measured slower (docs/cuda.md);
//   - the fused path switched off (_cudaSetFusedConv(false): tests and benchmarks compare both).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "core/env.h"
#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/profile.h"
#include "cuda_runtime/settings.h"
#include "cuda_runtime/stream.h"
#include "deform_conv/cuda/fused_forward_kernel.cuh"
#include "deform_conv/params.h"

namespace dcn::cuda {

namespace fused {

template <int D, typename T, Kind KIND, int BM, int BN, bool kDef, typename I, bool kLanePlans>
void launch(int device, cudaStream_t s, const Args<D>& a, int64_t blocks, const T* x, const T* off, const T* mask,
            const T* wp, const T* wp_small, const T* bias, T* y) {
  // Half types: 4 warps over M (one sampler job of 8 channels per thread at BK = 32); float32: 2 (jobs of 8
  // channels at BK = 16), or 4 with the narrow tile (jobs of 4 channels: 8 warps, warp tile BM/4 x 32).
  constexpr int kWarpsM = (KIND == Kind::kF16 || KIND == Kind::kBf16 || BN == kBNNarrow) ? 4 : 2;
  constexpr int kThreadsCta = fused_threads<BN, kWarpsM>();
  auto kernel = fused_forward_kernel<D, T, KIND, BM, BN, kWarpsM, kDef, I, kLanePlans>;
  constexpr int smem = smem_bytes<KIND, BM, BN>();
  ensure_max_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
  kernel<<<static_cast<unsigned>(blocks), kThreadsCta, smem, s>>>(a, x, off, mask, wp, wp_small, bias, y);
  DCN_CUDA_LAUNCH_CHECK("fused_forward_kernel", static_cast<unsigned>(blocks), kThreadsCta);
  (void)device;
}

template <int D, typename T, Kind KIND>
void run(int device, cudaStream_t s, Args<D> a, int64_t B, const T* x, const T* w, const T* off, const T* mask,
         const T* bias, T* y, bool fits32, bool narrow, bool lane_plans) {
  constexpr int kBK = KindTraits<KIND>::kBK;
  // The narrow tile (kBNNarrow positions) is built for 1D and 2D with int32 indices only.
  narrow = narrow && D <= 2 && fits32;
  const int BN = narrow ? kBNNarrow : kBN;
  // Shape-keyed tile: no half-empty tiles for small groups; for wide groups (half types) 256 rows, so
  // that every sampled B tile feeds 256 output channels (float32's two planes would not fit twice).
  constexpr bool kWide = KIND == Kind::kF16 || KIND == Kind::kBf16;
  const int BM = a.cyg <= 64 ? 64 : (kWide && a.cyg > 128 ? 256 : 128);
  a.c_pad = (a.cxg + kBK - 1) / kBK * kBK;
  a.o_pad = (a.cyg + BM - 1) / BM * BM;
  a.o_tiles = a.o_pad / BM;
  a.q_tiles = static_cast<int>((a.ny + BN - 1) / BN);
  const int64_t n_wp = int64_t{a.G} * a.K * a.o_pad * a.c_pad;
  Workspace wp(device, n_wp * sizeof(T) * (KIND == Kind::kTf32x3 ? 2 : 1));
  T* wp_big = wp.as<T>();
  T* wp_small = KIND == Kind::kTf32x3 ? wp_big + n_wp : nullptr;
  {
    const ScopedPhase phase("fused_weight", s);
    const unsigned grid = grid_for(n_wp, device);
    permute_weight_kernel<T, KIND>
        <<<grid, kThreads, 0, s>>>(w, wp_big, wp_small, a.G, a.K, a.cyg, a.cxg, a.o_pad, a.c_pad);
    DCN_CUDA_LAUNCH_CHECK("permute_weight_kernel", grid, kThreads);
  }
  // Images in chunks whose channels-last copy fits the workspace limit (at least one image).
  const int64_t per_image = int64_t{a.cx} * a.nx;
  const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(B, workspace_limit() / (per_image * sizeof(T))));
  Workspace xt_ws(device, std::min(nb, B) * per_image * sizeof(T));
  T* xt = xt_ws.as<T>();
  // The channels-last copy with 16-byte accesses (to_channels_last_vec_kernel) where rows of X are whole vectors;
  // TVDCN_CUDA_FUSED_CL=scalar keeps the element-by-element copy (read at each call, as fused_tile()). The default
  // since session 21 (NOTE [ Channels-last copy in vectors ] in deform_conv_driver.cuh: 1.3-2.2x faster copies).
  const bool cl_vector = !env_is("TVDCN_CUDA_FUSED_CL", "scalar") && channels_last_vec_applies(x, a.cx, a.nx);
  using B64 = std::integral_constant<int, 64>;
  using B128 = std::integral_constant<int, 128>;
  using B256 = std::integral_constant<int, kWide ? 256 : 128>;
  using On = std::true_type;
  using Off = std::false_type;
  // NOTE [ Plans made by the lanes of a position ] (fused_forward_kernel.cuh): built for the deformable 3D half-type
  // kernels (the fused forward's default), taken where a plan depends on the kernel point alone (one offset group, at
  // most one mask group) unless TVDCN_CUDA_FUSED_PLAN=thread.
  constexpr bool kLanesBuilt = D == 3 && kWide;
  const bool lanes =
      kLanesBuilt && !narrow && lane_plans && off != nullptr && a.og == 1 && (mask == nullptr || a.mg == 1);
  for (int64_t b0 = 0; b0 < B; b0 += nb) {
    const int64_t n_img = std::min(nb, B - b0);
    {
      // Its own phase name per copy, so that a test can tell which one ran.
      const ScopedPhase phase(cl_vector ? "fused_channels_last_vector" : "fused_channels_last", s);
      if (cl_vector)
        launch_to_channels_last_vec(x, xt, b0, n_img, a.cx, a.nx, s);
      else
        launch_to_channels_last(x, xt, b0, n_img, a.cx, a.nx, s);
    }
    // Which tile ran, and whether the lanes made the plans (tests).
    const ScopedPhase phase(narrow ? "fused_forward_narrow" : (lanes ? "fused_forward_lane_plans" : "fused_forward"),
                            s);
    a.b0 = b0;
    const int64_t blocks = n_img * a.q_tiles * a.G * a.o_tiles;
    auto go = [&](auto bm, auto bn, auto def, auto idx) {
      using I = decltype(idx);
      constexpr bool kDef = decltype(def)::value;
      if constexpr (kLanesBuilt && kDef) {
        if (lanes) {
          launch<D, T, KIND, decltype(bm)::value, decltype(bn)::value, true, I, true>(device, s, a, blocks, xt, off,
                                                                                      mask, wp_big, wp_small, bias, y);
          return;
        }
      }
      launch<D, T, KIND, decltype(bm)::value, decltype(bn)::value, kDef, I, false>(device, s, a, blocks, xt, off, mask,
                                                                                   wp_big, wp_small, bias, y);
    };
    auto by_bm = [&](auto bn, auto idx) {
      if (BM == 64)
        off != nullptr ? go(B64{}, bn, On{}, idx) : go(B64{}, bn, Off{}, idx);
      else if (BM == 128)
        off != nullptr ? go(B128{}, bn, On{}, idx) : go(B128{}, bn, Off{}, idx);
      else
        off != nullptr ? go(B256{}, bn, On{}, idx) : go(B256{}, bn, Off{}, idx);
    };
    using NWide = std::integral_constant<int, kBN>;
    if constexpr (D <= 2) {
      if (narrow) {
        by_bm(std::integral_constant<int, kBNNarrow>{}, int32_t{});
        continue;
      }
    }
    if (fits32)
      by_bm(NWide{}, int32_t{});
    else
      by_bm(NWide{}, int64_t{});
  }
}

}  // namespace fused

// The position tile of the fused kernel: TVDCN_CUDA_FUSED_TILE=narrow (kBNNarrow positions, 1D and 2D) or
// =wide (kBN) forces one; otherwise the wide tile. Read at each call (tests
// switch it in-process).
enum class FusedTile { kAuto, kNarrow, kWide };
inline FusedTile fused_tile() {
  if (env_is("TVDCN_CUDA_FUSED_TILE", "narrow")) return FusedTile::kNarrow;
  if (env_is("TVDCN_CUDA_FUSED_TILE", "wide")) return FusedTile::kWide;
  return FusedTile::kAuto;
}

// Y = W @ im2col(X) + bias in the regular view, fused; false when the fused kernel does not apply.
template <int D, typename T>
bool fused_forward(int device, cudaStream_t s, const SamplingGeometry<D>& g, const T* x, const T* w, const T* off,
                   const T* mask, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, double>) {
    return false;
  } else {
    const FusedConv mode = fused_conv();
    if (mode == FusedConv::kOff) return false;
    // float32 (3xTF32 and TF32) measured slower than im2col + GEMM on most of the suite (docs/cuda.md):
    // only when forced. Since the 16-bit GEMM runs a cp.async ring (NOTE [ 16-bit GEMM pipeline ]),
    // im2col + GEMM is also faster for the half types in 1D and 2D (run 16: 1.03-1.27x on every 1D/2D
    // benchmark shape) and the fused kernel only in 3D (1.5x): by default 3D only.
    if (mode != FusedConv::kForce && (!is_half_type<T> || D != 3)) return false;
    fused::Kind kind;
    if constexpr (std::is_same_v<T, __half>) {
      kind = fused::Kind::kF16;
    } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      kind = fused::Kind::kBf16;
    } else {
      const Float32Matmul m = float32_matmul();
      if (m == Float32Matmul::kFloat32) return false;
      kind = m == Float32Matmul::kTf32 ? fused::Kind::kTf32 : fused::Kind::kTf32x3;
    }
    const int64_t cxg = g.cx / g.groups, cyg = g.cy / g.groups;
    const int64_t cpo = g.cx / g.offset_groups, cpm = g.cx / g.mask_groups;
    if (cxg % 8 != 0 || cpo % 8 != 0 || (mask != nullptr && cpm % 8 != 0)) return false;
    if (g.batch == 0 || g.cx == 0 || g.cy == 0 || g.kernel_points == 0 || g.x_spatial() == 0 || g.y_spatial() == 0) {
      return false;
    }
    const FusedTile tile = fused_tile();
    // TVDCN_CUDA_FUSED_PLAN=thread: every lane makes its own plan (read at each call, as fused_tile()).
    const bool lane_plans = !env_is("TVDCN_CUDA_FUSED_PLAN", "thread");
    const bool narrow = D <= 2 && tile == FusedTile::kNarrow;
    const int64_t bn = narrow ? fused::kBNNarrow : fused::kBN;
    const int64_t q_tiles = (g.y_spatial() + bn - 1) / bn;
    const int64_t blocks = g.batch * q_tiles * g.groups * ((cyg + 63) / 64);
    // A grid of fewer CTAs than half the SMs (r50-c5: 64 CTAs of 256 rows for 132 SMs) measured slower
    // than im2col + GEMM; one of 128 (r50-c4) 1.5x faster: below half the SMs only when forced.
    {
      const int64_t bm = cyg <= 64 ? 64 : (is_half_type<T> && cyg > 128 ? 256 : 128);
      const int64_t ctas = g.batch * q_tiles * g.groups * ((cyg + bm - 1) / bm);
      if (mode != FusedConv::kForce && 2 * ctas < multiprocessor_count(device)) return false;
    }
    const int64_t tr_tiles = ((g.x_spatial() + 31) / 32) * ((g.cx + 31) / 32);
    if (!fits_int32(blocks) || !fits_int32(tr_tiles) || !fits_int32(g.cx) || !fits_int32(g.cy) ||
        !fits_int32(g.kernel_points) || !fits_int32(cxg + 128) || !fits_int32(cyg + 128) || !fits_int32(q_tiles)) {
      return false;
    }
    fused::Args<D> a{};
    a.x_size = g.x_size;
    a.y_size = g.y_size;
    a.kernel_size = g.kernel_size;
    a.stride = g.stride;
    a.padding = g.padding;
    a.dilation = g.dilation;
    a.nx = g.x_spatial();
    a.ny = g.y_spatial();
    a.cx = static_cast<int>(g.cx);
    a.cy = static_cast<int>(g.cy);
    a.G = static_cast<int>(g.groups);
    a.cxg = static_cast<int>(cxg);
    a.cyg = static_cast<int>(cyg);
    a.K = static_cast<int>(g.kernel_points);
    a.og = static_cast<int>(g.offset_groups);
    a.mg = static_cast<int>(g.mask_groups);
    a.cpo = static_cast<int>(cpo);
    a.cpm = static_cast<int>(cpm);
    // See NOTE [ Index type ]: int32 corner indices when a plane and every grid position fit.
    int64_t reach = a.nx;
    for (int ax = 0; ax < D; ++ax) {
      reach = std::max(reach, g.y_size[ax] * g.stride[ax] + g.kernel_size[ax] * g.dilation[ax] + g.padding[ax]);
    }
    const bool fits32 = fits_int32(reach) && fits_int32(a.ny);
    switch (kind) {
      case fused::Kind::kF16:
      case fused::Kind::kBf16:
        if constexpr (is_half_type<T>) {
          constexpr fused::Kind k = std::is_same_v<T, __half> ? fused::Kind::kF16 : fused::Kind::kBf16;
          fused::run<D, T, k>(device, s, a, g.batch, x, w, off, mask, bias, y, fits32, narrow, lane_plans);
        }
        break;
      case fused::Kind::kTf32:
        if constexpr (std::is_same_v<T, float>) {
          fused::run<D, T, fused::Kind::kTf32>(device, s, a, g.batch, x, w, off, mask, bias, y, fits32, narrow,
                                               lane_plans);
        }
        break;
      case fused::Kind::kTf32x3:
        if constexpr (std::is_same_v<T, float>) {
          fused::run<D, T, fused::Kind::kTf32x3>(device, s, a, g.batch, x, w, off, mask, bias, y, fits32, narrow,
                                                 lane_plans);
        }
        break;
    }
    return true;
  }
}

}  // namespace dcn::cuda
