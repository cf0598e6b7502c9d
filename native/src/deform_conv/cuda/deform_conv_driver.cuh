// SPDX-License-Identifier: MIT
// The CUDA host driver of deformable convolution for one dtype T and dimension D: chunking (bounded
// workspace), the per-group GEMMs and the column kernels, for the regular op and (through the regular
// view, NOTE [ Regular view ] in params.h) the transposed one. Included by one instantiation file per
// dtype (deform_conv_driver_{f32,f64,f16,bf16}.cu); deform_conv_driver.cu dispatches on the dtype to it.
//
// In the regular view, with X sampled (cx channels) and Y on the offset grid (cy channels):
//   regular forward:      Y = W @ im2col(X) + bias                      (X = input,   Y = output)
//   transposed forward:   X = col2im(W^T @ Y) + bias                    (X = output,  Y = input)
//   regular backward:     dcol = W^T @ gY; gX = col2im(dcol); gOffset, gMask from (dcol, X);
//                         gW = gY @ im2col(X)^T                         (gY = gradOutput)
//                         (col2im and the offset pass in one kernel where it applies: NOTE [ Fused col2im and
//                         offset pass ])
//   transposed backward:  gY = W @ im2col(gX); gW = Y @ im2col(gX)^T; dcol = W^T @ Y;
//                         gOffset, gMask from (dcol, gX)                (gX = gradOutput)
// Half types: columns in T (the GEMMs read T), every accumulation (dcol, the scatter target, gW) in
// float32, rounded to T once at the end.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <vector>

#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/profile.h"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/settings.h"
#include "cuda_runtime/stream.h"
#include "deform_conv/cuda/col2im_channels_last.cuh"
#include "deform_conv/cuda/col2im_offset_fused.cuh"
#include "deform_conv/cuda/col2im_sorted.cuh"
#include "deform_conv/cuda/col2im_warp_window.cuh"
#include "deform_conv/cuda/col2im_window.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/cuda/fused_forward.cuh"
#include "deform_conv/cuda/im2col_vector.cuh"
#include "deform_conv/cuda/im2col_warp.cuh"
#include "deform_conv/cuda/offset_grad_vector.cuh"
#include "deform_conv/params.h"
#include "elementwise/cuda/sum_partials.cuh"
#include "elementwise/cuda_ops.h"
#include "gemm/cuda/gemm.h"

namespace dcn::cuda {

template <int D, typename T>
class DeformConvDriver {
 public:
  using A = acc_type<T>;
  static constexpr int kCorners = 1 << D;

  DeformConvDriver(int device, const DeformConvParams<D>& p, const T* weight, const T* offset, const T* mask)
      : device_(device),
        s_(stream(device)),
        p_(p),
        w_(weight),
        off_(p.deformable ? offset : nullptr),
        mask_(p.modulated ? mask : nullptr) {
    const SamplingGeometry<D> g = regular_view(p);
    B_ = g.batch;
    cx_ = g.cx;
    cy_ = g.cy;
    G_ = g.groups;
    K_ = g.kernel_points;
    nx_ = g.x_spatial();
    ny_ = g.y_spatial();
    cxg_ = cx_ / G_;
    cyg_ = cy_ / G_;
    cxK_ = cx_ * K_;
    cxgK_ = cxg_ * K_;
    a_.x_size = g.x_size;
    a_.y_size = g.y_size;
    a_.kernel_size = g.kernel_size;
    a_.stride = g.stride;
    a_.padding = g.padding;
    a_.dilation = g.dilation;
    a_.cx = cx_;
    a_.K = K_;
    a_.nx = nx_;
    a_.ny = ny_;
    a_.og = g.offset_groups;
    a_.mg = g.mask_groups;
    a_.cpo = cx_ / g.offset_groups;
    a_.cpm = cx_ / g.mask_groups;
    sms_ = multiprocessor_count(device);
  }

  // output = op(input) + bias.
  void forward(const T* input, const T* bias, T* output) {
    if (!p_.transposed) {
      // Y = W @ im2col(X) + bias: each output element is written once, by the chunk of its (b, q).
      if (empty()) return zero_fill_y(output, bias);
      if (fused_forward<D, T>(device_, s_, regular_view(p_), input, w_, off_, mask_, bias, output)) return;
      std::optional<HostPhase> planning(std::in_place, "driver:plan");  // NOTE [ Host phases ]
      const auto chunks = plan(sizeof(T));
      Workspace cols(device_, max_cols(chunks) * sizeof(T));
      planning.reset();
      for (const Chunk& ch : chunks) {
        im2col(ch, input, cols.as<T>());
        gemm_forward(ch, cols.as<T>(), output, bias);
      }
    } else {
      // X = col2im(W^T @ Y) + bias, scattered into a target that starts at bias (deterministic mode),
      // or into a zeroed channels-last target turned into X + bias at the end (NOTE [ Channels-last
      // col2im ]).
      const int64_t n_x = B_ * cx_ * nx_;
      Workspace acc_ws;
      if (!deterministic()) {
        A* gxl = start_channels_last_target(acc_ws);
        if (!empty()) {
          const auto chunks = plan(sizeof(A));
          Workspace dcol(device_, max_cols(chunks) * sizeof(A));
          for (const Chunk& ch : chunks) {
            gemm_dcol(ch, input, dcol.as<A>());
            col2im(ch, dcol.as<A>(), gxl);
          }
        }
        return finish_channels_last_target(output, gxl, bias);
      }
      A* gx = start_x_target(output, bias, acc_ws);
      if (!empty()) {
        const auto chunks = plan(sizeof(A) + col2im_bytes());
        Workspace dcol(device_, max_cols(chunks) * sizeof(A));
        for (const Chunk& ch : chunks) {
          gemm_dcol(ch, input, dcol.as<A>());
          col2im(ch, dcol.as<A>(), gx);
        }
      }
      if constexpr (is_half_type<T>) finish_x_target(output, gx, bias, n_x);
    }
  }

  // Fills every non-null gradient (tvdcn-reference §4, §5).
  void backward(const T* input, const T* grad_output, T* grad_input, T* grad_weight, T* grad_offset, T* grad_mask,
                T* grad_bias) {
    const bool tr = p_.transposed;
    if (off_ == nullptr) grad_offset = nullptr;
    if (mask_ == nullptr) grad_mask = nullptr;
    const T* x = tr ? grad_output : input;     // the sampled tensor
    const T* ysrc = tr ? input : grad_output;  // the y-side tensor of the products
    const bool need_cols = grad_weight != nullptr || (tr && grad_input != nullptr);
    const bool need_dcol = (!tr && grad_input != nullptr) || grad_offset != nullptr || grad_mask != nullptr;
    const bool scatter = !tr && grad_input != nullptr;

    if (grad_bias != nullptr) bias_grad(grad_output, grad_bias, tr ? cx_ : cy_, tr ? nx_ : ny_);
    // Scatter target of the regular input gradient (float32 for the half types).
    Workspace gx_ws;
    A* gx = nullptr;
    const bool scatter_cl = scatter && !deterministic();  // NOTE [ Channels-last col2im ]
    if (scatter_cl) {
      gx = start_channels_last_target(gx_ws);
    } else if (scatter) {
      if constexpr (is_half_type<T>) {
        gx_ws = Workspace(device_, B_ * cx_ * nx_ * sizeof(A));
        gx = gx_ws.as<A>();
      } else {
        gx = grad_input;
      }
      DCN_CUDA_CHECK(cudaMemsetAsync(gx, 0, B_ * cx_ * nx_ * sizeof(A), s_));
    }
    Workspace gw_ws;
    A* gw = nullptr;
    const int64_t n_w = cy_ * cxgK_;
    if (grad_weight != nullptr) {
      if constexpr (is_half_type<T>) {
        gw_ws = Workspace(device_, n_w * sizeof(A));
        gw = gw_ws.as<A>();
      } else {
        gw = grad_weight;
      }
      DCN_CUDA_CHECK(cudaMemsetAsync(gw, 0, n_w * sizeof(A), s_));
    }
    if (tr && grad_input != nullptr && empty()) {
      DCN_CUDA_CHECK(cudaMemsetAsync(grad_input, 0, B_ * cy_ * ny_ * sizeof(T), s_));
    }
    if (grad_offset != nullptr && empty()) {
      DCN_CUDA_CHECK(cudaMemsetAsync(grad_offset, 0, B_ * a_.og * K_ * D * ny_ * sizeof(T), s_));
    }
    if (grad_mask != nullptr && empty()) {
      DCN_CUDA_CHECK(cudaMemsetAsync(grad_mask, 0, B_ * a_.mg * K_ * ny_ * sizeof(T), s_));
    }

    if (!empty() && (need_cols || need_dcol)) {
      const int64_t per = (need_cols ? sizeof(T) : 0) + (need_dcol ? sizeof(A) : 0) + (scatter ? col2im_bytes() : 0);
      const auto chunks = plan(per);
      const int64_t most = max_cols(chunks);
      Workspace cols(device_, need_cols ? most * sizeof(T) : 0);
      Workspace dcol(device_, need_dcol ? most * sizeof(A) : 0);
      // NOTE [ Columns from the offset pass ] (deform_conv_kernel.cuh): when the offset gradient is
      // computed, its pass may write the columns too (columns_from_offset_pass()), and the products that
      // read them then run after it.
      const bool cols_from_offset = need_cols && grad_offset != nullptr && columns_from_offset_pass();
      bool first = true;
      for (const Chunk& ch : chunks) {
        if (need_cols && !cols_from_offset) {
          im2col(ch, x, cols.as<T>());
          cols_products(ch, ysrc, cols.as<T>(), gw, tr ? grad_input : nullptr, first);
        }
        if (need_dcol) {
          gemm_dcol(ch, ysrc, dcol.as<A>());
          // With mask groups = offset groups the offset kernel computes the mask gradient too.
          const bool mask_in_offset = grad_offset != nullptr && grad_mask != nullptr && a_.mg == a_.og;
          T* pass_cols = cols_from_offset ? cols.as<T>() : nullptr;
          // NOTE [ Fused col2im and offset pass ]: both in one kernel where it applies.
          const bool fused = scatter_cl && grad_offset != nullptr &&
                             col2im_offset_fused(ch, dcol.as<A>(), x, gx, grad_offset,
                                                 mask_in_offset ? grad_mask : nullptr, pass_cols);
          if (scatter && !fused) col2im(ch, dcol.as<A>(), gx);
          if (grad_offset != nullptr && !fused)
            offset_grad(ch, dcol.as<A>(), x, grad_offset, mask_in_offset ? grad_mask : nullptr, pass_cols);
          if (grad_mask != nullptr && !mask_in_offset) mask_grad(ch, dcol.as<A>(), x, grad_mask);
        }
        if (cols_from_offset) cols_products(ch, ysrc, cols.as<T>(), gw, tr ? grad_input : nullptr, first);
        first = false;
      }
    }
    if (scatter_cl) finish_channels_last_target(grad_input, gx, nullptr);
    if constexpr (is_half_type<T>) {
      if (scatter && !scatter_cl) cast(device_, DType::kFloat32, gx, dtype_of<T>(), grad_input, B_ * cx_ * nx_);
      if (grad_weight != nullptr) cast(device_, DType::kFloat32, gw, dtype_of<T>(), grad_weight, n_w);
    }
  }

 private:
  struct Chunk {
    int64_t b0, nb, q0, qlen;
  };

  template <typename U>
  static constexpr DType dtype_of() {
    if constexpr (std::is_same_v<U, float>)
      return DType::kFloat32;
    else if constexpr (std::is_same_v<U, double>)
      return DType::kFloat64;
    else if constexpr (std::is_same_v<U, __half>)
      return DType::kFloat16;
    else
      return DType::kBFloat16;
  }

  // No column to compute: an empty batch or spatial extent, or no channels.
  bool empty() const { return B_ == 0 || cx_ == 0 || cy_ == 0 || nx_ == 0 || ny_ == 0 || K_ == 0; }

  int64_t col2im_bytes() const {
    if (!deterministic()) return 0;
    return sorted_col2im_bytes<A>(off_ != nullptr ? kCorners : 1);
  }

  // Chunks of (image, y position) whose columns fit the workspace limit at `bytes` per column element.
  std::vector<Chunk> plan(int64_t bytes) const {
    std::vector<Chunk> out;
    int64_t budget = std::max<int64_t>(1, workspace_limit() / std::max<int64_t>(1, bytes));
    // The sorted col2im counts its entries in int32.
    if (deterministic()) budget = std::min<int64_t>(budget, ((int64_t{1} << 31) - 1) / kCorners);
    const int64_t per_image = cxK_ * ny_;
    if (per_image <= budget) {
      // Whole images; the batched GEMMs take at most 65535 (image, group) pairs per launch.
      const int64_t nb = std::max<int64_t>(1, std::min({B_, budget / per_image, int64_t{65535} / G_}));
      for (int64_t b0 = 0; b0 < B_; b0 += nb) out.push_back({b0, std::min(nb, B_ - b0), 0, ny_});
    } else {
      const int64_t qlen = std::max<int64_t>(1, budget / cxK_);
      for (int64_t b = 0; b < B_; ++b)
        for (int64_t q0 = 0; q0 < ny_; q0 += qlen) out.push_back({b, 1, q0, std::min(qlen, ny_ - q0)});
    }
    return out;
  }

  int64_t max_cols(const std::vector<Chunk>& chunks) const {
    int64_t m = 0;
    for (const Chunk& c : chunks) m = std::max(m, c.nb * cxK_ * c.qlen);
    return m;
  }

  // Kernel arguments of a chunk; with `slice`, channels are split over threads when (image, offset
  // group, kernel point, position) alone would not fill the device.
  ChunkArgs<D> args(const Chunk& ch, bool slice) const {
    ChunkArgs<D> a = a_;
    a.b0 = ch.b0;
    a.nb = ch.nb;
    a.q0 = ch.q0;
    a.qlen = ch.qlen;
    a.cper = a.cpo;
    a.slices = 1;
    if (slice && a.cpo > 1) {
      const int64_t base = ch.nb * a.og * K_ * ch.qlen;
      const int64_t target = static_cast<int64_t>(sms_) * 2048 * 2;
      const int64_t want = std::clamp<int64_t>((target + base - 1) / base, 1, a.cpo);
      a.cper = (a.cpo + want - 1) / want;
      a.slices = (a.cpo + a.cper - 1) / a.cper;
    }
    return a;
  }

  // NOTE [ Warp im2col from channels-last X ] (im2col_warp.cuh): the chunk's images copied channels-last (once
  // for all the chunks of one image), then one warp per (image, offset group, 32 positions, kernel point). Taken by
  // default in 3D only (where the vector kernel does not apply), for float32 and the half types, where one image's
  // copy fits the workspace limit: in 1D and 2D it measured slower than im2col_kernel (docs/cuda.md, "Session 14").
  // TVDCN_CUDA_IM2COL=warp takes it in every dim, =thread or =vector in none (read at each call: A/B switches for
  // benchmarks and tests). Returns false where it does not apply. Same columns, bitwise, as im2col_kernel.
  bool im2col_warp(const Chunk& ch, const T* x, T* cols) const {
    if constexpr (std::is_same_v<T, double>) {
      return false;
    } else {
      if (env_is("TVDCN_CUDA_IM2COL", "thread") || env_is("TVDCN_CUDA_IM2COL", "vector") ||
          (D != 3 && !env_is("TVDCN_CUDA_IM2COL", "warp")))
        return false;
      const T* xt = channels_last_copy(ch, x);
      if (xt == nullptr) return false;
      const ScopedPhase phase("im2col", s_);
      const ChunkArgs<D> a = args(ch, false);
      const int64_t q_tiles = (ch.qlen + 31) / 32;
      const int64_t tasks = ch.nb * a.og * q_tiles * K_;
      const int64_t needed = (tasks + kWarpIm2colWarps - 1) / kWarpIm2colWarps;
      const unsigned grid = static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(needed, int64_t{sms_} * 32)));
      constexpr int kBlock = 32 * kWarpIm2colWarps;
      const bool per_channel = mask_ != nullptr && a.cpm % a.cpo != 0;
      // Two channels per lane for the half types where every group's channels come in even pairs (aligned).
      const bool pairs = is_half_type<T> && a.cpo % 2 == 0 && cx_ % 2 == 0;
      const int64_t reach = index_reach(a, nx_ * cx_);
      auto go = [&](auto def, auto idx, auto vec) {
        using I = decltype(idx);
        im2col_warp_kernel<D, T, decltype(def)::value, I, decltype(vec)::value>
            <<<grid, kBlock, 0, s_>>>(a, xt, off_, mask_, cols, q_tiles, per_channel);
        DCN_CUDA_LAUNCH_CHECK("im2col_warp_kernel", grid, kBlock);
      };
      using On = std::true_type;
      using Off = std::false_type;
      using V1 = std::integral_constant<int, 1>;
      using V2 = std::integral_constant<int, 2>;
      auto by_vec = [&](auto def, auto idx) {
        if constexpr (is_half_type<T>) {
          if (pairs) return go(def, idx, V2{});
        }
        go(def, idx, V1{});
      };
      auto by_def = [&](auto idx) { off_ != nullptr ? by_vec(On{}, idx) : by_vec(Off{}, idx); };
      if (fits_int32(reach) && fits_int32(ny_))
        by_def(int32_t{});
      else
        by_def(int64_t{});
      return true;
    }
  }

  // See NOTE [ Index type ]: the largest index a sampling kernel forms from `extent` (the elements of the plane or
  // image it reads) and the grid positions, for the int32 choice.
  int64_t index_reach(const ChunkArgs<D>& a, int64_t extent) const {
    int64_t reach = extent;
    for (int ax = 0; ax < D; ++ax) {
      reach = std::max(reach, a.y_size[ax] * a.stride[ax] + a.kernel_size[ax] * a.dilation[ax] + a.padding[ax]);
    }
    return reach;
  }

  // The chunk's images of X copied channels-last (once for all the chunks of one image: kept in xt_ws_), by groups of
  // `cg` channels (NOTE [ Channels-last by group ]; 0: one group of all cx_), or nullptr where the copy would not fit
  // the workspace limit.
  const T* channels_last_copy(const Chunk& ch, const T* x, int64_t cg = 0) const {
    const int64_t copy_bytes = ch.nb * cx_ * nx_ * static_cast<int64_t>(sizeof(T));
    if (copy_bytes > workspace_limit()) return nullptr;
    if (cg <= 0) cg = cx_;
    if (xt_src_ != x || xt_b0_ != ch.b0 || xt_nb_ != ch.nb || xt_cg_ != cg) {
      if (xt_bytes_ < copy_bytes) {
        xt_ws_ = Workspace();  // the old block back to the pool first
        xt_ws_ = Workspace(device_, copy_bytes);
        xt_bytes_ = copy_bytes;
      }
      // NOTE [ Channels-last copy in vectors ]: the 16-byte copy (to_channels_last_vec_kernel, the fused forward's
      // too) where it applies: the same elements, 1.3-2.2x faster than the element-by-element one on an H100
      // (docs/cuda.md, session 21). TVDCN_CUDA_CL_COPY=scalar (read at each call) keeps that one, for A/B runs.
      const bool vec = fused::channels_last_vec_applies(x, cx_, nx_) && !env_is("TVDCN_CUDA_CL_COPY", "scalar");
      const ScopedPhase phase("im2col_channels_last", s_);  // either copy (tests take the phase as the copy's)
      constexpr int64_t kVec = 16 / static_cast<int64_t>(sizeof(T));
      if (vec && cg % kVec == 0)
        fused::launch_to_channels_last_vec(x, xt_ws_.as<T>(), ch.b0, ch.nb, cx_, nx_, s_, cg,
                                           !env_is("TVDCN_CUDA_CL_COPY", "channel_order"));
      else
        fused::launch_to_channels_last(x, xt_ws_.as<T>(), ch.b0, ch.nb, cx_, nx_, s_, cg);
      xt_src_ = x;
      xt_b0_ = ch.b0;
      xt_nb_ = ch.nb;
      xt_cg_ = cg;
    }
    return xt_ws_.as<T>();
  }

  // NOTE [ Vector im2col for small offset groups ] (im2col_vector.cuh): where an offset group's channels are 16, 32
  // or 64 bytes and share one mask group, one thread per sample reads each corner's channels from the
  // channels-last copy in 16-byte vectors; groups of a multiple of 64 bytes in slices of 16-64 bytes. By default
  // where a group is exactly 16 bytes (edvr-64 in the half types: im2col 0.169 -> 0.112 ms plus a 0.022 ms copy
  // on an H200; float32's 32-byte groups broke even: docs/cuda.md, session 19), and in the half types in 1D and 2D
  // where a group is a multiple of 64 bytes (session 29, with the copy by slice; float32 loses there);
  // TVDCN_CUDA_IM2COL=vector takes it wherever it applies, =thread or =warp never (read at each call).
  // Returns false where it does not apply. Same columns, bitwise, as im2col_kernel.
  bool im2col_vector(const Chunk& ch, const T* x, T* cols) const {
    if constexpr (std::is_same_v<T, double>) {
      return false;
    } else {
      const bool forced = env_is("TVDCN_CUDA_IM2COL", "vector");
      if (!forced && (env_is("TVDCN_CUDA_IM2COL", "thread") || env_is("TVDCN_CUDA_IM2COL", "warp"))) return false;
      const int64_t group_bytes = a_.cpo * static_cast<int64_t>(sizeof(T));
      const bool small = group_bytes == 16 || group_bytes == 32 || group_bytes == 64;
      if (!small && group_bytes % 64 != 0) return false;
      // By default where a group is one 16-byte vector (H200, session 19), and in the half types in 1D and 2D where it
      // is a multiple of 64 bytes, copied by slice (H100, session 29: r50-c3 1.07x, big-b32 1.05x, 1d-c256 1.10x,
      // r50-c4 and r50-c5 even; float32 0.82-0.95x, so not there).
      const bool large_half = is_half_type<T> && D != 3 && group_bytes % 64 == 0;
      if (!forced && group_bytes != 16 && !large_half) return false;
      if (mask_ != nullptr && a_.cpm % a_.cpo != 0) return false;  // the mask group changes inside a group
      // 16-byte vectors per thread: a whole small group; for larger groups the most (up to 4) that still give the
      // device as many threads as im2col_kernel's slicing aims for.
      const int64_t base = ch.nb * a_.og * K_ * ch.qlen;
      const int64_t target = static_cast<int64_t>(sms_) * 2048 * 2;
      int vec = small ? static_cast<int>(group_bytes / 16) : 1;
      if (!small) {
        for (int v : {4, 2}) {
          if (base * (group_bytes / (16 * v)) >= target) {
            vec = v;
            break;
          }
        }
      }
      const int64_t slice_channels = vec * 16 / static_cast<int64_t>(sizeof(T));
      // NOTE [ Channels-last by group ]: each slice's channels (a whole small offset group, or a thread's part of a
      // large one) as an image of its own, unless TVDCN_CUDA_IM2COL_COPY=channels_last (the one copy of all channels;
      // read at each call: A/B runs and tests). The kernel's strides for either: between pixels, offset groups and
      // slices of a group.
      const bool by_slice = !env_is("TVDCN_CUDA_IM2COL_COPY", "channels_last");
      const T* xt = channels_last_copy(ch, x, by_slice ? slice_channels : cx_);
      if (xt == nullptr) return false;
      const ScopedPhase phase("im2col_vector", s_);
      ChunkArgs<D> a = args(ch, false);
      a.cper = slice_channels;
      a.slices = a.cpo / a.cper;
      const int64_t pixel_stride = by_slice ? slice_channels : cx_;
      const int64_t group_stride = by_slice ? nx_ * a.cpo : a.cpo;
      const int64_t slice_stride = by_slice ? nx_ * slice_channels : slice_channels;
      const int64_t n = base * a.slices;
      const unsigned grid = grid_for(n, device_, kIm2colVectorThreads);
      const int64_t reach = index_reach(a, nx_ * cx_);
      const bool int32 = fits_int32(n + int64_t{kIm2colVectorThreads} * grid) && fits_int32(reach) && fits_int32(ny_) &&
                         fits_int32(cx_);
      const ChunkDivisors<D> dv = im2col_divisors(a, int32);
      auto go = [&](auto def, auto idx, auto vec) {
        using I = decltype(idx);
        im2col_vector_kernel<D, T, decltype(def)::value, I, decltype(vec)::value>
            <<<grid, kIm2colVectorThreads, 0, s_>>>(a, dv, xt, pixel_stride, group_stride, slice_stride, off_, mask_,
                                                    cols);
        DCN_CUDA_LAUNCH_CHECK("im2col_vector_kernel", grid, kIm2colVectorThreads);
      };
      auto by_vec = [&](auto def, auto idx) {
        if (vec == 1)
          go(def, idx, std::integral_constant<int, 1>{});
        else if (vec == 2)
          go(def, idx, std::integral_constant<int, 2>{});
        else
          go(def, idx, std::integral_constant<int, 4>{});
      };
      auto by_def = [&](auto idx) { off_ != nullptr ? by_vec(std::true_type{}, idx) : by_vec(std::false_type{}, idx); };
      if (int32)
        by_def(int32_t{});
      else
        by_def(int64_t{});
      return true;
    }
  }

  // NOTE [ Division by a run-time constant ]: the im2col kernels' divisors where their indices are int32 (`int32`),
  // unless TVDCN_CUDA_IM2COL_DIV=plain (read at each call: A/B runs and tests), which keeps the plain division.
  static ChunkDivisors<D> im2col_divisors(const ChunkArgs<D>& a, bool int32) {
    if (!int32 || env_is("TVDCN_CUDA_IM2COL_DIV", "plain")) return ChunkDivisors<D>{};
    const ChunkDivisors<D> dv = chunk_divisors<D>(a);
    if (dv.on) im2col_divisor_launches().fetch_add(1, std::memory_order_relaxed);
    return dv;
  }

  void im2col(const Chunk& ch, const T* x, T* cols) const {
    if (im2col_vector(ch, x, cols)) return;
    if (im2col_warp(ch, x, cols)) return;
    const ScopedPhase phase("im2col", s_);
    const ChunkArgs<D> a = args(ch, true);
    const int64_t n = a.nb * a.og * a.slices * a.K * a.qlen;
    const unsigned grid = grid_for(n, device_);
    // See NOTE [ Index type ]: int32 when the thread count, a plane, the grid positions and the channels fit.
    const int64_t reach = index_reach(a, nx_);
    const bool int32 =
        fits_int32(n + int64_t{kThreads} * grid) && fits_int32(reach) && fits_int32(ny_) && fits_int32(cx_);
    const ChunkDivisors<D> dv = im2col_divisors(a, int32);
    // The mask value hoisted out of the channel loop where a thread's channels share one mask group, unless
    // TVDCN_CUDA_IM2COL_MASK=channel (read at each call; an A/B switch).
    const bool hoist = !env_is("TVDCN_CUDA_IM2COL_MASK", "channel");
    DCN_INDEX_SWITCH(int32, [&] {
      if (off_ != nullptr) {
        im2col_kernel<D, T, true, index_t><<<grid, kThreads, 0, s_>>>(a, dv, x, off_, mask_, cols, hoist);
      } else {
        im2col_kernel<D, T, false, index_t><<<grid, kThreads, 0, s_>>>(a, dv, x, off_, mask_, cols, hoist);
      }
      DCN_CUDA_LAUNCH_CHECK("im2col_kernel", grid, kThreads);
    });
  }

  void col2im(const Chunk& ch, const A* dcol, A* gx) const {
    const ChunkArgs<D> a = args(ch, true);
    if constexpr (std::is_same_v<A, float>) {
      // NOTE [ Warp-owned window col2im ] (its own phase, col2im_warp): whole images per chunk, where chosen.
      if (!deterministic() && ch.q0 == 0 && ch.qlen == ny_ && col2im_warp_window<D, T>(s_, a, dcol, off_, mask_, gx))
        return;
    }
    const ScopedPhase phase("col2im", s_);
    if (deterministic()) {
      if (off_ != nullptr)
        col2im_sorted<D, T, true>(device_, s_, a, dcol, off_, mask_, gx);
      else
        col2im_sorted<D, T, false>(device_, s_, a, dcol, off_, mask_, gx);
      return;
    }
    // gx is the channels-last target here (NOTE [ Channels-last col2im ]); the windowed kernel where it
    // applies and is chosen (NOTE [ Windowed col2im, one thread per sample ]; whole images per chunk).
    if constexpr (std::is_same_v<A, float>) {
      if (ch.q0 == 0 && ch.qlen == ny_ && col2im_window<D, T>(sms_, s_, a, dcol, off_, mask_, gx)) return;
    }
    const int64_t blocks = a.nb * a.og * a.K * ((a.qlen + kCol2imPositions - 1) / kCol2imPositions);
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(blocks, int64_t{1} << 30));
    if (off_ != nullptr)
      col2im_channels_last_kernel<D, T, true><<<grid, kCol2imThreads, 0, s_>>>(a, dcol, off_, mask_, gx, blocks);
    else
      col2im_channels_last_kernel<D, T, false><<<grid, kCol2imThreads, 0, s_>>>(a, dcol, off_, mask_, gx, blocks);
    DCN_CUDA_LAUNCH_CHECK("col2im_channels_last_kernel", grid, kCol2imThreads);
  }

  // A zeroed channels-last scatter target gxl[B][nx][cx] in the accumulator type.
  A* start_channels_last_target(Workspace& ws) const {
    const int64_t n = B_ * cx_ * nx_;
    ws = Workspace(device_, std::max<int64_t>(1, n) * sizeof(A));
    if (n > 0) DCN_CUDA_CHECK(cudaMemsetAsync(ws.get(), 0, n * sizeof(A), s_));
    return ws.as<A>();
  }

  // out[b][c][s] = T(gxl[b][s][c] (+ bias[c])).
  void finish_channels_last_target(T* out, const A* gxl, const T* bias) const {
    const int64_t n = B_ * cx_ * nx_;
    if (n == 0) return;
    const ScopedPhase phase("channels_first", s_);
    if constexpr (std::is_same_v<A, float>) {
      // Vector loads and pair stores (16-byte aligned rows: cx % 4 == 0; pairs: nx even).
      if (cx_ % 4 == 0 && nx_ % 2 == 0 && channels_first_vector()) {
        const int64_t tiles = B_ * ((cx_ + 31) / 32) * ((nx_ + kChannelsFirstPositions - 1) / kChannelsFirstPositions);
        const unsigned grid = static_cast<unsigned>(std::min<int64_t>(tiles, static_cast<int64_t>(sms_) * 16));
        channels_first_v4_kernel<T><<<grid, 256, 0, s_>>>(out, gxl, bias, B_, cx_, nx_);
        DCN_CUDA_LAUNCH_CHECK("channels_first_v4_kernel", grid, 256);
        return;
      }
    }
    const int64_t tiles = B_ * ((cx_ + 31) / 32) * ((nx_ + 31) / 32);
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(tiles, static_cast<int64_t>(sms_) * 32));
    channels_first_kernel<T><<<grid, dim3(32, 8), 0, s_>>>(out, gxl, bias, B_, cx_, nx_);
    DCN_CUDA_LAUNCH_CHECK("channels_first_kernel", grid, 256);
  }

  // grad_bias[c] = sum over (b, s) of g[b, c, s]: NOTE [ Bias gradient rows ] where the rows are whole
  // 16-byte vectors (not float64), at least two per multiprocessor (one block each) and at most 64K
  // elements long (so that no few blocks carry the whole sum); else the generic sum, which splits rows.
  void bias_grad(const T* g, T* grad_bias, int64_t channels, int64_t n) const {
    const ScopedPhase phase("grad_bias", s_);
    constexpr int64_t kVec = 16 / static_cast<int64_t>(sizeof(T));
    const int64_t rows = B_ * channels;
    if constexpr (!std::is_same_v<T, double>) {
      const bool shape_ok = rows >= 2 * static_cast<int64_t>(sms_) && n > 0 && n <= 65536 && n % kVec == 0;
      if (shape_ok && reinterpret_cast<uintptr_t>(g) % 16 == 0 && bias_rows()) {
        Workspace row_sum(device_, rows * sizeof(A));
        const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows, int64_t{1} << 30));
        bias_rows_kernel<T><<<grid, kBiasRowThreads, 0, s_>>>(g, row_sum.as<A>(), rows, n);
        DCN_CUDA_LAUNCH_CHECK("bias_rows_kernel", grid, kBiasRowThreads);
        const unsigned grid2 = grid_for(channels, device_);
        // Per channel, the images' row sums in order (the generic sum's second pass).
        sum_partials_kernel<T><<<grid2, kThreads, 0, s_>>>(row_sum.as<A>(), grad_bias, channels, B_);
        DCN_CUDA_LAUNCH_CHECK("sum_partials_kernel", grid2, kThreads);
        return;
      }
    }
    const int64_t shape[3] = {B_, channels, n};
    const bool reduced[3] = {true, false, true};
    sum(device_, dtype_of<T>(), g, 3, shape, reduced, grad_bias);
  }

  // With the environment variable TVDCN_CUDA_BIAS_GRAD=sum the bias gradient always takes the generic
  // sum (read once; an A/B switch for benchmarks of one binary).
  static bool bias_rows() {
    static const bool sum_only = env_is("TVDCN_CUDA_BIAS_GRAD", "sum");
    return !sum_only;
  }

  // The backward's products of the columns of a chunk: the weight gradient (gw not null) and the
  // transposed op's input gradient (grad_input not null).
  void cols_products(const Chunk& ch, const T* ysrc, const T* cols, A* gw, T* grad_input, bool first) const {
    if (gw != nullptr) gemm_weight(ch, ysrc, cols, gw, !first);
    if (grad_input != nullptr) gemm_forward(ch, cols, grad_input, nullptr);
  }

  // Where the offset pass also writes the columns (NOTE [ Columns from the offset pass ]): by default in every dim.
  // In session 13 (H100) it paid only in 1D (1d-c256 backward 1.12-1.16x; in 2D and 3D the extra writes made the
  // offset pass ~1.8x slower and the backward 0.84-0.97x); measured again in session 19 (H100), with the vector
  // offset pass and the backward as it is now, it is faster everywhere: the half types' backwards 1.10-1.18x (r50-c3,
  // r50-c4, r50-c5, big-b32, 3d-c64), float32 1.02-1.07x in 2D and 1.00x in 3D. The environment variable
  // TVDCN_CUDA_BWD_COLS=im2col (read at each call; an A/B switch for benchmarks and tests of one binary) keeps
  // im2col. The results are bitwise the same either way.
  static bool columns_from_offset_pass() { return !env_is("TVDCN_CUDA_BWD_COLS", "im2col"); }

  // Calls launch(mask_grad, with_cols) with std::bool_constant arguments: whether the offset pass also computes the
  // mask gradient (grad_mask not null) and writes the columns (cols not null).
  template <typename F>
  static void by_offset_flags(const T* grad_mask, const T* cols, F&& launch) {
    using Yes = std::true_type;
    using No = std::false_type;
    if (grad_mask != nullptr) {
      if (cols != nullptr)
        launch(Yes{}, Yes{});
      else
        launch(Yes{}, No{});
    } else {
      if (cols != nullptr)
        launch(No{}, Yes{});
      else
        launch(No{}, No{});
    }
  }

  // grad_offset of a chunk, grad_mask when not null (mask groups = offset groups), and the chunk's
  // columns when cols is not null (NOTE [ Columns from the offset pass ]).
  void offset_grad(const Chunk& ch, const A* dcol, const T* x, T* grad_offset, T* grad_mask, T* cols) const {
    if (offset_grad_vector(ch, dcol, x, grad_offset, grad_mask, cols)) return;
    const ScopedPhase phase(grad_mask != nullptr ? "offset_mask_grad" : "offset_grad", s_);
    const ChunkArgs<D> a = args(ch, false);
    const int64_t n = a.nb * a.og * a.K * a.qlen;
    const unsigned grid = grid_for(n, device_);
    // NOTE [ Offset pass loads ahead ]
    // One thread per (image, offset group, kernel point, position) walks the group's channels: where the grid
    // is small (r50-c5: 9 warps per multiprocessor) the loads of one channel at a time leave it latency-bound.
    // Loading four channels ahead measured (H100, session 15, docs/cuda.md) 1.4-2.2x faster on r50-c4 / r50-c5 /
    // 1d-c256, 1.1-1.3x on r50-c3 / big-b32 / tr2d-256, but 0.88-0.91x on edvr-64 (8 channels per group) and
    // 0.77-0.85x in 3D (8 corners: the registers cost occupancy where the grid is large); so only in 1D and 2D
    // with at least 32 channels per offset group. The sums are the same either way (bitwise, measured).
    const bool ahead = D <= 2 && a.cpo >= 32;
    auto launch = [&](auto mask_grad, auto with_cols) {
      if (ahead)
        offset_grad_kernel<D, T, decltype(mask_grad)::value, decltype(with_cols)::value, true>
            <<<grid, kThreads, 0, s_>>>(a, dcol, x, off_, mask_, grad_offset, grad_mask, cols);
      else
        offset_grad_kernel<D, T, decltype(mask_grad)::value, decltype(with_cols)::value, false>
            <<<grid, kThreads, 0, s_>>>(a, dcol, x, off_, mask_, grad_offset, grad_mask, cols);
    };
    by_offset_flags(grad_mask, cols, launch);
    DCN_CUDA_LAUNCH_CHECK("offset_grad_kernel", grid, kThreads);
  }

  // NOTE [ Vector offset pass ] (offset_grad_vector.cuh): where an offset group's channels are a whole number of
  // 16-byte vectors, the offset pass reads X's corners from the channels-last copy, one 16-byte vector per corner
  // and step. By default in 2D and 3D, in the half types with at least 64 channels per offset group (H200 and H100,
  // session 19: offset pass 3d-c64 2.08 -> 1.47 ms, big-b32 1.00 -> 0.78, r50-c3 0.318 -> 0.253, r50-c5 0.129 ->
  // 0.104; slower on edvr-64's 8 channels, on every float32 shape, on 1d-c256's backward (1.09x, run 8), and with two
  // vectors per step everywhere).
  // TVDCN_CUDA_OFFSET_GRAD=vector takes it wherever it applies, =thread never (read at each call: A/B switches for
  // benchmarks and tests). Returns false where it does not apply. Bitwise the gradients (and columns) of
  // offset_grad_kernel.
  bool offset_grad_vector(const Chunk& ch, const A* dcol, const T* x, T* grad_offset, T* grad_mask, T* cols) const {
    if constexpr (std::is_same_v<T, double>) {
      return false;
    } else {
      const bool forced = env_is("TVDCN_CUDA_OFFSET_GRAD", "vector");
      if (!forced && (env_is("TVDCN_CUDA_OFFSET_GRAD", "thread") || !is_half_type<T> || a_.cpo < 64 || D == 1))
        return false;
      if ((a_.cpo * static_cast<int64_t>(sizeof(T))) % 16 != 0) return false;
      const T* xt = channels_last_copy(ch, x);
      if (xt == nullptr) return false;
      const ScopedPhase phase(grad_mask != nullptr ? "offset_mask_grad_vector" : "offset_grad_vector", s_);
      const ChunkArgs<D> a = args(ch, false);
      const int64_t n = a.nb * a.og * a.K * a.qlen;
      const unsigned grid = grid_for(n, device_);
      auto launch = [&](auto mask_grad, auto with_cols) {
        offset_grad_vector_kernel<D, T, decltype(mask_grad)::value, decltype(with_cols)::value>
            <<<grid, kThreads, 0, s_>>>(a, dcol, xt, off_, mask_, grad_offset, grad_mask, cols);
      };
      by_offset_flags(grad_mask, cols, launch);
      DCN_CUDA_LAUNCH_CHECK("offset_grad_vector_kernel", grid, kThreads);
      return true;
    }
  }

  // NOTE [ Fused col2im and offset pass ] (col2im_offset_fused.cuh): col2im into the channels-last target gx and the
  // offset pass (grad_offset, grad_mask when not null, the columns when cols is not null) in one kernel. By default in
  // 2D and 3D wherever it applies (not in deterministic mode, channels per offset group a multiple of 32, or 8 or 16
  // with the offset groups a multiple of 4 or 2, channels of X a multiple of 4, no mask or one mask group per offset
  // group, float32 accumulation, the channels-last copy within the workspace limit) and TVDCN_CUDA_COL2IM is unset or
  // empty. TVDCN_CUDA_BWD_FUSED=off never takes it, =on wherever it applies, 1D and a set TVDCN_CUDA_COL2IM included
  // (read at each call: A/B switches for benchmarks and tests). Returns false where it is not taken.
  bool col2im_offset_fused(const Chunk& ch, const A* dcol, const T* x, A* gx, T* grad_offset, T* grad_mask,
                           T* cols) const {
    if constexpr (!std::is_same_v<A, float>) {
      return false;
    } else {
      if (env_is("TVDCN_CUDA_BWD_FUSED", "off") || deterministic() || off_ == nullptr || p_.transposed) return false;
      const char* col2im_choice = std::getenv("TVDCN_CUDA_COL2IM");
      const bool col2im_chosen = col2im_choice != nullptr && col2im_choice[0] != '\0';
      if (!env_is("TVDCN_CUDA_BWD_FUSED", "on") && (D == 1 || col2im_chosen)) return false;
      // Offset groups per block: one (channels a multiple of 32, in slices of 32), or 2 / 4 groups of 16 / 8 channels
      // sharing one slice.
      const int groups = a_.cpo % 32 == 0 ? 1 : a_.cpo == 16 ? 2 : a_.cpo == 8 ? 4 : 0;
      if (groups == 0 || a_.og % groups != 0 || cx_ % 4 != 0 || (mask_ != nullptr && a_.mg != a_.og)) return false;
      const T* xt = channels_last_copy(ch, x);
      if (xt == nullptr) return false;
      const ScopedPhase phase(grad_mask != nullptr ? "col2im_offset_mask_fused" : "col2im_offset_fused", s_);
      const ChunkArgs<D> a = args(ch, false);
      const int64_t blocks = a.nb * (a.og / groups) * K_ * ((a.qlen + kCol2imPositions - 1) / kCol2imPositions);
      const unsigned grid = static_cast<unsigned>(std::min<int64_t>(blocks, int64_t{1} << 30));
      auto launch = [&](auto mask_grad, auto with_cols) {
        constexpr bool kM = decltype(mask_grad)::value, kC = decltype(with_cols)::value;
        auto go = [&](auto g) {
          // NOTE [ Three blocks in 3D ]: the default in 3D; TVDCN_CUDA_FUSED3D_BLOCKS=2 runs the two-block form (read
          // at each call; an A/B switch).
          if constexpr (D == 3) {
            if (!env_is("TVDCN_CUDA_FUSED3D_BLOCKS", "2")) {
              col2im_offset_fused_kernel<D, T, kM, kC, decltype(g)::value, 3>
                  <<<grid, kCol2imThreads, 0, s_>>>(a, dcol, xt, off_, mask_, gx, grad_offset, grad_mask, cols, blocks);
              return;
            }
          }
          col2im_offset_fused_kernel<D, T, kM, kC, decltype(g)::value>
              <<<grid, kCol2imThreads, 0, s_>>>(a, dcol, xt, off_, mask_, gx, grad_offset, grad_mask, cols, blocks);
        };
        if (groups == 1)
          go(std::integral_constant<int, 1>{});
        else if (groups == 2)
          go(std::integral_constant<int, 2>{});
        else
          go(std::integral_constant<int, 4>{});
      };
      by_offset_flags(grad_mask, cols, launch);
      DCN_CUDA_LAUNCH_CHECK("col2im_offset_fused_kernel", grid, kCol2imThreads);
      return true;
    }
  }

  void mask_grad(const Chunk& ch, const A* dcol, const T* x, T* grad_mask) const {
    const ScopedPhase phase("mask_grad", s_);
    const ChunkArgs<D> a = args(ch, false);
    const int64_t n = a.nb * a.mg * a.K * a.qlen;
    const unsigned grid = grid_for(n, device_);
    if (off_ != nullptr)
      mask_grad_kernel<D, T, true><<<grid, kThreads, 0, s_>>>(a, dcol, x, off_, grad_mask);
    else
      mask_grad_kernel<D, T, false><<<grid, kThreads, 0, s_>>>(a, dcol, x, off_, grad_mask);
    DCN_CUDA_LAUNCH_CHECK("mask_grad_kernel", grid, kThreads);
  }

  // Y[b, g*cyg + o, q0 + ql] = sum_r W[g][o][r] * cols[bl][g*cxgK + r][ql] (+ bias), per (image, group).
  void gemm_forward(const Chunk& ch, const T* cols, T* y, const T* bias) const {
    const ScopedPhase phase("gemm_forward", s_);
    GemmDesc d;
    d.M = cyg_;
    d.N = ch.qlen;
    d.K = cxgK_;
    d.A = w_;
    d.a_sm = cxgK_;
    d.a_sk = 1;
    d.B = cols;
    d.b_sk = ch.qlen;
    d.b_sn = 1;
    d.C = y + ch.b0 * cy_ * ny_ + ch.q0;
    d.c_sm = ny_;
    d.c_sn = 1;
    d.bias = bias;
    d.b1 = {ch.nb, 0, cxK_ * ch.qlen, cy_ * ny_, 0};
    d.b2 = {G_, cyg_ * cxgK_, cxgK_ * ch.qlen, cyg_ * ny_, cyg_};
    gemm<T, T>(d, s_);
  }

  // dcol[bl][g*cxgK + r][ql] = sum_o W[g][o][r] * Ysrc[b, g*cyg + o, q0 + ql].
  void gemm_dcol(const Chunk& ch, const T* ysrc, A* dcol) const {
    const ScopedPhase phase("gemm_dcol", s_);
    GemmDesc d;
    d.M = cxgK_;
    d.N = ch.qlen;
    d.K = cyg_;
    d.A = w_;
    d.a_sm = 1;
    d.a_sk = cxgK_;
    d.B = ysrc + ch.b0 * cy_ * ny_ + ch.q0;
    d.b_sk = ny_;
    d.b_sn = 1;
    d.C = dcol;
    d.c_sm = ch.qlen;
    d.c_sn = 1;
    d.b1 = {ch.nb, 0, cy_ * ny_, cxK_ * ch.qlen, 0};
    d.b2 = {G_, cyg_ * cxgK_, cyg_ * ny_, cxgK_ * ch.qlen, 0};
    gemm<T, A>(d, s_);
  }

  // gW[g][o][r] (+)= sum over (bl, ql) of Ysrc[b, g*cyg + o, q0 + ql] * cols[bl][g*cxgK + r][ql]: one
  // product per group with the (image, position) reduction folded into K; split over K into partial
  // products (summed in a fixed order) when the output tiles alone would not fill the device.
  void gemm_weight(const Chunk& ch, const T* ysrc, const T* cols, A* gw, bool accumulate) const {
    const ScopedPhase phase("gemm_weight", s_);
    GemmDesc d;
    d.M = cyg_;
    d.N = cxgK_;
    d.K = ch.nb * ch.qlen;
    d.A = ysrc + ch.b0 * cy_ * ny_ + ch.q0;
    d.a_sm = ny_;
    d.a_sk = 1;
    d.B = cols;
    d.b_sk = 1;
    d.b_sn = ch.qlen;
    if (ch.qlen > 1) {
      d.kfold = ch.qlen;
      d.a_kf = cy_ * ny_;
      d.b_kf = cxK_ * ch.qlen;
    } else {
      // One position per image: K runs over images alone, no fold needed.
      d.a_sk = cy_ * ny_;
      d.b_sk = cxK_;
      d.b_sn = 1;
    }
    d.C = gw;
    d.c_sm = cxgK_;
    d.c_sn = 1;
    d.b2 = {G_, cyg_ * ny_, cxgK_ * ch.qlen, cyg_ * cxgK_, 0};
    const int64_t tiles = gemm_tiles(d.M, d.N) * G_;
    const int64_t want = (2 * static_cast<int64_t>(sms_) + tiles - 1) / tiles;
    const int splits = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(want, d.K / 512), 1, 64));
    if (splits == 1) {
      d.accumulate = accumulate;
      gemm<T, A>(d, s_);
      return;
    }
    const int64_t n_w = cy_ * cxgK_;
    Workspace partial(device_, splits * n_w * sizeof(A));
    d.C = partial.as<A>();
    d.splits = splits;
    d.c_split = n_w;
    gemm<T, A>(d, s_);
    const unsigned grid = grid_for(n_w, device_);
    sum_splits_kernel<A><<<grid, kThreads, 0, s_>>>(gw, partial.as<A>(), n_w, splits, accumulate);
    DCN_CUDA_LAUNCH_CHECK("sum_splits_kernel", grid, kThreads);
  }

  // Regular forward with nothing to convolve: output = bias (or 0).
  void zero_fill_y(T* y, const T* bias) const {
    const int64_t n = B_ * cy_ * ny_;
    if (n == 0) return;
    const unsigned grid = grid_for(n, device_);
    fill_channels_kernel<T><<<grid, kThreads, 0, s_>>>(y, bias, n, cy_, ny_);
    DCN_CUDA_LAUNCH_CHECK("fill_channels_kernel", grid, kThreads);
  }

  // The transposed forward's scatter target: the output itself starting at bias (float32/64), or a
  // zeroed float32 workspace (half types; bias added when rounding, see finish_x_target).
  A* start_x_target(T* output, const T* bias, Workspace& ws) const {
    const int64_t n = B_ * cx_ * nx_;
    if constexpr (is_half_type<T>) {
      ws = Workspace(device_, std::max<int64_t>(1, n) * sizeof(A));
      if (n > 0) DCN_CUDA_CHECK(cudaMemsetAsync(ws.get(), 0, n * sizeof(A), s_));
      return ws.as<A>();
    } else {
      if (n > 0) {
        const unsigned grid = grid_for(n, device_);
        fill_channels_kernel<T><<<grid, kThreads, 0, s_>>>(output, bias, n, cx_, nx_);
        DCN_CUDA_LAUNCH_CHECK("fill_channels_kernel", grid, kThreads);
      }
      return output;
    }
  }

  void finish_x_target(T* output, const A* gx, const T* bias, int64_t n) const {
    if (n == 0) return;
    const unsigned grid = grid_for(n, device_);
    finalize_channels_kernel<T><<<grid, kThreads, 0, s_>>>(output, gx, bias, n, cx_, nx_);
    DCN_CUDA_LAUNCH_CHECK("finalize_channels_kernel", grid, kThreads);
  }

  int device_;
  cudaStream_t s_;
  const DeformConvParams<D>& p_;
  const T* w_;
  const T* off_;
  const T* mask_;
  int64_t B_, cx_, cy_, G_, K_, nx_, ny_, cxg_, cyg_, cxK_, cxgK_;
  ChunkArgs<D> a_{};
  int sms_;
  // The channels-last copy (channels_last_copy): images xt_b0_ .. xt_b0_ + xt_nb_ - 1 of xt_src_ by groups of xt_cg_
  // channels, kept for the next chunk.
  mutable Workspace xt_ws_;
  mutable int64_t xt_bytes_ = 0, xt_b0_ = -1, xt_nb_ = 0, xt_cg_ = 0;
  mutable const T* xt_src_ = nullptr;
};

template <int D, typename T>
void deform_conv_forward_impl(int device, const DeformConvParams<D>& p, const T* input, const T* weight,
                              const T* offset, const T* mask, const T* bias, T* output) {
  std::optional<HostPhase> setup(std::in_place, "driver:setup");  // NOTE [ Host phases ]
  DeviceGuard guard(device);
  DeformConvDriver<D, T> driver(device, p, weight, offset, mask);
  setup.reset();
  driver.forward(input, bias, output);
}

template <int D, typename T>
void deform_conv_backward_impl(int device, const DeformConvParams<D>& p, const T* input, const T* weight,
                               const T* offset, const T* mask, const T* grad_output, T* grad_input, T* grad_weight,
                               T* grad_offset, T* grad_mask, T* grad_bias) {
  DeviceGuard guard(device);
  DeformConvDriver<D, T>(device, p, weight, offset, mask)
      .backward(input, grad_output, grad_input, grad_weight, grad_offset, grad_mask, grad_bias);
}

}  // namespace dcn::cuda
