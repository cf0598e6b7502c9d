// SPDX-License-Identifier: MIT
// Element types of the CUDA kernels: the storage types (float, double, __half, __nv_bfloat16), their
// accumulator type (float for the half types: they are widened on load and rounded once on store),
// conversions, and the dtype switch that binds `scalar_t` for host launch code. CUDA sources only.
#pragma once
#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/dtype.h"
#include "core/error.h"

namespace dcn::cuda {

template <typename T>
struct AccType {
  using type = T;
};
template <>
struct AccType<__half> {
  using type = float;
};
template <>
struct AccType<__nv_bfloat16> {
  using type = float;
};
// The type a kernel computes and accumulates in for storage type T.
template <typename T>
using acc_type = typename AccType<T>::type;

template <typename T>
constexpr bool is_half_type = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// Value conversion between any two element types (through float for the half types).
template <typename To, typename From>
__device__ __forceinline__ To convert(From x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (std::is_same_v<From, __half>) {
    return static_cast<To>(__half2float(x));
  } else if constexpr (std::is_same_v<From, __nv_bfloat16>) {
    return static_cast<To>(__bfloat162float(x));
  } else if constexpr (std::is_same_v<To, __half>) {
    if constexpr (std::is_same_v<From, double>)
      return __double2half(x);
    else
      return __float2half_rn(static_cast<float>(x));
  } else if constexpr (std::is_same_v<To, __nv_bfloat16>) {
    if constexpr (std::is_same_v<From, double>)
      return __double2bfloat16(x);
    else
      return __float2bfloat16_rn(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

// Loads one element of storage type T as its accumulator type.
template <typename T>
__device__ __forceinline__ acc_type<T> load_acc(const T* p) {
  return convert<acc_type<T>>(*p);
}

// Atomic x += v on the accumulator types (float, double; hardware atomics from sm_60).
__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }

}  // namespace dcn::cuda

// Runs the lambda with `scalar_t` bound to the CUDA storage type of DTYPE (all four dtypes).
#define DCN_CUDA_DISPATCH_ALL_TYPES(DTYPE, NAME, ...)                                                               \
  [&] {                                                                                                             \
    switch (DTYPE) {                                                                                                \
      case ::dcn::DType::kFloat32: {                                                                                \
        using scalar_t = float;                                                                                     \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      case ::dcn::DType::kFloat64: {                                                                                \
        using scalar_t = double;                                                                                    \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      case ::dcn::DType::kFloat16: {                                                                                \
        using scalar_t = __half;                                                                                    \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      case ::dcn::DType::kBFloat16: {                                                                               \
        using scalar_t = __nv_bfloat16;                                                                             \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
    }                                                                                                               \
    throw ::dcn::Error(::dcn::ErrorKind::kInternal, ::dcn::detail::concat(NAME, ": unknown dtype, please report")); \
  }()
