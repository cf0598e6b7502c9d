// SPDX-License-Identifier: MIT
// The dtype dispatch of the CUDA deformable convolution (deform_conv_cuda.h).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/deform_conv_impl.h"
#include "deform_conv/deform_conv_cuda.h"

namespace dcn::cuda {

template <int D>
void deform_conv_forward(int device, DType dtype, const DeformConvParams<D>& p, const void* input,
                         const void* weight, const void* offset, const void* mask, const void* bias,
                         void* output) {
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "deformConvForward", [&] {
    using T = scalar_t;
    deform_conv_forward_impl<D, T>(device, p, static_cast<const T*>(input),
                                   static_cast<const T*>(weight), static_cast<const T*>(offset),
                                   static_cast<const T*>(mask), static_cast<const T*>(bias),
                                   static_cast<T*>(output));
  });
}

template <int D>
void deform_conv_backward(int device, DType dtype, const DeformConvParams<D>& p, const void* input,
                          const void* weight, const void* offset, const void* mask,
                          const void* grad_output, void* grad_input, void* grad_weight,
                          void* grad_offset, void* grad_mask, void* grad_bias) {
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "deformConvBackward", [&] {
    using T = scalar_t;
    deform_conv_backward_impl<D, T>(
        device, p, static_cast<const T*>(input), static_cast<const T*>(weight),
        static_cast<const T*>(offset), static_cast<const T*>(mask),
        static_cast<const T*>(grad_output), static_cast<T*>(grad_input),
        static_cast<T*>(grad_weight), static_cast<T*>(grad_offset), static_cast<T*>(grad_mask),
        static_cast<T*>(grad_bias));
  });
}

#define DCN_INSTANTIATE(D)                                                                         \
  template void deform_conv_forward<D>(int, DType, const DeformConvParams<D>&, const void*,        \
                                       const void*, const void*, const void*, const void*, void*); \
  template void deform_conv_backward<D>(int, DType, const DeformConvParams<D>&, const void*,       \
                                        const void*, const void*, const void*, const void*, void*, \
                                        void*, void*, void*, void*);
DCN_INSTANTIATE(1)
DCN_INSTANTIATE(2)
DCN_INSTANTIATE(3)
#undef DCN_INSTANTIATE

}  // namespace dcn::cuda
