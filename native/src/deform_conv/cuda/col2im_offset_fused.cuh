// SPDX-License-Identifier: MIT
// NOTE [ Fused col2im and offset pass ]
// The regular op's backward ran two passes over the same samples after the dcol product: col2im (NOTE [ Channels-last
// col2im ]: weight * mask * dcol added to the 2^D corners of gX) and the offset pass (NOTE [ Vector offset pass ]:
// the offset and mask gradients, and the columns of the weight product, from X's corners and dcol). Both build the
// same sampling plan, both read all of dcol (float32, 4 bytes per column element: r50-c3 302 MB, big-b32 925 MB), and
// in the half types they were the two largest phases of every backward over the 3x bar (float16, H100: r50-c3 0.46 +
// 0.27 of 1.08 ms, big-b32 1.37 + 0.86 of 3.47, 3d-c64 1.64 + 1.45 of 3.72; docs/cuda.md, session 21). Here one
// kernel does both: col2im's blocks (image, offset group, kernel point, 32 positions; 256 threads), its plan made once
// per block in shared memory with the coordinate weights added, its dcol staged once per 32-channel slice. A thread
// owns one sample and four channels of every slice (eight lanes a sample, four samples a warp instruction, spread
// over the tile as col2im's): it loads its four channels of each corner from the channels-last copy of X (one 8- or
// 16-byte load a corner), adds the offset pass's per-channel terms, writes the four columns through shared memory
// (coalesced along positions), and adds its four channels to each corner of gX with one 16-byte vector reduction.
// At the end the eight lanes of a sample sum their offset and mask gradients with three shuffles.
//
// The values: gX gets col2im's additions (the same products, in an order atomics leave unspecified anyway); the
// columns are the offset pass's, bitwise; the offset and mask gradients have the offset pass's per-channel terms,
// summed per lane in channel order and then over the eight lanes in a fixed tree: a different rounding from the
// channel-order sum, the same run to run. Deterministic mode (setDeterministic) keeps the sorted col2im and the offset
// pass, so its results are unchanged. Where it applies: 2D and 3D (1D's default col2im is the warp window), float32
// accumulation (not float64), channels per offset group a multiple of 32 (or 16 or 8: then two or four offset groups
// share a block's one slice, each with its own plan, and two or four lanes sum a sample's gradients), channels of X a
// multiple of 4, mask groups equal to the offset groups (one mask value a sample) or no mask, and the channels-last
// copy within the workspace limit. The driver's col2im_offset_fused says which switch does what.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda_runtime/scalar.cuh"
#include "deform_conv/cuda/col2im_channels_last.cuh"
#include "deform_conv/cuda/deform_conv_kernel.cuh"
#include "deform_conv/cuda/im2col_vector.cuh"
#include "deform_conv/sampling.h"

namespace dcn::cuda {

// Four consecutive channels of T at p, widened to float: one 16-byte load in float32, one 8-byte load in the half
// types (p aligned to that).
template <typename T>
__device__ __forceinline__ void load_channels4(const T* __restrict__ p, float (&out)[4]) {
  if constexpr (std::is_same_v<T, float>) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(p));
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
  } else {
    const uint2 raw = __ldg(reinterpret_cast<const uint2*>(p));
    const unsigned words[2] = {raw.x, raw.y};
    widen_words<T, float, 2>(words, out);
  }
}

// Corner i of the sample at p alone: its entries of linear_corners (value index, weight and validity; scale 1) and
// of linear_corner_grads (coordinate weights and validity), computed as those functions compute them (the same
// floors, the same products in the same order), so bitwise their values. The index is linear_corner_grads'
// (the value corner's wherever that one is valid). Lets a warp make one corner of 32 samples' plans at once.
template <int D, typename A>
__device__ __forceinline__ void sample_corner(const A* p, const SmallArray<int64_t, D>& size, int i, int64_t& index,
                                              A& weight, A (&dweight)[D], bool& valid, bool& gvalid) {
  int64_t lo[D];
  A t[D];
  bool nan = false, outside = false, dead = false;
  A nan_value = 0;
#pragma unroll
  for (int ax = 0; ax < D; ++ax) {
    const A pa = p[ax];
    const A s = static_cast<A>(size[ax]);
    lo[ax] = 0;
    t[ax] = 0;
    if (!(pa == pa)) {
      nan = true;
      nan_value = pa;
      continue;
    }
    if (pa <= A(-1) || pa >= s) outside = true;
    if (pa > A(-2) && pa < s) {
      const A f = dcn_floor(pa);
      lo[ax] = static_cast<int64_t>(f);
      t[ax] = pa - f;
    } else {
      dead = true;
    }
  }
  int64_t idx = 0;
  bool ok = true;
#pragma unroll
  for (int ax = 0; ax < D; ++ax) {
    const int64_t j = lo[ax] + ((i >> ax) & 1);
    const int64_t s = size[ax];
    ok = ok && j >= 0 && j < s;
    idx = idx * s + j;
  }
  A w = 1;
#pragma unroll
  for (int ax = 0; ax < D; ++ax) {
    const int up = (i >> ax) & 1;
    A dw = up ? A(1) : A(-1);
#pragma unroll
    for (int bx = 0; bx < D; ++bx) {
      if (bx == ax) continue;
      dw *= ((i >> bx) & 1) ? t[bx] : A(1) - t[bx];
    }
    dweight[ax] = (nan || dead) ? (nan ? nan_value : A(0)) : dw;
    w *= up ? t[ax] : A(1) - t[ax];
  }
  weight = (nan || outside) ? (nan ? nan_value : A(0)) : w;
  valid = !(nan || outside) && ok;
  gvalid = !(nan || dead) && ok;
  index = gvalid ? idx : int64_t{0};
}

// See NOTE [ Fused col2im and offset pass ]. xt[bl][s][c]: the chunk's images channels-last; gxl[b][s][c]: the
// channels-last float32 target; cols (kCols): the chunk's columns, as the offset pass writes them.
// Three blocks per multiprocessor in 1D and 2D (at most 85 registers a thread; 97 uncapped, which allowed two); in 3D
// kBlocks3D (NOTE [ Three blocks in 3D ]: 3, a corner at a time, is what the driver launches by default; 2, all corners
// at once in 128 registers, the template's default, runs under TVDCN_CUDA_FUSED3D_BLOCKS=2).
template <int D, typename T, bool kMaskGrad, bool kCols, int kGroups, int kBlocks3D = 2>
__global__ void __launch_bounds__(kCol2imThreads, D == 3 ? kBlocks3D : 3)
    col2im_offset_fused_kernel(const ChunkArgs<D> a, const float* __restrict__ dcol, const T* __restrict__ xt,
                               const T* __restrict__ offset, const T* __restrict__ mask, float* __restrict__ gxl,
                               T* __restrict__ grad_offset, T* __restrict__ grad_mask, T* __restrict__ cols,
                               int64_t blocks) {
  using A = float;
  constexpr int kCount = 1 << D;
  constexpr int TQ = kCol2imPositions;
  constexpr int kLanes = 8;  // lanes per sample: a slice's 32 channels, four per lane
  static_assert(kCol2imThreads == TQ * kLanes, "one sample and four channels per thread");
  // kGroups offset groups of 32 / kGroups channels share a block's slice (one slice); with kGroups == 1 a block takes
  // one offset group, whose channels are a multiple of 32, in slices of 32.
  static_assert(kGroups == 1 || kGroups == 2 || kGroups == 4, "one slice of 32 channels: 1, 2 or 4 offset groups");
  constexpr int kPlans = kGroups * TQ;
  constexpr int kGroupLanes = kLanes / kGroups;  // lanes per (offset group, sample)
  __shared__ int64_t s_index[kCount][kPlans];    // corner index in the image (0 where invalid)
  __shared__ A s_weight[kCount][kPlans];         // value weights (linear_corners: with the early-out)
  __shared__ A s_dweight[D][kCount][kPlans];     // coordinate weights (linear_corner_grads)
  __shared__ unsigned s_vbits[kGroups][kCount];  // bit j: sample j's value corner inside (linear_corners)
  __shared__ unsigned s_gbits[kGroups][kCount];  // bit j: sample j's corner loaded (linear_corner_grads; a superset)
  __shared__ A s_mask[kGroups][TQ];
  __shared__ A s_val[2][32][TQ + 1];  // dcol of two slices: the next is staged while the current is used
  __shared__ A s_col[kCols ? 32 : 1][TQ + 1];
  const int tid = static_cast<int>(threadIdx.x);
  // Staging (dcol in, columns out): thread tid takes channels cl0 + kRows * t (t < kPer) of position j_st.
  constexpr int kRows = kCol2imThreads / TQ, kPer = 32 / kRows;
  const int j_st = tid % TQ, cl0 = tid / TQ;
  // The thread's sample (four per warp instruction, spread over the tile) and its four channels of each slice.
  const int j = spread(tid / kLanes, 32 / kLanes), cl = (tid % kLanes) * 4;
  const int og_l = cl / (32 / kGroups), pj = og_l * TQ + j;  // the thread's offset group in the block, its plan
  const int64_t qtiles = (a.qlen + TQ - 1) / TQ;
  const int64_t kq = a.K * a.qlen;
  for (int64_t blk = blockIdx.x; blk < blocks; blk += gridDim.x) {
    int64_t r = blk;
    const int64_t qt = r % qtiles;
    r /= qtiles;
    const int64_t kpt = r % a.K;
    r /= a.K;
    const int64_t og0 = (r % (a.og / kGroups)) * kGroups;
    const int64_t bl = r / (a.og / kGroups);
    const int64_t b = a.b0 + bl;
    const int64_t ql0 = qt * TQ;
    const int tq = static_cast<int>(a.qlen - ql0 < TQ ? a.qlen - ql0 : TQ);
    __syncthreads();  // the previous block's readers of the shared plan and columns are done
    // The plan: a warp makes one corner of one offset group's 32 samples (NOTE [ Fused col2im and offset pass ]), its
    // validity as one bit per sample, and for corner 0 the mask values too.
    for (int e = tid; e < kCount * kPlans; e += kCol2imThreads) {
      const int jp = e % TQ, k = (e / TQ) % kCount, ogl = e / (TQ * kCount);
      const int64_t og = og0 + ogl;
      bool v = false, gv = false;
      A mval = 1;
      if (jp < tq) {
        const int64_t q = a.q0 + ql0 + jp;
        int64_t pos[D];
        base_position<D>(a, q, kpt, pos);
        A p[D];
        deformed_position<D, A, T>(a, offset, b, og, kpt, q, pos, p);
        int64_t index;
        A w, dw[D];
        sample_corner<D, A>(p, a.x_size, k, index, w, dw, v, gv);
        s_index[k][ogl * TQ + jp] = index;
        s_weight[k][ogl * TQ + jp] = w;
#pragma unroll
        for (int ax = 0; ax < D; ++ax) s_dweight[ax][k][ogl * TQ + jp] = dw[ax];
        if (k == 0 && mask != nullptr) mval = convert<A>(mask[((b * a.mg + og) * a.K + kpt) * a.ny + q]);
      }
      const unsigned vb = __ballot_sync(0xffffffffu, v), gb = __ballot_sync(0xffffffffu, gv);
      if (jp == 0) {
        s_vbits[ogl][k] = vb;
        s_gbits[ogl][k] = gb;
      }
      if (k == 0) s_mask[ogl][jp] = mval;
    }
    const int64_t c_og = og0 * a.cpo;  // the block's first channel
    const int64_t span = kGroups == 1 ? a.cpo : 32;
    const A* dsrc = dcol + ((bl * a.cx + c_og + cl0) * a.K + kpt) * a.qlen + ql0 + j_st;
    A vals[kPer];
    auto load_slice = [&](int64_t c0) {
      if (j_st >= tq) return;
#pragma unroll
      for (int t = 0; t < kPer; ++t) vals[t] = __ldcs(dsrc + (c0 + t * kRows) * kq);  // read once: streamed
    };
    load_slice(0);
    A total[D];
#pragma unroll
    for (int ax = 0; ax < D; ++ax) total[ax] = 0;
    A total_mask = 0;
    const T* x_img = xt + bl * a.nx * a.cx + c_og + cl;
    float* g_img = gxl + b * a.nx * a.cx + c_og + cl;
    int buf = 0;
    for (int64_t c0 = 0; c0 < span; c0 += 32, buf ^= 1) {
      if (j_st < tq) {
#pragma unroll
        for (int t = 0; t < kPer; ++t) s_val[buf][cl0 + t * kRows][j_st] = vals[t];
      }
      __syncthreads();                          // the slice (and, for the first, the plan) is visible
      if (c0 + 32 < span) load_slice(c0 + 32);  // in flight while this slice is used
      if (j < tq) {
        unsigned valid = 0, gvalid = 0;
#pragma unroll
        for (int k = 0; k < kCount; ++k) {
          valid |= ((s_vbits[og_l][k] >> j) & 1u) << k;
          gvalid |= ((s_gbits[og_l][k] >> j) & 1u) << k;
        }
        const A m = s_mask[og_l][j];
        A red[4];
        // Channel u's share, from its offset-pass terms dv and v (OffsetPassSample::add).
        const auto finish = [&](int u, const A(&dv)[D], A v) {
          const A g = s_val[buf][cl + u][j];
          const A w = mask != nullptr ? g * m : g;
#pragma unroll
          for (int ax = 0; ax < D; ++ax) total[ax] += w * dv[ax];
          if constexpr (kMaskGrad) total_mask += g * v;
          if constexpr (kCols) s_col[cl + u][j] = v * m;
          red[u] = w;  // col2im's dcol * mask
        };
        if constexpr (D != 3 || kBlocks3D == 2) {
          A xk[kCount][4];
#pragma unroll
          for (int k = 0; k < kCount; ++k) {
            if ((gvalid >> k) & 1u) {
              load_channels4<T>(x_img + s_index[k][pj] * a.cx + c0, xk[k]);
            } else {
#pragma unroll
              for (int u = 0; u < 4; ++u) xk[k][u] = 0;
            }
          }
#pragma unroll
          for (int u = 0; u < 4; ++u) {
            A dv[D];
#pragma unroll
            for (int ax = 0; ax < D; ++ax) dv[ax] = 0;
            A v = 0;
#pragma unroll
            for (int k = 0; k < kCount; ++k) {
#pragma unroll
              for (int ax = 0; ax < D; ++ax) dv[ax] += s_dweight[ax][k][pj] * xk[k][u];
              v += s_weight[k][pj] * (((valid >> k) & 1u) ? xk[k][u] : A(0));
            }
            finish(u, dv, v);
          }
        } else {
          // NOTE [ Three blocks in 3D ]: the corners one at a time, so that a thread holds one corner's four values
          // and 16 sums instead of the eight corners' 32 values (at most 85 registers: three blocks a multiprocessor
          // instead of two). Every sum keeps its corner order; which products the compiler fuses into FMAs is its
          // choice, and differs between the two forms: the columns (so the weight gradient) and the mask gradient may
          // differ from the two-block form's by a rounding (measured, docs/cuda.md session 25), each form the same
          // run to run.
          A dvs[4][D], vs[4];
#pragma unroll
          for (int u = 0; u < 4; ++u) {
#pragma unroll
            for (int ax = 0; ax < D; ++ax) dvs[u][ax] = 0;
            vs[u] = 0;
          }
#pragma unroll
          for (int k = 0; k < kCount; ++k) {
            A xk[4] = {0, 0, 0, 0};
            if ((gvalid >> k) & 1u) load_channels4<T>(x_img + s_index[k][pj] * a.cx + c0, xk);
#pragma unroll
            for (int u = 0; u < 4; ++u) {
#pragma unroll
              for (int ax = 0; ax < D; ++ax) dvs[u][ax] += s_dweight[ax][k][pj] * xk[u];
              vs[u] += s_weight[k][pj] * (((valid >> k) & 1u) ? xk[u] : A(0));
            }
          }
#pragma unroll
          for (int u = 0; u < 4; ++u) finish(u, dvs[u], vs[u]);
        }
        if (valid != 0) {
#pragma unroll
          for (int k = 0; k < kCount; ++k) {
            if ((valid >> k) & 1u) {
              const A wk = s_weight[k][pj];
              red_add_v4(g_img + s_index[k][pj] * a.cx + c0, wk * red[0], wk * red[1], wk * red[2], wk * red[3]);
            }
          }
        }
      }
      if constexpr (kCols) {
        __syncthreads();  // the slice's columns are in s_col
        if (j_st < tq) {
          T* out = cols + ((bl * a.cx + c_og + c0 + cl0) * a.K + kpt) * a.qlen + ql0 + j_st;
#pragma unroll
          for (int t = 0; t < kPer; ++t) out[t * kRows * kq] = convert<T>(s_col[cl0 + t * kRows][j_st]);
        }
      }
    }
    // The lanes of an (offset group, sample) (consecutive) sum their partial gradients: a fixed tree.
#pragma unroll
    for (int sh = kGroupLanes / 2; sh > 0; sh /= 2) {
#pragma unroll
      for (int ax = 0; ax < D; ++ax) total[ax] += __shfl_xor_sync(0xffffffffu, total[ax], sh);
      if constexpr (kMaskGrad) total_mask += __shfl_xor_sync(0xffffffffu, total_mask, sh);
    }
    if (cl % (32 / kGroups) == 0 && j < tq) {
      const int64_t og = og0 + og_l;
      const int64_t q = a.q0 + ql0 + j;
      const int64_t out_index = ((b * a.og + og) * a.K + kpt) * D * a.ny + q;
#pragma unroll
      for (int ax = 0; ax < D; ++ax) grad_offset[out_index + ax * a.ny] = convert<T>(total[ax]);
      if constexpr (kMaskGrad) grad_mask[((b * a.mg + og) * a.K + kpt) * a.ny + q] = convert<T>(total_mask);
    }
  }
}

}  // namespace dcn::cuda
