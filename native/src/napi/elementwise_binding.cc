// SPDX-License-Identifier: MIT
// fill, cast, addInPlace, unary, binary, sum, copyStrided, gather, scatterAdd (packages/ops/src/native/
// binding.ts): the tensor kernels of the KernelBackend of @tvdcn/ops, on every device. Each export reads
// and checks all its arguments first (tensors through napi/tensor_arg.h: CPU typed arrays or CUDA
// DeviceBuffers), then makes ONE kernel call on the tensors' device (elementwise/cpu_ops.h, queued on the
// environment's CPU queue and run on the thread pool; elementwise/cuda_ops.h, asynchronous on the device's
// stream), with every value
// it needs captured by value. Tensors are seen flat: their `shape` only has to match their data's length;
// the geometry of a call (iteration shape, strides, offsets, maps) comes in plain integer arrays. The
// checks are those that guard memory (see style.md §9.9): sizes against lengths, strides and offsets
// inside the buffers, map entries in range, dtypes, one device, outputs not overlapping what they read.
// The ops layer validated everything else, so a failure here names an internal inconsistency.
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "elementwise/cpu_ops.h"
#include "elementwise/elementwise_ops.h"
#include "napi/errors.h"
#include "napi/register.h"
#include "napi/tensor_arg.h"
#ifdef TVDCN_WITH_CUDA
#include "elementwise/cuda_ops.h"
#endif

namespace dcn::napi {
namespace {

constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;
// Dimensions of an iteration shape: the CPU kernels take any number, CUDA's index arithmetic at most
// kMaxStridedDims (shapes arrive merged, cuda/cuda-backend.ts).
constexpr int kMaxCpuDims = 64;

// Runs the kernel of the tensors' device: cpu() queued on the environment's CPU queue (TensorArgs::run,
// napi/cpu_queue.h), cuda(index) at once on a CUDA device (asynchronous on its stream). The lambdas own
// everything they read besides the tensors' memory (captured by value): the CPU one may run after the
// export returned. Returns what the export returns (the CPU task's sequence number, or undefined).
template <typename Cpu, typename Cuda>
Napi::Value launch(Napi::Env env, TensorArgs& tensors, Cpu&& cpu, Cuda&& cuda) {
  if (tensors.device().type == DeviceType::kCPU) return tensors.run(env, std::forward<Cpu>(cpu));
#ifdef TVDCN_WITH_CUDA
  cuda(tensors.device().index);
#else
  (void)cuda;
#endif
  return env.Undefined();
}

double number_arg(const char* op, const char* name, const Napi::Value& v) {
  DCN_CHECK(v.IsNumber(), kType, op, ": expected ", name, " to be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// An array of at most `max_len` integers in [min, 2^53 - 1].
std::vector<int64_t> int_list(const char* op, const std::string& name, const Napi::Value& v, int64_t min, int max_len) {
  DCN_CHECK(v.IsArray(), kType, op, ": expected ", name, " to be an array of integers");
  const Napi::Array a = v.As<Napi::Array>();
  DCN_CHECK(a.Length() <= static_cast<uint32_t>(max_len), kRange, op, ": expected ", name, " to have at most ", max_len,
            " entries, but got ", a.Length());
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value e = a.Get(i);
    // The common case without building the entry's name; int_arg words the error otherwise.
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1e300;
    if (d >= static_cast<double>(min) && d <= static_cast<double>(kMaxSafe) &&
        d == static_cast<double>(static_cast<int64_t>(d))) {
      out[i] = static_cast<int64_t>(d);
    } else {
      out[i] = int_arg(op, name + "[" + std::to_string(i) + "]", e, min);
    }
  }
  return out;
}

// The product of `shape`, or an error when it exceeds 2^53 - 1.
int64_t numel_of(const char* op, const char* name, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    DCN_CHECK(!__builtin_mul_overflow(n, s, &n) && n <= kMaxSafe, kRange, op, ": expected ", name,
              " to have at most 2^53 - 1 elements, but it overflows");
  }
  return n;
}

void expect_numel(const char* op, const char* name, const TensorView& t, int64_t n) {
  DCN_CHECK(t.numel() == n, kValue, op, ": expected ", name, " to have ", n, " elements, but got ", t.numel());
}

void expect_rank(const char* op, const char* name, const Device& device, size_t ndim) {
  const int max = device.type == DeviceType::kCPU ? kMaxCpuDims : kMaxStridedDims;
  DCN_CHECK(ndim <= static_cast<size_t>(max), kRange, op, ": expected ", name, " to have at most ", max,
            " dimensions on this device, but got ", ndim);
}

// Throws unless the strided walk of `shape` from `offset` stays inside [0, t.numel()). An empty shape
// reaches nothing.
void expect_inside(const char* op, const char* name, const TensorView& t, int64_t offset,
                   const std::vector<int64_t>& strides, const std::vector<int64_t>& shape) {
  DCN_CHECK(strides.size() == shape.size(), kValue, op, ": expected ", name, "Strides to have ", shape.size(),
            " entries (one per dimension of shape), but got ", strides.size());
  for (int64_t s : shape)
    if (s == 0) return;
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t step = 0;
    bool bad = __builtin_mul_overflow(shape[d] - 1, strides[d], &step);
    bad = bad || __builtin_add_overflow(step < 0 ? lo : hi, step, step < 0 ? &lo : &hi);
    DCN_CHECK(!bad, kRange, op, ": expected the walk over ", name, " to stay inside it, but its offsets overflow");
  }
  DCN_CHECK(lo >= 0 && hi < t.numel(), kRange, op, ": expected the walk over ", name, " (offsets ", lo, " to ", hi,
            ") to stay inside its ", t.numel(), " elements");
}

// Elementwise in place: `out` is either exactly `in` or shares no memory with it.
void expect_same_or_disjoint(const char* op, const std::string& out_name, const TensorView& out,
                             const std::string& in_name, const TensorView& in) {
  if (out.data == in.data && out.dtype == in.dtype && out.numel() == in.numel()) return;
  expect_no_overlap(op, {{out_name, &out}}, {{in_name, &in}});
}

// The op names of kernel-backend.ts.
// `name` receives the op's name (a string literal), which names a failed queued task.
UnaryOp parse_unary(const char* op, const Napi::Value& v, const char** name) {
  static const std::pair<const char*, UnaryOp> kNames[] = {
      {"neg", UnaryOp::kNeg},
      {"exp", UnaryOp::kExp},
      {"log", UnaryOp::kLog},
      {"sigmoid", UnaryOp::kSigmoid},
      {"tanh", UnaryOp::kTanh},
      {"relu", UnaryOp::kRelu},
      {"abs", UnaryOp::kAbs},
      {"sign", UnaryOp::kSign},
      {"square", UnaryOp::kSquare},
      {"sqrt", UnaryOp::kSqrt},
      {"addScalar", UnaryOp::kAddScalar},
      {"mulScalar", UnaryOp::kMulScalar},
      {"divScalar", UnaryOp::kDivScalar},
      {"rsubScalar", UnaryOp::kRsubScalar},
      {"rdivScalar", UnaryOp::kRdivScalar},
      {"powScalar", UnaryOp::kPowScalar},
  };
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  for (const auto& [n, code] : kNames) {
    if (s == n) {
      *name = n;
      return code;
    }
  }
  throw Error(ErrorKind::kType, detail::concat(op, ": expected op to be a unary op name, but got '", s, "'"));
}

// `name` receives the op's name (a string literal), which names a failed queued task.
BinaryOp parse_binary(const char* op, const Napi::Value& v, const char** name) {
  static const std::pair<const char*, BinaryOp> kNames[] = {
      {"add", BinaryOp::kAdd},
      {"sub", BinaryOp::kSub},
      {"mul", BinaryOp::kMul},
      {"div", BinaryOp::kDiv},
      {"sigmoidBackward", BinaryOp::kSigmoidBackward},
      {"tanhBackward", BinaryOp::kTanhBackward},
      {"reluBackward", BinaryOp::kReluBackward},
      {"absBackward", BinaryOp::kAbsBackward},
  };
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  for (const auto& [n, code] : kNames) {
    if (s == n) {
      *name = n;
      return code;
    }
  }
  throw Error(ErrorKind::kType, detail::concat(op, ": expected op to be a binary op name, but got '", s, "'"));
}

// A map entry for an error message: every digit of a whole number up to 2^53, fractions to 17 digits.
template <typename E>
std::string entry_text(E e) {
  std::ostringstream os;
  os.precision(17);
  os << e;
  return os.str();
}

// Map d of `maps` (an Int32Array or a Float64Array of whole numbers, checked by maps_arg) as I, checked to
// have lengths[d] entries in [-1, bounds[d]). A copy: no JS array is read later.
template <typename I, typename E>
std::vector<I> map_entries(const char* op, uint32_t d, const Napi::TypedArrayOf<E>& arr, int64_t length,
                           int64_t bound) {
  DCN_CHECK(static_cast<int64_t>(arr.ElementLength()) == length, kValue, op, ": expected maps[", d, "] to have ",
            length, " entries, but got ", arr.ElementLength());
  DCN_CHECK(length == 0 || arr.Data() != nullptr, kValue, op, ": maps[", d, "] has no memory (detached?)");
  std::vector<I> out(static_cast<size_t>(length));
  for (int64_t o = 0; o < length; ++o) {
    const E e = arr.Data()[o];
    // NaN fails the range test; a fraction fails the whole-number test (E = double only).
    DCN_CHECK(e >= -1 && e < bound && e == static_cast<E>(static_cast<int64_t>(e)), kRange, op,
              ": expected the entries of maps[", d, "] to be whole numbers in [-1, ", bound, "), but got ",
              entry_text(e));
    out[o] = static_cast<I>(e);
  }
  return out;
}

template <typename I>
IndexMapsOf<I> map_list(const char* op, const std::vector<Napi::TypedArray>& arrays,
                        const std::vector<int64_t>& lengths, const std::vector<int64_t>& bounds) {
  IndexMapsOf<I> maps(arrays.size());
  for (uint32_t d = 0; d < arrays.size(); ++d) {
    const Napi::TypedArray& m = arrays[d];
    if (m.TypedArrayType() == napi_int32_array) {
      maps[d] = map_entries<I>(op, d, m.As<Napi::Int32Array>(), lengths[d], bounds[d]);
    } else {
      maps[d] = map_entries<I>(op, d, m.As<Napi::Float64Array>(), lengths[d], bounds[d]);
    }
  }
  return maps;
}

// `count` maps, each an Int32Array or (for dimensions longer than 2^31) a Float64Array of whole numbers;
// map d has lengths[d] entries in [-1, bounds[d]). int32 maps for the kernels while every length and bound
// fits in int32 and every map is an Int32Array, else int64 (IndexMaps, elementwise_ops.h).
IndexMaps maps_arg(const char* op, const Napi::Value& v, const std::vector<int64_t>& lengths,
                   const std::vector<int64_t>& bounds) {
  DCN_CHECK(v.IsArray(), kType, op, ": expected maps to be an array of Int32Array or Float64Array");
  const Napi::Array a = v.As<Napi::Array>();
  DCN_CHECK(a.Length() == lengths.size(), kValue, op, ": expected maps to have ", lengths.size(),
            " entries (one per dimension), but got ", a.Length());
  constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();
  bool wide = false;
  std::vector<Napi::TypedArray> arrays;  // each entry read once (a getter could answer differently later)
  for (uint32_t d = 0; d < lengths.size(); ++d) {
    const Napi::Value m = a.Get(d);
    const bool typed = m.IsTypedArray();
    const napi_typedarray_type type = typed ? m.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
    DCN_CHECK(typed && (type == napi_int32_array || type == napi_float64_array), kType, op, ": expected maps[", d,
              "] to be an Int32Array or a Float64Array");
    arrays.push_back(m.As<Napi::TypedArray>());
    wide = wide || type == napi_float64_array || lengths[d] > kMax32 || bounds[d] > kMax32;
  }
  if (wide) return map_list<int64_t>(op, arrays, lengths, bounds);
  return map_list<int32_t>(op, arrays, lengths, bounds);
}

// fill(out, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "fill";
    TensorArgs tensors(op);
    const TensorView& out = tensors.add("out", info[0], false, true);
    const double value = number_arg(op, "value", info[1]);
    tensors.finalize();
    const DType dt = out.dtype;
    void* p = out.data;
    const int64_t n = out.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::fill(dt, p, n, value); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::fill(dev, dt, p, n, value);
#endif
        });
  });
}

// cast(src, dst): dst = src converted to dst's dtype (same element count).
Napi::Value Cast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "cast";
    TensorArgs tensors(op);
    const TensorView& src = tensors.add("src", info[0], false);
    const TensorView& dst = tensors.add("dst", info[1], false, true);
    tensors.finalize();
    expect_numel(op, "dst", dst, src.numel());
    expect_same_or_disjoint(op, "dst", dst, "src", src);
    const DType sd = src.dtype, dd = dst.dtype;
    const void* s = src.data;
    void* d = dst.data;
    const int64_t n = src.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::cast(sd, s, dd, d, n); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::cast(dev, sd, s, dd, d, n);
#endif
        });
  });
}

// addInPlace(dst, src): dst += src.
Napi::Value AddInPlace(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "addInPlace";
    TensorArgs tensors(op);
    const TensorView& dst = tensors.add("dst", info[0], false, true);
    const TensorView& src = tensors.add("src", info[1], false);
    tensors.finalize();
    expect_same_dtype(op, "src", src, "dst", dst);
    expect_numel(op, "src", src, dst.numel());
    expect_same_or_disjoint(op, "dst", dst, "src", src);
    const DType dt = dst.dtype;
    void* d = dst.data;
    const void* s = src.data;
    const int64_t n = dst.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::add_inplace(dt, d, s, n); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::add_inplace(dev, dt, d, s, n);
#endif
        });
  });
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "unary";
    const char* name = op;
    const UnaryOp code = parse_unary(op, info[0], &name);
    TensorArgs tensors(op);
    tensors.set_task_name(name);
    const TensorView& x = tensors.add("x", info[1], false);
    const TensorView& out = tensors.add("out", info[2], false, true);
    const double alpha = number_arg(op, "alpha", info[3]);
    tensors.finalize();
    expect_same_dtype(op, "out", out, "x", x);
    expect_numel(op, "out", out, x.numel());
    expect_same_or_disjoint(op, "out", out, "x", x);
    const DType dt = x.dtype;
    const void* xp = x.data;
    void* op_ = out.data;
    const int64_t n = x.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::unary(dt, code, xp, op_, n, alpha); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::unary(dev, dt, code, xp, op_, n, alpha);
#endif
        });
  });
}

// binary(op, a, aStrides, b, bStrides, out, shape): out (contiguous, shape) = op(a, b), the operands read
// through their strides (in elements, 0 along broadcast dims).
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "binary";
    const char* name = op;
    const BinaryOp code = parse_binary(op, info[0], &name);
    TensorArgs tensors(op);
    tensors.set_task_name(name);
    const TensorView& a = tensors.add("a", info[1], false);
    std::vector<int64_t> as = int_list(op, "aStrides", info[2], 0, kMaxCpuDims);
    const TensorView& b = tensors.add("b", info[3], false);
    std::vector<int64_t> bs = int_list(op, "bStrides", info[4], 0, kMaxCpuDims);
    const TensorView& out = tensors.add("out", info[5], false, true);
    std::vector<int64_t> shape = int_list(op, "shape", info[6], 0, kMaxCpuDims);
    tensors.finalize();
    expect_rank(op, "shape", tensors.device(), shape.size());
    expect_same_dtype(op, "b", b, "a", a);
    expect_same_dtype(op, "out", out, "a", a);
    expect_numel(op, "out", out, numel_of(op, "shape", shape));
    expect_inside(op, "a", a, 0, as, shape);
    expect_inside(op, "b", b, 0, bs, shape);
    expect_no_overlap(op, {{"out", &out}}, {{"a", &a}, {"b", &b}});
    const DType dt = a.dtype;
    const void *ap = a.data, *bp = b.data;
    void* o = out.data;
    const int nd = static_cast<int>(shape.size());
    return launch(
        info.Env(), tensors, [=] { cpu::binary(dt, code, ap, as.data(), bp, bs.data(), o, nd, shape.data()); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::binary(dev, dt, code, ap, as.data(), bp, bs.data(), o, nd, shape.data());
#endif
        });
  });
}

// sum(x, shape, dims, out): x (contiguous, shape) summed over dims; out has the kept dims.
Napi::Value Sum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "sum";
    TensorArgs tensors(op);
    const TensorView& x = tensors.add("x", info[0], false);
    const std::vector<int64_t> shape = int_list(op, "shape", info[1], 0, kMaxCpuDims);
    const std::vector<int64_t> dims = int_list(op, "dims", info[2], 0, kMaxCpuDims);
    const TensorView& out = tensors.add("out", info[3], false, true);
    tensors.finalize();
    expect_rank(op, "shape", tensors.device(), shape.size());
    expect_same_dtype(op, "out", out, "x", x);
    expect_numel(op, "x", x, numel_of(op, "shape", shape));
    std::vector<char> reduced(shape.size(), 0);
    int64_t n_out = 1;
    for (int64_t d : dims) {
      DCN_CHECK(d < static_cast<int64_t>(shape.size()), kRange, op, ": expected dims to be < ", shape.size(),
                " (the rank of shape), but got ", d);
      reduced[d] = 1;
    }
    for (size_t d = 0; d < shape.size(); ++d)
      if (!reduced[d]) n_out *= shape[d];
    expect_numel(op, "out", out, n_out);
    expect_no_overlap(op, {{"out", &out}}, {{"x", &x}});
    const DType dt = x.dtype;
    const void* xp = x.data;
    void* o = out.data;
    const int nd = static_cast<int>(shape.size());
    const std::vector<int64_t> sh = shape;
    const std::vector<char> rc = reduced;
    return launch(
        info.Env(), tensors,
        [=] {
          bool rb[kMaxCpuDims] = {};
          for (int d = 0; d < nd; ++d) rb[d] = rc[d] != 0;
          cpu::sum(dt, xp, nd, sh.data(), rb, o);
        },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          bool rb[kMaxStridedDims] = {};
          for (int d = 0; d < nd; ++d) rb[d] = rc[d] != 0;
          cuda::sum(dev, dt, xp, nd, sh.data(), rb, o);
#endif
        });
  });
}

// copyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)
Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "copyStrided";
    TensorArgs tensors(op);
    const TensorView& src = tensors.add("src", info[0], false);
    const int64_t so = int_arg(op, "srcOffset", info[1], 0);
    std::vector<int64_t> ss = int_list(op, "srcStrides", info[2], -kMaxSafe, kMaxCpuDims);
    const TensorView& dst = tensors.add("dst", info[3], false, true);
    const int64_t dof = int_arg(op, "dstOffset", info[4], 0);
    std::vector<int64_t> ds = int_list(op, "dstStrides", info[5], -kMaxSafe, kMaxCpuDims);
    std::vector<int64_t> shape = int_list(op, "shape", info[6], 0, kMaxCpuDims);
    tensors.finalize();
    expect_rank(op, "shape", tensors.device(), shape.size());
    expect_same_dtype(op, "dst", dst, "src", src);
    numel_of(op, "shape", shape);
    expect_inside(op, "src", src, so, ss, shape);
    expect_inside(op, "dst", dst, dof, ds, shape);
    // The CPU kernel copies overlapping ranges through a temporary; CUDA buffers never overlap unless equal.
    if (tensors.device().type != DeviceType::kCPU) expect_same_or_disjoint(op, "dst", dst, "src", src);
    const DType dt = src.dtype;
    const void* sp = src.data;
    void* dp = dst.data;
    const int nd = static_cast<int>(shape.size());
    return launch(
        info.Env(), tensors, [=] { cpu::copy_strided(dt, sp, so, ss.data(), dp, dof, ds.data(), nd, shape.data()); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          cuda::copy_strided(dev, dt, sp, so, ss.data(), dp, dof, ds.data(), nd, shape.data());
#endif
        });
  });
}

// gather(x, xShape, maps, outShape, value, out)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "gather";
    TensorArgs tensors(op);
    const TensorView& x = tensors.add("x", info[0], false);
    std::vector<int64_t> xs = int_list(op, "xShape", info[1], 0, kMaxCpuDims);
    std::vector<int64_t> os = int_list(op, "outShape", info[3], 0, kMaxCpuDims);
    DCN_CHECK(xs.size() == os.size(), kValue, op, ": expected outShape to have ", xs.size(),
              " dimensions (the rank of xShape), but got ", os.size());
    IndexMaps maps = maps_arg(op, info[2], os, xs);
    const double value = number_arg(op, "value", info[4]);
    const TensorView& out = tensors.add("out", info[5], false, true);
    tensors.finalize();
    expect_rank(op, "xShape", tensors.device(), xs.size());
    expect_same_dtype(op, "out", out, "x", x);
    expect_numel(op, "x", x, numel_of(op, "xShape", xs));
    expect_numel(op, "out", out, numel_of(op, "outShape", os));
    expect_no_overlap(op, {{"out", &out}}, {{"x", &x}});
    const DType dt = x.dtype;
    const void* xp = x.data;
    void* o = out.data;
    const int nd = static_cast<int>(xs.size());
    [[maybe_unused]] const int64_t n_out = out.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::gather(dt, xp, nd, xs.data(), maps, os.data(), value, o); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          if (nd == 0) return cuda::cast(dev, dt, xp, dt, o, n_out);  // a scalar: out = x
          cuda::gather(dev, dt, xp, nd, xs.data(), maps, os.data(), value, o);
#endif
        });
  });
}

// scatterAdd(g, gShape, maps, xShape, out): out (xShape, fully written) = the adjoint of gather of g.
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "scatterAdd";
    TensorArgs tensors(op);
    const TensorView& g = tensors.add("g", info[0], false);
    std::vector<int64_t> gs = int_list(op, "gShape", info[1], 0, kMaxCpuDims);
    std::vector<int64_t> xs = int_list(op, "xShape", info[3], 0, kMaxCpuDims);
    DCN_CHECK(xs.size() == gs.size(), kValue, op, ": expected xShape to have ", gs.size(),
              " dimensions (the rank of gShape), but got ", xs.size());
    IndexMaps maps = maps_arg(op, info[2], gs, xs);
    const TensorView& out = tensors.add("out", info[4], false, true);
    tensors.finalize();
    expect_rank(op, "gShape", tensors.device(), gs.size());
    expect_same_dtype(op, "out", out, "g", g);
    expect_numel(op, "g", g, numel_of(op, "gShape", gs));
    expect_numel(op, "out", out, numel_of(op, "xShape", xs));
    expect_no_overlap(op, {{"out", &out}}, {{"g", &g}});
    const DType dt = g.dtype;
    const void* gp = g.data;
    void* o = out.data;
    const int nd = static_cast<int>(gs.size());
    [[maybe_unused]] const int64_t ng = g.numel();
    [[maybe_unused]] const int64_t n_out = out.numel();
    return launch(
        info.Env(), tensors, [=] { cpu::scatter_add(dt, gp, nd, gs.data(), maps, xs.data(), o); },
        [=](int dev) {
#ifdef TVDCN_WITH_CUDA
          if (n_out == 0) return;
          if (ng == 0) return cuda::fill(dev, dt, o, n_out, 0.0);
          if (nd == 0) return cuda::cast(dev, dt, gp, dt, o, 1);
          cuda::scatter_add(dev, dt, gp, nd, gs.data(), maps, xs.data(), o);
#endif
        });
  });
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  fn("fill", Fill);
  fn("cast", Cast);
  fn("addInPlace", AddInPlace);
  fn("unary", Unary);
  fn("binary", Binary);
  fn("sum", Sum);
  fn("copyStrided", CopyStrided);
  fn("gather", Gather);
  fn("scatterAdd", ScatterAdd);
}

}  // namespace dcn::napi
