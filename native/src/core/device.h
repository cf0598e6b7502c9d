// SPDX-License-Identifier: MIT
// Where a tensor lives. Only the CPU exists in this build; the CUDA build adds kernels, not types.
#pragma once

namespace dcn {

enum class DeviceType { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
};

}  // namespace dcn
