// SPDX-License-Identifier: MIT
// Names the calling thread (at most 15 characters on Linux), so that top -H, perf, gdb and /proc show which
// threads are the library's: the CPU queue's executor ("tvdcn-queue") and the pool's workers ("tvdcn-pool").
// Best effort: a platform without the call keeps the inherited name. Linux uses prctl(PR_SET_NAME), which
// names the calling thread and is in every glibc: pthread_setname_np got a new symbol version in glibc 2.34
// (when libpthread moved into libc) and would raise the addon's glibc floor (platform/glibc_compat.cc).
#pragma once
#if defined(__linux__)
#include <sys/prctl.h>
#elif defined(__APPLE__)
#include <pthread.h>
#endif

namespace dcn {

inline void set_current_thread_name(const char* name) {
#if defined(__linux__)
  prctl(PR_SET_NAME, name, 0, 0, 0);
#elif defined(__APPLE__)
  pthread_setname_np(name);
#else
  (void)name;
#endif
}

}  // namespace dcn
