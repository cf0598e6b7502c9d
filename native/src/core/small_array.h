// SPDX-License-Identifier: MIT
// SmallArray<T, N>: a fixed-size array that is trivially copyable to the device, for sizes, strides
// and coordinates of the D spatial axes.
#pragma once
#include "core/macros.h"

namespace dcn {

template <typename T, int N>
struct SmallArray {
  T v[N];
  DCN_HOST_DEVICE DCN_INLINE T& operator[](int i) { return v[i]; }
  DCN_HOST_DEVICE DCN_INLINE const T& operator[](int i) const { return v[i]; }
  DCN_HOST_DEVICE DCN_INLINE T product() const {
    T p = 1;
    for (int i = 0; i < N; ++i) p *= v[i];
    return p;
  }
};

}  // namespace dcn
