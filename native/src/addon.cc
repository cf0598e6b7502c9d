// SPDX-License-Identifier: MIT
// Module entry point: registers every binding file's functions and nothing else.
#include <napi.h>

#include "napi/register.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  dcn::napi::RegisterCpuQueue(env, exports);
  dcn::napi::RegisterInfo(env, exports);
  dcn::napi::RegisterRuntime(env, exports);
  dcn::napi::RegisterDeformConv(env, exports);
  dcn::napi::RegisterMask(env, exports);
  dcn::napi::RegisterCudaMemory(env, exports);
  dcn::napi::RegisterElementwise(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(tvdcn, Init)
