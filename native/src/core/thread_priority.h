// SPDX-License-Identifier: MIT
// Lowers the calling thread's scheduling priority by TVDCN_THREAD_NICE (0-19; unset or invalid: 0, no change),
// for the library's own threads: the CPU queue's executor and the pool's workers. On a machine with fewer
// free cores than busy threads, a niced worker yields its core as soon as the JS thread wakes (CFS weighs a
// thread at nice 10 about a tenth of one at nice 0), so a server's event loop is not kept waiting behind
// queued kernels (docs/perf/http-inference.md, "Session 6"). Best effort: Linux only (there, nice is per
// thread); elsewhere, and where the call fails, the thread keeps its priority.
#pragma once
#include <optional>

#include "core/env.h"
#if defined(__linux__)
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

inline void lower_current_thread_priority() {
#if defined(__linux__)
  const int nice = thread_nice_from_env();
  if (nice == 0) return;
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current < nice) (void)setpriority(PRIO_PROCESS, tid, nice);
#endif
}

}  // namespace dcn
