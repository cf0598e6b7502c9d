// SPDX-License-Identifier: MIT
// A thread at the process's priority that calls `wake` on behalf of threads running at a lower one.
//
// NOTE [ Wake relay ]
// The CPU queue's executor wakes the JS thread through a Node-API threadsafe function, whose call locks the
// function's mutex and, inside it, writes to the event loop's eventfd. When the executor runs as SCHED_IDLE
// (TVDCN_THREAD_NICE=idle) the woken JS thread preempts it at once, inside that critical section; the JS
// thread then blocks on the same mutex, and the executor gets a CPU back only when no other thread wants one:
// on a machine whose cores are all busy, the event loop stalled for 20 ms to 1.7 s (measured on the
// inference server: strace showed the JS thread in FUTEX_WAIT on the function's mutex, docs/perf/http-inference.md,
// session 9). A nice value has the same inversion, shorter. So a low-priority thread only posts here (a flag
// under this object's own mutex, which the JS thread never takes, and a condition-variable notify outside
// it) and this thread, created by the JS thread and so at its priority, makes the call: preempted in the
// threadsafe function's critical section, it runs again as soon as the JS thread blocks.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "core/thread_name.h"

namespace dcn {

class WakeRelay {
 public:
  explicit WakeRelay(std::function<void()> wake) : wake_(std::move(wake)) {}
  WakeRelay(const WakeRelay&) = delete;
  WakeRelay& operator=(const WakeRelay&) = delete;
  ~WakeRelay() { stop(); }

  // Starts the thread (idempotent). Call it on a thread of the priority the calls should run at: a new
  // thread inherits its creator's scheduling policy and nice value.
  void start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable() || stopped_) return;
    thread_ = std::thread([this] { loop(); });
  }

  // Asks the thread to call `wake` (once for any number of posts before it gets to it). Any thread.
  void post() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_) return;
      pending_ = true;
    }
    cv_.notify_one();
  }

  // Joins the thread; a post not yet acted on is dropped. After it, start() does nothing.
  void stop() {
    std::thread thread;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      thread = std::move(thread_);
    }
    cv_.notify_one();
    if (thread.joinable()) thread.join();
  }

 private:
  void loop() {
    set_current_thread_name("tvdcn-wake");
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return pending_ || stopped_; });
      if (stopped_) return;
      pending_ = false;
      lock.unlock();
      wake_();
      lock.lock();
    }
  }

  std::function<void()> wake_;
  std::mutex mu_;  // guards the fields below; never taken by the thread that `wake` wakes, but in start/stop
  std::condition_variable cv_;
  std::thread thread_;
  bool pending_ = false;
  bool stopped_ = false;
};

}  // namespace dcn
