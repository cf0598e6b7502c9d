// SPDX-License-Identifier: MIT
// NOTE [ Division by a run-time constant ]
// A 32-bit integer division on the GPU is a ~20-instruction sequence (no divide unit), and the sampling kernels
// unravel every thread's flat index with several of them: im2col_kernel does 2 * D + 5 per sample (the chunk's
// positions, kernel points, slices and offset groups, then each axis of the position and of the kernel point, and
// the mask group), which Nsight Compute found to be a large part of a thread kernel that is bound by issue
// (docs/cuda.md, session 28). The divisors are the same for the whole launch, so the host turns each into a
// multiplier and a shift once (Granlund and Montgomery, "Division by invariant integers using multiplication",
// 1994, the round-up method with an N+1-bit multiplier) and the device divides with one high multiply, an add
// and a shift.
//
// For a divisor d in [1, 2^31] let l = ceil(log2 d) and m = floor(2^32 * (2^l - d) / d) + 1 (m < 2^32 because
// 2^l < 2d). Then for every n in [0, 2^31): n / d == (umulhi(m, n) + n) >> l, where umulhi(m, n) < n keeps the
// sum below 2^32. The int32 kernels' indices are non-negative and below 2^31 (NOTE [ Index type ]), so this is
// exact for them; native/test/fast_divmod_check.cc checks it against the plain division.
#pragma once
#include <cstdint>

#include "core/macros.h"

namespace dcn {

class FastDivmod {
 public:
  // Division by 1 (the multiplier of d = 1).
  constexpr FastDivmod() = default;

  // Host side: d in [1, 2^31] (0 is taken as 1, so that no input can divide by zero here; callers use the plain
  // division for empty sizes).
  explicit FastDivmod(uint32_t d) : divisor_(d == 0 ? 1 : d) {
    d = divisor_;
    uint32_t l = 0;
    while ((uint64_t{1} << l) < d) ++l;
    shift_ = l;
    multiplier_ = static_cast<uint32_t>((uint64_t{1} << 32) * ((uint64_t{1} << l) - d) / d + 1);
  }

  DCN_HOST_DEVICE DCN_INLINE uint32_t divisor() const { return divisor_; }

  // n / d for n in [0, 2^31).
  DCN_HOST_DEVICE DCN_INLINE uint32_t div(uint32_t n) const { return (mul_high(multiplier_, n) + n) >> shift_; }

  // n / d into q and n % d into r, for n in [0, 2^31).
  DCN_HOST_DEVICE DCN_INLINE void divmod(uint32_t n, uint32_t& q, uint32_t& r) const {
    q = div(n);
    r = n - q * divisor_;
  }

  // The int32 kernels' form: n in [0, 2^31) as int32_t, quotient and remainder as int32_t.
  DCN_HOST_DEVICE DCN_INLINE void divmod(int32_t n, int32_t& q, int32_t& r) const {
    uint32_t uq, ur;
    divmod(static_cast<uint32_t>(n), uq, ur);
    q = static_cast<int32_t>(uq);
    r = static_cast<int32_t>(ur);
  }

 private:
  static DCN_HOST_DEVICE DCN_INLINE uint32_t mul_high(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __umulhi(a, b);
#else
    return static_cast<uint32_t>((uint64_t{a} * b) >> 32);
#endif
  }

  uint32_t divisor_ = 1;
  uint32_t multiplier_ = 1;
  uint32_t shift_ = 0;
};

}  // namespace dcn
