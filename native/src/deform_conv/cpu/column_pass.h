// SPDX-License-Identifier: MIT
// The CPU column pass in channels-last form: everything the driver derives from dcol = W^T * Y and from
// the sampled columns of X (tvdcn-reference §4, §5), with the sampled tensors transposed so that the
// channels of one sample are contiguous:
//   x_scatter += col2im(dcol)                  (regular input gradient; transposed forward)
//   grad_weight = sum_tiles Y * im2col(X)^T     (both ops' weight gradient)
//   grad_offset, grad_mask from dcol and X      (both ops)
// See NOTE [ Channels-last column pass ] in column_pass.cc.
#pragma once
#include <cstdint>

#include "deform_conv/params.h"

namespace dcn::cpu {

// Same contract as the driver's column pass: x_scatter is initialised by the caller (x_scatter +=
// col2im), or overwritten when `scatter_overwrite` (x_scatter = col2im); every other non-null output is
// overwritten; x_src may be null when only x_scatter is wanted. With `y_forward` non-null the pass also
// writes the regular forward of X without bias, y_forward = W * im2col(X) ([B, cy, prod(y_size)],
// overwritten; the transposed op's input gradient), from the sampled columns its tiles take for the
// weight gradient: the same values, summed in the same order, as forward_channels_last below. Returns
// false, doing nothing, when the path does not apply (a plane of X with 2^31 - 1 or more positions, or
// grid positions beyond +-2^30) or the test hook force_planar() of deform_conv.h is on; the caller then
// runs the planar kernels of kernels.h (and gather_gemm for y_forward).
//
// Saved columns (NOTE [ Saved columns of the transposed forward ] in column_pass.cc): with `save_dcol` (the
// transposed forward, saved_columns_elems() elements) the pass also keeps every column's dcolT there; with
// `saved_dcol` (the transposed backward, the buffer such a forward filled) it reads dcolT from there instead of
// running its dcol GEMM, where the buffer's header matches this call (else it recomputes: same values).
template <int D, typename T>
bool column_pass_channels_last(const SamplingGeometry<D>& g, const T* x_src, const T* y_src, const T* weight,
                               const T* offset, const T* mask, T* x_scatter, T* grad_weight, T* grad_offset,
                               T* grad_mask, int64_t workspace_bytes, bool scatter_overwrite = false,
                               T* y_forward = nullptr, T* save_dcol = nullptr, const T* saved_dcol = nullptr);

// Elements of the buffer in which the transposed forward of geometry g keeps its columns for the backward (a
// header and one row of dcolT per column), or 0 where it keeps none: the columns above `limit_bytes`, or the
// channels-last pass not applying. has_offset: whether the op has offsets.
template <int D, typename T>
int64_t saved_columns_elems(const SamplingGeometry<D>& g, bool has_offset, int64_t limit_bytes);

// Marks such a buffer as not holding columns (the forward's first step: its memory may hold an older call's).
template <typename T>
void invalidate_saved_columns(T* saved);

// The regular forward Y = W * im2col(X) (+ bias) from channels-last samples (NOTE [ Channels-last
// forward ] in column_pass.cc); same contract as gather_gemm of kernels.h. Returns false, doing nothing,
// when it does not apply (see column_pass_channels_last).
template <int D, typename T>
bool forward_channels_last(const SamplingGeometry<D>& g, const T* x, const T* weight, const T* offset, const T* mask,
                           const T* bias, T* y, int64_t workspace_bytes);

}  // namespace dcn::cpu
