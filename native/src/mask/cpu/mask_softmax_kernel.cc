// SPDX-License-Identifier: MIT
// CPU loops of the mask softmax: tasks own (image, mask group, block of positions); within a task the
// K values of each position are at stride S, so every pass runs over a contiguous block of positions.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "mask/mask_softmax.h"

namespace dcn::cpu {
namespace {

constexpr int64_t kPositionBlock = 256;

// Calls fn(base, s0, len) for every (image * group, position block): base points at element [b, g, 0, s0].
template <typename F>
void for_blocks(int64_t outer, int64_t spatial, int64_t kernel_points, F&& fn) {
  const int64_t blocks = (spatial + kPositionBlock - 1) / kPositionBlock;
  parallel_for(0, outer * blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks, s0 = (t % blocks) * kPositionBlock;
      fn(o * kernel_points * spatial + s0, std::min(kPositionBlock, spatial - s0));
    }
  });
}

template <typename T>
void softmax_forward(const T* x, T* y, int64_t outer, int64_t K, int64_t S) {
  for_blocks(outer, S, K, [&](int64_t base, int64_t len) {
    T mx[kPositionBlock], sum[kPositionBlock];
    std::fill(mx, mx + len, -INFINITY);
    std::fill(sum, sum + len, T(0));
    for (int64_t k = 0; k < K; ++k) {
      const T* xk = x + base + k * S;
      for (int64_t l = 0; l < len; ++l) mx[l] = std::max(mx[l], xk[l]);
    }
    // Subtracting the maximum keeps exp() <= 1; a position whose maximum is +-inf is left to IEEE rules
    // (all -inf gives NaN, as torch.softmax does).
    for (int64_t k = 0; k < K; ++k) {
      const T* xk = x + base + k * S;
      T* yk = y + base + k * S;
      for (int64_t l = 0; l < len; ++l) {
        const T e = std::exp(xk[l] - mx[l]);
        yk[l] = e;
        sum[l] += e;
      }
    }
    for (int64_t l = 0; l < len; ++l) sum[l] = T(1) / sum[l];
    for (int64_t k = 0; k < K; ++k) {
      T* yk = y + base + k * S;
      for (int64_t l = 0; l < len; ++l) yk[l] *= sum[l];
    }
  });
}

template <typename T>
void softmax_backward(const T* s, const T* g, T* out, int64_t outer, int64_t K, int64_t S) {
  for_blocks(outer, S, K, [&](int64_t base, int64_t len) {
    T dot[kPositionBlock];
    std::fill(dot, dot + len, T(0));
    for (int64_t k = 0; k < K; ++k) {
      const T* sk = s + base + k * S;
      const T* gk = g + base + k * S;
      for (int64_t l = 0; l < len; ++l) dot[l] += gk[l] * sk[l];
    }
    for (int64_t k = 0; k < K; ++k) {
      const T* sk = s + base + k * S;
      const T* gk = g + base + k * S;
      T* ok = out + base + k * S;
      for (int64_t l = 0; l < len; ++l) ok[l] = sk[l] * (gk[l] - dot[l]);
    }
  });
}

// [B, MG * K, *spatial] -> B * MG groups of K rows of S positions.
void split(const TensorView& t, int64_t mask_groups, int64_t kernel_points, int64_t* outer, int64_t* spatial) {
  int64_t s = 1;
  for (int i = 2; i < t.ndim; ++i) s *= t.sizes[i];
  *spatial = s;
  *outer = t.sizes[0] * mask_groups;
}

}  // namespace

void mask_softmax_forward(const TensorView& mask, int64_t mask_groups, int64_t kernel_points,
                          const TensorView& output) {
  int64_t outer, spatial;
  split(mask, mask_groups, kernel_points, &outer, &spatial);
  DCN_DISPATCH_FLOATING_TYPES(mask.dtype, "maskSoftmaxForward", [&] {
    softmax_forward(mask.data_ptr<scalar_t>(), output.data_ptr<scalar_t>(), outer, kernel_points, spatial);
  });
}

void mask_softmax_backward(const TensorView& output, const TensorView& grad_output, int64_t mask_groups,
                           int64_t kernel_points, const TensorView& grad_mask) {
  int64_t outer, spatial;
  split(output, mask_groups, kernel_points, &outer, &spatial);
  DCN_DISPATCH_FLOATING_TYPES(output.dtype, "maskSoftmaxBackward", [&] {
    softmax_backward(output.data_ptr<scalar_t>(), grad_output.data_ptr<scalar_t>(), grad_mask.data_ptr<scalar_t>(),
                     outer, kernel_points, spatial);
  });
}

}  // namespace dcn::cpu
