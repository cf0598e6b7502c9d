// SPDX-License-Identifier: MIT
// What the tensor kernels of every device share (device-neutral): the elementwise op codes of the
// KernelBackend of @tvdcn/ops (packages/ops/src/backends/kernel-backend.ts, UnaryOp and BinaryOp) and
// the rank limit of strided index arithmetic. The host APIs are cpu_ops.h (dcn::cpu) and cuda_ops.h
// (dcn::cuda); the N-API binding, napi/elementwise_binding.cc, parses op names into these codes. Also
// the index maps of gather and scatter_add.
#pragma once
#include <cstdint>
#include <variant>
#include <vector>

namespace dcn {

// Dimensions of a strided walk after merging contiguous ones (the bindings refuse more).
constexpr int kMaxStridedDims = 16;

// out = op(x, alpha); alpha is unused by the ops that do not name it.
enum class UnaryOp {
  kNeg,
  kExp,
  kLog,
  kSigmoid,
  kTanh,
  kRelu,  // NaN stays NaN
  kAbs,
  kSign,  // 0 -> 0, NaN -> NaN
  kSquare,
  kSqrt,
  kAddScalar,   // x + alpha
  kMulScalar,   // x * alpha
  kDivScalar,   // x / alpha
  kRsubScalar,  // alpha - x
  kRdivScalar,  // alpha / x
  kPowScalar,   // x ** alpha
};

// out = op(a, b). The *Backward ops are fused gradients: a is the incoming gradient, b the saved tensor.
enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kSigmoidBackward,  // a * b * (1 - b), b = sigmoid output
  kTanhBackward,     // a * (1 - b * b), b = tanh output
  kReluBackward,     // b > 0 ? a : 0, b = relu input
  kAbsBackward,      // a * sign(b), b = abs input
};

// Per-dimension index maps of gather and scatter_add: maps[d][o] is the index that position o of
// dimension d reads (or -1). int32 entries while every dimension of the call has at most INT32_MAX
// entries (the common case: half the bytes of the maps and of their inverses), int64 otherwise.
template <typename I>
using IndexMapsOf = std::vector<std::vector<I>>;
using IndexMaps = std::variant<IndexMapsOf<int32_t>, IndexMapsOf<int64_t>>;

}  // namespace dcn
