// SPDX-License-Identifier: MIT
// CUDA index-map gathers (pad in every mode) and their scatter-add adjoint. The maps are per-dimension
// (out[o] = x[map_0[o_0], ..., map_n[o_n]]), so the adjoint is computed atomic-free: the host inverts
// each map into a CSR list (x index -> the output indices that read it) and every x element sums its
// sources in a fixed order. Deterministic in every mode. Maps and their inverses hold int32 indices, or
// int64 ones where a dimension of the call is longer than INT32_MAX (IndexMaps, elementwise_ops.h).
#include <variant>
#include <vector>

#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "cuda_runtime/scalar.cuh"
#include "cuda_runtime/stream.h"
#include "elementwise/cuda_ops.h"

namespace dcn::cuda {
namespace {

struct MapSet {
  int ndim;
  int64_t out_sizes[kMaxStridedDims];   // gather: output shape; scatter: x shape
  int64_t in_strides[kMaxStridedDims];  // gather: x strides; scatter: g strides
  int64_t map_start[kMaxStridedDims];   // gather: start of map d; scatter: start of the CSR offsets of d
  int64_t list_start[kMaxStridedDims];  // scatter: start of the CSR list of d
};

template <typename T, typename I>
__global__ void gather_kernel(const T* __restrict__ x, const I* __restrict__ maps, T* __restrict__ out, int64_t n,
                              MapSet m, acc_type<T> value) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t lin = i, off = 0;
    bool inside = true;
    for (int d = m.ndim - 1; d >= 0; --d) {
      const int64_t c = lin % m.out_sizes[d];
      lin /= m.out_sizes[d];
      const I src = maps[m.map_start[d] + c];
      inside = inside && src >= 0;
      off += static_cast<int64_t>(src) * m.in_strides[d];
    }
    out[i] = inside ? x[off] : convert<T>(value);
  }
}

// One thread per x element: sums g over the product of the per-dimension source lists.
template <typename T, typename I>
__global__ void scatter_add_kernel(const T* __restrict__ g, const I* __restrict__ csr, T* __restrict__ out, int64_t n,
                                   MapSet m) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    I begin[kMaxStridedDims], end[kMaxStridedDims], cur[kMaxStridedDims];
    int64_t lin = i;
    bool empty = false;
    for (int d = m.ndim - 1; d >= 0; --d) {
      const int64_t c = lin % m.out_sizes[d];
      lin /= m.out_sizes[d];
      begin[d] = csr[m.map_start[d] + c];
      end[d] = csr[m.map_start[d] + c + 1];
      cur[d] = begin[d];
      empty = empty || begin[d] == end[d];
    }
    acc_type<T> acc = 0;
    if (!empty) {
      while (true) {
        int64_t off = 0;
        for (int d = 0; d < m.ndim; ++d) off += static_cast<int64_t>(csr[m.list_start[d] + cur[d]]) * m.in_strides[d];
        acc += load_acc(g + off);
        int d = m.ndim - 1;
        for (; d >= 0; --d) {
          if (++cur[d] < end[d]) break;
          cur[d] = begin[d];
        }
        if (d < 0) break;
      }
    }
    out[i] = convert<T>(acc);
  }
}

std::vector<int64_t> contiguous_strides(int ndim, const int64_t* shape) {
  std::vector<int64_t> s(ndim);
  int64_t st = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    s[d] = st;
    st *= shape[d];
  }
  return s;
}

int64_t numel_of(int ndim, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

template <typename I>
void gather_maps(int device, DType dtype, const void* x, int ndim, const int64_t* x_shape, const IndexMapsOf<I>& maps,
                 const int64_t* out_shape, double value, void* out, int64_t n) {
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  MapSet m{};
  m.ndim = ndim;
  const auto xs = contiguous_strides(ndim, x_shape);
  std::vector<I> all;
  for (int d = 0; d < ndim; ++d) {
    DCN_CHECK(static_cast<int64_t>(maps[d].size()) == out_shape[d], kValue, "gather: internal error: map ", d, " has ",
              maps[d].size(), " entries for size ", out_shape[d], ", please report");
    for (I v : maps[d]) {
      DCN_CHECK(v >= -1 && v < x_shape[d], kRange, "gather: internal error: map ", d, " entry ", v, " outside [-1, ",
                x_shape[d], "), please report");
    }
    m.out_sizes[d] = out_shape[d];
    m.in_strides[d] = xs[d];
    m.map_start[d] = static_cast<int64_t>(all.size());
    all.insert(all.end(), maps[d].begin(), maps[d].end());
  }
  Workspace dmaps(device, std::max<size_t>(1, all.size()) * sizeof(I));
  if (!all.empty()) {
    DCN_CUDA_CHECK(cudaMemcpyAsync(dmaps.get(), all.data(), all.size() * sizeof(I), cudaMemcpyHostToDevice, s));
  }
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "gather", [&] {
    const unsigned grid = grid_for(n, device);
    gather_kernel<scalar_t, I><<<grid, kThreads, 0, s>>>(static_cast<const scalar_t*>(x), dmaps.as<I>(),
                                                         static_cast<scalar_t*>(out), n, m,
                                                         static_cast<acc_type<scalar_t>>(value));
    DCN_CUDA_LAUNCH_CHECK("gather_kernel", grid, kThreads);
  });
  // The pageable host->device copy above completed before cudaMemcpyAsync returned, so `all` may go.
}

template <typename I>
void scatter_add_maps(int device, DType dtype, const void* g, int ndim, const int64_t* g_shape,
                      const IndexMapsOf<I>& maps, const int64_t* x_shape, void* out, int64_t n) {
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  MapSet m{};
  m.ndim = ndim;
  const auto gs = contiguous_strides(ndim, g_shape);
  // Per dim d: CSR offsets (x_shape[d] + 1 entries) then, separately, the lists.
  std::vector<I> csr;
  std::vector<I> lists;
  std::vector<int64_t> list_base(ndim);
  for (int d = 0; d < ndim; ++d) {
    DCN_CHECK(static_cast<int64_t>(maps[d].size()) == g_shape[d], kValue, "scatterAdd: internal error: map ", d,
              " has ", maps[d].size(), " entries for size ", g_shape[d], ", please report");
    const int64_t xs = x_shape[d];
    std::vector<I> count(xs + 1, 0);
    for (I v : maps[d]) {
      DCN_CHECK(v >= -1 && v < xs, kRange, "scatterAdd: internal error: map ", d, " entry ", v, " outside [-1, ", xs,
                "), please report");
      if (v >= 0) count[v + 1]++;
    }
    for (int64_t i = 0; i < xs; ++i) count[i + 1] += count[i];
    m.out_sizes[d] = xs;
    m.in_strides[d] = gs[d];
    m.map_start[d] = static_cast<int64_t>(csr.size());
    csr.insert(csr.end(), count.begin(), count.end());
    list_base[d] = static_cast<int64_t>(lists.size());
    std::vector<I> list(count[xs]);
    std::vector<I> fill_pos(count.begin(), count.end() - 1);
    for (int64_t o = 0; o < g_shape[d]; ++o) {  // increasing o: a fixed order per x index
      const I v = maps[d][o];
      if (v >= 0) list[fill_pos[v]++] = static_cast<I>(o);
    }
    lists.insert(lists.end(), list.begin(), list.end());
  }
  for (int d = 0; d < ndim; ++d) m.list_start[d] = static_cast<int64_t>(csr.size()) + list_base[d];
  csr.insert(csr.end(), lists.begin(), lists.end());
  Workspace dcsr(device, std::max<size_t>(1, csr.size()) * sizeof(I));
  if (!csr.empty()) {
    DCN_CUDA_CHECK(cudaMemcpyAsync(dcsr.get(), csr.data(), csr.size() * sizeof(I), cudaMemcpyHostToDevice, s));
  }
  DCN_CUDA_DISPATCH_ALL_TYPES(dtype, "scatterAdd", [&] {
    const unsigned grid = grid_for(n, device);
    scatter_add_kernel<scalar_t, I>
        <<<grid, kThreads, 0, s>>>(static_cast<const scalar_t*>(g), dcsr.as<I>(), static_cast<scalar_t*>(out), n, m);
    DCN_CUDA_LAUNCH_CHECK("scatter_add_kernel", grid, kThreads);
  });
}

}  // namespace

void gather(int device, DType dtype, const void* x, int ndim, const int64_t* x_shape, const IndexMaps& maps,
            const int64_t* out_shape, double value, void* out) {
  DCN_CHECK(ndim >= 0 && ndim <= kMaxStridedDims, kRange, "gather: expected at most ", kMaxStridedDims,
            " dimensions, but got ", ndim);
  const int64_t n = numel_of(ndim, out_shape);
  if (n == 0) return;
  if (const auto* m32 = std::get_if<IndexMapsOf<int32_t>>(&maps)) {
    gather_maps(device, dtype, x, ndim, x_shape, *m32, out_shape, value, out, n);
  } else {
    gather_maps(device, dtype, x, ndim, x_shape, std::get<IndexMapsOf<int64_t>>(maps), out_shape, value, out, n);
  }
}

void scatter_add(int device, DType dtype, const void* g, int ndim, const int64_t* g_shape, const IndexMaps& maps,
                 const int64_t* x_shape, void* out) {
  DCN_CHECK(ndim >= 0 && ndim <= kMaxStridedDims, kRange, "scatterAdd: expected at most ", kMaxStridedDims,
            " dimensions, but got ", ndim);
  const int64_t n = numel_of(ndim, x_shape);
  if (n == 0) return;
  if (const auto* m32 = std::get_if<IndexMapsOf<int32_t>>(&maps)) {
    scatter_add_maps(device, dtype, g, ndim, g_shape, *m32, x_shape, out, n);
  } else {
    scatter_add_maps(device, dtype, g, ndim, g_shape, std::get<IndexMapsOf<int64_t>>(maps), x_shape, out, n);
  }
}

}  // namespace dcn::cuda
