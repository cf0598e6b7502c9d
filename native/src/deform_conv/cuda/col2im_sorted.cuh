// SPDX-License-Identifier: MIT
// Deterministic col2im (see NOTE [ Determinism ] in cuda_runtime/settings.h): every contribution
// weight * value of a chunk is written to its own slot, in source order, with the index of the X element
// it adds to as key; a stable radix sort by key groups the contributions of each X element in source
// order, and the first slot of each group sums the group in that order and adds the sum to X. No
// floating-point atomics, so results are bitwise reproducible. Costs about kCount * 24 bytes of
// workspace per column element (the driver sizes chunks for it).
#pragma once
#include <cstdint>

#include "cuda_runtime/allocator.h"
#include "cuda_runtime/check.h"
#include "cuda_runtime/launch.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include <cub/device/device_radix_sort.cuh>

namespace dcn::cuda {

// Slot ((bl * cx + c) * K + kpt) * qlen + ql) * kCount + corner: key (bl * cx + c) * nx + corner index
// (within the chunk's images), or `sentinel` for an invalid corner; value weight * mask * dcol.
template <int D, typename T, bool kDeformable>
__global__ void col2im_entries_kernel(const ChunkArgs<D> a, const acc_type<T>* __restrict__ dcol,
                                      const T* __restrict__ offset, const T* __restrict__ mask,
                                      uint64_t* __restrict__ keys, acc_type<T>* __restrict__ vals, uint64_t sentinel) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  const int64_t n = a.nb * a.og * a.slices * a.K * a.qlen;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const ColumnIndex t(i, a);
    const int64_t b = a.b0 + t.bl, q = a.q0 + t.ql;
    int64_t pos[D];
    base_position<D>(a, q, t.kpt, pos);
    Corners<kCount, A, int64_t> corners;
    if constexpr (kDeformable) {
      A p[D];
      deformed_position<D, A, T>(a, offset, b, t.og, t.kpt, q, pos, p);
      linear_corners<D, A, int64_t>(p, a.x_size, A(1), corners);
    } else {
      grid_corner<D, A, int64_t>(pos, a.x_size, A(1), corners);
    }
    const int64_t c_begin = t.og * a.cpo + t.slice * a.cper;
    const int64_t c_end = min(t.og * a.cpo + a.cpo, c_begin + a.cper);
    const T* m_ptr = mask == nullptr ? nullptr : mask + (b * a.mg * a.K + t.kpt) * a.ny + q;
    for (int64_t c = c_begin; c < c_end; ++c) {
      const int64_t src = ((t.bl * a.cx + c) * a.K + t.kpt) * a.qlen + t.ql;
      A v = dcol[src];
      if (m_ptr != nullptr) v *= convert<A>(m_ptr[(c / a.cpm) * a.K * a.ny]);
      const uint64_t plane = static_cast<uint64_t>((t.bl * a.cx + c) * a.nx);
#pragma unroll
      for (int k = 0; k < kCount; ++k) {
        const bool ok = (corners.valid >> k) & 1u;
        keys[src * kCount + k] = ok ? plane + static_cast<uint64_t>(corners.index[k]) : sentinel;
        vals[src * kCount + k] = ok ? corners.weight[k] * v : A(0);
      }
    }
  }
}

// The first slot of each key group adds the group's sum (in slot order) to gx[key].
template <typename A>
__global__ void segment_sum_kernel(const uint64_t* __restrict__ keys, const A* __restrict__ vals, int64_t n,
                                   uint64_t sentinel, A* __restrict__ gx) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n; j += stride) {
    const uint64_t key = keys[j];
    if (key == sentinel || (j > 0 && keys[j - 1] == key)) continue;
    A s = 0;
    for (int64_t k = j; k < n && keys[k] == key; ++k) s += vals[k];
    gx[key] += s;
  }
}

// Workspace bytes per column element of the sorted col2im (keys and values, double-buffered).
template <typename A>
constexpr int64_t sorted_col2im_bytes(int corners) {
  return static_cast<int64_t>(corners) * 2 * (sizeof(uint64_t) + sizeof(A));
}

// gx[b0 .. b0+nb) += col2im(dcol) of one chunk, deterministically. gx is the full [B, cx, nx] target.
template <int D, typename T, bool kDeformable>
void col2im_sorted(int device, cudaStream_t s, const ChunkArgs<D>& a, const acc_type<T>* dcol, const T* offset,
                   const T* mask, acc_type<T>* gx) {
  using A = acc_type<T>;
  constexpr int kCount = kDeformable ? (1 << D) : 1;
  const int64_t cols = a.nb * a.cx * a.K * a.qlen;
  const int64_t n = cols * kCount;
  if (n == 0) return;
  DCN_CHECK(n < (int64_t{1} << 31), kInternal, "col2im (deterministic): internal error: ", n,
            " entries in one chunk, please report");
  const uint64_t sentinel = static_cast<uint64_t>(a.nb * a.cx * a.nx);
  int end_bit = 1;
  while (end_bit < 64 && (uint64_t{1} << end_bit) <= sentinel) ++end_bit;
  Workspace keys_in(device, n * sizeof(uint64_t)), keys_out(device, n * sizeof(uint64_t));
  Workspace vals_in(device, n * sizeof(A)), vals_out(device, n * sizeof(A));
  const int64_t threads = a.nb * a.og * a.slices * a.K * a.qlen;
  const unsigned grid = grid_for(threads, device);
  col2im_entries_kernel<D, T, kDeformable>
      <<<grid, kThreads, 0, s>>>(a, dcol, offset, mask, keys_in.as<uint64_t>(), vals_in.as<A>(), sentinel);
  DCN_CUDA_LAUNCH_CHECK("col2im_entries_kernel", grid, kThreads);
  std::size_t temp_bytes = 0;
  DCN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in.as<uint64_t>(), keys_out.as<uint64_t>(),
                                                 vals_in.as<A>(), vals_out.as<A>(), static_cast<int>(n), 0, end_bit,
                                                 s));
  Workspace temp(device, temp_bytes);
  DCN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys_in.as<uint64_t>(),
                                                 keys_out.as<uint64_t>(), vals_in.as<A>(), vals_out.as<A>(),
                                                 static_cast<int>(n), 0, end_bit, s));
  const unsigned grid2 = grid_for(n, device);
  segment_sum_kernel<A>
      <<<grid2, kThreads, 0, s>>>(keys_out.as<uint64_t>(), vals_out.as<A>(), n, sentinel, gx + a.b0 * a.cx * a.nx);
  DCN_CUDA_LAUNCH_CHECK("segment_sum_kernel", grid2, kThreads);
}

}  // namespace dcn::cuda
