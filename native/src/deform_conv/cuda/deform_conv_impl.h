// SPDX-License-Identifier: MIT
// Declarations of the per-dtype CUDA drivers (defined in deform_conv_cuda.cuh, instantiated in
// deform_conv_cuda_{f32,f64,f16,bf16}.cu), for the dtype dispatch in deform_conv_cuda.cu.
#pragma once
#include "deform_conv/params.h"

namespace dcn::cuda {

template <int D, typename T>
void deform_conv_forward_impl(int device, const DeformConvParams<D>& p, const T* input,
                              const T* weight, const T* offset, const T* mask, const T* bias,
                              T* output);

template <int D, typename T>
void deform_conv_backward_impl(int device, const DeformConvParams<D>& p, const T* input,
                               const T* weight, const T* offset, const T* mask,
                               const T* grad_output, T* grad_input, T* grad_weight, T* grad_offset,
                               T* grad_mask, T* grad_bias);

}  // namespace dcn::cuda
