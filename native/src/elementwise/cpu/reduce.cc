// SPDX-License-Identifier: MIT
// CPU sum over any set of dimensions (cpu_ops.h), accumulating in float64 for both dtypes. Neighbouring
// dimensions that are both reduced or both kept are merged first (size-1 ones dropped), as in the
// TypeScript loop (packages/ops/src/backends/cpu/reduce.ts). Three layouts:
// - everything reduced: fixed blocks of kSumBlock elements summed in parallel, then the block sums in
//   order;
// - the last dimension reduced: each output (one task each, in chunks) adds its rows in row-major order,
//   each row in 8 interleaved partial sums (vectorised) combined in a fixed order;
// - the last dimension kept: each task owns a run of up to kColumns outputs along it and adds the input
//   rows into a local float64 accumulator in row-major order (vectorised along the run); when there are
//   few such runs, the rows are cut into slices fixed by the shape, summed apart, then slice by slice.
// No order depends on the number of threads, so results are identical for every thread count.
#include <algorithm>
#include <vector>

#include "core/dtype.h"
#include "core/parallel.h"
#include "elementwise/cpu_ops.h"

namespace dcn::cpu {
namespace {

constexpr int64_t kColumns = 512;             // outputs per task when the last dimension is kept
constexpr int64_t kGrain = int64_t{1} << 15;  // input elements per task, roughly
// Last dimension kept with fewer than kMinTasks column tasks: the reduction is split too, into at most
// kMaxSlices slices of at least kMinSliceRows rows (numbers of the shape, never of the thread count).
constexpr int64_t kMinTasks = 16;
constexpr int64_t kMaxSlices = 64;
constexpr int64_t kMinSliceRows = 256;

// Sum of p[0, n) in float64: 8 interleaved partial sums, then combined pairwise in a fixed order.
template <typename T>
inline double sum_run(const T* p, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += static_cast<double>(p[i + j]);
  }
  for (int j = 0; i < n; ++i, ++j) acc[j] += static_cast<double>(p[i]);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// A merged dimension: its size and its stride in the input.
struct Dim {
  int64_t size;
  int64_t stride;
};

// Offset of linear index `i` (row-major over dims) in the input.
inline int64_t offset_of(int64_t i, const std::vector<Dim>& dims) {
  int64_t off = 0;
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    off += (i % dims[d].size) * dims[d].stride;
    i /= dims[d].size;
  }
  return off;
}

template <typename T>
void sum_impl(const T* x, int ndim, const int64_t* shape, const bool* reduced, T* out) {
  int64_t n = 1, n_out = 1;
  for (int d = 0; d < ndim; ++d) {
    n *= shape[d];
    if (!reduced[d]) n_out *= shape[d];
  }
  if (n_out == 0) return;
  if (n == 0) {  // an empty reduced dimension: zeros
    std::fill(out, out + n_out, T(0));
    return;
  }
  // Merge neighbours of the same kind; size-1 dims vanish.
  std::vector<int64_t> sizes;
  std::vector<bool> is_red;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    if (!sizes.empty() && is_red.back() == reduced[d]) {
      sizes.back() *= shape[d];
    } else {
      sizes.push_back(shape[d]);
      is_red.push_back(reduced[d]);
    }
  }
  const int nd = static_cast<int>(sizes.size());
  if (n_out == n) {  // nothing is really reduced: a copy
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { std::copy(x + b, x + e, out + b); });
    return;
  }
  if (n_out == 1) {  // everything reduced: x is one contiguous run
    const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
    std::vector<double> partial(blocks);
    parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const int64_t lo = k * kSumBlock;
        partial[k] = sum_run(x + lo, std::min(n, lo + kSumBlock) - lo);
      }
    });
    double acc = 0;
    for (double p : partial) acc += p;
    out[0] = static_cast<T>(acc);
    return;
  }
  // Input strides of the merged dims; split them into kept and reduced lists (each in order).
  std::vector<Dim> kept, red;
  int64_t stride = 1;
  std::vector<int64_t> strides(nd);
  for (int d = nd - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= sizes[d];
  }
  for (int d = 0; d < nd; ++d) (is_red[d] ? red : kept).push_back(Dim{sizes[d], strides[d]});
  const int64_t n_red = n / n_out;

  if (is_red[nd - 1]) {
    // Last dim reduced: each output adds rows of length `run` (the last reduced dim) in row-major order.
    const int64_t run = red.back().size;
    const std::vector<Dim> outer(red.begin(), red.end() - 1);
    const int64_t rows = n_red / run;
    parallel_for(0, n_out, std::max<int64_t>(1, kGrain / n_red), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* base = x + offset_of(o, kept);
        double acc = 0;
        for (int64_t r = 0; r < rows; ++r) acc += sum_run(base + offset_of(r, outer), run);
        out[o] = static_cast<T>(acc);
      }
    });
    return;
  }
  // Last dim kept: tasks own runs of up to kColumns consecutive outputs along it.
  const int64_t last = kept.back().size;
  const std::vector<Dim> kept_outer(kept.begin(), kept.end() - 1);
  const int64_t chunks_per_row = (last + kColumns - 1) / kColumns;
  const int64_t tasks = (n_out / last) * chunks_per_row;
  const int64_t cost = std::min(last, kColumns) * n_red;
  // Few long columns (e.g. [1e6, 3] over dim 0): the reduced rows are also cut into `slices` fixed by the
  // shape alone; each (task, slice) writes its partial sums, which are then added slice by slice.
  const int64_t slices = tasks >= kMinTasks ? 1 : std::min<int64_t>(kMaxSlices, n_red / kMinSliceRows);
  if (slices <= 1) {
    parallel_for(0, tasks, std::max<int64_t>(1, kGrain / cost), [&](int64_t b, int64_t e) {
      double acc[kColumns];
      for (int64_t t = b; t < e; ++t) {
        const int64_t row = t / chunks_per_row;
        const int64_t c0 = (t % chunks_per_row) * kColumns;
        const int64_t len = std::min(kColumns, last - c0);
        const T* base = x + offset_of(row, kept_outer) + c0;
        std::fill(acc, acc + len, 0.0);
        for (int64_t r = 0; r < n_red; ++r) {
          const T* p = base + offset_of(r, red);
          for (int64_t i = 0; i < len; ++i) acc[i] += static_cast<double>(p[i]);
        }
        T* o = out + row * last + c0;
        for (int64_t i = 0; i < len; ++i) o[i] = static_cast<T>(acc[i]);
      }
    });
    return;
  }
  const int64_t slice_rows = (n_red + slices - 1) / slices;
  std::vector<double> partial(static_cast<size_t>(slices * n_out), 0.0);
  parallel_for(0, tasks * slices, 1, [&](int64_t b, int64_t e) {
    for (int64_t ts = b; ts < e; ++ts) {
      const int64_t t = ts / slices, s = ts % slices;
      const int64_t row = t / chunks_per_row;
      const int64_t c0 = (t % chunks_per_row) * kColumns;
      const int64_t len = std::min(kColumns, last - c0);
      const T* base = x + offset_of(row, kept_outer) + c0;
      double* acc = partial.data() + s * n_out + row * last + c0;
      for (int64_t r = s * slice_rows; r < std::min(n_red, (s + 1) * slice_rows); ++r) {
        const T* p = base + offset_of(r, red);
        for (int64_t i = 0; i < len; ++i) acc[i] += static_cast<double>(p[i]);
      }
    }
  });
  for (int64_t o = 0; o < n_out; ++o) {
    double acc = 0;
    for (int64_t s = 0; s < slices; ++s) acc += partial[s * n_out + o];
    out[o] = static_cast<T>(acc);
  }
}

}  // namespace

void sum(DType dtype, const void* x, int ndim, const int64_t* shape, const bool* reduced, void* out) {
  DCN_DISPATCH_FLOATING_TYPES(dtype, "sum", [&] {
    sum_impl(static_cast<const scalar_t*>(x), ndim, shape, reduced, static_cast<scalar_t*>(out));
  });
}

}  // namespace dcn::cpu
