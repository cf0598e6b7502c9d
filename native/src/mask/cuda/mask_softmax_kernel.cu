// SPDX-License-Identifier: MIT
// CUDA mask softmax (tvdcn-reference §6): softmax over the K kernel points of each mask group of a
// mask [batch, groups * K, spatial], and its backward. One thread per (batch, group, position), looping
// over K with stride `spatial`, so neighbouring threads read neighbouring positions. The twin of
// cpu/mask_softmax_kernel.cc (same signature, mask_softmax.h).
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "elementwise/cuda_ops.h"
#include "mask/mask_softmax.h"

namespace dcn::cuda {
namespace {

__device__ __forceinline__ float d_exp(float x) { return expf(x); }
__device__ __forceinline__ double d_exp(double x) { return exp(x); }

template <typename T>
__global__ void mask_softmax_forward_kernel(const T* __restrict__ mask, T* __restrict__ out, int64_t n, int64_t K,
                                            int64_t S) {
  using A = acc_type<T>;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t bg = i / S, s = i % S;
    const int64_t base = bg * K * S + s;
    A mx = load_acc(mask + base);
    for (int64_t k = 1; k < K; ++k) {
      const A v = load_acc(mask + base + k * S);
      mx = (v > mx || v != v) ? v : mx;  // NaN propagates
    }
    A total = 0;
    for (int64_t k = 0; k < K; ++k) total += d_exp(load_acc(mask + base + k * S) - mx);
    const A inv = A(1) / total;
    for (int64_t k = 0; k < K; ++k) {
      out[base + k * S] = convert<T>(d_exp(load_acc(mask + base + k * S) - mx) * inv);
    }
  }
}

template <typename T>
__global__ void mask_softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx,
                                             int64_t n, int64_t K, int64_t S) {
  using A = acc_type<T>;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t bg = i / S, s = i % S;
    const int64_t base = bg * K * S + s;
    A dot = 0;
    for (int64_t k = 0; k < K; ++k) dot += load_acc(g + base + k * S) * load_acc(y + base + k * S);
    for (int64_t k = 0; k < K; ++k) {
      const A yk = load_acc(y + base + k * S);
      gx[base + k * S] = convert<T>(yk * (load_acc(g + base + k * S) - dot));
    }
  }
}

// mask [batch, groups * K, *spatial]: batch and the flattened spatial size S (0 for an empty mask).
void split(const TensorView& t, int64_t groups, int64_t kernel_points, int64_t* batch, int64_t* spatial) {
  *batch = t.sizes[0];
  const int64_t rows = *batch * groups * kernel_points;
  *spatial = rows == 0 ? 0 : t.numel() / rows;
}

}  // namespace

void mask_softmax_forward(const TensorView& mask_t, int64_t groups, int64_t kernel_points, const TensorView& output) {
  int64_t batch, spatial;
  split(mask_t, groups, kernel_points, &batch, &spatial);
  const int device = mask_t.device.index;
  const void* mask = mask_t.data;
  void* out = output.data;
  const int64_t n = batch * groups * spatial;
  if (n == 0 || kernel_points == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  DCN_CUDA_DISPATCH_ALL_TYPES(mask_t.dtype, "maskSoftmax", [&] {
    const unsigned grid = grid_for(n, device);
    mask_softmax_forward_kernel<scalar_t><<<grid, kThreads, 0, s>>>(
        static_cast<const scalar_t*>(mask), static_cast<scalar_t*>(out), n, kernel_points, spatial);
    DCN_CUDA_LAUNCH_CHECK("mask_softmax_forward_kernel", grid, kThreads);
  });
}

void mask_softmax_backward(const TensorView& output_t, const TensorView& grad_output_t, int64_t groups,
                           int64_t kernel_points, const TensorView& grad_mask_t) {
  int64_t batch, spatial;
  split(output_t, groups, kernel_points, &batch, &spatial);
  const int device = output_t.device.index;
  const void* output = output_t.data;
  const void* grad_output = grad_output_t.data;
  void* grad_mask = grad_mask_t.data;
  const int64_t n = batch * groups * spatial;
  if (n == 0 || kernel_points == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  DCN_CUDA_DISPATCH_ALL_TYPES(output_t.dtype, "maskSoftmaxBackward", [&] {
    const unsigned grid = grid_for(n, device);
    mask_softmax_backward_kernel<scalar_t>
        <<<grid, kThreads, 0, s>>>(static_cast<const scalar_t*>(output), static_cast<const scalar_t*>(grad_output),
                                   static_cast<scalar_t*>(grad_mask), n, kernel_points, spatial);
    DCN_CUDA_LAUNCH_CHECK("mask_softmax_backward_kernel", grid, kThreads);
  });
}

}  // namespace dcn::cuda
