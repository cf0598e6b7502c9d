// SPDX-License-Identifier: MIT
// Host API of the deformable convolution (regular and transposed, D = 1, 2, 3): one signature, two drivers
// of the same shape, cpu::deform_conv_*_driver (cpu/deform_conv_driver.cc) and cuda::deform_conv_*_driver
// (cuda/deform_conv_driver.cu, CUDA build only). The binding (napi/deform_conv_binding.cc) reads and
// checks the arguments once, then calls the driver of the tensors' device. The drivers trust their
// arguments: every view is contiguous, of one dtype and on one device, with the shapes params implies.
#pragma once
#include <cstdint>

#include "core/tensor_view.h"
#include "deform_conv/params.h"

namespace dcn {

// Undefined views mean "not needed": nothing is computed for them (tvdcn computes all five).
struct DeformConvGrads {
  TensorView input, weight, offset, mask, bias;
};

// The two drivers have the same signature. Forward: output [B, C_out, *out_size] is fully overwritten;
// offset, mask, bias may be undefined. Backward: every defined gradient is fully overwritten
// (tvdcn-reference §4, §5).
//
// CPU only, `saved` (NOTE [ Saved columns of the transposed forward ] in cpu/column_pass.cc): a transposed forward
// given a 1-D `saved` of deform_conv_saved_columns(p, dtype, INT64_MAX) elements keeps its columns there (or marks
// it as holding none); the backward of the same op given it reads them instead of recomputing them. Undefined:
// nothing is saved or read. The CUDA drivers take no such buffer.
namespace cpu {
template <int D>
void deform_conv_forward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                const TensorView& offset, const TensorView& mask, const TensorView& bias,
                                const TensorView& output, const TensorView& saved = TensorView());
template <int D>
void deform_conv_backward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                 const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                                 const DeformConvGrads& grads, const TensorView& saved = TensorView());
// Elements of the `saved` buffer of the op p in `dtype`, or 0 where it saves nothing (not transposed, the columns
// above limit_bytes, or the channels-last column pass not applying).
template <int D>
int64_t deform_conv_saved_columns(const DeformConvParams<D>& p, DType dtype, int64_t limit_bytes);
}  // namespace cpu

// Work is enqueued on the stream of the tensors' device; temporary workspace is bounded
// (cuda_runtime/settings.h). All four dtypes. Defined in the CUDA build only.
namespace cuda {
template <int D>
void deform_conv_forward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                const TensorView& offset, const TensorView& mask, const TensorView& bias,
                                const TensorView& output);
template <int D>
void deform_conv_backward_driver(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                                 const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                                 const DeformConvGrads& grads);
}  // namespace cuda

// CPU driver settings.
// Upper bound, in bytes, of the column workspace of one call (default 64 MiB). Column tiles shrink to fit
// it, down to one column; results do not depend on it beyond rounding.
void set_workspace_limit(int64_t bytes);
int64_t workspace_limit();

// Test hook (napi `_setForcePlanar`): when on, the CPU 3D forward and every CPU column pass (backward,
// transposed forward) run the planar kernels of cpu/kernels.h instead of the channels-last ones of
// cpu/column_pass.h (otherwise the planar kernels only run for planes of 2^31 - 1 positions or more, or
// grid positions beyond +-2^30). Default off.
void set_force_planar(bool on);
bool force_planar();

// Test hook (napi `_setForceHandover`): when on, every thread of the channels-last backward's tile region leaves
// its slot piece at each dcol group end while an untaken piece remains (NOTE [ Slot pieces handed over ] in
// cpu/column_pass.cc), so that the tests reach the hand-overs at any thread count. Default off.
void set_force_handover(bool on);
bool force_handover();

}  // namespace dcn
