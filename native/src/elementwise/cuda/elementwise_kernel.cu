// SPDX-License-Identifier: MIT
// CUDA elementwise kernels: fill, cast, in-place add, unary and broadcast binary ops, strided copies.
// Grid-stride loops; the op is a uniform run-time switch (these kernels are bound by memory, and one
// instantiation per dtype and index type keeps the binary small). Values are computed in the
// accumulator type (float for the half types).
#include <cmath>

#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "elementwise/cuda/indexer.cuh"
#include "elementwise/cuda_ops.h"

namespace dcn::cuda {
namespace {

// Keeps i + gridDim * blockDim below 2^31 in int32 grid-stride loops.
inline bool fits32(int64_t n) { return n < (int64_t{1} << 31) - (int64_t{1} << 24); }

__device__ __forceinline__ float d_exp(float x) { return expf(x); }
__device__ __forceinline__ double d_exp(double x) { return exp(x); }
__device__ __forceinline__ float d_log(float x) { return logf(x); }
__device__ __forceinline__ double d_log(double x) { return log(x); }
__device__ __forceinline__ float d_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double d_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float d_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double d_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float d_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double d_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ float d_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double d_abs(double x) { return fabs(x); }

template <typename A>
__device__ __forceinline__ A apply_unary(UnaryOp op, A x, A alpha) {
  switch (op) {
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kExp: return d_exp(x);
    case UnaryOp::kLog: return d_log(x);
    case UnaryOp::kSigmoid: return A(1) / (A(1) + d_exp(-x));
    case UnaryOp::kTanh: return d_tanh(x);
    case UnaryOp::kRelu: return (x > A(0) || x != x) ? x : A(0);  // NaN stays NaN
    case UnaryOp::kAbs: return d_abs(x);
    case UnaryOp::kSign: return x > A(0) ? A(1) : x < A(0) ? A(-1) : x;  // 0 -> 0, NaN -> NaN
    case UnaryOp::kSquare: return x * x;
    case UnaryOp::kSqrt: return d_sqrt(x);
    case UnaryOp::kAddScalar: return x + alpha;
    case UnaryOp::kMulScalar: return x * alpha;
    case UnaryOp::kDivScalar: return x / alpha;
    case UnaryOp::kRsubScalar: return alpha - x;
    case UnaryOp::kRdivScalar: return alpha / x;
    case UnaryOp::kPowScalar:
      if (alpha == A(2)) return x * x;
      if (alpha == A(1)) return x;
      if (alpha == A(0.5)) return d_sqrt(x);
      return d_pow(x, alpha);
  }
  return x;
}

template <typename A>
__device__ __forceinline__ A apply_binary(BinaryOp op, A a, A b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kSigmoidBackward: return a * b * (A(1) - b);
    case BinaryOp::kTanhBackward: return a * (A(1) - b * b);
    case BinaryOp::kReluBackward: return b > A(0) ? a : A(0);
    case BinaryOp::kAbsBackward: return b > A(0) ? a : b < A(0) ? -a : A(0);
  }
  return a;
}

template <typename T, typename index_t>
__global__ void fill_kernel(T* out, index_t n, acc_type<T> value) {
  const T v = convert<T>(value);
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[i] = v;
  }
}

template <typename S, typename D, typename index_t>
__global__ void cast_kernel(const S* __restrict__ src, D* __restrict__ dst, index_t n) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    if constexpr (std::is_same_v<S, double> || std::is_same_v<D, double>) {
      dst[i] = convert<D>(convert<double>(src[i]));
    } else {
      dst[i] = convert<D>(convert<float>(src[i]));
    }
  }
}

template <typename T, typename index_t>
__global__ void add_inplace_kernel(T* dst, const T* __restrict__ src, index_t n) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    dst[i] = convert<T>(load_acc(dst + i) + load_acc(src + i));
  }
}

template <typename T, typename index_t>
__global__ void unary_kernel(UnaryOp op, const T* __restrict__ x, T* __restrict__ out, index_t n, acc_type<T> alpha) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[i] = convert<T>(apply_unary(op, load_acc(x + i), alpha));
  }
}

template <typename T, typename index_t>
__global__ void binary_kernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                              index_t n, Indexer<index_t, 2> ix) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    index_t off[2];
    ix.offsets(i, off);
    out[i] = convert<T>(apply_binary(op, load_acc(a + off[0]), load_acc(b + off[1])));
  }
}

// The common case: one coalesced dimension, each operand contiguous (stride 1) or a scalar (stride 0).
template <typename T, typename index_t>
__global__ void binary_flat_kernel(BinaryOp op, const T* __restrict__ a, index_t sa, const T* __restrict__ b,
                                   index_t sb, T* __restrict__ out, index_t n) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[i] = convert<T>(apply_binary(op, load_acc(a + i * sa), load_acc(b + i * sb)));
  }
}

template <typename T, typename index_t>
__global__ void copy_strided_kernel(const T* __restrict__ src, T* __restrict__ dst, index_t n, Indexer<index_t, 2> ix) {
  for (index_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    index_t off[2];
    ix.offsets(i, off);
    dst[off[1]] = src[off[0]];
  }
}

int64_t numel_of(int ndim, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

void check_ndim(int ndim, const char* op) {
  DCN_CHECK(ndim >= 0 && ndim <= kMaxStridedDims, kRange, op, ": expected at most ", kMaxStridedDims,
            " dimensions after merging contiguous ones, but got ", ndim);
}

}  // namespace

void fill(int device, DType dtype, void* data, int64_t n, double value) {
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "fill", [&] {
    DCN_INDEX_SWITCH(fits32(n), [&] {
      const unsigned grid = grid_for(n, device);
      fill_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(static_cast<scalar_t*>(data), static_cast<index_t>(n),
                                                               static_cast<acc_type<scalar_t>>(value));
      DCN_CUDA_LAUNCH_CHECK("fill_kernel", grid, kThreads);
    });
  });
}

void cast(int device, DType src_dtype, const void* src, DType dst_dtype, void* dst, int64_t n) {
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  if (src_dtype == dst_dtype) {
    DCN_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * dtype_size(src_dtype), cudaMemcpyDeviceToDevice, s));
    return;
  }
  DCN_CUDA_DISPATCH_ALL_TYPES(src_dtype, "cast", [&] {
    using src_t = scalar_t;
    DCN_CUDA_DISPATCH_ALL_TYPES(dst_dtype, "cast", [&] {
      using dst_t = scalar_t;
      DCN_INDEX_SWITCH(fits32(n), [&] {
        const unsigned grid = grid_for(n, device);
        cast_kernel<src_t, dst_t, index_t><<<grid, kThreads, 0, s>>>(static_cast<const src_t*>(src),
                                                                     static_cast<dst_t*>(dst), static_cast<index_t>(n));
        DCN_CUDA_LAUNCH_CHECK("cast_kernel", grid, kThreads);
      });
    });
  });
}

void add_inplace(int device, DType dtype, void* dst, const void* src, int64_t n) {
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "addInPlace", [&] {
    DCN_INDEX_SWITCH(fits32(n), [&] {
      const unsigned grid = grid_for(n, device);
      add_inplace_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(
          static_cast<scalar_t*>(dst), static_cast<const scalar_t*>(src), static_cast<index_t>(n));
      DCN_CUDA_LAUNCH_CHECK("add_inplace_kernel", grid, kThreads);
    });
  });
}

void unary(int device, DType dtype, UnaryOp op, const void* x, void* out, int64_t n, double alpha) {
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "unary", [&] {
    DCN_INDEX_SWITCH(fits32(n), [&] {
      const unsigned grid = grid_for(n, device);
      unary_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(op, static_cast<const scalar_t*>(x),
                                                                static_cast<scalar_t*>(out), static_cast<index_t>(n),
                                                                static_cast<acc_type<scalar_t>>(alpha));
      DCN_CUDA_LAUNCH_CHECK("unary_kernel", grid, kThreads);
    });
  });
}

void binary(int device, DType dtype, BinaryOp op, const void* a, const int64_t* a_strides, const void* b,
            const int64_t* b_strides, void* out, int ndim, const int64_t* shape) {
  check_ndim(ndim, "binary");
  const int64_t n = numel_of(ndim, shape);
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  const bool small =
      fits32(n) && fits32(max_offset(0, ndim, shape, a_strides)) && fits32(max_offset(0, ndim, shape, b_strides));
  const bool flat = ndim == 1 && (a_strides[0] == 0 || a_strides[0] == 1) && (b_strides[0] == 0 || b_strides[0] == 1);
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "binary", [&] {
    DCN_INDEX_SWITCH(small, [&] {
      const unsigned grid = grid_for(n, device);
      const auto* pa = static_cast<const scalar_t*>(a);
      const auto* pb = static_cast<const scalar_t*>(b);
      auto* po = static_cast<scalar_t*>(out);
      if (flat) {
        binary_flat_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(op, pa, static_cast<index_t>(a_strides[0]), pb,
                                                                        static_cast<index_t>(b_strides[0]), po,
                                                                        static_cast<index_t>(n));
        DCN_CUDA_LAUNCH_CHECK("binary_flat_kernel", grid, kThreads);
      } else {
        const int64_t* strides[2] = {a_strides, b_strides};
        auto ix = make_indexer<index_t, 2>(ndim, shape, strides);
        binary_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(op, pa, pb, po, static_cast<index_t>(n), ix);
        DCN_CUDA_LAUNCH_CHECK("binary_kernel", grid, kThreads);
      }
    });
  });
}

void copy_strided(int device, DType dtype, const void* src, int64_t src_offset, const int64_t* src_strides, void* dst,
                  int64_t dst_offset, const int64_t* dst_strides, int ndim, const int64_t* shape) {
  check_ndim(ndim, "copyStrided");
  const int64_t n = numel_of(ndim, shape);
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  // The offsets are folded into the base pointers, so the indexer only sees strides.
  const bool small =
      fits32(n) && fits32(max_offset(0, ndim, shape, src_strides)) && fits32(max_offset(0, ndim, shape, dst_strides));
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "copyStrided", [&] {
    DCN_INDEX_SWITCH(small, [&] {
      const unsigned grid = grid_for(n, device);
      const int64_t* strides[2] = {src_strides, dst_strides};
      auto ix = make_indexer<index_t, 2>(ndim, shape, strides);
      copy_strided_kernel<scalar_t, index_t><<<grid, kThreads, 0, s>>>(static_cast<const scalar_t*>(src) + src_offset,
                                                                       static_cast<scalar_t*>(dst) + dst_offset,
                                                                       static_cast<index_t>(n), ix);
      DCN_CUDA_LAUNCH_CHECK("copy_strided_kernel", grid, kThreads);
    });
  });
}

}  // namespace dcn::cuda
