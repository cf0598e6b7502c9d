// SPDX-License-Identifier: MIT
// TensorView: a non-owning view of a contiguous row-major tensor (data, dtype, device, sizes). An
// undefined view (data == nullptr and ndim == -1) stands for an optional tensor that was not given.
#pragma once
#include <cstdint>

#include "core/device.h"
#include "core/dtype.h"

namespace dcn {

constexpr int kMaxTensorDims = 8;

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kFloat32;
  Device device{};
  int64_t sizes[kMaxTensorDims] = {};
  int ndim = -1;  // -1: undefined (optional tensor not given)

  bool defined() const { return ndim >= 0; }
  int64_t size(int i) const { return sizes[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= sizes[i];
    return n;
  }
  template <typename T>
  T* data_ptr() const {
    return static_cast<T*>(data);
  }
};

}  // namespace dcn
