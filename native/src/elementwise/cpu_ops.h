// SPDX-License-Identifier: MIT
// Host API of the CPU tensor kernels behind the KernelBackend of @tvdcn/ops: the twin of cuda_ops.h
// (same functions and arguments, without the device), float32 and float64, in cpu/ (elementwise.cc,
// reduce.cc, movement.cc). Synchronous: each call returns when its work is done, run on the CPU thread
// pool (core/parallel.h) in chunks that vary with the thread count while every result does not: each
// output element is computed by one task, sums and scatter-adds in a fixed order (see each function).
// Shapes and strides are in elements (64-bit), any number of dimensions; the callers (napi/
// elementwise_binding.cc) checked that every offset they reach is inside its buffer.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "elementwise/elementwise_ops.h"

namespace dcn::cpu {

// data[i] = value for i < n.
void fill(DType dtype, void* data, int64_t n, double value);
// dst[i] = (dst_dtype) src[i] for i < n (a plain copy when the dtypes agree; float64 -> float32 rounds to
// nearest, as a Float32Array store does).
void cast(DType src_dtype, const void* src, DType dst_dtype, void* dst, int64_t n);
// dst[i] += src[i] for i < n (dst == src allowed).
void add_inplace(DType dtype, void* dst, const void* src, int64_t n);
// out[i] = op(x[i], alpha) for i < n, computed in the dtype (out == x allowed).
void unary(DType dtype, UnaryOp op, const void* x, void* out, int64_t n, double alpha);
// out (contiguous, `shape`) = op(a, b), a and b read through their strides (0 along broadcast dims),
// computed in the dtype. out must not overlap a or b.
void binary(DType dtype, BinaryOp op, const void* a, const int64_t* a_strides, const void* b, const int64_t* b_strides,
            void* out, int ndim, const int64_t* shape);
// dst[dst_offset + sum_d i_d * dst_strides[d]] = src[src_offset + sum_d i_d * src_strides[d]]. When the
// ranges of src and dst overlap the copy goes through a temporary (as if src were read first).
void copy_strided(DType dtype, const void* src, int64_t src_offset, const int64_t* src_strides, void* dst,
                  int64_t dst_offset, const int64_t* dst_strides, int ndim, const int64_t* shape);
// out = x (contiguous, `shape`) summed over the dims with reduced[d] true; kept dims stay in order.
// Accumulates in float64 for both dtypes. Deterministic: each output is summed in one order that depends
// on the shape only (row-major over the reduced elements, contiguous runs in 8 interleaved partial sums;
// a whole-tensor sum adds fixed blocks of kSumBlock elements, then the blocks in order; a few long
// columns are cut into slices fixed by the shape, then added slice by slice; see cpu/reduce.cc).
void sum(DType dtype, const void* x, int ndim, const int64_t* shape, const bool* reduced, void* out);
// out[o] = x[maps_0[o_0], ..., maps_n[o_n]], or `value` where a map entry is -1. `maps[d]` has
// out_shape[d] entries in [-1, x_shape[d]).
void gather(DType dtype, const void* x, int ndim, const int64_t* x_shape, const IndexMaps& maps,
            const int64_t* out_shape, double value, void* out);
// The adjoint of gather: out (x_shape, fully written) = sum over o with map(o) = i of g[o], in the dtype.
// Deterministic: each output adds its sources in increasing o (inverted maps), starting from 0, which is
// the order of a serial loop over g.
void scatter_add(DType dtype, const void* g, int ndim, const int64_t* g_shape, const IndexMaps& maps,
                 const int64_t* x_shape, void* out);

// Elements of one block of a whole-tensor sum.
constexpr int64_t kSumBlock = 1 << 14;

}  // namespace dcn::cpu
