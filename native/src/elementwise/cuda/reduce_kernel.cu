// SPDX-License-Identifier: MIT
// CUDA sum over any set of dimensions, deterministic: after merging neighbouring dimensions the input
// is a set of kept dims and reduced dims; every output is summed by one block (when the innermost dim is
// reduced: threads stride along it, coalesced) or one thread (when it is kept: neighbouring threads
// read neighbouring outputs), in a fixed order. Large reductions are split over `splits` partial sums
// that a second pass adds in split order, so results never depend on scheduling.
#include <algorithm>
#include <vector>

#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "elementwise/cuda/sum_partials.cuh"
#include "elementwise/cuda_ops.h"

namespace dcn::cuda {
namespace {

// Dims of one kind (kept or reduced) with their input strides.
struct DimSet {
  int n;
  int64_t sizes[kMaxStridedDims];
  int64_t strides[kMaxStridedDims];

  // Input offset of the multi-index `linear` unravels to (row-major over sizes).
  __device__ __forceinline__ int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (int d = n - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      off += i * strides[d];
    }
    return off;
  }
};

template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the threads of a block (blockDim.x a multiple of 32, at most 1024); valid in thread 0.
template <typename A>
__device__ __forceinline__ A block_sum(A v) {
  __shared__ A partial[32];
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x >> 5;
  v = (threadIdx.x < warps) ? partial[threadIdx.x] : A(0);
  if (warp == 0) v = warp_sum(v);
  __syncthreads();
  return v;
}

// Innermost dim reduced. Block (o, split): reduced flat indices [split * chunk, ...) of output o. The
// reduced set is (outer reduced dims) x inner, the inner dim of length `inner` and stride 1.
template <typename T>
__global__ void sum_rows_kernel(const T* __restrict__ x, acc_type<T>* __restrict__ partial, T* __restrict__ out,
                                DimSet kept, DimSet outer, int64_t inner, int64_t n_out, int64_t reduced, int64_t chunk,
                                int splits) {
  using A = acc_type<T>;
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const int64_t base = kept.offset(o);
    const int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
    const int64_t r1 = min(reduced, r0 + chunk);
    A acc = 0;
    int64_t r = r0 + threadIdx.x;
    if (r < r1) {
      int64_t row = r / inner, col = r % inner;
      int64_t row_off = outer.offset(row);
      for (; r < r1; r += blockDim.x) {
        acc += load_acc(x + base + row_off + col);
        col += blockDim.x;
        if (col >= inner) {
          row += col / inner;
          col %= inner;
          row_off = outer.offset(row);
        }
      }
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) {
      if (splits == 1)
        out[o] = convert<T>(acc);
      else
        partial[static_cast<int64_t>(blockIdx.y) * n_out + o] = acc;
    }
  }
}

// Innermost dim kept. Thread (o, split) sums the reduced flat indices [split * chunk, ...) of output o,
// walking the reduced dims with an odometer (no division per element).
template <typename T>
__global__ void sum_cols_kernel(const T* __restrict__ x, acc_type<T>* __restrict__ partial, T* __restrict__ out,
                                DimSet kept, DimSet red, int64_t n_out, int64_t reduced, int64_t chunk, int splits) {
  using A = acc_type<T>;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < n_out; o += stride) {
    const int64_t base = kept.offset(o);
    const int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
    const int64_t r1 = min(reduced, r0 + chunk);
    A acc = 0;
    if (r0 < r1) {
      int64_t idx[kMaxStridedDims];
      int64_t lin = r0, off = 0;
      for (int d = red.n - 1; d >= 0; --d) {
        idx[d] = lin % red.sizes[d];
        lin /= red.sizes[d];
        off += idx[d] * red.strides[d];
      }
      for (int64_t r = r0; r < r1; ++r) {
        acc += load_acc(x + base + off);
        for (int d = red.n - 1; d >= 0; --d) {
          off += red.strides[d];
          if (++idx[d] < red.sizes[d]) break;
          off -= red.strides[d] * red.sizes[d];
          idx[d] = 0;
        }
      }
    }
    if (splits == 1)
      out[o] = convert<T>(acc);
    else
      partial[static_cast<int64_t>(blockIdx.y) * n_out + o] = acc;
  }
}

}  // namespace

void sum(int device, DType dtype, const void* x, int ndim, const int64_t* shape, const bool* reduced_dims, void* out) {
  DCN_CHECK(ndim >= 0 && ndim <= kMaxStridedDims, kRange, "sum: expected at most ", kMaxStridedDims,
            " dimensions, but got ", ndim);
  // Merge neighbouring dims of the same kind, dropping size-1 dims.
  std::vector<int64_t> sizes;
  std::vector<bool> red;
  int64_t n_in = 1, n_out = 1;
  for (int d = 0; d < ndim; ++d) {
    n_in *= shape[d];
    if (!reduced_dims[d]) n_out *= shape[d];
    if (shape[d] == 1) continue;
    if (!sizes.empty() && red.back() == reduced_dims[d])
      sizes.back() *= shape[d];
    else {
      sizes.push_back(shape[d]);
      red.push_back(reduced_dims[d]);
    }
  }
  if (n_out == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  if (n_in == 0) {
    fill(device, dtype, out, n_out, 0.0);
    return;
  }
  const int nd = static_cast<int>(sizes.size());
  std::vector<int64_t> strides(nd);
  for (int d = nd - 1, st = 1; d >= 0; --d) {
    strides[d] = st;
    st *= sizes[d];
  }
  DimSet kept{}, rset{};
  for (int d = 0; d < nd; ++d) {
    DimSet& t = red[d] ? rset : kept;
    t.sizes[t.n] = sizes[d];
    t.strides[t.n] = strides[d];
    t.n++;
  }
  const int64_t reduced = n_in / n_out;
  const int sms = multiprocessor_count(device);
  const bool rows = nd > 0 && red[nd - 1];
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "sum", [&] {
    using A = acc_type<scalar_t>;
    auto* o = static_cast<scalar_t*>(out);
    const auto* xi = static_cast<const scalar_t*>(x);
    int splits = 1;
    if (rows) {
      // Enough blocks to fill the device, each summing at least 8K elements.
      const int64_t want = (static_cast<int64_t>(sms) * 8 + n_out - 1) / n_out;
      splits = static_cast<int>(std::clamp<int64_t>(want, 1, std::max<int64_t>(1, reduced / 8192)));
      splits = std::min(splits, 65535);
    } else {
      const int64_t want = (static_cast<int64_t>(sms) * 2048 + n_out - 1) / n_out;
      splits = static_cast<int>(std::clamp<int64_t>(want, 1, std::max<int64_t>(1, reduced / 256)));
      splits = std::min(splits, 65535);
    }
    const int64_t chunk = (reduced + splits - 1) / splits;
    Workspace ws;
    A* partial = nullptr;
    if (splits > 1) {
      ws = Workspace(device, sizeof(A) * static_cast<size_t>(splits) * n_out);
      partial = ws.as<A>();
    }
    if (rows) {
      DimSet outer = rset;
      const int64_t inner = outer.sizes[outer.n - 1];
      outer.n--;
      const dim3 grid(static_cast<unsigned>(std::min<int64_t>(n_out, 65535 * 16)), splits);
      sum_rows_kernel<scalar_t>
          <<<grid, kThreads, 0, s>>>(xi, partial, o, kept, outer, inner, n_out, reduced, chunk, splits);
      DCN_CUDA_LAUNCH_CHECK("sum_rows_kernel", grid, kThreads);
    } else {
      const int64_t blocks = std::min<int64_t>((n_out + kThreads - 1) / kThreads, 65535 * 16);
      const dim3 grid(static_cast<unsigned>(blocks), splits);
      sum_cols_kernel<scalar_t><<<grid, kThreads, 0, s>>>(xi, partial, o, kept, rset, n_out, reduced, chunk, splits);
      DCN_CUDA_LAUNCH_CHECK("sum_cols_kernel", grid, kThreads);
    }
    if (splits > 1) {
      const unsigned grid = grid_for(n_out, device);
      sum_partials_kernel<scalar_t><<<grid, kThreads, 0, s>>>(partial, o, n_out, splits);
      DCN_CUDA_LAUNCH_CHECK("sum_partials_kernel", grid, kThreads);
    }
  });
}

}  // namespace dcn::cuda
