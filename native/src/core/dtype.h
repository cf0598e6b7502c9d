// SPDX-License-Identifier: MIT
// Element types the native code knows, and the switch from a run-time dtype to a compile-time
// scalar_t. Half types exist only in CUDA kernels; the CPU dispatch knows float and double.
#pragma once
#include <cstddef>

#include "core/error.h"

namespace dcn {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16 };

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
  }
  return "unknown";
}

inline std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    default: return 2;
  }
}

}  // namespace dcn

// Runs the lambda body with `scalar_t` bound to the C++ type of DTYPE (float32 and float64 only).
#define DCN_DISPATCH_FLOATING_TYPES(DTYPE, NAME, ...)                                                           \
  [&] {                                                                                                         \
    switch (DTYPE) {                                                                                            \
      case ::dcn::DType::kFloat32: {                                                                            \
        using scalar_t = float;                                                                                 \
        return __VA_ARGS__();                                                                                   \
      }                                                                                                         \
      case ::dcn::DType::kFloat64: {                                                                            \
        using scalar_t = double;                                                                                \
        return __VA_ARGS__();                                                                                   \
      }                                                                                                         \
      default:                                                                                                  \
        throw ::dcn::Error(                                                                                     \
            ::dcn::ErrorKind::kNotImplemented,                                                                  \
            ::dcn::detail::concat(NAME, ": dtype ", ::dcn::dtype_name(DTYPE), " is not supported on the CPU")); \
    }                                                                                                           \
  }()
