// SPDX-License-Identifier: MIT
// An opt-in profiler of the host's time inside a binding call (benchmarks only; NOTE [ Host phases ]).
//
// NOTE [ Host phases ]
// A CUDA forward of a small shape is bounded by the host: the GPU waits for the host's first launch, and the
// native call took 18-28 µs of the ~35 µs a forward costs on an H100's host (docs/cuda.md, session 31). Where those
// microseconds go (reading the arguments, the driver's setup, each launch) is read by HostPhase: while on
// (_cudaProfile('host') from JS), it adds the steady clock's time from its construction to its destruction to its
// name's total; nested phases count in each, so a parent's time less its children's is its own work. Off (the
// default), a HostPhase costs one relaxed load. The driver's phases (ScopedPhase, cuda_runtime/profile.h) are host
// phases too in this mode, with no CUDA events recorded. No dependency on CUDA: the bindings use it in every build.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace dcn {

inline std::atomic<bool>& host_phase_flag() {
  static std::atomic<bool> on{false};
  return on;
}

// Per phase name: the summed nanoseconds and the number of times it ran, since the last report.
struct HostPhaseTotal {
  int64_t ns = 0;
  int64_t count = 0;
};

inline std::mutex& host_phase_mutex() {
  static auto* m = new std::mutex();
  return *m;
}
inline std::map<std::string, HostPhaseTotal>& host_phase_totals() {
  static auto* t = new std::map<std::string, HostPhaseTotal>();
  return *t;
}

// The totals since the last report, then forgets them.
inline std::map<std::string, HostPhaseTotal> host_phase_report() {
  std::lock_guard<std::mutex> lock(host_phase_mutex());
  std::map<std::string, HostPhaseTotal> out;
  out.swap(host_phase_totals());
  return out;
}

class HostPhase {
 public:
  explicit HostPhase(const char* name) : name_(name) {
    if (host_phase_flag().load(std::memory_order_relaxed)) start_ = std::chrono::steady_clock::now();
  }
  ~HostPhase() {
    if (start_ == std::chrono::steady_clock::time_point{}) return;
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    std::lock_guard<std::mutex> lock(host_phase_mutex());
    HostPhaseTotal& t = host_phase_totals()[name_];
    t.ns += ns;
    t.count += 1;
  }
  HostPhase(const HostPhase&) = delete;
  HostPhase& operator=(const HostPhase&) = delete;

 private:
  const char* name_;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace dcn
