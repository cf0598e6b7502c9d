// SPDX-License-Identifier: MIT
// Our CUDA matrix product (no cuBLAS: the binary needs no CUDA library but the static runtime), as the
// deformable-convolution driver uses it: C (M x N) [+]= A (M x K) * B (K x N) [+ bias per row], with
// arbitrary element strides, two levels of batching, an optional folded K dimension (to reduce over
// images and positions at once) and split-K into separate partial outputs. Host declarations only.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dcn::cuda {

// Offsets added per batch index (in elements).
struct GemmBatch {
  int64_t count = 1;
  int64_t a = 0, b = 0, c = 0, bias = 0;
};

// C(m, n) at C[m * c_sm + n * c_sn], A(m, k) at A[m * a_sm + k * a_sk], B(k, n) at B[k * b_sk + n * b_sn].
// Batch index z = z1 * b2.count + z2 moves every pointer by z1 * b1.x + z2 * b2.x.
// With kfold > 0 the K index folds: k -> (k / kfold) * a_kf + (k % kfold) * a_sk (and b_kf for B).
// With splits > 1 the K range is cut in `splits` pieces; piece s writes its own partial product at
// C + s * c_split (never accumulating; bias only in piece 0), to be summed by the caller.
struct GemmDesc {
  int64_t M = 0, N = 0, K = 0;
  const void* A = nullptr;
  int64_t a_sm = 0, a_sk = 0;
  const void* B = nullptr;
  int64_t b_sk = 0, b_sn = 0;
  void* C = nullptr;
  int64_t c_sm = 0, c_sn = 0;
  const void* bias = nullptr;  // [M] of the input type, or nullptr
  GemmBatch b1, b2;
  int64_t kfold = 0, a_kf = 0, b_kf = 0;
  int splits = 1;
  int64_t c_split = 0;
  bool accumulate = false;  // C += A * B (all pieces must then be 1)
};

// Runs the product on `stream`. TIn is the storage type of A, B and bias; TOut that of C. Chooses
// the CUDA-core (SIMT) or tensor-core (mma.sync) kernel by type and the float32 matmul mode.
template <typename TIn, typename TOut>
void gemm(const GemmDesc& d, cudaStream_t stream);

// Number of 128 x 128 output tiles of one batch entry (used to size split-K).
inline int64_t gemm_tiles(int64_t m, int64_t n) { return ((m + 127) / 128) * ((n + 127) / 128); }

}  // namespace dcn::cuda
