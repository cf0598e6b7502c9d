// SPDX-License-Identifier: MIT
// The C interface of the WebAssembly build (@tvdcn/wasm32). packages/ops/src/native/wasm-binding.ts
// implements NativeBinding on top of it: it copies the tensors into this module's memory, passes their
// descriptions as arrays of doubles (below), and copies the outputs back. The same kernels and the same
// argument checks as the Node-API binding run here (napi/tensor_arg.cc is compiled in for its Napi-free
// checks); errors are returned as codes plus a message instead of thrown into JS.
//
// A tensor slot is kSlot doubles: [present (0/1), pointer, dtype (0 float32, 1 float64), ndim, sizes x8].
// Params are [dim, transposed, batch, inChannels, outChannels, groups, offsetGroups, maskGroups,
// kernelSize x dim, stride x dim, padding x dim, dilation x dim, inSize x dim, outSize x dim].
#include <emscripten/emscripten.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/static_switch.h"
#include "core/version.h"
#include "deform_conv/deform_conv.h"
#include "mask/mask_softmax.h"
#include "napi/tensor_arg.h"

namespace dcn::wasm {
int start_threads(int n);  // parallel_wasm.cc
int running_threads();
double worker_runs();
}  // namespace dcn::wasm

namespace {

using dcn::ErrorKind;
using dcn::TensorView;
using dcn::napi::DeformConvParamsArg;
using dcn::napi::expect_no_overlap;
using dcn::napi::expect_same_dtype;
using dcn::napi::expect_shape;

constexpr int kSlot = 4 + dcn::kMaxTensorDims;
constexpr double kMaxInt = 9007199254740991.0;  // 2^53 - 1

std::string g_error;
int g_error_kind = 0;

int64_t to_int(const char* op, const char* what, double v, double min) {
  DCN_CHECK(std::isfinite(v) && v == std::floor(v) && v >= min && v <= kMaxInt, kRange, op, ": expected ",
            what, " to be an integer >= ", min, ", but got ", v);
  return static_cast<int64_t>(v);
}

// One tensor slot -> TensorView (undefined when absent). The pointer and sizes come from the adapter,
// which allocated exactly numel elements for the given shape.
TensorView tensor_at(const char* op, const char* name, const double* slot, bool optional) {
  TensorView t;
  if (slot[0] == 0) {
    DCN_CHECK(optional, kType, op, ": expected ", name, " to be a tensor, but got null");
    return t;
  }
  t.data = reinterpret_cast<void*>(static_cast<uintptr_t>(to_int(op, "a pointer", slot[1], 0)));
  const int64_t dtype = to_int(op, "a dtype code", slot[2], 0);
  DCN_CHECK(dtype == 0 || dtype == 1, kDType, op, ": expected ", name,
            ".dtype to be float32 or float64 (the WebAssembly build has no half types), but got code ", dtype);
  t.dtype = dtype == 0 ? dcn::DType::kFloat32 : dcn::DType::kFloat64;
  const int64_t ndim = to_int(op, "ndim", slot[3], 0);
  DCN_CHECK(ndim <= dcn::kMaxTensorDims, kValue, op, ": expected ", name, " to have at most ",
            dcn::kMaxTensorDims, " dimensions, but got ", ndim);
  t.ndim = static_cast<int>(ndim);
  for (int i = 0; i < t.ndim; ++i) t.sizes[i] = to_int(op, "a size", slot[4 + i], 0);
  return t;
}

DeformConvParamsArg params_at(const char* op, const double* p) {
  DeformConvParamsArg a;
  a.dim = static_cast<int>(to_int(op, "params.dim", p[0], 1));
  DCN_CHECK(a.dim <= 3, kRange, op, ": expected params.dim to be 1, 2 or 3, but got ", a.dim);
  a.transposed = p[1] != 0;
  a.batch = to_int(op, "params.batch", p[2], 0);
  a.in_channels = to_int(op, "params.inChannels", p[3], 1);
  a.out_channels = to_int(op, "params.outChannels", p[4], 1);
  a.groups = to_int(op, "params.groups", p[5], 1);
  a.offset_groups = to_int(op, "params.offsetGroups", p[6], 1);
  a.mask_groups = to_int(op, "params.maskGroups", p[7], 1);
  std::vector<int64_t>* arrays[] = {&a.kernel_size, &a.stride, &a.padding, &a.dilation, &a.in_size, &a.out_size};
  const double mins[] = {1, 1, 0, 1, 0, 0};
  int at = 8;
  for (int k = 0; k < 6; ++k) {
    for (int i = 0; i < a.dim; ++i) arrays[k]->push_back(to_int(op, "a params array entry", p[at++], mins[k]));
  }
  return a;
}

template <int D>
std::vector<int64_t> shape_of(std::initializer_list<int64_t> head, const dcn::SmallArray<int64_t, D>& tail) {
  std::vector<int64_t> s(head);
  for (int i = 0; i < D; ++i) s.push_back(tail[i]);
  return s;
}

// The same shape contract as napi/deform_conv_binding.cc's check_inputs.
template <int D>
void check_inputs(const char* op, const dcn::DeformConvParams<D>& p, const TensorView& input,
                  const TensorView& weight, const TensorView& offset, const TensorView& mask) {
  const int64_t K = p.kernel_points();
  expect_shape(op, "input", input, shape_of<D>({p.batch, p.in_channels}, p.in_size));
  if (!p.transposed) {
    expect_shape(op, "weight", weight, shape_of<D>({p.out_channels, p.in_channels / p.groups}, p.kernel_size));
  } else {
    expect_shape(op, "weight", weight, shape_of<D>({p.in_channels, p.out_channels / p.groups}, p.kernel_size));
  }
  const dcn::SmallArray<int64_t, D>& grid = p.transposed ? p.in_size : p.out_size;
  if (offset.defined()) {
    expect_shape(op, "offset", offset, shape_of<D>({p.batch, p.offset_groups * D * K}, grid));
    expect_same_dtype(op, "offset", offset, "input", input);
  }
  if (mask.defined()) {
    expect_shape(op, "mask", mask, shape_of<D>({p.batch, p.mask_groups * K}, grid));
    expect_same_dtype(op, "mask", mask, "input", input);
  }
  expect_same_dtype(op, "weight", weight, "input", input);
}

void check_mask(const char* op, const char* name, const TensorView& t, int64_t mg, int64_t k) {
  DCN_CHECK(t.ndim >= 2 && t.sizes[1] == mg * k, kValue, op, ": expected ", name,
            ".shape to be [B, maskGroups * kernelPoints = ", mg * k, ", ...spatial]");
}

void check_like(const char* op, const char* name, const TensorView& t, const char* ref_name, const TensorView& ref) {
  expect_shape(op, name, t, std::vector<int64_t>(ref.sizes, ref.sizes + ref.ndim));
  expect_same_dtype(op, name, t, ref_name, ref);
}

// Runs f; 0 on success, else 1 + ErrorKind with the message kept for tvdcn_last_error().
template <typename F>
int guarded(F&& f) {
  try {
    f();
    return 0;
  } catch (const dcn::Error& e) {
    g_error = e.what();
    g_error_kind = static_cast<int>(e.kind());
  } catch (const std::bad_alloc&) {
    g_error = "out of WebAssembly memory";
    g_error_kind = static_cast<int>(ErrorKind::kInternal);
  } catch (const std::exception& e) {
    g_error = e.what();
    g_error_kind = static_cast<int>(ErrorKind::kInternal);
  }
  return 1 + g_error_kind;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int tvdcn_abi_version() { return dcn::kAbiVersion; }
EMSCRIPTEN_KEEPALIVE const char* tvdcn_last_error() { return g_error.c_str(); }
EMSCRIPTEN_KEEPALIVE int tvdcn_get_num_threads() { return dcn::get_num_threads(); }
EMSCRIPTEN_KEEPALIVE int tvdcn_set_num_threads(int n) {
  return guarded([&] { dcn::set_num_threads(n); });
}
// Creates the worker threads (n - 1 of them, once; parallel_wasm.cc) and returns how many were created.
EMSCRIPTEN_KEEPALIVE int tvdcn_start_threads(int n) { return dcn::wasm::start_threads(n); }
// How many of them run already (each joins the pool when its Worker has started).
EMSCRIPTEN_KEEPALIVE int tvdcn_running_threads() { return dcn::wasm::running_threads(); }
// How many times a worker thread has run its part of a parallel region (for tests).
EMSCRIPTEN_KEEPALIVE double tvdcn_worker_runs() { return dcn::wasm::worker_runs(); }
EMSCRIPTEN_KEEPALIVE int tvdcn_threads_enabled() {
#ifdef __EMSCRIPTEN_PTHREADS__
  return 1;
#else
  return 0;
#endif
}

EMSCRIPTEN_KEEPALIVE int tvdcn_deform_conv_forward(const double* params, const double* slots) {
  return guarded([&] {
    const char* op = "deformConvForward";
    const DeformConvParamsArg args = params_at(op, params);
    const TensorView input = tensor_at(op, "input", slots, false);
    const TensorView weight = tensor_at(op, "weight", slots + kSlot, false);
    const TensorView offset = tensor_at(op, "offset", slots + 2 * kSlot, true);
    const TensorView mask = tensor_at(op, "mask", slots + 3 * kSlot, true);
    const TensorView bias = tensor_at(op, "bias", slots + 4 * kSlot, true);
    const TensorView output = tensor_at(op, "output", slots + 5 * kSlot, false);
    DCN_DIM_SWITCH(args.dim, kDim, [&] {
      const auto p = dcn::napi::to_deform_conv_params<kDim>(op, args, offset.defined(), mask.defined());
      check_inputs<kDim>(op, p, input, weight, offset, mask);
      if (bias.defined()) {
        expect_shape(op, "bias", bias, {p.out_channels});
        expect_same_dtype(op, "bias", bias, "input", input);
      }
      expect_shape(op, "output", output, shape_of<kDim>({p.batch, p.out_channels}, p.out_size));
      expect_same_dtype(op, "output", output, "input", input);
      expect_no_overlap(op, {{"output", &output}},
                        {{"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask},
                         {"bias", &bias}});
      dcn::cpu::deform_conv_forward_driver<kDim>(p, input, weight, offset, mask, bias, output);
    });
  });
}

EMSCRIPTEN_KEEPALIVE int tvdcn_deform_conv_backward(const double* params, const double* slots) {
  return guarded([&] {
    const char* op = "deformConvBackward";
    const DeformConvParamsArg args = params_at(op, params);
    const TensorView input = tensor_at(op, "input", slots, false);
    const TensorView weight = tensor_at(op, "weight", slots + kSlot, false);
    const TensorView offset = tensor_at(op, "offset", slots + 2 * kSlot, true);
    const TensorView mask = tensor_at(op, "mask", slots + 3 * kSlot, true);
    const TensorView grad_output = tensor_at(op, "gradOutput", slots + 4 * kSlot, false);
    dcn::DeformConvGrads grads{tensor_at(op, "grads.input", slots + 5 * kSlot, true),
                               tensor_at(op, "grads.weight", slots + 6 * kSlot, true),
                               tensor_at(op, "grads.offset", slots + 7 * kSlot, true),
                               tensor_at(op, "grads.mask", slots + 8 * kSlot, true),
                               tensor_at(op, "grads.bias", slots + 9 * kSlot, true)};
    DCN_CHECK(offset.defined() || !grads.offset.defined(), kValue, op,
              ": expected grads.offset to be null because offset is null, but got a tensor");
    DCN_CHECK(mask.defined() || !grads.mask.defined(), kValue, op,
              ": expected grads.mask to be null because mask is null, but got a tensor");
    DCN_DIM_SWITCH(args.dim, kDim, [&] {
      const auto p = dcn::napi::to_deform_conv_params<kDim>(op, args, offset.defined(), mask.defined());
      check_inputs<kDim>(op, p, input, weight, offset, mask);
      expect_shape(op, "gradOutput", grad_output, shape_of<kDim>({p.batch, p.out_channels}, p.out_size));
      expect_same_dtype(op, "gradOutput", grad_output, "input", input);
      const TensorView* refs[] = {&input, &weight, &offset, &mask};
      const TensorView* outs[] = {&grads.input, &grads.weight, &grads.offset, &grads.mask};
      const char* names[] = {"grads.input", "grads.weight", "grads.offset", "grads.mask"};
      for (int i = 0; i < 4; ++i) {
        if (outs[i]->defined()) check_like(op, names[i], *outs[i], "input", *refs[i]);
      }
      if (grads.bias.defined()) {
        expect_shape(op, "grads.bias", grads.bias, {p.out_channels});
        expect_same_dtype(op, "grads.bias", grads.bias, "input", input);
      }
      expect_no_overlap(op,
                        {{"grads.input", &grads.input}, {"grads.weight", &grads.weight},
                         {"grads.offset", &grads.offset}, {"grads.mask", &grads.mask},
                         {"grads.bias", &grads.bias}},
                        {{"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask},
                         {"gradOutput", &grad_output}});
      dcn::cpu::deform_conv_backward_driver<kDim>(p, input, weight, offset, mask, grad_output, grads);
    });
  });
}

EMSCRIPTEN_KEEPALIVE int tvdcn_mask_softmax_forward(const double* slots, double mask_groups, double kernel_points) {
  return guarded([&] {
    const char* op = "maskSoftmaxForward";
    const TensorView mask = tensor_at(op, "mask", slots, false);
    const TensorView output = tensor_at(op, "output", slots + kSlot, false);
    const int64_t mg = to_int(op, "maskGroups", mask_groups, 1), k = to_int(op, "kernelPoints", kernel_points, 1);
    check_mask(op, "mask", mask, mg, k);
    check_like(op, "output", output, "mask", mask);
    expect_no_overlap(op, {{"output", &output}}, {{"mask", &mask}});
    dcn::cpu::mask_softmax_forward(mask, mg, k, output);
  });
}

EMSCRIPTEN_KEEPALIVE int tvdcn_mask_softmax_backward(const double* slots, double mask_groups, double kernel_points) {
  return guarded([&] {
    const char* op = "maskSoftmaxBackward";
    const TensorView output = tensor_at(op, "output", slots, false);
    const TensorView grad_output = tensor_at(op, "gradOutput", slots + kSlot, false);
    const TensorView grad_mask = tensor_at(op, "gradMask", slots + 2 * kSlot, false);
    const int64_t mg = to_int(op, "maskGroups", mask_groups, 1), k = to_int(op, "kernelPoints", kernel_points, 1);
    check_mask(op, "output", output, mg, k);
    check_like(op, "gradOutput", grad_output, "output", output);
    check_like(op, "gradMask", grad_mask, "output", output);
    expect_no_overlap(op, {{"gradMask", &grad_mask}}, {{"output", &output}, {"gradOutput", &grad_output}});
    dcn::cpu::mask_softmax_backward(output, grad_output, mg, k, grad_mask);
  });
}

}  // extern "C"
