// SPDX-License-Identifier: MIT
// The library's numeric environment variables (TVDCN_NUM_THREADS, TVDCN_THREAD_NICE): one reading rule.
#pragma once
#include <cstdlib>
#include <optional>

namespace dcn {

// The value of the environment variable `name` when it is a non-empty string of decimal digits (no sign,
// no spaces; a value beyond long long reads as its maximum), else nullopt: the callers apply their range.
inline std::optional<long long> env_decimal(const char* name) {
  const char* env = std::getenv(name);
  if (env == nullptr || env[0] == '\0') return std::nullopt;
  for (const char* c = env; *c; ++c) {
    if (*c < '0' || *c > '9') return std::nullopt;
  }
  return std::strtoll(env, nullptr, 10);
}

}  // namespace dcn
