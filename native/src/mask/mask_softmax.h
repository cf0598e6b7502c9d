// SPDX-License-Identifier: MIT
// Host API of the mask softmax (tvdcn-reference §6): a numerically stable softmax over the K kernel
// points of each mask group, mask viewed as [B, MG, K, S] with S the flattened spatial size. The binding
// (napi/mask_binding.cc) checks the arguments once and calls the kernels of the tensors' device.
#pragma once
#include <cstdint>

#include "core/tensor_view.h"

namespace dcn {

// The CPU kernels (cpu/mask_softmax_kernel.cc) and the CUDA kernels (cuda/mask_softmax_kernel.cu, CUDA build
// only) have the same signature. mask, output: [B, MG * K, *spatial], one dtype, one device (checked by the
// binding). output = softmax over K of mask; grad_mask = s * (g - sum_K(g * s)), s = the forward output,
// g = its gradient.
namespace cpu {
void mask_softmax_forward(const TensorView& mask, int64_t mask_groups, int64_t kernel_points, const TensorView& output);
void mask_softmax_backward(const TensorView& output, const TensorView& grad_output, int64_t mask_groups,
                           int64_t kernel_points, const TensorView& grad_mask);
}  // namespace cpu

namespace cuda {
void mask_softmax_forward(const TensorView& mask, int64_t mask_groups, int64_t kernel_points, const TensorView& output);
void mask_softmax_backward(const TensorView& output, const TensorView& grad_output, int64_t mask_groups,
                           int64_t kernel_points, const TensorView& grad_mask);
}  // namespace cuda

}  // namespace dcn
