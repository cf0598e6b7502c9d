// SPDX-License-Identifier: MIT
// Process-wide switches of the CUDA kernels, set from JS: deterministic mode (no floating-point
// atomics anywhere: col2im becomes a sort-and-sum) and the float32 matrix-multiply mode. Header-only,
// host code of the CUDA build.
#pragma once
#include <atomic>

#include "core/env.h"

namespace dcn::cuda {

// NOTE [ Determinism ]
// With the switch off, the scatter steps (the input gradient of the regular op and the forward of the
// transposed op) add with atomics, whose order varies between runs (as in tvdcn and torchvision). With
// it on they sort their contributions by target and sum each target in a fixed order, so every result
// is bitwise reproducible at some cost in time and workspace. Everything else is deterministic always.
inline std::atomic<bool>& deterministic_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
inline bool deterministic() { return deterministic_flag().load(std::memory_order_relaxed); }
inline void set_deterministic(bool on) { deterministic_flag().store(on, std::memory_order_relaxed); }

// How float32 matrix products run: kTf32x3 (the default) on the tensor cores with each operand split
// into a TF32 part and a TF32 remainder, three products accumulated in float32 (errors as small as
// float32's: measured 3.0e-7 against 3.6e-7 on the CUDA cores, tests in packages/ops/test/cuda),
// kFloat32 on the CUDA cores (IEEE float32 products, slower), kTf32 on the tensor cores with one TF32
// product (about 3e-4 relative error, fastest; PyTorch's allow_tf32).
enum class Float32Matmul { kFloat32 = 0, kTf32x3 = 1, kTf32 = 2 };
inline std::atomic<int>& float32_matmul_flag() {
  static std::atomic<int> mode{static_cast<int>(Float32Matmul::kTf32x3)};
  return mode;
}
inline Float32Matmul float32_matmul() {
  return static_cast<Float32Matmul>(float32_matmul_flag().load(std::memory_order_relaxed));
}
inline void set_float32_matmul(Float32Matmul m) {
  float32_matmul_flag().store(static_cast<int>(m), std::memory_order_relaxed);
}

// Whether the float32 tensor-core GEMM may use 128 x 256 tiles (when they fill the device); a switch
// for benchmarks (_cudaSetGemmWideTiles), on by default.
inline std::atomic<bool>& gemm_wide_tiles_flag() {
  static std::atomic<bool> on{true};
  return on;
}
inline bool gemm_wide_tiles() { return gemm_wide_tiles_flag().load(std::memory_order_relaxed); }

// Whether the 16-bit tensor-core GEMM may load its operands as 16-byte vectors where strides and bases
// allow (VecLoader in gemm_kernel.cuh); a switch for tests (_cudaSetGemmVectorLoads), on by default. The
// two loaders fill the same shared tiles, so the results are bitwise the same (tested).
inline std::atomic<bool>& gemm_vector_loads_flag() {
  static std::atomic<bool> on{true};
  return on;
}
inline bool gemm_vector_loads() { return gemm_vector_loads_flag().load(std::memory_order_relaxed); }

// Which 16-bit tensor-core GEMM runs where the vector loads apply: the cp.async ring of
// gemm_mma16_async_kernel (the default), or, with the environment variable TVDCN_CUDA_GEMM16=regs, the
// register-staged gemm_mma_kernel it replaced (read once; an A/B switch for benchmarks of one binary on
// one machine). Both give bitwise the same results (the same shared tiles and products in the same order).
inline bool gemm16_register_staged() {
  static const bool on = env_is("TVDCN_CUDA_GEMM16", "regs");
  return on;
}

// Which tiles the Hopper warpgroup GEMM takes (NOTE [ Hopper warpgroup GEMM ] in gemm/cuda/gemm_wgmma.cuh), or
// kOff where it cannot run (a build without sm_90a code, a device other than compute capability 9.0) or the
// environment variable TVDCN_CUDA_GEMM16 asks for `mma` (gemm_mma16_async_kernel); `wgmma128` / `wgmma256` /
// `wgmma256m` / `wgmma2` force 128 x 128 / 128 x 256 / 256 x 128 / 128 x 128 two per multiprocessor tiles (where
// M > 64), `wgmma1` the rule without the last (read at each call: A/B switches and tests).
enum class Wgmma16Tiles { kOff = 0, kAuto = 1, kNarrow = 2, kWide = 3, kTwoPerSm = 4, kOneBlock = 5, kTall = 6 };
Wgmma16Tiles wgmma16_tiles();
// Whether the float32 products (TF32 and 3xTF32) run on the Hopper warpgroup GEMM where its vector loads apply
// (NOTE [ Hopper warpgroup GEMM, 32-bit operands ] in gemm/cuda/gemm_wgmma.cuh): a build with sm_90a code on a
// device of compute capability 9.0, unless the environment variable TVDCN_CUDA_GEMM32 is `mma` (read at each call:
// A/B switches and tests).
bool wgmma32_enabled();
// The number of launches of the warpgroup kernels (16- and 32-bit) so far (tests check that they ran).
inline std::atomic<int64_t>& wgmma_launches() {
  static std::atomic<int64_t> n{0};
  return n;
}
// Whether the TF32 warpgroup GEMM makes A's TF32 planes once per product where they pay (NOTE [ TF32 planes of A
// made once per product ] in gemm/cuda/gemm_wgmma.cuh), unless the environment variable TVDCN_CUDA_GEMM32 is `raw`
// (A converted in every block, as before; read at each call: an A/B switch and tests).
inline bool wgmma32_a_planes() { return !env_is("TVDCN_CUDA_GEMM32", "raw"); }
// The number of launches of the kernel that makes them so far (tests check that it ran).
inline std::atomic<int64_t>& tf32_planes_launches() {
  static std::atomic<int64_t> n{0};
  return n;
}

// The number of im2col launches (thread and vector kernels) that divided with host-made divisors (NOTE [ Division
// by a run-time constant ] in core/fast_divmod.h) so far (tests check that they ran).
inline std::atomic<int64_t>& im2col_divisor_launches() {
  static std::atomic<int64_t> n{0};
  return n;
}

// How the float32 tensor-core GEMM converts its operands to TF32 (NOTE [ TF32 split at staging ] in
// gemm_kernel.cuh), from the environment variable TVDCN_CUDA_TF32_SPLIT (read once; an A/B switch for
// benchmarks of one binary on one machine): kOff (default, or `off`) in every warp at each fragment
// read; kOn (`on`) once per K step into shared fragment buffers (TF32 at 128 x 256 tiles where the wide
// tiles apply, 3xTF32 at 128 x 128); kNarrow (`narrow`) the same with TF32 at 128 x 128 too. Off by
// default: measured slower (docs/cuda.md, session 7, helper k12b). All give bitwise the same results for
// the same tile (the same TF32 values and products in the same order).
enum class Tf32Split { kOff = 0, kOn = 1, kNarrow = 2 };
inline Tf32Split gemm_tf32_split() {
  static const Tf32Split mode = env_is("TVDCN_CUDA_TF32_SPLIT", "on")       ? Tf32Split::kOn
                                : env_is("TVDCN_CUDA_TF32_SPLIT", "narrow") ? Tf32Split::kNarrow
                                                                            : Tf32Split::kOff;
  return mode;
}

// Whether the 3xTF32 products with a folded K or K <= 128 keep 128 x 256 tiles (as before session 7)
// instead of 128 x 128: the environment variable TVDCN_CUDA_GEMM_X3_TILES=wide (read once; an A/B switch).
inline bool gemm_x3_wide_always() {
  static const bool on = env_is("TVDCN_CUDA_GEMM_X3_TILES", "wide");
  return on;
}

// When regular-view forwards run the fused implicit-GEMM kernel (NOTE [ Fused forward ]): kOff never,
// kAuto (default) where it measured faster than im2col + GEMM (half types in 3D, a grid of at least
// half as many CTAs as SMs), kForce wherever it applies (float32 too); a switch for tests and benchmarks
// (_cudaSetFusedConv).
enum class FusedConv { kOff = 0, kAuto = 1, kForce = 2 };
inline std::atomic<int>& fused_conv_flag() {
  static std::atomic<int> mode{static_cast<int>(FusedConv::kAuto)};
  return mode;
}
inline FusedConv fused_conv() { return static_cast<FusedConv>(fused_conv_flag().load(std::memory_order_relaxed)); }

// Upper bound of the column workspace of one deformable-convolution chunk, in bytes.
inline std::atomic<long long>& workspace_limit_flag() {
  static std::atomic<long long> bytes{512LL << 20};
  return bytes;
}
inline long long workspace_limit() { return workspace_limit_flag().load(std::memory_order_relaxed); }

}  // namespace dcn::cuda
