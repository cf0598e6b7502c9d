// SPDX-License-Identifier: MIT
// CUDA runtime queries for the loader. With the static runtime these calls work, and fail cleanly,
// on a machine with no driver (error 35, cudaErrorInsufficientDriver) or no device (100).
#include <cuda_runtime.h>

#include "cuda_runtime/device_info.h"

namespace dcn::cuda {
DeviceCountResult device_count() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state
    return {0, static_cast<int>(err), std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err)};
  }
  return {n, 0, ""};
}
int runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
}
int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
  return v;
}
}  // namespace dcn::cuda
