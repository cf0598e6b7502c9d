// SPDX-License-Identifier: MIT
// Lowers the calling thread's scheduling priority by TVDCN_THREAD_NICE (0-19; unset or invalid: 0, no change),
// for the library's own threads: the CPU queue's executor and the pool's workers. On a machine with fewer
// free cores than busy threads, a niced worker yields its core as soon as the JS thread wakes (CFS weighs a
// thread at nice 10 about a tenth of one at nice 0), so a server's event loop is not kept waiting behind
// queued kernels (docs/perf/http-inference.md, "Session 6"). Best effort: Linux only (there, nice is per
// thread); elsewhere, and where the call fails, the thread keeps its priority.
#pragma once
#include <cstdlib>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dcn {

// TVDCN_THREAD_NICE when it is a decimal integer in 1..19, else 0.
inline int thread_nice_from_env() {
  const char* env = std::getenv("TVDCN_THREAD_NICE");
  if (env == nullptr || env[0] == '\0') return 0;
  int v = 0;
  for (const char* c = env; *c; ++c) {
    if (*c < '0' || *c > '9' || v > 19) return 0;
    v = v * 10 + (*c - '0');
  }
  return v >= 1 && v <= 19 ? v : 0;
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
