// SPDX-License-Identifier: MIT
// The caching device allocator: one pool per device, blocks rounded up to size classes (quarter
// steps between powers of two, at least 512 bytes) and kept on a free list per class when released,
// so that the next request of that class reuses them without cudaMalloc/cudaFree (which synchronize).
// Reuse is safe because all work of a device runs on its one stream (stream.h). empty_cache() returns
// the cached blocks to the driver. A small pool of pinned host blocks serves asynchronous reads.
// Host code of the CUDA build only; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dcn::cuda {

struct MemoryStats {
  uint64_t allocated = 0;          // bytes of blocks in use (size-class rounded)
  uint64_t cached = 0;             // bytes of free blocks kept for reuse
  uint64_t peak_allocated = 0;     // high-water mark of `allocated`
  uint64_t requested = 0;          // bytes asked for by the blocks in use (before rounding)
  uint64_t alloc_count = 0;        // allocate() calls served
  uint64_t cuda_malloc_count = 0;  // of which went to cudaMalloc
  uint64_t blocks_in_use = 0;
};

// True when TVDCN_CUDA_ALLOCATOR=direct (read once): no caching, every block is cudaMalloc'd at its
// exact size and freed with cudaFree when released (after the device's stream has finished with it). For
// compute-sanitizer runs: memcheck then sees each buffer's own bounds (a cached block may be up to a size
// class larger) and accesses to freed memory, initcheck sees every fresh allocation. Slow; tests only.
bool direct_allocation();

// Size class of a request (what a block of `bytes` really occupies).
std::size_t size_class(std::size_t bytes);

// Device memory of at least `bytes` on `device` (nullptr for 0 bytes). On cudaMalloc failure the
// device's cache is emptied and the call retried once; then throws dcn::Error naming the request and
// the pool's state.
void* allocate(int device, std::size_t bytes);
// Returns a block from allocate() to its pool (no-op for nullptr).
void release(int device, void* ptr);
// Frees the cached blocks of `device` (all devices when device < 0), and cached pinned host blocks.
void empty_cache(int device);
MemoryStats memory_stats(int device);
// Resets peak_allocated to the current allocated bytes.
void reset_peak(int device);

// Pinned host memory for asynchronous device-to-host copies, cached the same way.
void* allocate_pinned(std::size_t bytes);
void release_pinned(void* ptr);

// A temporary device block released when the scope ends (stream order makes that safe).
class Workspace {
 public:
  Workspace() = default;
  Workspace(int device, std::size_t bytes) : device_(device), ptr_(allocate(device, bytes)) {}
  ~Workspace() { release(device_, ptr_); }
  Workspace(Workspace&& o) noexcept : device_(o.device_), ptr_(o.ptr_) { o.ptr_ = nullptr; }
  Workspace& operator=(Workspace&& o) noexcept {
    if (this != &o) {
      release(device_, ptr_);
      device_ = o.device_;
      ptr_ = o.ptr_;
      o.ptr_ = nullptr;
    }
    return *this;
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  void* get() const { return ptr_; }

 private:
  int device_ = 0;
  void* ptr_ = nullptr;
};

}  // namespace dcn::cuda
