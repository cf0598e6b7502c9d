// SPDX-License-Identifier: MIT
// The CPU thread pool: a small persistent set of std::threads shared by every CPU kernel. Its size is
// TVDCN_NUM_THREADS, or std::thread::hardware_concurrency(), or set_num_threads(). A parallel call made
// inside a parallel region, or while another JS thread holds the pool, runs serially on the caller, so
// nesting and Node worker_threads are safe. Work assignment never changes results: every helper here
// gives each output element to exactly one task.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>

namespace dcn {

// Threads the pool uses (the caller included); always >= 1.
int get_num_threads();
// Sets the pool size (n >= 1); waits for running work first.
void set_num_threads(int n);
// True inside a parallel_region, on any of its threads.
bool in_parallel_region();

namespace detail {
using RegionFn = void (*)(void* ctx, int tid, int nthreads);
void run_region(int max_threads, RegionFn fn, void* ctx);
// The native pool only (core/parallel.cc; not the WebAssembly one): how many workers' shares their callers
// ran because no worker had taken them yet (NOTE [ Late shares ] in core/region_join.h), and a test hook that
// makes each worker sleep `us` microseconds before it takes up each region (0: none).
uint64_t pool_late_shares();
void set_pool_worker_delay_us(int us);
}  // namespace detail

// Runs fn(tid, nthreads) once on each of nthreads <= max_threads threads (tid 0 is the caller) and
// returns when all are done. Exceptions thrown by fn are rethrown on the caller (the first one wins).
template <typename F>
void parallel_region(int max_threads, F&& fn) {
  auto tramp = [](void* ctx, int tid, int nthreads) { (*static_cast<F*>(ctx))(tid, nthreads); };
  detail::run_region(max_threads, tramp, const_cast<void*>(static_cast<const void*>(&fn)));
}

// Calls fn(task, tid) for every task in [0, n_tasks), tasks claimed one at a time from a shared
// counter. tid identifies the thread for per-thread scratch: 0 <= tid < max_threads, where max_threads is
// the count the caller sized its scratch with. Read get_num_threads() ONCE, size the scratch by it and
// pass that same value here: another JS thread may call set_num_threads() in between, and the pool never
// hands out an index >= max_threads whatever its size is now.
template <typename F>
void parallel_tasks(int64_t n_tasks, int max_threads, F&& fn) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1) {
    fn(int64_t{0}, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  const int region_threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n_tasks, max_threads)));
  parallel_region(region_threads, [&](int tid, int) {
    for (int64_t t = next.fetch_add(1, std::memory_order_relaxed); t < n_tasks;
         t = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(t, tid);
    }
  });
}

// Calls fn(task) for every task in [0, n_tasks) (no thread index: tasks that need per-thread scratch use
// the overload above, so the scratch and the region agree on one thread count).
template <typename F>
void parallel_tasks(int64_t n_tasks, F&& fn) {
  static_assert(std::is_invocable_v<F&, int64_t>,
                "parallel_tasks: a task taking a thread index needs parallel_tasks(n_tasks, max_threads, fn)");
  parallel_tasks(n_tasks, get_num_threads(), [&](int64_t t, int) { fn(t); });
}

// Calls fn(b, e) on chunks [b, e) of [begin, end), each at least `grain` long (except the last).
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t n = end - begin;
  // About four chunks per thread balances load without many tiny chunks.
  const int64_t threads = get_num_threads();
  const int64_t chunk = std::max<int64_t>(grain, (n + 4 * threads - 1) / (4 * threads));
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  if (n_chunks == 1 || threads == 1 || in_parallel_region()) {
    fn(begin, end);
    return;
  }
  parallel_tasks(n_chunks, [&](int64_t c) {
    const int64_t b = begin + c * chunk;
    fn(b, std::min(end, b + chunk));
  });
}

}  // namespace dcn
