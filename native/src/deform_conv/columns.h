// SPDX-License-Identifier: MIT
// Element bodies of the column kernels, shared by the CPU loops (cpu/deform_conv_kernel.cc) and the
// CUDA kernels: read one sample (im2col), scatter one column value (col2im), and read one sample with
// its coordinate gradient. Each takes corners built by sampling.h. No host-only code.
#pragma once
#include "core/macros.h"
#include "deform_conv/sampling.h"

namespace dcn {

// Column value of one sample: sum_i weight_i * X[corner_i] (invalid corners read as 0). The weights
// already carry the modulation mask (tvdcn-reference §3.4).
template <int kCount, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE scalar_t im2col_element(const scalar_t* DCN_RESTRICT plane,
                                                   const Corners<kCount, scalar_t, index_t>& c) {
  scalar_t v = 0;
  DCN_PRAGMA_UNROLL
  for (int i = 0; i < kCount; ++i) {
    const scalar_t x = plane[c.index[i]];  // index 0 when invalid: always a legal address
    v += c.weight[i] * (((c.valid >> i) & 1u) ? x : scalar_t(0));
  }
  return v;
}

// Scatters a column value onto the valid corners: X[corner_i] += weight_i * v (tvdcn-reference §4.2).
// `add(ptr, value)` is a plain += on the CPU and an atomic add on CUDA.
template <int kCount, typename scalar_t, typename index_t, typename AddOp>
DCN_HOST_DEVICE DCN_INLINE void col2im_element(scalar_t* DCN_RESTRICT plane,
                                               const Corners<kCount, scalar_t, index_t>& c, scalar_t v, AddOp add) {
  DCN_PRAGMA_UNROLL
  for (int i = 0; i < kCount; ++i) {
    if ((c.valid >> i) & 1u) add(plane + c.index[i], c.weight[i] * v);
  }
}

// Value of one sample (early-out, unmodulated) and its derivatives d value / d p_a (no early-out),
// tvdcn-reference §4.3 and §4.4. Returns the value, writes the D derivatives to `dvalue`.
template <int D, typename scalar_t, typename index_t>
DCN_HOST_DEVICE DCN_INLINE scalar_t coord_grad_element(const scalar_t* DCN_RESTRICT plane,
                                                       const CornerGrads<D, scalar_t, index_t>& c, scalar_t* dvalue) {
  constexpr int kCount = 1 << D;
  scalar_t v = 0;
  DCN_PRAGMA_UNROLL
  for (int a = 0; a < D; ++a) dvalue[a] = 0;
  DCN_PRAGMA_UNROLL
  for (int i = 0; i < kCount; ++i) {
    const scalar_t raw = plane[c.index[i]];
    const scalar_t x = ((c.valid >> i) & 1u) ? raw : scalar_t(0);
    v += c.weight[i] * x;
    DCN_PRAGMA_UNROLL
    for (int a = 0; a < D; ++a) dvalue[a] += c.dweight[a][i] * x;
  }
  return v;
}

}  // namespace dcn
