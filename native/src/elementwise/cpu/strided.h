// SPDX-License-Identifier: MIT
// Row walks over strided tensors for the CPU tensor kernels (elementwise.cc, movement.cc): a shape is
// split into rows along its last dimension, and a range of rows is visited with an odometer over the
// outer dimensions, starting anywhere (so each task of the thread pool starts at its own row).
#pragma once
#include <cstdint>
#include <vector>

namespace dcn::cpu::detail {

// Visits rows [r0, r1) of `shape` (ndim >= 1): fn(row, offsets) with offsets[k] the element offset of
// the row's first element in operand k (base[k] + sum_d i_d * strides[k][d] over the outer dims).
template <int N, typename F>
void for_rows(int ndim, const int64_t* shape, const int64_t* const (&strides)[N], const int64_t (&base)[N], int64_t r0,
              int64_t r1, F&& fn) {
  const int outer = ndim - 1;
  std::vector<int64_t> idx(outer > 0 ? outer : 1, 0);
  int64_t off[N];
  for (int k = 0; k < N; ++k) off[k] = base[k];
  // Coordinates of row r0 (row-major over the outer dims).
  int64_t r = r0;
  for (int d = outer - 1; d >= 0; --d) {
    idx[d] = r % shape[d];
    r /= shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * strides[k][d];
  }
  for (int64_t row = r0; row < r1; ++row) {
    fn(row, static_cast<const int64_t*>(off));
    for (int d = outer - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        for (int k = 0; k < N; ++k) off[k] += strides[k][d];
        break;
      }
      idx[d] = 0;
      for (int k = 0; k < N; ++k) off[k] -= strides[k][d] * (shape[d] - 1);
    }
  }
}

}  // namespace dcn::cpu::detail
