// SPDX-License-Identifier: MIT
// Per-device streams and the device guard (see stream.h). Compiled only into the CUDA build.
#ifdef TVDCN_WITH_CUDA
#include "cuda_runtime/stream.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/settings.h"

namespace dcn::cuda {
namespace {
// The device count, the streams and the SM counts are filled once (under g_mutex) and then only read:
// the per-launch path (stream(), multiprocessor_count(), check_device_index()) takes no lock once they
// are set (issue 12: the host time of each op call). g_device_count is published with release order
// after the arrays are allocated; the entries are atomics, set once each.
std::mutex g_mutex;
std::atomic<int> g_device_count{-1};
std::unique_ptr<std::atomic<cudaStream_t>[]> g_streams;  // index: device; nullptr until first use
std::unique_ptr<std::atomic<int>[]> g_sm_count;          // index: device; 0 until first use

int device_count_locked() {
  int n = g_device_count.load(std::memory_order_relaxed);
  if (n < 0) {
    n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    g_streams.reset(new std::atomic<cudaStream_t>[std::max(n, 1)]);
    g_sm_count.reset(new std::atomic<int>[std::max(n, 1)]);
    for (int d = 0; d < n; ++d) {
      g_streams[d].store(nullptr, std::memory_order_relaxed);
      g_sm_count[d].store(0, std::memory_order_relaxed);
    }
    g_device_count.store(n, std::memory_order_release);
  }
  return n;
}

// Hashes a (function, device) pair for the attribute cache.
struct FuncDeviceHash {
  std::size_t operator()(const std::pair<const void*, int>& k) const {
    return std::hash<const void*>()(k.first) ^ (static_cast<std::size_t>(k.second) * 0x9e3779b97f4a7c15ULL);
  }
};
}  // namespace

int device_count_or_zero() {
  const int n = g_device_count.load(std::memory_order_acquire);
  if (n >= 0) return n;
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
  cudaStream_t cached = g_streams[device].load(std::memory_order_acquire);
  if (cached != nullptr) return cached;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_streams[device].load(std::memory_order_relaxed) == nullptr) {
    int previous = 0;
    DCN_CUDA_CHECK(cudaGetDevice(&previous));
    DCN_CUDA_CHECK(cudaSetDevice(device));
    cudaStream_t s = nullptr;
    const cudaError_t err = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    cudaSetDevice(previous);
    if (err != cudaSuccess) throw_cuda_error(err, "cudaStreamCreateWithFlags");
    g_streams[device].store(s, std::memory_order_release);
  }
  return g_streams[device].load(std::memory_order_relaxed);
}

int multiprocessor_count(int device) {
  check_device_index(device);
  const int cached = g_sm_count[device].load(std::memory_order_relaxed);
  if (cached != 0) return cached;
  int n = 0;
  DCN_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
  g_sm_count[device].store(n, std::memory_order_relaxed);
  return n;
}

#if defined(TVDCN_CUDA_SM90A)
namespace {
// Whether the current device runs the build's sm_90a machine code (compute capability 9.0 only).
bool sm90a_device() {
  static std::atomic<int> g_cc{-1};  // of device 0..: the addon's devices are one kind in practice, but check each
  int device = 0;
  DCN_CUDA_CHECK(cudaGetDevice(&device));
  int cc = device == 0 ? g_cc.load(std::memory_order_relaxed) : -1;
  if (cc < 0) {
    int major = 0, minor = 0;
    DCN_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
    DCN_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
    cc = major * 10 + minor;
    if (device == 0) g_cc.store(cc, std::memory_order_relaxed);
  }
  return cc == 90;
}
}  // namespace
#endif

bool wgmma32_enabled() {
#if defined(TVDCN_CUDA_SM90A)
  // NOTE [ Hopper warpgroup GEMM, 32-bit operands ]
  return sm90a_device() && !env_is("TVDCN_CUDA_GEMM32", "mma");
#else
  return false;
#endif
}

Wgmma16Tiles wgmma16_tiles() {
#if defined(TVDCN_CUDA_SM90A)
  // NOTE [ Hopper warpgroup GEMM ]: sm_90a machine code runs on compute capability 9.0 only.
  if (!sm90a_device() || env_is("TVDCN_CUDA_GEMM16", "mma")) return Wgmma16Tiles::kOff;
  if (env_is("TVDCN_CUDA_GEMM16", "wgmma128")) return Wgmma16Tiles::kNarrow;
  if (env_is("TVDCN_CUDA_GEMM16", "wgmma256")) return Wgmma16Tiles::kWide;
  if (env_is("TVDCN_CUDA_GEMM16", "wgmma256m")) return Wgmma16Tiles::kTall;
  if (env_is("TVDCN_CUDA_GEMM16", "wgmma2")) return Wgmma16Tiles::kTwoPerSm;
  if (env_is("TVDCN_CUDA_GEMM16", "wgmma1")) return Wgmma16Tiles::kOneBlock;
  return Wgmma16Tiles::kAuto;
#else
  return Wgmma16Tiles::kOff;
#endif
}

void ensure_max_dynamic_smem(const void* func, int bytes) {
  int device = 0;
  DCN_CUDA_CHECK(cudaGetDevice(&device));
  static std::mutex mutex;
  static auto* set = new std::unordered_map<std::pair<const void*, int>, int, FuncDeviceHash>();  // leaked on purpose
  std::lock_guard<std::mutex> lock(mutex);
  int& done = (*set)[{func, device}];
  if (done >= bytes) return;
  DCN_CUDA_CHECK(cudaFuncSetAttribute(func, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  done = bytes;
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
