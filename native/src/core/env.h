// SPDX-License-Identifier: MIT
// The library's environment variables: one reading rule for the numeric ones (TVDCN_NUM_THREADS,
// TVDCN_THREAD_NICE) and one for the switches that name a value (the A/B switches of the kernels).
#pragma once
#include <cstdlib>
#include <cstring>
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

// Whether the environment variable `name` is set to exactly `value`.
inline bool env_is(const char* name, const char* value) {
  const char* env = std::getenv(name);
  return env != nullptr && std::strcmp(env, value) == 0;
}

}  // namespace dcn
