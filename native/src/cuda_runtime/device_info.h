// SPDX-License-Identifier: MIT
// Questions the loader asks the CUDA runtime: how many devices, and why none when there are none.
#pragma once
#include <string>

namespace dcn::cuda {
struct DeviceCountResult {
  int count;           // usable devices, 0 on error
  int error;           // cudaError_t value, 0 on success
  std::string reason;  // cudaGetErrorName: cudaGetErrorString, empty on success
};
// Defined only in the CUDA build (device_info.cu).
DeviceCountResult device_count();
int runtime_version();
int driver_version();
}  // namespace dcn::cuda
