// SPDX-License-Identifier: MIT
// The caching device allocator and pinned host pool (see allocator.h). Compiled only into the CUDA build.
#ifdef TVDCN_WITH_CUDA
#include "cuda_runtime/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <cuda_runtime.h>

#include "core/env.h"
#include "core/error.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/stream.h"

namespace dcn::cuda {
namespace {

struct Pool {
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // size class -> blocks
  struct Used {
    std::size_t size;
    std::size_t requested;
  };
  std::unordered_map<void*, Used> used;
  std::unordered_map<void*, std::size_t> cached_size;  // free block -> size class
  MemoryStats stats;
};

// Leaked on purpose: no CUDA call may run from a static destructor after the runtime is torn down.
std::mutex& pools_mutex() {
  static auto* m = new std::mutex();
  return *m;
}
std::vector<std::unique_ptr<Pool>>& pools() {
  static auto* p = new std::vector<std::unique_ptr<Pool>>();
  return *p;
}

Pool& pool_locked(int device) {
  auto& ps = pools();
  if (static_cast<int>(ps.size()) <= device) ps.resize(device + 1);
  if (!ps[device]) ps[device] = std::make_unique<Pool>();
  return *ps[device];
}

// Frees every cached block of `p` (caller holds the lock and has made the device current).
void free_cached_locked(Pool& p) {
  for (auto& [size, blocks] : p.free_blocks) {
    for (void* b : blocks) cudaFree(b);
    p.stats.cached -= static_cast<uint64_t>(size) * blocks.size();
    blocks.clear();
  }
  p.free_blocks.clear();
  p.cached_size.clear();
  cudaGetLastError();
}

struct PinnedPool {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;
  std::unordered_map<void*, std::size_t> size_of;
};
PinnedPool& pinned_pool() {
  static auto* p = new PinnedPool();
  return *p;
}

}  // namespace

bool direct_allocation() {
  static const bool on = env_is("TVDCN_CUDA_ALLOCATOR", "direct");
  return on;
}

std::size_t size_class(std::size_t bytes) {
  if (bytes <= 512) return 512;
  // Quarter steps between powers of two: at most 25% waste.
  std::size_t top = 1;
  while ((top << 1) < bytes) top <<= 1;  // top < bytes <= 2 * top
  const std::size_t step = std::max<std::size_t>(top / 4, 512);
  return (bytes + step - 1) / step * step;
}

void* allocate(int device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const bool direct = direct_allocation();
  const std::size_t size = direct ? bytes : size_class(bytes);
  std::lock_guard<std::mutex> lock(pools_mutex());
  Pool& p = pool_locked(device);
  void* ptr = nullptr;
  auto it = direct ? p.free_blocks.end() : p.free_blocks.find(size);
  if (it != p.free_blocks.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    p.cached_size.erase(ptr);
    p.stats.cached -= size;
  } else {
    DeviceGuard guard(device);
    cudaError_t err = cudaMalloc(&ptr, size);
    if (err != cudaSuccess) {
      cudaGetLastError();
      free_cached_locked(p);
      err = cudaMalloc(&ptr, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      std::size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      throw Error(ErrorKind::kRange,
                  detail::concat("CUDA out of memory: could not allocate ", bytes, " bytes on cuda:", device, " (",
                                 cudaGetErrorName(err), "); in use by tvdcn: ", p.stats.allocated,
                                 " bytes, device free: ", free_b, " of ", total_b, " bytes"));
    }
    p.stats.cuda_malloc_count++;
  }
  p.used.emplace(ptr, Pool::Used{size, bytes});
  p.stats.allocated += size;
  p.stats.requested += bytes;
  p.stats.peak_allocated = std::max(p.stats.peak_allocated, p.stats.allocated);
  p.stats.alloc_count++;
  p.stats.blocks_in_use++;
  return ptr;
}

void release(int device, void* ptr) {
  if (ptr == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(pools_mutex());
    Pool& p = pool_locked(device);
    auto it = p.used.find(ptr);
    if (it == p.used.end()) return;  // not ours: never free foreign memory
    const std::size_t size = it->second.size;
    p.stats.allocated -= size;
    p.stats.requested -= it->second.requested;
    p.stats.blocks_in_use--;
    p.used.erase(it);
    if (!direct_allocation()) {
      p.free_blocks[size].push_back(ptr);
      p.cached_size.emplace(ptr, size);
      p.stats.cached += size;
      return;
    }
  }
  // Direct allocation: work queued on the device's stream may still use the block, so wait for it, then
  // free it. Errors are ignored (this runs from destructors and at exit).
  try {
    int previous = 0;
    if (cudaGetDevice(&previous) == cudaSuccess && cudaSetDevice(device) == cudaSuccess) {
      cudaStreamSynchronize(stream(device));
      cudaFree(ptr);
      cudaSetDevice(previous);
    }
  } catch (...) {}
  cudaGetLastError();
}

void empty_cache(int device) {
  {
    std::lock_guard<std::mutex> lock(pools_mutex());
    auto& ps = pools();
    for (int d = 0; d < static_cast<int>(ps.size()); ++d) {
      if (!ps[d] || (device >= 0 && d != device)) continue;
      int previous = 0;
      cudaGetDevice(&previous);
      cudaSetDevice(d);
      free_cached_locked(*ps[d]);
      cudaSetDevice(previous);
    }
  }
  PinnedPool& pp = pinned_pool();
  std::lock_guard<std::mutex> lock(pp.mutex);
  for (auto& [size, blocks] : pp.free_blocks) {
    for (void* b : blocks) {
      pp.size_of.erase(b);
      cudaFreeHost(b);
    }
    blocks.clear();
  }
  cudaGetLastError();
}

MemoryStats memory_stats(int device) {
  std::lock_guard<std::mutex> lock(pools_mutex());
  return pool_locked(device).stats;
}

void reset_peak(int device) {
  std::lock_guard<std::mutex> lock(pools_mutex());
  Pool& p = pool_locked(device);
  p.stats.peak_allocated = p.stats.allocated;
}

void* allocate_pinned(std::size_t bytes) {
  const std::size_t size = size_class(bytes);
  PinnedPool& pp = pinned_pool();
  {
    std::lock_guard<std::mutex> lock(pp.mutex);
    auto it = pp.free_blocks.find(size);
    if (it != pp.free_blocks.end() && !it->second.empty()) {
      void* ptr = it->second.back();
      it->second.pop_back();
      return ptr;
    }
  }
  void* ptr = nullptr;
  DCN_CUDA_CHECK(cudaMallocHost(&ptr, size));
  std::lock_guard<std::mutex> lock(pp.mutex);
  pp.size_of[ptr] = size;
  return ptr;
}

void release_pinned(void* ptr) {
  if (ptr == nullptr) return;
  PinnedPool& pp = pinned_pool();
  std::lock_guard<std::mutex> lock(pp.mutex);
  auto it = pp.size_of.find(ptr);
  if (it == pp.size_of.end()) return;
  pp.free_blocks[it->second].push_back(ptr);
}

}  // namespace dcn::cuda
#endif  // TVDCN_WITH_CUDA
