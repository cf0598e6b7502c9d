// SPDX-License-Identifier: MIT
// The Register(env, exports) function of every binding file; addon.cc calls each of them once.
#pragma once
#include <napi.h>

namespace dcn::napi {
void RegisterInfo(Napi::Env env, Napi::Object exports);
}  // namespace dcn::napi
