// SPDX-License-Identifier: MIT
// Host API of the deformable convolution (regular and transposed, D = 1, 2, 3): forward and backward on
// validated TensorViews. Validation lives in napi/tensor_arg.cc; these functions trust their arguments.
#pragma once
#include <cstdint>

#include "core/tensor_view.h"
#include "deform_conv/params.h"

namespace dcn {

// Undefined views mean "not needed": nothing is computed for them (tvdcn computes all five).
struct DeformConvGrads {
  TensorView input, weight, offset, mask, bias;
};

// output [B, C_out, *out_size] is fully overwritten. offset, mask, bias may be undefined.
template <int D>
void deform_conv_forward(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                         const TensorView& offset, const TensorView& mask, const TensorView& bias,
                         const TensorView& output);

// Every defined gradient is fully overwritten (tvdcn-reference §4, §5).
template <int D>
void deform_conv_backward(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
                          const TensorView& offset, const TensorView& mask, const TensorView& grad_output,
                          const DeformConvGrads& grads);

// Upper bound, in bytes, of the column workspace of one call (default 64 MiB). Column tiles shrink to fit
// it, down to one column; results do not depend on it beyond rounding.
void set_workspace_limit(int64_t bytes);
int64_t workspace_limit();

// Test hook (napi `_setForcePlanar`): when on, the CPU 3D forward and every CPU column pass (backward,
// transposed forward) run the planar kernels of kernels.h instead of the channels-last ones of
// cpu/column_pass.h (otherwise the planar kernels only run for planes of 2^31 - 1 positions or more, or
// grid positions beyond +-2^30). Default off.
void set_force_planar(bool on);
bool force_planar();

}  // namespace dcn
