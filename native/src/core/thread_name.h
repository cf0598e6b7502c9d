// SPDX-License-Identifier: MIT
// Names the calling thread (at most 15 characters on Linux), so that top -H, perf, gdb and /proc show which
// threads are the library's: the CPU queue's executor ("tvdcn-queue") and the pool's workers ("tvdcn-pool").
// Best effort: a platform without the call keeps the inherited name.
#pragma once
#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#endif

namespace dcn {

inline void set_current_thread_name(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
  pthread_setname_np(name);
#else
  (void)name;
#endif
}

}  // namespace dcn
