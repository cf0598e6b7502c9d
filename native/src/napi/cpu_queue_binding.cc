// SPDX-License-Identifier: MIT
// The JS exports of the CPU execution queue (napi/cpu_queue.h; typed in packages/ops/src/native/binding.ts):
// cpuQueueSync, cpuQueueRead, cpuQueueForget, and the `_`-prefixed hooks of tests and benchmarks
// _setCpuQueue, _setCpuInlineCost, _injectCpuFault, _cpuQueueStats.
#include <string>

#include "core/parallel.h"
#include "napi/cpu_queue.h"
#include "napi/errors.h"
#include "napi/register.h"
#include "napi/tensor_arg.h"

namespace dcn::napi {
namespace {

constexpr int64_t kMaxId = (int64_t{1} << 53) - 1;

// cpuQueueSync(seq) -> completed | { completed, poisoned: [{ id, error }] }
Napi::Value CpuQueueSync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t seq = int_arg("cpuQueueSync", "seq", info[0], 0, kMaxId);
    return CpuQueue::of(info.Env()).sync(info.Env(), static_cast<uint64_t>(seq));
  });
}

// cpuQueueRead(src: NativeTensor, dst: Float32Array | Float64Array) -> Promise<dst>
Napi::Value CpuQueueRead(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "cpuQueueRead";
    TensorArgs tensors(op);
    const TensorView& src = tensors.add("src", info[0], false);
    // dst: a typed array of src's dtype and element count.
    const Napi::Value dst_v = info[1];
    DCN_CHECK(dst_v.IsTypedArray(), kType, op, ": expected dst to be a typed array");
    TensorView dst = src;
    bind_data(op, "dst", dst_v, dst);
    tensors.finalize();
    DCN_CHECK(src.device.type == DeviceType::kCPU, kValue, op, ": expected src to be on the CPU");
    bind_data(op, "dst", dst_v, dst);  // again: reading src may have run JS
    expect_no_overlap(op, {{"dst", &dst}}, {{"src", &src}});
    return CpuQueue::of(info.Env())
        .read_async(info.Env(), tensors.data_of(0), tensors.id_of(0), src.data, dst_v, dst.data,
                    static_cast<size_t>(src.numel()) * dtype_size(src.dtype));
  });
}

// cpuQueueForget(id): the storage was freed; drop its poison entry.
Napi::Value CpuQueueForget(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t id = int_arg("cpuQueueForget", "id", info[0], 0, kMaxId);
    CpuQueue::of(info.Env()).forget(static_cast<uint64_t>(id));
    return info.Env().Undefined();
  });
}

// _setCpuQueue(on) -> the previous setting. Off: CPU ops run synchronously on the calling thread (after
// draining the queue), as before the queue existed; for benchmarks and tests.
Napi::Value SetCpuQueue(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsBoolean(), kType, "_setCpuQueue: expected on to be a boolean");
    CpuQueue& q = CpuQueue::of(info.Env());
    const bool was = q.enabled();
    q.set_enabled(info.Env(), info[0].As<Napi::Boolean>().Value());
    return Napi::Boolean::New(info.Env(), was);
  });
}

// _setCpuInlineCost(cost): the most work run at the call on an idle queue (CpuQueue::kInlineCost by default;
// -1: hand everything to the executor). Benchmarks only.
Napi::Value SetCpuInlineCost(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsNumber(), kType, "_setCpuInlineCost: expected cost to be a number");
    CpuQueue::of(info.Env()).set_inline_cost(info[0].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  });
}

// _setPoolWorkerDelay(us): each pool worker sleeps `us` microseconds before it takes up each region, so that
// the region's caller runs the workers' shares (NOTE [ Late shares ] in core/region_join.h). Tests only.
Napi::Value SetPoolWorkerDelay(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t us = int_arg("_setPoolWorkerDelay", "us", info[0], 0, 10'000'000);
    detail::set_pool_worker_delay_us(static_cast<int>(us));
    return info.Env().Undefined();
  });
}

// _injectCpuFault(op, count): the next `count` queued tasks of `op` ('*': any) fail with std::bad_alloc
// instead of running. Tests only.
Napi::Value InjectCpuFault(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsString(), kType, "_injectCpuFault: expected op to be a string");
    const int64_t count = int_arg("_injectCpuFault", "count", info[1], 0, 1 << 30);
    CpuQueue::of(info.Env()).inject_fault(info[0].As<Napi::String>().Utf8Value(), static_cast<int>(count));
    return info.Env().Undefined();
  });
}

Napi::Value CpuQueueStats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return CpuQueue::of(info.Env()).stats(info.Env()); });
}

}  // namespace

void RegisterCpuQueue(Napi::Env env, Napi::Object exports) {
  CpuQueue::Register(env);
  exports.Set("cpuQueueSync", Napi::Function::New(env, CpuQueueSync, "cpuQueueSync"));
  exports.Set("cpuQueueRead", Napi::Function::New(env, CpuQueueRead, "cpuQueueRead"));
  exports.Set("cpuQueueForget", Napi::Function::New(env, CpuQueueForget, "cpuQueueForget"));
  exports.Set("_setCpuQueue", Napi::Function::New(env, SetCpuQueue, "_setCpuQueue"));
  exports.Set("_setCpuInlineCost", Napi::Function::New(env, SetCpuInlineCost, "_setCpuInlineCost"));
  exports.Set("_injectCpuFault", Napi::Function::New(env, InjectCpuFault, "_injectCpuFault"));
  exports.Set("_setPoolWorkerDelay", Napi::Function::New(env, SetPoolWorkerDelay, "_setPoolWorkerDelay"));
  exports.Set("_cpuQueueStats", Napi::Function::New(env, CpuQueueStats, "_cpuQueueStats"));
}

}  // namespace dcn::napi
