// SPDX-License-Identifier: MIT
// Build and runtime information: abiVersion, buildInfo, cudaDeviceCount (used by the loader).
#include <thread>

#include "core/version.h"
#include "napi/register.h"
#ifdef TVDCN_WITH_CUDA
#include <cuda.h>

#include "cuda_runtime/device_info.h"
#endif

namespace dcn::napi {
namespace {
Napi::Value AbiVersion(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), kAbiVersion); }

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef TVDCN_WITH_CUDA
  out.Set("withCuda", true);
  out.Set("cudaVersion", Napi::Number::New(env, CUDA_VERSION));
  out.Set("cudaArchList", Napi::String::New(env, TVDCN_CUDA_ARCH_LIST));
#else
  out.Set("withCuda", false);
  out.Set("cudaVersion", Napi::Number::New(env, -1));
  out.Set("cudaArchList", Napi::String::New(env, ""));
#endif
  out.Set("hardwareConcurrency", Napi::Number::New(env, static_cast<double>(std::thread::hardware_concurrency())));
  out.Set("compiler", Napi::String::New(env, __VERSION__));
  return out;
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef TVDCN_WITH_CUDA
  auto r = dcn::cuda::device_count();
  out.Set("count", Napi::Number::New(env, r.count));
  out.Set("error", Napi::Number::New(env, r.error));
  out.Set("reason", Napi::String::New(env, r.reason));
#else
  out.Set("count", Napi::Number::New(env, 0));
  out.Set("error", Napi::Number::New(env, -1));
  out.Set("reason", Napi::String::New(env, "this binary was built without CUDA"));
#endif
  return out;
}
}  // namespace

void RegisterInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Function::New(env, AbiVersion, "abiVersion"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
}
}  // namespace dcn::napi
