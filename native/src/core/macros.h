// SPDX-License-Identifier: MIT
// Portability macros shared by host and device code. Nothing here may depend on the host C++ library,
// because CUDA translation units include it too.
#pragma once

#if defined(__CUDACC__)
#define DCN_HOST_DEVICE __host__ __device__
#define DCN_INLINE __forceinline__
#else
#define DCN_HOST_DEVICE
#define DCN_INLINE inline __attribute__((always_inline))
#endif

#define DCN_RESTRICT __restrict__

// Asks the compiler to fully unroll the next loop (constant trip counts only).
#if defined(__CUDACC__)
#define DCN_PRAGMA_UNROLL _Pragma("unroll")
#elif defined(__clang__)
#define DCN_PRAGMA_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define DCN_PRAGMA_UNROLL _Pragma("GCC unroll 16")
#define DCN_UNROLL_FULL _Pragma("GCC unroll 32")
#else
#define DCN_PRAGMA_UNROLL
#endif
#ifndef DCN_UNROLL_FULL
#define DCN_UNROLL_FULL DCN_PRAGMA_UNROLL
#endif
