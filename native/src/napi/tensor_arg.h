// SPDX-License-Identifier: MIT
// The one reader of JS arguments for every op binding, on every device: NativeTensor -> TensorView (CPU
// typed array or CUDA DeviceBuffer), NativeDeformConvParams -> DeformConvParams<D>, and the shape checks
// shared by the binding files. This is the second line of defence after @tvdcn/shape (see style.md §9.9):
// it refuses anything that could read or write out of bounds, naming the argument, what was expected and
// what was got; the full validation stays in @tvdcn/shape.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <napi.h>

#include "core/tensor_view.h"
#include "deform_conv/params.h"

namespace dcn::napi {

class DeviceBuffer;  // napi/cuda_buffer.h (CUDA build only)

// A NativeTensor {data, shape, dtype, id?}: data is a Float32Array / Float64Array (a CPU view) or, in the
// CUDA build, a DeviceBuffer (a view on that CUDA device; float16 and bfloat16 allowed). With `optional`,
// null or undefined gives an undefined view.
// `data_out`, when given, receives the typed array that was read; `id_out` the storage id (0 when absent),
// which the CPU queue uses to order and poison work (napi/cpu_queue.h).
TensorView tensor_arg(const char* op, const std::string& name, const Napi::Value& value, bool optional,
                      Napi::Value* data_out = nullptr, uint64_t* id_out = nullptr);

// (Re)reads the pointer of `data` (typed array or DeviceBuffer) into t, checking its length against t's
// shape and setting t.device.
void bind_data(const char* op, const std::string& name, const Napi::Value& data, TensorView& t);

// The tensor arguments of one call. Reading an argument can run JS (getters, proxies) that could detach
// or replace an array read earlier, so every data pointer is read again by finalize(), after the last
// argument was read and before any native work; no JS runs in between. finalize() also checks that every
// tensor is on one device, which device() then returns (the CPU when no tensor was given).
//
// run() then does the work: at once on a CUDA device (the drivers queue on the device's stream), and on the
// CPU through this environment's CPU queue (napi/cpu_queue.h), which keeps every tensor's array alive until
// the work ran. The function must capture what it uses BY VALUE (views, params): it may run after the
// binding returned. Tensors added with `written` are the ones the work writes (poisoned if it fails).
class TensorArgs {
 public:
  explicit TensorArgs(const char* op);
  // Reads and checks one tensor; the reference stays valid (and is updated by finalize()).
  const TensorView& add(const std::string& name, const Napi::Value& value, bool optional, bool written = false);
  // Reads one tensor given as its CUDA device buffer alone, with the shape the op gives it (`shape`) and
  // the buffer's dtype: the buffer form of the deform conv bindings (NOTE [ Device buffers as tensors ]).
  // A TypeError for anything else (and in a build without CUDA, for every value but an optional null).
  const TensorView& add_buffer(const std::string& name, const Napi::Value& value, const std::vector<int64_t>& shape,
                               bool optional, bool written = false);
  void finalize();
  const Device& device() const;
  // Runs (CUDA) or queues (CPU) `fn`; returns what the binding returns: undefined, or the CPU task's
  // sequence number. Call after finalize() and every check, as the binding's last step. `cost` estimates
  // the work (CpuQueue::run); by default the number of elements of all tensors.
  Napi::Value run(Napi::Env env, std::function<void()> fn, double cost = -1);
  // The name of the queued task (errors of queued work name it); the op by default.
  void set_task_name(const char* name) { task_name_ = name; }
  // The typed array and storage id of the i-th tensor added.
  napi_value data_of(size_t i) const { return entries_[i].data; }
  uint64_t id_of(size_t i) const { return entries_[i].id; }

 private:
  struct Entry {
    std::string name;
    TensorView view;
    Napi::Value data;  // valid for the duration of the call (the callback's handle scope)
    uint64_t id = 0;
    bool written = false;
    // The DeviceBuffer behind `data` (CUDA build), or nullptr for a typed array: finalize() re-checks it
    // (freed since?) without going through N-API again.
    DeviceBuffer* buffer = nullptr;
  };
  const char* op_;
  const char* task_name_ = nullptr;
  std::deque<Entry> entries_;
  // The property keys of a NativeTensor, made once per call (not once per property read) on the first
  // add(): "data", "dtype", "shape", "id".
  napi_value keys_[4] = {nullptr, nullptr, nullptr, nullptr};
};

// An integer number in [min, max] (no NaN, no fractions).
int64_t int_arg(const char* op, const std::string& name, const Napi::Value& value, int64_t min,
                int64_t max = (int64_t{1} << 53) - 1);

// The object argument `name`, or a TypeError.
Napi::Object object_arg(const char* op, const std::string& name, const Napi::Value& value);

// NativeDeformConvParams, with every field read and range-checked; arrays kept as vectors. `value` is the
// object {dim, transposed, batch, ...} or the same fields packed in a Float64Array of 8 + 6 * dim numbers
// (the ops layer's per-call form: no property reads): [dim, transposed (0 or 1), batch, inChannels,
// outChannels, groups, offsetGroups, maskGroups, kernelSize..., stride..., padding..., dilation...,
// inSize..., outSize...], the layout of the WebAssembly build's params.
struct DeformConvParamsArg {
  int dim = 0;
  bool transposed = false;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 0, offset_groups = 0, mask_groups = 0;
  std::vector<int64_t> kernel_size, stride, padding, dilation, in_size, out_size;
};
DeformConvParamsArg deform_conv_params_arg(const char* op, const Napi::Value& value);

// The checks of the params that guard memory (group divisibility, overflow) and conversion. Everything
// else (the output-size rule, kernel/offset consistency) is validated once, by @tvdcn/shape.
template <int D>
DeformConvParams<D> to_deform_conv_params(const char* op, const DeformConvParamsArg& a, bool deformable,
                                          bool modulated);

// Throws "<op>: expected <name>.shape to be [..], but got [..]" unless t has exactly `shape`.
void expect_shape(const char* op, const std::string& name, const TensorView& t, const std::vector<int64_t>& shape);
// Throws a dtype mismatch error unless t has the dtype of `reference` (named `reference_name`).
void expect_same_dtype(const char* op, const std::string& name, const TensorView& t, const std::string& reference_name,
                       const TensorView& reference);

// A tensor with its name, for the aliasing check.
struct NamedTensor {
  std::string name;
  const TensorView* view;
};
// Throws unless no output shares memory with any other tensor (outputs are written while inputs are read).
void expect_no_overlap(const char* op, const std::vector<NamedTensor>& outputs, const std::vector<NamedTensor>& inputs);

std::string format_shape(const std::vector<int64_t>& shape);

}  // namespace dcn::napi
