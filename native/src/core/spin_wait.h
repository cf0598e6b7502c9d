// SPDX-License-Identifier: MIT
// spin_until: a short poll before a thread sleeps on a condition variable. The thread pools (core/parallel.cc,
// native/wasm/parallel_wasm.cc) and the work queue (core/work_queue.cc) use it: kernels run several short
// regions back to back (one per phase of a column tile) and small ops come in bursts, while a futex wake-up
// costs tens of microseconds on a busy machine.
#pragma once
#include <chrono>

namespace dcn::detail {

// How long spin_until polls before giving up.
constexpr auto kSpin = std::chrono::microseconds(50);

// A hint to the core that this is a spin loop (x86's pause; nothing elsewhere, WebAssembly included).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` for up to kSpin; true as soon as it holds.
template <typename F>
bool spin_until(F&& ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return ready();
  }
}

}  // namespace dcn::detail
