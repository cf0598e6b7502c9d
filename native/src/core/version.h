// SPDX-License-Identifier: MIT
// The binary interface version: @tvdcn/ops refuses a binary whose abiVersion() differs from its own
// constant (packages/ops/src/native/binding.ts, ABI_VERSION). Bump both together.
#pragma once

namespace dcn {
constexpr int kAbiVersion = 4;
}  // namespace dcn
