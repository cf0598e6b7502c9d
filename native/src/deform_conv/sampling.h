// SPDX-License-Identifier: MIT
// The one interpolation core of the project: where a sample of a deformable convolution lands and how
// it splits onto the 2^D integer corners around it, for any D, on host and device. Every kernel (im2col,
// col2im, the offset and mask gradients, CPU and CUDA) builds its corners here. No host-only code.
#pragma once
#include <cmath>

#include "core/macros.h"
#include "core/small_array.h"

namespace dcn {

// NOTE [ Linear interpolation ] (tvdcn-reference §4.1, §4.3)
// Per axis a with size S and continuous position p: l = floor(p), h = l + 1, t = p - l; the lower
// corner gets weight (1 - t), the upper t; a corner's weight is the product over the axes. A corner
// whose index is outside [0, S-1] on some axis reads as 0 (zero padding; weights are not renormalized).
// Boundary conventions:
// - value (forward, col2im, mask gradient): early-out, the sample is exactly 0 when p <= -1 or p >= S on
//   ANY axis. Exactly on a grid line (t = 0) the lower corner gets weight 1 and the upper weight 0.
// - coordinate gradient d value / d p_a: NO early-out. The axis-a factor is replaced by -1 (lower corner)
//   and +1 (upper corner), so at an integer p it is the forward difference v[p+1] - v[p]; at p == -1 it
//   is v[0] (the value itself is 0 there); for p in [S-1, S) it is 0 - v[S-1].
// A NaN position makes the sample NaN (value and gradients) and touches no corner.
//
// NOTE [ Corner numbering ]
// Corner i takes the upper index on axis a iff bit a of i is set; axis 0 is the outermost spatial axis
// (d for 3D, h for 2D), as in the offset channel layout (see NOTE [ Offset channel layout ]).
//
// NOTE [ Offset channel layout ] (tvdcn-reference §3.2)
// Offset channels are ordered (offset group, kernel point, axis), axis fastest:
//   channel(g, kpt, a) = (g * K + kpt) * D + a,   kpt = row-major index over the kernel dims,
// axes in spatial order (2D: 0 = y, 1 = x; 3D: 0 = z, 1 = y, 2 = x). Mask channels are g * K + kpt.

DCN_HOST_DEVICE DCN_INLINE float dcn_floor(float x) { return floorf(x); }
DCN_HOST_DEVICE DCN_INLINE double dcn_floor(double x) { return floor(x); }

// The corners of one sample. kCount = 2^D for deformable sampling, 1 for integer-grid sampling.
// Invalid corners have index 0 (always a legal address) and their valid bit clear: readers must treat
// their value as 0 and writers must skip them.
template <int kCount, typename scalar_t, typename index_t>
struct Corners {
  index_t index[kCount];    // flat spatial index of the corner in its plane (row-major), 0 if invalid
  scalar_t weight[kCount];  // value weight (product of per-axis linear weights, times any modulation)
  unsigned valid;           // bit i set: corner i lies inside the plane
};

// Corners plus the coordinate weights of the gradient twin.
template <int D, typename scalar_t, typename index_t>
struct CornerGrads {
  static constexpr int kCount = 1 << D;
  index_t index[kCount];
  scalar_t weight[kCount];      // value weight, with the early-out (0 when the sample is out)
  scalar_t dweight[D][kCount];  // d weight / d p_a, without early-out
  unsigned valid;
};

// Sampling position of kernel point k at y-grid position y (tvdcn-reference §3.3):
//   p_a = y_a * stride_a - padding_a + k_a * dilation_a (+ offset_a)
template <int D, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE void grid_position(const index_t* y, const index_t* k, const SmallArray<int64_t, D>& stride,
                                              const SmallArray<int64_t, D>& padding,
                                              const SmallArray<int64_t, D>& dilation, index_t* pos) {
  for (int a = 0; a < D; ++a) {
    pos[a] = y[a] * static_cast<index_t>(stride[a]) - static_cast<index_t>(padding[a]) +
             k[a] * static_cast<index_t>(dilation[a]);
  }
}

// Integer-grid sampling (offset == null): one corner, weight `scale`, valid iff inside the plane.
template <int D, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE void grid_corner(const index_t* pos, const SmallArray<int64_t, D>& size, scalar_t scale,
                                            Corners<1, scalar_t, index_t>& out) {
  bool ok = true;
  index_t idx = 0;
  for (int a = 0; a < D; ++a) {
    const index_t s = static_cast<index_t>(size[a]);
    ok = ok && pos[a] >= 0 && pos[a] < s;
    idx = idx * s + pos[a];
  }
  out.index[0] = ok ? idx : index_t(0);
  out.weight[0] = scale;
  out.valid = ok ? 1u : 0u;
}

// Value corners of a continuous position, with the forward early-out; every weight is multiplied by
// `scale` (the modulation mask, or 1). See NOTE [ Linear interpolation ].
template <int D, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE void linear_corners(const scalar_t* pos, const SmallArray<int64_t, D>& size, scalar_t scale,
                                               Corners<(1 << D), scalar_t, index_t>& out) {
  constexpr int kCount = 1 << D;
  index_t lo[D];
  scalar_t t[D];
  bool nan = false, outside = false;
  scalar_t nan_value = 0;
  for (int a = 0; a < D; ++a) {
    lo[a] = 0;
    t[a] = 0;
    const scalar_t p = pos[a];
    const scalar_t s = static_cast<scalar_t>(size[a]);
    if (!(p == p)) {
      nan = true;
      nan_value = p;
    } else if (p <= scalar_t(-1) || p >= s) {
      outside = true;
    } else {
      const scalar_t f = dcn_floor(p);  // in [-1, S-1]: safe to convert to index_t
      lo[a] = static_cast<index_t>(f);
      t[a] = p - f;
    }
  }
  if (nan || outside) {
    const scalar_t w = nan ? nan_value : scalar_t(0);
    for (int i = 0; i < kCount; ++i) {
      out.index[i] = 0;
      out.weight[i] = w;
    }
    out.valid = 0;
    return;
  }
  unsigned valid = 0;
  for (int i = 0; i < kCount; ++i) {
    index_t idx = 0;
    scalar_t w = scale;
    bool ok = true;
    for (int a = 0; a < D; ++a) {
      const int up = (i >> a) & 1;
      const index_t j = lo[a] + up;
      const index_t s = static_cast<index_t>(size[a]);
      ok = ok && j >= 0 && j < s;
      idx = idx * s + j;
      w *= up ? t[a] : scalar_t(1) - t[a];
    }
    out.index[i] = ok ? idx : index_t(0);
    out.weight[i] = w;
    valid |= ok ? (1u << i) : 0u;
  }
  out.valid = valid;
}

// Value corners (with early-out, unscaled) and the coordinate weights (without early-out) of a
// continuous position. See NOTE [ Linear interpolation ].
template <int D, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE void linear_corner_grads(const scalar_t* pos, const SmallArray<int64_t, D>& size,
                                                    CornerGrads<D, scalar_t, index_t>& out) {
  constexpr int kCount = 1 << D;
  index_t lo[D];
  scalar_t t[D];
  bool nan = false, outside = false, dead = false;
  scalar_t nan_value = 0;
  for (int a = 0; a < D; ++a) {
    const scalar_t p = pos[a];
    const scalar_t s = static_cast<scalar_t>(size[a]);
    lo[a] = 0;
    t[a] = 0;
    if (!(p == p)) {
      nan = true;
      nan_value = p;
      continue;
    }
    if (p <= scalar_t(-1) || p >= s) outside = true;
    // Without early-out both corners of this axis are outside when p <= -2 or p >= S.
    if (p > scalar_t(-2) && p < s) {
      const scalar_t f = dcn_floor(p);  // in [-2, S-1]: safe to convert
      lo[a] = static_cast<index_t>(f);
      t[a] = p - f;
    } else {
      dead = true;
    }
  }
  if (nan || dead) {
    const scalar_t w = nan ? nan_value : scalar_t(0);
    for (int i = 0; i < kCount; ++i) {
      out.index[i] = 0;
      out.weight[i] = w;
      for (int a = 0; a < D; ++a) out.dweight[a][i] = w;
    }
    out.valid = 0;
    return;
  }
  unsigned valid = 0;
  for (int i = 0; i < kCount; ++i) {
    index_t idx = 0;
    bool ok = true;
    for (int a = 0; a < D; ++a) {
      const int up = (i >> a) & 1;
      const index_t j = lo[a] + up;
      const index_t s = static_cast<index_t>(size[a]);
      ok = ok && j >= 0 && j < s;
      idx = idx * s + j;
    }
    // weight = prod_a f_a, dweight[a] = (+-1) * prod_{b != a} f_b with f_b = t_b or 1 - t_b.
    scalar_t w = 1;
    for (int a = 0; a < D; ++a) {
      const int up = (i >> a) & 1;
      scalar_t dw = up ? scalar_t(1) : scalar_t(-1);
      for (int b = 0; b < D; ++b) {
        if (b == a) continue;
        dw *= ((i >> b) & 1) ? t[b] : scalar_t(1) - t[b];
      }
      out.dweight[a][i] = dw;
      w *= up ? t[a] : scalar_t(1) - t[a];
    }
    out.index[i] = ok ? idx : index_t(0);
    out.weight[i] = outside ? scalar_t(0) : w;
    valid |= ok ? (1u << i) : 0u;
  }
  out.valid = valid;
}

}  // namespace dcn
