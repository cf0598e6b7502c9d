// SPDX-License-Identifier: MIT
// The validated geometry of one deformable convolution, shared by the CPU and CUDA drivers, and its
// "regular view" (SamplingGeometry), in which the transposed op is the adjoint of a regular op.
// Device-copyable: plain integers and SmallArrays only.
#pragma once
#include <cstdint>

#include "core/macros.h"
#include "core/small_array.h"

namespace dcn {

// What the binding passes for one call (tvdcn-reference §3.1, §3.5). Validated by napi/tensor_arg.cc.
template <int D>
struct DeformConvParams {
  bool transposed = false;             // deform_conv_transposeNd when true
  int64_t batch = 0;                   // B
  int64_t in_channels = 0;             // C_in
  int64_t out_channels = 0;            // C_out
  int64_t groups = 1;                  // G
  int64_t offset_groups = 1;           // OG (1 when offset is null)
  int64_t mask_groups = 1;             // MG (1 when mask is null)
  SmallArray<int64_t, D> kernel_size;  // k, K = prod(k)
  SmallArray<int64_t, D> stride;       // s
  SmallArray<int64_t, D> padding;      // p
  SmallArray<int64_t, D> dilation;     // d
  SmallArray<int64_t, D> in_size;      // in_sp
  SmallArray<int64_t, D> out_size;     // out_sp
  bool deformable = false;             // offset given
  bool modulated = false;              // mask given

  DCN_HOST_DEVICE int64_t kernel_points() const { return kernel_size.product(); }
};

// NOTE [ Regular view ]
// Every kernel is written for a regular deformable convolution that samples a tensor X (the "x side":
// channels cx, spatial size x_size) at positions defined on the grid of a tensor Y (the "y side":
// channels cy, size y_size), with weight [cy, cx/G, *k]:
//   Y[b, o, q] = sum_{c in group(o), kpt} W[o, c_local, kpt] * mask * Interp(X[b, c], p(q, kpt, og(c)))
// Offsets and masks live on the y grid; offset/mask groups partition the x channels.
// The regular op has X = input, Y = output. The transposed op (tvdcn-reference §5) is the adjoint of the
// regular op's input gradient, so it has X = output and Y = input: its forward scatters (col2im) into X,
// and its input gradient is the regular forward applied to gradOutput.
template <int D>
struct SamplingGeometry {
  int64_t batch;                  // B
  int64_t cx;                     // channels of X (regular: C_in; transposed: C_out)
  int64_t cy;                     // channels of Y (regular: C_out; transposed: C_in)
  int64_t groups;                 // G
  int64_t offset_groups;          // OG, partitions the cx channels
  int64_t mask_groups;            // MG, partitions the cx channels
  int64_t kernel_points;          // K = prod(kernel_size)
  SmallArray<int64_t, D> x_size;  // spatial size of X
  SmallArray<int64_t, D> y_size;  // spatial size of Y (the offset/mask grid)
  SmallArray<int64_t, D> kernel_size;
  SmallArray<int64_t, D> stride;
  SmallArray<int64_t, D> padding;
  SmallArray<int64_t, D> dilation;
  bool deformable;
  bool modulated;

  DCN_HOST_DEVICE int64_t x_spatial() const { return x_size.product(); }
  DCN_HOST_DEVICE int64_t y_spatial() const { return y_size.product(); }
  DCN_HOST_DEVICE int64_t cx_per_group() const { return cx / groups; }       // Cx/G
  DCN_HOST_DEVICE int64_t cy_per_group() const { return cy / groups; }       // Cy/G
  DCN_HOST_DEVICE int64_t y_columns() const { return batch * y_spatial(); }  // B * prod(y_size): GEMM columns
  DCN_HOST_DEVICE int64_t offset_group_of(int64_t c) const { return c / (cx / offset_groups); }
  DCN_HOST_DEVICE int64_t mask_group_of(int64_t c) const { return c / (cx / mask_groups); }
};

template <int D>
SamplingGeometry<D> regular_view(const DeformConvParams<D>& p) {
  SamplingGeometry<D> g{};
  g.batch = p.batch;
  g.groups = p.groups;
  g.offset_groups = p.offset_groups;
  g.mask_groups = p.mask_groups;
  g.kernel_points = p.kernel_points();
  g.kernel_size = p.kernel_size;
  g.stride = p.stride;
  g.padding = p.padding;
  g.dilation = p.dilation;
  g.deformable = p.deformable;
  g.modulated = p.modulated;
  if (!p.transposed) {
    g.cx = p.in_channels;
    g.cy = p.out_channels;
    g.x_size = p.in_size;
    g.y_size = p.out_size;
  } else {
    g.cx = p.out_channels;
    g.cy = p.in_channels;
    g.x_size = p.out_size;
    g.y_size = p.in_size;
  }
  return g;
}

}  // namespace dcn
