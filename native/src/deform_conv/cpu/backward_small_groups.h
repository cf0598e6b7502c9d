// SPDX-License-Identifier: MIT
// The backward's sampler for few channels per offset group (edvr-style: 64 channels, 8 offset groups), used
// by column_pass_channels_last (column_pass.cc) in place of the general corner table, pass A and pass B.
// See NOTE [ Small-group backward sampler ] in backward_small_groups.cc.
#pragma once
#include <cstdint>

#include "deform_conv/params.h"

namespace dcn::cpu {

// Whether backward_small_groups serves this geometry: float, offsets present, and the conditions of
// small_groups_applies (forward_small_groups.h): runs of W channels with W * 4 of 16, 32 or 64 bytes, the
// AVX-512 or AVX2 kernels selected, element offsets of the channels-last input within int32.
template <int D, typename T>
bool small_groups_backward_applies(const SamplingGeometry<D>& g, bool has_offset);

// One backward tile, columns n0 + i, i < nc, of the channels-last column pass (NOTE [ Channels-last column
// pass ] in column_pass.cc), from dcolT (dcol[i * ldr + gi * rows + kpt * cxg + (c - gi * cxg)]):
//  - cols (non-null): colsT of the weight gradient, the same layout, the values of the general pass A;
//  - grad_offset / grad_mask (each may be null): every element of the tile's columns, written once;
//  - xgt (non-null): the scatter XGt[b][idx_j][c] += m w_j dcol[...] into a channels-last accumulator of
//    X's shape plus the zero row ([B][sx + 1][cx]); before the first write into a chunk of `chunk`
//    positions of image b it is zeroed and marked in marks[b * cpi + k].
// xt is the channels-last input ([B][sx + 1][cx]); it may be null when neither cols nor the coordinate
// gradients are wanted.
template <int D, typename T>
void backward_small_groups(const SamplingGeometry<D>& g, const T* xt, const T* dcol, const T* offset, const T* mask,
                           int64_t n0, int64_t nc, T* cols, T* grad_offset, T* grad_mask, T* xgt, uint8_t* marks,
                           int64_t cpi, int64_t chunk);

}  // namespace dcn::cpu
