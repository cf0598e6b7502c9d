// SPDX-License-Identifier: MIT
// The device kernels the driver (deform_conv.cc) calls, in the regular view of params.h (see NOTE
// [ Regular view ]). Columns are the GEMM columns n = b * prod(y_size) + q over the y grid; a tile is a
// range [n0, n0 + nc) of them, possibly spanning images. Each kernel is parallel inside and writes every
// output element from exactly one task, so results never depend on the number of threads.
// CPU definitions: cpu/deform_conv_kernel.cc (instantiated for D = 1, 2, 3 and float, double).
#pragma once
#include <cstdint>

#include "deform_conv/params.h"

namespace dcn::cpu {

// Y = W * im2col(X) (+ bias): the regular forward, and the transposed op's input gradient. Fuses the
// sampling into the packed GEMM panels, tile by tile, using at most about `workspace_bytes` of scratch.
template <int D, typename T>
void gather_gemm(const SamplingGeometry<D>& g, const T* x, const T* weight, const T* offset, const T* mask,
                 const T* bias, T* y, int64_t workspace_bytes);

// cols[(c * K + kpt) * nc + i] = mask * Interp(X[b, c], p) for column n0 + i, all cx channels.
template <int D, typename T>
void im2col(const SamplingGeometry<D>& g, const T* x, const T* offset, const T* mask, int64_t n0, int64_t nc, T* cols);

// X[b, c] += scatter of dcol (same layout as im2col's cols) onto the corners (tvdcn-reference §4.2).
// Tasks own (image, channel) planes of X: race-free and deterministic.
template <int D, typename T>
void col2im(const SamplingGeometry<D>& g, const T* dcol, const T* offset, const T* mask, int64_t n0, int64_t nc, T* x);

// The offset and mask gradients of the tile's columns (tvdcn-reference §4.3, §4.4), from dcol and the
// sampled tensor X. Overwrites their elements of grad_offset / grad_mask (either may be null).
template <int D, typename T>
void coord_mask_grad(const SamplingGeometry<D>& g, const T* dcol, const T* x, const T* offset, const T* mask,
                     int64_t n0, int64_t nc, T* grad_offset, T* grad_mask);

}  // namespace dcn::cpu
