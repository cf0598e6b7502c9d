// SPDX-License-Identifier: MIT
// The CUDA driver of the deformable convolution (cuda::deform_conv_*_driver of deform_conv.h, the twin of
// cpu/deform_conv_driver.cc): dispatches on the dtype to DeformConvDriver<D, T> (deform_conv_driver.cuh,
// instantiated once per dtype in deform_conv_driver_{f32,f64,f16,bf16}.cu so nvcc builds them in parallel).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/deform_conv.h"

namespace dcn::cuda {

// Defined in deform_conv_driver.cuh; explicitly instantiated in deform_conv_driver_<dtype>.cu.
template <int D, typename T>
void deform_conv_forward_impl(int device, const DeformConvParams<D>& p, const T* input, const T* weight,
                              const T* offset, const T* mask, const T* bias, T* output);
template <int D, typename T>
void deform_conv_backward_impl(int device, const DeformConvParams<D>& p, const T* input, const T* weight,
                               const T* offset, const T* mask, const T* grad_output, T* grad_input, T* grad_weight,
                               T* grad_offset, T* grad_mask, T* grad_bias);

namespace {
template <typename T>
T* ptr_or_null(const TensorView& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
}  // namespace

template <int D>
void deform_conv_forward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                const TensorView& offset, const TensorView& mask, const TensorView& bias,
                                const TensorView& output) {
  DCN_CUDA_DISPATCH_ALL_TYPES(input.dtype, "deformConvForward", [&] {
    using T = scalar_t;
    deform_conv_forward_impl<D, T>(input.device.index, p, input.data_ptr<const T>(), weight.data_ptr<const T>(),
                                   ptr_or_null<const T>(offset), ptr_or_null<const T>(mask), ptr_or_null<const T>(bias),
                                   output.data_ptr<T>());
  });
}

template <int D>
void deform_conv_backward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                 const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                                 const DeformConvGrads& grads) {
  DCN_CUDA_DISPATCH_ALL_TYPES(input.dtype, "deformConvBackward", [&] {
    using T = scalar_t;
    deform_conv_backward_impl<D, T>(input.device.index, p, input.data_ptr<const T>(), weight.data_ptr<const T>(),
                                    ptr_or_null<const T>(offset), ptr_or_null<const T>(mask),
                                    grad_output.data_ptr<const T>(), ptr_or_null<T>(grads.input),
                                    ptr_or_null<T>(grads.weight), ptr_or_null<T>(grads.offset),
                                    ptr_or_null<T>(grads.mask), ptr_or_null<T>(grads.bias));
  });
}

#define DCN_INSTANTIATE(D)                                                                                       \
  template void deform_conv_forward_driver<D>(const DeformConvParams<D>&, const TensorView&, const TensorView&,  \
                                              const TensorView&, const TensorView&, const TensorView&,           \
                                              const TensorView&);                                                \
  template void deform_conv_backward_driver<D>(const DeformConvParams<D>&, const TensorView&, const TensorView&, \
                                               const TensorView&, const TensorView&, const TensorView&,          \
                                               const DeformConvGrads&);
DCN_INSTANTIATE(1)
DCN_INSTANTIATE(2)
DCN_INSTANTIATE(3)
#undef DCN_INSTANTIATE

}  // namespace dcn::cuda
