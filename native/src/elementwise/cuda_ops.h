// SPDX-License-Identifier: MIT
// Host API of the CUDA tensor kernels behind the KernelBackend of @tvdcn/ops (kernels/cuda/): fill,
// cast, elementwise (with broadcasting through strides), sums over dimensions, strided copies, index-map
// gathers and their scatter-add adjoint. Plain C++ (no CUDA types) so the N-API bindings can call it.
// Every function enqueues on the device's stream and returns without synchronizing. Pointers are device
// pointers of `device`; shapes and strides are in elements, at most kMaxStridedDims dimensions.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "elementwise/elementwise_ops.h"

namespace dcn::cuda {

// The op codes and the rank limit are shared with the CPU twin (cpu_ops.h).
using ::dcn::BinaryOp;
using ::dcn::kMaxStridedDims;
using ::dcn::UnaryOp;

// data[i] = value for i < n.
void fill(int device, DType dtype, void* data, int64_t n, double value);
// dst[i] = (dst_dtype) src[i] for i < n (a plain copy when the dtypes agree).
void cast(int device, DType src_dtype, const void* src, DType dst_dtype, void* dst, int64_t n);
// dst[i] += src[i] for i < n.
void add_inplace(int device, DType dtype, void* dst, const void* src, int64_t n);
// out[i] = op(x[i], alpha) for i < n.
void unary(int device, DType dtype, UnaryOp op, const void* x, void* out, int64_t n, double alpha);
// out (contiguous, `shape`) = op(a, b), a and b read through their strides (0 along broadcast dims).
void binary(int device, DType dtype, BinaryOp op, const void* a, const int64_t* a_strides, const void* b,
            const int64_t* b_strides, void* out, int ndim, const int64_t* shape);
// dst[dst_offset + sum_d i_d * dst_strides[d]] = src[src_offset + sum_d i_d * src_strides[d]].
void copy_strided(int device, DType dtype, const void* src, int64_t src_offset, const int64_t* src_strides, void* dst,
                  int64_t dst_offset, const int64_t* dst_strides, int ndim, const int64_t* shape);
// out = x (contiguous, `shape`) summed over the dims with reduced[d] true; kept dims stay in order.
// Deterministic: every output is summed in one fixed order (accumulating in float64 for float64, float32
// otherwise).
void sum(int device, DType dtype, const void* x, int ndim, const int64_t* shape, const bool* reduced, void* out);
// out[o] = x[maps_0[o_0], ..., maps_n[o_n]], or `value` where a map entry is -1. `maps[d]` has
// out_shape[d] entries indexing x_shape[d].
void gather(int device, DType dtype, const void* x, int ndim, const int64_t* x_shape, const IndexMaps& maps,
            const int64_t* out_shape, double value, void* out);
// The adjoint of gather: out (x_shape, fully written) = sum over o with map(o) = i of g[o]. Atomic-free
// and deterministic: each output sums its sources, found through inverted maps, in a fixed order.
void scatter_add(int device, DType dtype, const void* g, int ndim, const int64_t* g_shape, const IndexMaps& maps,
                 const int64_t* x_shape, void* out);

}  // namespace dcn::cuda
