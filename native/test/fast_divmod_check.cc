// SPDX-License-Identifier: MIT
// Checks NOTE [ Division by a run-time constant ] (core/fast_divmod.h) against the plain division on the host,
// where the same code runs as on the device but for the high multiply: every divisor up to 2^16 with the
// dividends around its multiples and the ends of the range, the divisors around each power of two up to 2^31, and
// random pairs. Prints one line and exits 1 at the first mismatch. Built and run by
// packages/ops/test/native/fast-divmod.test.ts.
#include <cstdint>
#include <cstdio>
#include <random>

#include "core/fast_divmod.h"

namespace {

uint64_t checked = 0;

bool check(uint32_t d, uint32_t n) {
  const dcn::FastDivmod f(d);
  uint32_t q, r;
  f.divmod(n, q, r);
  ++checked;
  if (q != n / d || r != n % d) {
    std::printf("fast-divmod: %u / %u gave %u rem %u, expected %u rem %u\n", n, d, q, r, n / d, n % d);
    return false;
  }
  int32_t qi, ri;
  f.divmod(static_cast<int32_t>(n), qi, ri);
  if (static_cast<uint32_t>(qi) != q || static_cast<uint32_t>(ri) != r) {
    std::printf("fast-divmod: the int32 form of %u / %u differs\n", n, d);
    return false;
  }
  return true;
}

// The dividends where a quotient changes (k * d - 1, k * d) for a spread of k, and the ends of [0, 2^31).
bool check_divisor(uint32_t d, std::mt19937_64& rng) {
  constexpr uint32_t kTop = 0x7fffffffu;
  for (uint32_t n = 0; n < 64; ++n)
    if (!check(d, n)) return false;
  for (uint32_t n = kTop - 63; n != 0 && n <= kTop; ++n)
    if (!check(d, n)) return false;
  const uint64_t kmax = kTop / d;
  for (int i = 0; i < 48; ++i) {
    const uint64_t k = i < 16 ? static_cast<uint64_t>(i) + 1 : (i < 32 ? kmax - (i - 16) : rng() % (kmax + 1));
    if (k == 0 || k > kmax) continue;
    const uint64_t n = k * d;
    if (!check(d, static_cast<uint32_t>(n - 1)) || !check(d, static_cast<uint32_t>(n))) return false;
    if (n + 1 <= kTop && !check(d, static_cast<uint32_t>(n + 1))) return false;
  }
  return true;
}

}  // namespace

int main() {
  std::mt19937_64 rng(1994);
  // A zero divisor (never used by the kernels) is taken as 1 rather than dividing by zero on the host.
  if (dcn::FastDivmod(0).divisor() != 1 || dcn::FastDivmod(0).div(12345) != 12345) {
    std::printf("fast-divmod: a zero divisor is not taken as 1\n");
    return 1;
  }
  for (uint32_t d = 1; d <= (1u << 16); ++d)
    if (!check_divisor(d, rng)) return 1;
  for (int l = 16; l <= 31; ++l) {
    const uint64_t p = uint64_t{1} << l;
    for (int64_t e = -40; e <= 40; ++e) {
      const int64_t d = static_cast<int64_t>(p) + e;
      if (d >= 1 && d <= (int64_t{1} << 31) && !check_divisor(static_cast<uint32_t>(d), rng)) return 1;
    }
  }
  for (int i = 0; i < 4000000; ++i) {
    const uint32_t d = static_cast<uint32_t>(rng() % 0x80000000u) + 1;
    const uint32_t n = static_cast<uint32_t>(rng() % 0x80000000u);
    if (!check(d, n)) return 1;
  }
  std::printf("fast-divmod: %llu divisions equal the plain ones\n", static_cast<unsigned long long>(checked));
  return 0;
}
