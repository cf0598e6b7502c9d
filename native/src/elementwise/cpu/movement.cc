// SPDX-License-Identifier: MIT
// CPU data movement (cpu_ops.h): strided copies (permute, narrow, cat, broadcast), index-map gathers
// (pad in every mode) and their scatter-add adjoint. Rows along the last dimension are the unit of
// work; each task writes its own rows only, so results never depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/parallel.h"
#include "elementwise/cpu/strided.h"
#include "elementwise/cpu_ops.h"

namespace dcn::cpu {
namespace {

constexpr int64_t kGrain = int64_t{1} << 15;  // elements per task, roughly

// Lowest and highest element offset a strided walk reaches (shape has no zero size).
void reach(int ndim, const int64_t* shape, const int64_t* strides, int64_t offset, int64_t* lo, int64_t* hi) {
  *lo = *hi = offset;
  for (int d = 0; d < ndim; ++d) (strides[d] < 0 ? *lo : *hi) += (shape[d] - 1) * strides[d];
}

template <typename T>
void copy_impl(const T* src, int64_t so, const int64_t* ss, T* dst, int64_t dof, const int64_t* ds, int ndim,
               const int64_t* shape) {
  int64_t n = 1;
  bool dst_repeats = false;  // a stride-0 dst dim: several elements land on one place (last one wins)
  for (int d = 0; d < ndim; ++d) {
    n *= shape[d];
    if (ds[d] == 0 && shape[d] > 1) dst_repeats = true;
  }
  if (n <= 0) return;
  if (ndim == 0) {
    dst[dof] = src[so];
    return;
  }
  // Overlapping ranges: read the source range into a temporary first (as a serial loop would not).
  int64_t slo, shi, dlo, dhi;
  reach(ndim, shape, ss, so, &slo, &shi);
  reach(ndim, shape, ds, dof, &dlo, &dhi);
  std::vector<T> tmp;
  const auto addr = [](const T* p) { return reinterpret_cast<uintptr_t>(p); };
  if (addr(src + slo) <= addr(dst + dhi) && addr(dst + dlo) <= addr(src + shi)) {
    tmp.assign(src + slo, src + shi + 1);
    src = tmp.data() - slo;
  }
  const int64_t inner = shape[ndim - 1];
  const int64_t si = ss[ndim - 1];
  const int64_t di = ds[ndim - 1];
  const int64_t rows = n / inner;
  const int64_t* const strides[2] = {ss, ds};
  const int64_t base[2] = {so, dof};
  const int64_t grain = dst_repeats ? rows : std::max<int64_t>(1, kGrain / inner);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    detail::for_rows<2>(ndim, shape, strides, base, r0, r1, [&](int64_t, const int64_t* off) {
      const T* s = src + off[0];
      T* d = dst + off[1];
      if (si == 1 && di == 1) {
        std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(T));
      } else if (si == 0) {
        const T v = s[0];
        for (int64_t i = 0; i < inner; ++i) d[i * di] = v;
      } else {
        for (int64_t i = 0; i < inner; ++i) d[i * di] = s[i * si];
      }
    });
  });
}

std::vector<int64_t> contiguous_strides(int ndim, const int64_t* shape) {
  std::vector<int64_t> s(ndim > 0 ? ndim : 1, 1);
  for (int d = ndim - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

template <typename T, typename I>
void gather_impl(const T* x, int ndim, const int64_t* x_shape, const IndexMapsOf<I>& maps, const int64_t* out_shape,
                 double value, T* out) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= out_shape[d];
  if (n <= 0) return;
  if (ndim == 0) {
    out[0] = x[0];
    return;
  }
  const T fill = static_cast<T>(value);
  const std::vector<int64_t> xs = contiguous_strides(ndim, x_shape);
  const int64_t inner = out_shape[ndim - 1];
  const I* last = maps[ndim - 1].data();
  parallel_for(0, n / inner, std::max<int64_t>(1, kGrain / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      // Input offset of the row's outer coordinates, or -1 when one maps outside.
      int64_t base = 0, rest = r;
      for (int d = ndim - 2; d >= 0 && base >= 0; --d) {
        const I m = maps[d][rest % out_shape[d]];
        rest /= out_shape[d];
        base = m < 0 ? -1 : base + m * xs[d];
      }
      T* o = out + r * inner;
      if (base < 0) {
        std::fill(o, o + inner, fill);
        continue;
      }
      const T* xr = x + base;
      for (int64_t i = 0; i < inner; ++i) {
        const I m = last[i];
        o[i] = m < 0 ? fill : xr[m];
      }
    }
  });
}

template <typename T, typename I>
void scatter_add_impl(const T* g, int ndim, const int64_t* g_shape, const IndexMapsOf<I>& maps, const int64_t* x_shape,
                      T* out) {
  int64_t nx = 1, ng = 1;
  for (int d = 0; d < ndim; ++d) {
    nx *= x_shape[d];
    ng *= g_shape[d];
  }
  if (nx <= 0) return;
  if (ndim == 0) {
    out[0] = ng > 0 ? g[0] : T(0);
    return;
  }
  // Inverted maps of the outer dims (CSR): the g indices o_d with maps[d][o_d] == j, ascending.
  const int outer = ndim - 1;
  std::vector<std::vector<int64_t>> starts(outer), lists(outer);
  for (int d = 0; d < outer; ++d) {
    starts[d].assign(x_shape[d] + 1, 0);
    for (int64_t o = 0; o < g_shape[d]; ++o) {
      const I m = maps[d][o];
      if (m >= 0) ++starts[d][m + 1];
    }
    for (int64_t j = 0; j < x_shape[d]; ++j) starts[d][j + 1] += starts[d][j];
    lists[d].resize(starts[d][x_shape[d]]);
    std::vector<int64_t> fill(starts[d].begin(), starts[d].end() - 1);
    for (int64_t o = 0; o < g_shape[d]; ++o) {
      const I m = maps[d][o];
      if (m >= 0) lists[d][fill[m]++] = o;
    }
  }
  const std::vector<int64_t> gs = contiguous_strides(ndim, g_shape);
  const int64_t x_inner = x_shape[ndim - 1];
  const int64_t g_inner = g_shape[ndim - 1];
  const I* last = maps[ndim - 1].data();
  const int64_t rows = nx / x_inner;
  const int64_t per_row = std::max<int64_t>(1, (ng + nx) / std::max<int64_t>(rows, 1));
  parallel_for(0, rows, std::max<int64_t>(1, kGrain / per_row), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> jx(outer > 0 ? outer : 1), k(outer > 0 ? outer : 1);
    for (int64_t r = r0; r < r1; ++r) {
      T* xr = out + r * x_inner;
      std::fill(xr, xr + x_inner, T(0));
      if (ng == 0) continue;
      // Outer x coordinates of row r; an empty source list means no contributions.
      int64_t rest = r;
      bool empty = false;
      for (int d = outer - 1; d >= 0; --d) {
        jx[d] = rest % x_shape[d];
        rest /= x_shape[d];
        k[d] = starts[d][jx[d]];
        if (k[d] == starts[d][jx[d] + 1]) empty = true;
      }
      if (empty) continue;
      // The g rows mapping to this x row, in increasing order (an odometer over the source lists), each
      // added in increasing column order: the order of a serial loop over g.
      while (true) {
        int64_t goff = 0;
        for (int d = 0; d < outer; ++d) goff += lists[d][k[d]] * gs[d];
        const T* gr = g + goff;
        for (int64_t i = 0; i < g_inner; ++i) {
          const I m = last[i];
          if (m >= 0) xr[m] += gr[i];
        }
        int d = outer - 1;
        for (; d >= 0; --d) {
          if (++k[d] < starts[d][jx[d] + 1]) break;
          k[d] = starts[d][jx[d]];
        }
        if (d < 0) break;
      }
    }
  });
}

}  // namespace

void copy_strided(DType dtype, const void* src, int64_t src_offset, const int64_t* src_strides, void* dst,
                  int64_t dst_offset, const int64_t* dst_strides, int ndim, const int64_t* shape) {
  DCN_DISPATCH_FLOATING_TYPES(dtype, "copyStrided", [&] {
    copy_impl(static_cast<const scalar_t*>(src), src_offset, src_strides, static_cast<scalar_t*>(dst), dst_offset,
              dst_strides, ndim, shape);
  });
}

void gather(DType dtype, const void* x, int ndim, const int64_t* x_shape, const IndexMaps& maps,
            const int64_t* out_shape, double value, void* out) {
  DCN_DISPATCH_FLOATING_TYPES(dtype, "gather", [&] {
    std::visit(
        [&](const auto& m) {
          gather_impl(static_cast<const scalar_t*>(x), ndim, x_shape, m, out_shape, value, static_cast<scalar_t*>(out));
        },
        maps);
  });
}

void scatter_add(DType dtype, const void* g, int ndim, const int64_t* g_shape, const IndexMaps& maps,
                 const int64_t* x_shape, void* out) {
  DCN_DISPATCH_FLOATING_TYPES(dtype, "scatterAdd", [&] {
    std::visit(
        [&](const auto& m) {
          scatter_add_impl(static_cast<const scalar_t*>(g), ndim, g_shape, m, x_shape, static_cast<scalar_t*>(out));
        },
        maps);
  });
}

}  // namespace dcn::cpu
