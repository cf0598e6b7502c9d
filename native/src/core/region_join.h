// SPDX-License-Identifier: MIT
// RegionJoin: the part of a parallel region that the native pool (core/parallel.cc) and the WebAssembly
// pool (native/wasm/parallel_wasm.cc) share once a region is posted: the caller runs its share (tid 0),
// waits until the other n - 1 shares are done (a SpinBudget poll, then a condition variable) and rethrows the
// first exception (its own before any worker's, else the first a worker recorded). Each pool keeps its
// own way of starting threads and handing them the region; both guard the region's fields with one mutex,
// which RegionJoin shares. Also run_serial, the one-thread path of both pools.
//
// NOTE [ Late shares ]: in the native pool the shares 1..n-1 are not tied to threads: a worker takes the next
// untaken one when it wakes (claim(), under the mutex, in the critical section in which it reads the
// region), and the caller, once its own share is done, takes and runs every share no worker has taken yet
// instead of waiting for a worker that is not running (on a machine whose cores are all busy, a woken worker
// can wait milliseconds for a CPU). The region's work is then done by the threads that run; the results do
// not change, since a region's shares depend on their index only (parallel.h: every helper gives each output
// element to exactly one task, and the kernels' shares claim their tasks from a shared counter).
// A late worker finds no share left and goes back to sleep.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "core/parallel.h"
#include "core/spin_wait.h"

namespace dcn::detail {

// fn(ctx, tid, n); the exception it threw, or null.
inline std::exception_ptr call_share(RegionFn fn, void* ctx, int tid, int n) {
  try {
    fn(ctx, tid, n);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// fn(ctx, 0, 1) on the caller, with `in_region` (the pool's thread-local flag) set meanwhile.
inline void run_serial(RegionFn fn, void* ctx, bool& in_region) {
  const bool was = in_region;
  in_region = true;
  try {
    fn(ctx, 0, 1);
  } catch (...) {
    in_region = was;
    throw;
  }
  in_region = was;
}

class RegionJoin {
 public:
  // `mu` is the pool's mutex: it guards the region's fields, this object's included.
  explicit RegionJoin(std::mutex& mu) : mu_(mu) {}

  // Called with the mutex held, before the region is published to the workers: `workers` threads will
  // each call worker_done once.
  void arm(int workers) {
    pending_.store(workers, std::memory_order_relaxed);
    next_share_.store(1, std::memory_order_relaxed);
    error_ = nullptr;
  }

  // The next share no thread has taken (>= n: none is left). A worker calls it with the mutex held, in the
  // critical section in which it reads the region's fields (so it cannot take a share of a later region).
  int claim() { return next_share_.fetch_add(1, std::memory_order_acq_rel); }

  // On the caller, after the region was published: runs share 0 of n with `in_region` set, then (with
  // `take_late_shares`, NOTE [ Late shares ]) every share no worker has claimed yet, waits for the shares
  // the workers run and rethrows the first exception. Returns how many of the workers' shares it ran.
  int caller_join(RegionFn fn, void* ctx, int n, bool& in_region, bool take_late_shares) {
    in_region = true;
    std::exception_ptr mine = call_share(fn, ctx, 0, n);
    int taken = 0;
    if (take_late_shares) {
      for (int share = claim(); share < n; share = claim()) {
        const std::exception_ptr err = call_share(fn, ctx, share, n);
        if (err && !mine) mine = err;
        pending_.fetch_sub(1, std::memory_order_acq_rel);
        ++taken;
      }
    }
    in_region = false;
    // One poll budget per calling thread (NOTE [ Adaptive spin ]).
    static thread_local SpinBudget spin;
    const bool polled = spin.spin([&] { return pending_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_.load(std::memory_order_relaxed) == 0; });
    if (!polled) spin.slept();
    std::exception_ptr err = mine ? mine : error_;
    error_ = nullptr;
    lock.unlock();
    if (err) std::rethrow_exception(err);
    return taken;
  }

  // On a worker, after its share (call_share): records its exception if it is the first, and wakes the
  // caller when it is the last. Takes the mutex.
  void worker_done(std::exception_ptr err) {
    std::lock_guard<std::mutex> lock(mu_);
    if (err && !error_) error_ = err;
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv_.notify_one();
  }

 private:
  std::mutex& mu_;
  std::condition_variable done_cv_;
  std::atomic<int> pending_{0};     // shares 1..n-1 not yet done
  std::atomic<int> next_share_{1};  // the next share to take (NOTE [ Late shares ])
  std::exception_ptr error_;
};

}  // namespace dcn::detail
