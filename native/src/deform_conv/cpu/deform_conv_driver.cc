// SPDX-License-Identifier: MIT
// The CPU driver of the deformable convolution (cpu::deform_conv_*_driver of deform_conv.h): maps the
// regular and the transposed op onto the regular view (NOTE [ Regular view ] in params.h), tiles the GEMM
// columns so the workspace stays under the limit, runs the GEMMs (gemm/cpu) and calls the kernels of
// cpu/kernels.h. Its CUDA twin is cuda/deform_conv_driver.cu.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "core/buffer.h"
#include "core/parallel.h"
#include "deform_conv/cpu/column_pass.h"
#include "deform_conv/cpu/kernels.h"
#include "deform_conv/deform_conv.h"
#include "gemm/cpu/gemm.h"

namespace dcn {
namespace {
std::atomic<int64_t> g_workspace_limit{int64_t{64} << 20};
std::atomic<bool> g_force_planar{false};
std::atomic<bool> g_force_handover{false};
}  // namespace

void set_workspace_limit(int64_t bytes) { g_workspace_limit.store(std::max<int64_t>(1, bytes)); }
int64_t workspace_limit() { return g_workspace_limit.load(); }
void set_force_planar(bool on) { g_force_planar.store(on); }
bool force_planar() { return g_force_planar.load(); }
void set_force_handover(bool on) { g_force_handover.store(on); }
bool force_handover() { return g_force_handover.load(); }

namespace cpu {
namespace {

template <typename T>
const T* ptr_or_null(const TensorView& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

template <typename T>
T* mut_or_null(const TensorView& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Columns per tile so that `bytes_per_column` times it stays under the workspace limit (at least 1).
int64_t tile_columns(int64_t total, int64_t bytes_per_column) {
  const int64_t fit = workspace_limit() / std::max<int64_t>(1, bytes_per_column);
  return std::max<int64_t>(1, std::min(total, fit));
}

// x[b, c, :] = bias[c] (or 0) for every image and channel.
template <typename T>
void fill_channels(T* x, int64_t batch, int64_t channels, int64_t spatial, const T* bias) {
  parallel_for(0, batch * channels, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, spatial)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const T v = bias ? bias[i % channels] : T(0);
                   std::fill(x + i * spatial, x + (i + 1) * spatial, v);
                 }
               });
}

// tile[c, i] = y[b, c, q] for the tile's columns n0 + i = b * sy + q.
template <int D, typename T>
void gather_y_tile(const SamplingGeometry<D>& g, const T* y, int64_t n0, int64_t nc, T* tile) {
  const int64_t sy = g.y_spatial();
  parallel_for(0, g.cy, std::max<int64_t>(1, 4096 / nc), [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      for (int64_t i = 0; i < nc;) {
        const int64_t n = n0 + i, b = n / sy, q = n - b * sy, len = std::min(nc - i, sy - q);
        std::memcpy(tile + c * nc + i, y + (b * g.cy + c) * sy + q, sizeof(T) * len);
        i += len;
      }
    }
  });
}

// W^T of every group as the packed A matrix of dcol = W^T * Y: group gi's (cxg * K) x cyg panels.
template <int D, typename T>
Buffer<T> pack_weight_transposed(const SamplingGeometry<D>& g, const T* weight, const cpu::MicroKernel<T>& uk,
                                 int64_t* group_stride) {
  const int64_t rows = g.cx_per_group() * g.kernel_points, cyg = g.cy_per_group();
  const int64_t m_pad = (rows + uk.mr - 1) / uk.mr * uk.mr;
  *group_stride = m_pad * cyg;
  Buffer<T> packed(static_cast<size_t>(g.groups * m_pad * cyg));
  parallel_for(0, g.groups, 1, [&](int64_t b, int64_t e) {
    for (int64_t gi = b; gi < e; ++gi) {
      // A(i, p) = W[gi * cyg + p, i]: row stride 1, column stride rows.
      cpu::pack_a(rows, cyg, weight + gi * cyg * rows, 1, rows, uk.mr, packed.data() + gi * m_pad * cyg);
    }
  });
  return packed;
}

// The GEMM-then-scatter pass and everything that shares its dcol = W^T * Y columns:
//   x_scatter += col2im(dcol)                 (regular input gradient; transposed forward)
//   grad_weight = sum_tiles Y * im2col(X)^T    (both ops' weight gradient)
//   grad_offset, grad_mask from dcol and X     (both ops)
// Y is `y_src` (y side), X is `x_src` (x side). x_scatter must be initialised by the caller, unless
// `scatter_overwrite`: then it is overwritten (x_scatter = col2im(dcol)). With `y_forward` non-null, also
// y_forward = W * im2col(X) without bias (overwritten; the transposed op's input gradient): the channels-last
// pass takes it from the columns it samples for the weight gradient; the planar path runs gather_gemm.
template <int D, typename T>
void column_pass(const SamplingGeometry<D>& g, const T* x_src, const T* y_src, const T* weight, const T* offset,
                 const T* mask, T* x_scatter, T* grad_weight, T* grad_offset, T* grad_mask,
                 bool scatter_overwrite = false, T* y_forward = nullptr, T* save_dcol = nullptr,
                 const T* saved_dcol = nullptr) {
  // The channels-last pass (cpu/column_pass.h) whenever it applies; the planar kernels otherwise (which neither
  // fill save_dcol nor read saved_dcol: NOTE [ Saved columns of the transposed forward ] in cpu/column_pass.cc).
  if (cpu::column_pass_channels_last(g, x_src, y_src, weight, offset, mask, x_scatter, grad_weight, grad_offset,
                                     grad_mask, workspace_limit(), scatter_overwrite, y_forward, save_dcol, saved_dcol))
    return;
  if (y_forward)
    cpu::gather_gemm(g, x_src, weight, offset, mask, static_cast<const T*>(nullptr), y_forward, workspace_limit());
  if (x_scatter && scatter_overwrite)
    fill_channels(x_scatter, g.batch, g.cx, g.x_spatial(), static_cast<const T*>(nullptr));
  const bool need_dcol = x_scatter || grad_offset || grad_mask;
  const bool need_cols = grad_weight != nullptr;
  if (!need_dcol && !need_cols) return;
  const cpu::MicroKernel<T>& uk = cpu::micro_kernel<T>();
  const int64_t K = g.kernel_points, G = g.groups;
  const int64_t cxg = g.cx_per_group(), cyg = g.cy_per_group(), rows = cxg * K;
  const int64_t total = g.y_columns();
  if (total == 0) {
    if (grad_weight) std::fill(grad_weight, grad_weight + g.cy * rows, T(0));
    return;
  }
  int64_t wt_stride = 0;
  Buffer<T> wt;
  if (need_dcol) wt = pack_weight_transposed(g, weight, uk, &wt_stride);

  // Tiles are sized as if both column matrices were needed, so the tiling (and with it the summation
  // order of every gradient) does not depend on which gradients were requested.
  const int64_t per_column = static_cast<int64_t>(sizeof(T)) * (g.cy + 2 * g.cx * K);
  const int64_t nt = tile_columns(total, per_column);
  Buffer<T> ytile(static_cast<size_t>(g.cy * nt));
  Buffer<T> cols(need_cols ? static_cast<size_t>(g.cx * K * nt) : 0);
  Buffer<T> dcol(need_dcol ? static_cast<size_t>(g.cx * K * nt) : 0);

  for (int64_t n0 = 0; n0 < total; n0 += nt) {
    const int64_t nc = std::min(nt, total - n0);
    gather_y_tile(g, y_src, n0, nc, ytile.data());
    if (need_cols) {
      cpu::im2col(g, x_src, offset, mask, n0, nc, cols.data());
      for (int64_t gi = 0; gi < G; ++gi) {
        // grad_weight[gi] (cyg x rows) += Y_tile[gi] (cyg x nc) * cols[gi]^T (nc x rows)
        cpu::gemm(uk, cyg, rows, nc, ytile.data() + gi * cyg * nc, nc, int64_t{1}, static_cast<const T*>(nullptr),
                  cols.data() + gi * rows * nc, int64_t{1}, nc, grad_weight + gi * cyg * rows, rows, n0 > 0);
      }
    }
    if (need_dcol) {
      for (int64_t gi = 0; gi < G; ++gi) {
        // dcol[gi] (rows x nc) = W[gi]^T (rows x cyg) * Y_tile[gi] (cyg x nc)
        cpu::gemm(uk, rows, nc, cyg, static_cast<const T*>(nullptr), 0, 0, wt.data() + gi * wt_stride,
                  ytile.data() + gi * cyg * nc, nc, int64_t{1}, dcol.data() + gi * rows * nc, nc, false);
      }
      if (x_scatter) cpu::col2im(g, dcol.data(), offset, mask, n0, nc, x_scatter);
      if (grad_offset || grad_mask)
        cpu::coord_mask_grad(g, dcol.data(), x_src, offset, mask, n0, nc, grad_offset, grad_mask);
    }
  }
}

// grad_bias[c] = sum over images and positions of grad[b, c, :], summed in double: eight interleaved partial
// sums (lane k takes the elements i % 8 == k of every image's row, images in order; vectorisable), added in a
// fixed order at the end.
inline double bias_lane_sum(const double part[8]) {
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

template <typename T>
void bias_grad_channels(const T* grad, int64_t batch, int64_t channels, int64_t spatial, int64_t cb, int64_t ce,
                        T* out) {
  for (int64_t c = cb; c < ce; ++c) {
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t b = 0; b < batch; ++b) {
      const T* p = grad + (b * channels + c) * spatial;
      int64_t i = 0;
      for (; i + 8 <= spatial; i += 8)
        for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(p[i + k]);
      for (; i < spatial; ++i) part[i % 8] += static_cast<double>(p[i]);
    }
    out[c] = static_cast<T>(bias_lane_sum(part));
  }
}

#if defined(__x86_64__) || defined(_M_X64)
// The same sums with AVX-512: a channel's eight partial sums are the lanes of one vector (each lane takes the same
// additions in the same order; a row's tail is a masked add into its first lanes, as the scalar tail adds element
// i into lane i % 8), four channels at a time, so that their chains of additions overlap (one channel's chain
// alone waits on the adder's latency at every step: tcn-1d's 128 channels of 8192 values took ~0.15 ms at 2
// threads). The same values as bias_grad_channels.
template <typename T>
__attribute__((target("avx512f,avx512vl"), always_inline)) inline __m512d bias_load8(const T* p) {
  if constexpr (std::is_same_v<T, float>)
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
  else
    return _mm512_loadu_pd(p);
}

template <typename T>
__attribute__((target("avx512f,avx512vl"), always_inline)) inline __m512d bias_load8(const T* p, __mmask8 m) {
  if constexpr (std::is_same_v<T, float>)
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p));
  else
    return _mm512_maskz_loadu_pd(m, p);
}

template <typename T>
__attribute__((target("avx512f,avx512vl"))) void bias_grad_channels_avx512(const T* grad, int64_t batch,
                                                                           int64_t channels, int64_t spatial,
                                                                           int64_t cb, int64_t ce, T* out) {
  constexpr int kCh = 4;
  const int64_t tail = spatial % 8, body = spatial - tail;
  const __mmask8 tm = static_cast<__mmask8>((1u << tail) - 1u);
  int64_t c = cb;
  for (; c + kCh <= ce; c += kCh) {
    __m512d acc[kCh];
    for (int j = 0; j < kCh; ++j) acc[j] = _mm512_setzero_pd();
    for (int64_t b = 0; b < batch; ++b) {
      const T* p = grad + (b * channels + c) * spatial;
      for (int64_t i = 0; i < body; i += 8)
        for (int j = 0; j < kCh; ++j) acc[j] = _mm512_add_pd(acc[j], bias_load8(p + j * spatial + i));
      if (tail)
        for (int j = 0; j < kCh; ++j)
          acc[j] = _mm512_mask_add_pd(acc[j], tm, acc[j], bias_load8(p + j * spatial + body, tm));
    }
    for (int j = 0; j < kCh; ++j) {
      double part[8];
      _mm512_storeu_pd(part, acc[j]);
      out[c + j] = static_cast<T>(bias_lane_sum(part));
    }
  }
  bias_grad_channels(grad, batch, channels, spatial, c, ce, out);
}
#endif

template <typename T>
void bias_grad(const T* grad, int64_t batch, int64_t channels, int64_t spatial, T* out) {
#if defined(__x86_64__) || defined(_M_X64)
  const bool vec = std::strcmp(gemm_isa_name(), "avx512") == 0;
#endif
  parallel_for(0, channels, 1, [&](int64_t cb, int64_t ce) {
#if defined(__x86_64__) || defined(_M_X64)
    if (vec) return bias_grad_channels_avx512(grad, batch, channels, spatial, cb, ce, out);
#endif
    bias_grad_channels(grad, batch, channels, spatial, cb, ce, out);
  });
}

// `saved` where its size is that of op p's saved columns (cpu/column_pass.h: saved_columns_elems without a bound),
// else null.
template <int D, typename T>
T* saved_columns_of(const DeformConvParams<D>& p, const SamplingGeometry<D>& g, const TensorView& saved) {
  if (!saved.defined() || !p.transposed) return nullptr;
  const int64_t n = cpu::saved_columns_elems<D, T>(g, p.deformable, INT64_MAX);
  return n > 0 && saved.numel() == n ? saved.data_ptr<T>() : nullptr;
}

template <int D, typename T>
void forward_impl(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                  const TensorView& offset, const TensorView& mask, const TensorView& bias, const TensorView& output,
                  const TensorView& saved) {
  const SamplingGeometry<D> g = regular_view(p);
  const T* off = ptr_or_null<T>(offset);
  const T* msk = ptr_or_null<T>(mask);
  // The saved columns (NOTE [ Saved columns of the transposed forward ] in cpu/column_pass.cc): marked as holding
  // none first (the array may hold an older call's); filled by the column pass where their size fits this op.
  T* sv = saved_columns_of<D, T>(p, g, saved);
  if (saved.defined() && saved.numel() * static_cast<int64_t>(sizeof(T)) >= 64)
    cpu::invalidate_saved_columns(saved.data_ptr<T>());
  if (!p.transposed) {
    cpu::gather_gemm(g, input.data_ptr<T>(), weight.data_ptr<T>(), off, msk, ptr_or_null<T>(bias), output.data_ptr<T>(),
                     workspace_limit());
  } else {
    // The output is the x side: start from the bias, then scatter W^T * input into it.
    T* out = output.data_ptr<T>();
    fill_channels(out, g.batch, g.cx, g.x_spatial(), ptr_or_null<T>(bias));
    column_pass(g, static_cast<const T*>(nullptr), input.data_ptr<T>(), weight.data_ptr<T>(), off, msk, out,
                static_cast<T*>(nullptr), static_cast<T*>(nullptr), static_cast<T*>(nullptr),
                /*scatter_overwrite=*/false, static_cast<T*>(nullptr), sv);
  }
}

template <int D, typename T>
void backward_impl(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                   const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                   const DeformConvGrads& grads, const TensorView& saved) {
  const SamplingGeometry<D> g = regular_view(p);
  const T* off = ptr_or_null<T>(offset);
  const T* msk = ptr_or_null<T>(mask);
  const T* w = weight.data_ptr<T>();
  const T* go = grad_output.data_ptr<T>();
  if (grads.bias.defined()) {
    const int64_t spatial = p.transposed ? g.x_spatial() : g.y_spatial();
    bias_grad(go, g.batch, p.out_channels, spatial, grads.bias.data_ptr<T>());
  }
  T* gw = mut_or_null<T>(grads.weight);
  T* goff = mut_or_null<T>(grads.offset);
  T* gmask = mut_or_null<T>(grads.mask);
  if (!p.transposed) {
    // X = input, Y = grad_output; the input gradient is the col2im of dcol.
    T* gin = mut_or_null<T>(grads.input);
    column_pass(g, input.data_ptr<T>(), go, w, off, msk, gin, gw, goff, gmask, /*scatter_overwrite=*/true);
  } else {
    // X = grad_output, Y = input; the input gradient is the regular forward of grad_output, taken by the
    // column pass from the columns it samples anyway (NOTE [ Forward from the backward's columns ] in
    // column_pass.cc).
    column_pass(g, go, input.data_ptr<T>(), w, off, msk, static_cast<T*>(nullptr), gw, goff, gmask,
                /*scatter_overwrite=*/false, mut_or_null<T>(grads.input), static_cast<T*>(nullptr),
                static_cast<const T*>(saved_columns_of<D, T>(p, g, saved)));
  }
}

}  // namespace

template <int D>
void deform_conv_forward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                const TensorView& offset, const TensorView& mask, const TensorView& bias,
                                const TensorView& output, const TensorView& saved) {
  DCN_DISPATCH_FLOATING_TYPES(input.dtype, "deformConvForward",
                              [&] { forward_impl<D, scalar_t>(p, input, weight, offset, mask, bias, output, saved); });
}

template <int D>
void deform_conv_backward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                 const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                                 const DeformConvGrads& grads, const TensorView& saved) {
  DCN_DISPATCH_FLOATING_TYPES(input.dtype, "deformConvBackward", [&] {
    backward_impl<D, scalar_t>(p, input, weight, offset, mask, grad_output, grads, saved);
  });
}

template <int D>
int64_t deform_conv_saved_columns(const DeformConvParams<D>& p, DType dtype, int64_t limit_bytes) {
  if (!p.transposed) return 0;
  const SamplingGeometry<D> g = regular_view(p);
  int64_t n = 0;
  DCN_DISPATCH_FLOATING_TYPES(dtype, "deformConvSavedColumns",
                              [&] { n = cpu::saved_columns_elems<D, scalar_t>(g, p.deformable, limit_bytes); });
  return n;
}

#define DCN_INSTANTIATE_DRIVER(D)                                                                                \
  template void deform_conv_forward_driver<D>(const DeformConvParams<D>&, const TensorView&, const TensorView&,  \
                                              const TensorView&, const TensorView&, const TensorView&,           \
                                              const TensorView&, const TensorView&);                             \
  template void deform_conv_backward_driver<D>(const DeformConvParams<D>&, const TensorView&, const TensorView&, \
                                               const TensorView&, const TensorView&, const TensorView&,          \
                                               const DeformConvGrads&, const TensorView&);                       \
  template int64_t deform_conv_saved_columns<D>(const DeformConvParams<D>&, DType, int64_t);
DCN_INSTANTIATE_DRIVER(1)
DCN_INSTANTIATE_DRIVER(2)
DCN_INSTANTIATE_DRIVER(3)

}  // namespace cpu
}  // namespace dcn
