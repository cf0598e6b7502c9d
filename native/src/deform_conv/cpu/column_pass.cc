// SPDX-License-Identifier: MIT
// NOTE [ Channels-last column pass ]
// The backward (and the transposed forward) spends its sampling time in three loops over the same
// samples: im2col for the weight gradient, the per-corner channel sums of the offset and mask gradients,
// and the col2im scatter. In the planar layout (X[b, c, pos], dcol[(c, kpt), n]) each of them gathers
// or scatters one element per (sample, channel, corner); the scatter cannot be vectorised at all (lanes
// collide). Here the sampled tensors are transposed to channels-last planes, Xt[b][pos][c] with an extra
// all-zero row `sx` per image (invalid corners point at it), and both column matrices are produced and
// consumed transposed, dcolT[n][(kpt, c)] (rows of a weight group ordered kernel point first), so that
// every corner of a sample touches one contiguous run of channels:
//   colsT[n][kpt, c]  = m * sum_j w_j Xt[idx_j][c]                 (vector FMAs, no gather)
//   S_j               = sum_c dcolT[n][kpt, c] * Xt[idx_j][c]      (same loads as the line above)
//   XGt[idx_j][c]    += m * w_j * dcolT[n][kpt, c]                  (vector read-modify-write, no scatter)
// The GEMMs take the transposed matrices directly: dcolT = Y_tile^T * W' and grad_weight' += Y_tile * colsT,
// with W' the weight with its (c, kpt) columns reordered to (kpt, c). The corner table (indices, value
// weights, coordinate weights) is built once per tile and offset group and shared by all loops.
// Determinism: each gradient element is summed in an order fixed by the geometry (windows and slots of
// columns, NOTE [ Channels-last backward tiles ]), so results do not depend on the number of threads.
#include "deform_conv/cpu/column_pass.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 warns about the undefined pass-through operand inside the AVX-512 unpack intrinsics (as in
// forward_small_groups.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

#include "core/buffer.h"
#include "core/macros.h"
#include "core/parallel.h"
#include "deform_conv/cpu/backward_small_groups.h"
#include "deform_conv/cpu/forward_small_groups.h"
#include "deform_conv/deform_conv.h"
#include "deform_conv/sampling.h"
#include "gemm/cpu/gemm.h"
#include "gemm/cpu/transpose_avx512.h"

// Vector types wider than the baseline ISA appear in always-inlined helpers only.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dcn::cpu {
namespace cl {

// Scratch memory of the calling thread, kept between calls (fresh pages of multi-megabyte buffers cost
// page faults on every call). Requests above kKeepBytes are freed again at the end of the call.
class Scratch {
 public:
  static constexpr size_t kKeepBytes = size_t{128} << 20;
  // Pointers into one allocation, each part 64-byte aligned.
  char* get(size_t bytes) {
    if (bytes > size_) {
      data_.reset();
      data_.reset(new char[bytes + 64]);
      size_ = bytes;
    }
    return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(data_.get()) + 63) & ~uintptr_t{63});
  }
  void release_if_huge() {
    if (size_ > kKeepBytes) {
      data_.reset();
      size_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

Scratch& thread_scratch() {
  static thread_local Scratch s;
  return s;
}

// Carves typed, 64-byte aligned arrays out of one block.
class Carver {
 public:
  template <typename U>
  size_t add(int64_t n) {
    const size_t at = total_;
    total_ += (static_cast<size_t>(std::max<int64_t>(n, 0)) * sizeof(U) + 63) / 64 * 64;
    return at;
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

// TVDCN_CPU_PHASES=1 prints the wall time of each phase of every call to stderr (a profiling aid).
bool phases_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("TVDCN_CPU_PHASES");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return on;
}

struct PhaseTimer {
  bool on = phases_enabled();
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
  double ms[8] = {};
  void lap(int phase) {
    if (!on) return;
    const auto now = std::chrono::steady_clock::now();
    ms[phase] += std::chrono::duration<double, std::milli>(now - t).count();
    t = now;
  }
};

// Column blocks of the table, the passes and the mask tile: at most kColBlock columns inside one image,
// so that the per-channel rows of offsets, masks and gradients (stride prod(y_size)) are read and written
// as contiguous runs instead of one element of each of many lines per column.
constexpr int64_t kColBlock = 32;
// NOTE [ Pass B by destination ]: the positions one column block's list heads cover, and the 64-byte vectors of
// a destination row held in registers.
constexpr int32_t kGatherRange = 4096;
constexpr int kGatherVectors = 16;

struct ColumnBlock {
  int64_t i0, i1, b, q0;  // tile columns [i0, i1) of image b, the first at y position q0
};

// NOTE [ Slot pieces handed over ]
// The threads of the backward's tile region claim a window's slot pieces (NOTE [ Channels-last backward tiles ])
// here. A piece's tiles must run in column order (they accumulate into the slot's own X-gradient and
// weight-gradient copies), but not all on one thread: the state a piece carries from tile to tile is in shared
// memory (XGt_s and its chunk marks, gws_s and its started flag, the window's Y and colsT), except the current
// dcol group's dcolT and the y_forward rows carried to the next tile, both in the running thread's own buffers;
// so at the end of a dcol group, with the carried rows flushed, another thread can go on with the piece. Without
// hand-overs, 4 pieces on 2 threads split 2 : 2 whatever the threads' speeds, and on the shared 2-vCPU machine
// one vCPU at a time ran 10-30 % slower (docs/perf/cpu.md, session 12, k13v): the other thread idled up to 2 ms of
// up-t2d's 7 ms region. Rule: a thread claims the first untaken piece, else the first piece another thread has
// left (at the column where it was left); a thread leaves its piece at a group end when an untaken piece
// remains and another thread has claimed more pieces than it has (it is behind: the other finished a piece
// while it still has tiles left). Which thread runs a tile never changes a sum.
class PieceScheduler {
 public:
  PieceScheduler(int64_t n_pieces, int n_threads)
      : resume_(static_cast<size_t>(n_pieces), -1),
        left_(static_cast<size_t>(n_pieces), 0),
        claims_(new std::atomic<int>[static_cast<size_t>(std::max(n_threads, 1))]()),
        untaken_(n_pieces),
        n_threads_(std::max(n_threads, 1)) {}
  // The next piece for thread tid (-1: none left) and the column to start at (-1: the piece's start).
  int64_t claim(int tid, int64_t* at) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t piece = -1;
    if (next_ < static_cast<int64_t>(left_.size())) {
      piece = next_++;
      untaken_.fetch_sub(1, std::memory_order_relaxed);
      *at = -1;
    } else {
      for (size_t p = 0; p < left_.size(); ++p)
        if (left_[p]) {
          left_[p] = 0;
          piece = static_cast<int64_t>(p);
          *at = resume_[p];
          break;
        }
    }
    if (piece >= 0) claims_[tid].fetch_add(1, std::memory_order_relaxed);
    return piece;
  }
  // Whether tid should leave its piece at this group end (a hint: leave() checks again).
  bool behind(int tid) const {
    if (untaken_.load(std::memory_order_relaxed) <= 0) return false;
    if (force_handover()) return true;  // test hook (deform_conv.h)
    const int mine = claims_[tid].load(std::memory_order_relaxed);
    for (int t = 0; t < n_threads_; ++t)
      if (t != tid && claims_[t].load(std::memory_order_relaxed) > mine) return true;
    return false;
  }
  // Leaves `piece` to resume at column `at` if an untaken piece remains; true if left.
  bool leave(int64_t piece, int64_t at) {
    std::lock_guard<std::mutex> lock(mu_);
    if (next_ >= static_cast<int64_t>(left_.size())) return false;
    left_[static_cast<size_t>(piece)] = 1;
    resume_[static_cast<size_t>(piece)] = at;
    return true;
  }

 private:
  std::mutex mu_;
  int64_t next_ = 0;  // pieces [0, next_) were taken (guarded by mu_)
  std::vector<int64_t> resume_;
  std::vector<uint8_t> left_;
  std::unique_ptr<std::atomic<int>[]> claims_;  // pieces each thread has claimed (taken or resumed)
  std::atomic<int64_t> untaken_;
  int n_threads_;
};

// NOTE [ One region over all windows ]
// Where no shared weight GEMM runs between the windows (the per-slot weight gradient, slot_gw, or no weight
// gradient at all: NOTE [ Channels-last backward tiles ]), the windows only bound the Y buffer, and a join per
// window made the threads split every window's kSlots pieces 2 : 2 on two threads whatever their speeds (one
// vCPU of the shared machine often runs 10-30 % slower: docs/perf/cpu.md, sessions 12 and 13). Here one region
// runs the pieces of all windows: piece p = (w, s) = w * n_slots + s, claimable once piece (w - 1, s) is done
// (a slot's accumulators take its tiles in column order, so every sum keeps its order whoever runs a piece: the
// state a piece hands on is in shared memory, as for NOTE [ Slot pieces handed over ]). Slot s keeps its Y
// columns at s * nws of the window buffer in every window (a piece has at most nws columns).
// Claims: the lowest claimable piece (untaken and ready, or left by another thread), which keeps the slots in
// step. The tail (every untaken piece ready, so what is left is a set of pieces that can all run at once) is a
// small scheduling problem: there a thread claims the piece with the most columns left, and at a group end it
// leaves its piece for the largest other one when that shortens the estimated end of the region by more than
// half a tile of its own: the end is estimated by placing the remaining pieces, largest first, on the thread
// that frees up first, each thread at its own measured rate (ns per column, from its tiles so far). Timing only
// decides which thread runs a tile, never a sum. (A discrete simulation of the four slot_gw bench shapes, two
// threads, one 10-30 % slower: the idle time at the end fell to 0.1-1.4 tile-times from 1-8 with per-window
// regions and the hand-over of NOTE [ Slot pieces handed over ], docs/perf/cpu.md, session 13.)
class SlotChains {
 public:
  using Clock = std::chrono::steady_clock;
  // Pieces (w, s): columns [a, min(a + nws, end of slot s)) from a = min(slot_first[s] + w * nws, end of slot s);
  // `tile` columns per tile.
  SlotChains(int64_t n_windows, int64_t n_slots, const std::vector<int64_t>& slot_first, int64_t nws, int64_t tile,
             int n_threads)
      : n_slots_(n_slots),
        n_pieces_(n_windows * n_slots),
        tile_(tile),
        state_(static_cast<size_t>(n_pieces_), kUntaken),
        resume_(static_cast<size_t>(n_pieces_), 0),
        size_(static_cast<size_t>(n_pieces_), 0),
        first_(static_cast<size_t>(n_pieces_), 0),
        thr_(static_cast<size_t>(std::max(n_threads, 1))),
        untaken_(n_pieces_) {
    for (int64_t p = 0; p < n_pieces_; ++p) {
      const int64_t s = p % n_slots, w = p / n_slots;
      const int64_t a = std::min(slot_first[static_cast<size_t>(s)] + w * nws, slot_first[static_cast<size_t>(s + 1)]);
      const int64_t e = std::min(a + nws, slot_first[static_cast<size_t>(s + 1)]);
      size_[static_cast<size_t>(p)] = e - a;
      first_[static_cast<size_t>(p)] = a;
      resume_[static_cast<size_t>(p)] = a;
    }
  }
  // The next piece for thread tid (-1: none left) and the column to start at; waits while every piece left
  // to take waits on its slot's previous piece.
  int64_t claim(int tid, int64_t* at) {
    std::unique_lock<std::mutex> lock(mu_);
    Thread& me = thr_[static_cast<size_t>(tid)];
    for (;;) {
      if (aborted_) return -1;
      const bool tail = in_tail();
      int64_t best = -1;
      for (int64_t p = lo_; p < n_pieces_; ++p) {
        if (!claimable(p)) continue;
        if (p == me.left && best >= 0) continue;
        if (best < 0 || best == me.left || (tail && left_cols(p) > left_cols(best))) best = p;
        if (!tail && best != me.left) break;
      }
      if (best >= 0) {
        const size_t b = static_cast<size_t>(best);
        if (state_[b] == kUntaken) untaken_.fetch_sub(1, std::memory_order_relaxed);
        state_[b] = kRunning;
        *at = resume_[b];
        me.left = -1;
        me.piece = best;
        me.end_col = end_of(best);
        me.last = Clock::now();
        me.last_cols = 0;
        return best;
      }
      if (untaken_.load(std::memory_order_relaxed) == 0) {
        me.piece = -1;
        me.gone = true;
        return -1;
      }
      me.piece = -1;
      cv_.wait(lock);
    }
  }
  // At the start of a tile [n0, n0 + nc) of tid's piece (n0 + nc a group end before the piece's end when
  // `may_leave`): records the thread's progress and rate; true if tid should leave its piece after the tile.
  bool tile(int tid, int64_t n0, int64_t nc, bool may_leave) {
    std::lock_guard<std::mutex> lock(mu_);
    Thread& me = thr_[static_cast<size_t>(tid)];
    const Clock::time_point now = Clock::now();
    if (me.last_cols > 0) {
      const double ns =
          std::chrono::duration<double, std::nano>(now - me.last).count() / static_cast<double>(me.last_cols);
      me.ns_per_col = me.ns_per_col > 0 ? 0.75 * me.ns_per_col + 0.25 * ns : ns;
    }
    me.last = now;
    me.last_cols = nc;
    me.next_col = n0;
    if (!may_leave) return false;
    if (force_handover()) return any_claimable(me.piece);  // test hook (deform_conv.h)
    if (untaken_.load(std::memory_order_relaxed) > n_slots_ || !in_tail()) return false;
    // Estimated end of the region with tid keeping its piece, and with tid leaving it after this tile for the
    // largest claimable one (its rest then claimable by any thread).
    std::vector<int64_t> items;
    int64_t largest = -1;
    for (int64_t p = lo_; p < n_pieces_; ++p)
      if (claimable(p)) {
        items.push_back(left_cols(p));
        if (largest < 0 || items.back() > items[static_cast<size_t>(largest)])
          largest = static_cast<int64_t>(items.size()) - 1;
      }
    if (largest < 0) return false;
    const double v = rate(tid);
    if (v <= 0) return false;
    const int64_t rest = me.end_col - n0 - nc;
    const double keep = estimate(tid, now, static_cast<double>(me.end_col - n0) * v, items);
    const int64_t x = items[static_cast<size_t>(largest)];
    items[static_cast<size_t>(largest)] = rest;
    const double leave = estimate(tid, now, static_cast<double>(nc + x) * v, items);
    return leave < keep - 0.5 * static_cast<double>(std::min(tile_, me.end_col - n0)) * v;
  }
  // Leaves tid's piece p to resume at column `at`; false (the thread goes on) if nothing else is claimable.
  bool leave(int tid, int64_t p, int64_t at) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!any_claimable(p)) return false;
    state_[static_cast<size_t>(p)] = kLeft;
    resume_[static_cast<size_t>(p)] = at;
    Thread& me = thr_[static_cast<size_t>(tid)];
    me.left = p;
    me.piece = -1;
    cv_.notify_all();
    return true;
  }
  // Held by each thread of the region: if the thread leaves it by an exception, the pieces it held will never be
  // done, so no thread may wait for them (the region then rethrows the exception).
  class AbortOnThrow {
   public:
    explicit AbortOnThrow(SlotChains& c) : c_(c), uncaught_(std::uncaught_exceptions()) {}
    ~AbortOnThrow() {
      if (std::uncaught_exceptions() > uncaught_) c_.abort();
    }
    AbortOnThrow(const AbortOnThrow&) = delete;
    AbortOnThrow& operator=(const AbortOnThrow&) = delete;

   private:
    SlotChains& c_;
    int uncaught_;
  };
  void abort() {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_ = true;
    cv_.notify_all();
  }
  // tid has run piece p to its end.
  void done(int tid, int64_t p) {
    std::lock_guard<std::mutex> lock(mu_);
    state_[static_cast<size_t>(p)] = kDone;
    while (lo_ < n_pieces_ && state_[static_cast<size_t>(lo_)] == kDone) ++lo_;
    thr_[static_cast<size_t>(tid)].piece = -1;
    cv_.notify_all();
  }

 private:
  enum : uint8_t { kUntaken, kRunning, kLeft, kDone };
  struct Thread {
    int64_t piece = -1, left = -1;  // running piece; the piece it has just left (not claimed back while others wait)
    int64_t end_col = 0, next_col = 0, last_cols = 0;
    Clock::time_point last{};
    double ns_per_col = 0;
    bool gone = false;
  };
  int64_t left_cols(int64_t p) const {
    const size_t q = static_cast<size_t>(p);
    if (state_[q] != kLeft) return size_[q];
    // A left piece: from its resume column to its end (resume_ holds its first column until then).
    return end_of(p) - resume_[q];
  }
  int64_t end_of(int64_t p) const { return first_[static_cast<size_t>(p)] + size_[static_cast<size_t>(p)]; }
  bool ready(int64_t p) const { return p < n_slots_ || state_[static_cast<size_t>(p - n_slots_)] == kDone; }
  bool claimable(int64_t p) const {
    const uint8_t st = state_[static_cast<size_t>(p)];
    return st == kLeft || (st == kUntaken && ready(p));
  }
  bool any_claimable(int64_t except) const {
    for (int64_t p = lo_; p < n_pieces_; ++p)
      if (p != except && claimable(p)) return true;
    return false;
  }
  // Every untaken piece ready (at most n_slots of them can be).
  bool in_tail() const {
    if (untaken_.load(std::memory_order_relaxed) > n_slots_) return false;
    for (int64_t p = lo_; p < n_pieces_; ++p)
      if (state_[static_cast<size_t>(p)] == kUntaken && !ready(p)) return false;
    return true;
  }
  double rate(int tid) const {
    double v = thr_[static_cast<size_t>(tid)].ns_per_col;
    if (v > 0) return v;
    for (const Thread& t : thr_)
      if (t.ns_per_col > 0) return t.ns_per_col;
    return 0;
  }
  // The region's end (ns from now) with tid busy for `mine` ns and the items (columns) placed largest first on
  // the thread that frees up first.
  double estimate(int tid, Clock::time_point now, double mine, std::vector<int64_t> items) const {
    double free_at[8], ns[8];
    const int n = static_cast<int>(std::min<size_t>(thr_.size(), 8));
    int m = 0;
    for (int t = 0; t < n; ++t) {
      const Thread& th = thr_[static_cast<size_t>(t)];
      if (th.gone) continue;
      double f = 0;
      if (t == tid) {
        f = mine;
      } else if (th.piece >= 0) {
        const double since = std::chrono::duration<double, std::nano>(now - th.last).count();
        f = std::max(0.0, static_cast<double>(th.end_col - th.next_col) * rate(t) - since);
      }
      ns[m] = rate(t);
      free_at[m++] = f;
    }
    std::sort(items.begin(), items.end(), [](int64_t a, int64_t b) { return a > b; });
    for (const int64_t c : items) {
      int j = 0;
      for (int k = 1; k < m; ++k)
        if (free_at[k] < free_at[j]) j = k;
      free_at[j] += static_cast<double>(c) * ns[j];
    }
    return *std::max_element(free_at, free_at + m);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int64_t n_slots_, n_pieces_, tile_;
  int64_t lo_ = 0;  // pieces [0, lo_) are done
  bool aborted_ = false;
  std::vector<uint8_t> state_;
  std::vector<int64_t> resume_, size_, first_;
  std::vector<Thread> thr_;
  std::atomic<int64_t> untaken_;
};

// NOTE [ Weight GEMM after the pieces ]
// With the shared weight GEMM (NOTE [ Channels-last backward tiles ]), a window's slot pieces and its weight GEMM,
// grad_weight'[gi] (cyg x rows) += Y_window[gi] (cyg x kw) * colsT_window[gi] (kw x rows), run in one region: a
// thread that finds no piece left to claim goes on with the GEMM, block by block (weight group gi, reduction block
// kb of kGemmKc window columns), in chunks of columns [j0, j1) of grad_weight' (whole nr panels but at the end of
// a row). A chunk waits for the pieces whose window columns its reduction block covers (they write its Y columns
// and colsT) and for its columns' previous reduction block (every element adds its blocks in block order, the
// windows in window order: the region's join orders those). In each block every thread has its own range of the
// columns, as the fixed split before (each thread's columns of grad_weight' stay in its core's caches from block
// to block: chunks dealt out in order to whichever thread came cost r50's GEMM ~5 % more thread time), which it
// runs in kWgNc-column chunks, threads of even index from the range's start, odd ones from its end; a thread
// whose range is done takes half of what is left of the largest other range in that block (from the end its
// owner reaches last, next to its own range: the columns a faster thread takes stay the same from block to
// block), then goes on to the next block. In a window's last block the chunks shrink to half of what is left.
// Before, the pieces' region joined, then each thread ran a fixed, equal half of the GEMM: on the shared 2-vCPU
// machine the worker ran its pieces and its half ~5 % slower and the calling thread idled ~2 ms per r50-c5 call
// (docs/perf/cpu.md, session 15). Each element of grad_weight' is still one micro-kernel sum per reduction block,
// added to C in block order, whichever thread runs its chunk: bit-identical.
class WindowGemm {
 public:
  struct Chunk {
    int64_t gi = 0, kb = 0, j0 = 0, j1 = 0;
  };
  // Reduction blocks of kc window columns (the last one shorter); piece s holds window columns
  // [piece_at[s], piece_at[s + 1]); chunks of at most `wide` columns (a multiple of nr).
  WindowGemm(int64_t G, int64_t rows, int64_t nr, int64_t kw, int64_t kc, int64_t wide,
             const std::vector<int64_t>& piece_at, int n_threads)
      : rows_(rows),
        nr_(std::max<int64_t>(1, nr)),
        n_panels_((rows + nr_ - 1) / nr_),
        n_kb_(kc > 0 ? (kw + kc - 1) / kc : 0),
        n_blocks_(rows > 0 ? G * n_kb_ : 0),
        kc_(kc),
        wide_(std::max(nr_, wide / nr_ * nr_)),
        n_threads_(std::max(n_threads, 1)),
        piece_at_(piece_at),
        missing_(static_cast<size_t>(n_kb_), 0),
        done_(static_cast<size_t>(G * n_panels_), 0),
        block_(static_cast<size_t>(n_threads_), 0),
        lo_(static_cast<size_t>(n_blocks_ * n_threads_)),
        hi_(static_cast<size_t>(n_blocks_ * n_threads_)) {
    for (int64_t kb = 0; kb < n_kb_; ++kb)
      for (size_t s = 0; s + 1 < piece_at_.size(); ++s)
        if (overlaps(static_cast<int64_t>(s), kb)) ++missing_[static_cast<size_t>(kb)];
    // Thread t's range in every block: panels [n_panels * t / n, n_panels * (t + 1) / n).
    for (int64_t b = 0; b < n_blocks_; ++b)
      for (int64_t t = 0; t < n_threads_; ++t) {
        lo_[static_cast<size_t>(b * n_threads_ + t)] = std::min(rows_, n_panels_ * t / n_threads_ * nr_);
        hi_[static_cast<size_t>(b * n_threads_ + t)] = std::min(rows_, n_panels_ * (t + 1) / n_threads_ * nr_);
      }
  }
  // Piece s has run to its end (its Y columns and colsT are written).
  void piece_done(int64_t s) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t kb = 0; kb < n_kb_; ++kb)
      if (overlaps(s, kb)) --missing_[static_cast<size_t>(kb)];
    if (waiting_ > 0) cv_.notify_all();
  }
  // Thread tid's next chunk; false when none is left for it.
  bool claim(int tid, Chunk* c) {
    std::lock_guard<std::mutex> lock(mu_);
    return next_chunk(tid, c, true);
  }
  // The chunk claim(tid) would return now, without taking it (the other threads may still take it first): for a
  // prefetch of its first B panel (NOTE [ Weight GEMM's next chunk prefetched ]).
  // False also where the chunk's columns of colsT are still being written (its pieces not done).
  bool peek(int tid, Chunk* c) {
    std::lock_guard<std::mutex> lock(mu_);
    return next_chunk(tid, c, false) && missing_[static_cast<size_t>(c->kb)] == 0;
  }
  // Waits until chunk c may run; false if the region is being abandoned (another thread threw).
  bool wait_ready(const Chunk& c) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto ready = [&] {
      if (aborted_ || missing_[static_cast<size_t>(c.kb)] > 0) return aborted_;
      for (int64_t p = c.j0 / nr_; p * nr_ < c.j1; ++p)
        if (done_[static_cast<size_t>(c.gi * n_panels_ + p)] < c.kb) return false;
      return true;
    };
    if (!ready()) {
      ++waiting_;
      cv_.wait(lock, ready);
      --waiting_;
    }
    return !aborted_;
  }
  // Chunk c has been added to grad_weight'.
  void done(const Chunk& c) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t p = c.j0 / nr_; p * nr_ < c.j1; ++p) ++done_[static_cast<size_t>(c.gi * n_panels_ + p)];
    if (waiting_ > 0) cv_.notify_all();
  }
  // Held by each thread of the region: a thread that leaves by an exception leaves pieces or chunks that will
  // never be done, so no thread may wait for them (the region then rethrows the exception).
  class AbortOnThrow {
   public:
    explicit AbortOnThrow(WindowGemm& g) : g_(g), uncaught_(std::uncaught_exceptions()) {}
    ~AbortOnThrow() {
      if (std::uncaught_exceptions() > uncaught_) {
        std::lock_guard<std::mutex> lock(g_.mu_);
        g_.aborted_ = true;
        g_.cv_.notify_all();
      }
    }
    AbortOnThrow(const AbortOnThrow&) = delete;
    AbortOnThrow& operator=(const AbortOnThrow&) = delete;

   private:
    WindowGemm& g_;
    int uncaught_;
  };

 private:
  // claim's choice; with `commit`, taken.
  bool next_chunk(int tid, Chunk* c, bool commit) {
    if (tid >= n_threads_) return false;
    int64_t b = block_[static_cast<size_t>(tid)];
    for (; b < n_blocks_; ++b) {
      const bool last = b % n_kb_ == n_kb_ - 1;  // a window's last block of this group: smaller chunks
      int64_t t = tid;
      bool own = true;
      if (left(b, tid) == 0) {
        own = false;
        t = -1;
        for (int64_t v = 0; v < n_threads_; ++v)
          if (left(b, v) > 0 && (t < 0 || left(b, v) > left(b, t))) t = v;
        if (t < 0) continue;  // the block is done or being done: the next one
      }
      const size_t r = static_cast<size_t>(b * n_threads_ + t);
      const int64_t rem = hi_[r] - lo_[r];
      int64_t width = own && !last ? wide_ : std::min(wide_, rem / 2 / nr_ * nr_);
      width = std::max(width, nr_);
      // Even threads run their range forward, odd ones backward; a thief takes the other end.
      const bool from_lo = (t % 2 == 0) == own;
      c->gi = b / n_kb_;
      c->kb = b % n_kb_;
      if (from_lo) {
        c->j0 = lo_[r];
        c->j1 = std::min(hi_[r], lo_[r] + width);
        if (commit) lo_[r] = c->j1;
      } else {
        // Whole panels from the end, the last one possibly partial (at the end of a row).
        const int64_t j0 = std::max(lo_[r], (hi_[r] - width + nr_ - 1) / nr_ * nr_);
        c->j0 = j0 < hi_[r] ? j0 : lo_[r];
        c->j1 = hi_[r];
        if (commit) hi_[r] = c->j0;
      }
      if (commit) block_[static_cast<size_t>(tid)] = b;
      return true;
    }
    if (commit) block_[static_cast<size_t>(tid)] = b;
    return false;
  }

  bool overlaps(int64_t s, int64_t kb) const {
    const int64_t a = piece_at_[static_cast<size_t>(s)], e = piece_at_[static_cast<size_t>(s + 1)];
    return a < e && a < (kb + 1) * kc_ && e > kb * kc_;
  }

  int64_t left(int64_t b, int64_t t) const {
    const size_t r = static_cast<size_t>(b * n_threads_ + t);
    return hi_[r] - lo_[r];
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const int64_t rows_, nr_, n_panels_, n_kb_, n_blocks_, kc_, wide_;
  const int64_t n_threads_;
  const std::vector<int64_t> piece_at_;
  std::vector<int64_t> missing_;  // per reduction block: pieces it reads that are not done yet
  std::vector<int64_t> done_;     // per (gi, panel): reduction blocks added so far
  std::vector<int64_t> block_;    // per thread: the block (gi * n_kb + kb) it takes chunks from
  std::vector<int64_t> lo_, hi_;  // per (block, thread): the columns of its range not yet taken
  int waiting_ = 0;
  bool aborted_ = false;
};

// The samples of one (offset group, column block, kernel point): for each of the 2^D corners of lane l
// (column i0 + l), structure-of-arrays so that the table is built with vector instructions.
template <int D, typename T>
struct SampleBlock {
  static constexpr int kCount = 1 << D;
  int32_t idx[kCount][kColBlock];  // position in the image plane, or sx (the zero row) when invalid
  T w[kCount][kColBlock];          // value weight without the mask (early-out: 0 outside, NaN for NaN)
  T dw[D][kCount][kColBlock];      // coordinate weights d w / d p_a (no early-out); backward only
  int32_t live[kColBlock];         // the value is read (no early-out); 0: column value 0, no scatter
};

// A run of channels with one offset group, one mask group and one weight group.
struct Segment {
  int64_t c0, c1, og, mg, gi;
};

template <int D, typename T>
struct Ctx {
  const SamplingGeometry<D>* g;
  int64_t K, sy, sx, cx, cxg, rows, ldr;  // rows = cxg * K per weight group; ldr = cx * K (colsT's row stride;
                                          // the backward may pad it: NOTE [ Padded colsT rows ])
  int64_t n0, nc;
  const ColumnBlock* blocks;  // the tile's column blocks
  int64_t n_blocks;
  const SampleBlock<D, T>* table;  // [og][block][kpt]
  const T* xt;                     // [B][sx + 1][cx]
  T* xgt;                          // [B][sx + 1][cx]
  const T* dcol;                   // [nc][ldr]
  T* cols;                         // [nc][ldr]
  const T* mtile;                  // [mg][i][kpt] mask values of the tile, or null without a mask
  T* grad_offset;
  T* grad_mask;
  const Segment* segs;
  int64_t n_segs;
  // Forward only: > 0 when pass A writes the column values as packed A panels of mr = panel_mr rows
  // (gemm's `apacked` layout, one block of panel_gstride elements per weight group) instead of colsT.
  int64_t panel_mr;
  int64_t panel_gstride;
  // The table holds the current column block only, [og][kpt] (the per-thread plan of the forward and the
  // backward), instead of [og][block][kpt] for the whole tile.
  bool table_one_block;
  // Backward only: > 0 when pass A writes colsT straight into the shared weight GEMM's packed B blocks of the
  // window buffer `cols` (NOTE [ colsT packed by pass A ]): panels of bp_nr = 2^bp_shift columns, reduction
  // blocks of bp_kc of the window's bp_kw columns, bp_G weight groups; the tile's column 0 is window column
  // bp_col0.
  int64_t bp_nr;
  int bp_shift;
  int64_t bp_kc, bp_kw, bp_G, bp_col0;
  // dcolT's element (column i, group gi, kernel point kpt, channel c of the group) at
  // dcol[i * dld + (gi * K + kpt) * dks + c]: rows of ldr (dld = ldr, dks = cxg), or per kernel point (NOTE
  // [ dcolT by kernel point ]: dld = cxg, dks = the group's rows * cxg).
  int64_t dld, dks;
  // Backward, with bp_nr > 0: colsT's 64-byte stores non-temporal (NOTE [ colsT streamed ]).
  bool bp_stream;
  // Backward: the thread's buffers of pass B by destination (NOTE [ Pass B by destination ]): list heads and tails
  // of kGatherRange positions, and per term (at most K * kColBlock * 2^D) its successor, weight and dcolT offset.
  struct {
    int32_t *head, *tail, *next;
    T* a;
    int64_t* off;
  } gather;
  // Backward with pass B by destination: the current slot's per-position flags [B][sx + 1] of XGt rows written
  // (NOTE [ X-gradient rows written first ]), or null.
  uint8_t* xg_set;
};

// The fields of a Ctx that the forward and the backward set alike: the geometry, the sizes, the
// channels-last input and the segments; the rest stays zero until a tile fills it.
template <int D, typename T>
Ctx<D, T> base_ctx(const SamplingGeometry<D>& g, int64_t K, int64_t sy, int64_t sx, int64_t cxg, int64_t rows,
                   int64_t ldr, const T* xt, const std::vector<Segment>& segs) {
  Ctx<D, T> c{};
  c.g = &g;
  c.K = K;
  c.sy = sy;
  c.sx = sx;
  c.cx = g.cx;
  c.cxg = cxg;
  c.rows = rows;
  c.ldr = ldr;
  c.dld = ldr;
  c.dks = cxg;
  c.xt = xt;
  c.segs = segs.data();
  c.n_segs = static_cast<int64_t>(segs.size());
  return c;
}

#if defined(__x86_64__) || defined(_M_X64)
#define DCN_CL_X86 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define DCN_CL_SIMD_AVX512 1
namespace isa_avx512 {
#include "deform_conv/cpu/column_pass_simd.inc"
}  // namespace isa_avx512
#undef DCN_CL_SIMD_AVX512
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define DCN_CL_SIMD_AVX2 1
namespace isa_avx2 {
#include "deform_conv/cpu/column_pass_simd.inc"
}  // namespace isa_avx2
#undef DCN_CL_SIMD_AVX2
#pragma GCC pop_options
#endif
namespace isa_generic {
#include "deform_conv/cpu/column_pass_simd.inc"
}  // namespace isa_generic

enum class Isa { kGeneric, kAvx2, kAvx512 };

Isa current_isa() {
#if DCN_CL_X86
  const char* name = gemm_isa_name();
  if (std::strcmp(name, "avx512") == 0) return Isa::kAvx512;
  if (std::strcmp(name, "avx2") == 0) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

template <int D, typename T>
void pass_a(Isa isa, const Ctx<D, T>& c, bool cols, bool coord, int64_t bi, T* acc, int64_t ld) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::run_pass_a<D, T>(c, cols, coord, bi, acc, ld);
  if (isa == Isa::kAvx2) return isa_avx2::run_pass_a<D, T>(c, cols, coord, bi, acc, ld);
#endif
  isa_generic::run_pass_a<D, T>(c, cols, coord, bi, acc, ld);
}

template <int D, typename T>
void pass_a_scatter(Isa isa, const Ctx<D, T>& c, bool cols, int64_t bi, T* acc, int64_t ld) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::run_pass_a_scatter<D, T>(c, cols, bi, acc, ld);
  if (isa == Isa::kAvx2) return isa_avx2::run_pass_a_scatter<D, T>(c, cols, bi, acc, ld);
#endif
  isa_generic::run_pass_a_scatter<D, T>(c, cols, bi, acc, ld);
}

template <int D, typename T>
void pass_b(Isa isa, const Ctx<D, T>& c, int64_t b, const Segment& s, int64_t bi0, int64_t bi1) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::pass_b<D, T>(c, b, s, bi0, bi1);
  if (isa == Isa::kAvx2) return isa_avx2::pass_b<D, T>(c, b, s, bi0, bi1);
#endif
  isa_generic::pass_b<D, T>(c, b, s, bi0, bi1);
}

template <int D, typename T>
void pass_b_gather(Isa isa, const Ctx<D, T>& c, int64_t b, const Segment& s, int64_t bi, int32_t lo, int32_t hi) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::pass_b_gather<D, T>(c, b, s, bi, lo, hi);
  if (isa == Isa::kAvx2) return isa_avx2::pass_b_gather<D, T>(c, b, s, bi, lo, hi);
#endif
  isa_generic::pass_b_gather<D, T>(c, b, s, bi, lo, hi);
}

template <int D, typename T>
void table_block(Isa isa, const SamplingGeometry<D>& g, const int64_t* kcoords, const T* off_loc, bool grad, int64_t q0,
                 int64_t len, SampleBlock<D, T>* out) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::run_table_block<D, T>(g, kcoords, off_loc, grad, q0, len, out);
  if (isa == Isa::kAvx2) return isa_avx2::run_table_block<D, T>(g, kcoords, off_loc, grad, q0, len, out);
#endif
  isa_generic::run_table_block<D, T>(g, kcoords, off_loc, grad, q0, len, out);
}

template <int D, typename T>
void idx_range(Isa isa, const SampleBlock<D, T>* tab, int64_t n, int32_t zero_row, int32_t* lo, int32_t* hi) {
#if DCN_CL_X86
  if (isa == Isa::kAvx512) return isa_avx512::idx_range<D, T>(tab, n, zero_row, lo, hi);
  if (isa == Isa::kAvx2) return isa_avx2::idx_range<D, T>(tab, n, zero_row, lo, hi);
#endif
  isa_generic::idx_range<D, T>(tab, n, zero_row, lo, hi);
}

// The channels-last kernels index planes and grid positions with int32: every plane below 2^31 - 1
// positions and every grid position y * stride - padding + k * dilation within +-2^30.
template <int D>
bool fits_int32(const SamplingGeometry<D>& g) {
  constexpr int64_t kLimit = int64_t{1} << 30;
  if (g.x_spatial() >= INT32_MAX) return false;
  for (int a = 0; a < D; ++a) {
    const int64_t reach = g.y_size[a] * g.stride[a] + g.padding[a] + g.kernel_size[a] * g.dilation[a];
    if (g.y_size[a] > kLimit || g.stride[a] > kLimit || g.padding[a] > kLimit || g.dilation[a] > kLimit ||
        g.kernel_size[a] > kLimit || reach > kLimit || g.x_size[a] > kLimit)
      return false;
  }
  return true;
}

// Runs of channels sharing offset group, mask group and weight group, in channel order.
template <int D>
std::vector<Segment> segments(const SamplingGeometry<D>& g) {
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups, cxg = g.cx_per_group();
  std::vector<Segment> out;
  for (int64_t c = 0; c < g.cx;) {
    const int64_t e = std::min({(c / per_og + 1) * per_og, (c / per_mg + 1) * per_mg, (c / cxg + 1) * cxg, g.cx});
    out.push_back({c, e, c / per_og, c / per_mg, c / cxg});
    c = e;
  }
  return out;
}

// Transposes in square blocks of kT x kT elements through a local buffer, so that both sides are read
// and written along contiguous runs.
constexpr int64_t kT = 16;

#if DCN_CL_X86
// to_channels_last's whole 16 x 16 block: dst[p * ldd + c] = src[c * lds + p].
__attribute__((target("avx512f"))) void transpose_block_avx512(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
  transpose16_avx512(r);
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, r[i]);
}

// to_channels_first's whole 16 x 16 block: t = the n_src blocks src[s] (element (p, c) at src[s][p * lds + c])
// summed in order, ((src[0] + src[1]) + src[2]) + ..., then dst[c * ldd + p] = t(p, c), or += with !overwrite
// (the same additions as the scalar loop, so the same values).
// rows[s]: bit i set where source s's row i holds a value, else it reads as +0.0 (NOTE [ X-gradient rows written
// first ]).
__attribute__((target("avx512f"))) void sum_transpose_block_avx512(const float* const* src, const uint32_t* rows,
                                                                   int n_src, int64_t lds, float* dst, int64_t ldd,
                                                                   bool overwrite) {
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = (rows[0] >> i) & 1u ? _mm512_loadu_ps(src[0] + i * lds) : _mm512_setzero_ps();
  for (int s = 1; s < n_src; ++s)
    for (int i = 0; i < 16; ++i)
      r[i] = _mm512_add_ps(r[i], (rows[s] >> i) & 1u ? _mm512_loadu_ps(src[s] + i * lds) : _mm512_setzero_ps());
  transpose16_avx512(r);
  for (int i = 0; i < 16; ++i) {
    float* d = dst + i * ldd;
    _mm512_storeu_ps(d, overwrite ? r[i] : _mm512_add_ps(_mm512_loadu_ps(d), r[i]));
  }
}

// The weight gradient's row back from the W' layout with AVX-512: dst[c * K + kpt] = src[kpt * cxg + c], cxg a
// multiple of 16, K <= 16: blocks of K x 16 transposed in registers, each channel's K values one masked store.
// NOTE [ Next row prefetched ]: with next_src / next_dst (the next row's, same length), each block also prefetches
// its share of their lines (the pass is bound by the misses on both: r50-c5's 9.4 MB each way, docs/perf/cpu.md,
// session 18). Only when lines are fetched changes.
__attribute__((target("avx512f"))) void unpermute_row_avx512(const float* src, int64_t cxg, int64_t K, float* dst,
                                                             const float* next_src = nullptr,
                                                             float* next_dst = nullptr) {
  const __mmask16 mk = static_cast<__mmask16>((1u << K) - 1u);
  __m512 r[16];
  for (int64_t c0 = 0; c0 < cxg; c0 += 16) {
    if (next_src != nullptr)
      for (int64_t l = c0 * K / 16; l < (c0 + 16) * K / 16; ++l) {  // 16 K floats = K lines per block
        _mm_prefetch(reinterpret_cast<const char*>(next_src) + l * 64, _MM_HINT_T0);
        __builtin_prefetch(reinterpret_cast<const char*>(next_dst) + l * 64, 1, 3);
      }
    for (int i = 0; i < 16; ++i) r[i] = i < K ? _mm512_loadu_ps(src + i * cxg + c0) : _mm512_setzero_ps();
    transpose16_avx512(r);
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(dst + (c0 + i) * K, mk, r[i]);
  }
}

// One weight row into W''s packed panels with AVX-512 (pack_dcol_weight): per 16 channels c0.., the block's 16 K
// floats (K whole vectors) regrouped by kernel point in registers, kernel point kpt's 16 values (src[(c0 + i) * K +
// kpt], i < 16) one 64-byte store at W' column kpt * cxg + c0 of the row's panel row (panel jp at d0 + jp * kc * nr;
// cxg and nr multiples of 16, so a run never straddles a panel; d0 64-byte aligned). Lane i of kernel point kpt is
// float K i + kpt of the block: in vector pair (K i + kpt) / 32, at (K i + kpt) % 32; one two-source permute per
// vector pair, merged by lane masks. With `stream` the stores are non-temporal (W' beyond L2: no read of W''s old
// lines before each write); with next_src the next row's lines are prefetched, a share per block. The same values as
// the scalar loop.
__attribute__((target("avx512f"))) void pack_dcol_row_avx512(const float* src, int64_t cxg, int64_t K, int64_t nr,
                                                             int64_t kc, float* d0, bool stream,
                                                             const float* next_src) {
  __m512i idx[16];
  __mmask16 pick[16][8];
  const int k_n = static_cast<int>(K), n_pairs = (k_n + 1) / 2;
  for (int k = 0; k < k_n; ++k) {
    alignas(64) int32_t iv[16];
    for (int m = 0; m < 8; ++m) pick[k][m] = 0;
    for (int i = 0; i < 16; ++i) {
      const int pos = k_n * i + k;
      iv[i] = pos & 31;
      pick[k][pos >> 5] = static_cast<__mmask16>(pick[k][pos >> 5] | (1u << i));
    }
    idx[k] = _mm512_load_si512(iv);
  }
  for (int64_t c0 = 0; c0 < cxg; c0 += 16) {
    if (next_src != nullptr)
      for (int64_t l = c0 * K / 16; l < (c0 + 16) * K / 16; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(next_src) + l * 64, _MM_HINT_T0);
    __m512 v[16];
    const float* blk = src + c0 * K;
    for (int m = 0; m < k_n; ++m) v[m] = _mm512_loadu_ps(blk + 16 * m);
    for (int k = 0; k < k_n; ++k) {
      __m512 out = _mm512_permutex2var_ps(v[0], idx[k], k_n > 1 ? v[1] : v[0]);
      for (int m = 1; m < n_pairs; ++m)
        out = _mm512_mask_mov_ps(out, pick[k][m],
                                 _mm512_permutex2var_ps(v[2 * m], idx[k], 2 * m + 1 < k_n ? v[2 * m + 1] : v[2 * m]));
      const int64_t j = k * cxg + c0;
      float* d = d0 + (j / nr) * kc * nr + j % nr;
      if (stream)
        _mm512_stream_ps(d, out);
      else
        _mm512_storeu_ps(d, out);
    }
  }
}

// The per-slot weight gradients' sum, one row: dst[c * K + kpt] = ((src[0] + src[1]) + src[2]) + ... at
// kpt * cxg + c (the same additions as the scalar loop of the slot sum, so the same values), then unpermuted as
// unpermute_row_avx512 does.
__attribute__((target("avx512f"))) void sum_unpermute_row_avx512(const float* const* src, int n_src, int64_t cxg,
                                                                 int64_t K, float* dst) {
  const __mmask16 mk = static_cast<__mmask16>((1u << K) - 1u);
  __m512 r[16];
  for (int64_t c0 = 0; c0 < cxg; c0 += 16) {
    for (int i = 0; i < 16; ++i) {
      if (i >= K) {
        r[i] = _mm512_setzero_ps();
        continue;
      }
      r[i] = _mm512_loadu_ps(src[0] + i * cxg + c0);
      for (int s = 1; s < n_src; ++s) r[i] = _mm512_add_ps(r[i], _mm512_loadu_ps(src[s] + i * cxg + c0));
    }
    transpose16_avx512(r);
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(dst + (c0 + i) * K, mk, r[i]);
  }
}

// The transposed per-slot weight gradients' sum (gw_t), one block of 16 output channels x 16 weight columns:
// dst[(o0 + i) * rows + q0 + j] = ((src[0] + src[1]) + ...)[p * cyg + o0 + i] with q = q0 + j = c * K + kpt and
// p = kpt * cxg + c (src[s]: slot s's gwsT of the weight group, rows x cyg; dst: the group's grad_weight rows). The
// same additions in the same slot order as the scalar loop, so the same values; the 16 x 16 block transposed in
// registers, each output channel's 16 columns one store.
__attribute__((target("avx512f"))) void sum_transpose_gwt_block_avx512(const float* const* src, int n_src, int64_t cxg,
                                                                       int64_t K, int64_t cyg, int64_t rows, int64_t o0,
                                                                       int64_t q0, float* dst) {
  __m512 r[16];
  for (int j = 0; j < 16; ++j) {
    const int64_t q = q0 + j, off = ((q % K) * cxg + q / K) * cyg + o0;
    r[j] = _mm512_loadu_ps(src[0] + off);
    for (int s = 1; s < n_src; ++s) r[j] = _mm512_add_ps(r[j], _mm512_loadu_ps(src[s] + off));
  }
  transpose16_avx512(r);
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + (o0 + i) * rows + q0, r[i]);
}
#endif

// Whole 16 x 16 blocks of the transposes below go through registers (AVX-512, float).
template <typename T>
bool transpose_blocks_avx512() {
  return std::is_same_v<T, float> && kT == 16 && current_isa() == Isa::kAvx512;
}

// Xt[b][p][c] = X[b][c][p], and a zero row p = sx per image.
// NOTE [ Input transposed by channel block ]
// Each task takes one block of kT channels and a run of kXtRun positions: kT source rows streamed at a time, kXtRun /
// kT lines of each. The task of all cx channels of kT positions read one line from each of the cx rows (tcn-1d: 128
// streams, 8 KB apart) and the transpose, bound by those reads, took 0.24-0.58 ms of tcn-1d's 4.7 ms forward at 2
// threads; by channel block 0.14-0.22 (edvr-64 0.32-0.56 → 0.21-0.31; docs/perf/cpu.md, session 33). A copy: the
// same values.
constexpr int64_t kXtRun = 256;

template <typename T>
void to_channels_last(const T* x, int64_t batch, int64_t cx, int64_t sx, T* xt) {
  constexpr int64_t run = kXtRun;
  const int64_t pb = (sx + run - 1) / run, cb = (cx + kT - 1) / kT;
  [[maybe_unused]] const bool vec = transpose_blocks_avx512<T>();
  parallel_for(0, batch * pb * cb, 1, [&](int64_t tb, int64_t te) {
    T tmp[kT][kT];
    for (int64_t t = tb; t < te; ++t) {
      const int64_t b = t / (pb * cb), r = t % (pb * cb), ci = r / pb, p_run = (r % pb) * run;
      const int64_t c0 = ci * kT, ncn = std::min(kT, cx - c0);
      T* dst = xt + b * (sx + 1) * cx;
      for (int64_t p0 = p_run; p0 < std::min(sx, p_run + run); p0 += kT) {
        const int64_t np = std::min(kT, sx - p0);
#if DCN_CL_X86
        if constexpr (std::is_same_v<T, float>) {
          if (vec && np == kT && ncn == kT) {
            transpose_block_avx512(x + (b * cx + c0) * sx + p0, sx, dst + p0 * cx + c0, cx);
            continue;
          }
        }
#endif
        for (int64_t c = 0; c < ncn; ++c) {
          const T* src = x + (b * cx + c0 + c) * sx + p0;
          for (int64_t p = 0; p < np; ++p) tmp[p][c] = src[p];
        }
        for (int64_t p = 0; p < np; ++p) std::memcpy(dst + (p0 + p) * cx + c0, tmp[p], sizeof(T) * ncn);
      }
      if (ci == 0 && p_run + run >= sx) std::fill(dst + sx * cx, dst + (sx + 1) * cx, T(0));
    }
  });
}

// Chunks of positions of the slot accumulators of the backward (NOTE [ Channels-last backward tiles ]),
// a multiple of kT.
constexpr int64_t kChunk = 64;
// A chunk's mark: zeroed (every row holds a value), or lazy (only its rows flagged in xg_set do: NOTE [ X-gradient rows
// written first ]); 0: not in use.
constexpr uint8_t kChunkZeroed = 1, kChunkLazy = 2;

// X[b][c][p] += sum_s XGt_s[b][p][c] (or = with `overwrite`) over the n_slots accumulators XGt_s at
// xgt + s * slot_elems, summed in slot order; an accumulator counts only in the chunks it marked in use,
// touched[(s * batch + b) * cpi + p / kChunk] (elsewhere it is not zeroed and adds nothing).
// A lazy chunk's rows not flagged in set[(s * batch + b) * (sx + 1) + p] read as +0.0.
template <typename T>
void to_channels_first(const T* xgt, int64_t n_slots, int64_t slot_elems, const uint8_t* touched, int64_t cpi,
                       const uint8_t* set, int64_t batch, int64_t cx, int64_t sx, T* x, bool overwrite) {
  const int64_t pb = (sx + kT - 1) / kT, cb = (cx + kT - 1) / kT;
  [[maybe_unused]] const bool vec = transpose_blocks_avx512<T>() && n_slots <= 64;
  parallel_for(0, batch * cb, 1, [&](int64_t tb, int64_t te) {
    T tmp[kT][kT];
    for (int64_t t = tb; t < te; ++t) {
      const int64_t b = t / cb, c0 = (t % cb) * kT, ncn = std::min(kT, cx - c0);
      T* dst = x + b * cx * sx;
      for (int64_t pi = 0; pi < pb; ++pi) {
        const int64_t p0 = pi * kT, np = std::min(kT, sx - p0);
#if DCN_CL_X86
        if constexpr (std::is_same_v<T, float>) {
          if (vec && np == kT && ncn == kT) {
            const float* src[64];
            uint32_t rows[64];
            int n_src = 0;
            for (int64_t s = 0; s < n_slots; ++s) {
              const uint8_t mark = touched[(s * batch + b) * cpi + p0 / kChunk];
              if (!mark) continue;
              uint32_t m = 0xffffu;
              if (mark == kChunkLazy) {
                const uint8_t* f = set + (s * batch + b) * (sx + 1) + p0;
                m = 0;
                for (int i = 0; i < 16; ++i) m |= static_cast<uint32_t>(f[i] != 0) << i;
              }
              rows[n_src] = m;
              src[n_src++] = xgt + s * slot_elems + b * (sx + 1) * cx + p0 * cx + c0;
            }
            if (n_src > 0) {
              sum_transpose_block_avx512(src, rows, n_src, cx, dst + c0 * sx + p0, sx, overwrite);
              continue;
            }
          }
        }
#endif
        bool any = false;
        for (int64_t s = 0; s < n_slots; ++s) {
          const uint8_t mark = touched[(s * batch + b) * cpi + p0 / kChunk];
          if (!mark) continue;
          const T* src = xgt + s * slot_elems + b * (sx + 1) * cx;
          const uint8_t* f = mark == kChunkLazy ? set + (s * batch + b) * (sx + 1) : nullptr;
          for (int64_t p = 0; p < np; ++p) {
            const bool has = !f || f[p0 + p];
            if (!any) {
              if (has)
                std::memcpy(tmp[p], src + (p0 + p) * cx + c0, sizeof(T) * ncn);
              else
                std::fill(tmp[p], tmp[p] + ncn, T(0));
            } else {
              for (int64_t c = 0; c < ncn; ++c) tmp[p][c] += has ? src[(p0 + p) * cx + c0 + c] : T(0);
            }
          }
          any = true;
        }
        if (!any && !overwrite) continue;
        if (!any)
          for (int64_t p = 0; p < np; ++p) std::fill(tmp[p], tmp[p] + ncn, T(0));
        for (int64_t c = 0; c < ncn; ++c) {
          T* d = dst + (c0 + c) * sx + p0;
          if (overwrite) {
            for (int64_t p = 0; p < np; ++p) d[p] = tmp[p][c];
          } else {
            for (int64_t p = 0; p < np; ++p) d[p] += tmp[p][c];
          }
        }
      }
    }
  });
}

// Row-major coordinates of every kernel point.
template <int D>
std::vector<int64_t> kernel_coords(const SamplingGeometry<D>& g) {
  std::vector<int64_t> out(static_cast<size_t>(g.kernel_points * D));
  for (int64_t kpt = 0; kpt < g.kernel_points; ++kpt) {
    int64_t rem = kpt;
    for (int a = D - 1; a >= 0; --a) {
      out[kpt * D + a] = rem % g.kernel_size[a];
      rem /= g.kernel_size[a];
    }
  }
  return out;
}

std::vector<ColumnBlock> column_blocks(int64_t n0, int64_t nc, int64_t sy) {
  std::vector<ColumnBlock> out;
  for (int64_t i = 0; i < nc;) {
    const int64_t n = n0 + i, b = n / sy, q = n - b * sy;
    const int64_t len = std::min({kColBlock, nc - i, sy - q});
    out.push_back({i, i + len, b, q});
    i += len;
  }
  return out;
}

// The table entries of one (offset group, column block): out[kpt] for every kernel point. `off_loc` is
// scratch for kColBlock * K * D values.
template <int D, typename T>
void table_entry(Isa isa, const SamplingGeometry<D>& g, const int64_t* kcoords, const T* offset, const ColumnBlock& cb,
                 int64_t og, bool grad, SampleBlock<D, T>* out, T* off_loc) {
  const int64_t K = g.kernel_points, sy = g.y_spatial(), OG = g.offset_groups;
  const int64_t len = cb.i1 - cb.i0;
  if (offset) {
    for (int64_t ch = 0; ch < K * D; ++ch) {  // off_loc[kpt * D + a][l]
      T* dst = off_loc + ch * kColBlock;
      std::memcpy(dst, offset + ((cb.b * OG + og) * K * D + ch) * sy + cb.q0, sizeof(T) * len);
      std::fill(dst + len, dst + kColBlock, T(0));
    }
  } else {
    off_loc = nullptr;
  }
  table_block<D, T>(isa, g, kcoords, off_loc, grad, cb.q0, len, out);
}

// The mask tile of one (mask group, column block).
template <int D, typename T>
void mask_tile_entry(const SamplingGeometry<D>& g, const T* mask, const ColumnBlock& cb, int64_t mg, int64_t nc,
                     T* mtile) {
  const int64_t K = g.kernel_points, sy = g.y_spatial(), MG = g.mask_groups;
  for (int64_t kpt = 0; kpt < K; ++kpt) {
    const T* src = mask + ((cb.b * MG + mg) * K + kpt) * sy + cb.q0;
    T* dst = mtile + (mg * nc + cb.i0) * K + kpt;
    for (int64_t l = 0; l < cb.i1 - cb.i0; ++l) dst[l * K] = src[l];
  }
}

// tile[c * ld + i] = y[b, c, q] for the tile's columns n0 + i = b * sy + q.
template <int D, typename T>
void gather_y_tile(const SamplingGeometry<D>& g, const T* y, int64_t n0, int64_t nc, T* tile, int64_t ld) {
  const int64_t sy = g.y_spatial();
  parallel_for(0, g.cy, std::max<int64_t>(1, 4096 / nc), [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      for (int64_t i = 0; i < nc;) {
        const int64_t n = n0 + i, b = n / sy, q = n - b * sy, len = std::min(nc - i, sy - q);
        std::memcpy(tile + c * ld + i, y + (b * g.cy + c) * sy + q, sizeof(T) * len);
        i += len;
      }
    }
  });
}

// NOTE [ dcol GEMM groups ]
// Each tile's dcol GEMM, dcolT (nt x rows) = Y_tile^T W', streams all of the packed W' through the core's
// caches. Where W' outgrows L2 (r50-c4: 2.4 MB, r50-c5: 9.4 MB: in L3 at best) the tiles are small for it
// (48 columns: each B panel of kGemmKc x nr fetched from L3 serves 4 micro-panels of mr = 12 rows; the
// forward's tiles are larger for the same reason). There the dcol GEMM runs once for a group of consecutive
// tiles of a slot's piece of the window (up to kDcolGroupBytes of dcolT, the whole piece at most: r50-c5 128
// columns, r50-c4 114) into a buffer whose rows the group's tiles then read; the sampling still runs tile by
// tile. Every element of dcolT has the same value whatever the group (dcol_gemm) and the tiles do not change,
// so every gradient is bit-identical to one GEMM per tile. Measured (docs/perf/cpu.md, session 12): r50-c5's
// tiles -1.5 to -2.5 ms at 2 threads; r50-c4 (W' 2.4 MB) no change.
// Returns the group's columns, a multiple of nt (nt itself where W' fits L2 or dcol is not needed).
constexpr int64_t kDcolL2WeightBytes = int64_t{1} << 20;  // W' beyond L2
int64_t dcol_group_columns(bool need_dcol, int64_t wperm_bytes, int64_t col_bytes, int64_t nt, int64_t nws,
                           int64_t n_slots, int64_t workspace_bytes) {
  constexpr int64_t kDcolGroupBytes = int64_t{4} << 20;
  if (!need_dcol || wperm_bytes <= kDcolL2WeightBytes) return nt;
  const int64_t tile_bytes = std::max<int64_t>(1, col_bytes * nt);
  int64_t tiles = kDcolGroupBytes / tile_bytes;
  tiles = std::min(tiles, (nws + nt - 1) / nt);  // a piece at most
  // All workers' groups within a quarter of the workspace limit.
  tiles = std::min(tiles, workspace_bytes / (4 * std::max<int64_t>(1, n_slots) * tile_bytes));
  return std::max<int64_t>(1, tiles) * nt;
}

// dcolT[gi] (nc x rows) = Y[gi]^T (nc x cyg) * W'[gi] (cyg x rows) for every weight group, serial on the calling
// thread: Y (columns i of output channel o at yt[o * ldy + i]) packed once per group into dapack, W' pre-packed
// (pack_b_blocks layout, wpack), the fresh rows of dcolT prefetched a tile ahead. Each element of dcolT is one
// micro-kernel sum per reduction block of kGemmKc channels, added in block order: its value does not depend on
// nc, on which rows are computed together nor on where it is stored. The layout: `blocks` column blocks of
// `block_cols` (a multiple of nr) per group, block k of group gi at dcol + gi * group_stride + k * block_stride,
// row stride ld: one block of rows, rows ldr apart (dcol + gi * rows), or one per kernel point (below).
//
// NOTE [ dcolT by kernel point ]
// With the shared weight GEMM's packed colsT (NOTE [ colsT packed by pass A ]) and cxg a multiple of nr, the dcol
// GEMM writes each kernel point's columns of dcolT as their own block, dcol[((gi * K + kpt) * ndg + i) * cxg + c]
// (one macro-kernel per kernel point over its cxg / nr B panels, C's row stride cxg): the same C tiles, the same
// sums, only where they are stored. Pass A and pass B then read a kernel point's samples of consecutive columns
// from consecutive runs of cxg values instead of rows ldr apart (18 KB on r50-c5; the group's 2.4 MB of dcolT
// is past L2).
//
// NOTE [ dcol GEMM's W' prefetched ]
// With `stream_w` (W' larger than L2: r50-c4 2.4 MB, r50-c5 9.4 MB, each B panel fetched from L3 and used by only
// the ~10 micro-panels of a group), every micro-kernel call also prefetches its share of the next B panel into L2
// (macro_kernel_pf, as the forward's GEMM does since session 15), and the loops run column block by column block,
// each block's reduction blocks in turn (so the block's C, a kernel point's nc x cxg of dcolT, stays in L2 between
// them instead of the whole group's dcolT being written and read back from L3): the B panels in the order they are
// read, each element's reduction blocks in the same order, the same micro-kernel sums: bit-identical.
template <typename T>
void dcol_gemm(const MicroKernel<T>& uk, int64_t nc, int64_t G, int64_t cyg, int64_t rows_pad, const T* yt, int64_t ldy,
               const T* wpack, T* dapack, int64_t blocks, int64_t block_cols, T* dcol, int64_t group_stride,
               int64_t block_stride, int64_t ld, bool a_in_place = false, bool stream_w = false) {
  const int64_t kc_max = std::min<int64_t>(kGemmKc, cyg);
  for (int64_t gi = 0; gi < G; ++gi) {
    if constexpr (std::is_same_v<T, float>) {
      // NOTE [ dcol GEMM with Y read in place ]: A = Y^T straight from the Y tile's rows, no packed copy.
      bool done = a_in_place;
      for (int64_t p0 = 0; p0 < cyg && done; p0 += kc_max)
        for (int64_t k = 0; k < blocks && done; ++k)
          done =
              gemm_a_cols_f32(nc, block_cols, std::min(kc_max, cyg - p0), yt + (gi * cyg + p0) * ldy, ldy,
                              wpack + gi * cyg * rows_pad + p0 * rows_pad + k * block_cols * std::min(kc_max, cyg - p0),
                              dcol + gi * group_stride + k * block_stride, ld, p0 > 0);
      if (done) continue;
    }
    pack_a(nc, cyg, yt + gi * cyg * ldy, int64_t{1}, ldy, uk.mr, dapack);
    if (stream_w) {
      // NOTE [ dcol GEMM's W' prefetched ]
      const auto bpanels = [&](int64_t k, int64_t p0) {
        return wpack + gi * cyg * rows_pad + p0 * rows_pad + k * block_cols * std::min(kc_max, cyg - p0);
      };
      for (int64_t k = 0; k < blocks; ++k)
        for (int64_t p0 = 0; p0 < cyg; p0 += kc_max) {
          const int64_t kc = std::min(kc_max, cyg - p0);
          // The next call's B panels: this block's next reduction block, else the next block's first.
          const T* next = p0 + kc < cyg ? bpanels(k, p0 + kc) : k + 1 < blocks ? bpanels(k + 1, 0) : nullptr;
          const int64_t next_kc = p0 + kc < cyg ? std::min(kc_max, cyg - p0 - kc) : kc_max;
          macro_kernel_pf(uk, nc, block_cols, kc, dapack + p0 * uk.mr, cyg * uk.mr, bpanels(k, p0),
                          dcol + gi * group_stride + k * block_stride, ld, p0 > 0, next,
                          next ? (next_kc * uk.nr * static_cast<int64_t>(sizeof(T)) + 63) / 64 : int64_t{0});
        }
      continue;
    }
    for (int64_t p0 = 0; p0 < cyg; p0 += kc_max) {
      const int64_t kc = std::min(kc_max, cyg - p0);
      for (int64_t k = 0; k < blocks; ++k)
        macro_kernel(uk, nc, block_cols, kc, dapack + p0 * uk.mr, cyg * uk.mr,
                     wpack + gi * cyg * rows_pad + p0 * rows_pad + k * block_cols * kc,
                     dcol + gi * group_stride + k * block_stride, ld, p0 > 0, MacroOrder::kBPanelInL1,
                     /*prefetch_c=*/true);
    }
  }
}

// The B operand of every tile's dcol GEMM: W'[gi] (cyg x rows), element (o, j = kpt * cxg + c) =
// weight[(gi * cyg + o) * rows + c * K + kpt], packed as pack_b_blocks(cyg, rows, W'[gi], rows, 1, nr,
// wpack + gi * cyg * rows_pad) packs it, straight from the weight in one parallel pass, one weight row (its
// 18 KB on r50-c5, in L1) per task. (Was a reordered copy W', then pack_b_blocks of it on the calling thread:
// r50-c5 0.9 + 0.4 ms of its 1.9 ms setup at 2 threads. With AVX-512, gathers along the row were slower and
// 16 x 16 register transposes no faster: docs/perf/cpu.md, session 12.) The same values either way.
//
// NOTE [ W' pack streamed ]
// The pass is bound by its misses: each row's 144 destination runs (r50-c5) are new lines. Each task prefetches
// the next row's source lines (and, in the scalar loop, its destination lines) while it packs its own; with
// AVX-512 (float, K <= 16, cxg and nr multiples of 16, whole panels) a row goes through pack_dcol_row_avx512, whose
// 64-byte stores are non-temporal where W' is larger than L2 (`stream`: as the forward's packed weight, session
// 14; the dcol GEMM then reads W' from memory with its B prefetch). Measured (session 18): r50-c5's pack 1.3 →
// 0.6 ms at 2 threads. Only when and how lines are written changes, not a value.
template <typename T>
void pack_dcol_weight(Isa isa, const T* weight, int64_t G, int64_t cyg, int64_t cxg, int64_t K, int64_t nr, T* wpack,
                      bool stream) {
  const int64_t rows = cxg * K, rows_pad = (rows + nr - 1) / nr * nr, kc_max = std::min<int64_t>(kGemmKc, cyg);
  const int64_t n_rows = G * cyg, ts = static_cast<int64_t>(sizeof(T));
  const int64_t src_lines = (rows * ts + 63) / 64, n_panels = rows_pad / nr, run_bytes = nr * ts;
  [[maybe_unused]] const bool vec =
      std::is_same_v<T, float> && isa == Isa::kAvx512 && K <= 16 && cxg % 16 == 0 && nr % 16 == 0 && rows % nr == 0;
  (void)isa;
  (void)stream;
  parallel_for(0, n_rows, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      const int64_t gi = t / cyg, o = t - gi * cyg, p0 = o / kc_max * kc_max, kc = std::min(kc_max, cyg - p0);
      const T* src = weight + t * rows;
      // Row o of the block's panels: panel jp at d0 + jp * kc * nr, nr elements each.
      T* const d0 = wpack + (gi * cyg + p0) * rows_pad + (o - p0) * nr;
      // The next row's source, and its row of panels (NOTE [ W' pack streamed ]).
      const bool has_next = t + 1 < n_rows;
      const T* const next_src = has_next ? src + rows : nullptr;
#if DCN_CL_X86
      if constexpr (std::is_same_v<T, float>) {
        if (vec) {
          pack_dcol_row_avx512(src, cxg, K, nr, kc, d0, stream, next_src);
          continue;
        }
      }
#endif
      const int64_t t1 = t + 1, gi1 = t1 / cyg, o1 = t1 - gi1 * cyg, p01 = o1 / kc_max * kc_max,
                    kc1 = std::min(kc_max, cyg - p01);
      const char* const next_d0 =
          has_next ? reinterpret_cast<const char*>(wpack + (gi1 * cyg + p01) * rows_pad + (o1 - p01) * nr) : nullptr;
      T* d = d0;
      int64_t jj = 0;
      for (int64_t kpt = 0; kpt < K; ++kpt) {
        if (has_next) {  // a K-th of the next row's source lines and of its panel runs
          for (int64_t l = kpt * src_lines / K; l < (kpt + 1) * src_lines / K; ++l)
            __builtin_prefetch(reinterpret_cast<const char*>(next_src) + l * 64, 0, 3);
          for (int64_t jp = kpt * n_panels / K; jp < (kpt + 1) * n_panels / K; ++jp)
            for (int64_t e = 0; e < run_bytes; e += 64) __builtin_prefetch(next_d0 + jp * kc1 * nr * ts + e, 1, 3);
        }
        for (int64_t c = 0; c < cxg; ++c) {
          *d++ = src[c * K + kpt];
          if (++jj == nr) {
            jj = 0;
            d += (kc - 1) * nr;
          }
        }
      }
      if (jj > 0) std::fill(d, d + (nr - jj), T(0));
    }
#if DCN_CL_X86
    if (vec && stream) _mm_sfence();
#endif
  });
}

// The regular forward's packed weight: W'[gi]^T (rows x cyg, element (p, j) with p = kpt * cxg + c the weight's
// [gi * cyg + j][c][kpt]) of every weight group, the B operand of the tile GEMMs in pack_b_blocks' layout
// (cyg_pad = ceil(cyg / nr) * nr columns, rows * cyg_pad elements per group). Defined below, after the panel
// packers. With `stream`, the AVX-512 float packer writes wpack with non-temporal stores (for a weight larger
// than L2, which the GEMM then reads from memory or L3 anyway): no read of wpack's old lines before each write.
// The same values either way.
template <typename T>
void pack_forward_weight(Isa isa, const MicroKernel<T>& uk, const T* weight, int64_t G, int64_t cyg, int64_t cxg,
                         int64_t K, T* wpack, bool stream = false);

// The regular forward's tile GEMM over the tile's colsT, on the calling thread (inside a parallel region):
// ctile[i][gi * cyg + o] (row stride ldc) = colsT[i][gi] (nc x rows, row stride ldr) * W'[gi]^T (wpack of
// pack_forward_weight) for i < nc. Each element sums over the rows in the GEMM's fixed order, as
// forward_channels_last's GEMM does: the same values. Where the micro-kernel reads A in place, the last
// nc % mr rows go through `tail` (mr * ldr elements, zero-padded to mr rows), so that no row beyond the
// tile's is read (in the backward's window buffer they belong to another thread's tile).
template <typename T>
void forward_tile_gemm(const MicroKernel<T>& uk, int64_t nc, int64_t G, int64_t cyg, int64_t rows, int64_t ldr,
                       const T* cols, const T* wpack, T* tail, T* ctile, int64_t ldc) {
  const int64_t cyg_pad = (cyg + uk.nr - 1) / uk.nr * uk.nr;
  if (uk.fn_rows == nullptr) {
    for (int64_t gi = 0; gi < G; ++gi)
      gemm(uk, nc, cyg, rows, cols + gi * rows, ldr, int64_t{1}, static_cast<const T*>(nullptr),
           static_cast<const T*>(nullptr), int64_t{0}, int64_t{0}, ctile + gi * cyg, ldc, false,
           wpack + gi * rows * cyg_pad);
    return;
  }
  const int64_t mr = uk.mr, full = nc / mr * mr, rest = nc - full;
  if (rest > 0) {
    std::memcpy(tail, cols + full * ldr, sizeof(T) * rest * ldr);
    std::fill(tail + rest * ldr, tail + mr * ldr, T(0));
  }
  for (int64_t gi = 0; gi < G; ++gi) {
    if (full > 0)
      gemm_rows_a(uk, full, cyg, rows, cols + gi * rows, ldr, wpack + gi * rows * cyg_pad, ctile + gi * cyg, ldc,
                  false);
    if (rest > 0)
      gemm_rows_a(uk, rest, cyg, rows, tail + gi * rows, ldr, wpack + gi * rows * cyg_pad,
                  ctile + full * ldc + gi * cyg, ldc, false);
  }
}

// y[b, o, q] = ctile[i, o] (+ bias[o]) for the tile's columns (row stride of ctile: cy), in blocks of kT
// channels.
template <int D, typename T>
void write_y_tile(const SamplingGeometry<D>& g, const std::vector<ColumnBlock>& blocks, const T* ctile, const T* bias,
                  T* y) {
  const int64_t sy = g.y_spatial();
  for (const ColumnBlock& cb : blocks) {
    for (int64_t o0 = 0; o0 < g.cy; o0 += kT) {
      const int64_t o1 = std::min(g.cy, o0 + kT);
      for (int64_t o = o0; o < o1; ++o) {
        T* dst = y + (cb.b * g.cy + o) * sy + cb.q0;
        const T bv = bias ? bias[o] : T(0);
        const T* src = ctile + cb.i0 * g.cy + o;
        if (bias) {
          for (int64_t l = 0; l < cb.i1 - cb.i0; ++l) dst[l] = src[l * g.cy] + bv;
        } else {
          for (int64_t l = 0; l < cb.i1 - cb.i0; ++l) dst[l] = src[l * g.cy];
        }
      }
    }
  }
}

// NOTE [ Output rows written whole ]
// The forward's output write (write_y_tile's values) for float with AVX-512: per column block (at most kColBlock
// positions of one image) and 16 channels, the tile's 16 x 16 pieces loaded along its rows, transposed in registers,
// the bias added, and put into a 16 x kColBlock staging block in L1; then each channel's row of the block is stored to
// y in one go (two vector stores for 32 positions). The same additions, so the same values. Session 14 wrote each
// transposed 16 x 16 piece straight to y: 16 rows a sy apart, one vector each, then the next piece's 16 vectors into
// the same rows. Where sy is a large power of two (r50-c4's 4 KB, edvr-64's, tcn-1d's, video-3d's) those 16 rows map to
// one L1 set, so the rows' lines were evicted half written and fetched again for their other half: slower than the
// scalar write, which was kept for them (the direct form only ran where the rows fell into at least 4 sets:
// r50-c5). Staged, every row's run of the block is written while its lines are in L1. Measured (docs/perf/cpu.md,
// session 33, Zen 4): the write phase per thread edvr-64 0.48-0.63 -> 0.39-0.43 ms, tcn-1d 0.37-0.40 -> 0.32-0.37,
// r50-c4 0.46-0.52 -> 0.42-0.50; r50-c5 0.20-0.24 -> 0.23-0.29, so rows in 4 or more sets keep the direct stores
// (kStaged false).
#if DCN_CL_X86
template <bool kStaged>
__attribute__((target("avx512f"))) void write_y_tile_avx512(int64_t cy, int64_t sy,
                                                            const std::vector<ColumnBlock>& blocks, const float* ctile,
                                                            const float* bias, float* y) {
  const int64_t o_vec = cy / 16 * 16;
  static_assert(kColBlock % 16 == 0, "whole vectors per staged row");
  alignas(64) float stage[16][kColBlock];
  for (const ColumnBlock& cb : blocks) {
    const int64_t len = cb.i1 - cb.i0;  // at most kColBlock (column_blocks)
    for (int64_t o0 = 0; o0 < o_vec; o0 += 16) {
      float* dst = y + (cb.b * cy + o0) * sy + cb.q0;
      for (int64_t l0 = 0; l0 < len; l0 += 16) {
        const int64_t n = std::min<int64_t>(16, len - l0);
        __m512 r[16];
        for (int i = 0; i < 16; ++i)
          r[i] = i < n ? _mm512_loadu_ps(ctile + (cb.i0 + l0 + i) * cy + o0) : _mm512_setzero_ps();
        transpose16_avx512(r);  // r[j]: channel o0 + j of columns l0 ..
        for (int j = 0; j < 16; ++j) {
          const __m512 v = bias ? _mm512_add_ps(r[j], _mm512_set1_ps(bias[o0 + j])) : r[j];
          if constexpr (kStaged)
            _mm512_store_ps(&stage[j][l0], v);
          else
            _mm512_mask_storeu_ps(dst + j * sy + l0, static_cast<__mmask16>((1u << n) - 1u), v);
        }
      }
      for (int j = 0; kStaged && j < 16; ++j)
        for (int64_t l0 = 0; l0 < len; l0 += 16) {
          const int64_t n = std::min<int64_t>(16, len - l0);
          _mm512_mask_storeu_ps(dst + j * sy + l0, static_cast<__mmask16>((1u << n) - 1u),
                                _mm512_load_ps(&stage[j][l0]));
        }
    }
    for (int64_t o = o_vec; o < cy; ++o) {
      float* dst = y + (cb.b * cy + o) * sy + cb.q0;
      const float* src = ctile + cb.i0 * cy + o;
      for (int64_t l = 0; l < len; ++l) dst[l] = bias ? src[l * cy] + bias[o] : src[l * cy];
    }
  }
}
#endif

template <int D, typename T>
void write_y_tile_forward(Isa isa, const SamplingGeometry<D>& g, const std::vector<ColumnBlock>& blocks, const T* ctile,
                          const T* bias, T* y) {
#if DCN_CL_X86
  if constexpr (std::is_same_v<T, float>) {
    // NOTE [ Output rows written whole ]: staged where the 16 channel rows of a block fall into fewer than 4 of L1's
    // 64 sets of 64-byte lines.
    const int64_t sy = g.y_spatial(), row_bytes = sy * static_cast<int64_t>(sizeof(T));
    int64_t sets = 16;
    if (row_bytes % 64 == 0) {
      const int64_t stride = (row_bytes / 64) % 64;
      sets = stride == 0 ? 1 : 64 / std::gcd(stride, int64_t{64});
    }
    if (isa == Isa::kAvx512 && g.cy >= 16) {
      if (sets < 4)
        write_y_tile_avx512<true>(g.cy, sy, blocks, ctile, bias, y);
      else
        write_y_tile_avx512<false>(g.cy, sy, blocks, ctile, bias, y);
      return;
    }
  }
#else
  (void)isa;
#endif
  write_y_tile<D, T>(g, blocks, ctile, bias, y);
}

}  // namespace cl

namespace cl {
// NOTE [ Saved columns of the transposed forward ]
// The transposed forward is dcolT = Y^T W' (Y its input) and the scatter of dcolT; its backward needs the same
// dcolT again for the offset and mask gradients, and recomputed it with a GEMM of the forward's size (up-t2d: one
// of the backward's three such GEMMs, docs/perf/cpu.md, session 18, k18c). As PyTorch's saved tensors do, a
// forward recorded for a backward that wants those gradients (the ops layer decides: deform-conv.ts) keeps its
// columns: the dcol GEMM writes each tile's rows of dcolT into the saved buffer instead of the thread's own, pass
// B reads them there, and the backward's pass A reads them from there instead of running its dcol GEMM. Every
// element of dcolT is the same sum whatever the tiles, the groups of tiles or the A operand's path (dcol_gemm), and
// the forward's and the backward's dcol GEMMs take the same W' blocks, so the gradients are bit-identical to the
// recomputing backward. Layout: a 64-byte header (SavedHeader, at the buffer's start), then from the first 64-byte
// aligned element after it one row of dcolT per column n = b * prod(y_size) + q, ldd elements apart (the pass's
// dcolT row stride, padded off 4 KB multiples: NOTE [ Padded colsT rows ]). The backward uses the rows only where
// the header says that a forward of the same geometry and micro-kernel filled them; otherwise (the buffer's
// forward took the planar path, a micro-kernel switched by the test hook _setGemmIsa, or the backward's
// dcolT laid out by kernel point: NOTE [ dcolT by kernel point ]) it recomputes them. Bounded: the ops layer saves
// only what saved_columns_elems() allows (at most the workspace limit, default 64 MiB). Like PyTorch's saved
// tensors, the saved columns are those of the forward's input and weight: a change of either in place between
// the forward and the backward (under noGrad) is not seen by the offset and mask gradients.
struct SavedHeader {
  int64_t magic, total, ldd, ldr, cy, kernel, elem, valid;
};
static_assert(sizeof(SavedHeader) == 64, "the saved columns' header is one cache line");
constexpr int64_t kSavedMagic = 0x31434453'4e434456;  // "VDCNSDC1"

template <typename T>
constexpr int64_t saved_head_elems() {
  return (sizeof(SavedHeader) + 64) / sizeof(T);  // the header and the room to align the rows
}

// A row stride of ldr elements of ts bytes, one cache line longer where the rows would be a multiple of 4 KB apart
// (NOTE [ Padded colsT rows ]).
inline int64_t padded_row_stride(int64_t ldr, int64_t ts) { return (ldr * ts) % 4096 == 0 ? ldr + 64 / ts : ldr; }

// dcolT's row stride in the transposed forward (the pass's ldd there: no kernel-point blocks).
template <int D, typename T>
int64_t saved_row_stride(const SamplingGeometry<D>& g, bool has_offset) {
  const int64_t ldr = g.cx * g.kernel_points;
  if (small_groups_backward_applies<D, T>(g, has_offset)) return ldr;
  return padded_row_stride(ldr, static_cast<int64_t>(sizeof(T)));
}

// The first row of the saved columns: the first 64-byte aligned element after the header.
template <typename T>
T* saved_rows(T* saved) {  // T may be const
  const uintptr_t at = reinterpret_cast<uintptr_t>(saved) + sizeof(SavedHeader);
  return reinterpret_cast<T*>((at + 63) & ~uintptr_t{63});
}

template <typename T>
SavedHeader saved_header(int64_t total, int64_t ldd, int64_t ldr, int64_t cy, const MicroKernel<T>& uk) {
  return SavedHeader{kSavedMagic,
                     total,
                     ldd,
                     ldr,
                     cy,
                     static_cast<int64_t>(reinterpret_cast<uintptr_t>(&uk)),
                     static_cast<int64_t>(sizeof(T)),
                     1};
}

// Prefetches the saved dcolT rows of columns [c0, c1) (their ldr elements each) into L2: the backward reads them
// from memory (8 MB on up-t2d), a column block at a time, each row a kernel point's run at a time (rows 4 KB
// apart), which the hardware prefetchers did not keep ahead of (pass A +0.5 ms per thread, docs/perf/cpu.md,
// session 18, k18c). Called one column block ahead.
template <typename T>
void prefetch_saved_rows(const T* rows, int64_t c0, int64_t c1, int64_t ldd, int64_t ldr) {
  const int64_t bytes = ldr * static_cast<int64_t>(sizeof(T));
  for (int64_t c = c0; c < c1; ++c) {
    const char* p = reinterpret_cast<const char*>(rows + c * ldd);
    for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 2);
  }
}
}  // namespace cl

template <int D, typename T>
int64_t saved_columns_elems(const SamplingGeometry<D>& g, bool has_offset, int64_t limit_bytes) {
  const int64_t total = g.y_columns(), ldr = g.cx * g.kernel_points;
  if (force_planar() || !cl::fits_int32(g) || total == 0 || ldr == 0) return 0;
  const int64_t ldd = cl::saved_row_stride<D, T>(g, has_offset);
  // (In double first: total * ldd may not fit int64 for absurd geometries.)
  const double bytes = (static_cast<double>(total) * static_cast<double>(ldd) + cl::saved_head_elems<T>()) *
                       static_cast<double>(sizeof(T));
  if (bytes > static_cast<double>(limit_bytes) || bytes > 0x1p52) return 0;
  return cl::saved_head_elems<T>() + total * ldd;
}

template <typename T>
void invalidate_saved_columns(T* saved) {
  std::memset(static_cast<void*>(saved), 0, sizeof(cl::SavedHeader));
}
template void invalidate_saved_columns<float>(float*);
template void invalidate_saved_columns<double>(double*);

template <int D, typename T>
bool column_pass_channels_last(const SamplingGeometry<D>& g, const T* x_src, const T* y_src, const T* weight,
                               const T* offset, const T* mask, T* x_scatter, T* grad_weight, T* grad_offset,
                               T* grad_mask, int64_t workspace_bytes, bool scatter_overwrite, T* y_forward,
                               T* save_dcol, const T* saved_dcol) {
  using namespace cl;
  const int64_t sx = g.x_spatial();
  if (force_planar() || !fits_int32(g)) return false;
  const bool need_coord = grad_offset || grad_mask;
  const bool need_dcol = x_scatter || need_coord;
  const bool need_cols = grad_weight != nullptr;
  // NOTE [ Forward from the backward's columns ]
  // y_forward = W * im2col(X) (the transposed op's input gradient, the regular forward of its grad_output)
  // reads the same masked samples of X as the weight gradient's colsT: each tile multiplies the colsT it has
  // just sampled (still in its core's L2) by the forward's packed W'^T, y_tile^T = colsT_tile * W'^T per
  // weight group (forward_tile_gemm), and writes its columns of y_forward (write_y_tile). Same values, same
  // GEMM and order as forward_channels_last: bit-identical to the separate forward it replaces, which
  // transposed X to channels-last, planned and sampled the same columns once more. Each y_forward element is
  // written once (by its tile's call, or the next tile's: see the y_forward step). colsT is always sampled.
  const bool need_fwd = y_forward != nullptr;
  const bool sample_cols = need_cols || need_fwd;
  if (!need_dcol && !need_cols && !need_fwd) return true;
  const MicroKernel<T>& uk = micro_kernel<T>();
  const Isa isa = current_isa();
  const int64_t K = g.kernel_points, G = g.groups, B = g.batch, OG = g.offset_groups;
  const int64_t cxg = g.cx_per_group(), cyg = g.cy_per_group(), rows = cxg * K, ldr = g.cx * K;
  const int64_t sy = g.y_spatial(), total = g.y_columns();
  if (total == 0) {
    if (grad_weight) std::fill(grad_weight, grad_weight + g.cy * rows, T(0));
    if (x_scatter && scatter_overwrite) std::fill(x_scatter, x_scatter + g.batch * g.cx * sx, T(0));
    return true;
  }
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const std::vector<Segment> segs = segments(g);

  // NOTE [ Channels-last backward tiles ]
  // Each thread runs whole tiles of columns, like the forward (NOTE [ Channels-last forward ]): the Y tile,
  // dcolT = Y_tile^T W' (the GEMM serial on the thread), then block by block the sampling plan (corner table
  // of one column block, mask tile), pass A (the weight-gradient columns colsT, the offset and mask
  // gradients of the block's columns, written once) and pass B (the block's scatter into the X gradient),
  // all in buffers of its own sized for its L2 cache. Nothing a step writes is read by the other core
  // (splitting each step over the threads, as before, made every step read what the other core had just
  // written: on two cores edvr-64's backward was slower than on one). Results must not depend on the
  // number of threads (nor on timing), so the work is cut by the geometry alone:
  //  - slots: the columns are cut into kSlots equal consecutive ranges. Slot s scatters into its own
  //    channels-last X-gradient accumulator XGt_s, so each accumulator element receives its terms in
  //    (column, kernel point, corner) order whoever runs the slot; at the end X = ((XGt_0 + XGt_1) +
  //    XGt_2) + ..., a fixed order. A slot's columns are a band of the output grid and sample a band of X:
  //    XGt_s is zeroed (and later summed) only in the chunks of kChunk positions that its samples touch.
  //  - windows: window w takes the w-th run of nw / kSlots columns of every slot. A thread claims one
  //    slot's piece of the window and runs its tiles in order (a thread that falls behind may leave the rest
  //    to another at a group end: NOTE [ Slot pieces handed over ]); the pieces' colsT and Y are kept (shared
  //    buffers) and the weight gradient takes one GEMM per window, parallel over its output, gwp +=
  //    Y_window * colsT_window, in window order: each element's sum is fixed.
  //  - the offset and mask gradients of a column come from its own samples only (written once).
  // Tile sizes only change how the work is split, never a sum. Memory: Xt and the slot accumulators are
  // O(input) (kSlots + 1 copies of X reserved, fewer when the workspace limit is small; about one copy's
  // worth touched); the windows' colsT and Y and every thread's tile buffers stay within the workspace
  // limit.
  const int64_t MG = g.mask_groups;
  const int n_threads = get_num_threads();  // read once: sizes the per-thread buffers and caps the regions
  // Few channels per offset group: the fused plan and samples of NOTE [ Small-group backward sampler ].
  const bool small_groups = small_groups_backward_applies<D, T>(g, offset != nullptr);
  constexpr int64_t kSlots = 4;
  const int64_t xgt_elems = B * (sx + 1) * g.cx;
  const int64_t xgt_bytes = xgt_elems * static_cast<int64_t>(sizeof(T));
  // Sized as if the input gradient were requested (its accumulators set the bound), also when it is not: the
  // slots fix the summation order of the weight gradient (per-slot copies, summed in slot order) and the
  // windows below, so a call for a subset of the gradients gives the same bits as a call for all of them.
  const int64_t n_slots =
      std::max<int64_t>(1, std::min<int64_t>(kSlots, workspace_bytes / std::max<int64_t>(1, 2 * xgt_bytes)));
  // Windows: at least kWindowBytes of colsT, or grad_weight's size when larger (the weight GEMM reads and
  // writes all of grad_weight once per window: r50-c5's is 9.4 MB), at most kMaxWindowBytes, within the
  // workspace limit, and at least kMinTile columns per slot.
  constexpr int64_t kThreadTileBytes = int64_t{768} << 10, kMinTile = 48;
  constexpr int64_t kWindowBytes = int64_t{4} << 20, kMaxWindowBytes = int64_t{16} << 20;
  const int64_t ts = static_cast<int64_t>(sizeof(T));
  // Sized as if every gradient were requested: the slots (and with them the summation order of the X
  // gradient) do not depend on which gradients were requested.
  const int64_t gw_bytes = g.cy * rows * ts;
  // Weight gradient per slot (NOTE [ Channels-last backward tiles ]): where kSlots copies of grad_weight
  // are small, each tile's weight GEMM runs on its thread right after the tile's sampling (colsT still in
  // that core's L2) into its slot's own copy, gws_s += Y_tile * colsT_tile (or transposed, gw_t), tiles in column
  // order; the copies are summed in slot order at the end. Otherwise one shared GEMM per window, as before.
  constexpr int64_t kSlotGwBytes = int64_t{4} << 20;
  // (Decided by the geometry, so that the windows below do not depend on which gradients were requested.)
  const bool small_gw = kSlots * gw_bytes <= std::min(kSlotGwBytes, workspace_bytes / 4);
  const bool slot_gw = need_cols && small_gw;
  const int64_t gw_elems = g.cy * rows;
  const int64_t window_col_bytes = ts * (g.cy + ldr);
  // With a per-slot weight gradient the windows only balance the threads (no shared weight GEMM waits on
  // them): kMaxWindowBytes worth of columns, so fewer region joins.
  const int64_t window_bytes = small_gw ? kMaxWindowBytes : std::min(std::max(kWindowBytes, gw_bytes), kMaxWindowBytes);
  int64_t nw = window_bytes / std::max<int64_t>(1, ts * ldr);
  nw = std::max(nw, n_slots * kMinTile);
  nw = std::min({nw, total, workspace_bytes / std::max<int64_t>(1, 2 * window_col_bytes)});
  nw = std::max<int64_t>(1, nw);
  nw = (nw + n_slots - 1) / n_slots * n_slots;  // nw / n_slots columns of each slot per window
  // NOTE [ Windows of whole reduction blocks ]
  // The shared weight GEMM sums each window in reduction blocks of kGemmKc columns (the last one shorter): r50-c4's
  // 4 MB of colsT made windows of 456 columns, 256 + 200, so every second block ran short (its B panels serving 200
  // rows of the micro-kernel's k loop instead of 256) and the call took 9 windows. Where that GEMM runs, the
  // window is rounded up to whole blocks (and whole slot shares) within the workspace limit: r50-c4 8 windows of
  // 2 x 256 columns; r50-c5's 512 already were. The windows fix the weight and X gradients' orders of summation
  // (blocks, pieces and their tiles), so this changes their rounding on such shapes, not on the others; the
  // windows still depend on the geometry and the workspace limit only. Measured (docs/perf/cpu.md, session 26,
  // k26b): r50-c4's backward tiles -0.2 to -0.3 ms at 2 threads.
  if (!small_gw && nw > kGemmKc && nw < total) {
    const int64_t q = std::lcm(kGemmKc, n_slots);
    const int64_t whole = (nw + q - 1) / q * q;
    if (whole <= workspace_bytes / std::max<int64_t>(1, 2 * window_col_bytes))
      nw = std::min(whole, (total + n_slots - 1) / n_slots * n_slots);
  }
  // Tiles: dcolT, colsT and the Y tile within one core's L2 budget, at least kMinTile columns, all
  // threads' tile buffers within half the workspace limit.
  const int64_t tile_col_bytes = ts * (2 * ldr + g.cy + (mask ? MG * K : 0));
  // Bounded as if every gradient were requested (dcolT and the thread's own colsT): the tiles, and with them
  // the order of the X gradient's and the per-slot weight gradient's sums, do not depend on the request.
  const int64_t own_col_bytes = ts * (2 * ldr + (mask ? MG * K : 0));
  int64_t nt = std::max(kMinTile, kThreadTileBytes / tile_col_bytes);
  // At most n_slots threads have work in a window. The tile bound counts n_slots threads whatever the
  // thread count, so that the tiles (whose boundaries fix the order of the X gradient's sums: column
  // blocks in pass B, lane blocks of NOTE [ Small-group backward sampler ]) do not depend on it.
  const int n_workers = static_cast<int>(std::min<int64_t>(n_threads, n_slots));
  nt = std::min({nt, nw, workspace_bytes / std::max<int64_t>(1, 2 * own_col_bytes * n_slots)});
  nt = std::max<int64_t>(1, nt);
  // NOTE [ dcol GEMM's W' prefetched ]: where W' is larger than L2 (as for the dcol GEMM groups).
  const bool stream_w = need_dcol && ts * G * cyg * rows > kDcolL2WeightBytes;
  // dcol GEMM groups (NOTE [ dcol GEMM groups ]): ndg columns, a multiple of nt.
  const int64_t ndg =
      dcol_group_columns(need_dcol, ts * G * cyg * rows, ts * ldr, nt, nw / n_slots, n_slots, workspace_bytes);

  // NOTE [ colsT packed by pass A ]
  // With the shared weight GEMM, pass A writes colsT straight into the GEMM's packed B layout in the window
  // buffer, so that the GEMM reads its B panels in place instead of packing kWgNc-column blocks of colsT rows
  // (18 KB apart on r50-c5) per reduction block and thread: per reduction block k0 (kc = min(kGemmKc, kw - k0)
  // window columns; the blocks before it are whole, so it starts at k0 * G * rows), per group gi (kc * rows
  // elements), nr-column panels of [kc][nr] (pack_b's layout), element (window column iw, gi, p) at
  // k0 * G * rows + gi * kc * rows + (p / nr) * kc * nr + (iw - k0) * nr + p % nr. The same values in the same
  // GEMM: bit-identical. Where every panel is whole (rows % nr == 0) and pass A's channel vectors (64 bytes)
  // never straddle a panel (nr a power of two and a multiple of the vector's lanes, every segment's channels
  // whole vectors); not with y_forward (which reads colsT rows) nor the small-group sampler.
  const int64_t lanes64 = 64 / ts;
  bool packed_cols = need_cols && !slot_gw && !need_fwd && !small_groups && (uk.nr & (uk.nr - 1)) == 0 &&
                     uk.nr % lanes64 == 0 && rows % uk.nr == 0;
  for (const Segment& sg : segs)
    packed_cols = packed_cols && (sg.c0 - sg.gi * cxg) % lanes64 == 0 && (sg.c1 - sg.c0) % lanes64 == 0;

  const bool need_x = sample_cols || need_coord;
  Carver carve;
  const int64_t rows_pad = (rows + uk.nr - 1) / uk.nr * uk.nr;
  const size_t o_wpack = carve.add<T>(need_dcol ? G * cyg * rows_pad : 0);
  const size_t o_xt = carve.add<T>(need_x ? xgt_elems : 0);
  const size_t o_xgt = carve.add<T>(x_scatter ? n_slots * xgt_elems : 0);
  const size_t o_gwp = carve.add<T>(need_cols && !slot_gw ? g.cy * rows : 0);
  const size_t o_gws = carve.add<T>(slot_gw ? n_slots * gw_elems : 0);
  // NOTE [ dcol GEMM with Y read in place ]
  // With the per-slot weight gradient (dcol groups are then single tiles: W' <= 1 MB), Y is read only inside its
  // tile (the dcol GEMM and the per-slot weight GEMM), so each thread gathers its tile's Y into a buffer of its
  // own (an L2-sized tile, rows ldy_own apart: not a multiple of 4 KB) instead of the window buffer. With the
  // AVX-512 float kernels (mr = 12, nr = 32) and rows a multiple of 32, the dcol GEMM then reads A = Y^T in
  // place, 12 columns of the Y tile per step (gemm_a_cols_f32), instead of packing it first (pack_a of nc x cyg
  // per tile): the same micro-kernel sums, bit-identical. tcn-1d among the bench shapes.
  const bool dcol_a_cols = slot_gw && need_dcol && std::is_same_v<T, float> && isa == Isa::kAvx512 && uk.mr == 12 &&
                           uk.nr == 32 && rows % 32 == 0;
  int64_t ldy_own = (nt + 15) / 16 * 16 + 16;
  if ((ldy_own * ts) % 4096 == 0) ldy_own += 16;
  const size_t o_ytile = carve.add<T>(dcol_a_cols ? 0 : g.cy * nw);
  const size_t o_cols = carve.add<T>(need_cols && !slot_gw ? ldr * nw : 0);
  // The shared weight GEMM's packed blocks, per thread: Y (cyg x kWgKc), colsT (kWgKc x kWgNc) unless pass A
  // packs colsT.
  constexpr int64_t kWgKc = kGemmKc, kWgNc = 256;
  const int64_t cyg_pad_mr = (cyg + uk.mr - 1) / uk.mr * uk.mr;
  const int64_t wg_thread_elems = need_cols && !slot_gw ? (cyg_pad_mr + (packed_cols ? 0 : kWgNc)) * kWgKc + 64 : 0;
  const size_t o_wg = carve.add<T>(wg_thread_elems * n_threads);
  // Each thread's own buffers: dcolT of a tile, the plan of one column block (corner table of every offset
  // group), the tile's mask values, offsets of one block, the offset/mask gradients of one block.
  const int64_t acc_per_thread = (OG * K * D + MG * K) * kColBlock;
  Carver mine;
  // ldd: dcolT's row stride, padded as colsT's (NOTE [ Padded colsT rows ]): the dcol GEMM's C tiles (mr rows)
  // and pass A's / pass B's reads of a kernel point's block of columns then stay off shared L1 sets. (Not by
  // kernel point, NOTE [ dcolT by kernel point ], nor with the small-group sampler, which reads rows of ldr.)
  const int64_t ldr_padded = padded_row_stride(ldr, ts);
  const int64_t ldd = need_dcol && !small_groups && !(packed_cols && cxg % uk.nr == 0) ? ldr_padded : ldr;
  // NOTE [ Saved columns of the transposed forward ]: the forward writes its dcolT rows to dcol_out; the backward
  // reads them from dcol_in where the buffer holds this geometry's (not with dcolT by kernel point).
  const bool saved_layout = need_dcol && !(packed_cols && cxg % uk.nr == 0);
  const SavedHeader saved_want = saved_header<T>(total, ldd, ldr, g.cy, uk);
  T* const dcol_out = save_dcol && saved_layout ? saved_rows(save_dcol) : nullptr;
  const T* dcol_in = nullptr;
  if (saved_dcol && saved_layout) {
    SavedHeader h;
    std::memcpy(&h, saved_dcol, sizeof h);
    if (std::memcmp(&h, &saved_want, sizeof h) == 0) dcol_in = saved_rows(saved_dcol);
  }
  const size_t m_dcol = mine.add<T>(need_dcol ? ndg * ldd : 0);  // dcolT of a group of tiles
  const size_t m_dapack = mine.add<T>(need_dcol ? (ndg + uk.mr - 1) / uk.mr * uk.mr * cyg : 0);  // Y^T packed
  const size_t m_table = mine.add<SampleBlock<D, T>>(OG * K);
  const size_t m_mtile = mine.add<T>(mask ? MG * K * nt : 0);
  const size_t m_off = mine.add<T>(kColBlock * K * D);
  const size_t m_acc = mine.add<T>(need_coord ? acc_per_thread : 0);
  // NOTE [ Pass B by destination ]
  // Pass B walks a column block's samples (kernel point, column) and updates each of a sample's 2^D X-gradient rows
  // in turn: on r50-c4 (256 channels, offsets spread over ~8 input rows) ~1150 read-modify-writes of 1 KB rows per
  // block into ~250 positions, from L2. In 2D, where a segment's channels fill at least kGatherVectors 64-byte
  // vectors, the block's terms are instead appended, in pass B's order, to a list per position (pass_b_gather), and
  // each listed position's row is loaded once, gets its terms from its list in that order and is stored once. Every
  // X-gradient element receives the same terms (a = m * w_j times its dcolT value) in the same order, with the same
  // vector widths: bit-identical. Where a block's positions span kGatherRange or more (offsets far apart), pass B as
  // before. Measured (docs/perf/cpu.md, session 19): r50-c4's col2im per thread 1.4-2.1 → 1.1-1.5 ms, r50-c5's 0.6 →
  // 0.4; tcn-1d (1D: its samples' rows already consecutive) slower with it, so 2D only.
  const bool gather_b = D == 2 && x_scatter != nullptr && !small_groups;
  const int64_t gather_terms = gather_b ? K * kColBlock * (int64_t{1} << D) : 0;
  const size_t m_ghead = mine.add<int32_t>(gather_b ? 2 * int64_t{kGatherRange} : 0);  // heads, tails
  const size_t m_gnext = mine.add<int32_t>(gather_terms);
  const size_t m_ga = mine.add<T>(gather_terms);
  const size_t m_goff = mine.add<int64_t>(gather_terms);
  // With slot_gw (or y_forward without the weight gradient): the tile's colsT; with slot_gw the weight GEMM's
  // packed operands (Y tile, colsT of one group).
  // With y_forward the buffer starts with `fhead` elements of room for the previous tiles' rows whose y columns
  // are still to come (fewer than mr rows, see the y_forward step), so that own_cols stays 64-byte aligned.
  const bool own_cols_buf = slot_gw || (need_fwd && !need_cols);
  // NOTE [ Padded colsT rows ]
  // lcs: the row stride of colsT where pass A writes it. In the thread's own buffer, a row length ldr of a
  // multiple of 4 KB (up-t2d: 64 channels x 16 kernel points) is padded by one cache line: rows 4 KB apart
  // put a GEMM panel's rows (the per-slot weight GEMM's B rows read in place, y_forward's A rows) all into the
  // same L1 sets. Only where the elements sit changes, not a sum: bit-identical. (Not with the small-group
  // sampler, which writes rows of ldr; the shared window buffer keeps ldr.)
  const int64_t lcs = own_cols_buf && !small_groups ? ldr_padded : ldr;
  const int64_t fhead = need_fwd ? (int64_t{uk.mr} * lcs * ts + 63) / 64 * 64 / ts : 0;
  const size_t m_cols = mine.add<T>(own_cols_buf ? fhead + nt * lcs : 0);
  // With y_forward: the y columns of a tile and the rows carried into it (nt + mr - 1 x cy), and
  // forward_tile_gemm's tail rows.
  const size_t m_ftile = mine.add<T>(need_fwd ? (nt + uk.mr) * g.cy : 0);
  const size_t m_ftail = mine.add<T>(need_fwd ? int64_t{uk.mr} * lcs : 0);
  // gw_t: the per-slot weight GEMM transposed, gwsT_s (rows x cyg) += colsT_tile^T * Y_tile^T, where the
  // output channels of a group fill the micro-kernel's mr-row panels poorly (edvr-64, video-3d: 64 channels
  // padded to 72 rows, 12.5 % of its work wasted, the last panel of every call through the edge buffer):
  // the mr-row panels then run over the rows (576, 1728: whole panels) and the nr columns over the output
  // channels (64: two panels of 32). Each element is the same sum in the same order (same k, same blocks,
  // the product commutes): bit-identical either way. (tcn-1d's 128 channels waste 3 %: measured no gain.)
  const int64_t rows_pad_mr = (rows + uk.mr - 1) / uk.mr * uk.mr;
  const int64_t cyg_pad_nr = (cyg + uk.nr - 1) / uk.nr * uk.nr;
  const bool gw_t = slot_gw && (cyg_pad_mr - cyg) * 20 > cyg && (rows_pad_mr - rows) * 20 <= rows;
  // NOTE [ Per-slot weight GEMM with colsT in place ]
  // Without gw_t, the per-slot weight GEMM's B is the tile's colsT (nc x rows, row stride lcs), which
  // pack_b_blocks copied into nr-column panels (tcn-1d: 335 KB per tile, ~0.2 ms a call at 2 threads, and one
  // more tile-sized buffer in L2). With the AVX-512 float kernels (nr = 32, mr = 12) and rows a multiple of 32, or
  // AVX2's (nr = 16, mr = 6) and rows a multiple of 16, gemm_b_rows_f32 reads colsT's rows in place instead: the
  // same micro-kernel sums, bit-identical. Not where lcs is a multiple of 1024 floats (4 KB): a B panel's rows would
  // then all fall into the same L1 sets (NOTE [ Padded colsT rows ] keeps lcs off them).
  const bool gw_b_rows = slot_gw && !gw_t && std::is_same_v<T, float> &&
                         ((isa == Isa::kAvx512 && uk.mr == 12 && uk.nr == 32 && rows % 32 == 0) ||
                          (isa == Isa::kAvx2 && uk.mr == 6 && uk.nr == 16 && rows % 16 == 0)) &&
                         (lcs * ts) % 4096 != 0;
  // With gw_t the same for A: A(r, i) = colsT[i][r] is read in place as the columns of colsT (gemm_a_cols_f32, 12
  // values of a colsT row per step) instead of packed by pack_a; the same sums (docs/perf/cpu.md, session 16, lead).
  const bool gw_t_a_cols = slot_gw && gw_t && std::is_same_v<T, float> && isa == Isa::kAvx512 && uk.mr == 12 &&
                           uk.nr == 32 && cyg % 32 == 0 && (lcs * ts) % 4096 != 0;
  const size_t m_apack = mine.add<T>(slot_gw ? (gw_t ? rows_pad_mr : cyg_pad_mr) * nt : 0);
  const size_t m_bpack = mine.add<T>(slot_gw ? nt * (gw_t ? cyg_pad_nr : rows_pad) : 0);
  const size_t m_ytile = mine.add<T>(dcol_a_cols ? g.cy * ldy_own : 0);  // NOTE [ dcol GEMM with Y read in place ]
  // With y_forward: the forward's packed W'^T (pack_forward_weight).
  const int64_t cyg_pad_fwd = (cyg + uk.nr - 1) / uk.nr * uk.nr;
  const size_t o_wfpack = carve.add<T>(need_fwd ? G * rows * cyg_pad_fwd : 0);
  const size_t o_threads = carve.add<char>(static_cast<int64_t>(mine.total()) * n_workers);
  Scratch& scratch = thread_scratch();
  char* base = scratch.get(carve.total());
  T* wfpack = reinterpret_cast<T*>(base + o_wfpack);
  T* wpack = reinterpret_cast<T*>(base + o_wpack);
  T* xt = reinterpret_cast<T*>(base + o_xt);
  T* xgt = reinterpret_cast<T*>(base + o_xgt);
  T* gwp = reinterpret_cast<T*>(base + o_gwp);  // grad_weight in the W' layout
  T* gws = reinterpret_cast<T*>(base + o_gws);  // with slot_gw: one such copy per slot
  std::vector<uint8_t> slot_started(static_cast<size_t>(n_slots), 0);
  T* ytile = reinterpret_cast<T*>(base + o_ytile);
  T* cols = reinterpret_cast<T*>(base + o_cols);
  T* wgbuf = reinterpret_cast<T*>(base + o_wg);
  PhaseTimer timer;

  // W'[gi][o][kpt * cxg + c] = W[gi * cyg + o][c][kpt], the B matrix of dcolT = Y^T * W', packed once.
  if (need_dcol && !dcol_in) pack_dcol_weight(isa, weight, G, cyg, cxg, K, int64_t{uk.nr}, wpack, stream_w);
  timer.lap(4);
  if (need_fwd) pack_forward_weight<T>(isa, uk, weight, G, cyg, cxg, K, wfpack);
  if (need_x) to_channels_last(x_src, B, g.cx, sx, xt);
  // touched[s][b * cpi + k]: chunk k (positions [k * kChunk, ...) of image b) of XGt_s is zeroed and in use.
  const int64_t cpi = (sx + 1 + kChunk - 1) / kChunk;
  std::vector<uint8_t> touched(x_scatter ? static_cast<size_t>(n_slots * B * cpi) : 0, 0);
  // NOTE [ X-gradient rows written first ]
  // Pass B by destination (NOTE [ Pass B by destination ]) loads each listed position's XGt row, adds its terms and
  // stores it; the row had been zeroed before (its chunk, when a block first reached it: r50-c4's 4 MB of XGt,
  // written and then read back once more). With one segment (every row's channels in one pass), a row's first update
  // instead starts from +0.0 in registers, without the load, and the chunk is not zeroed: xg_set[s][b][p] flags the
  // rows written, and a chunk whose rows were written this way is marked kChunkLazy. The chunk zeroing (for pass B
  // as before, where a block's positions span too far) zeroes such a chunk's rows not yet written; the finish reads
  // a lazy chunk's rows not written as +0.0, as it read them zeroed. The same sums: bit-identical.
  const bool lazy_xg = gather_b && segs.size() == 1;
  std::vector<uint8_t> xg_set(lazy_xg ? static_cast<size_t>(n_slots * B * (sx + 1)) : 0, 0);
  timer.lap(0);

  Ctx<D, T> ctx0 = base_ctx<D, T>(g, K, sy, sx, cxg, rows, ldr, xt, segs);
  ctx0.ldr = lcs;  // colsT's rows (NOTE [ Padded colsT rows ]); dcolT's stay ldr apart (dld)
  ctx0.grad_offset = grad_offset;
  ctx0.grad_mask = grad_mask;
  ctx0.table_one_block = true;
  // NOTE [ dcolT by kernel point ]
  const bool dcol_kpt = need_dcol && packed_cols && cxg % uk.nr == 0;
  ctx0.dld = ldd;
  if (dcol_kpt) {
    ctx0.dld = cxg;
    ctx0.dks = ndg * cxg;
  }
  if (packed_cols) {
    // NOTE [ colsT streamed ]
    // Where the window's colsT is larger than L2 (r50-c4: 4.2 MB a window, r50-c5: 9.4 MB), pass A writes its packed
    // panels with non-temporal 64-byte stores (float, AVX-512: every store a whole aligned line), so that its lines
    // are neither read for ownership nor kept in the caches, where they evicted the tile's Xt, X-gradient and dcolT
    // rows; the weight GEMM then reads them from memory. Only how the lines are written changes: bit-identical.
    // Measured (docs/perf/cpu.md, session 19): r50-c4's pass A per thread -0.3 to -0.7 ms; with pass B by destination,
    // r50-c4's backward -1 ms in the bench. (k17a's try alone, session 17, measured no change of the backward.)
    ctx0.bp_stream = std::is_same_v<T, float> && isa == Isa::kAvx512 && ts * nw * ldr > kDcolL2WeightBytes;
    ctx0.bp_nr = uk.nr;
    while ((int64_t{1} << ctx0.bp_shift) < uk.nr) ++ctx0.bp_shift;  // nr = 2^bp_shift
    ctx0.bp_G = G;
  }
  // NOTE [ Pass B fused into pass A ]
  // In 3D, pass B's scatter of a sample follows right after pass A's sampling of it (pass_a_scatter): the same
  // table entry, mask value and dcolT run, read once, instead of a second walk over the block (video-3d: 8
  // corners x 64 channels a sample, the block's dcolT and table read again from L2). pass A's order (segment,
  // kernel point, column) is pass B's (segment, then kernel point, column, corner), and each term is pass B's
  // (a_j = m * w_j, XGt += a_j * dcolT), so every X-gradient element gets the same terms in the same order:
  // bit-identical. Not with colsT in packed B panels (pass A's other order).
  const bool fuse_scatter = D == 3 && x_scatter != nullptr && need_coord && !packed_cols;
  // The calling thread's share of the tile steps (TVDCN_CPU_PHASES): y tile + dcol GEMM, plan + pass A,
  // pass B, tile weight GEMM, y_forward's GEMM and write.
  double own_ms[5] = {0, 0, 0, 0, 0};
  // With the shared weight GEMM, the calling thread's time in its chunks and waiting for chunks to be ready
  // (NOTE [ Weight GEMM after the pieces ]).
  double own_wg_ms[2] = {0, 0};
  // TVDCN_CPU_PHASES: each thread's time inside the regions of the tiles (ms; their wall time less it is the
  // thread's wait at the joins).
  std::vector<double> busy_ms(timer.on ? static_cast<size_t>(n_threads) : 0, 0.0);
  std::vector<double> piece_ms(timer.on ? static_cast<size_t>(n_threads) : 0, 0.0);  // of it, in the pieces
  double region_ms = 0;
  const auto since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };

  // Slot s: columns [slot_first[s], slot_first[s + 1]); window w takes nws of them from each slot.
  std::vector<int64_t> slot_first(static_cast<size_t>(n_slots + 1));
  int64_t longest = 0;
  for (int64_t s = 0; s <= n_slots; ++s) slot_first[static_cast<size_t>(s)] = s * total / n_slots;
  for (int64_t s = 0; s < n_slots; ++s)
    longest = std::max(longest, slot_first[static_cast<size_t>(s + 1)] - slot_first[static_cast<size_t>(s)]);
  const int64_t nws = nw / n_slots;
  const int64_t n_windows = (longest + nws - 1) / nws;
  std::vector<int64_t> piece_at(static_cast<size_t>(n_slots + 1));  // window columns of each slot's piece

  // One region over all windows where no shared weight GEMM runs between them (NOTE [ One region over all
  // windows ]); otherwise one region per window.
  const bool across = !(need_cols && !slot_gw);
  for (int64_t w = 0; w < (across ? 1 : n_windows); ++w) {
    // The pieces of this window, packed one after another in the window buffers.
    piece_at[0] = 0;
    for (int64_t s = 0; s < n_slots; ++s) {
      const int64_t a = std::min(slot_first[static_cast<size_t>(s)] + w * nws, slot_first[static_cast<size_t>(s + 1)]);
      const int64_t e = std::min(a + nws, slot_first[static_cast<size_t>(s + 1)]);
      piece_at[static_cast<size_t>(s + 1)] = piece_at[static_cast<size_t>(s)] + (e - a);
    }
    const int64_t kw = piece_at[static_cast<size_t>(n_slots)];  // columns in this window
    PieceScheduler pieces(n_slots, n_workers);                  // NOTE [ Slot pieces handed over ]
    SlotChains chains(across ? n_windows : 0, n_slots, slot_first, nws, nt, n_workers);
    // With the shared weight GEMM: this window's GEMM, in chunks after the pieces (NOTE [ Weight GEMM after the
    // pieces ]), in the same region.
    const int64_t kc_max = std::min<int64_t>(kGemmKc, kw);  // the weight GEMM's reduction blocks of this window
    WindowGemm wg(across ? 0 : G, rows, uk.nr, kw, kc_max, kWgNc, piece_at, n_threads);
    const auto tiles_t0 = std::chrono::steady_clock::now();
    parallel_region(across ? n_workers : n_threads, [&](int tid, int) {
      const auto thread_t0 = std::chrono::steady_clock::now();
      const SlotChains::AbortOnThrow abort_on_throw(chains);
      const WindowGemm::AbortOnThrow abort_gemm(wg);
      // (Threads beyond n_workers run only weight GEMM chunks and use none of these.)
      char* own = base + o_threads + static_cast<size_t>(std::min(tid, n_workers - 1)) * mine.total();
      T* dcol = reinterpret_cast<T*>(own + m_dcol);
      T* dapack = reinterpret_cast<T*>(own + m_dapack);
      SampleBlock<D, T>* table = reinterpret_cast<SampleBlock<D, T>*>(own + m_table);
      T* mtile = reinterpret_cast<T*>(own + m_mtile);
      T* off_loc = reinterpret_cast<T*>(own + m_off);
      T* acc = reinterpret_cast<T*>(own + m_acc);
      T* own_cols = reinterpret_cast<T*>(own + m_cols) + fhead;
      T* ftile = reinterpret_cast<T*>(own + m_ftile);
      T* ftail = reinterpret_cast<T*>(own + m_ftail);
      T* apack = reinterpret_cast<T*>(own + m_apack);
      T* bpack = reinterpret_cast<T*>(own + m_bpack);
      T* own_y = reinterpret_cast<T*>(own + m_ytile);
      const bool timed = timer.on && tid == 0;
      PhaseTimer local;
      Ctx<D, T> ctx = ctx0;
      ctx.table = table;
      ctx.mtile = mask ? mtile : nullptr;
      ctx.bp_kc = kc_max;
      ctx.bp_kw = kw;
      ctx.gather.head = reinterpret_cast<int32_t*>(own + m_ghead);
      ctx.gather.tail = ctx.gather.head + kGatherRange;
      ctx.gather.next = reinterpret_cast<int32_t*>(own + m_gnext);
      ctx.gather.a = reinterpret_cast<T*>(own + m_ga);
      ctx.gather.off = reinterpret_cast<int64_t*>(own + m_goff);
      int64_t resume_at = -1;
      const auto claim = [&] {
        if (tid >= n_workers) return int64_t{-1};  // the shared weight GEMM's extra threads: chunks only
        return across ? chains.claim(tid, &resume_at) : pieces.claim(tid, &resume_at);
      };
      for (int64_t p = claim(); p >= 0; p = claim()) {
        // Piece p: slot s of window pw.
        const int64_t s = across ? p % n_slots : p, pw = across ? p / n_slots : w;
        const int64_t s0 =
            std::min(slot_first[static_cast<size_t>(s)] + pw * nws, slot_first[static_cast<size_t>(s + 1)]);
        const int64_t s1 = std::min(s0 + nws, slot_first[static_cast<size_t>(s + 1)]);
        T* const xg = x_scatter ? xgt + s * xgt_elems : nullptr;
        uint8_t* const marks = x_scatter ? touched.data() + s * B * cpi : nullptr;
        ctx.xgt = xg;
        ctx.xg_set = lazy_xg ? xg_set.data() + s * B * (sx + 1) : nullptr;
        int32_t pf_next = 0;  // NOTE [ X-gradient rows prefetched ]: positions of image pf_image prefetched below it
        int64_t pf_image = -1;
        int64_t fcarry = 0;  // colsT rows just before the tile's whose y columns are still to come
        bool left = false;
        for (int64_t n0 = resume_at >= 0 ? resume_at : s0; n0 < s1; n0 += nt) {
          const int64_t nc = std::min(nt, s1 - n0);
          const int64_t co = (across ? s * nws : piece_at[static_cast<size_t>(s)]) + (n0 - s0);
          // A group end before the piece's end: this thread may leave the piece here (NOTE [ Slot pieces handed
          // over ], NOTE [ One region over all windows ]); it then flushes the carried y_forward rows below.
          const bool group_end = n0 + nc < s1 && (n0 + nc - s0) % ndg == 0;
          const bool leaving = across ? chains.tile(tid, n0, nc, group_end) : group_end && pieces.behind(tid);
          ctx.n0 = n0;
          ctx.nc = nc;
          ctx.cols = need_cols ? (slot_gw ? own_cols : cols + co * ldr) : (need_fwd ? own_cols : nullptr);
          if (packed_cols) {
            ctx.cols = cols;
            ctx.bp_col0 = co;
          }
          T* yt = dcol_a_cols ? own_y : ytile + co;
          const int64_t ldy = dcol_a_cols ? ldy_own : nw;
          // The first tile of a group (NOTE [ dcol GEMM groups ]): the Y columns and dcolT of the whole group.
          const int64_t in_group = (n0 - s0) % ndg;
          if (in_group == 0) {
            const int64_t ng = std::min(ndg, s1 - n0);
            // Inside the region: serial, on this thread. (Not read when only y_forward is wanted.)
            if ((need_dcol && !dcol_in) || need_cols) gather_y_tile(g, y_src, n0, ng, yt, ldy);
            if (dcol_kpt)
              dcol_gemm(uk, ng, G, cyg, rows_pad, yt, ldy, wpack, dapack, K, cxg, dcol, K * ndg * cxg, ndg * cxg, cxg,
                        false, stream_w);
            else if (need_dcol && !dcol_in)
              dcol_gemm(uk, ng, G, cyg, rows_pad, yt, ldy, wpack, dapack, 1, rows,
                        dcol_out ? dcol_out + n0 * ldd : dcol, rows, 0, ldd, dcol_a_cols, stream_w);
          }
          // This tile's rows of dcolT: the thread's group buffer, or the saved columns' rows.
          const T* const dtile = dcol_in    ? dcol_in + n0 * ldd
                                 : dcol_out ? dcol_out + n0 * ldd
                                            : dcol + in_group * (dcol_kpt ? cxg : ldd);
          ctx.dcol = dtile;
          const std::vector<ColumnBlock> blocks = column_blocks(n0, nc, sy);
          ctx.blocks = blocks.data();
          ctx.n_blocks = static_cast<int64_t>(blocks.size());
          if (timed) local.lap(0);
          if (small_groups) {
            backward_small_groups<D, T>(g, need_x ? xt : nullptr, need_dcol ? dtile : nullptr, offset, mask, n0, nc,
                                        ctx.cols, grad_offset, grad_mask, xg, marks, cpi, kChunk);
            if (timed) local.lap(1);
          }
          for (int64_t bi = 0; !small_groups && bi < ctx.n_blocks; ++bi) {
            const ColumnBlock& cb = blocks[static_cast<size_t>(bi)];
            const int64_t len = cb.i1 - cb.i0;
            if (dcol_in) prefetch_saved_rows(dcol_in, n0 + cb.i1, std::min(total, n0 + cb.i1 + kColBlock), ldd, ldr);
            for (int64_t og = 0; og < OG; ++og)
              table_entry<D, T>(isa, g, kcoords.data(), offset, cb, og, need_coord, table + og * K, off_loc);
            if (mask)
              for (int64_t mg = 0; mg < MG; ++mg) mask_tile_entry<D, T>(g, mask, cb, mg, nc, mtile);
            // Zero the chunks of XGt_s this block's samples reach before the first scatter into them
            // (writes to the zero row sx land anywhere in its chunk and are never read).
            int32_t lo = 0, hi = -1;  // the block's positions other than the zero row (none: hi < 0)
            bool ranged = false;
            // NOTE [ X-gradient rows prefetched ]
            // With pass B by destination, the block's range of positions (which the chunk zeroing needs anyway) is
            // taken before pass A, and the slot's X-gradient rows of that range not yet prefetched by an earlier
            // block of this piece (on r50-c4 ~8 input rows for a piece's first block, about one new row for each
            // later one) are prefetched with write intent, so that they come in while pass A runs and pass B finds
            // them in the caches. Only prefetches: the same values. Measured (docs/perf/cpu.md, session 21): r50-c4's
            // col2im per thread -0.08 to -0.11 ms, its backward -0.2 to -0.4 ms; r50-c5 unchanged. (Xt's rows of the
            // same range prefetched as well: not resolved.)
            if (gather_b) {
              idx_range<D, T>(isa, table, OG * K, static_cast<int32_t>(sx), &lo, &hi);
              ranged = true;
              if (cb.b != pf_image) pf_next = 0;
              pf_image = cb.b;
              const int32_t from = std::max(lo, pf_next);
              if (hi >= from && hi - lo < kGatherRange) {
                const char* p0 = reinterpret_cast<const char*>(xg + (cb.b * (sx + 1) + from) * g.cx);
                const int64_t bytes = static_cast<int64_t>(hi - from + 1) * g.cx * ts;
                for (int64_t q = 0; q < bytes; q += 64) __builtin_prefetch(p0 + q, 1, 3);
                pf_next = hi + 1;
              }
            }
            const auto zero_chunks = [&] {
              if (!ranged) idx_range<D, T>(isa, table, OG * K, static_cast<int32_t>(sx), &lo, &hi);
              if (hi >= 0) {
                uint8_t* mk = marks + cb.b * cpi;
                for (int64_t k = lo / kChunk; k <= hi / kChunk; ++k) {
                  if (mk[k] == kChunkZeroed) continue;
                  const int64_t p0 = k * kChunk, np = std::min(kChunk, sx + 1 - p0);
                  T* z = xg + (cb.b * (sx + 1) + p0) * g.cx;
                  if (mk[k] == kChunkLazy) {
                    // NOTE [ X-gradient rows written first ]: only the rows not yet written.
                    uint8_t* set = ctx.xg_set + cb.b * (sx + 1) + p0;
                    for (int64_t p = 0; p < np; ++p)
                      if (!set[p]) std::fill(z + p * g.cx, z + (p + 1) * g.cx, T(0));
                  } else {
                    std::fill(z, z + np * g.cx, T(0));
                  }
                  if (ctx.xg_set)
                    std::fill(ctx.xg_set + cb.b * (sx + 1) + p0, ctx.xg_set + cb.b * (sx + 1) + p0 + np, 1);
                  mk[k] = kChunkZeroed;
                }
              }
            };
            if (fuse_scatter) zero_chunks();
            if (sample_cols || need_coord) {
              if (need_coord) std::fill(acc, acc + acc_per_thread, T(0));
              if (fuse_scatter) {
                if constexpr (D == 3) pass_a_scatter<D, T>(isa, ctx, sample_cols, bi, acc, kColBlock);
              } else {
                pass_a<D, T>(isa, ctx, sample_cols, need_coord, bi, acc, kColBlock);
              }
              // Every offset / mask gradient element of these columns, written once, channel by channel.
              if (grad_offset) {
                for (int64_t ch = 0; ch < OG * K * D; ++ch)
                  std::memcpy(grad_offset + (cb.b * OG * K * D + ch) * sy + cb.q0, acc + ch * kColBlock,
                              sizeof(T) * len);
              }
              if (grad_mask) {
                const T* am = acc + OG * K * D * kColBlock;
                for (int64_t ch = 0; ch < MG * K; ++ch)
                  std::memcpy(grad_mask + (cb.b * MG * K + ch) * sy + cb.q0, am + ch * kColBlock, sizeof(T) * len);
              }
            }
            if (timed) local.lap(1);
            if (x_scatter && !fuse_scatter) {
              const auto gathers = [&](const Segment& sg) {
                return gather_b && hi - lo < kGatherRange && (sg.c1 - sg.c0) * ts >= kGatherVectors * 64;
              };
              // NOTE [ X-gradient rows written first ]: one segment by destination, its chunks lazy, not zeroed.
              if (lazy_xg && hi >= 0 && gathers(segs[0])) {
                uint8_t* mk = marks + cb.b * cpi;
                for (int64_t k = lo / kChunk; k <= hi / kChunk; ++k)
                  if (mk[k] == 0) mk[k] = kChunkLazy;
              } else {
                zero_chunks();
              }
              for (int64_t si = 0; si < ctx.n_segs && hi >= 0; ++si) {  // (hi < 0: every term into the zero row)
                const Segment& sg = segs[static_cast<size_t>(si)];
                // NOTE [ Pass B by destination ]
                if (gathers(sg))
                  pass_b_gather<D, T>(isa, ctx, cb.b, sg, bi, lo, hi);
                else
                  pass_b<D, T>(isa, ctx, cb.b, sg, bi, bi + 1);
              }
            }
            if (timed) local.lap(2);
          }
          if (need_fwd) {
            // y_forward's columns (NOTE [ Forward from the backward's columns ]): those of the rows carried from
            // the slot piece's previous tiles and of this tile's, in whole panels of mr rows except at the
            // piece's end (a tile's rows beyond the last whole panel wait for the next tile: the tiles' nc % mr
            // padding rows cost ~8 % of this GEMM on up-t2d). Each row's y is the same sum whichever GEMM
            // call holds it. The carried rows lie just before the tile's colsT: in the shared window buffer
            // they are already there (the piece's previous rows, this thread's); own_cols keeps them in its
            // head room.
            const T* a = ctx.cols - fcarry * lcs;
            const int64_t avail = fcarry + nc;
            const int64_t m = n0 + nc == s1 || leaving ? avail : avail / uk.mr * uk.mr;
            if (m > 0) {
              forward_tile_gemm<T>(uk, m, G, cyg, rows, lcs, a, wfpack, ftail, ftile, g.cy);
              write_y_tile<D, T>(g, column_blocks(n0 - fcarry, m, sy), ftile, static_cast<const T*>(nullptr),
                                 y_forward);
            }
            fcarry = avail - m;
            if (fcarry > 0 && ctx.cols == own_cols)
              std::memmove(own_cols - fcarry * lcs, a + m * lcs, sizeof(T) * fcarry * lcs);
            if (timed) local.lap(4);
          }
          if (slot_gw) {
            T* gw_s = gws + s * gw_elems;
            const bool started = slot_started[static_cast<size_t>(s)] != 0;
            const int64_t kc_max = std::min<int64_t>(kGemmKc, nc);
            if (gw_t) {
              // gwsT_s[gi] (rows x cyg) += colsT_tile[gi]^T (rows x nc) * Y_tile[gi]^T (nc x cyg), on this
              // thread: see gw_t. Where the B block (Y_tile^T, video-3d: 55 x 64) fits in L1 beside an A panel,
              // each A panel is streamed once past it (MacroOrder::kAPanelInL1); else (edvr-64: 148 x 64) B
              // panel by panel, as the general GEMM.
              constexpr int64_t kL1BBytes = int64_t{24} << 10;
              const MacroOrder order = kc_max * cyg_pad_nr * static_cast<int64_t>(sizeof(T)) <= kL1BBytes
                                           ? MacroOrder::kAPanelInL1
                                           : MacroOrder::kBPanelInL1;
              for (int64_t gi = 0; gi < G; ++gi) {
                pack_b_blocks(nc, cyg, yt + gi * cyg * ldy, int64_t{1}, ldy, uk.nr, bpack);  // B(i, o) = Y[o][i]
                if constexpr (std::is_same_v<T, float>) {
                  if (gw_t_a_cols) {
                    // NOTE [ Per-slot weight GEMM with colsT in place ], the transposed form.
                    bool done = true;
                    for (int64_t p0 = 0; p0 < nc && done; p0 += kc_max)
                      done = gemm_a_cols_f32(rows, cyg, std::min(kc_max, nc - p0), own_cols + gi * rows + p0 * lcs, lcs,
                                             bpack + p0 * cyg_pad_nr, gw_s + gi * rows * cyg, cyg, started || p0 > 0);
                    if (done) continue;
                  }
                }
                pack_a(rows, nc, own_cols + gi * rows, int64_t{1}, lcs, uk.mr, apack);  // A(r, i) = colsT[i][r]
                for (int64_t p0 = 0; p0 < nc; p0 += kc_max) {
                  const int64_t kc = std::min(kc_max, nc - p0);
                  macro_kernel(uk, rows, cyg, kc, apack + p0 * uk.mr, nc * uk.mr, bpack + p0 * cyg_pad_nr,
                               gw_s + gi * rows * cyg, cyg, started || p0 > 0, order, /*prefetch_c=*/true);
                }
              }
            } else {
              // gws_s[gi] (cyg x rows) += Y_tile[gi] (cyg x nc) * colsT_tile[gi] (nc x rows), on this thread.
              for (int64_t gi = 0; gi < G; ++gi) {
                pack_a(cyg, nc, yt + gi * cyg * ldy, ldy, int64_t{1}, uk.mr, apack);
                if (gw_b_rows) {
                  // NOTE [ Per-slot weight GEMM with colsT in place ]
                  bool done = true;
                  for (int64_t p0 = 0; p0 < nc && done; p0 += kc_max)
                    done = gemm_b_rows_f32(cyg, rows, std::min(kc_max, nc - p0),
                                           reinterpret_cast<const float*>(apack + p0 * uk.mr), nc * uk.mr,
                                           reinterpret_cast<const float*>(own_cols + p0 * lcs + gi * rows), lcs,
                                           reinterpret_cast<float*>(gw_s + gi * cyg * rows), rows, started || p0 > 0);
                  if (done) continue;
                }
                pack_b_blocks(nc, rows, own_cols + gi * rows, lcs, int64_t{1}, uk.nr, bpack);
                for (int64_t p0 = 0; p0 < nc; p0 += kc_max)
                  macro_kernel(uk, cyg, rows, std::min(kc_max, nc - p0), apack + p0 * uk.mr, nc * uk.mr,
                               bpack + p0 * rows_pad, gw_s + gi * cyg * rows, rows, started || p0 > 0,
                               MacroOrder::kBPanelInL1, /*prefetch_c=*/true);
              }
            }
            slot_started[static_cast<size_t>(s)] = 1;
            if (timed) local.lap(3);
          }
          if (leaving && (across ? chains.leave(tid, p, n0 + nc) : pieces.leave(s, n0 + nc))) {
            left = true;
            break;
          }
        }
        if (across && !left) chains.done(tid, p);
        if (!across && !left) wg.piece_done(p);
      }
      if (timed)
        for (int k = 0; k < 5; ++k) own_ms[k] += local.ms[k];
      if (timer.on) piece_ms[static_cast<size_t>(tid)] += since(thread_t0);
      if (!across) {
        // The window's weight GEMM (NOTE [ Weight GEMM after the pieces ]): per chunk, Y's reduction block packed
        // (a thread takes its chunks block by block, so once per block and thread), then B blocks of kWgNc columns
        // of colsT as packed by pass A (NOTE [ colsT packed by pass A ]) or packed here, multiplied with the B
        // panel in L1 and the packed Y in L2. (An earlier parallel GEMM that claimed blocks of 512 columns packed
        // Y once per block and moved a block's rows of grad_weight' between the cores' caches from window to
        // window.) The C tiles (rows of the 2.4 / 9.4 MB grad_weight', in L3 at best) are prefetched one tile
        // ahead.
        // NOTE [ Weight GEMM's B prefetched ]
        // With colsT packed by pass A, the B panels of a chunk lie one after another in the window buffer (2.4-9.4 MB,
        // written by either core's pass A: from L3 at best): each micro-kernel call on a panel also prefetches its
        // share of the next panel into L2 (macro_kernel_pf; the same sums as macro_kernel, bit-identical).
        T* abuf = wgbuf + static_cast<size_t>(tid) * wg_thread_elems;
        T* bbuf = abuf + cyg_pad_mr * kWgKc;
        int64_t packed = -1;  // the (group, reduction block) whose Y block abuf holds
        WindowGemm::Chunk c;
        while (wg.claim(tid, &c)) {
          if (timed) local.lap(6);
          if (!wg.wait_ready(c)) break;
          if (timed) local.lap(7);
          const int64_t gi = c.gi, k0 = c.kb * kc_max, kc = std::min(kc_max, kw - k0);
          if (gi * kw + k0 != packed) {
            pack_a(cyg, kc, ytile + gi * cyg * nw + k0, nw, int64_t{1}, uk.mr, abuf);
            packed = gi * kw + k0;
          }
          // NOTE [ Weight GEMM's next chunk prefetched ]
          // A chunk is one macro-kernel call of kWgNc columns, so its last B panel prefetched nothing and every
          // chunk's first panel came from beyond L2 on demand (1 in 8 panels of r50-c5's GEMM). The chunk this thread
          // will most likely claim next (peek: another thread may take it first; only where its colsT is written)
          // now has its first panel prefetched by this chunk's last one. Only loads ahead change: bit-identical.
          const T* chunk_next = nullptr;
          int64_t chunk_next_lines = 0;
          WindowGemm::Chunk nx;
          if (packed_cols && wg.peek(tid, &nx)) {
            const int64_t nk0 = nx.kb * kc_max, nkc = std::min(kc_max, kw - nk0);
            chunk_next = cols + nk0 * G * rows + nx.gi * nkc * rows + nx.j0 * nkc;
            chunk_next_lines = (nkc * uk.nr * static_cast<int64_t>(sizeof(T)) + 63) / 64;
          }
          for (int64_t jb = c.j0; jb < c.j1; jb += kWgNc) {
            const int64_t ncur = std::min(kWgNc, c.j1 - jb);
            const T* bsrc = cols + k0 * G * rows + gi * kc * rows + jb * kc;
            if (!packed_cols) {
              pack_b(kc, ncur, cols + k0 * ldr + gi * rows + jb, ldr, int64_t{1}, uk.nr, bbuf);
              bsrc = bbuf;
            }
            if (packed_cols) {
              // NOTE [ Weight GEMM's B prefetched ]
              const bool more = jb + kWgNc < c.j1;
              const T* next = more ? bsrc + ncur * kc : chunk_next;
              macro_kernel_pf(uk, cyg, ncur, kc, abuf, kc * uk.mr, bsrc, gwp + gi * cyg * rows + jb, rows,
                              w > 0 || k0 > 0, next,
                              more ? (kc * uk.nr * static_cast<int64_t>(sizeof(T)) + 63) / 64 : chunk_next_lines);
              continue;
            }
            macro_kernel(uk, cyg, ncur, kc, abuf, kc * uk.mr, bsrc, gwp + gi * cyg * rows + jb, rows, w > 0 || k0 > 0,
                         MacroOrder::kBPanelInL1, /*prefetch_c=*/true);
          }
          wg.done(c);
        }
        if (timed) {
          local.lap(6);
          own_wg_ms[0] += local.ms[6];
          own_wg_ms[1] += local.ms[7];
        }
      }
      if (timer.on) busy_ms[static_cast<size_t>(tid)] += since(thread_t0);
    });
    if (timer.on) region_ms += since(tiles_t0);
    timer.lap(1);
  }
  if (x_scatter)
    to_channels_first(xgt, n_slots, xgt_elems, touched.data(), cpi, lazy_xg ? xg_set.data() : nullptr, B, g.cx, sx,
                      x_scatter, scatter_overwrite);
  if (dcol_out) std::memcpy(static_cast<void*>(save_dcol), &saved_want, sizeof saved_want);  // every row written
  if (need_cols && !slot_gw) {
    // grad_weight[o][c * K + kpt] = gwp[o][kpt * cxg + c]; with AVX-512 by register transposes (r50-c5: 0.85 ->
    // 0.72 ms at 2 threads, docs/perf/cpu.md, session 12).
    [[maybe_unused]] const bool vec = transpose_blocks_avx512<T>() && cxg % 16 == 0 && K <= 16;
    parallel_for(0, g.cy, 1, [&](int64_t ob, int64_t oe) {
      for (int64_t o = ob; o < oe; ++o) {
#if DCN_CL_X86
        if constexpr (std::is_same_v<T, float>) {
          if (vec) {
            // NOTE [ Next row prefetched ] (r50-c5's finish 0.7 -> 0.5 ms, session 18)
            const bool next = o + 1 < oe;
            unpermute_row_avx512(gwp + o * rows, cxg, K, grad_weight + o * rows, next ? gwp + (o + 1) * rows : nullptr,
                                 next ? grad_weight + (o + 1) * rows : nullptr);
            continue;
          }
        }
#endif
        for (int64_t c = 0; c < cxg; ++c)
          for (int64_t kpt = 0; kpt < K; ++kpt) grad_weight[o * rows + c * K + kpt] = gwp[o * rows + kpt * cxg + c];
      }
    });
  } else if (slot_gw) {
    // grad_weight = ((gws_0 + gws_1) + gws_2) + ..., over the slots that had columns, reordered to (c, kpt).
    if (gw_t) {
      // From gwsT_s[gi][kpt * cxg + c][o]: blocks of kT output channels, so that every read of a slot's row
      // is one contiguous run and the kT rows of grad_weight being written stay in L1.
      const int64_t nob = (cyg + kT - 1) / kT;
      // With AVX-512 (float, whole blocks of 16 output channels and 16 weight columns): register transposes
      // (video-3d: 4 slots of 1728 x 64, 0.3-0.5 ms at 2 threads in the scalar loop below), a task per 16 weight
      // columns and all output channels, so that each source row (cyg values) is read whole.
      [[maybe_unused]] const bool vec =
          transpose_blocks_avx512<T>() && cyg % 16 == 0 && rows % 16 == 0 && n_slots <= 64;
      const float* src[64];
      int n_src = 0;
      for (int64_t s = 0; s < n_slots && vec; ++s)
        if (slot_started[static_cast<size_t>(s)]) src[n_src++] = reinterpret_cast<const float*>(gws + s * gw_elems);
#if DCN_CL_X86
      if constexpr (std::is_same_v<T, float>) {
        if (n_src > 0) {
          const int64_t nq = rows / 16;
          parallel_for(0, G * nq, 1, [&](int64_t tb, int64_t te) {
            for (int64_t t = tb; t < te; ++t) {
              const int64_t gi = t / nq, q0 = (t % nq) * 16;
              const float* gsrc[64];
              for (int k = 0; k < n_src; ++k) gsrc[k] = src[k] + gi * rows * cyg;
              for (int64_t o0 = 0; o0 < cyg; o0 += 16)
                sum_transpose_gwt_block_avx512(gsrc, n_src, cxg, K, cyg, rows, o0, q0, grad_weight + gi * cyg * rows);
            }
          });
        }
      }
#endif
      if (n_src == 0) {  // the scalar loop
        parallel_for(0, G * nob, 1, [&](int64_t tb, int64_t te) {
          T acc[kT];
          for (int64_t t = tb; t < te; ++t) {
            const int64_t gi = t / nob, o0 = (t % nob) * kT, on = std::min(kT, cyg - o0);
            T* dst = grad_weight + (gi * cyg + o0) * rows;
            for (int64_t c = 0; c < cxg; ++c)
              for (int64_t kpt = 0; kpt < K; ++kpt) {
                std::fill(acc, acc + kT, T(0));
                bool first = true;
                for (int64_t s = 0; s < n_slots; ++s) {
                  if (!slot_started[static_cast<size_t>(s)]) continue;
                  const T* src = gws + s * gw_elems + (gi * rows + kpt * cxg + c) * cyg + o0;
                  for (int64_t j = 0; j < on; ++j) acc[j] = first ? src[j] : acc[j] + src[j];
                  first = false;
                }
                for (int64_t j = 0; j < on; ++j) dst[j * rows + c * K + kpt] = acc[j];
              }
          }
        });
      }
    } else {
      // With AVX-512 (float, whole blocks of 16 channels, K <= 16) each row's sum in registers, unpermuted by
      // register transposes (tcn-1d: 4 slots of 128 x 384, ~0.14 ms at 2 threads in the scalar loop below).
      [[maybe_unused]] const bool vec = transpose_blocks_avx512<T>() && cxg % 16 == 0 && K <= 16 && n_slots <= 64;
      parallel_for(0, g.cy, 1, [&](int64_t ob, int64_t oe) {
        for (int64_t o = ob; o < oe; ++o) {
          T* dst = grad_weight + o * rows;
#if DCN_CL_X86
          if constexpr (std::is_same_v<T, float>) {
            if (vec) {
              const float* src[64];
              int n_src = 0;
              for (int64_t s = 0; s < n_slots; ++s)
                if (slot_started[static_cast<size_t>(s)]) src[n_src++] = gws + s * gw_elems + o * rows;
              if (n_src > 0) {
                sum_unpermute_row_avx512(src, n_src, cxg, K, dst);
                continue;
              }
            }
          }
#endif
          std::fill(dst, dst + rows, T(0));
          bool first = true;
          for (int64_t s = 0; s < n_slots; ++s) {
            if (!slot_started[static_cast<size_t>(s)]) continue;
            const T* src = gws + s * gw_elems + o * rows;
            for (int64_t c = 0; c < cxg; ++c)
              for (int64_t kpt = 0; kpt < K; ++kpt) {
                T& d = dst[c * K + kpt];
                d = first ? src[kpt * cxg + c] : d + src[kpt * cxg + c];
              }
            first = false;
          }
        }
      });
    }
  }
  timer.lap(3);
  scratch.release_if_huge();
  if (timer.on) {
    // tiles: the regions of the tiles, with the shared weight GEMM's chunks where it runs (NOTE [ Weight GEMM after
    // the pieces ]); waits: each thread's time in those regions outside its work (at the joins).
    std::fprintf(
        stderr,
        "[tvdcn cpu] column pass D=%d: setup %.2f (W' pack %.2f), tiles %.2f (calling thread: y tile + dcol GEMM %.2f, "
        "plan + cols + offset/mask grads %.2f, col2im %.2f, tile weight GEMM %.2f, weight GEMM %.2f, waiting "
        "for its chunks %.2f), finish %.2f ms (%lld windows, %lld slots, tile %lld columns)\n",
        D, timer.ms[0] + timer.ms[4], timer.ms[4], timer.ms[1], own_ms[0], own_ms[1], own_ms[2], own_ms[3],
        own_wg_ms[0], own_wg_ms[1], timer.ms[3], static_cast<long long>(n_windows), static_cast<long long>(n_slots),
        static_cast<long long>(nt));
    if (need_fwd)
      std::fprintf(stderr, "[tvdcn cpu] column pass D=%d: of the tiles, y_forward GEMM + write %.2f ms\n", D,
                   own_ms[4]);
    std::fprintf(stderr, "[tvdcn cpu] column pass D=%d: waits at the joins (ms, thread 0..%d):", D, n_threads - 1);
    for (int t = 0; t < n_threads; ++t) std::fprintf(stderr, " %.2f", region_ms - busy_ms[static_cast<size_t>(t)]);
    std::fprintf(stderr, "; in the pieces:");
    for (int t = 0; t < n_threads; ++t) std::fprintf(stderr, " %.2f", piece_ms[static_cast<size_t>(t)]);
    std::fprintf(stderr, "\n");
  }
  return true;
}

namespace cl {
// The forward's packed weight panel jp of one weight group (its output channels jp * nr.., whose weight rows
// start at wrows, row length `rows`): element (p, j), p = kpt * cxg + c, is wrows[j * rows + c * K + kpt], stored
// at gpack + p0 * cyg_pad + jp * kc * nr + (p - p0) * nr + j for the reduction block p0 = p / kc_max * kc_max
// of kc = min(kc_max, rows - p0) rows; columns j >= ncols zero. Plain copies: every ISA packs the same values.
// This one packs panel columns [j_begin, j_end) from weight columns q = c * K + kpt >= q_begin, q in order,
// so that every line of a weight row is used whole.
template <typename T>
void pack_weight_panel_scalar(const T* wrows, int64_t rows, int64_t cxg, int64_t K, int64_t kc_max, int64_t cyg_pad,
                              int64_t nr, int64_t jp, int64_t ncols, int64_t j_begin, int64_t j_end, int64_t q_begin,
                              T* gpack) {
  for (int64_t q = q_begin; q < rows; ++q) {
    const int64_t c = q / K, kpt = q - c * K;
    const int64_t p = kpt * cxg + c, p0 = p / kc_max * kc_max, kc = std::min(kc_max, rows - p0);
    T* dst = gpack + p0 * cyg_pad + jp * kc * nr + (p - p0) * nr;
    for (int64_t j = j_begin; j < j_end; ++j) dst[j] = j < ncols ? wrows[j * rows + q] : T(0);
  }
}

#if DCN_CL_X86
// The whole panel for float with AVX-512: blocks of 16 output channels x 16 weight columns q loaded along the
// 16 weight rows (16 streams), transposed in registers, stored as 16 runs of 16 panel columns (one row p each).
// Partial blocks (ncols, rows not multiples of 16) go through the scalar packer.
// NOTE [ Forward weight pack without divisions ]
// Each stored run's place follows from q = c * K + kpt: (c, kpt) advance with q (they were q / K and q % K, and p0
// was p / kc_max * kc_max: two 64-bit divisions by run-time values per 16 floats, ~74 K per thread on r50-c5), and
// p0 = p / kGemmKc * kGemmKc, a shift: kc_max is kGemmKc, or rows when rows < kGemmKc, where p < rows makes p0 = 0
// either way. The 16 source rows (18 KB apart on r50-c5) are prefetched kPackPrefetch floats ahead. The same values
// in the same places; r50-c5's pack 0.60-0.66 -> 0.42-0.48 ms at 2 threads (docs/perf/cpu.md, session 18, k18b).
constexpr int64_t kPackPrefetch = 128;
__attribute__((target("avx512f"))) void pack_weight_panel_avx512(const float* wrows, int64_t rows, int64_t cxg,
                                                                 int64_t K, int64_t kc_max, int64_t cyg_pad, int64_t nr,
                                                                 int64_t jp, int64_t ncols, float* gpack, bool stream) {
  const int64_t q_vec = rows / 16 * 16;
  for (int64_t h = 0; h < nr; h += 16) {
    if (h + 16 > ncols) {
      pack_weight_panel_scalar<float>(wrows, rows, cxg, K, kc_max, cyg_pad, nr, jp, ncols, h, h + 16, 0, gpack);
      continue;
    }
    const float* src = wrows + h * rows;
    int64_t c = 0, kpt = 0;  // q = c * K + kpt for the run being stored
    for (int64_t q0 = 0; q0 < q_vec; q0 += 16) {
      __m512 r[16];
      if (q0 + kPackPrefetch < rows)
        for (int i = 0; i < 16; ++i)
          _mm_prefetch(reinterpret_cast<const char*>(src + i * rows + q0 + kPackPrefetch), _MM_HINT_T0);
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * rows + q0);
      transpose16_avx512(r);  // r[i]: column q0 + i of channels h .. h + 15
      for (int i = 0; i < 16; ++i) {
        const int64_t p = kpt * cxg + c, p0 = p / kGemmKc * kGemmKc, kc = std::min(kc_max, rows - p0);
        float* dst = gpack + p0 * cyg_pad + jp * kc * nr + (p - p0) * nr + h;
        if (stream)
          _mm512_stream_ps(dst, r[i]);
        else
          _mm512_storeu_ps(dst, r[i]);
        if (++kpt == K) {
          kpt = 0;
          ++c;
        }
      }
    }
    pack_weight_panel_scalar<float>(wrows, rows, cxg, K, kc_max, cyg_pad, nr, jp, ncols, h, h + 16, q_vec, gpack);
  }
  if (stream) _mm_sfence();
}
#endif

// pack_forward_weight (declared above): one task per panel of nr output channels. (Was a reordered copy of the
// weight, then pack_b_blocks of it: two passes, 12 % of r50-c5's forward at 1 thread; then one pass reading 32
// weight rows element by element, ~7 %; with AVX-512, 16 x 16 blocks transposed in registers, ~2 %:
// docs/perf/cpu.md, session 8; non-temporal stores for weights over 1 MB, r50-c5's pack 1.1-1.3 -> 0.5-0.6 ms at 2
// threads: session 14.)
template <typename T>
void pack_forward_weight(Isa isa, const MicroKernel<T>& uk, const T* weight, int64_t G, int64_t cyg, int64_t cxg,
                         int64_t K, T* wpack, bool stream) {
  const int64_t rows = cxg * K, nr = uk.nr, cyg_pad = (cyg + nr - 1) / nr * nr;
  const int64_t kc_max = std::min<int64_t>(kGemmKc, rows), n_panels = cyg_pad / nr;
  parallel_for(0, G * n_panels, 1, [&](int64_t tb, int64_t te) {
    for (int64_t task = tb; task < te; ++task) {
      const int64_t gi = task / n_panels, jp = task % n_panels, j0 = jp * nr, ncols = std::min(nr, cyg - j0);
      const T* wrows = weight + (gi * cyg + j0) * rows;
      T* gpack = wpack + gi * rows * cyg_pad;
#if DCN_CL_X86
      if constexpr (std::is_same_v<T, float>) {
        if (isa == Isa::kAvx512 && nr == 32) {
          pack_weight_panel_avx512(wrows, rows, cxg, K, kc_max, cyg_pad, nr, jp, ncols, gpack, stream);
          continue;
        }
      }
#else
      (void)isa;
      (void)stream;
#endif
      pack_weight_panel_scalar<T>(wrows, rows, cxg, K, kc_max, cyg_pad, nr, jp, ncols, 0, nr, 0, gpack);
    }
  });
}
}  // namespace cl

namespace cl {
// NOTE [ Forward tail by thread rates ]
// The forward's tiles (NOTE [ Channels-last forward ]) are whole row panels of mr columns; a thread claims the
// next tile until what is left is about what the threads can finish together. On the shared 2-vCPU machine the
// two threads often run a few percent apart (r50-c5: 6 %, docs/perf/cpu.md, session 14), and with ten tiles of
// ~1.3 ms each one thread then waited ~0.9 ms for the other. So each claim estimates, from the threads' measured
// rates (ns per panel over their chunks so far) and when the other threads' running chunks will end, the time T
// at which all threads would end if the panels left were shared out now; a thread takes a whole tile while its
// share is above `cap` panels, else its share (whole panels, up to cap: 1.5 tiles for a streamed weight, so the
// last round resizes chunks rather than adding one), or leaves when it is nothing. A chunk costs `overhead` more
// panels (a weight over L2 is streamed once per chunk: r50-c5's 52-column tile ran ~15 % slower per column than
// its 108-column ones), which the estimate charges to every thread that takes a share. Timing decides only which
// thread runs which columns: every output element sums over the rows in the GEMM's fixed order within one chunk,
// as within one tile, so the result does not change. With the test hook force_handover() (which the tests of
// the backward's hand-overs set) chunks are split at arbitrary panels on any number of threads.
class ForwardTiles {
 public:
  using Clock = std::chrono::steady_clock;
  // cap: the most panels one chunk may take (at least a tile).
  ForwardTiles(int64_t n_panels, int64_t n_tiles, int64_t cap, int n_threads, double overhead)
      : n_panels_(n_panels),
        n_tiles_(std::max<int64_t>(1, n_tiles)),
        cap_(cap),
        overhead_(overhead),
        thr_(static_cast<size_t>(std::max(n_threads, 1))) {}
  // The next chunk of panels for thread tid, [*p0, *p0 + n); n = 0: none for this thread (it leaves the region).
  int64_t claim(int tid, int64_t* p0) {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = Clock::now();
    Thread& me = thr_[static_cast<size_t>(tid)];
    if (me.running) {
      me.sum_ns += std::chrono::duration<double, std::nano>(now - me.start).count();
      me.sum_panels += static_cast<double>(me.panels) + overhead_;
      me.running = false;
    }
    const int64_t left = n_panels_ - pos_;
    if (left <= 0) return 0;
    // The tile at pos_ where the claims so far took whole tiles, else as many panels as the largest tile.
    const int64_t t_next = ((pos_ + 1) * n_tiles_ + n_panels_ - 1) / n_panels_;
    const bool at_tile = (t_next - 1) * n_panels_ / n_tiles_ == pos_;
    const int64_t c =
        std::min(left, at_tile ? t_next * n_panels_ / n_tiles_ - pos_ : (n_panels_ + n_tiles_ - 1) / n_tiles_);
    // Test hook (deform_conv.h): after its first chunk a thread takes half of what it could, so that chunk
    // boundaries fall inside tiles, also on one thread.
    const int64_t n = force_handover() && me.sum_panels > 0  ? std::max<int64_t>(1, c / 2)
                      : thr_.size() > 1 && me.sum_panels > 0 ? share(tid, now, left, c)
                                                             : c;
    if (n <= 0) return 0;
    me.running = true;
    me.start = now;
    me.panels = n;
    *p0 = pos_;
    pos_ += n;
    return n;
  }

 private:
  struct Thread {
    bool running = false;
    Clock::time_point start{};
    int64_t panels = 0;
    double sum_ns = 0, sum_panels = 0;  // time of the finished chunks, and their panels plus overheads
  };
  double rate(const Thread& t) const { return t.sum_panels > 0 ? t.sum_ns / t.sum_panels : 0; }
  // tid's share of the `left` panels (at most c).
  int64_t share(int tid, Clock::time_point now, int64_t left, int64_t c) const {
    const double v_me = rate(thr_[static_cast<size_t>(tid)]);
    if (!(v_me > 0)) return c;
    double free_at[8], v[8];
    int m = 0;
    bool others = false;
    for (size_t t = 0; t < thr_.size() && m < 8; ++t) {
      const Thread& th = thr_[t];
      if (static_cast<int>(t) == tid) {
        free_at[m] = 0;
        v[m++] = v_me;
      } else if (th.running) {
        const double vt = rate(th) > 0 ? rate(th) : v_me;
        const double since = std::chrono::duration<double, std::nano>(now - th.start).count();
        free_at[m] = std::max(0.0, (static_cast<double>(th.panels) + overhead_) * vt - since);
        v[m++] = vt;
        others = true;
      }
    }
    // T: the panels the participants can run by T (each paying one overhead) equal `left`.
    const double need = static_cast<double>(left);
    const auto panels_by = [&](double T) {
      double s = 0;
      for (int j = 0; j < m; ++j) s += std::max(0.0, (T - free_at[j]) / v[j] - overhead_);
      return s;
    };
    double lo = 0, hi = (need + overhead_) * v_me;
    for (int it = 0; it < 48; ++it) {
      const double mid = 0.5 * (lo + hi);
      (panels_by(mid) < need ? lo : hi) = mid;
    }
    const double x = hi / v_me - overhead_;
    // More than `cap` each: not the last round yet, whole tiles. Else this thread's share, up to `cap` panels,
    // which may be more than a tile: the last round then balances without an extra chunk.
    const int64_t cap = std::min(left, std::max(c, cap_));
    if (!others || x > static_cast<double>(cap) + 0.5) return c;
    return std::min(cap, static_cast<int64_t>(std::llround(std::max(0.0, x))));
  }
  std::mutex mu_;
  const int64_t n_panels_, n_tiles_, cap_;
  const double overhead_;
  int64_t pos_ = 0;  // panels [0, pos_) claimed (guarded by mu_)
  std::vector<Thread> thr_;
};
}  // namespace cl

// NOTE [ Channels-last forward ]
// Y = W * im2col(X) with the columns sampled as in the column pass (colsT[n][(kpt, c)] from Xt, corner
// table per column block) and multiplied transposed: Y_tile^T (nc x cyg) = colsT[gi] (nc x rows) * W'[gi]^T.
// Each thread takes whole tiles of columns and runs all of a tile itself (plan, sampling, GEMM, output),
// in buffers of its own: what one step writes, the next reads from the same core's cache. (Splitting every
// step of a tile over the threads made each step read what the other core had just written; on two cores
// the forwards of the sampling-bound shapes then ran slower than on one.) The tiles are sized for one
// core's L2 cache and their number is a multiple of the thread count. Each output element sums over the
// rows in the GEMM's fixed order, so neither the tiling nor the number of threads changes the result.
template <int D, typename T>
bool forward_channels_last(const SamplingGeometry<D>& g, const T* x, const T* weight, const T* offset, const T* mask,
                           const T* bias, T* y, int64_t workspace_bytes) {
  using namespace cl;
  const int64_t sx = g.x_spatial();
  if (force_planar() || !fits_int32(g)) return false;
  const MicroKernel<T>& uk = micro_kernel<T>();
  const Isa isa = current_isa();
  const int64_t K = g.kernel_points, G = g.groups, B = g.batch, OG = g.offset_groups, MG = g.mask_groups;
  const int64_t cxg = g.cx_per_group(), cyg = g.cy_per_group(), rows = cxg * K, ldr = g.cx * K;
  const int64_t sy = g.y_spatial(), total = g.y_columns();
  if (total == 0 || g.cy == 0) return true;
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const std::vector<Segment> segs = segments(g);
  // Read once for this call: the per-thread buffers are indexed by the task's thread id.
  const int n_threads = get_num_threads();
  // The sampled matrix: where the micro-kernel reads A in place (uk.fn_rows), colsT (nc x ldr, row-major,
  // rows up to a multiple of mr) written with contiguous vector stores; else each weight group's packed A
  // panels, which pass A writes element by element (mr apart).
  const bool rows_a = uk.fn_rows != nullptr;
  const int64_t mr = uk.mr;
  // Few channels per offset group: the plan and samples of NOTE [ Small-group forward sampler ] (same values).
  const bool small_groups = rows_a && small_groups_applies<D, T>(g);

  // Columns per tile: the tile's colsT, output tile and mask tile within kThreadTileBytes (one core's L2
  // with room for the plan and the rows of Xt), at least kMinTile, within the workspace limit for all
  // threads' tiles together; then evened out so that the tile count is a multiple of the thread count.
  // Where the packed weight outgrows L2 (r50-c4: 2.4 MB, r50-c5: 9.4 MB) every tile streams all of it from
  // L3 once (perf: the micro-kernel's stalls sat on its B loads), so the tiles are made kBigWeightTileBytes
  // instead: 2-3x the columns per pass over the weight, at the price of colsT spilling partly out of L2
  // (its rows are read once per reduction block, the weight's once per tile). Session 6 measurements
  // in docs/perf/cpu.md.
  constexpr int64_t kThreadTileBytes = int64_t{768} << 10, kBigWeightTileBytes = int64_t{2560} << 10;
  constexpr int64_t kL2WeightBytes = int64_t{1} << 20, kMinTile = 48;
  const int64_t weight_bytes = static_cast<int64_t>(sizeof(T)) * rows * g.cy;
  const int64_t tile_bytes = weight_bytes > kL2WeightBytes ? kBigWeightTileBytes : kThreadTileBytes;
  const int64_t per_column = static_cast<int64_t>(sizeof(T)) * (g.cy + ldr + (mask ? MG * K : 0));
  int64_t nt = std::max(kMinTile, tile_bytes / per_column);
  nt = std::min({nt, total, workspace_bytes / std::max<int64_t>(1, per_column * n_threads)});
  nt = std::max<int64_t>(1, nt);
  {
    int64_t n_tiles = (total + nt - 1) / nt;
    n_tiles = (n_tiles + n_threads - 1) / n_threads * n_threads;
    const int64_t even = ((total + n_tiles - 1) / n_tiles + mr - 1) / mr * mr;
    nt = std::max<int64_t>(1, std::min(nt, even));
  }
  // The tiles: where whole row panels of mr columns fit (nt >= mr), the fewest tiles of at most nt columns whose
  // count is a multiple of the thread count, the panels (the last one partial) dealt out evenly by ForwardTiles
  // (tile t: panels [t * n_panels / n_tiles, (t + 1) * n_panels / n_tiles)), so that the tiles differ by at most
  // one panel instead of the last taking what is left (r50-c5: 9 tiles of 108 columns and one of 52, i.e. 540
  // columns on one thread and 484 on the other; now 96-108 each, 516 and 508). Else tiles of nt as before. The
  // tiling changes no sum (NOTE [ Channels-last forward ]).
  const int64_t n_panels = (total + mr - 1) / mr, panels_max = nt / mr;
  int64_t n_tiles = (total + nt - 1) / nt;
  bool panel_tiles = false;
  if (panels_max > 0) {
    int64_t n = (n_panels + panels_max - 1) / panels_max;
    n = (n + n_threads - 1) / n_threads * n_threads;
    if (n <= n_panels) {
      n_tiles = n;
      panel_tiles = true;
    }
  }
  // Where the weight is streamed per chunk (few, long tiles), the tail's chunks may take up to half a tile more
  // than a tile (NOTE [ Forward tail by thread rates ]): each thread's buffers hold nt_buf columns, within the
  // same workspace limit as the tiles. Elsewhere a chunk costs little and the buffers stay as they were.
  int64_t cap_panels = 0, nt_buf = nt;
  if (panel_tiles && n_threads > 1 && weight_bytes > kL2WeightBytes) {
    const int64_t tile_panels = (n_panels + n_tiles - 1) / n_tiles;
    const int64_t ws_panels = workspace_bytes / std::max<int64_t>(1, per_column * n_threads) / mr;
    cap_panels = std::max(tile_panels, std::min(tile_panels * 3 / 2, ws_panels));
    nt_buf = std::max(nt, std::min(total, cap_panels * mr));
  }
  const int64_t nt_pad = (nt_buf + mr - 1) / mr * mr, panel_gstride = rows_a ? 0 : nt_pad * rows;
  Carver carve;
  const int64_t cyg_pad = (cyg + uk.nr - 1) / uk.nr * uk.nr;
  const size_t o_wpack = carve.add<T>(G * rows * cyg_pad);
  const size_t o_xt = carve.add<T>(B * (sx + 1) * g.cx);
  // Each thread's own buffers: colsT or panels, output tile, the plan of one column block (corner table of
  // every offset group), mask tile, offsets of one block.
  Carver mine;
  const size_t m_cols = mine.add<T>(rows_a ? nt_pad * ldr : G * panel_gstride);
  const size_t m_ctile = mine.add<T>(g.cy * nt_buf);
  const size_t m_table = mine.add<SampleBlock<D, T>>(OG * K);
  const size_t m_mtile = mine.add<T>(mask ? MG * K * nt_buf : 0);
  const size_t m_off = mine.add<T>(kColBlock * K * D);
  const size_t o_threads = carve.add<char>(static_cast<int64_t>(mine.total()) * n_threads);
  Scratch& scratch = thread_scratch();
  char* base = scratch.get(carve.total());
  T* wpack = reinterpret_cast<T*>(base + o_wpack);
  T* xt = reinterpret_cast<T*>(base + o_xt);

  // W'[gi]^T (rows x cyg), packed once as the B operand of every tile's GEMM (pack_b_blocks' layout),
  // straight from the weight: element (p, j), p = kpt * cxg + c, is weight[(gi * cyg + j) * rows + c * K + kpt].
  PhaseTimer timer;
  // A weight larger than L2 (r50-c4, r50-c5) is packed with non-temporal stores: wpack's lines are not read in
  // before being overwritten, which halved r50-c5's pack (docs/perf/cpu.md, session 14).
  pack_forward_weight<T>(isa, uk, weight, G, cyg, cxg, K, wpack, weight_bytes > kL2WeightBytes);
  timer.lap(0);
  to_channels_last(x, B, g.cx, sx, xt);
  timer.lap(1);
  double th_ms[4][4] = {};
  int th_tiles[4] = {};
  const auto t_region = std::chrono::steady_clock::now();

  Ctx<D, T> ctx0 = base_ctx<D, T>(g, K, sy, sx, cxg, rows, ldr, xt, segs);
  ctx0.panel_mr = rows_a ? 0 : mr;
  ctx0.panel_gstride = panel_gstride;
  ctx0.table_one_block = true;

  std::atomic<int64_t> next_tile{0};
  // Panel tiles: claimed through the rate-balanced tail (NOTE [ Forward tail by thread rates ]); a chunk costs
  // ~1.8 panels more where the weight is streamed from L3 (r50-c4, r50-c5), little where it stays in L2.
  ForwardTiles chunks(n_panels, n_tiles, cap_panels, n_threads, weight_bytes > kL2WeightBytes ? 1.8 : 0.25);
  const auto next_chunk = [&](int tid, int64_t* n0, int64_t* n1) {
    if (!panel_tiles) {
      const int64_t t = next_tile.fetch_add(1);
      *n0 = std::min(total, t * nt);
      *n1 = std::min(total, (t + 1) * nt);
      return t < n_tiles;
    }
    int64_t p0 = 0;
    const int64_t np = chunks.claim(tid, &p0);
    *n0 = p0 * mr;
    *n1 = std::min(total, (p0 + np) * mr);
    return np > 0;
  };
  parallel_region(n_threads, [&](int tid, int) {
    char* own = base + o_threads + static_cast<size_t>(tid) * mine.total();
    T* cols = reinterpret_cast<T*>(own + m_cols);
    T* ctile = reinterpret_cast<T*>(own + m_ctile);
    SampleBlock<D, T>* table = reinterpret_cast<SampleBlock<D, T>*>(own + m_table);
    T* mtile = reinterpret_cast<T*>(own + m_mtile);
    T* off_loc = reinterpret_cast<T*>(own + m_off);
    Ctx<D, T> ctx = ctx0;
    ctx.table = table;
    ctx.cols = cols;
    ctx.mtile = mask ? mtile : nullptr;
    PhaseTimer local;
    for (int64_t n0 = 0, n1 = 0; next_chunk(tid, &n0, &n1);) {
      if (local.on && tid < 4) th_tiles[tid]++;
      const int64_t nc = n1 - n0;
      ctx.n0 = n0;
      ctx.nc = nc;
      const std::vector<ColumnBlock> blocks = column_blocks(n0, nc, sy);
      ctx.blocks = blocks.data();
      ctx.n_blocks = static_cast<int64_t>(blocks.size());
      // Rows nc.. of a partial last panel: zero (the micro-kernel reads them; their results are dropped).
      if (rows_a) {
        std::fill(cols + nc * ldr, cols + (nc + mr - 1) / mr * mr * ldr, T(0));
      } else if (nc % mr != 0) {
        for (int64_t gi = 0; gi < G; ++gi) {
          T* last = cols + gi * panel_gstride + (nc / mr) * rows * mr;
          for (int64_t p = 0; p < rows; ++p) std::fill(last + p * mr + nc % mr, last + (p + 1) * mr, T(0));
        }
      }
      // Block by block: the sampling plan (corner table of every offset group, mask tile), then the
      // samples, while the plan is in L1.
      if (small_groups) sample_small_groups<D, T>(g, xt, offset, mask, n0, nc, cols);
      for (int64_t bi = 0; !small_groups && bi < ctx.n_blocks; ++bi) {
        const ColumnBlock& cb = blocks[static_cast<size_t>(bi)];
        for (int64_t og = 0; og < OG; ++og)
          table_entry<D, T>(isa, g, kcoords.data(), offset, cb, og, false, table + og * K, off_loc);
        if (mask)
          for (int64_t mg = 0; mg < MG; ++mg) mask_tile_entry<D, T>(g, mask, cb, mg, nc, mtile);
        pass_a<D, T>(isa, ctx, true, false, bi, static_cast<T*>(nullptr), kColBlock);
      }
      local.lap(0);
      // ctile[:, gi] (nc x cyg) = colsT[gi] (nc x rows) * W'[gi]^T (rows x cyg); inside the region the
      // GEMM runs on this thread alone. A packed weight larger than L2 comes from L3 or memory, one B panel
      // at a time: each micro-kernel call prefetches its share of the next panel into L2 (prefetch_b; ~8 % of
      // r50-c5's tile GEMM was the first call on each panel waiting for it: docs/perf/cpu.md, session 15).
      for (int64_t gi = 0; gi < G; ++gi) {
        if (rows_a) {
          gemm_rows_a(uk, nc, cyg, rows, cols + gi * rows, ldr, wpack + gi * rows * cyg_pad, ctile + gi * cyg, g.cy,
                      false, weight_bytes > kL2WeightBytes);
        } else {
          gemm(uk, nc, cyg, rows, static_cast<const T*>(nullptr), 0, 0, cols + gi * panel_gstride,
               static_cast<const T*>(nullptr), int64_t{1}, rows, ctile + gi * cyg, g.cy, false,
               wpack + gi * rows * cyg_pad);
        }
      }
      local.lap(1);
      write_y_tile_forward<D, T>(isa, g, blocks, ctile, bias, y);
      local.lap(2);
    }
    if (local.on && tid < 4) {
      for (int k = 0; k < 3; ++k) th_ms[tid][k] = local.ms[k];
      th_ms[tid][3] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_region).count();
    }
  });
  timer.lap(2);
  if (timer.on) {
    std::fprintf(stderr, "[tvdcn cpu] forward D=%d: pack %.2f xt %.2f region %.2f ms (tiles %lld x %lld)", D,
                 timer.ms[0], timer.ms[1], timer.ms[2], static_cast<long long>(n_tiles), static_cast<long long>(nt));
    for (int k = 0; k < std::min(n_threads, 4); ++k)
      std::fprintf(stderr, " | t%d: %d tiles sample %.2f gemm %.2f write %.2f done %.2f", k, th_tiles[k], th_ms[k][0],
                   th_ms[k][1], th_ms[k][2], th_ms[k][3]);
    std::fprintf(stderr, "\n");
  }
  scratch.release_if_huge();
  return true;
}

#define DCN_INSTANTIATE_COLUMN_PASS(D, T)                                                                           \
  template bool column_pass_channels_last<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, const T*, \
                                                const T*, T*, T*, T*, T*, int64_t, bool, T*, T*, const T*);         \
  template int64_t saved_columns_elems<D, T>(const SamplingGeometry<D>&, bool, int64_t);                            \
  template bool forward_channels_last<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, const T*,     \
                                            const T*, T*, int64_t);
DCN_INSTANTIATE_COLUMN_PASS(1, float)
DCN_INSTANTIATE_COLUMN_PASS(2, float)
DCN_INSTANTIATE_COLUMN_PASS(3, float)
DCN_INSTANTIATE_COLUMN_PASS(1, double)
DCN_INSTANTIATE_COLUMN_PASS(2, double)
DCN_INSTANTIATE_COLUMN_PASS(3, double)

}  // namespace dcn::cpu
