// SPDX-License-Identifier: MIT
// Run-time value -> compile-time constant switches. DCN_DIM_SWITCH instantiates its body for D = 1, 2, 3
// (three copies of every kernel: the price of keeping the dimension a template parameter).
#pragma once
#include "core/error.h"

// Runs the lambda body with `constexpr int NAME` equal to DIM (1, 2 or 3).
#define DCN_DIM_SWITCH(DIM, NAME, ...)                                                                                \
  [&] {                                                                                                               \
    switch (DIM) {                                                                                                    \
      case 1: {                                                                                                       \
        constexpr int NAME = 1;                                                                                       \
        return __VA_ARGS__();                                                                                         \
      }                                                                                                               \
      case 2: {                                                                                                       \
        constexpr int NAME = 2;                                                                                       \
        return __VA_ARGS__();                                                                                         \
      }                                                                                                               \
      case 3: {                                                                                                       \
        constexpr int NAME = 3;                                                                                       \
        return __VA_ARGS__();                                                                                         \
      }                                                                                                               \
      default: throw ::dcn::Error(::dcn::ErrorKind::kInternal, ::dcn::detail::concat("unsupported dimension ", DIM)); \
    }                                                                                                                 \
  }()
