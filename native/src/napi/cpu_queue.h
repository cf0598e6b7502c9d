// SPDX-License-Identifier: MIT
// The CPU execution queue of one JS environment (the main thread, or one worker_thread): a WorkQueue
// (core/work_queue.h) plus what ties it to Node-API. Bindings read and check their arguments on the JS
// thread, then hand the kernel call to run(), which queues it with references to every typed array it
// reads or writes (so a tensor disposed meanwhile stays allocated until the work is done) and returns the
// task's sequence number. References are released on the JS thread, in batches: at the next call that
// submits or waits, or from one threadsafe-function call when the queue goes idle. Data() promises are
// settled the same way; the threadsafe function keeps the event loop alive only while one is pending.
// An env cleanup hook stops the executor (the running task finishes, the rest is dropped) and releases
// everything, so terminating a worker mid-op neither crashes nor leaks.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <napi.h>

#include "core/wake_relay.h"
#include "core/work_queue.h"

namespace dcn::napi {

class CpuQueue {
 public:
  // The queue of `env`; created by RegisterCpuQueue.
  static CpuQueue& of(napi_env env);

  // Runs `fn` (the kernel call of `op`, all arguments checked) after every task queued before it:
  // queued, returning its sequence number, or (queue disabled) at once after draining the queue,
  // returning undefined. `arrays` are the typed arrays fn reads or writes; `reads`/`writes` the ids of
  // their storages (0: untracked). When the queue is disabled and an input is poisoned, throws its error.
  //
  // `cost` estimates the work (about one unit per element touched or multiply-add): work of at most
  // kInlineCost runs at the call when the queue is idle, because handing a few microseconds of work to the
  // executor costs more than doing it (and delays the event loop by no more than that).
  Napi::Value run(Napi::Env env, const char* op, const std::vector<napi_value>& arrays, std::vector<uint64_t> reads,
                  std::vector<uint64_t> writes, std::function<void()> fn, double cost);
  static constexpr double kInlineCost = 1 << 15;
  // Back-pressure: run() blocks while queued work holds more than kMaxHeldBytes of arrays or
  // kMaxPendingTasks tasks are in flight, until the oldest work is done (a loop that never reads a result
  // then runs at the executor's pace instead of keeping every iteration's arrays alive).
  static constexpr size_t kMaxHeldBytes = size_t{256} << 20;
  static constexpr uint64_t kMaxPendingTasks = 1024;
  // The inline limit in use (kInlineCost; -1: never inline), for benchmarks.
  void set_inline_cost(double cost) { inline_cost_ = cost; }

  // Queues a copy of `bytes` bytes from `src` (storage `src_id`) into `dst`; the promise resolves with
  // `dst` after every task queued before it ran, or rejects with the error poisoning src.
  Napi::Value read_async(Napi::Env env, napi_value src_array, uint64_t src_id, const void* src, napi_value dst_array,
                         void* dst, size_t bytes);

  // Waits for task `seq`, settles finished work; returns the completed count, or
  // { completed, poisoned: [{ id, error }] } when storages were poisoned since the last call.
  Napi::Value sync(Napi::Env env, uint64_t seq);
  // Drains the queue (every task submitted so far).
  void drain(Napi::Env env);
  // Forgets that storage `id` is poisoned (it was freed).
  void forget(uint64_t id) { queue_.forget(id); }

  bool enabled() const { return enabled_; }
  void set_enabled(Napi::Env env, bool on);
  // The next `count` tasks of `op` ("*": any op) throw std::bad_alloc instead of running (tests).
  void inject_fault(const std::string& op, int count);
  Napi::Object stats(Napi::Env env) const;

  static void Register(Napi::Env env);

 private:
  struct Completion;
  explicit CpuQueue(napi_env env);
  ~CpuQueue();
  // Releases the references of finished tasks and settles their promises (JS thread).
  void settle(napi_env env, bool teardown);
  static void call_js(napi_env env, napi_value js_cb, void* context, void* data);
  static void cleanup(void* arg);
  static void finalize(napi_env env, void* data, void* hint);
  // Submits to the queue (JS thread); the first time, starts the wake relay if the executor's priority will be
  // lowered (NOTE [ Wake relay ] in core/wake_relay.h).
  uint64_t submit(WorkQueue::Task task);
  // The executor's wake-up of the JS thread: the threadsafe function's call, directly or through the relay.
  void wake_js();
  // The threadsafe function's call (non-blocking): settle() runs on the JS thread soon after.
  void call_threadsafe_function() { napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking); }

  napi_env env_ = nullptr;
  // Before queue_, so that it is destroyed after the executor stopped.
  WakeRelay relay_{[this] { call_threadsafe_function(); }};
  bool relay_decided_ = false;          // JS thread only
  std::atomic<bool> use_relay_{false};  // set before the first task is submitted; read by the executor
  WorkQueue queue_;
  napi_threadsafe_function tsfn_ = nullptr;
  bool dead_ = false;  // after the cleanup hook
  bool enabled_ = true;
  double inline_cost_ = kInlineCost;
  int pending_promises_ = 0;  // JS thread only
  std::string fault_op_;      // JS thread only
  int fault_count_ = 0;
  int64_t live_refs_ = 0;  // references held by queued work (JS thread only)
  size_t held_bytes_ = 0;  // bytes of the arrays those references hold (JS thread only)
};

// Process-wide counters, for leak tests across worker_threads: live queues and live references.
int64_t live_cpu_queues();
int64_t live_cpu_queue_refs();

}  // namespace dcn::napi
