// SPDX-License-Identifier: MIT
// Explicit instantiation of the CUDA deformable-convolution driver for __half, D = 1, 2, 3 (one file per
// dtype so nvcc builds them in parallel).
#include "deform_conv/cuda/deform_conv_driver.cuh"

namespace dcn::cuda {
#define DCN_INSTANTIATE(D)                                                                                          \
  template void deform_conv_forward_impl<D, __half>(int, const DeformConvParams<D>&, const __half*, const __half*,  \
                                                    const __half*, const __half*, const __half*, __half*);          \
  template void deform_conv_backward_impl<D, __half>(int, const DeformConvParams<D>&, const __half*, const __half*, \
                                                     const __half*, const __half*, const __half*, __half*, __half*, \
                                                     __half*, __half*, __half*);
DCN_INSTANTIATE(1)
DCN_INSTANTIATE(2)
DCN_INSTANTIATE(3)
#undef DCN_INSTANTIATE
}  // namespace dcn::cuda
