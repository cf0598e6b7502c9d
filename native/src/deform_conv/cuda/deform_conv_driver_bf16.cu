// SPDX-License-Identifier: MIT
// Explicit instantiation of the CUDA deformable-convolution driver for __nv_bfloat16, D = 1, 2, 3 (one file per
// dtype so nvcc builds them in parallel).
#include "deform_conv/cuda/deform_conv_driver.cuh"

namespace dcn::cuda {
#define DCN_INSTANTIATE(D)                                                                                        \
  template void deform_conv_forward_impl<D, __nv_bfloat16>(                                                       \
      int, const DeformConvParams<D>&, const __nv_bfloat16*, const __nv_bfloat16*, const __nv_bfloat16*,          \
      const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*);                                                \
  template void deform_conv_backward_impl<D, __nv_bfloat16>(                                                      \
      int, const DeformConvParams<D>&, const __nv_bfloat16*, const __nv_bfloat16*, const __nv_bfloat16*,          \
      const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, __nv_bfloat16*, __nv_bfloat16*, __nv_bfloat16*, \
      __nv_bfloat16*);
DCN_INSTANTIATE(1)
DCN_INSTANTIATE(2)
DCN_INSTANTIATE(3)
#undef DCN_INSTANTIATE
}  // namespace dcn::cuda
