// SPDX-License-Identifier: MIT
// CPU kernels of kernels.h. The corners of a sample (sampling.h) depend on (column, kernel point, offset
// group, mask group) but not on the channel, so each loop builds them once per run of channels sharing
// both groups (a "segment") and reuses them for every channel in it. Two paths: the portable one keeps
// corners as Corners structs and runs the element bodies of columns.h; the vector one (AVX-512/AVX2,
// chosen with the GEMM's instruction set, planes of < 2^31 elements) lays them out as tables for the
// gather kernels of sample_rows.h. col2im is scalar on both paths.
#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "core/buffer.h"
#include "core/parallel.h"
#include "deform_conv/columns.h"
#include "deform_conv/cpu/column_pass.h"
#include "deform_conv/cpu/kernels.h"
#include "deform_conv/cpu/sample_rows.h"
#include "deform_conv/sampling.h"
#include "gemm/cpu/gemm.h"

namespace dcn::cpu {
namespace {

// Channels per inner block of the scatter and coordinate-gradient loops: their planes stay in L1 while
// one corner set serves all of them.
constexpr int64_t kChannelBlock = 8;

// Row-major coordinates of every kernel point: kpt -> (k_0, ..., k_{D-1}).
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

// Column n -> image b, flat y position q and its coordinates.
template <int D>
DCN_INLINE void decode_column(const SamplingGeometry<D>& g, int64_t sy, int64_t n, int64_t& b, int64_t& q, int64_t* y) {
  b = n / sy;
  q = n - b * sy;
  int64_t rem = q;
  for (int a = D - 1; a >= 0; --a) {
    y[a] = rem % g.y_size[a];
    rem /= g.y_size[a];
  }
}

// End of the segment that starts at channel c: the next change of offset group or mask group, or c_end
// (callers bound c_end by weight groups and channel blocks where they need to).
template <int D>
int64_t segment_end(const SamplingGeometry<D>& g, int64_t c, int64_t c_end) {
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups;
  int64_t e = std::min((c / per_og + 1) * per_og, (c / per_mg + 1) * per_mg);
  return std::min(e, c_end);
}

template <int D, bool kDeform>
struct CornerType;
template <int D>
struct CornerType<D, true> {
  static constexpr int kCount = 1 << D;
};
template <int D>
struct CornerType<D, false> {
  static constexpr int kCount = 1;
};

// Calls visit(i, b, kpt, corners) for every column i of [n0, n0 + nc) and every kernel point, with the
// corners of that sample in its image plane (tvdcn-reference §3.3: grid position plus offset; the mask of
// the sample folded into the weights) for the segment with offset group og and mask group mg.
template <int D, typename T, bool kDeform, typename Visit>
inline void for_each_sample(const SamplingGeometry<D>& g, const int64_t* kcoords, const T* offset, const T* mask,
                            int64_t og, int64_t mg, int64_t n0, int64_t nc, Visit&& visit) {
  constexpr int kCount = CornerType<D, kDeform>::kCount;
  const int64_t K = g.kernel_points, sy = g.y_spatial();
  for (int64_t i = 0; i < nc; ++i) {
    int64_t b, q, y[D];
    decode_column(g, sy, n0 + i, b, q, y);
    // offset[b, (og * K + kpt) * D + a, q] and mask[b, mg * K + kpt, q]
    const T* off_q = kDeform ? offset + ((b * g.offset_groups + og) * K * D) * sy + q : nullptr;
    const T* mask_q = mask ? mask + ((b * g.mask_groups + mg) * K) * sy + q : nullptr;
    for (int64_t kpt = 0; kpt < K; ++kpt) {
      int64_t ipos[D];
      grid_position<D, T, int64_t>(y, kcoords + kpt * D, g.stride, g.padding, g.dilation, ipos);
      const T scale = mask_q ? mask_q[kpt * sy] : T(1);
      Corners<kCount, T, int64_t> c;
      if constexpr (kDeform) {
        T pos[D];
        for (int a = 0; a < D; ++a) pos[a] = static_cast<T>(ipos[a]) + off_q[(kpt * D + a) * sy];
        linear_corners<D, T, int64_t>(pos, g.x_size, scale, c);
      } else {
        grid_corner<D, T, int64_t>(ipos, g.x_size, scale, c);
      }
      visit(i, b, kpt, c);
    }
  }
}

// Value corners of columns [n0, n0 + nc) for every kernel point, of the segment with offset group og and
// mask group mg; out[kpt * nc + i]. Indices include the image base b * cx * prod(x_size), so channel c
// reads plane x + c * prod(x_size).
template <int D, typename T, bool kDeform>
void build_corners(const SamplingGeometry<D>& g, const int64_t* kcoords, const T* offset, const T* mask, int64_t og,
                   int64_t mg, int64_t n0, int64_t nc, Corners<CornerType<D, kDeform>::kCount, T, int64_t>* out) {
  constexpr int kCount = CornerType<D, kDeform>::kCount;
  const int64_t image = g.cx * g.x_spatial();
  for_each_sample<D, T, kDeform>(g, kcoords, offset, mask, og, mg, n0, nc,
                                 [&](int64_t i, int64_t b, int64_t kpt, Corners<kCount, T, int64_t>& c) {
                                   for (int j = 0; j < kCount; ++j) c.index[j] += b * image;
                                   out[kpt * nc + i] = c;
                                 });
}

// Where im2col writes: element (row, i) at base + (i / width) * panel_stride + row * row_stride + i % width.
// Packed GEMM panels use width nr; a row-major matrix uses width nc and row_stride nc.
template <typename T>
struct ColumnLayout {
  T* base;
  int64_t width;
  int64_t panel_stride;
  int64_t row_stride;
};

// Writes rows (c - c_row0) * K + kpt of the column matrix for channels [c0, c1) of one segment.
template <int kCount, typename T>
void im2col_segment(const T* x, int64_t sx, const Corners<kCount, T, int64_t>* corners, int64_t K, int64_t nc,
                    int64_t c0, int64_t c1, int64_t c_row0, const ColumnLayout<T>& out) {
  using C = Corners<kCount, T, int64_t>;
  for (int64_t kpt = 0; kpt < K; ++kpt) {
    const C* DCN_RESTRICT cr = corners + kpt * nc;
    int64_t c = c0;
    // Four channels at a time share each loaded corner set.
    for (; c + 4 <= c1; c += 4) {
      const T* x0 = x + c * sx;
      const T* x1 = x0 + sx;
      const T* x2 = x1 + sx;
      const T* x3 = x2 + sx;
      const int64_t r = (c - c_row0) * K + kpt;
      for (int64_t p0 = 0; p0 < nc; p0 += out.width) {
        T* DCN_RESTRICT d0 = out.base + (p0 / out.width) * out.panel_stride + r * out.row_stride;
        T* DCN_RESTRICT d1 = d0 + K * out.row_stride;
        T* DCN_RESTRICT d2 = d1 + K * out.row_stride;
        T* DCN_RESTRICT d3 = d2 + K * out.row_stride;
        const int64_t len = std::min(out.width, nc - p0);
        for (int64_t l = 0; l < len; ++l) {
          const C cc = cr[p0 + l];
          d0[l] = im2col_element(x0, cc);
          d1[l] = im2col_element(x1, cc);
          d2[l] = im2col_element(x2, cc);
          d3[l] = im2col_element(x3, cc);
        }
      }
    }
    for (; c < c1; ++c) {
      const T* x0 = x + c * sx;
      const int64_t r = (c - c_row0) * K + kpt;
      for (int64_t p0 = 0; p0 < nc; p0 += out.width) {
        T* DCN_RESTRICT d0 = out.base + (p0 / out.width) * out.panel_stride + r * out.row_stride;
        const int64_t len = std::min(out.width, nc - p0);
        for (int64_t l = 0; l < len; ++l) d0[l] = im2col_element(x0, cr[p0 + l]);
      }
    }
  }
}

// Structure-of-arrays corner table of one segment for the vector path: for kernel point kpt, corner j
// and tile column i, index[(kpt * kCount + j) * ld + i] is the corner's spatial index in its image plane
// (-1 when invalid) and weight[...] its weight (mask folded in).
template <int D, typename T, bool kDeform>
void build_sample_table(const SamplingGeometry<D>& g, const int64_t* kcoords, const T* offset, const T* mask,
                        int64_t og, int64_t mg, int64_t n0, int64_t nc, int64_t ld, int32_t* index, T* weight) {
  constexpr int kCount = CornerType<D, kDeform>::kCount;
  for_each_sample<D, T, kDeform>(g, kcoords, offset, mask, og, mg, n0, nc,
                                 [&](int64_t i, int64_t, int64_t kpt, const Corners<kCount, T, int64_t>& c) {
                                   for (int j = 0; j < kCount; ++j) {
                                     const int64_t at = (kpt * kCount + j) * ld + i;
                                     index[at] = ((c.valid >> j) & 1u) ? static_cast<int32_t>(c.index[j]) : -1;
                                     weight[at] = c.weight[j];
                                   }
                                 });
}

// Vector im2col of channels [c0, c1) of one segment from its corner table: runs of columns that stay in
// one image and one output panel, four channels per call of the row kernel.
template <int kCount, typename T>
void im2col_segment_simd(SampleRowsFn<T> rows, const T* x, int64_t sx, int64_t cx, int64_t sy, const int32_t* index,
                         const T* weight, int64_t ld, int64_t K, int64_t n0, int64_t nc, int64_t c0, int64_t c1,
                         int64_t c_row0, const ColumnLayout<T>& out) {
  for (int64_t kpt = 0; kpt < K; ++kpt) {
    const int32_t* idx_k = index + kpt * kCount * ld;
    const T* w_k = weight + kpt * kCount * ld;
    for (int64_t c = c0; c < c1; c += 4) {
      const int nch = static_cast<int>(std::min<int64_t>(4, c1 - c));
      const int64_t r = (c - c_row0) * K + kpt;
      for (int64_t i = 0; i < nc;) {
        const int64_t n = n0 + i, b = n / sy, q = n - b * sy;
        const int64_t in_panel = i % out.width;
        const int64_t len = std::min({nc - i, sy - q, out.width - in_panel});
        const T* planes[4];
        T* dst[4];
        for (int ch = 0; ch < nch; ++ch) {
          planes[ch] = x + (b * cx + c + ch) * sx;
          dst[ch] = out.base + (i / out.width) * out.panel_stride + (r + ch * K) * out.row_stride + in_panel;
        }
        rows(kCount, planes, nch, idx_k + i, w_k + i, ld, len, dst);
        i += len;
      }
    }
  }
}

// Per-thread scratch of im2col_channels: the corners of the current segment, as AoS Corners (portable
// path) or as the structure-of-arrays table of the vector path, and which segment they belong to.
template <int D, typename T, bool kDeform>
struct Im2colScratch {
  using C = Corners<CornerType<D, kDeform>::kCount, T, int64_t>;
  std::vector<C> corners;
  Buffer<int32_t> index;
  Buffer<T> weight;
  int64_t og = -1, mg = -1;

  void reserve(bool simd, int64_t K, int64_t cols) {
    constexpr int kCount = CornerType<D, kDeform>::kCount;
    if (simd) {
      index = Buffer<int32_t>(static_cast<size_t>(K * kCount * cols));
      weight = Buffer<T>(static_cast<size_t>(K * kCount * cols));
    } else {
      corners.resize(static_cast<size_t>(K * cols));
    }
  }
};

// Rows of the tile's column matrix for channels [c_begin, c_end) (relative rows from c_row0), building
// corners per segment into `scratch` (reserved for K * nc columns). Single-threaded. `rows` is the vector
// row kernel, or null for the portable path.
template <int D, typename T, bool kDeform>
void im2col_channels(const SamplingGeometry<D>& g, const int64_t* kcoords, const T* x, const T* offset, const T* mask,
                     int64_t n0, int64_t nc, int64_t c_begin, int64_t c_end, int64_t c_row0, const ColumnLayout<T>& out,
                     SampleRowsFn<T> rows, Im2colScratch<D, T, kDeform>& scratch) {
  constexpr int kCount = CornerType<D, kDeform>::kCount;
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups;
  for (int64_t c = c_begin; c < c_end;) {
    const int64_t e = segment_end(g, c, c_end);
    const int64_t og = kDeform ? c / per_og : 0, mg = mask ? c / per_mg : 0;
    const bool rebuild = og != scratch.og || mg != scratch.mg;
    if (rows) {
      if (rebuild)
        build_sample_table<D, T, kDeform>(g, kcoords, offset, mask, og, mg, n0, nc, nc, scratch.index.data(),
                                          scratch.weight.data());
      im2col_segment_simd<kCount, T>(rows, x, g.x_spatial(), g.cx, g.y_spatial(), scratch.index.data(),
                                     scratch.weight.data(), nc, g.kernel_points, n0, nc, c, e, c_row0, out);
    } else {
      if (rebuild) build_corners<D, T, kDeform>(g, kcoords, offset, mask, og, mg, n0, nc, scratch.corners.data());
      im2col_segment(x, g.x_spatial(), scratch.corners.data(), g.kernel_points, nc, c, e, c_row0, out);
    }
    scratch.og = og;
    scratch.mg = mg;
    c = e;
  }
}

// The vector row kernel, when the CPU has one and every plane index fits in int32.
template <int D, typename T>
SampleRowsFn<T> vector_rows(const SamplingGeometry<D>& g) {
  return g.x_spatial() <= INT32_MAX ? sample_rows_kernel<T>() : nullptr;
}

// ---------------------------------------------------------------------------------------------------
// gather_gemm: per-thread tiles of columns; for each weight group and each block of whole channels
// (about kGemmKc rows), im2col writes the packed B panels directly and the macro-kernel multiplies them
// by the pre-packed weight; the C tile is then copied out with the bias.

template <int D, typename T, bool kDeform>
void gather_gemm_impl(const SamplingGeometry<D>& g, const T* x, const T* weight, const T* offset, const T* mask,
                      const T* bias, T* y, int64_t workspace_bytes) {
  using C = Corners<CornerType<D, kDeform>::kCount, T, int64_t>;
  const MicroKernel<T>& uk = micro_kernel<T>();
  const int64_t mr = uk.mr, nr = uk.nr;
  const int64_t K = g.kernel_points, G = g.groups;
  const int64_t cxg = g.cx_per_group(), cyg = g.cy_per_group(), rows = cxg * K;
  const int64_t sy = g.y_spatial(), total = g.y_columns();
  if (total == 0 || g.cy == 0) return;
  const std::vector<int64_t> kcoords = kernel_coords(g);

  // Weight of group gi as the A matrix (cyg x rows), packed once: panels [rows][mr].
  const int64_t m_pad = (cyg + mr - 1) / mr * mr;
  Buffer<T> apack(static_cast<size_t>(G * m_pad * rows));
  parallel_for(0, G * ((cyg + mr - 1) / mr), 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t gi = t / ((cyg + mr - 1) / mr), panel = t % ((cyg + mr - 1) / mr);
      const int64_t i0 = panel * mr;
      pack_a(std::min(mr, cyg - i0), rows, weight + (gi * cyg + i0) * rows, rows, 1, static_cast<int>(mr),
             apack.data() + gi * m_pad * rows + panel * mr * rows);
    }
  });

  // Channel blocks of about kGemmKc rows, always whole channels.
  const int64_t ch_block = std::max<int64_t>(1, std::min<int64_t>(cxg, (kGemmKc + K / 2) / K));
  const int64_t kc_max = ch_block * K;
  const int threads = get_num_threads();
  // Tile width: a multiple of nr, about 128 columns, smaller when the workspace limit or the number of
  // columns per thread asks for it.
  const int64_t per_column = static_cast<int64_t>(sizeof(T)) * (kc_max + cyg) + static_cast<int64_t>(sizeof(C)) * K;
  // About 128 KB of C tile keeps B block + C tile in L2 next to the streamed weight panels.
  int64_t nt = std::max<int64_t>(nr, std::min<int64_t>(256, (128 * 1024 / (cyg * int64_t(sizeof(T)))) / nr * nr));
  nt = std::min(nt, std::max<int64_t>(nr, ((total + threads - 1) / threads + nr - 1) / nr * nr));
  const int64_t budget_cols = workspace_bytes / (per_column * threads);
  if (budget_cols < nt) nt = std::max<int64_t>(1, budget_cols >= nr ? budget_cols / nr * nr : budget_cols);
  const int64_t nt_pad = (nt + nr - 1) / nr * nr;
  const int64_t n_tiles = (total + nt - 1) / nt;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_tiles));

  const int64_t bsize = kc_max * nt_pad, csize = cyg * nt;
  Buffer<T> scratch(static_cast<size_t>((bsize + csize) * n_threads));
  const SampleRowsFn<T> rows_fn = vector_rows<D, T>(g);
  std::vector<Im2colScratch<D, T, kDeform>> corner_scratch(static_cast<size_t>(n_threads));
  for (auto& cs : corner_scratch) cs.reserve(rows_fn != nullptr, K, nt);

  parallel_tasks(n_tiles, n_threads, [&](int64_t tile, int tid) {
    const int64_t n0 = tile * nt, nc = std::min(nt, total - n0);
    T* bblock = scratch.data() + tid * (bsize + csize);
    T* ctile = bblock + bsize;
    Im2colScratch<D, T, kDeform>& cs = corner_scratch[tid];
    cs.og = cs.mg = -1;  // new columns: the corners of the previous tile are stale
    // Zero the padding columns of the last, partial B panel once per tile.
    if (nc % nr != 0) std::fill(bblock, bblock + bsize, T(0));
    for (int64_t gi = 0; gi < G; ++gi) {
      const T* ag = apack.data() + gi * m_pad * rows;
      for (int64_t cb = 0; cb < cxg; cb += ch_block) {
        const int64_t c_begin = gi * cxg + cb, c_end = std::min(c_begin + ch_block, (gi + 1) * cxg);
        const int64_t kc = (c_end - c_begin) * K;
        const ColumnLayout<T> layout{bblock, nr, kc * nr, nr};
        im2col_channels<D, T, kDeform>(g, kcoords.data(), x, offset, mask, n0, nc, c_begin, c_end, c_begin, layout,
                                       rows_fn, cs);
        macro_kernel(uk, cyg, nc, kc, ag + cb * K * mr, rows * mr, bblock, ctile, nt, cb > 0, MacroOrder::kAPanelInL1);
      }
      // y[b, gi * cyg + o, q] = ctile[o, i] + bias, runs of columns within one image at a time.
      for (int64_t i = 0; i < nc;) {
        const int64_t n = n0 + i, b = n / sy, q = n - b * sy;
        const int64_t len = std::min(nc - i, sy - q);
        for (int64_t o = 0; o < cyg; ++o) {
          const int64_t oc = gi * cyg + o;
          T* dst = y + (b * g.cy + oc) * sy + q;
          const T* src = ctile + o * nt + i;
          if (bias) {
            const T bv = bias[oc];
            for (int64_t l = 0; l < len; ++l) dst[l] = src[l] + bv;
          } else {
            std::memcpy(dst, src, sizeof(T) * len);
          }
        }
        i += len;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// im2col into a row-major tile: tasks over (column block, channel block).

template <int D, typename T, bool kDeform>
void im2col_impl(const SamplingGeometry<D>& g, const T* x, const T* offset, const T* mask, int64_t n0, int64_t nc,
                 T* cols) {
  const int64_t K = g.kernel_points;
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const int threads = get_num_threads();
  const int64_t col_block = std::min<int64_t>(nc, 256);
  const int64_t n_col_blocks = (nc + col_block - 1) / col_block;
  // Enough channel blocks to keep every thread busy, but at least 16 channels each.
  const int64_t want = std::max<int64_t>(1, (4 * threads + n_col_blocks - 1) / n_col_blocks);
  const int64_t ch_block = std::max<int64_t>(std::min<int64_t>(16, g.cx), (g.cx + want - 1) / want);
  const int64_t n_ch_blocks = (g.cx + ch_block - 1) / ch_block;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_col_blocks * n_ch_blocks));
  const SampleRowsFn<T> rows_fn = vector_rows<D, T>(g);
  std::vector<Im2colScratch<D, T, kDeform>> corner_scratch(static_cast<size_t>(n_threads));
  for (auto& cs : corner_scratch) cs.reserve(rows_fn != nullptr, K, col_block);
  parallel_tasks(n_col_blocks * n_ch_blocks, n_threads, [&](int64_t task, int tid) {
    const int64_t cbk = task % n_ch_blocks, colb = task / n_ch_blocks;
    const int64_t i0 = colb * col_block, len = std::min(col_block, nc - i0);
    const int64_t c_begin = cbk * ch_block, c_end = std::min(g.cx, c_begin + ch_block);
    Im2colScratch<D, T, kDeform>& cs = corner_scratch[tid];
    cs.og = cs.mg = -1;
    const ColumnLayout<T> layout{cols + i0, nc, 0, nc};
    im2col_channels<D, T, kDeform>(g, kcoords.data(), x, offset, mask, n0 + i0, len, c_begin, c_end, 0, layout, rows_fn,
                                   cs);
  });
}

// ---------------------------------------------------------------------------------------------------
// col2im: tasks own (image, channel block) pairs, so no two tasks write the same plane of X.

template <int D, typename T, bool kDeform>
void col2im_impl(const SamplingGeometry<D>& g, const T* dcol, const T* offset, const T* mask, int64_t n0, int64_t nc,
                 T* x) {
  using C = Corners<CornerType<D, kDeform>::kCount, T, int64_t>;
  const int64_t K = g.kernel_points, sy = g.y_spatial(), sx = g.x_spatial();
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const int threads = get_num_threads();
  const int64_t b_first = n0 / sy, b_last = (n0 + nc - 1) / sy;
  const int64_t n_images = b_last - b_first + 1;
  const int64_t want = std::max<int64_t>(1, (4 * threads + n_images - 1) / n_images);
  const int64_t ch_block = std::max<int64_t>(std::min<int64_t>(8, g.cx), (g.cx + want - 1) / want);
  const int64_t n_ch_blocks = (g.cx + ch_block - 1) / ch_block;
  const int64_t col_block = 256;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_images * n_ch_blocks));
  std::vector<C> corner_buf(static_cast<size_t>(K * col_block * n_threads));
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups;
  auto add = [](T* p, T v) { *p += v; };
  parallel_tasks(n_images * n_ch_blocks, n_threads, [&](int64_t task, int tid) {
    const int64_t b = b_first + task / n_ch_blocks, cbk = task % n_ch_blocks;
    const int64_t c_begin = cbk * ch_block, c_end = std::min(g.cx, c_begin + ch_block);
    // This image's columns inside the tile.
    const int64_t i_begin = std::max(n0, b * sy) - n0, i_end = std::min(n0 + nc, (b + 1) * sy) - n0;
    C* corners = corner_buf.data() + tid * K * col_block;
    for (int64_t i0 = i_begin; i0 < i_end; i0 += col_block) {
      const int64_t len = std::min(col_block, i_end - i0);
      for (int64_t c = c_begin; c < c_end;) {
        const int64_t e = segment_end(g, c, c_end);
        build_corners<D, T, kDeform>(g, kcoords.data(), offset, mask, kDeform ? c / per_og : 0, mask ? c / per_mg : 0,
                                     n0 + i0, len, corners);
        // Each corner set is loaded once per kChannelBlock channels, whose planes stay in L1; every
        // plane still receives its values in (kpt, column) order. Corner indices carry the image base.
        for (int64_t cb = c; cb < e; cb += kChannelBlock) {
          const int64_t ce = std::min(e, cb + kChannelBlock);
          for (int64_t kpt = 0; kpt < K; ++kpt) {
            const C* cr = corners + kpt * len;
            for (int64_t l = 0; l < len; ++l) {
              const C cc = cr[l];
              const T* d = dcol + kpt * nc + i0 + l;
              for (int64_t ch = cb; ch < ce; ++ch) col2im_element(x + ch * sx, cc, d[ch * K * nc], add);
            }
          }
        }
        c = e;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// coord_mask_grad (portable path): tasks own blocks of columns; per segment, the corner gradients are
// built once and every channel of the segment accumulates into per-task sums, flushed into the outputs
// at the end of each segment.

template <int D, typename T>
void coord_mask_grad_impl(const SamplingGeometry<D>& g, const T* dcol, const T* x, const T* offset, const T* mask,
                          int64_t n0, int64_t nc, T* grad_offset, T* grad_mask) {
  using CG = CornerGrads<D, T, int64_t>;
  const int64_t K = g.kernel_points, sy = g.y_spatial(), sx = g.x_spatial();
  const int64_t OG = g.offset_groups, MG = g.mask_groups;
  const int64_t per_og = g.cx / OG, per_mg = g.cx / MG;
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const int threads = get_num_threads();
  const int64_t col_block = std::max<int64_t>(1, std::min<int64_t>(64, (nc + 2 * threads - 1) / (2 * threads)));
  const int64_t n_blocks = (nc + col_block - 1) / col_block;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_blocks));
  // Per thread: corner gradients [K][col_block], mask values [K][col_block], sums for the offset
  // gradient [K][D][col_block] and the mask gradient [K][col_block].
  const int64_t per_thread = K * col_block * (1 + D + 1);
  std::vector<CG> cg_buf(static_cast<size_t>(K * col_block * n_threads));
  std::vector<T> acc_buf(static_cast<size_t>(per_thread * n_threads));
  parallel_tasks(n_blocks, n_threads, [&](int64_t blk, int tid) {
    const int64_t i0 = blk * col_block, len = std::min(col_block, nc - i0);
    CG* cg = cg_buf.data() + tid * K * col_block;
    T* mval = acc_buf.data() + tid * per_thread;
    T* acc_off = mval + K * col_block;
    T* acc_mask = acc_off + K * D * col_block;
    // Column -> (b, q) of this block.
    auto for_columns = [&](auto&& fn) {
      for (int64_t l = 0; l < len; ++l) {
        const int64_t n = n0 + i0 + l, b = n / sy;
        fn(l, b, n - b * sy);
      }
    };
    // Zero this block's columns of every offset / mask channel.
    for_columns([&](int64_t, int64_t b, int64_t q) {
      if (grad_offset)
        for (int64_t ch = 0; ch < OG * K * D; ++ch) grad_offset[(b * OG * K * D + ch) * sy + q] = T(0);
      if (grad_mask)
        for (int64_t ch = 0; ch < MG * K; ++ch) grad_mask[(b * MG * K + ch) * sy + q] = T(0);
    });
    for (int64_t c = 0; c < g.cx;) {
      const int64_t e = segment_end(g, c, g.cx);
      const int64_t og = c / per_og, mg = c / per_mg;
      // Corner gradients and mask values of the segment.
      for_columns([&](int64_t l, int64_t b, int64_t q) {
        int64_t y[D];
        int64_t rem = q;
        for (int a = D - 1; a >= 0; --a) {
          y[a] = rem % g.y_size[a];
          rem /= g.y_size[a];
        }
        const T* off_q = offset ? offset + ((b * OG + og) * K * D) * sy + q : nullptr;
        const T* mask_q = mask ? mask + ((b * MG + mg) * K) * sy + q : nullptr;
        const int64_t base = b * g.cx * sx;
        for (int64_t kpt = 0; kpt < K; ++kpt) {
          int64_t ipos[D];
          grid_position<D, T, int64_t>(y, kcoords.data() + kpt * D, g.stride, g.padding, g.dilation, ipos);
          T pos[D];
          for (int a = 0; a < D; ++a) pos[a] = static_cast<T>(ipos[a]) + (off_q ? off_q[(kpt * D + a) * sy] : T(0));
          CG& cgk = cg[kpt * len + l];
          linear_corner_grads<D, T, int64_t>(pos, g.x_size, cgk);
          for (int j = 0; j < (1 << D); ++j) cgk.index[j] += base;
          mval[kpt * len + l] = mask_q ? mask_q[kpt * sy] : T(1);
        }
      });
      // Sums over the segment's channels in channel order, kChannelBlock channels (planes in L1) per
      // load of a corner set, carried in registers within a block.
      std::fill(acc_off, acc_off + K * D * len, T(0));
      std::fill(acc_mask, acc_mask + K * len, T(0));
      for (int64_t cb = c; cb < e; cb += kChannelBlock) {
        const int64_t ce = std::min(e, cb + kChannelBlock);
        for (int64_t kpt = 0; kpt < K; ++kpt) {
          for (int64_t l = 0; l < len; ++l) {
            const CG cgk = cg[kpt * len + l];
            const T* d = dcol + kpt * nc + i0 + l;
            T sum_v = acc_mask[kpt * len + l], sum_d[D];
            for (int a = 0; a < D; ++a) sum_d[a] = acc_off[(kpt * D + a) * len + l];
            for (int64_t ch = cb; ch < ce; ++ch) {
              T dv[D];
              const T dc = d[ch * K * nc];
              const T v = coord_grad_element<D, T, int64_t>(x + ch * sx, cgk, dv);
              sum_v += dc * v;
              for (int a = 0; a < D; ++a) sum_d[a] += dc * dv[a];
            }
            acc_mask[kpt * len + l] = sum_v;
            for (int a = 0; a < D; ++a) acc_off[(kpt * D + a) * len + l] = sum_d[a];
          }
        }
      }
      // Flush: offset sums are scaled by the mask here (it is constant over the segment).
      for_columns([&](int64_t l, int64_t b, int64_t q) {
        for (int64_t kpt = 0; kpt < K; ++kpt) {
          if (grad_offset) {
            const T m = mval[kpt * len + l];
            for (int a = 0; a < D; ++a)
              grad_offset[((b * OG + og) * K * D + kpt * D + a) * sy + q] += m * acc_off[(kpt * D + a) * len + l];
          }
          if (grad_mask) grad_mask[((b * MG + mg) * K + kpt) * sy + q] += acc_mask[kpt * len + l];
        }
      });
      c = e;
    }
  });
}

// The vector version of coord_mask_grad_impl: per segment, a structure-of-arrays table of corner
// indices and (coordinate) weights; the channel loop only accumulates, per corner j,
// S_j = sum_c dcol[c] * X_c[corner j] (corner_sums), and the weights are applied once per column:
// mask gradient sum_j w_j S_j, offset gradient m * sum_j dw_aj S_j (tvdcn-reference §4.3, §4.4).
template <int D, typename T>
void coord_mask_grad_simd(const SamplingGeometry<D>& g, const T* dcol, const T* x, const T* offset, const T* mask,
                          int64_t n0, int64_t nc, T* grad_offset, T* grad_mask, CornerSumsFn<T> sums_fn) {
  constexpr int kCount = 1 << D;
  const int64_t K = g.kernel_points, sy = g.y_spatial(), sx = g.x_spatial();
  const int64_t OG = g.offset_groups, MG = g.mask_groups;
  const int64_t per_og = g.cx / OG, per_mg = g.cx / MG;
  const std::vector<int64_t> kcoords = kernel_coords(g);
  const int threads = get_num_threads();
  const int64_t col_block = std::max<int64_t>(1, std::min<int64_t>(128, (nc + 2 * threads - 1) / (2 * threads)));
  const int64_t n_blocks = (nc + col_block - 1) / col_block;
  const int n_threads = static_cast<int>(std::min<int64_t>(threads, n_blocks));
  // Per thread, with ld = col_block: index [K][kCount][ld]; weight [K][kCount][ld]; dweight
  // [K][D][kCount][ld]; sums [K][kCount][ld]; mask values [K][ld].
  const int64_t ld = col_block;
  const int64_t t_values = K * ld * (kCount + D * kCount + kCount + 1);
  Buffer<int32_t> index_buf(static_cast<size_t>(K * kCount * ld * n_threads));
  Buffer<T> value_buf(static_cast<size_t>(t_values * n_threads));
  parallel_tasks(n_blocks, n_threads, [&](int64_t blk, int tid) {
    const int64_t i0 = blk * col_block, len = std::min(col_block, nc - i0);
    int32_t* index = index_buf.data() + tid * K * kCount * ld;
    T* weight = value_buf.data() + tid * t_values;
    T* dweight = weight + K * kCount * ld;
    T* sums = dweight + K * D * kCount * ld;
    T* mval = sums + K * kCount * ld;
    for (int64_t l = 0; l < len; ++l) {
      const int64_t n = n0 + i0 + l, b = n / sy, q = n - b * sy;
      if (grad_offset)
        for (int64_t ch = 0; ch < OG * K * D; ++ch) grad_offset[(b * OG * K * D + ch) * sy + q] = T(0);
      if (grad_mask)
        for (int64_t ch = 0; ch < MG * K; ++ch) grad_mask[(b * MG * K + ch) * sy + q] = T(0);
    }
    for (int64_t c = 0; c < g.cx;) {
      const int64_t e = segment_end(g, c, g.cx);
      const int64_t og = c / per_og, mg = c / per_mg;
      // Corner table of the segment.
      for (int64_t l = 0; l < len; ++l) {
        int64_t b, q, y[D];
        decode_column(g, sy, n0 + i0 + l, b, q, y);
        const T* off_q = offset ? offset + ((b * OG + og) * K * D) * sy + q : nullptr;
        const T* mask_q = mask ? mask + ((b * MG + mg) * K) * sy + q : nullptr;
        for (int64_t kpt = 0; kpt < K; ++kpt) {
          int64_t ipos[D];
          grid_position<D, T, int64_t>(y, kcoords.data() + kpt * D, g.stride, g.padding, g.dilation, ipos);
          T pos[D];
          for (int a = 0; a < D; ++a) pos[a] = static_cast<T>(ipos[a]) + (off_q ? off_q[(kpt * D + a) * sy] : T(0));
          CornerGrads<D, T, int64_t> cg;
          linear_corner_grads<D, T, int64_t>(pos, g.x_size, cg);
          for (int j = 0; j < kCount; ++j) {
            const int64_t at = (kpt * kCount + j) * ld + l;
            index[at] = ((cg.valid >> j) & 1u) ? static_cast<int32_t>(cg.index[j]) : -1;
            weight[at] = cg.weight[j];
            sums[at] = T(0);
            for (int a = 0; a < D; ++a) dweight[((kpt * D + a) * kCount + j) * ld + l] = cg.dweight[a][j];
          }
          mval[kpt * ld + l] = mask_q ? mask_q[kpt * sy] : T(1);
        }
      }
      // S_j over the segment's channels, for runs of columns inside one image.
      for (int64_t kpt = 0; kpt < K; ++kpt) {
        for (int64_t l0 = 0; l0 < len;) {
          const int64_t n = n0 + i0 + l0, b = n / sy, q = n - b * sy;
          const int64_t run = std::min(len - l0, sy - q);
          sums_fn(kCount, x + (b * g.cx + c) * sx, sx, e - c, dcol + (c * K + kpt) * nc + i0 + l0, K * nc,
                  index + kpt * kCount * ld + l0, ld, run, sums + kpt * kCount * ld + l0);
          l0 += run;
        }
      }
      // Apply the weights and add into the outputs.
      for (int64_t l = 0; l < len; ++l) {
        const int64_t n = n0 + i0 + l, b = n / sy, q = n - b * sy;
        for (int64_t kpt = 0; kpt < K; ++kpt) {
          const T* s_k = sums + kpt * kCount * ld + l;
          if (grad_mask) {
            const T* w_k = weight + kpt * kCount * ld + l;
            T v = 0;
            for (int j = 0; j < kCount; ++j) v += w_k[j * ld] * s_k[j * ld];
            grad_mask[((b * MG + mg) * K + kpt) * sy + q] += v;
          }
          if (grad_offset) {
            const T m = mval[kpt * ld + l];
            for (int a = 0; a < D; ++a) {
              const T* dw = dweight + (kpt * D + a) * kCount * ld + l;
              T dv = 0;
              for (int j = 0; j < kCount; ++j) dv += dw[j * ld] * s_k[j * ld];
              grad_offset[((b * OG + og) * K * D + kpt * D + a) * sy + q] += m * dv;
            }
          }
        }
      }
      c = e;
    }
  });
}

}  // namespace

template <int D, typename T>
void gather_gemm(const SamplingGeometry<D>& g, const T* x, const T* weight, const T* offset, const T* mask,
                 const T* bias, T* y, int64_t workspace_bytes) {
  // Every rank: the channels-last forward reads each corner's channels contiguously and writes the GEMM's
  // packed panels directly; the planar gathers below (16-lane gathers per channel, a scalar corner
  // build per offset group) are the fallback for planes or grid positions beyond int32.
  if (forward_channels_last<D, T>(g, x, weight, offset, mask, bias, y, workspace_bytes)) return;
  if (offset)
    gather_gemm_impl<D, T, true>(g, x, weight, offset, mask, bias, y, workspace_bytes);
  else
    gather_gemm_impl<D, T, false>(g, x, weight, offset, mask, bias, y, workspace_bytes);
}

template <int D, typename T>
void im2col(const SamplingGeometry<D>& g, const T* x, const T* offset, const T* mask, int64_t n0, int64_t nc, T* cols) {
  if (nc <= 0) return;
  if (offset)
    im2col_impl<D, T, true>(g, x, offset, mask, n0, nc, cols);
  else
    im2col_impl<D, T, false>(g, x, offset, mask, n0, nc, cols);
}

template <int D, typename T>
void col2im(const SamplingGeometry<D>& g, const T* dcol, const T* offset, const T* mask, int64_t n0, int64_t nc, T* x) {
  if (nc <= 0) return;
  if (offset)
    col2im_impl<D, T, true>(g, dcol, offset, mask, n0, nc, x);
  else
    col2im_impl<D, T, false>(g, dcol, offset, mask, n0, nc, x);
}

template <int D, typename T>
void coord_mask_grad(const SamplingGeometry<D>& g, const T* dcol, const T* x, const T* offset, const T* mask,
                     int64_t n0, int64_t nc, T* grad_offset, T* grad_mask) {
  if (nc <= 0 || (!grad_offset && !grad_mask)) return;
  const CornerSumsFn<T> sums_fn = g.x_spatial() <= INT32_MAX ? corner_sums_kernel<T>() : nullptr;
  if (sums_fn)
    coord_mask_grad_simd<D, T>(g, dcol, x, offset, mask, n0, nc, grad_offset, grad_mask, sums_fn);
  else
    coord_mask_grad_impl<D, T>(g, dcol, x, offset, mask, n0, nc, grad_offset, grad_mask);
}

#define DCN_INSTANTIATE_KERNELS(D, T)                                                                               \
  template void gather_gemm<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, const T*, const T*, T*, \
                                  int64_t);                                                                         \
  template void im2col<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, int64_t, int64_t, T*);       \
  template void col2im<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, int64_t, int64_t, T*);       \
  template void coord_mask_grad<D, T>(const SamplingGeometry<D>&, const T*, const T*, const T*, const T*, int64_t,  \
                                      int64_t, T*, T*);
DCN_INSTANTIATE_KERNELS(1, float)
DCN_INSTANTIATE_KERNELS(2, float)
DCN_INSTANTIATE_KERNELS(3, float)
DCN_INSTANTIATE_KERNELS(1, double)
DCN_INSTANTIATE_KERNELS(2, double)
DCN_INSTANTIATE_KERNELS(3, double)

}  // namespace dcn::cpu
