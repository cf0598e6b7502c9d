// SPDX-License-Identifier: MIT
// The Register(env, exports) function of every binding file; addon.cc calls each of them once.
#pragma once
#include <napi.h>

namespace dcn::napi {
void RegisterInfo(Napi::Env env, Napi::Object exports);         // info_binding.cc
void RegisterRuntime(Napi::Env env, Napi::Object exports);      // runtime_binding.cc
void RegisterCpuQueue(Napi::Env env, Napi::Object exports);     // cpu_queue_binding.cc (first: the bindings use it)
void RegisterDeformConv(Napi::Env env, Napi::Object exports);   // deform_conv_binding.cc
void RegisterMask(Napi::Env env, Napi::Object exports);         // mask_binding.cc
void RegisterCudaMemory(Napi::Env env, Napi::Object exports);   // cuda_memory_binding.cc (no-op without CUDA)
void RegisterElementwise(Napi::Env env, Napi::Object exports);  // elementwise_binding.cc
}  // namespace dcn::napi
