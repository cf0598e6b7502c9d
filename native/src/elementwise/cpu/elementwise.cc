// SPDX-License-Identifier: MIT
// CPU elementwise kernels (cpu_ops.h): fill, cast, in-place add, unary and broadcast binary ops. The op
// is switched on once per call, outside the loops; each loop body is a lambda inlined into a plain
// contiguous loop (or a stride-0 operand held in a register) that GCC/Clang vectorise at -O3 (SSE2
// baseline, see docs/perf/cpu-elementwise.md). Values are computed in float64 and rounded once to the
// dtype: for float32 this is what the TypeScript loops compute (JS numbers are doubles), so both paths
// agree to the last bit for +, -, *, / and the scalar ops, and within libm's error for exp, log, tanh.
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/parallel.h"
#include "elementwise/cpu/strided.h"
#include "elementwise/cpu_ops.h"

namespace dcn::cpu {
namespace {

// Elements per task: cheap ops are bound by memory (a chunk of 32K floats is ~128 KB), libm calls by
// arithmetic (a smaller chunk still amortises the thread hand-off of a few microseconds).
constexpr int64_t kGrainCheap = int64_t{1} << 15;
constexpr int64_t kGrainMath = int64_t{1} << 12;

// Calls body(f, grain) with f the op as a double -> double lambda.
template <typename Body>
void dispatch_unary(UnaryOp op, double alpha, Body&& body) {
  switch (op) {
    case UnaryOp::kNeg: return body([](double x) { return -x; }, kGrainCheap);
    case UnaryOp::kExp: return body([](double x) { return std::exp(x); }, kGrainMath);
    case UnaryOp::kLog: return body([](double x) { return std::log(x); }, kGrainMath);
    case UnaryOp::kSigmoid: return body([](double x) { return 1.0 / (1.0 + std::exp(-x)); }, kGrainMath);
    case UnaryOp::kTanh: return body([](double x) { return std::tanh(x); }, kGrainMath);
    case UnaryOp::kRelu: return body([](double x) { return (x > 0.0 || x != x) ? x : 0.0; }, kGrainCheap);
    case UnaryOp::kAbs: return body([](double x) { return std::fabs(x); }, kGrainCheap);
    case UnaryOp::kSign:
      return body([](double x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x == 0.0 ? 0.0 : x; }, kGrainCheap);
    case UnaryOp::kSquare: return body([](double x) { return x * x; }, kGrainCheap);
    case UnaryOp::kSqrt: return body([](double x) { return std::sqrt(x); }, kGrainCheap);
    case UnaryOp::kAddScalar: return body([alpha](double x) { return x + alpha; }, kGrainCheap);
    case UnaryOp::kMulScalar: return body([alpha](double x) { return x * alpha; }, kGrainCheap);
    case UnaryOp::kDivScalar: return body([alpha](double x) { return x / alpha; }, kGrainCheap);
    case UnaryOp::kRsubScalar: return body([alpha](double x) { return alpha - x; }, kGrainCheap);
    case UnaryOp::kRdivScalar: return body([alpha](double x) { return alpha / x; }, kGrainCheap);
    case UnaryOp::kPowScalar:
      if (alpha == 2.0) return body([](double x) { return x * x; }, kGrainCheap);
      if (alpha == 1.0) return body([](double x) { return x; }, kGrainCheap);
      if (alpha == 0.5) return body([](double x) { return std::sqrt(x); }, kGrainCheap);
      return body([alpha](double x) { return std::pow(x, alpha); }, kGrainMath);
  }
  throw Error(ErrorKind::kInternal, "unary: internal error: unknown op, please report");
}

template <typename Body>
void dispatch_binary(BinaryOp op, Body&& body) {
  switch (op) {
    case BinaryOp::kAdd: return body([](double a, double b) { return a + b; });
    case BinaryOp::kSub: return body([](double a, double b) { return a - b; });
    case BinaryOp::kMul: return body([](double a, double b) { return a * b; });
    case BinaryOp::kDiv: return body([](double a, double b) { return a / b; });
    case BinaryOp::kSigmoidBackward: return body([](double a, double b) { return a * b * (1.0 - b); });
    case BinaryOp::kTanhBackward: return body([](double a, double b) { return a * (1.0 - b * b); });
    case BinaryOp::kReluBackward: return body([](double a, double b) { return b > 0.0 ? a : 0.0; });
    case BinaryOp::kAbsBackward: return body([](double a, double b) { return b > 0.0 ? a : b < 0.0 ? -a : 0.0; });
  }
  throw Error(ErrorKind::kInternal, "binary: internal error: unknown op, please report");
}

// One row of a binary op: o[i] = f(a[i * sa], b[i * sb]) for i < n, with the three layouts that
// broadcasting makes common (both contiguous, one operand a scalar) as separate vectorisable loops.
template <typename T, typename F>
inline void binary_row(const T* a, int64_t sa, const T* b, int64_t sb, T* __restrict__ o, int64_t n, F f) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(a[i], b[i]));
  } else if (sa == 1 && sb == 0) {
    const double bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(a[i], bv));
  } else if (sa == 0 && sb == 1) {
    const double av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(av, b[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(a[i * sa], b[i * sb]));
  }
}

}  // namespace

void fill(DType dtype, void* data, int64_t n, double value) {
  if (n <= 0) return;
  DCN_DISPATCH_FLOATING_TYPES(dtype, "fill", [&] {
    scalar_t* p = static_cast<scalar_t*>(data);
    const scalar_t v = static_cast<scalar_t>(value);
    parallel_for(0, n, kGrainCheap, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
}

void cast(DType src_dtype, const void* src, DType dst_dtype, void* dst, int64_t n) {
  if (n <= 0) return;
  if (src_dtype == dst_dtype) {
    const size_t es = dtype_size(src_dtype);
    parallel_for(0, n, kGrainCheap, [&](int64_t b, int64_t e) {
      std::memmove(static_cast<char*>(dst) + b * es, static_cast<const char*>(src) + b * es, (e - b) * es);
    });
    return;
  }
  DCN_DISPATCH_FLOATING_TYPES(src_dtype, "cast", [&] {
    using src_t = scalar_t;
    DCN_DISPATCH_FLOATING_TYPES(dst_dtype, "cast", [&] {
      const src_t* s = static_cast<const src_t*>(src);
      scalar_t* d = static_cast<scalar_t*>(dst);
      parallel_for(0, n, kGrainCheap, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) d[i] = static_cast<scalar_t>(s[i]);
      });
    });
  });
}

void add_inplace(DType dtype, void* dst, const void* src, int64_t n) {
  if (n <= 0) return;
  DCN_DISPATCH_FLOATING_TYPES(dtype, "addInPlace", [&] {
    scalar_t* d = static_cast<scalar_t*>(dst);
    const scalar_t* s = static_cast<const scalar_t*>(src);
    // A float32 sum of two float32 values is the rounded double sum: no widening needed.
    parallel_for(0, n, kGrainCheap, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] += s[i];
    });
  });
}

void unary(DType dtype, UnaryOp op, const void* x, void* out, int64_t n, double alpha) {
  if (n <= 0) return;
  DCN_DISPATCH_FLOATING_TYPES(dtype, "unary", [&] {
    const scalar_t* X = static_cast<const scalar_t*>(x);
    scalar_t* O = static_cast<scalar_t*>(out);
    dispatch_unary(op, alpha, [&](auto f, int64_t grain) {
      parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) O[i] = static_cast<scalar_t>(f(static_cast<double>(X[i])));
      });
    });
  });
}

void binary(DType dtype, BinaryOp op, const void* a, const int64_t* a_strides, const void* b, const int64_t* b_strides,
            void* out, int ndim, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (n <= 0) return;
  DCN_DISPATCH_FLOATING_TYPES(dtype, "binary", [&] {
    const scalar_t* A = static_cast<const scalar_t*>(a);
    const scalar_t* B = static_cast<const scalar_t*>(b);
    scalar_t* O = static_cast<scalar_t*>(out);
    dispatch_binary(op, [&](auto f) {
      if (ndim == 0) {
        O[0] = static_cast<scalar_t>(f(static_cast<double>(A[0]), static_cast<double>(B[0])));
        return;
      }
      const int64_t inner = shape[ndim - 1];
      const int64_t sa = a_strides[ndim - 1];
      const int64_t sb = b_strides[ndim - 1];
      if (ndim == 1) {
        parallel_for(0, n, kGrainCheap,
                     [&](int64_t lo, int64_t hi) { binary_row(A + lo * sa, sa, B + lo * sb, sb, O + lo, hi - lo, f); });
        return;
      }
      // Rows along the last dimension; each task walks its rows with an odometer over the outer ones.
      const int64_t rows = n / inner;
      const int64_t* const strides[2] = {a_strides, b_strides};
      const int64_t base[2] = {0, 0};
      parallel_for(0, rows, std::max<int64_t>(1, kGrainCheap / inner), [&](int64_t r0, int64_t r1) {
        detail::for_rows<2>(ndim, shape, strides, base, r0, r1, [&](int64_t row, const int64_t* off) {
          binary_row(A + off[0], sa, B + off[1], sb, O + row * inner, inner, f);
        });
      });
    });
  });
}

}  // namespace dcn::cpu
