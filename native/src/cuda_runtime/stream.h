// SPDX-License-Identifier: MIT
// One stream per device, and the device guard. Every kernel, copy and event of the addon runs on the
// stream of its device, so device memory freed to the caching allocator may be reused by later work
// without a synchronization (stream order). Host code of the CUDA build only.
#pragma once
#include <cuda_runtime.h>

namespace dcn::cuda {

// Number of CUDA devices (0 when none is usable; never throws).
int device_count_or_zero();

// The addon's stream of `device` (created on first use, non-blocking with respect to the legacy
// default stream). Throws dcn::Error for a device index out of range.
cudaStream_t stream(int device);

// Throws dcn::Error (kRange) unless 0 <= device < device_count.
void check_device_index(int device);

// Makes `device` current for the scope and restores the previous device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
  int device_ = -1;
};

// Multiprocessor count of `device` (cached).
int multiprocessor_count(int device);

// Raises cudaFuncAttributeMaxDynamicSharedMemorySize of the kernel `func` to `bytes` on the current
// device, calling cudaFuncSetAttribute (checked) only the first time per (kernel, device) and size: the
// attribute stays set, so launches after the first skip the driver call.
void ensure_max_dynamic_smem(const void* func, int bytes);

}  // namespace dcn::cuda
