// SPDX-License-Identifier: MIT
// N-API entry points of the CUDA elementwise kernels (the KernelBackend of @tvdcn/ops for CUDA tensors):
// fills, casts, unary and binary maps, sums, strided copies, gathers and scatters on DeviceBuffers. Each
// call checks again only what would otherwise read or write out of bounds (sizes against buffer lengths,
// one device, one dtype); the ops layer validated everything else. All calls are asynchronous on the
// device's stream. Registers nothing in a CPU-only build. The deformable convolution and the mask softmax
// on CUDA tensors go through the shared exports (deform_conv_binding.cc, mask_binding.cc).
#include "napi/register.h"

#ifdef TVDCN_WITH_CUDA
#include <string>
#include <vector>

#include "core/error.h"
#include "elementwise/cuda_ops.h"
#include "napi/cuda_buffer.h"
#include "napi/errors.h"

namespace dcn::napi {
namespace {

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// Buffers of one call: all on one device, of one dtype (checked).
struct Buffers {
  int device = -1;
  DType dtype = DType::kFloat32;
  void add(const DeviceBuffer* b, const char* op) {
    if (device < 0) {
      device = b->device();
      dtype = b->dtype();
      return;
    }
    DCN_CHECK(b->device() == device, kValue, op, ": internal error: buffers on cuda:", device,
              " and cuda:", b->device(), ", please report");
    DCN_CHECK(b->dtype() == dtype, kDType, op, ": internal error: buffers of dtype ", dtype_name(dtype), " and ",
              dtype_name(b->dtype()), ", please report");
  }
};

void expect_numel(const DeviceBuffer* b, int64_t n, const char* op, const char* what) {
  DCN_CHECK(b->numel() == n, kValue, op, ": internal error: ", what, " has ", b->numel(), " elements where ", n,
            " are needed, please report");
}

cuda::UnaryOp parse_unary(const std::string& s) {
  using U = cuda::UnaryOp;
  if (s == "neg") return U::kNeg;
  if (s == "exp") return U::kExp;
  if (s == "log") return U::kLog;
  if (s == "sigmoid") return U::kSigmoid;
  if (s == "tanh") return U::kTanh;
  if (s == "relu") return U::kRelu;
  if (s == "abs") return U::kAbs;
  if (s == "sign") return U::kSign;
  if (s == "square") return U::kSquare;
  if (s == "sqrt") return U::kSqrt;
  if (s == "addScalar") return U::kAddScalar;
  if (s == "mulScalar") return U::kMulScalar;
  if (s == "divScalar") return U::kDivScalar;
  if (s == "rsubScalar") return U::kRsubScalar;
  if (s == "rdivScalar") return U::kRdivScalar;
  if (s == "powScalar") return U::kPowScalar;
  throw dcn::Error(ErrorKind::kType, "cudaUnary: unknown op '" + s + "'");
}

cuda::BinaryOp parse_binary(const std::string& s) {
  using B = cuda::BinaryOp;
  if (s == "add") return B::kAdd;
  if (s == "sub") return B::kSub;
  if (s == "mul") return B::kMul;
  if (s == "div") return B::kDiv;
  if (s == "sigmoidBackward") return B::kSigmoidBackward;
  if (s == "tanhBackward") return B::kTanhBackward;
  if (s == "reluBackward") return B::kReluBackward;
  if (s == "absBackward") return B::kAbsBackward;
  throw dcn::Error(ErrorKind::kType, "cudaBinary: unknown op '" + s + "'");
}

double number(Napi::Value v, const char* what) {
  if (!v.IsNumber()) throw dcn::Error(ErrorKind::kType, std::string(what) + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<std::vector<int32_t>> int32_maps(Napi::Value v, size_t ndim, const char* what) {
  if (!v.IsArray()) throw dcn::Error(ErrorKind::kType, std::string(what) + ": expected an array of Int32Array");
  Napi::Array a = v.As<Napi::Array>();
  DCN_CHECK(a.Length() == ndim, kValue, what, ": expected ", ndim, " maps, but got ", a.Length());
  std::vector<std::vector<int32_t>> maps(ndim);
  for (uint32_t d = 0; d < ndim; ++d) {
    Napi::Value m = a.Get(d);
    if (!m.IsTypedArray() || m.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw dcn::Error(ErrorKind::kType, std::string(what) + ": expected Int32Array maps");
    }
    Napi::Int32Array arr = m.As<Napi::Int32Array>();
    maps[d].assign(arr.Data(), arr.Data() + arr.ElementLength());
  }
  return maps;
}

// cudaFill(buffer, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DeviceBuffer* b = DeviceBuffer::From(info[0], "cudaFill");
    cuda::fill(b->device(), b->dtype(), b->data(), b->numel(), number(info[1], "cudaFill value"));
    return info.Env().Undefined();
  });
}

// cudaCast(src, dst): dst = src converted to dst's dtype (same element count).
Napi::Value Cast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DeviceBuffer* src = DeviceBuffer::From(info[0], "cudaCast src");
    DeviceBuffer* dst = DeviceBuffer::From(info[1], "cudaCast dst");
    DCN_CHECK(src->device() == dst->device(), kValue, "cudaCast: internal error: two devices, please report");
    expect_numel(dst, src->numel(), "cudaCast", "dst");
    cuda::cast(src->device(), src->dtype(), src->data(), dst->dtype(), dst->data(), src->numel());
    return info.Env().Undefined();
  });
}

// cudaAddInPlace(dst, src)
Napi::Value AddInPlace(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Buffers bs;
    DeviceBuffer* dst = DeviceBuffer::From(info[0], "cudaAddInPlace dst");
    DeviceBuffer* src = DeviceBuffer::From(info[1], "cudaAddInPlace src");
    bs.add(dst, "cudaAddInPlace");
    bs.add(src, "cudaAddInPlace");
    expect_numel(src, dst->numel(), "cudaAddInPlace", "src");
    cuda::add_inplace(bs.device, bs.dtype, dst->data(), src->data(), dst->numel());
    return info.Env().Undefined();
  });
}

// cudaUnary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const auto op = parse_unary(info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "");
    Buffers bs;
    DeviceBuffer* x = DeviceBuffer::From(info[1], "cudaUnary x");
    DeviceBuffer* out = DeviceBuffer::From(info[2], "cudaUnary out");
    bs.add(x, "cudaUnary");
    bs.add(out, "cudaUnary");
    expect_numel(out, x->numel(), "cudaUnary", "out");
    cuda::unary(bs.device, bs.dtype, op, x->data(), out->data(), x->numel(), number(info[3], "cudaUnary alpha"));
    return info.Env().Undefined();
  });
}

// cudaBinary(op, a, aStrides, b, bStrides, out, shape): strides in elements, 0 along broadcast dims.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const auto op = parse_binary(info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "");
    Buffers bs;
    DeviceBuffer* a = DeviceBuffer::From(info[1], "cudaBinary a");
    const auto as = int_array(info[2], "cudaBinary aStrides");
    DeviceBuffer* b = DeviceBuffer::From(info[3], "cudaBinary b");
    const auto bst = int_array(info[4], "cudaBinary bStrides");
    DeviceBuffer* out = DeviceBuffer::From(info[5], "cudaBinary out");
    const auto shape = int_array(info[6], "cudaBinary shape");
    bs.add(a, "cudaBinary");
    bs.add(b, "cudaBinary");
    bs.add(out, "cudaBinary");
    const int nd = static_cast<int>(shape.size());
    DCN_CHECK(as.size() == shape.size() && bst.size() == shape.size(), kValue,
              "cudaBinary: internal error: stride arrays do not match the shape, please report");
    expect_numel(out, product(shape), "cudaBinary", "out");
    // Bounds: the largest offset each operand reaches must be inside it.
    auto reach = [&](const std::vector<int64_t>& st) {
      int64_t m = 0;
      for (int d = 0; d < nd; ++d) {
        DCN_CHECK(st[d] >= 0, kValue, "cudaBinary: internal error: negative stride, please report");
        if (shape[d] > 0) m += (shape[d] - 1) * st[d];
      }
      return m;
    };
    if (product(shape) > 0) {
      DCN_CHECK(reach(as) < a->numel() && reach(bst) < b->numel(), kValue,
                "cudaBinary: internal error: strides reach outside an operand, please report");
    }
    cuda::binary(bs.device, bs.dtype, op, a->data(), as.data(), b->data(), bst.data(), out->data(), nd, shape.data());
    return info.Env().Undefined();
  });
}

// cudaSum(x, shape, dims, out)
Napi::Value Sum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Buffers bs;
    DeviceBuffer* x = DeviceBuffer::From(info[0], "cudaSum x");
    const auto shape = int_array(info[1], "cudaSum shape");
    const auto dims = int_array(info[2], "cudaSum dims");
    DeviceBuffer* out = DeviceBuffer::From(info[3], "cudaSum out");
    bs.add(x, "cudaSum");
    bs.add(out, "cudaSum");
    expect_numel(x, product(shape), "cudaSum", "x");
    std::vector<char> reduced(shape.size(), 0);
    for (int64_t d : dims) {
      DCN_CHECK(d >= 0 && d < static_cast<int64_t>(shape.size()), kRange, "cudaSum: internal error: dim ", d,
                " out of range, please report");
      reduced[d] = 1;
    }
    int64_t n_out = 1;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!reduced[d]) n_out *= shape[d];
    expect_numel(out, n_out, "cudaSum", "out");
    bool red[cuda::kMaxStridedDims] = {};
    DCN_CHECK(shape.size() <= static_cast<size_t>(cuda::kMaxStridedDims), kRange, "cudaSum: expected at most ",
              cuda::kMaxStridedDims, " dimensions");
    for (size_t d = 0; d < shape.size(); ++d) red[d] = reduced[d] != 0;
    cuda::sum(bs.device, bs.dtype, x->data(), static_cast<int>(shape.size()), shape.data(), red, out->data());
    return info.Env().Undefined();
  });
}

// cudaCopyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)
Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Buffers bs;
    DeviceBuffer* src = DeviceBuffer::From(info[0], "cudaCopyStrided src");
    const int64_t so = int_value(info[1], "cudaCopyStrided srcOffset");
    const auto ss = int_array(info[2], "cudaCopyStrided srcStrides");
    DeviceBuffer* dst = DeviceBuffer::From(info[3], "cudaCopyStrided dst");
    const int64_t dof = int_value(info[4], "cudaCopyStrided dstOffset");
    const auto ds = int_array(info[5], "cudaCopyStrided dstStrides");
    const auto shape = int_array(info[6], "cudaCopyStrided shape");
    bs.add(src, "cudaCopyStrided");
    bs.add(dst, "cudaCopyStrided");
    const int nd = static_cast<int>(shape.size());
    DCN_CHECK(ss.size() == shape.size() && ds.size() == shape.size(), kValue,
              "cudaCopyStrided: internal error: stride arrays do not match the shape, please report");
    if (product(shape) > 0) {
      int64_t lo_s = so, hi_s = so, lo_d = dof, hi_d = dof;
      for (int d = 0; d < nd; ++d) {
        const int64_t e = shape[d] - 1;
        (ss[d] < 0 ? lo_s : hi_s) += e * ss[d];
        (ds[d] < 0 ? lo_d : hi_d) += e * ds[d];
      }
      DCN_CHECK(lo_s >= 0 && hi_s < src->numel() && lo_d >= 0 && hi_d < dst->numel(), kValue,
                "cudaCopyStrided: internal error: the copy reaches outside a buffer, please report");
    }
    cuda::copy_strided(bs.device, bs.dtype, src->data(), so, ss.data(), dst->data(), dof, ds.data(), nd, shape.data());
    return info.Env().Undefined();
  });
}

// cudaGather(x, xShape, maps, outShape, value, out)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Buffers bs;
    DeviceBuffer* x = DeviceBuffer::From(info[0], "cudaGather x");
    const auto xs = int_array(info[1], "cudaGather xShape");
    const auto os = int_array(info[3], "cudaGather outShape");
    DCN_CHECK(xs.size() == os.size(), kValue, "cudaGather: internal error: ranks differ, please report");
    const auto maps = int32_maps(info[2], xs.size(), "cudaGather maps");
    DeviceBuffer* out = DeviceBuffer::From(info[5], "cudaGather out");
    bs.add(x, "cudaGather");
    bs.add(out, "cudaGather");
    expect_numel(x, product(xs), "cudaGather", "x");
    expect_numel(out, product(os), "cudaGather", "out");
    if (xs.empty()) {  // a scalar: out = x
      cuda::cast(bs.device, bs.dtype, x->data(), bs.dtype, out->data(), 1);
      return info.Env().Undefined();
    }
    cuda::gather(bs.device, bs.dtype, x->data(), static_cast<int>(xs.size()), xs.data(), maps, os.data(),
                 number(info[4], "cudaGather value"), out->data());
    return info.Env().Undefined();
  });
}

// cudaScatterAdd(g, gShape, maps, xShape, out): out is fully written.
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Buffers bs;
    DeviceBuffer* g = DeviceBuffer::From(info[0], "cudaScatterAdd g");
    const auto gs = int_array(info[1], "cudaScatterAdd gShape");
    const auto xs = int_array(info[3], "cudaScatterAdd xShape");
    DCN_CHECK(xs.size() == gs.size(), kValue, "cudaScatterAdd: internal error: ranks differ, please report");
    const auto maps = int32_maps(info[2], gs.size(), "cudaScatterAdd maps");
    DeviceBuffer* out = DeviceBuffer::From(info[4], "cudaScatterAdd out");
    bs.add(g, "cudaScatterAdd");
    bs.add(out, "cudaScatterAdd");
    expect_numel(g, product(gs), "cudaScatterAdd", "g");
    expect_numel(out, product(xs), "cudaScatterAdd", "out");
    if (xs.empty()) {
      cuda::cast(bs.device, bs.dtype, g->data(), bs.dtype, out->data(), 1);
      return info.Env().Undefined();
    }
    cuda::scatter_add(bs.device, bs.dtype, g->data(), static_cast<int>(gs.size()), gs.data(), maps, xs.data(),
                      out->data());
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterCudaElementwise(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  fn("cudaFill", Fill);
  fn("cudaCast", Cast);
  fn("cudaAddInPlace", AddInPlace);
  fn("cudaUnary", Unary);
  fn("cudaBinary", Binary);
  fn("cudaSum", Sum);
  fn("cudaCopyStrided", CopyStrided);
  fn("cudaGather", Gather);
  fn("cudaScatterAdd", ScatterAdd);
}

}  // namespace dcn::napi

#else  // !TVDCN_WITH_CUDA

namespace dcn::napi {
void RegisterCudaElementwise(Napi::Env, Napi::Object) {}
}  // namespace dcn::napi

#endif  // TVDCN_WITH_CUDA
