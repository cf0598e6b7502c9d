// SPDX-License-Identifier: MIT
// The thread pool behind core/parallel.h. Workers sleep on a condition variable between regions; the
// pool object is never destroyed, so process exit does not wait for (or race with) its threads.
// The region join (the caller's share, the wait for the workers, the first exception) is core/region_join.h,
// shared with the WebAssembly pool (native/wasm/parallel_wasm.cc).
#include "core/parallel.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/region_join.h"
#include "core/spin_wait.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"

namespace dcn {
namespace {

thread_local bool tls_in_region = false;

// TVDCN_NUM_THREADS when it is a positive decimal integer, capped at the core count (more threads than
// cores only slow a CPU-bound pool down); else the core count. The TypeScript loader applies the same rule
// and warns about values it ignores or caps (packages/ops/src/native/num-threads.ts).
int default_num_threads() {
  const unsigned hc_raw = std::thread::hardware_concurrency();
  const int cores = hc_raw == 0 ? 1 : static_cast<int>(std::min(hc_raw, 1024u));
  const std::optional<long long> v = env_decimal("TVDCN_NUM_THREADS");
  if (v && *v >= 1) return static_cast<int>(std::min<long long>(*v, cores));
  return cores;
}

class ThreadPool {
 public:
  ThreadPool() : size_(default_num_threads()) {}

  int size() const { return size_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> lock(dispatch_);
    stop_workers();
    size_.store(n, std::memory_order_relaxed);
  }

  void run(int max_threads, detail::RegionFn fn, void* ctx) {
    std::unique_lock<std::mutex> dispatch(dispatch_, std::try_to_lock);
    // Nested regions and concurrent callers (another JS thread) run serially on the caller.
    if (!dispatch.owns_lock() || tls_in_region || max_threads <= 1 || size() <= 1) {
      detail::run_serial(fn, ctx, tls_in_region);
      return;
    }
    const int n = std::min(max_threads, size());
    start_workers();
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      nthreads_ = n;
      join_.arm(n - 1);
      generation_.fetch_add(1, std::memory_order_release);
    }
    start_cv_.notify_all();
    const int taken = join_.caller_join(fn, ctx, n, tls_in_region, /*take_late_shares=*/true);
    if (taken > 0) late_shares_.fetch_add(static_cast<uint64_t>(taken), std::memory_order_relaxed);
  }

  uint64_t late_shares() const { return late_shares_.load(std::memory_order_relaxed); }

  void set_worker_delay_us(int us) { worker_delay_us_.store(std::max(0, us), std::memory_order_relaxed); }

 private:
  // Called with dispatch_ held.
  void start_workers() {
    if (static_cast<int>(workers_.size()) == size() - 1) return;
    stop_workers();
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(false, std::memory_order_relaxed);
      generation = generation_.load(std::memory_order_relaxed);
    }
    // Each worker starts from the current generation, so it cannot miss a job posted before it runs.
    for (int i = 1; i < size(); ++i) workers_.emplace_back([this, generation] { worker_loop(generation); });
    // Until each has named itself and set its priority: a region's caller may run every share itself (NOTE
    // [ Late shares ]), so a worker could otherwise still carry its creator's name and priority afterwards.
    std::unique_lock<std::mutex> lock(mu_);
    ready_cv_.wait(lock, [&] { return ready_ == static_cast<int>(workers_.size()); });
  }

  // Called with dispatch_ held.
  void stop_workers() {
    if (workers_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_relaxed);
    }
    start_cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    ready_ = 0;
  }

  void worker_loop(uint64_t seen) {
    set_current_thread_name("tvdcn-pool");
    lower_current_thread_priority();
    tls_in_region = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++ready_;
    }
    ready_cv_.notify_all();
    detail::SpinBudget spin;
    for (;;) {
      detail::RegionFn fn;
      void* ctx;
      int n;
      const bool polled = spin.spin(
          [&] { return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; });
      // Tests only: a worker that wakes late (_setPoolWorkerDelay).
      if (const int delay = worker_delay_us_.load(std::memory_order_relaxed); delay > 0)
        std::this_thread::sleep_for(std::chrono::microseconds(delay));
      int share;
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_cv_.wait(lock, [&] {
          return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_relaxed) != seen;
        });
        if (!polled) spin.slept();
        if (stop_.load(std::memory_order_relaxed)) return;
        seen = generation_.load(std::memory_order_relaxed);
        share = join_.claim();  // NOTE [ Late shares ]: the caller may have run them all
        if (share >= nthreads_) continue;
        fn = fn_;
        ctx = ctx_;
        n = nthreads_;
      }
      join_.worker_done(detail::call_share(fn, ctx, share, n));
    }
  }

  std::mutex dispatch_;  // held by the one caller that owns the workers; guards workers_
  std::atomic<int> size_;
  std::vector<std::thread> workers_;

  std::mutex mu_;  // guards the job fields below
  std::condition_variable start_cv_;
  std::condition_variable ready_cv_;     // a started worker has named itself (start_workers waits for all)
  int ready_ = 0;                        // workers started so far (guarded by mu_)
  std::atomic<uint64_t> generation_{0};  // written under mu_, also polled without it
  detail::RegionFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int nthreads_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> late_shares_{0};  // workers' shares the callers ran (NOTE [ Late shares ])
  std::atomic<int> worker_delay_us_{0};   // tests only
  detail::RegionJoin join_{mu_};          // the caller's share, the wait for the workers, their first exception
};

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool();  // leaked on purpose, see the file comment
  return *p;
}

}  // namespace

int get_num_threads() { return pool().size(); }

void set_num_threads(int n) { pool().resize(std::max(1, n)); }

bool in_parallel_region() { return tls_in_region; }

namespace detail {
void run_region(int max_threads, RegionFn fn, void* ctx) { pool().run(max_threads, fn, ctx); }
uint64_t pool_late_shares() { return pool().late_shares(); }
void set_pool_worker_delay_us(int us) { pool().set_worker_delay_us(us); }
}  // namespace detail

}  // namespace dcn
