// SPDX-License-Identifier: MIT
// The per-environment CPU execution queue (see cpu_queue.h).
#include "napi/cpu_queue.h"

#include <cstring>
#include <new>
#include <utility>

#include "core/parallel.h"
#include "core/thread_priority.h"
#include "napi/errors.h"

namespace dcn::napi {
namespace {

std::atomic<int64_t> g_live_queues{0};
std::atomic<int64_t> g_live_refs{0};

// The JS error of a failed task (the classes and codes of errors.h).
Napi::Error task_error(Napi::Env env, const TaskError& e) {
  if (e.out_of_memory) return to_js_error(env, e.message.c_str(), "ERR_DCN_OUT_OF_MEMORY");
  return to_js_error(env, Error(e.kind, e.message));
}

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Error(ErrorKind::kInternal, std::string("cpu queue: ") + what + " failed");
}

// Bytes of a typed array (0 for anything else).
size_t typed_array_bytes(napi_env env, napi_value a) {
  napi_typedarray_type type;
  size_t length = 0;
  if (napi_get_typedarray_info(env, a, &type, &length, nullptr, nullptr, nullptr) != napi_ok) return 0;
  return length * (type == napi_float64_array ? 8 : 4);
}

}  // namespace

// What a task keeps alive until it ran: references to its typed arrays, and the promise of a data() read.
struct CpuQueue::Completion : TaskCompletion {
  std::vector<napi_ref> refs;
  size_t bytes = 0;  // of the arrays behind refs (counted once per reference)
  napi_deferred deferred = nullptr;
  napi_ref result = nullptr;  // what the promise resolves with
};

int64_t live_cpu_queues() { return g_live_queues.load(); }
int64_t live_cpu_queue_refs() { return g_live_refs.load(); }

CpuQueue::CpuQueue(napi_env env) : queue_([this] { wake_js(); }) { g_live_queues.fetch_add(1); }

CpuQueue::~CpuQueue() { g_live_queues.fetch_sub(1); }

CpuQueue& CpuQueue::of(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok || data == nullptr) {
    throw Error(ErrorKind::kInternal, "cpu queue: not initialized in this environment, please report");
  }
  return *static_cast<CpuQueue*>(data);
}

void CpuQueue::Register(Napi::Env env) {
  auto* q = new CpuQueue(env);
  napi_value name;
  check(env, napi_create_string_utf8(env, "tvdcn.cpuQueue", NAPI_AUTO_LENGTH, &name), "napi_create_string_utf8");
  check(env,
        napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, q, &CpuQueue::finalize, q,
                                        &CpuQueue::call_js, &q->tsfn_),
        "napi_create_threadsafe_function");
  // Only a pending data() promise keeps the event loop alive.
  check(env, napi_unref_threadsafe_function(env, q->tsfn_), "napi_unref_threadsafe_function");
  check(env, napi_set_instance_data(env, q, nullptr, nullptr), "napi_set_instance_data");
  // Registered after the threadsafe function, so it runs before the function's own teardown.
  check(env, napi_add_env_cleanup_hook(env, &CpuQueue::cleanup, q), "napi_add_env_cleanup_hook");
  q->env_ = env;
}

void CpuQueue::wake_js() {
  // Executor thread: wake the JS thread to release references / settle promises.
  if (tsfn_ == nullptr) return;
  if (use_relay_.load(std::memory_order_acquire)) {
    relay_.post();
  } else {
    call_threadsafe_function();
  }
}

uint64_t CpuQueue::submit(WorkQueue::Task task) {
  if (!relay_decided_) {
    relay_decided_ = true;
    if (thread_priority_lowered()) {
      relay_.start();  // here, on the JS thread: the relay runs at its priority
      use_relay_.store(true, std::memory_order_release);
    }
  }
  return queue_.submit(std::move(task));
}

void CpuQueue::call_js(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // being torn down
  auto* q = static_cast<CpuQueue*>(context);
  q->settle(env, false);
}

void CpuQueue::cleanup(void* arg) {
  auto* q = static_cast<CpuQueue*>(arg);
  // The running task finishes; the rest is dropped. Then nothing calls the threadsafe function anymore.
  q->queue_.shutdown();
  q->relay_.stop();  // its last call, if any, is made before the function is released below
  q->settle(q->env_, true);
  q->dead_ = true;
  napi_release_threadsafe_function(q->tsfn_, napi_tsfn_abort);
}

void CpuQueue::finalize(napi_env, void* data, void*) { delete static_cast<CpuQueue*>(data); }

void CpuQueue::settle(napi_env env, bool teardown) {
  std::vector<WorkQueue::Finished> done = queue_.take_finished();
  if (done.empty()) return;
  napi_handle_scope scope = nullptr;
  if (teardown) napi_open_handle_scope(env, &scope);
  for (WorkQueue::Finished& f : done) {
    auto* c = static_cast<Completion*>(f.completion.get());
    if (c == nullptr) continue;
    for (napi_ref r : c->refs) napi_delete_reference(env, r);
    held_bytes_ -= c->bytes;
    live_refs_ -= static_cast<int64_t>(c->refs.size());
    g_live_refs.fetch_sub(static_cast<int64_t>(c->refs.size()));
    if (c->deferred != nullptr) {
      napi_value value = nullptr;
      if (teardown) {
        napi_get_undefined(env, &value);
        napi_reject_deferred(env, c->deferred, value);
      } else if (f.error) {
        napi_reject_deferred(env, c->deferred, task_error(Napi::Env(env), *f.error).Value());
      } else {
        napi_get_reference_value(env, c->result, &value);
        napi_resolve_deferred(env, c->deferred, value);
      }
      if (c->result != nullptr) napi_delete_reference(env, c->result);
      if (--pending_promises_ == 0 && !teardown) napi_unref_threadsafe_function(env, tsfn_);
    }
  }
  if (scope != nullptr) napi_close_handle_scope(env, scope);
}

Napi::Value CpuQueue::run(Napi::Env env, const char* op, const std::vector<napi_value>& arrays,
                          std::vector<uint64_t> reads, std::vector<uint64_t> writes, std::function<void()> fn,
                          double cost) {
  settle(env, false);
  if (!enabled_) {
    // The synchronous path: after everything queued before, and never on poisoned data.
    queue_.drain();
    settle(env, false);
    for (const std::vector<uint64_t>* ids : {&reads, &writes}) {
      for (uint64_t id : *ids) {
        if (id == 0) continue;
        if (auto err = queue_.poison_of(id)) throw task_error(env, *err);
      }
    }
    fn();
    return env.Undefined();
  }
  if (fault_count_ > 0 && (fault_op_ == "*" || fault_op_ == op)) {
    --fault_count_;
    fn = [] { throw std::bad_alloc(); };
  }
  if (cost <= inline_cost_ && fault_count_ == 0) {
    // Tiny work on an idle queue: here, now (the arrays are alive for the call; no references needed).
    WorkQueue::Task task;
    task.op = op;
    task.reads = std::move(reads);
    task.writes = std::move(writes);
    task.fn = std::move(fn);
    const uint64_t seq = queue_.run_if_idle(task);
    if (seq != 0) return Napi::Number::New(env, static_cast<double>(seq));
    reads = std::move(task.reads);  // not idle: queue it after all
    writes = std::move(task.writes);
    fn = std::move(task.fn);
  }
  auto c = std::make_unique<Completion>();
  c->refs.reserve(arrays.size());
  for (napi_value a : arrays) c->bytes += typed_array_bytes(env, a);
  // Back-pressure (as a GPU's launch queue): a producer that never waits must not keep unbounded memory
  // alive through queued work. Block until the oldest work is done while too much is in flight.
  while (queue_.completed() < queue_.submitted() &&
         (held_bytes_ + c->bytes > kMaxHeldBytes || queue_.submitted() - queue_.completed() >= kMaxPendingTasks)) {
    queue_.wait(queue_.completed() + 1);
    settle(env, false);
  }
  for (napi_value a : arrays) {
    napi_ref r;
    check(env, napi_create_reference(env, a, 1, &r), "napi_create_reference");
    c->refs.push_back(r);
  }
  held_bytes_ += c->bytes;
  live_refs_ += static_cast<int64_t>(c->refs.size());
  g_live_refs.fetch_add(static_cast<int64_t>(c->refs.size()));
  WorkQueue::Task task;
  task.op = op;
  task.reads = std::move(reads);
  task.writes = std::move(writes);
  task.fn = std::move(fn);
  task.completion = std::move(c);
  const uint64_t seq = submit(std::move(task));
  return Napi::Number::New(env, static_cast<double>(seq));
}

Napi::Value CpuQueue::read_async(Napi::Env env, napi_value src_array, uint64_t src_id, const void* src,
                                 napi_value dst_array, void* dst, size_t bytes) {
  settle(env, false);
  auto c = std::make_unique<Completion>();
  napi_value promise;
  check(env, napi_create_promise(env, &c->deferred, &promise), "napi_create_promise");
  napi_ref r;
  check(env, napi_create_reference(env, src_array, 1, &r), "napi_create_reference");
  c->refs.push_back(r);
  c->bytes = bytes;
  held_bytes_ += bytes;
  check(env, napi_create_reference(env, dst_array, 1, &c->result), "napi_create_reference");
  live_refs_ += 1;
  g_live_refs.fetch_add(1);
  if (pending_promises_++ == 0) napi_ref_threadsafe_function(env, tsfn_);
  WorkQueue::Task task;
  task.op = "data";
  task.reads = {src_id};
  task.notify = true;
  task.fn = [src, dst, bytes] {
    constexpr size_t kChunk = size_t{1} << 20;
    const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
    parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
      const size_t from = static_cast<size_t>(b) * kChunk;
      const size_t to = std::min(bytes, static_cast<size_t>(e) * kChunk);
      std::memcpy(static_cast<char*>(dst) + from, static_cast<const char*>(src) + from, to - from);
    });
  };
  task.completion = std::move(c);
  submit(std::move(task));
  return Napi::Value(env, promise);
}

Napi::Value CpuQueue::sync(Napi::Env env, uint64_t seq) {
  const uint64_t completed = queue_.wait(seq);
  settle(env, false);
  auto poisoned = queue_.take_new_poison();
  if (poisoned.empty()) return Napi::Number::New(env, static_cast<double>(completed));
  Napi::Object out = Napi::Object::New(env);
  out.Set("completed", Napi::Number::New(env, static_cast<double>(completed)));
  Napi::Array list = Napi::Array::New(env, poisoned.size());
  for (size_t i = 0; i < poisoned.size(); ++i) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("id", Napi::Number::New(env, static_cast<double>(poisoned[i].first)));
    entry.Set("error", task_error(env, *poisoned[i].second).Value());
    list.Set(static_cast<uint32_t>(i), entry);
  }
  out.Set("poisoned", list);
  return out;
}

void CpuQueue::drain(Napi::Env env) {
  queue_.drain();
  settle(env, false);
}

void CpuQueue::set_enabled(Napi::Env env, bool on) {
  if (!on) drain(env);
  enabled_ = on;
}

void CpuQueue::inject_fault(const std::string& op, int count) {
  fault_op_ = op;
  fault_count_ = count;
}

Napi::Object CpuQueue::stats(Napi::Env env) const {
  Napi::Object o = Napi::Object::New(env);
  o.Set("submitted", Napi::Number::New(env, static_cast<double>(queue_.submitted())));
  o.Set("completed", Napi::Number::New(env, static_cast<double>(queue_.completed())));
  o.Set("refs", Napi::Number::New(env, static_cast<double>(live_refs_)));
  o.Set("heldBytes", Napi::Number::New(env, static_cast<double>(held_bytes_)));
  o.Set("pendingPromises", Napi::Number::New(env, pending_promises_));
  o.Set("processQueues", Napi::Number::New(env, static_cast<double>(live_cpu_queues())));
  o.Set("processRefs", Napi::Number::New(env, static_cast<double>(live_cpu_queue_refs())));
  o.Set("poisoned", Napi::Number::New(env, static_cast<double>(queue_.poisoned_count())));
  o.Set("enabled", Napi::Boolean::New(env, enabled_));
  o.Set("executorSpinNs", Napi::Number::New(env, static_cast<double>(queue_.executor_spin_ns())));
  o.Set("poolLateShares", Napi::Number::New(env, static_cast<double>(detail::pool_late_shares())));
  return o;
}

}  // namespace dcn::napi
