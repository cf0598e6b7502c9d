// SPDX-License-Identifier: MIT
// maskSoftmaxForward / maskSoftmaxBackward (packages/ops/src/native/binding.ts), on every device: read and
// check the arguments once (napi/tensor_arg.h), then call the kernels of the tensors' device (on the CPU
// through the environment's CPU queue, napi/cpu_queue.h).
#include <string>
#include <vector>

#include "mask/mask_softmax.h"
#include "napi/errors.h"
#include "napi/register.h"
#include "napi/tensor_arg.h"

namespace dcn::napi {
namespace {

// mask [B, maskGroups * kernelPoints, *spatial]
void check_mask(const char* op, const std::string& name, const TensorView& t, int64_t mask_groups,
                int64_t kernel_points) {
  std::vector<int64_t> got(t.sizes, t.sizes + t.ndim);
  DCN_CHECK(t.ndim >= 2 && t.sizes[1] == mask_groups * kernel_points, kValue, op, ": expected ", name,
            ".shape to be [B, maskGroups * kernelPoints = ", mask_groups * kernel_points, ", ...spatial], but got ",
            format_shape(got));
}

void check_like(const char* op, const std::string& name, const TensorView& t, const std::string& ref_name,
                const TensorView& ref) {
  expect_shape(op, name, t, std::vector<int64_t>(ref.sizes, ref.sizes + ref.ndim));
  expect_same_dtype(op, name, t, ref_name, ref);
}

// Calls the CPU or the CUDA kernels (same signature, mask/mask_softmax.h) for the tensors' device.
template <typename... Args>
void forward_on(const Device& device, const Args&... args) {
  if (device.type == DeviceType::kCPU) return cpu::mask_softmax_forward(args...);
#ifdef TVDCN_WITH_CUDA
  cuda::mask_softmax_forward(args...);
#endif
}

template <typename... Args>
void backward_on(const Device& device, const Args&... args) {
  if (device.type == DeviceType::kCPU) return cpu::mask_softmax_backward(args...);
#ifdef TVDCN_WITH_CUDA
  cuda::mask_softmax_backward(args...);
#endif
}

Napi::Value MaskSoftmaxForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maskSoftmaxForward";
    TensorArgs tensors(op);
    const TensorView& mask = tensors.add("mask", info[0], false);
    const int64_t mg = int_arg(op, "maskGroups", info[1], 1, int64_t{1} << 31);
    const int64_t k = int_arg(op, "kernelPoints", info[2], 1, int64_t{1} << 31);
    const TensorView& output = tensors.add("output", info[3], false, true);
    tensors.finalize();
    check_mask(op, "mask", mask, mg, k);
    check_like(op, "output", output, "mask", mask);
    expect_no_overlap(op, {{"output", &output}}, {{"mask", &mask}});
    return tensors.run(info.Env(), [=, device = tensors.device()] { forward_on(device, mask, mg, k, output); });
  });
}

Napi::Value MaskSoftmaxBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "maskSoftmaxBackward";
    TensorArgs tensors(op);
    const TensorView& output = tensors.add("output", info[0], false);
    const TensorView& grad_output = tensors.add("gradOutput", info[1], false);
    const int64_t mg = int_arg(op, "maskGroups", info[2], 1, int64_t{1} << 31);
    const int64_t k = int_arg(op, "kernelPoints", info[3], 1, int64_t{1} << 31);
    const TensorView& grad_mask = tensors.add("gradMask", info[4], false, true);
    tensors.finalize();
    check_mask(op, "output", output, mg, k);
    check_like(op, "gradOutput", grad_output, "output", output);
    check_like(op, "gradMask", grad_mask, "output", output);
    expect_no_overlap(op, {{"gradMask", &grad_mask}}, {{"output", &output}, {"gradOutput", &grad_output}});
    return tensors.run(info.Env(),
                       [=, device = tensors.device()] { backward_on(device, output, grad_output, mg, k, grad_mask); });
  });
}

}  // namespace

void RegisterMask(Napi::Env env, Napi::Object exports) {
  exports.Set("maskSoftmaxForward", Napi::Function::New(env, MaskSoftmaxForward, "maskSoftmaxForward"));
  exports.Set("maskSoftmaxBackward", Napi::Function::New(env, MaskSoftmaxBackward, "maskSoftmaxBackward"));
}

}  // namespace dcn::napi
