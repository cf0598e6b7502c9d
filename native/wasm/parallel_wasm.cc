// SPDX-License-Identifier: MIT
// core/parallel.h for the WebAssembly builds (replaces core/parallel.cc there). With pthreads (the
// tvdcn-threads variant) each thread is a Web Worker (worker_threads in Node), and Workers differ from
// native threads in ways the native pool cannot absorb:
//  - A Worker starts running only after the JS event loop of the main thread has turned (emscripten posts
//    the "run" message when the Worker reports "loaded"). Node loads this module synchronously on the first
//    op, so that op comes before any Worker runs. Workers therefore join the pool when they start
//    (tid = order of arrival) and a region uses only those already running: until then the caller runs it
//    alone. parallel.h promises results that do not depend on the thread count, so this changes no value.
//  - A Worker returns to emscripten's pool only through the event loop, so threads are created once
//    (tvdcn_start_threads, called by the loader with the count it chose) and never stopped;
//    set_num_threads(n) only changes how many of them take part (at most the number started + 1).
//  - The host's core count is the loader's business (navigator.hardwareConcurrency does not exist in Node
//    20; TVDCN_NUM_THREADS is read from process.env by the loader), so nothing here reads either.
// Without pthreads (tvdcn.wasm) everything runs on the caller. What a region does once posted (the caller's
// share, the wait for the workers, the first exception) is core/region_join.h, shared with core/parallel.cc.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>

#include "core/parallel.h"
#include "core/region_join.h"
#include "core/spin_wait.h"

#ifdef __EMSCRIPTEN_PTHREADS__
#include <pthread.h>
#endif

namespace dcn {
namespace {

thread_local bool tls_in_region = false;

#ifdef __EMSCRIPTEN_PTHREADS__

class WorkerPool {
 public:
  // Creates n - 1 threads once; returns how many were created (pthread_create fails when emscripten's
  // pre-loaded Worker pool is smaller).
  int start(int n) {
    std::lock_guard<std::mutex> dispatch(dispatch_);
    if (started_) return spawned_;
    started_ = true;
    for (int i = 1; i < n; ++i) {
      pthread_t t;
      if (pthread_create(&t, nullptr, &WorkerPool::entry, this) != 0) break;
      pthread_detach(t);
      ++spawned_;
    }
    size_.store(spawned_ + 1, std::memory_order_relaxed);
    return spawned_;
  }

  int size() const { return size_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> dispatch(dispatch_);
    size_.store(std::max(1, std::min(n, spawned_ + 1)), std::memory_order_relaxed);
  }

  int running() {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }

  // Regions (or parts of one) run by the workers so far: lets tests see that the threads take part.
  double worker_runs() const { return static_cast<double>(worker_runs_.load(std::memory_order_relaxed)); }

  void run(int max_threads, detail::RegionFn fn, void* ctx) {
    std::unique_lock<std::mutex> dispatch(dispatch_, std::try_to_lock);
    // Nested regions and concurrent callers run serially on the caller, as in core/parallel.cc.
    if (!dispatch.owns_lock() || tls_in_region || max_threads <= 1 || size() <= 1) {
      detail::run_serial(fn, ctx, tls_in_region);
      return;
    }
    int n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = std::min({max_threads, size(), running_ + 1});
      if (n > 1) {
        fn_ = fn;
        ctx_ = ctx;
        nthreads_ = n;
        join_.arm(n - 1);
        generation_.fetch_add(1, std::memory_order_release);
      }
    }
    if (n <= 1) {
      detail::run_serial(fn, ctx, tls_in_region);
      return;
    }
    start_cv_.notify_all();
    // Each worker runs the share of its own id (the tests count the regions the workers take part in).
    join_.caller_join(fn, ctx, n, tls_in_region, /*take_late_shares=*/false);
  }

 private:
  static void* entry(void* self) {
    static_cast<WorkerPool*>(self)->worker_loop();
    return nullptr;
  }

  void worker_loop() {
    tls_in_region = true;
    int tid;
    uint64_t seen;
    {
      // Arrival order gives the ids 1, 2, ...: a region of n threads uses ids < n, all of them running.
      std::lock_guard<std::mutex> lock(mu_);
      tid = ++running_;
      seen = generation_.load(std::memory_order_relaxed);
    }
    detail::SpinBudget spin;
    for (;;) {
      detail::RegionFn fn;
      void* ctx;
      int n;
      const bool polled = spin.spin([&] { return generation_.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_cv_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        if (!polled) spin.slept();
        seen = generation_.load(std::memory_order_relaxed);
        if (tid >= nthreads_) continue;
        fn = fn_;
        ctx = ctx_;
        n = nthreads_;
      }
      std::exception_ptr err = detail::call_share(fn, ctx, tid, n);
      worker_runs_.fetch_add(1, std::memory_order_relaxed);
      join_.worker_done(err);
    }
  }

  std::mutex dispatch_;  // held by the one caller that owns the workers
  bool started_ = false;
  int spawned_ = 0;
  std::atomic<int> size_{1};

  std::mutex mu_;  // guards the job fields and running_
  std::condition_variable start_cv_;
  int running_ = 0;
  std::atomic<uint64_t> generation_{0};
  detail::RegionFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int nthreads_ = 0;
  detail::RegionJoin join_{mu_};  // as in core/parallel.cc
  std::atomic<uint64_t> worker_runs_{0};
};

WorkerPool& pool() {
  static WorkerPool* p = new WorkerPool();  // never destroyed: its threads live as long as the module
  return *p;
}

#endif  // __EMSCRIPTEN_PTHREADS__

}  // namespace

#ifdef __EMSCRIPTEN_PTHREADS__
int get_num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n); }
namespace detail {
void run_region(int max_threads, RegionFn fn, void* ctx) { pool().run(max_threads, fn, ctx); }
}  // namespace detail
namespace wasm {
int start_threads(int n) { return pool().start(n); }
int running_threads() { return pool().running(); }
double worker_runs() { return pool().worker_runs(); }
}  // namespace wasm
#else
int get_num_threads() { return 1; }
void set_num_threads(int) {}
namespace detail {
void run_region(int, RegionFn fn, void* ctx) { run_serial(fn, ctx, tls_in_region); }
}  // namespace detail
namespace wasm {
int start_threads(int) { return 0; }
int running_threads() { return 0; }
double worker_runs() { return 0; }
}  // namespace wasm
#endif

bool in_parallel_region() { return tls_in_region; }

}  // namespace dcn
