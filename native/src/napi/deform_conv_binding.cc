// SPDX-License-Identifier: MIT
// deformConvForward / deformConvBackward (packages/ops/src/native/binding.ts), on every device: read and
// check the arguments once (napi/tensor_arg.h), then call the driver of the tensors' device
// (deform_conv/deform_conv.h: cpu::deform_conv_*_driver, queued on the environment's CPU queue;
// cuda::deform_conv_*_driver, asynchronous on the device's stream).
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/host_phase.h"
#include "core/static_switch.h"
#include "deform_conv/deform_conv.h"
#include "napi/errors.h"
#include "napi/register.h"
#include "napi/tensor_arg.h"
#ifdef TVDCN_WITH_CUDA
#include "cuda_runtime/allocator.h"
#include "napi/cuda_buffer.h"
#endif

namespace dcn::napi {
namespace {

template <int D>
std::vector<int64_t> shape_of(std::initializer_list<int64_t> head, const SmallArray<int64_t, D>& tail) {
  std::vector<int64_t> s(head);
  for (int i = 0; i < D; ++i) s.push_back(tail[i]);
  return s;
}

// The shapes the op gives its tensors (tvdcn-reference §3.1, §3.5 and binding.ts): what the tensors a binding
// is passed must have, and the buffer form's tensors have (NOTE [ Device buffers as tensors ]).
struct OpShapes {
  std::vector<int64_t> input, weight, offset, mask, bias, output;
};

template <int D>
OpShapes op_shapes(const DeformConvParams<D>& p) {
  const int64_t K = p.kernel_points();
  // Offsets and masks live on the output grid of the regular op and on the input grid of the transposed one.
  const SmallArray<int64_t, D>& grid = p.transposed ? p.in_size : p.out_size;
  OpShapes s;
  s.input = shape_of<D>({p.batch, p.in_channels}, p.in_size);
  s.weight = p.transposed ? shape_of<D>({p.in_channels, p.out_channels / p.groups}, p.kernel_size)
                          : shape_of<D>({p.out_channels, p.in_channels / p.groups}, p.kernel_size);
  s.offset = shape_of<D>({p.batch, p.offset_groups * D * K}, grid);
  s.mask = shape_of<D>({p.batch, p.mask_groups * K}, grid);
  s.bias = {p.out_channels};
  s.output = shape_of<D>({p.batch, p.out_channels}, p.out_size);
  return s;
}

// Shapes of the tensors both directions share.
void check_inputs(const char* op, const OpShapes& s, const TensorView& input, const TensorView& weight,
                  const TensorView& offset, const TensorView& mask) {
  expect_shape(op, "input", input, s.input);
  expect_shape(op, "weight", weight, s.weight);
  if (offset.defined()) {
    expect_shape(op, "offset", offset, s.offset);
    expect_same_dtype(op, "offset", offset, "input", input);
  }
  if (mask.defined()) {
    expect_shape(op, "mask", mask, s.mask);
    expect_same_dtype(op, "mask", mask, "input", input);
  }
  expect_same_dtype(op, "weight", weight, "input", input);
}

// The work of one forward for the CPU queue's estimate (napi/cpu_queue.h): the GEMM's multiply-adds
// (output elements * input channels per group * kernel points) plus the tensors' elements.
template <int D>
double cost_of(const DeformConvParams<D>& p, const TensorView& input, const TensorView& weight,
               const TensorView& output) {
  const double macs = static_cast<double>(output.numel()) * static_cast<double>(p.in_channels / p.groups) *
                      static_cast<double>(p.kernel_points());
  const double in_macs = static_cast<double>(input.numel()) * static_cast<double>(p.out_channels / p.groups) *
                         static_cast<double>(p.kernel_points());  // the transposed op's GEMM
  return std::max(macs, in_macs) + static_cast<double>(input.numel() + weight.numel() + output.numel());
}

// Calls the CPU or the CUDA driver (same signature) for the device the tensors are on; `saved` (the transposed
// op's saved columns, CPU only: checked by check_saved) goes to the CPU driver.
template <int D, typename... Args>
void forward_on(const Device& device, const TensorView& saved, const DeformConvParams<D>& p, const Args&... args) {
  if (device.type == DeviceType::kCPU) return cpu::deform_conv_forward_driver<D>(p, args..., saved);
#ifdef TVDCN_WITH_CUDA
  cuda::deform_conv_forward_driver<D>(p, args...);
#endif
}

template <int D, typename... Args>
void backward_on(const Device& device, const TensorView& saved, const DeformConvParams<D>& p, const Args&... args) {
  if (device.type == DeviceType::kCPU) return cpu::deform_conv_backward_driver<D>(p, args..., saved);
#ifdef TVDCN_WITH_CUDA
  cuda::deform_conv_backward_driver<D>(p, args...);
#endif
}

// The optional trailing `saved` argument of both directions (NOTE [ Saved columns of the transposed forward ] in
// deform_conv/cpu/column_pass.cc; its size is deformConvSavedColumns()'s): a 1-D CPU tensor of the input's dtype.
// A size that does not fit the op is no error: the driver then neither saves nor reads columns.
void check_saved(const char* op, const TensorView& saved, const TensorView& input, const Device& device) {
  if (!saved.defined()) return;
  DCN_CHECK(device.type == DeviceType::kCPU, kValue, op,
            ": expected saved to be null on a CUDA device, but got a tensor");
  DCN_CHECK(saved.ndim == 1, kValue, op, ": expected saved to be 1-D, but got ", saved.ndim, " dimensions");
  expect_same_dtype(op, "saved", saved, "input", input);
}

// NOTE [ Device buffers as tensors ]
// On a CUDA device the ops layer passes each tensor of deformConvForward / deformConvBackward as its device
// buffer alone, not as a {data, shape, dtype} view: every tensor's shape follows from the params (op_shapes),
// and a buffer knows its dtype and element count. Reading a view costs about ten N-API calls (data, its type
// tag, dtype, shape, each size), and the GPU waits for the host before a forward's first launch; a buffer
// costs three (its type, type tag, unwrap): on an H100's host the forward's reading and checks took 8.3-9.1
// and 1.5-1.7 µs with views, 4.0-4.5 and 0.4-0.6 with buffers (docs/cuda.md, session 21). The
// checks are the same in substance: each buffer must be a live device buffer of the element count of its
// shape, of the input's dtype, on the input's device, and no output may share memory with another tensor.
// A buffer form is recognised by the input argument being a device buffer; the view form stays (the CPU,
// whose queue needs the views' ids, and callers of the binding itself).

bool given(const Napi::Value& v) {
  const napi_valuetype type = v.Type();
  return type != napi_null && type != napi_undefined;
}

#ifdef TVDCN_WITH_CUDA
bool buffer_form(const Napi::Value& input) {
  return input.Type() == napi_object && DeviceBuffer::Tagged(input) != nullptr;
}
#else
bool buffer_form(const Napi::Value&) { return false; }
#endif

// The `saved` argument of the buffer form: only null (the CPU alone keeps columns).
void expect_no_saved(const char* op, const Napi::Value& saved) {
  DCN_CHECK(!given(saved), kValue, op, ": expected saved to be null on a CUDA device, but got a value");
}

// The four tensors both directions take (arguments 1 to 4), as buffers.
struct BufferInputs {
  const TensorView& input;
  const TensorView& weight;
  const TensorView& offset;
  const TensorView& mask;
};

BufferInputs add_buffer_inputs(TensorArgs& tensors, const Napi::CallbackInfo& info, const OpShapes& shapes) {
  return {tensors.add_buffer("input", info[1], shapes.input, false),
          tensors.add_buffer("weight", info[2], shapes.weight, false),
          tensors.add_buffer("offset", info[3], shapes.offset, true),
          tensors.add_buffer("mask", info[4], shapes.mask, true)};
}

// Every given tensor of `others` has the input's dtype.
void expect_input_dtype(const char* op, const TensorView& input,
                        std::initializer_list<std::pair<const char*, const TensorView*>> others) {
  for (const auto& [name, t] : others)
    if (t->defined()) expect_same_dtype(op, name, *t, "input", input);
}

// NOTE [ The forward's output made after its launches ]
// On a small forward the GPU waits for the host until the first launch (docs/cuda.md, sessions 31-32: ~25 µs on an
// H100's host), and the output's allocation was part of that wait: the ops layer asked for a device buffer (one
// N-API call; ~3 µs of it the buffer's wrapper object) before the forward call. With a null `output` the buffer
// form's forward allocates the output itself from the caching allocator, queues the kernels on it, and only then
// wraps it in its DeviceBuffer, which it returns (the ops layer makes its storage of it): the same memory, the same
// kernels, the wrapper made while the GPU already runs. Should the launches throw, the memory goes back to the
// allocator. The addon says so by `deformConvForwardAllocates`; a given output buffer is written as before.

// The view of an output of `shape` like `input` (its dtype and device) over `data`, and its element count.
TensorView output_view(const char* op, const TensorView& input, const std::vector<int64_t>& shape, int64_t* numel) {
  DCN_CHECK(shape.size() <= static_cast<size_t>(kMaxTensorDims), kValue, op, ": output has ", shape.size(),
            " dimensions, more than ", kMaxTensorDims);
  TensorView t;
  t.ndim = static_cast<int>(shape.size());
  t.dtype = input.dtype;
  t.device = input.device;
  int64_t n = 1;
  for (int i = 0; i < t.ndim; ++i) {
    const int64_t size = shape[static_cast<size_t>(i)];
    DCN_CHECK(size >= 0 && (size == 0 || n <= INT64_MAX / size), kRange, op,
              ": the output's element count overflows 64 bits");
    t.sizes[i] = size;
    n *= size;
  }
  *numel = n;
  return t;
}

Napi::Value forward_buffers(const char* op, const Napi::CallbackInfo& info, const DeformConvParamsArg& args) {
  expect_no_saved(op, info[7]);
  const bool make_output = !given(info[6]);  // NOTE [ The forward's output made after its launches ]
  Napi::Value result;
  DCN_DIM_SWITCH(args.dim, kDim, [&] {
    std::optional<HostPhase> reading(std::in_place, "forward:read");
    const DeformConvParams<kDim> p = to_deform_conv_params<kDim>(op, args, given(info[3]), given(info[4]));
    const OpShapes shapes = op_shapes(p);
    TensorArgs tensors(op);
    const BufferInputs in = add_buffer_inputs(tensors, info, shapes);
    const TensorView &input = in.input, &weight = in.weight, &offset = in.offset, &mask = in.mask;
    const TensorView& bias = tensors.add_buffer("bias", info[5], shapes.bias, true);
    const TensorView& given_output = tensors.add_buffer("output", info[6], shapes.output, make_output, true);
    tensors.finalize();  // no JS runs from here on
    int64_t numel = 0;
    TensorView output = make_output ? output_view(op, input, shapes.output, &numel) : given_output;
    expect_input_dtype(
        op, input, {{"weight", &weight}, {"offset", &offset}, {"mask", &mask}, {"bias", &bias}, {"output", &output}});
    expect_no_overlap(op, {{"output", &output}},
                      {{"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask}, {"bias", &bias}});
    reading.reset();
    std::optional<HostPhase> driving(std::in_place, "forward:driver");
#ifdef TVDCN_WITH_CUDA
    if (make_output) {
      const HostPhase allocating("alloc:allocate");  // NOTE [ Host phases ]: as cudaBufferAlloc's
      output.data = cuda::allocate(output.device.index, static_cast<std::size_t>(numel) * dtype_size(output.dtype));
    }
    try {
      result = tensors.run(info.Env(), [=, device = tensors.device()] {
        forward_on<kDim>(device, TensorView{}, p, input, weight, offset, mask, bias, output);
      });
    } catch (...) {
      if (make_output) cuda::release(output.device.index, output.data);
      throw;
    }
    driving.reset();
    if (make_output) result = DeviceBuffer::Adopt(info.Env(), output.device.index, output.dtype, numel, output.data);
#else
    // Without CUDA no value is a device buffer, so this form is never taken (buffer_form).
    DCN_CHECK(false, kInternal, op, ": internal error: the buffer form in a build without CUDA, please report");
#endif
  });
  return result;
}

Napi::Value backward_buffers(const char* op, const Napi::CallbackInfo& info, const DeformConvParamsArg& args) {
  expect_no_saved(op, info[7]);
  const Napi::Object grads_obj = object_arg(op, "grads", info[6]);
  Napi::Value result;
  DCN_DIM_SWITCH(args.dim, kDim, [&] {
    const DeformConvParams<kDim> p = to_deform_conv_params<kDim>(op, args, given(info[3]), given(info[4]));
    const OpShapes shapes = op_shapes(p);
    TensorArgs tensors(op);
    const BufferInputs in = add_buffer_inputs(tensors, info, shapes);
    const TensorView &input = in.input, &weight = in.weight, &offset = in.offset, &mask = in.mask;
    const TensorView& grad_output = tensors.add_buffer("gradOutput", info[5], shapes.output, false);
    const TensorView& grad_input = tensors.add_buffer("grads.input", grads_obj.Get("input"), shapes.input, true, true);
    const TensorView& grad_weight =
        tensors.add_buffer("grads.weight", grads_obj.Get("weight"), shapes.weight, true, true);
    const TensorView& grad_offset =
        tensors.add_buffer("grads.offset", grads_obj.Get("offset"), shapes.offset, true, true);
    const TensorView& grad_mask = tensors.add_buffer("grads.mask", grads_obj.Get("mask"), shapes.mask, true, true);
    const TensorView& grad_bias = tensors.add_buffer("grads.bias", grads_obj.Get("bias"), shapes.bias, true, true);
    tensors.finalize();  // no JS runs from here on
    DCN_CHECK(offset.defined() || !grad_offset.defined(), kValue, op,
              ": expected grads.offset to be null because offset is null, but got a tensor");
    DCN_CHECK(mask.defined() || !grad_mask.defined(), kValue, op,
              ": expected grads.mask to be null because mask is null, but got a tensor");
    expect_input_dtype(op, input,
                       {{"weight", &weight},
                        {"offset", &offset},
                        {"mask", &mask},
                        {"gradOutput", &grad_output},
                        {"grads.input", &grad_input},
                        {"grads.weight", &grad_weight},
                        {"grads.offset", &grad_offset},
                        {"grads.mask", &grad_mask},
                        {"grads.bias", &grad_bias}});
    expect_no_overlap(
        op,
        {{"grads.input", &grad_input},
         {"grads.weight", &grad_weight},
         {"grads.offset", &grad_offset},
         {"grads.mask", &grad_mask},
         {"grads.bias", &grad_bias}},
        {{"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask}, {"gradOutput", &grad_output}});
    const DeformConvGrads grads{grad_input, grad_weight, grad_offset, grad_mask, grad_bias};
    result = tensors.run(info.Env(), [=, device = tensors.device()] {
      backward_on<kDim>(device, TensorView{}, p, input, weight, offset, mask, grad_output, grads);
    });
  });
  return result;
}

Napi::Value DeformConvForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "deformConvForward";
    const HostPhase call("forward");
    const DeformConvParamsArg args = deform_conv_params_arg(op, info[0]);
    if (buffer_form(info[1])) return forward_buffers(op, info, args);
    TensorArgs tensors(op);
    const TensorView& input = tensors.add("input", info[1], false);
    const TensorView& weight = tensors.add("weight", info[2], false);
    const TensorView& offset = tensors.add("offset", info[3], true);
    const TensorView& mask = tensors.add("mask", info[4], true);
    const TensorView& bias = tensors.add("bias", info[5], true);
    const TensorView& output = tensors.add("output", info[6], false, true);
    const TensorView& saved = tensors.add("saved", info[7], true, true);
    tensors.finalize();  // no JS runs from here on
    Napi::Value result;
    DCN_DIM_SWITCH(args.dim, kDim, [&] {
      const DeformConvParams<kDim> p = to_deform_conv_params<kDim>(op, args, offset.defined(), mask.defined());
      const OpShapes shapes = op_shapes(p);
      check_inputs(op, shapes, input, weight, offset, mask);
      if (bias.defined()) {
        expect_shape(op, "bias", bias, shapes.bias);
        expect_same_dtype(op, "bias", bias, "input", input);
      }
      expect_shape(op, "output", output, shapes.output);
      expect_same_dtype(op, "output", output, "input", input);
      check_saved(op, saved, input, tensors.device());
      expect_no_overlap(
          op, {{"output", &output}, {"saved", &saved}},
          {{"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask}, {"bias", &bias}});
      result = tensors.run(
          info.Env(),
          [=, device = tensors.device()] {
            forward_on<kDim>(device, saved, p, input, weight, offset, mask, bias, output);
          },
          cost_of(p, input, weight, output));
    });
    return result;
  });
}

Napi::Value DeformConvBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "deformConvBackward";
    const DeformConvParamsArg args = deform_conv_params_arg(op, info[0]);
    if (buffer_form(info[1])) return backward_buffers(op, info, args);
    TensorArgs tensors(op);
    const TensorView& input = tensors.add("input", info[1], false);
    const TensorView& weight = tensors.add("weight", info[2], false);
    const TensorView& offset = tensors.add("offset", info[3], true);
    const TensorView& mask = tensors.add("mask", info[4], true);
    const TensorView& grad_output = tensors.add("gradOutput", info[5], false);
    const Napi::Object grads_obj = object_arg(op, "grads", info[6]);
    const TensorView& grad_input = tensors.add("grads.input", grads_obj.Get("input"), true, true);
    const TensorView& grad_weight = tensors.add("grads.weight", grads_obj.Get("weight"), true, true);
    const TensorView& grad_offset = tensors.add("grads.offset", grads_obj.Get("offset"), true, true);
    const TensorView& grad_mask = tensors.add("grads.mask", grads_obj.Get("mask"), true, true);
    const TensorView& grad_bias = tensors.add("grads.bias", grads_obj.Get("bias"), true, true);
    const TensorView& saved = tensors.add("saved", info[7], true);
    tensors.finalize();  // no JS runs from here on
    const DeformConvGrads grads{grad_input, grad_weight, grad_offset, grad_mask, grad_bias};
    Napi::Value result;
    DCN_CHECK(offset.defined() || !grads.offset.defined(), kValue, op,
              ": expected grads.offset to be null because offset is null, but got a tensor");
    DCN_CHECK(mask.defined() || !grads.mask.defined(), kValue, op,
              ": expected grads.mask to be null because mask is null, but got a tensor");
    DCN_DIM_SWITCH(args.dim, kDim, [&] {
      const DeformConvParams<kDim> p = to_deform_conv_params<kDim>(op, args, offset.defined(), mask.defined());
      const OpShapes shapes = op_shapes(p);
      check_inputs(op, shapes, input, weight, offset, mask);
      expect_shape(op, "gradOutput", grad_output, shapes.output);
      expect_same_dtype(op, "gradOutput", grad_output, "input", input);
      const std::pair<const char*, const TensorView*> pairs[] = {
          {"input", &input}, {"weight", &weight}, {"offset", &offset}, {"mask", &mask}};
      const TensorView* outs[] = {&grads.input, &grads.weight, &grads.offset, &grads.mask};
      for (int i = 0; i < 4; ++i) {
        if (!outs[i]->defined()) continue;
        const std::string name = std::string("grads.") + pairs[i].first;
        const TensorView& ref = *pairs[i].second;
        expect_shape(op, name, *outs[i], std::vector<int64_t>(ref.sizes, ref.sizes + ref.ndim));
        expect_same_dtype(op, name, *outs[i], "input", input);
      }
      if (grads.bias.defined()) {
        expect_shape(op, "grads.bias", grads.bias, shapes.bias);
        expect_same_dtype(op, "grads.bias", grads.bias, "input", input);
      }
      expect_no_overlap(op,
                        {{"grads.input", &grads.input},
                         {"grads.weight", &grads.weight},
                         {"grads.offset", &grads.offset},
                         {"grads.mask", &grads.mask},
                         {"grads.bias", &grads.bias}},
                        {{"input", &input},
                         {"weight", &weight},
                         {"offset", &offset},
                         {"mask", &mask},
                         {"gradOutput", &grad_output},
                         {"saved", &saved}});
      check_saved(op, saved, input, tensors.device());
      result = tensors.run(
          info.Env(),
          [=, device = tensors.device()] {
            backward_on<kDim>(device, saved, p, input, weight, offset, mask, grad_output, grads);
          },
          3 * cost_of(p, input, weight, grad_output));
    });
    return result;
  });
}

// deformConvSavedColumns(params, dtype, hasOffset, hasMask) -> the elements of the `saved` buffer with which a CPU
// forward of this op keeps its columns for the backward, or 0 where it keeps none (not transposed, the columns above
// the CPU workspace limit, or the planar kernels: NOTE [ Saved columns of the transposed forward ]).
Napi::Value DeformConvSavedColumns(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "deformConvSavedColumns";
    const DeformConvParamsArg args = deform_conv_params_arg(op, info[0]);
    DCN_CHECK(info[1].IsString(), kType, op, ": expected dtype to be 'float32' or 'float64'");
    const std::string name = info[1].As<Napi::String>().Utf8Value();
    DCN_CHECK(name == "float32" || name == "float64", kValue, op,
              ": expected dtype to be 'float32' or 'float64', but got \"", name, "\"");
    DCN_CHECK(info[2].IsBoolean() && info[3].IsBoolean(), kType, op, ": expected hasOffset and hasMask to be booleans");
    const DType dtype = name == "float32" ? DType::kFloat32 : DType::kFloat64;
    int64_t n = 0;
    DCN_DIM_SWITCH(args.dim, kDim, [&] {
      const DeformConvParams<kDim> p = to_deform_conv_params<kDim>(op, args, info[2].As<Napi::Boolean>().Value(),
                                                                   info[3].As<Napi::Boolean>().Value());
      n = cpu::deform_conv_saved_columns<kDim>(p, dtype, workspace_limit());
    });
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  });
}

}  // namespace

void RegisterDeformConv(Napi::Env env, Napi::Object exports) {
  exports.Set("deformConvForward", Napi::Function::New(env, DeformConvForward, "deformConvForward"));
  exports.Set("deformConvBackward", Napi::Function::New(env, DeformConvBackward, "deformConvBackward"));
  exports.Set("deformConvSavedColumns", Napi::Function::New(env, DeformConvSavedColumns, "deformConvSavedColumns"));
  // The ops layer passes the params packed (a Float64Array) only to addons that say they read them; an
  // older addon (the benchmark's --compare) gets the object.
  exports.Set("packedDeformConvParams", Napi::Boolean::New(env, true));
  // ... and its tensors as device buffers (NOTE [ Device buffers as tensors ]) only where it says it reads them.
  exports.Set("deformConvBuffers", Napi::Boolean::New(env, true));
  // ... and leaves it the forward's output only where it makes it (NOTE [ The forward's output made after its
  // launches ]: the CUDA build).
#ifdef TVDCN_WITH_CUDA
  exports.Set("deformConvForwardAllocates", Napi::Boolean::New(env, true));
#endif
}

}  // namespace dcn::napi
