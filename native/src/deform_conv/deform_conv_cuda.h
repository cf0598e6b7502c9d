// SPDX-License-Identifier: MIT
// Host API of the CUDA deformable convolution (regular and transposed, D = 1, 2, 3, all four dtypes).
// Plain C++ so the N-API binding can call it. Pointers are device pointers of `device`, contiguous
// row-major, batched (tvdcn-reference §3.1, §3.5); optional inputs and unneeded gradients are nullptr.
// Work is enqueued on the device's stream; temporary workspace is bounded (cuda_runtime/settings.h).
#pragma once
#include "core/dtype.h"
#include "deform_conv/params.h"

namespace dcn::cuda {

// output = deform_convNd / deform_conv_transposeNd(input, weight, offset, mask) + bias.
template <int D>
void deform_conv_forward(int device, DType dtype, const DeformConvParams<D>& p, const void* input,
                         const void* weight, const void* offset, const void* mask, const void* bias,
                         void* output);

// Writes every element of each non-null gradient (tvdcn-reference §4, §5).
template <int D>
void deform_conv_backward(int device, DType dtype, const DeformConvParams<D>& p, const void* input,
                          const void* weight, const void* offset, const void* mask,
                          const void* grad_output, void* grad_input, void* grad_weight,
                          void* grad_offset, void* grad_mask, void* grad_bias);

}  // namespace dcn::cuda
