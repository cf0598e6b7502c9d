// SPDX-License-Identifier: MIT
// Lowers the calling thread's scheduling priority by TVDCN_THREAD_NICE (0-19; unset or invalid: 0, no change),
// for the library's own threads: the CPU queue's executor and the pool's workers. On a machine with fewer
// free cores than busy threads, a niced worker yields its core to the JS thread (the scheduler weighs a thread
// at nice 10 about a tenth of one at nice 0), so a server's event loop is not kept waiting behind queued
// kernels (docs/perf/http-inference.md, "Session 6"). TVDCN_THREAD_NICE=idle puts them in SCHED_IDLE instead:
// any other thread that wakes preempts them at once, where a nice value lets the running thread finish its
// slice first (session 8: the event loop's wait for a CPU 20-27 % -> 6-9 % of its time under load). Best
// effort: Linux only (there, nice and policy are per thread); elsewhere, and where the call fails, the thread
// keeps its priority.
#pragma once
#include <optional>

#include "core/env.h"
#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dcn {

// TVDCN_THREAD_NICE when it is a decimal integer in 1..19, else 0.
inline int thread_nice_from_env() {
  const std::optional<long long> v = env_decimal("TVDCN_THREAD_NICE");
  return v && *v >= 1 && *v <= 19 ? static_cast<int>(*v) : 0;
}

// Whether lower_current_thread_priority() lowers anything here (Linux with TVDCN_THREAD_NICE idle or 1..19).
inline bool thread_priority_lowered() {
#if defined(__linux__)
  return env_is("TVDCN_THREAD_NICE", "idle") || thread_nice_from_env() != 0;
#else
  return false;
#endif
}

inline void lower_current_thread_priority() {
#if defined(__linux__)
  // TVDCN_THREAD_NICE=idle: SCHED_IDLE, so that any other thread that wakes preempts this one at once (a nice
  // value only lowers its share: the scheduler lets it finish its slice first).
  if (env_is("TVDCN_THREAD_NICE", "idle")) {
    const sched_param param{};
    (void)sched_setscheduler(0, SCHED_IDLE, &param);
    return;
  }
  const int nice = thread_nice_from_env();
  if (nice == 0) return;
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current < nice) (void)setpriority(PRIO_PROCESS, tid, nice);
#endif
}

}  // namespace dcn
