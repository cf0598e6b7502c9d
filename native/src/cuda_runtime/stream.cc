// SPDX-License-Identifier: MIT
// Per-device streams and the device guard (see stream.h). Compiled only into the CUDA build.
#ifdef TVDCN_WITH_CUDA
#include "cuda_runtime/stream.h"

#include <mutex>
#include <vector>

#include "core/error.h"
#include "cuda_runtime/check.h"

namespace dcn::cuda {
namespace {
std::mutex g_mutex;
std::vector<cudaStream_t> g_streams;  // index: device; nullptr until first use
std::vector<int> g_sm_count;          // index: device; 0 until first use
int g_device_count = -1;

int device_count_locked() {
  if (g_device_count < 0) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    g_device_count = n;
    g_streams.assign(n, nullptr);
    g_sm_count.assign(n, 0);
  }
  return g_device_count;
}
}  // namespace

int device_count_or_zero() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return device_count_locked();
}

void check_device_index(int device) {
  const int n = device_count_or_zero();
  DCN_CHECK(device >= 0 && device < n, kRange, "expected a CUDA device index in [0, ", n, "), but got ", device,
            n == 0 ? " (no CUDA device is usable)" : "");
}

cudaStream_t stream(int device) {
  check_device_index(device);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_streams[device] == nullptr) {
    int previous = 0;
    DCN_CUDA_CHECK(cudaGetDevice(&previous));
    DCN_CUDA_CHECK(cudaSetDevice(device));
    cudaStream_t s = nullptr;
    const cudaError_t err = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    cudaSetDevice(previous);
    if (err != cudaSuccess) throw_cuda_error(err, "cudaStreamCreateWithFlags");
    g_streams[device] = s;
  }
  return g_streams[device];
}

int multiprocessor_count(int device) {
  check_device_index(device);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sm_count[device] == 0) {
    int n = 0;
    DCN_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    g_sm_count[device] = n;
  }
  return g_sm_count[device];
}

DeviceGuard::DeviceGuard(int device) : device_(device) {
  check_device_index(device);
  DCN_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) DCN_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0 && previous_ != device_) cudaSetDevice(previous_);
}

}  // namespace dcn::cuda
#endif  // TVDCN_WITH_CUDA
