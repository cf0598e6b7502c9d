// SPDX-License-Identifier: MIT
// What the small-group samplers of the forward and the backward share (NOTE [ Small-group forward
// sampler ] in forward_small_groups.cc, NOTE [ Small-group backward sampler ] in backward_small_groups.cc):
// the segment width rule, the segments, the per-thread plan storage, and the walk over chunks of columns
// whose offsets and masks are first copied to contiguous rows. Plain C++: the vector code stays in each
// sampler, under its `#pragma GCC target`.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/macros.h"
#include "deform_conv/params.h"

namespace dcn::cpu::small_groups {

// Columns per lane block: one plan vector of float lanes in a 512-bit register.
constexpr int kLanes = 16;
// Columns whose offsets and masks are copied together (fewer when that copy would exceed kChunkBytes).
constexpr int64_t kChunk = 256;
constexpr int64_t kChunkBytes = int64_t{512} << 10;

// The bytes of one segment (a run of channels with one offset, mask and weight group): 16, 32 or 64, or 0
// where the samplers do not apply (segments of another width, or corner offsets beyond int32).
template <int D>
int64_t segment_bytes(const SamplingGeometry<D>& g, int64_t elem_size) {
  if (g.cx <= 0 || g.offset_groups <= 0 || g.mask_groups <= 0 || g.groups <= 0) return 0;
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups, cxg = g.cx_per_group();
  const int64_t W = std::min({per_og, per_mg, cxg});
  if (W <= 0 || per_og % W != 0 || per_mg % W != 0 || cxg % W != 0) return 0;
  const int64_t bytes = W * elem_size;
  if (bytes != 16 && bytes != 32 && bytes != 64) return 0;
  return (g.x_spatial() + 1) * g.cx < INT32_MAX ? bytes : 0;
}

// Per-thread plan storage, kept between calls (one sampler runs at a time on a thread).
inline std::vector<char>& plan_storage() {
  static thread_local std::vector<char> s;
  return s;
}

// `p` rounded up to a cache line.
inline char* align64(char* p) {
  return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// NOTE [ Prefetching the next lane block ]
// Each X row that a lane block samples is sampled again by the next few rows of output positions, but between
// two output rows the backward streams ~0.8 MB through the core's L2 (dcolT and colsT tiles, the offset rows
// and gradient rows of the chunks) besides the ~0.5 MB of X and X-gradient rows that one output row samples, so
// those rows come back from L3: with all X loads served from a small block instead (a timing experiment),
// edvr-64's sampler took 2.3 ms less of 14.3 (1 thread), with the scatter's loads 0.4 ms less. So while a lane
// block is sampled, the lines of X (and in the backward of the X-gradient accumulator) that the next lane block
// (the next kLanes output positions) will reach and this one did not are prefetched, one input row per kernel
// point: for the integer grid of the kernel plus a margin of kMargin pixels for the offsets (offsets beyond it are
// only not prefetched), 2D only. A hint: it changes no value. The forward sampler does the same for X since
// session 33 (its loads of the corners were where its time went: docs/perf/cpu.md).
struct NextBlockRows {
  int64_t first = 0;       // first pixel (row-major index into the image's positions)
  int64_t rows = 0;        // input rows to prefetch
  int64_t row_stride = 0;  // pixels from one row to the next
  int64_t pixels = 0;      // consecutive pixels per row
};

template <int D>
NextBlockRows next_block_rows(const SamplingGeometry<D>& g, int64_t q0, int64_t len) {
  NextBlockRows r;
  if constexpr (D == 2) {
    constexpr int64_t kMargin = 2;
    const int64_t w = g.y_size[1], qn = q0 + len;
    if (qn >= g.y_spatial()) return r;
    const int64_t oy = qn / w, ox0 = qn % w, ox1 = std::min(ox0 + kLanes - 1, w - 1);
    const int64_t ext0 = (g.kernel_size[0] - 1) * g.dilation[0], ext1 = (g.kernel_size[1] - 1) * g.dilation[1];
    const int64_t r0 = std::max<int64_t>(0, oy * g.stride[0] - g.padding[0] - kMargin);
    const int64_t r1 = std::min<int64_t>(g.x_size[0] - 1, oy * g.stride[0] - g.padding[0] + ext0 + kMargin + 1);
    int64_t c0 = ox0 * g.stride[1] - g.padding[1] - kMargin;
    const int64_t last = qn - 1;  // this block's last position: its columns are in the caches already
    if (last / w == oy) c0 = std::max(c0, (last % w) * g.stride[1] - g.padding[1] + ext1 + kMargin + 2);
    c0 = std::max<int64_t>(0, c0);
    const int64_t c1 = std::min<int64_t>(g.x_size[1] - 1, ox1 * g.stride[1] - g.padding[1] + ext1 + kMargin + 1);
    if (c1 < c0 || r1 < r0) return r;
    r.first = r0 * g.x_size[1] + c0;
    r.rows = r1 - r0 + 1;
    r.row_stride = g.x_size[1];
    r.pixels = c1 - c0 + 1;
  } else {
    (void)g, (void)q0, (void)len;
  }
  return r;
}

template <typename U, typename P>
DCN_INLINE U load_as(const P* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return v;
}

template <typename U, typename P>
DCN_INLINE void store_as(P* p, U v) {
  std::memcpy(p, &v, sizeof(U));
}

struct Seg {
  int64_t c0, og, mg, dst;  // first channel, offset group, mask group, place in a colsT row (without kpt)
};

// The n_segs = cx / W segments of W channels into `segs`.
template <int D>
void make_segments(const SamplingGeometry<D>& g, int64_t W, Seg* segs) {
  const int64_t per_og = g.cx / g.offset_groups, per_mg = g.cx / g.mask_groups, cxg = g.cx_per_group();
  const int64_t rows = cxg * g.kernel_points;
  for (int64_t s = 0; s < g.cx / W; ++s) {
    const int64_t c0 = s * W, gi = c0 / cxg;
    segs[s] = Seg{c0, c0 / per_og, c0 / per_mg, gi * rows + (c0 - gi * cxg)};
  }
}

// Columns per chunk when `loc_rows` rows of offsets and masks of `elem_size` bytes are copied per column.
inline int64_t chunk_columns(int64_t loc_rows, int64_t elem_size) {
  return std::clamp<int64_t>(kChunkBytes / std::max<int64_t>(1, loc_rows * elem_size) / kLanes * kLanes, kLanes,
                             kChunk);
}

// Walks columns [n0, n0 + nc) in chunks of up to ck columns within one image: copies each chunk's offsets
// (off_rows rows of image b) and masks (m_rows rows) to rows of ck at off_loc / m_loc, lanes past the chunk
// zero (the rows of one image are prod(y_size) apart, for edvr-64 64 KB: all in one cache set, so reading
// them in place missed L2 on nearly every sample plan), then calls block(i, len, b, q, k) for the lane
// blocks of the chunk, which end at multiples of kLanes of the y positions: columns n0 + i .. n0 + i + len
// of image b, the first at y position q and at lane k of the copied rows. After the chunk's last block,
// chunk_end(i, clen, b, q) (the backward writes the chunk's offset and mask gradient rows there).
template <int D, typename T, typename Block, typename ChunkEnd>
void for_each_lane_block(const SamplingGeometry<D>& g, const T* offset, const T* mask, int64_t off_rows, int64_t m_rows,
                         int64_t n0, int64_t nc, int64_t ck, T* off_loc, T* m_loc, Block&& block,
                         ChunkEnd&& chunk_end) {
  const int64_t sy = g.y_spatial();
  for (int64_t i = 0; i < nc;) {
    const int64_t n = n0 + i, b = n / sy, q = n - b * sy;
    const int64_t clen = std::min({ck - q % ck, nc - i, sy - q});
    auto copy_rows = [&](const T* src, int64_t n_rows, T* dst) {
      for (int64_t r = 0; r < n_rows; ++r) {
        std::memcpy(dst + r * ck, src + r * sy + q, sizeof(T) * clen);
        if (clen < ck) std::fill(dst + r * ck + clen, dst + (r + 1) * ck, T(0));
      }
    };
    if (offset) copy_rows(offset + b * off_rows * sy, off_rows, off_loc);
    if (mask) copy_rows(mask + b * m_rows * sy, m_rows, m_loc);
    for (int64_t k = 0; k < clen;) {
      const int64_t len = std::min(kLanes - (q + k) % kLanes, clen - k);
      block(i + k, len, b, q + k, k);
      k += len;
    }
    chunk_end(i, clen, b, q);
    i += clen;
  }
}

template <int D, typename T, typename Block>
void for_each_lane_block(const SamplingGeometry<D>& g, const T* offset, const T* mask, int64_t off_rows, int64_t m_rows,
                         int64_t n0, int64_t nc, int64_t ck, T* off_loc, T* m_loc, Block&& block) {
  for_each_lane_block(g, offset, mask, off_rows, m_rows, n0, nc, ck, off_loc, m_loc, block,
                      [](int64_t, int64_t, int64_t, int64_t) {});
}

}  // namespace dcn::cpu::small_groups
