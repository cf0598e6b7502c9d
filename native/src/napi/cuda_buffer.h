// SPDX-License-Identifier: MIT
// DeviceBuffer: the JS handle of one block of CUDA device memory (a Napi::ObjectWrap carrying a type
// tag, so forged or foreign objects are refused). Freed by dispose (cudaBufferFree), else by its
// finalizer, else by the environment's cleanup hook. Its bytes count towards what is reported to V8 as
// external memory while it lives (in steps: NOTE [ Device memory reported to V8 in steps ] in
// cuda_memory_binding.cc), so that V8 collects dropped tensors under device-memory pressure. Also the helpers the CUDA
// bindings share: dtype parsing and number arrays. CUDA build only.
#pragma once
#ifdef TVDCN_WITH_CUDA
#include <cstdint>
#include <vector>

#include <napi.h>

#include "core/dtype.h"

namespace dcn::napi {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  // Defines the class for `env` (once) and keeps its constructor for Create().
  static void Init(Napi::Env env);
  // A new buffer of `numel` elements of `dtype` on `device` (uninitialized memory).
  static Napi::Object Create(Napi::Env env, int device, DType dtype, int64_t numel);
  // The buffer of `data`, a block of cuda::allocate() on `device` holding `numel` elements of `dtype`, which it
  // then owns (released if this throws): the output a binding allocated itself (NOTE [ The forward's output made
  // after its launches ] in deform_conv_binding.cc).
  static Napi::Object Adopt(Napi::Env env, int device, DType dtype, int64_t numel, void* data);
  // The live buffer behind `value`; throws a JS TypeError naming `what` for anything else, and an
  // Error for a freed buffer.
  static DeviceBuffer* From(Napi::Value value, const char* what);
  // True when `value` is a DeviceBuffer of this addon (live or freed).
  static bool Is(Napi::Value value);
  // The buffer behind `value` when it is a DeviceBuffer of this addon (live or freed: test freed()),
  // else nullptr: one type-tag check and one unwrap.
  static DeviceBuffer* Tagged(Napi::Value value);

  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override;

  void* data() const { return data_; }
  int device() const { return device_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool freed() const { return freed_; }
  // Returns the memory to the caching allocator; later use throws. Idempotent. `report` false skips
  // telling V8 (the environment is being torn down).
  void Free(bool report = true);

 private:
  Napi::Value GetNumel(const Napi::CallbackInfo& info);
  Napi::Value GetDType(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetByteLength(const Napi::CallbackInfo& info);
  Napi::Value GetFreed(const Napi::CallbackInfo& info);

  void* data_ = nullptr;
  int device_ = 0;
  DType dtype_ = DType::kFloat32;
  int64_t numel_ = 0;
  bool freed_ = true;
  bool counted_ = false;  // bytes() was added to the environment's live bytes (reported to V8 in steps)
  napi_env env_ = nullptr;
};

// 'float32' | 'float64' | 'float16' | 'bfloat16' -> DType; TypeError otherwise.
DType parse_dtype(Napi::Value value, const char* what);
// A JS array of integers -> int64 values; TypeError otherwise.
std::vector<int64_t> int_array(Napi::Value value, const char* what);
int64_t int_value(Napi::Value value, const char* what);

}  // namespace dcn::napi
#endif  // TVDCN_WITH_CUDA
