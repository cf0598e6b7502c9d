// SPDX-License-Identifier: MIT
// Host API of the mask softmax (tvdcn-reference §6): a numerically stable softmax over the K kernel
// points of each mask group, mask viewed as [B, MG, K, S] with S the flattened spatial size.
#pragma once
#include <cstdint>

#include "core/tensor_view.h"

namespace dcn {

// output = softmax over K of mask; both [B, MG * K, *spatial] (same dtype, validated by the caller).
void mask_softmax_forward(const TensorView& mask, int64_t mask_groups, int64_t kernel_points,
                          const TensorView& output);

// grad_mask = s * (g - sum_K(g * s)), s = the forward output, g = its gradient.
void mask_softmax_backward(const TensorView& output, const TensorView& grad_output, int64_t mask_groups,
                           int64_t kernel_points, const TensorView& grad_mask);

}  // namespace dcn
