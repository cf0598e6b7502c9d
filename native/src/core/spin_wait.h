// SPDX-License-Identifier: MIT
// Spin-then-sleep waiting for the thread pools (core/parallel.cc, native/wasm/parallel_wasm.cc, the region
// join) and the work queue (core/work_queue.cc): kernels run several short regions back to back (one per
// phase of a column tile) and small ops come in bursts, so a waiting thread first polls for a while, since a
// futex wake-up costs tens of microseconds on a busy machine.
//
// NOTE [ Adaptive spin ]: how long to poll is learned per waiting site and thread (SpinBudget). Where the
// cores are oversubscribed (a server whose event loop, load and kernels share two cores), a wait is often
// for a thread that is descheduled, and polling only burns the core it needs: the load test measured twice
// the CPU time per request with two pool threads as with one (docs/perf/http-inference.md). So a wait that
// outlasts kSpin (the poll could not have caught it) halves the next poll, down to kMinSpin; one that ends
// within it (caught by the poll, or by a longer poll than this one) doubles it, up to kSpin. On a quiet
// machine most waits end within kSpin and the budget stays at kSpin, as before.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace dcn::detail {

// The longest poll before sleeping, and the shortest the adaptive budget goes down to.
constexpr auto kSpin = std::chrono::microseconds(50);
constexpr auto kMinSpin = std::chrono::nanoseconds(500);

// A hint to the core that this is a spin loop (x86's pause; nothing elsewhere, WebAssembly included).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The poll budget of one waiting site on one thread (NOTE [ Adaptive spin ]): `spin(ready)` polls, and a
// caller whose poll failed calls `slept()` once its blocking wait has returned.
class SpinBudget {
 public:
  // Polls `ready` for up to the current budget; true as soon as it holds.
  template <typename F>
  bool spin(F&& ready) {
    start_ = std::chrono::steady_clock::now();
    const auto until = start_ + budget();
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (ready()) {
          grow();
          return true;
        }
        cpu_relax();
      }
      if (std::chrono::steady_clock::now() >= until) {
        if (!ready()) return false;
        grow();
        return true;
      }
    }
  }

  // After the blocking wait that followed a failed spin(): adapts the budget to how long the wait was.
  void slept() {
    if (std::chrono::steady_clock::now() - start_ <= kSpin) {
      grow();
    } else {
      set(std::max<std::chrono::nanoseconds>(kMinSpin, budget() / 2));
    }
  }

  // The current budget; other threads may read it (the queue's stats).
  std::chrono::nanoseconds budget() const { return std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed)); }

 private:
  void grow() { set(std::min<std::chrono::nanoseconds>(kSpin, budget() * 2)); }
  void set(std::chrono::nanoseconds b) { ns_.store(b.count(), std::memory_order_relaxed); }

  // Written by the owning thread only.
  std::atomic<int64_t> ns_{std::chrono::nanoseconds(kSpin).count()};
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace dcn::detail
