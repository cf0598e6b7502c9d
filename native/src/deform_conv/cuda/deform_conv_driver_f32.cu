// SPDX-License-Identifier: MIT
// Explicit instantiation of the CUDA deformable-convolution driver for float, D = 1, 2, 3 (one file per
// dtype so nvcc builds them in parallel).
#include "deform_conv/cuda/deform_conv_driver.cuh"

namespace dcn::cuda {
#define DCN_INSTANTIATE(D)                                                                                            \
  template void deform_conv_forward_impl<D, float>(int, const DeformConvParams<D>&, const float*, const float*,       \
                                                   const float*, const float*, const float*, float*);                 \
  template void deform_conv_backward_impl<D, float>(int, const DeformConvParams<D>&, const float*, const float*,      \
                                                    const float*, const float*, const float*, float*, float*, float*, \
                                                    float*, float*);
DCN_INSTANTIATE(1)
DCN_INSTANTIATE(2)
DCN_INSTANTIATE(3)
#undef DCN_INSTANTIATE
}  // namespace dcn::cuda
