// SPDX-License-Identifier: MIT
// An opt-in phase profiler for benchmarks (_cudaProfile(true) from JS): ScopedPhase records a pair of
// CUDA events around a phase of a driver (im2col, a GEMM, col2im, ...) on the stream; report() waits for
// them and sums the milliseconds per phase name. Off by default, then a ScopedPhase costs two loads. In the
// host mode (_cudaProfile('host')) a ScopedPhase is a HostPhase instead: the host's time, no events
// (NOTE [ Host phases ] in core/host_phase.h). Host code of the CUDA build only.
#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "core/host_phase.h"

namespace dcn::cuda {

struct PhaseRecord {
  const char* name;
  cudaEvent_t start, stop;
};

inline std::atomic<bool>& profile_flag() {
  static std::atomic<bool> on{false};
  return on;
}
inline std::mutex& profile_mutex() {
  static auto* m = new std::mutex();
  return *m;
}
inline std::vector<PhaseRecord>& profile_records() {
  static auto* r = new std::vector<PhaseRecord>();
  return *r;
}

// Milliseconds per phase since the last report (waits for the recorded events), then forgets them.
inline std::map<std::string, double> profile_report() {
  std::lock_guard<std::mutex> lock(profile_mutex());
  std::map<std::string, double> out;
  for (const PhaseRecord& r : profile_records()) {
    float ms = 0;
    if (cudaEventSynchronize(r.stop) == cudaSuccess && cudaEventElapsedTime(&ms, r.start, r.stop) == cudaSuccess) {
      out[r.name] += ms;
    }
    cudaEventDestroy(r.start);
    cudaEventDestroy(r.stop);
  }
  cudaGetLastError();
  profile_records().clear();
  return out;
}

class ScopedPhase {
 public:
  ScopedPhase(const char* name, cudaStream_t s) : name_(name), s_(s), host_(name) {
    if (!profile_flag().load(std::memory_order_relaxed)) return;
    if (cudaEventCreate(&start_) != cudaSuccess) return;
    cudaEventRecord(start_, s_);
  }
  ~ScopedPhase() {
    if (start_ == nullptr) return;
    cudaEvent_t stop = nullptr;
    if (cudaEventCreate(&stop) != cudaSuccess) {
      cudaEventDestroy(start_);
      return;
    }
    cudaEventRecord(stop, s_);
    std::lock_guard<std::mutex> lock(profile_mutex());
    profile_records().push_back({name_, start_, stop});
  }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  const char* name_;
  cudaStream_t s_;
  cudaEvent_t start_ = nullptr;
  HostPhase host_;
};

}  // namespace dcn::cuda
