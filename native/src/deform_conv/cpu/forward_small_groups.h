// SPDX-License-Identifier: MIT
// The forward's sampler for few channels per offset group (edvr-style: 64 channels, 8 offset groups), used
// by forward_channels_last (column_pass.cc) in place of the general corner table and pass A. See NOTE
// [ Small-group forward sampler ] in forward_small_groups.cc.
#pragma once
#include <cstdint>

#include "deform_conv/params.h"

namespace dcn::cpu {

// Whether sample_small_groups serves this geometry with the selected instruction set: the channels split
// into runs of one width W (a divisor of the channels per offset group, per mask group and per weight
// group, equal to the smallest of them) with W * sizeof(T) of 16, 32 or 64 bytes, the AVX-512 or AVX2 kernels
// selected, and every element offset of the channels-last input within int32.
template <int D, typename T>
bool small_groups_applies(const SamplingGeometry<D>& g);

// colsT of the tile's columns n0 + i, i < nc: cols[i * ldr + gi * rows + kpt * cxg + (c - gi * cxg)] =
// m * sum_j w_j * xt[b][idx_j][c] (ldr = cx * K, rows = cxg * K), the same values, summed in the same
// order, as the general pass A (column_pass_simd.inc) writes. xt is the channels-last input with its zero
// row ([B][sx + 1][cx]).
template <int D, typename T>
void sample_small_groups(const SamplingGeometry<D>& g, const T* xt, const T* offset, const T* mask, int64_t n0,
                         int64_t nc, T* cols);

}  // namespace dcn::cpu
