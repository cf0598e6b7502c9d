// SPDX-License-Identifier: MIT
// Host API of the mask softmax (tvdcn-reference §6): a numerically stable softmax over the K kernel
// points of each mask group, mask viewed as [B, MG, K, S] with S the flattened spatial size. The CPU
// kernels (cpu/mask_softmax_kernel.cc) and the CUDA kernels (cuda/mask_softmax_kernel.cu, CUDA build only);
// the binding (napi/mask_binding.cc) checks the arguments once and calls the one of the tensors' device.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "core/tensor_view.h"

namespace dcn {

// output = softmax over K of mask; both [B, MG * K, *spatial] (same dtype, validated by the caller).
void mask_softmax_forward(const TensorView& mask, int64_t mask_groups, int64_t kernel_points,
                          const TensorView& output);

// grad_mask = s * (g - sum_K(g * s)), s = the forward output, g = its gradient.
void mask_softmax_backward(const TensorView& output, const TensorView& grad_output, int64_t mask_groups,
                           int64_t kernel_points, const TensorView& grad_mask);

namespace cuda {

// The same on device pointers of `device`, enqueued on its stream: mask [batch, groups * K, spatial].
void mask_softmax_forward(int device, DType dtype, const void* mask, void* out, int64_t batch,
                          int64_t groups, int64_t kernel_points, int64_t spatial);
void mask_softmax_backward(int device, DType dtype, const void* output, const void* grad_output,
                           void* grad_mask, int64_t batch, int64_t groups, int64_t kernel_points,
                           int64_t spatial);

}  // namespace cuda
}  // namespace dcn
