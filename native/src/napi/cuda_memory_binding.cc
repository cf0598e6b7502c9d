// SPDX-License-Identifier: MIT
// CUDA memory for JS: DeviceBuffer (alloc, dispose, finalizer, environment cleanup), host<->device copies
// (the device->host copy also as a Promise that waits on a worker thread), allocator statistics and
// emptyCache, device selection, synchronize, the determinism switch and test-only event timing.
// Registers nothing in a CPU-only build.
#include "napi/register.h"

#ifdef TVDCN_WITH_CUDA
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <cuda_runtime.h>

#include "core/env.h"
#include "core/error.h"
#include "core/host_phase.h"
#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/profile.h"
#include "cuda_runtime/settings.h"
#include "cuda_runtime/stream.h"
#include "elementwise/cuda_ops.h"
#include "napi/cuda_buffer.h"
#include "napi/errors.h"

namespace dcn::napi {
namespace {

// Random 128-bit tags: a DeviceBuffer, and the External that only Adopt() can pass to the constructor.
constexpr napi_type_tag kBufferTag = {0x7d3c1f0a9b2e4c55ULL, 0xa1e6b7d84f2c9e13ULL};
constexpr napi_type_tag kCreateTag = {0x2b9e5d7c1a3f4e86ULL, 0xc4d2a9f1e7b35a08ULL};

struct CreateArgs {
  void* data;
  int device;
  DType dtype;
  int64_t numel;
};

// NOTE [ Device memory reported to V8 in steps ]
// The bytes of an environment's device buffers are reported to V8 (napi_adjust_external_memory) so that it
// collects dropped tensors under device-memory pressure. V8 starts a collection whenever the external memory
// reported to it has grown by more than 64 MB since its last one, so reporting each buffer as it came and went
// made every call that allocates a tensor of more than 64 MB pay for a collection step on the calling thread,
// with the GPU waiting for the next launch (a float32 forward of big-b32 or 1d-c256: 0.3-0.5 ms of host time
// per call against 0.03 in float16, whose outputs stay under 64 MB; docs/cuda.md, session 18). So one figure
// per environment is reported: it is set to the buffers' live bytes whenever they move more than
// kV8ReportStep away from it, and left alone otherwise. Allocating and freeing tensors of the same sizes call
// after call leaves it where it is; memory that keeps growing (tensors dropped without dispose()) is reported
// in steps of kV8ReportStep, so collections still keep pace with it. TVDCN_CUDA_V8_REPORT=exact (read once)
// reports every change, as before (an A/B switch).
constexpr int64_t kV8ReportStep = int64_t{256} << 20;

int64_t v8_report_step() {
  static const int64_t step = env_is("TVDCN_CUDA_V8_REPORT", "exact") ? 0 : kV8ReportStep;
  return step;
}

// Per environment: the class constructor, the live buffers (freed by the cleanup hook), their bytes and
// what V8 was told of them (NOTE [ Device memory reported to V8 in steps ]).
struct EnvState {
  Napi::FunctionReference ctor;
  std::unordered_set<DeviceBuffer*> live;
  int64_t live_bytes = 0;
  int64_t reported = 0;
  // After live_bytes changed (env_mutex held): the change to report to V8, and `reported` updated.
  int64_t report_delta() {
    const int64_t step = v8_report_step();
    if (live_bytes <= reported + step && live_bytes >= reported - step) return 0;
    const int64_t delta = live_bytes - reported;
    reported = live_bytes;
    return delta;
  }
};
std::mutex& env_mutex() {
  static auto* m = new std::mutex();
  return *m;
}
std::unordered_map<napi_env, EnvState*>& env_states() {
  static auto* m = new std::unordered_map<napi_env, EnvState*>();
  return *m;
}

void cleanup_env(void* arg) {
  auto env = static_cast<napi_env>(arg);
  EnvState* state = nullptr;
  {
    std::lock_guard<std::mutex> lock(env_mutex());
    auto it = env_states().find(env);
    if (it == env_states().end()) return;
    state = it->second;
    env_states().erase(it);
  }
  for (DeviceBuffer* b : state->live) b->Free(/*report=*/false);
  state->live.clear();
  // Return the cached blocks to the driver as well (they are free: safe for other environments), so that
  // no device memory of ours is held at exit (compute-sanitizer --leak-check full reports what is).
  if (cuda::device_count_or_zero() > 0) cuda::empty_cache(-1);
  state->ctor.SuppressDestruct();  // the environment is going away; leak the small state
}

}  // namespace

DType parse_dtype(Napi::Value value, const char* what) {
  if (value.IsString()) {
    const std::string s = value.As<Napi::String>().Utf8Value();
    if (s == "float32") return DType::kFloat32;
    if (s == "float64") return DType::kFloat64;
    if (s == "float16") return DType::kFloat16;
    if (s == "bfloat16") return DType::kBFloat16;
  }
  throw dcn::Error(ErrorKind::kType, detail::concat(what, ": expected 'float32', 'float64', 'float16' or 'bfloat16'"));
}

int64_t int_value(Napi::Value value, const char* what) {
  if (!value.IsNumber()) {
    throw dcn::Error(ErrorKind::kType, detail::concat(what, ": expected an integer"));
  }
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!(d == static_cast<double>(static_cast<int64_t>(d)))) {
    throw dcn::Error(ErrorKind::kType, detail::concat(what, ": expected an integer, but got ", d));
  }
  return static_cast<int64_t>(d);
}

std::vector<int64_t> int_array(Napi::Value value, const char* what) {
  if (!value.IsArray()) {
    throw dcn::Error(ErrorKind::kType, detail::concat(what, ": expected an array of integers"));
  }
  Napi::Array a = value.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = int_value(a.Get(i), what);
  return out;
}

// --- DeviceBuffer ---

void DeviceBuffer::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "DeviceBuffer",
      {InstanceAccessor<&DeviceBuffer::GetNumel>("numel"), InstanceAccessor<&DeviceBuffer::GetDType>("dtype"),
       InstanceAccessor<&DeviceBuffer::GetDevice>("device"),
       InstanceAccessor<&DeviceBuffer::GetByteLength>("byteLength"),
       InstanceAccessor<&DeviceBuffer::GetFreed>("freed")});
  auto* state = new EnvState();
  state->ctor = Napi::Persistent(ctor);
  {
    std::lock_guard<std::mutex> lock(env_mutex());
    env_states()[env] = state;
  }
  napi_add_env_cleanup_hook(env, cleanup_env, env);
}

Napi::Object DeviceBuffer::Create(Napi::Env env, int device, DType dtype, int64_t numel) {
  DCN_CHECK(numel >= 0, kRange, "cudaBufferAlloc: expected numel >= 0, but got ", numel);
  cuda::check_device_index(device);
  void* data = nullptr;
  {
    const HostPhase allocating("alloc:allocate");  // NOTE [ Host phases ]
    data = cuda::allocate(device, static_cast<std::size_t>(numel) * dtype_size(dtype));
  }
  return Adopt(env, device, dtype, numel, data);
}

Napi::Object DeviceBuffer::Adopt(Napi::Env env, int device, DType dtype, int64_t numel, void* data) {
  const HostPhase wrapping("alloc:object");  // NOTE [ Host phases ]
  CreateArgs args{data, device, dtype, numel};
  Napi::Object obj;
  try {
    EnvState* state = nullptr;
    {
      std::lock_guard<std::mutex> lock(env_mutex());
      auto it = env_states().find(env);
      DCN_CHECK(it != env_states().end(), kInternal,
                "cudaBufferAlloc: internal error: the CUDA bindings of this environment were not "
                "initialized, please report");
      state = it->second;
    }
    Napi::External<CreateArgs> ext = Napi::External<CreateArgs>::New(env, &args);
    ext.TypeTag(&kCreateTag);
    obj = state->ctor.New({ext});
  } catch (...) {
    cuda::release(device, data);
    throw;
  }
  obj.TypeTag(&kBufferTag);
  return obj;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal() ||
      !info[0].As<Napi::External<CreateArgs>>().CheckTypeTag(&kCreateTag)) {
    throw Napi::TypeError::New(env, "DeviceBuffer: not constructible from JS; use cudaBufferAlloc()");
  }
  const CreateArgs* args = info[0].As<Napi::External<CreateArgs>>().Data();
  data_ = args->data;
  device_ = args->device;
  dtype_ = args->dtype;
  numel_ = args->numel;
  freed_ = false;
  env_ = env;
  int64_t delta = 0;
  {
    std::lock_guard<std::mutex> lock(env_mutex());
    auto it = env_states().find(env);
    if (it != env_states().end()) {
      it->second->live.insert(this);
      it->second->live_bytes += static_cast<int64_t>(bytes());
      counted_ = true;
      delta = it->second->report_delta();
    }
  }
  int64_t external = 0;
  if (delta != 0) napi_adjust_external_memory(env, delta, &external);
}

DeviceBuffer::~DeviceBuffer() {
  {
    std::lock_guard<std::mutex> lock(env_mutex());
    auto it = env_states().find(env_);
    if (it != env_states().end()) it->second->live.erase(this);
  }
  Free();
}

void DeviceBuffer::Free(bool report) {
  if (freed_) return;
  freed_ = true;
  cuda::release(device_, data_);
  data_ = nullptr;
  if (!counted_) return;
  counted_ = false;
  int64_t delta = 0;
  {
    std::lock_guard<std::mutex> lock(env_mutex());
    auto it = env_states().find(env_);
    if (it == env_states().end()) return;  // the environment is being torn down
    it->second->live_bytes -= static_cast<int64_t>(bytes());
    delta = it->second->report_delta();
  }
  int64_t external = 0;
  if (delta != 0 && report) napi_adjust_external_memory(env_, delta, &external);
}

bool DeviceBuffer::Is(Napi::Value value) {
  return value.IsObject() && value.As<Napi::Object>().CheckTypeTag(&kBufferTag);
}

DeviceBuffer* DeviceBuffer::Tagged(Napi::Value value) { return Is(value) ? Unwrap(value.As<Napi::Object>()) : nullptr; }

DeviceBuffer* DeviceBuffer::From(Napi::Value value, const char* what) {
  if (!Is(value)) {
    throw dcn::Error(ErrorKind::kType, detail::concat(what, ": expected a CUDA device buffer of this addon"));
  }
  DeviceBuffer* b = Unwrap(value.As<Napi::Object>());
  if (b == nullptr || b->freed_) {
    throw dcn::Error(ErrorKind::kValue, detail::concat(what,
                                                       ": the device buffer was already freed (a disposed "
                                                       "tensor?); internal error, please report"));
  }
  return b;
}

Napi::Value DeviceBuffer::GetNumel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(numel_));
}
Napi::Value DeviceBuffer::GetDType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtype_name(dtype_));
}
Napi::Value DeviceBuffer::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value DeviceBuffer::GetByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(bytes()));
}
Napi::Value DeviceBuffer::GetFreed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), freed_); }

namespace {

// --- copies ---

// Which typed array a read of `dtype` returns: float64 for float64, float32 for the others.
DType read_dtype(DType t) { return t == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32; }

Napi::TypedArray new_read_array(Napi::Env env, DType t, int64_t numel) {
  if (read_dtype(t) == DType::kFloat64) return Napi::Float64Array::New(env, numel);
  return Napi::Float32Array::New(env, numel);
}

// cudaBufferAlloc(device, dtype, numel) -> DeviceBuffer (uninitialized)
Napi::Value BufferAlloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = static_cast<int>(int_value(info[0], "cudaBufferAlloc device"));
    const DType dtype = parse_dtype(info[1], "cudaBufferAlloc dtype");
    const int64_t numel = int_value(info[2], "cudaBufferAlloc numel");
    return DeviceBuffer::Create(info.Env(), device, dtype, numel);
  });
}

// cudaBufferFree(buffer): returns the memory now (idempotent).
Napi::Value BufferFree(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!DeviceBuffer::Is(info[0])) {
      throw dcn::Error(ErrorKind::kType, "cudaBufferFree: expected a CUDA device buffer");
    }
    DeviceBuffer::Unwrap(info[0].As<Napi::Object>())->Free();
    return info.Env().Undefined();
  });
}

// cudaUpload(buffer, Float32Array | Float64Array): converts to the buffer's dtype on the device.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DeviceBuffer* b = DeviceBuffer::From(info[0], "cudaUpload");
    if (!info[1].IsTypedArray()) throw dcn::Error(ErrorKind::kType, "cudaUpload: expected a typed array");
    Napi::TypedArray arr = info[1].As<Napi::TypedArray>();
    DType src_t;
    if (arr.TypedArrayType() == napi_float32_array)
      src_t = DType::kFloat32;
    else if (arr.TypedArrayType() == napi_float64_array)
      src_t = DType::kFloat64;
    else
      throw dcn::Error(ErrorKind::kType, "cudaUpload: expected a Float32Array or Float64Array");
    DCN_CHECK(static_cast<int64_t>(arr.ElementLength()) == b->numel(), kValue, "cudaUpload: expected ", b->numel(),
              " values, but got ", arr.ElementLength());
    if (b->numel() == 0) return info.Env().Undefined();
    const void* host = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    cuda::DeviceGuard guard(b->device());
    cudaStream_t s = cuda::stream(b->device());
    if (src_t == b->dtype()) {
      // Pageable source: the call returns once the values are staged, so `arr` may change afterwards.
      DCN_CUDA_CHECK(cudaMemcpyAsync(b->data(), host, b->bytes(), cudaMemcpyHostToDevice, s));
    } else {
      cuda::Workspace tmp(b->device(), static_cast<std::size_t>(b->numel()) * dtype_size(src_t));
      DCN_CUDA_CHECK(cudaMemcpyAsync(tmp.get(), host, static_cast<std::size_t>(b->numel()) * dtype_size(src_t),
                                     cudaMemcpyHostToDevice, s));
      cuda::cast(b->device(), src_t, tmp.get(), b->dtype(), b->data(), b->numel());
    }
    return info.Env().Undefined();
  });
}

// Enqueues the device->host copy of `b` (widened to float32 for the half types) into `dst`, staging
// through a temporary device buffer for the half types. Returns the copied byte count.
std::size_t enqueue_read(DeviceBuffer* b, void* dst, cudaStream_t s) {
  const DType rt = read_dtype(b->dtype());
  const std::size_t bytes = static_cast<std::size_t>(b->numel()) * dtype_size(rt);
  if (bytes == 0) return 0;
  if (rt == b->dtype()) {
    DCN_CUDA_CHECK(cudaMemcpyAsync(dst, b->data(), bytes, cudaMemcpyDeviceToHost, s));
  } else {
    cuda::Workspace tmp(b->device(), bytes);
    cuda::cast(b->device(), b->dtype(), b->data(), rt, tmp.get(), b->numel());
    DCN_CUDA_CHECK(cudaMemcpyAsync(dst, tmp.get(), bytes, cudaMemcpyDeviceToHost, s));
  }
  return bytes;
}

// cudaDownload(buffer) -> Float32Array | Float64Array (a fresh array; waits for the device).
Napi::Value Download(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DeviceBuffer* b = DeviceBuffer::From(info[0], "cudaDownload");
    Napi::TypedArray out = new_read_array(info.Env(), b->dtype(), b->numel());
    if (b->numel() == 0) return out;
    cuda::DeviceGuard guard(b->device());
    cudaStream_t s = cuda::stream(b->device());
    void* dst = static_cast<char*>(out.ArrayBuffer().Data()) + out.ByteOffset();
    enqueue_read(b, dst, s);
    DCN_CUDA_CHECK(cudaStreamSynchronize(s));
    return out;
  });
}

// Waits on a worker thread for a copy into pinned memory, then moves it into the JS array.
class DownloadWorker : public Napi::AsyncWorker {
 public:
  DownloadWorker(Napi::Env env, Napi::TypedArray out, void* pinned, std::size_t bytes, cudaEvent_t done, int device)
      : Napi::AsyncWorker(env, "tvdcn:cudaDownloadAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        out_(Napi::Persistent(static_cast<Napi::Object>(out))),
        dst_(static_cast<char*>(out.ArrayBuffer().Data()) + out.ByteOffset()),
        pinned_(pinned),
        bytes_(bytes),
        done_(done),
        device_(device) {}
  ~DownloadWorker() override {
    cuda::release_pinned(pinned_);
    if (done_ != nullptr) cudaEventDestroy(done_);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {  // no N-API here
    cudaSetDevice(device_);
    const cudaError_t err = cudaEventSynchronize(done_);
    if (err != cudaSuccess) {
      SetError(std::string("CUDA error in cudaEventSynchronize: ") + cudaGetErrorName(err) + " (" +
               cudaGetErrorString(err) + ")");
      return;
    }
    std::memcpy(dst_, pinned_, bytes_);
  }
  void OnOK() override { deferred_.Resolve(out_.Value()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference out_;
  void* dst_;
  void* pinned_;
  std::size_t bytes_;
  cudaEvent_t done_;
  int device_;
};

// cudaDownloadAsync(buffer) -> Promise<Float32Array | Float64Array>. The copy is enqueued now (so the
// values are those of this point in stream order) and awaited without blocking the event loop.
Napi::Value DownloadAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    DeviceBuffer* b = DeviceBuffer::From(info[0], "cudaDownloadAsync");
    Napi::TypedArray out = new_read_array(env, b->dtype(), b->numel());
    if (b->numel() == 0) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(out);
      return d.Promise();
    }
    cuda::DeviceGuard guard(b->device());
    cudaStream_t s = cuda::stream(b->device());
    const std::size_t bytes = static_cast<std::size_t>(b->numel()) * dtype_size(read_dtype(b->dtype()));
    void* pinned = cuda::allocate_pinned(bytes);
    cudaEvent_t done = nullptr;
    try {
      enqueue_read(b, pinned, s);
      DCN_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
      DCN_CUDA_CHECK(cudaEventRecord(done, s));
    } catch (...) {
      cuda::release_pinned(pinned);
      if (done != nullptr) cudaEventDestroy(done);
      throw;
    }
    auto* worker = new DownloadWorker(env, out, pinned, bytes, done, b->device());
    Napi::Promise p = worker->Promise();
    worker->Queue();
    return p;
  });
}

// --- memory statistics and device control ---

int device_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || info[i].IsUndefined()) {
    int d = 0;
    DCN_CUDA_CHECK(cudaGetDevice(&d));
    return d;
  }
  return static_cast<int>(int_value(info[i], what));
}

// cudaMemoryStats(device?) -> { allocated, cached, reserved, peakAllocated, requested, ... }
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = device_arg(info, 0, "cudaMemoryStats device");
    cuda::check_device_index(device);
    const auto st = cuda::memory_stats(device);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("allocated", Napi::Number::New(env, static_cast<double>(st.allocated)));
    o.Set("cached", Napi::Number::New(env, static_cast<double>(st.cached)));
    o.Set("reserved", Napi::Number::New(env, static_cast<double>(st.allocated + st.cached)));
    o.Set("peakAllocated", Napi::Number::New(env, static_cast<double>(st.peak_allocated)));
    o.Set("requested", Napi::Number::New(env, static_cast<double>(st.requested)));
    o.Set("blocks", Napi::Number::New(env, static_cast<double>(st.blocks_in_use)));
    o.Set("allocCount", Napi::Number::New(env, static_cast<double>(st.alloc_count)));
    o.Set("cudaMallocCount", Napi::Number::New(env, static_cast<double>(st.cuda_malloc_count)));
    return o;
  });
}

// cudaEmptyCache(device?): frees cached blocks (all devices when omitted).
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device =
        info.Length() > 0 && !info[0].IsUndefined() ? static_cast<int>(int_value(info[0], "device")) : -1;
    cuda::empty_cache(device);
    return info.Env().Undefined();
  });
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = device_arg(info, 0, "cudaResetPeakMemory device");
    cuda::check_device_index(device);
    cuda::reset_peak(device);
    return info.Env().Undefined();
  });
}

// cudaSynchronize(device?): waits for the addon's stream of the device (all devices when omitted).
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      const int device = static_cast<int>(int_value(info[0], "cudaSynchronize device"));
      cuda::DeviceGuard guard(device);
      DCN_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(device)));
    } else {
      for (int d = 0; d < cuda::device_count_or_zero(); ++d) {
        cuda::DeviceGuard guard(d);
        DCN_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(d)));
      }
    }
    return info.Env().Undefined();
  });
}

Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = static_cast<int>(int_value(info[0], "cudaSetDevice device"));
    cuda::check_device_index(device);
    DCN_CUDA_CHECK(cudaSetDevice(device));
    return info.Env().Undefined();
  });
}

Napi::Value GetDevice(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int d = 0;
    DCN_CUDA_CHECK(cudaGetDevice(&d));
    return Napi::Number::New(info.Env(), d);
  });
}

// cudaMemGetInfo(device?) -> { free, total } bytes of the device as the driver reports them.
Napi::Value MemGetInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = device_arg(info, 0, "cudaMemGetInfo device");
    cuda::DeviceGuard guard(device);
    std::size_t free_b = 0, total_b = 0;
    DCN_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("free", Napi::Number::New(info.Env(), static_cast<double>(free_b)));
    o.Set("total", Napi::Number::New(info.Env(), static_cast<double>(total_b)));
    return o;
  });
}

// cudaDeviceProperties(device?) -> { name, major, minor, multiProcessorCount, totalMemory, l2CacheSize }
Napi::Value DeviceProperties(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = device_arg(info, 0, "cudaDeviceProperties device");
    cuda::check_device_index(device);
    cudaDeviceProp p{};
    DCN_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, p.name));
    o.Set("major", Napi::Number::New(env, p.major));
    o.Set("minor", Napi::Number::New(env, p.minor));
    o.Set("multiProcessorCount", Napi::Number::New(env, p.multiProcessorCount));
    o.Set("totalMemory", Napi::Number::New(env, static_cast<double>(p.totalGlobalMem)));
    o.Set("l2CacheSize", Napi::Number::New(env, p.l2CacheSize));
    return o;
  });
}

Napi::Value SetDeterministic(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw dcn::Error(ErrorKind::kType, "setDeterministic: expected a boolean");
    cuda::set_deterministic(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetDeterministic(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cuda::deterministic());
}

// cudaSetFloat32Matmul('float32' | 'tf32x3' | 'tf32')
Napi::Value SetFloat32Matmul(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const std::string s = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (s == "float32")
      cuda::set_float32_matmul(cuda::Float32Matmul::kFloat32);
    else if (s == "tf32x3")
      cuda::set_float32_matmul(cuda::Float32Matmul::kTf32x3);
    else if (s == "tf32")
      cuda::set_float32_matmul(cuda::Float32Matmul::kTf32);
    else
      throw dcn::Error(ErrorKind::kType, "cudaSetFloat32Matmul: expected 'float32', 'tf32x3' or 'tf32'");
    return info.Env().Undefined();
  });
}

Napi::Value GetFloat32Matmul(const Napi::CallbackInfo& info) {
  switch (cuda::float32_matmul()) {
    case cuda::Float32Matmul::kTf32x3: return Napi::String::New(info.Env(), "tf32x3");
    case cuda::Float32Matmul::kTf32: return Napi::String::New(info.Env(), "tf32");
    default: return Napi::String::New(info.Env(), "float32");
  }
}

// cudaSetWorkspaceLimit(bytes): upper bound of one deformable-convolution column chunk.
Napi::Value SetWorkspaceLimit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t bytes = int_value(info[0], "cudaSetWorkspaceLimit bytes");
    DCN_CHECK(bytes >= (1 << 20), kRange, "cudaSetWorkspaceLimit: expected at least 1 MiB, but got ", bytes);
    cuda::workspace_limit_flag().store(bytes);
    return info.Env().Undefined();
  });
}

// --- test-only event timing, the phase profiler and tile switches ---

// _cudaSetGemmWideTiles(on): allows or forbids the 128 x 256 float32 GEMM tiles (benchmarks).
Napi::Value SetGemmWideTiles(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw dcn::Error(ErrorKind::kType, "_cudaSetGemmWideTiles: expected a boolean");
    cuda::gemm_wide_tiles_flag().store(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

// _cudaSetGemmVectorLoads(on): allows or forbids the 16-bit GEMM's vector loads (tests).
Napi::Value SetGemmVectorLoads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw dcn::Error(ErrorKind::kType, "_cudaSetGemmVectorLoads: expected a boolean");
    cuda::gemm_vector_loads_flag().store(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

// _cudaWgmmaLaunches(): how many times the Hopper warpgroup GEMM has been launched (tests).
Napi::Value WgmmaLaunches(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(cuda::wgmma_launches().load()));
  });
}

// _cudaIm2colDivisorLaunches(): how many im2col launches divided with host-made divisors (tests).
Napi::Value Im2colDivisorLaunches(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(cuda::im2col_divisor_launches().load()));
  });
}

// _cudaTf32PlanesLaunches(): how many times the TF32 warpgroup GEMM's A planes were made before a product (tests).
Napi::Value Tf32PlanesLaunches(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(cuda::tf32_planes_launches().load()));
  });
}

// _cudaV8Report(): { live, reported }: the bytes of this environment's live device buffers and what V8 was
// told of them (NOTE [ Device memory reported to V8 in steps ]; tests).
Napi::Value V8Report(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object o = Napi::Object::New(info.Env());
    std::lock_guard<std::mutex> lock(env_mutex());
    auto it = env_states().find(info.Env());
    const EnvState* st = it == env_states().end() ? nullptr : it->second;
    o.Set("live", Napi::Number::New(info.Env(), st ? static_cast<double>(st->live_bytes) : 0.0));
    o.Set("reported", Napi::Number::New(info.Env(), st ? static_cast<double>(st->reported) : 0.0));
    return o;
  });
}

// _cudaSetFusedConv(on, force?): allows (default: where it measured faster) or forbids the fused
// implicit-GEMM forward; with force, wherever it applies (tests, benchmarks).
Napi::Value SetFusedConv(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean() || (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsBoolean())) {
      throw dcn::Error(ErrorKind::kType, "_cudaSetFusedConv: expected (boolean, boolean?)");
    }
    const bool on = info[0].As<Napi::Boolean>().Value();
    const bool force = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    cuda::fused_conv_flag().store(static_cast<int>(!on     ? cuda::FusedConv::kOff
                                                   : force ? cuda::FusedConv::kForce
                                                           : cuda::FusedConv::kAuto));
    return info.Env().Undefined();
  });
}

// _cudaProfile(on | 'host'): turns the phase profiler on (CUDA events per phase), to its host mode (the host's time
// per phase, NOTE [ Host phases ]) or off; _cudaProfileReport() -> { phase: ms } since the last report (waits for
// the GPU), and in it each host phase as 'host:<name>' (its total ms) and 'host:<name>:calls'.
Napi::Value Profile(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const bool host = info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "host";
    if (!host && !info[0].IsBoolean()) {
      throw dcn::Error(ErrorKind::kType, "_cudaProfile: expected a boolean or 'host'");
    }
    cuda::profile_flag().store(!host && info[0].As<Napi::Boolean>().Value());
    host_phase_flag().store(host);
    return info.Env().Undefined();
  });
}

Napi::Value ProfileReport(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    for (const auto& [name, ms] : cuda::profile_report()) o.Set(name, Napi::Number::New(env, ms));
    for (const auto& [name, t] : host_phase_report()) {
      o.Set("host:" + name, Napi::Number::New(env, static_cast<double>(t.ns) / 1e6));
      o.Set("host:" + name + ":calls", Napi::Number::New(env, static_cast<double>(t.count)));
    }
    return o;
  });
}

void destroy_event(Napi::Env, cudaEvent_t* e) {
  cudaEventDestroy(*e);
  delete e;
}

// _cudaEventRecord(device?) -> an opaque event recorded on the device's stream now.
Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int device = device_arg(info, 0, "_cudaEventRecord device");
    cuda::DeviceGuard guard(device);
    auto* e = new cudaEvent_t(nullptr);
    const cudaError_t err = cudaEventCreate(e);
    if (err != cudaSuccess) {
      delete e;
      cuda::throw_cuda_error(err, "cudaEventCreate");
    }
    DCN_CUDA_CHECK(cudaEventRecord(*e, cuda::stream(device)));
    return Napi::External<cudaEvent_t>::New(info.Env(), e, destroy_event);
  });
}

// _cudaEventElapsedMs(start, end) -> milliseconds between two recorded events (waits for `end`).
Napi::Value EventElapsed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsExternal() || !info[1].IsExternal()) {
      throw dcn::Error(ErrorKind::kType, "_cudaEventElapsedMs: expected two events");
    }
    cudaEvent_t a = *info[0].As<Napi::External<cudaEvent_t>>().Data();
    cudaEvent_t b = *info[1].As<Napi::External<cudaEvent_t>>().Data();
    DCN_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    DCN_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return Napi::Number::New(info.Env(), ms);
  });
}

}  // namespace

void RegisterCudaMemory(Napi::Env env, Napi::Object exports) {
  DeviceBuffer::Init(env);
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  fn("cudaBufferAlloc", BufferAlloc);
  fn("cudaBufferFree", BufferFree);
  fn("cudaUpload", Upload);
  fn("cudaDownload", Download);
  fn("cudaDownloadAsync", DownloadAsync);
  fn("cudaMemoryStats", MemoryStats);
  fn("cudaEmptyCache", EmptyCache);
  fn("cudaResetPeakMemory", ResetPeak);
  fn("cudaSynchronize", Synchronize);
  fn("cudaSetDevice", SetDevice);
  fn("cudaGetDevice", GetDevice);
  fn("cudaMemGetInfo", MemGetInfo);
  fn("cudaDeviceProperties", DeviceProperties);
  fn("setDeterministic", SetDeterministic);
  fn("getDeterministic", GetDeterministic);
  fn("cudaSetFloat32Matmul", SetFloat32Matmul);
  fn("cudaGetFloat32Matmul", GetFloat32Matmul);
  fn("cudaSetWorkspaceLimit", SetWorkspaceLimit);
  fn("_cudaEventRecord", EventRecord);
  fn("_cudaEventElapsedMs", EventElapsed);
  fn("_cudaProfile", Profile);
  fn("_cudaSetGemmWideTiles", SetGemmWideTiles);
  fn("_cudaSetGemmVectorLoads", SetGemmVectorLoads);
  fn("_cudaWgmmaLaunches", WgmmaLaunches);
  fn("_cudaTf32PlanesLaunches", Tf32PlanesLaunches);
  fn("_cudaIm2colDivisorLaunches", Im2colDivisorLaunches);
  fn("_cudaV8Report", V8Report);
  fn("_cudaSetFusedConv", SetFusedConv);
  fn("_cudaProfileReport", ProfileReport);
}

}  // namespace dcn::napi

#else  // !TVDCN_WITH_CUDA

namespace dcn::napi {
void RegisterCudaMemory(Napi::Env, Napi::Object) {}
}  // namespace dcn::napi

#endif  // TVDCN_WITH_CUDA
