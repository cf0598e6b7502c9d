// SPDX-License-Identifier: MIT
// Checked conversion of JS arguments (see tensor_arg.h). Every failure is a dcn::Error whose message
// names the argument, the expectation and what was received.
#include "napi/tensor_arg.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "napi/cpu_queue.h"
#ifdef TVDCN_WITH_CUDA
#include "napi/cuda_buffer.h"
#endif

namespace dcn::napi {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// A short description of a JS value for messages: `3 (number)`, `"abc" (string)`, `null`, ...
std::string describe(const Napi::Value& v) {
  std::ostringstream os;
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN (number)";
    os << d << " (number)";
    return os.str();
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true (boolean)" : "false (boolean)";
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return "\"" + s + "\" (string)";
  }
  if (v.IsTypedArray()) {
    const auto ta = v.As<Napi::TypedArray>();
    const char* kind = "typed array";
    switch (ta.TypedArrayType()) {
      case napi_float32_array: kind = "Float32Array"; break;
      case napi_float64_array: kind = "Float64Array"; break;
      case napi_int8_array: kind = "Int8Array"; break;
      case napi_uint8_array: kind = "Uint8Array"; break;
      case napi_uint8_clamped_array: kind = "Uint8ClampedArray"; break;
      case napi_int16_array: kind = "Int16Array"; break;
      case napi_uint16_array: kind = "Uint16Array"; break;
      case napi_int32_array: kind = "Int32Array"; break;
      case napi_uint32_array: kind = "Uint32Array"; break;
      case napi_bigint64_array: kind = "BigInt64Array"; break;
      case napi_biguint64_array: kind = "BigUint64Array"; break;
      default: break;
    }
    os << kind << " of length " << ta.ElementLength();
    return os.str();
  }
  if (v.IsArray()) {
    os << "an array of length " << v.As<Napi::Array>().Length();
    return os.str();
  }
  if (v.IsArrayBuffer()) return "ArrayBuffer";
  if (v.IsFunction()) return "function";
  if (v.IsBigInt()) return "bigint";
  if (v.IsSymbol()) return "symbol";
  return "object";
}

// a * b, or an error naming `what` when it overflows 2^53 - 1.
int64_t checked_mul(const char* op, int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  DCN_CHECK(!__builtin_mul_overflow(a, b, &r) && r <= kMaxSafeInteger, kRange, op, ": expected ", what,
            " to be at most 2^53 - 1 elements, but it overflows");
  return r;
}

// True (and *out set) when `v` is a whole number in [min, max]: the test of int_arg, which words the
// error otherwise. Callers on a per-call path test first, so that they build an argument's name (a string)
// only for the message.
bool whole_number(double d, int64_t min, int64_t max, int64_t* out) {
  if (!(std::isfinite(d) && std::floor(d) == d && d >= static_cast<double>(min) && d <= static_cast<double>(max))) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}
bool whole_number(const Napi::Value& v, int64_t min, int64_t max, int64_t* out) {
  return v.IsNumber() && whole_number(v.As<Napi::Number>().DoubleValue(), min, max, out);
}

std::vector<int64_t> int_array_arg(const char* op, const std::string& name, const Napi::Value& v, int dim,
                                   int64_t min) {
  const char* what = min >= 1 ? "positive integers" : "non-negative integers";
  DCN_CHECK(v.IsArray(), kType, op, ": expected ", name, " to be an array of ", dim, " ", what, ", but got ",
            describe(v));
  const Napi::Array arr = v.As<Napi::Array>();
  DCN_CHECK(arr.Length() == static_cast<uint32_t>(dim), kType, op, ": expected ", name, " to be an array of ", dim, " ",
            what, ", but got ", describe(v));
  std::vector<int64_t> out(dim);
  for (int i = 0; i < dim; ++i) {
    const Napi::Value e = arr.Get(static_cast<uint32_t>(i));
    int64_t value = 0;
    // The common case without building the entry's name (a string per entry per call); int_arg words
    // the error otherwise.
    out[i] = whole_number(e, min, kMaxSafeInteger, &value) ? value
                                                           : int_arg(op, name + "[" + std::to_string(i) + "]", e, min);
  }
  return out;
}

std::string device_name(const Device& d) {
  return d.type == DeviceType::kCPU ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

}  // namespace

std::string format_shape(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

int64_t int_arg(const char* op, const std::string& name, const Napi::Value& v, int64_t min, int64_t max) {
  int64_t value = 0;
  if (!whole_number(v, min, max, &value)) {
    const bool is_number = v.IsNumber();
    const double d = is_number ? v.As<Napi::Number>().DoubleValue() : 0.0;
    std::string range = min == 0   ? "a non-negative integer"
                        : min == 1 ? "a positive integer"
                                   : "an integer >= " + std::to_string(min);
    if (max < kMaxSafeInteger) range += " <= " + std::to_string(max);
    throw Error(is_number && std::isfinite(d) && std::floor(d) == d ? ErrorKind::kRange : ErrorKind::kType,
                detail::concat(op, ": expected ", name, " to be ", range, ", but got ", describe(v)));
  }
  return value;
}

Napi::Object object_arg(const char* op, const std::string& name, const Napi::Value& v) {
  DCN_CHECK(v.IsObject() && !v.IsArray() && !v.IsFunction(), kType, op, ": expected ", name,
            " to be an object, but got ", describe(v));
  return v.As<Napi::Object>();
}

namespace {

#ifdef TVDCN_WITH_CUDA
// t.data and t.device from a DeviceBuffer (live: a getter of a later argument may have disposed it),
// its dtype and element count checked against t's.
void bind_device(const char* op, const std::string& name, const DeviceBuffer* b, TensorView& t) {
  DCN_CHECK(!b->freed(), kValue, op, ": ", name,
            ".data: the device buffer was already freed (a disposed tensor?); internal error, please report");
  const int64_t numel = t.numel();
  DCN_CHECK(b->dtype() == t.dtype, kDType, op, ": expected ", name, ".data to hold ", dtype_name(t.dtype), " (", name,
            ".dtype), but the device buffer holds ", dtype_name(b->dtype()));
  DCN_CHECK(b->numel() == numel, kValue, op, ": expected ", name, ".data to have ", numel, " elements (the product of ",
            name, ".shape ", format_shape(std::vector<int64_t>(t.sizes, t.sizes + t.ndim)),
            "), but the device buffer has ", b->numel());
  t.device = Device{DeviceType::kCUDA, b->device()};
  t.data = b->data();
}
#endif

// obj[key] through a key made once per call (keys != nullptr), or by name.
Napi::Value get(const Napi::Object& obj, const napi_value* keys, int i, const char* name) {
  if (keys == nullptr) return obj.Get(name);
  napi_value r = nullptr;
  const napi_status status = napi_get_property(obj.Env(), obj, keys[i], &r);
  if (status != napi_ok) throw Napi::Error::New(obj.Env());  // a throwing getter: rethrown as it is
  return Napi::Value(obj.Env(), r);
}

// The tensor reader of tensor_arg and TensorArgs::add. `buffer_out` receives the DeviceBuffer behind
// `data` (nullptr for a typed array); device tensors read no `id` (the CPU queue's, unused on a device).
TensorView read_tensor(const char* op, const std::string& name, const Napi::Value& v, bool optional,
                       const napi_value* keys, Napi::Value* data_out, uint64_t* id_out, DeviceBuffer** buffer_out) {
  TensorView t;
  if (optional && (v.IsNull() || v.IsUndefined())) return t;
  DCN_CHECK(v.IsObject() && !v.IsArray() && !v.IsTypedArray() && !v.IsFunction(), kType, op, ": expected ", name,
            " to be a tensor {data, shape, dtype}", optional ? " or null" : "", ", but got ", describe(v));
  const Napi::Object obj = v.As<Napi::Object>();
  const Napi::Value data_v = get(obj, keys, 0, "data");
#ifdef TVDCN_WITH_CUDA
  DeviceBuffer* buffer = data_v.IsTypedArray() ? nullptr : DeviceBuffer::Tagged(data_v);
#else
  DeviceBuffer* buffer = nullptr;
#endif
  const bool on_device = buffer != nullptr;

  // dtype: float32 and float64 everywhere, float16 and bfloat16 on CUDA devices. Read into a small
  // buffer (no string allocated per call); a longer string is none of them.
  const Napi::Value dtype_v = get(obj, keys, 1, "dtype");
  DCN_CHECK(dtype_v.IsString(), kType, op, ": expected ", name, ".dtype to be 'float32' or 'float64', but got ",
            describe(dtype_v));
  char dtype[16] = {0};
  size_t dtype_len = 0;
  if (napi_get_value_string_utf8(v.Env(), dtype_v, dtype, sizeof dtype, &dtype_len) != napi_ok ||
      dtype_len >= sizeof dtype - 1) {
    dtype[0] = '\0';  // too long for a known dtype: the TypeError below
  }
  if (std::strcmp(dtype, "float32") == 0) {
    t.dtype = DType::kFloat32;
  } else if (std::strcmp(dtype, "float64") == 0) {
    t.dtype = DType::kFloat64;
  } else if (on_device && std::strcmp(dtype, "float16") == 0) {
    t.dtype = DType::kFloat16;
  } else if (on_device && std::strcmp(dtype, "bfloat16") == 0) {
    t.dtype = DType::kBFloat16;
  } else if (std::strcmp(dtype, "float16") == 0 || std::strcmp(dtype, "bfloat16") == 0) {
    throw Error(ErrorKind::kNotImplemented,
                detail::concat(op, ": ", name, ".dtype ", dtype, " is only supported by CUDA kernels"));
  } else {
    throw Error(ErrorKind::kType, detail::concat(op, ": expected ", name,
                                                 ".dtype to be 'float32' or 'float64', but got ", describe(dtype_v)));
  }

  // shape
  const Napi::Value shape_v = get(obj, keys, 2, "shape");
  DCN_CHECK(shape_v.IsArray(), kType, op, ": expected ", name,
            ".shape to be an array of non-negative integers, but got ", describe(shape_v));
  const Napi::Array shape = shape_v.As<Napi::Array>();
  DCN_CHECK(shape.Length() <= static_cast<uint32_t>(kMaxTensorDims), kType, op, ": expected ", name,
            ".shape to have at most ", kMaxTensorDims, " dimensions, but got ", shape.Length());
  t.ndim = static_cast<int>(shape.Length());
  int64_t numel = 1;
  for (int i = 0; i < t.ndim; ++i) {
    const Napi::Value e = shape.Get(static_cast<uint32_t>(i));
    int64_t size = 0;
    t.sizes[i] = whole_number(e, 0, kMaxSafeInteger, &size)
                     ? size
                     : int_arg(op, name + ".shape[" + std::to_string(i) + "]", e, 0);
    numel = checked_mul(op, numel, t.sizes[i], name);
  }

  // data: a DeviceBuffer (CUDA build), or the typed array matching dtype; exactly numel elements.
  if (!on_device) {
    const napi_typedarray_type want = t.dtype == DType::kFloat32 ? napi_float32_array : napi_float64_array;
    const char* want_name = t.dtype == DType::kFloat32 ? "Float32Array" : "Float64Array";
    const bool typed = data_v.IsTypedArray();
    if (!typed || data_v.As<Napi::TypedArray>().TypedArrayType() != want) {
      throw Error(typed ? ErrorKind::kDType : ErrorKind::kType,
                  detail::concat(op, ": expected ", name, ".data to be a ", want_name, " (", name, ".dtype is ", dtype,
                                 "), but got ", describe(data_v)));
    }
    bind_data(op, name, data_v, t);
  } else {
#ifdef TVDCN_WITH_CUDA
    bind_device(op, name, buffer, t);
#endif
  }
  if (data_out) *data_out = data_v;
  if (buffer_out) *buffer_out = buffer;
  if (id_out) {
    *id_out = 0;
    const Napi::Value id_v = on_device ? Napi::Value() : get(obj, keys, 3, "id");
    int64_t id = 0;
    if (on_device || id_v.IsUndefined()) {
      *id_out = 0;
    } else if (whole_number(id_v, 0, kMaxSafeInteger, &id)) {
      *id_out = static_cast<uint64_t>(id);
    } else {
      *id_out = static_cast<uint64_t>(int_arg(op, name + ".id", id_v, 0));  // throws, naming the argument
    }
  }
  return t;
}

}  // namespace

TensorView tensor_arg(const char* op, const std::string& name, const Napi::Value& v, bool optional,
                      Napi::Value* data_out, uint64_t* id_out) {
  return read_tensor(op, name, v, optional, nullptr, data_out, id_out, nullptr);
}

void bind_data(const char* op, const std::string& name, const Napi::Value& data_v, TensorView& t) {
  const int64_t numel = t.numel();
#ifdef TVDCN_WITH_CUDA
  if (!data_v.IsTypedArray()) {
    if (const DeviceBuffer* b = DeviceBuffer::Tagged(data_v)) return bind_device(op, name, b, t);
  }
#endif
  // napi_get_typedarray_info gives the element count and the data pointer (null when detached).
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value arraybuffer;
  size_t byte_offset = 0;
  const napi_status status =
      napi_get_typedarray_info(data_v.Env(), data_v, &type, &length, &data, &arraybuffer, &byte_offset);
  DCN_CHECK(status == napi_ok, kType, op, ": could not read ", name, ".data");
  const napi_typedarray_type want = t.dtype == DType::kFloat32 ? napi_float32_array : napi_float64_array;
  DCN_CHECK(type == want, kDType, op, ": expected ", name, ".data to be a ",
            t.dtype == DType::kFloat32 ? "Float32Array" : "Float64Array");
  DCN_CHECK(static_cast<int64_t>(length) == numel, kValue, op, ": expected ", name, ".data.length to be ", numel,
            " (the product of ", name, ".shape ", format_shape(std::vector<int64_t>(t.sizes, t.sizes + t.ndim)),
            "), but got ", length);
  DCN_CHECK(numel == 0 || data != nullptr, kValue, op, ": ", name, ".data has no memory (a detached buffer?)");
  t.device = Device{};
  t.data = data;
}

TensorArgs::TensorArgs(const char* op) : op_(op) {}

const TensorView& TensorArgs::add(const std::string& name, const Napi::Value& value, bool optional, bool written) {
  Entry e;
  e.name = name;
  e.written = written;
  Napi::Value data;
  if (keys_[0] == nullptr) {
    const char* names[4] = {"data", "dtype", "shape", "id"};
    for (int i = 0; i < 4; ++i)
      if (napi_create_string_utf8(value.Env(), names[i], NAPI_AUTO_LENGTH, &keys_[i]) != napi_ok)
        throw Napi::Error::New(value.Env());
  }
  e.view = read_tensor(op_, name, value, optional, keys_, &data, &e.id, &e.buffer);
  if (e.view.defined()) e.data = data;
  entries_.push_back(std::move(e));
  return entries_.back().view;
}

const TensorView& TensorArgs::add_buffer(const std::string& name, const Napi::Value& value,
                                         const std::vector<int64_t>& shape, bool optional, bool written) {
  Entry e;
  e.name = name;
  e.written = written;
  const napi_valuetype type = value.Type();  // one N-API call for the null test and the object test
  if (!optional || (type != napi_null && type != napi_undefined)) {
#ifdef TVDCN_WITH_CUDA
    DeviceBuffer* buffer = type == napi_object ? DeviceBuffer::Tagged(value) : nullptr;
#else
    DeviceBuffer* buffer = nullptr;
#endif
    DCN_CHECK(buffer != nullptr, kType, op_, ": expected ", name, " to be a CUDA device buffer",
              optional ? " or null" : "", " (the input is one), but got ", describe(value));
    DCN_CHECK(shape.size() <= static_cast<size_t>(kMaxTensorDims), kValue, op_, ": ", name, " has ", shape.size(),
              " dimensions, more than ", kMaxTensorDims);
    TensorView& t = e.view;
    t.ndim = static_cast<int>(shape.size());
    int64_t numel = 1;
    for (int i = 0; i < t.ndim; ++i) {
      t.sizes[i] = shape[static_cast<size_t>(i)];
      numel = checked_mul(op_, numel, t.sizes[i], name);
    }
#ifdef TVDCN_WITH_CUDA
    t.dtype = buffer->dtype();
    bind_device(op_, name, buffer, t);
#endif
    e.data = value;
    e.buffer = buffer;
  }
  entries_.push_back(std::move(e));
  return entries_.back().view;
}

void TensorArgs::finalize() {
  const Entry* first = nullptr;
  for (Entry& e : entries_) {
    if (!e.view.defined()) continue;
#ifdef TVDCN_WITH_CUDA
    if (e.buffer != nullptr) {
      bind_device(op_, e.name, e.buffer, e.view);  // the same object: only its state can have changed
    } else {
      bind_data(op_, e.name, e.data, e.view);
    }
#else
    bind_data(op_, e.name, e.data, e.view);
#endif
    if (first == nullptr) {
      first = &e;
      continue;
    }
    const Device& a = first->view.device;
    const Device& b = e.view.device;
    DCN_CHECK(a.type == b.type && a.index == b.index, kValue, op_, ": expected ", e.name, " to be on ", device_name(a),
              " (the device of ", first->name, "), but it is on ", device_name(b));
  }
}

Napi::Value TensorArgs::run(Napi::Env env, std::function<void()> fn, double cost) {
  if (device().type != DeviceType::kCPU) {
    fn();
    return env.Undefined();
  }
  std::vector<napi_value> arrays;
  std::vector<uint64_t> reads, writes;
  double elements = 0;
  for (const Entry& e : entries_) {
    if (!e.view.defined()) continue;
    arrays.push_back(e.data);
    (e.written ? writes : reads).push_back(e.id);
    elements += static_cast<double>(e.view.numel());
  }
  return CpuQueue::of(env).run(env, task_name_ != nullptr ? task_name_ : op_, arrays, std::move(reads),
                               std::move(writes), std::move(fn), cost >= 0 ? cost : elements);
}

const Device& TensorArgs::device() const {
  static const Device kCpu{};
  for (const Entry& e : entries_)
    if (e.view.defined()) return e.view.device;
  return kCpu;
}

namespace {

// The packed form of deform_conv_params_arg: the same checks and messages as the object's, no property read.
DeformConvParamsArg packed_params_arg(const char* op, const Napi::Value& v) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value arraybuffer;
  size_t byte_offset = 0;
  DCN_CHECK(napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &arraybuffer, &byte_offset) == napi_ok &&
                type == napi_float64_array && (length == 0 || data != nullptr),
            kType, op, ": expected params to be an object or a Float64Array, but got ", describe(v));
  const double* f = static_cast<const double*>(data);
  // One whole number in [min, max] from f[i]; the message names the field.
  auto at = [&](size_t i, const char* field, int64_t min, int64_t max = kMaxSafeInteger) -> int64_t {
    int64_t out = 0;
    const double d = i < length ? f[i] : std::nan("");
    if (whole_number(d, min, max, &out)) return out;
    return int_arg(op, std::string("params.") + field, Napi::Number::New(v.Env(), d), min, max);  // throws
  };
  DeformConvParamsArg a;
  DCN_CHECK(length >= 8, kType, op, ": expected params to be a Float64Array of 8 + 6 * dim numbers, but got ",
            describe(v));
  a.dim = static_cast<int>(at(0, "dim", 1, 3));
  DCN_CHECK(length == static_cast<size_t>(8 + 6 * a.dim), kType, op, ": expected params to be a Float64Array of ",
            8 + 6 * a.dim, " numbers (8 + 6 * dim), but got ", describe(v));
  DCN_CHECK(f[1] == 0 || f[1] == 1, kType, op, ": expected params.transposed to be 0 or 1, but got ", f[1]);
  a.transposed = f[1] == 1;
  a.batch = at(2, "batch", 0);
  a.in_channels = at(3, "inChannels", 1);
  a.out_channels = at(4, "outChannels", 1);
  a.groups = at(5, "groups", 1);
  a.offset_groups = at(6, "offsetGroups", 1);
  a.mask_groups = at(7, "maskGroups", 1);
  std::vector<int64_t>* arrays[] = {&a.kernel_size, &a.stride, &a.padding, &a.dilation, &a.in_size, &a.out_size};
  const char* names[] = {"kernelSize", "stride", "padding", "dilation", "inSize", "outSize"};
  const int64_t mins[] = {1, 1, 0, 1, 1, 1};
  size_t i = 8;
  for (int k = 0; k < 6; ++k) {
    arrays[k]->resize(a.dim);
    for (int j = 0; j < a.dim; ++j, ++i) {
      // The entry's name (a string) is built only for the message.
      int64_t value = 0;
      (*arrays[k])[j] = whole_number(f[i], mins[k], kMaxSafeInteger, &value)
                            ? value
                            : at(i, (std::string(names[k]) + "[" + std::to_string(j) + "]").c_str(), mins[k]);
    }
  }
  return a;
}

}  // namespace

DeformConvParamsArg deform_conv_params_arg(const char* op, const Napi::Value& v) {
  if (v.IsTypedArray()) return packed_params_arg(op, v);
  const Napi::Object obj = object_arg(op, "params", v);
  DeformConvParamsArg a;
  a.dim = static_cast<int>(int_arg(op, "params.dim", obj.Get("dim"), 1, 3));
  const Napi::Value tr = obj.Get("transposed");
  DCN_CHECK(tr.IsBoolean(), kType, op, ": expected params.transposed to be a boolean, but got ", describe(tr));
  a.transposed = tr.As<Napi::Boolean>().Value();
  a.batch = int_arg(op, "params.batch", obj.Get("batch"), 0);
  a.in_channels = int_arg(op, "params.inChannels", obj.Get("inChannels"), 1);
  a.out_channels = int_arg(op, "params.outChannels", obj.Get("outChannels"), 1);
  a.groups = int_arg(op, "params.groups", obj.Get("groups"), 1);
  a.offset_groups = int_arg(op, "params.offsetGroups", obj.Get("offsetGroups"), 1);
  a.mask_groups = int_arg(op, "params.maskGroups", obj.Get("maskGroups"), 1);
  a.kernel_size = int_array_arg(op, "params.kernelSize", obj.Get("kernelSize"), a.dim, 1);
  a.stride = int_array_arg(op, "params.stride", obj.Get("stride"), a.dim, 1);
  a.padding = int_array_arg(op, "params.padding", obj.Get("padding"), a.dim, 0);
  a.dilation = int_array_arg(op, "params.dilation", obj.Get("dilation"), a.dim, 1);
  a.in_size = int_array_arg(op, "params.inSize", obj.Get("inSize"), a.dim, 1);
  a.out_size = int_array_arg(op, "params.outSize", obj.Get("outSize"), a.dim, 1);
  return a;
}

template <int D>
DeformConvParams<D> to_deform_conv_params(const char* op, const DeformConvParamsArg& a, bool deformable,
                                          bool modulated) {
  DeformConvParams<D> p;
  p.transposed = a.transposed;
  p.batch = a.batch;
  p.in_channels = a.in_channels;
  p.out_channels = a.out_channels;
  p.groups = a.groups;
  p.offset_groups = a.offset_groups;
  p.mask_groups = a.mask_groups;
  p.deformable = deformable;
  p.modulated = modulated;
  for (int i = 0; i < D; ++i) {
    p.kernel_size[i] = a.kernel_size[i];
    p.stride[i] = a.stride[i];
    p.padding[i] = a.padding[i];
    p.dilation[i] = a.dilation[i];
    p.in_size[i] = a.in_size[i];
    p.out_size[i] = a.out_size[i];
  }
  // Sizes: no product of the call may overflow (2^53 - 1 bounds every element count).
  int64_t k = 1, in_sp = 1, out_sp = 1;
  for (int i = 0; i < D; ++i) {
    k = checked_mul(op, k, p.kernel_size[i], "params.kernelSize");
    in_sp = checked_mul(op, in_sp, p.in_size[i], "params.inSize");
    out_sp = checked_mul(op, out_sp, p.out_size[i], "params.outSize");
    DCN_CHECK(
        p.padding[i] <= (int64_t{1} << 40) && p.stride[i] <= (int64_t{1} << 40) && p.dilation[i] <= (int64_t{1} << 40),
        kRange, op, ": expected params.stride, params.padding and params.dilation to be at most 2^40");
  }
  const int64_t cmax = std::max(p.in_channels, p.out_channels);
  const int64_t cols =
      checked_mul(op, checked_mul(op, cmax, k, "channels * K"), std::max(in_sp, out_sp), "channels * K * spatial size");
  checked_mul(op, cols, std::max<int64_t>(p.batch, 1), "the column matrix");
  checked_mul(op, checked_mul(op, p.offset_groups, k, "params.offsetGroups * K"), D * std::max(in_sp, out_sp),
              "the offset");

  // Groups (tvdcn-reference §3.1, §3.5): the kernels index channels and offset/mask groups assuming
  // G | C_in, G | C_out, and OG, MG dividing the channels they partition (regular: input channels;
  // transposed: output channels). The output-size rule is @tvdcn/shape's alone: any out_size is in bounds
  // here, since every tensor's shape is checked against it and sampling checks each corner.
  DCN_CHECK(p.in_channels % p.groups == 0, kValue, op, ": expected params.inChannels (", p.in_channels,
            ") to be divisible by params.groups (", p.groups, ")");
  DCN_CHECK(p.out_channels % p.groups == 0, kValue, op, ": expected params.outChannels (", p.out_channels,
            ") to be divisible by params.groups (", p.groups, ")");
  const int64_t cx = p.transposed ? p.out_channels : p.in_channels;
  const char* cx_name = p.transposed ? "params.outChannels" : "params.inChannels";
  DCN_CHECK(cx % p.offset_groups == 0, kValue, op, ": expected ", cx_name, " (", cx,
            ") to be divisible by params.offsetGroups (", p.offset_groups, ")");
  DCN_CHECK(cx % p.mask_groups == 0, kValue, op, ": expected ", cx_name, " (", cx,
            ") to be divisible by params.maskGroups (", p.mask_groups, ")");
  DCN_CHECK(deformable || p.offset_groups == 1, kValue, op,
            ": expected params.offsetGroups to be 1 when offset is null, but got ", p.offset_groups);
  DCN_CHECK(modulated || p.mask_groups == 1, kValue, op,
            ": expected params.maskGroups to be 1 when mask is null, but got ", p.mask_groups);

  return p;
}

template DeformConvParams<1> to_deform_conv_params<1>(const char*, const DeformConvParamsArg&, bool, bool);
template DeformConvParams<2> to_deform_conv_params<2>(const char*, const DeformConvParamsArg&, bool, bool);
template DeformConvParams<3> to_deform_conv_params<3>(const char*, const DeformConvParamsArg&, bool, bool);

void expect_shape(const char* op, const std::string& name, const TensorView& t, const std::vector<int64_t>& shape) {
  const std::vector<int64_t> got(t.sizes, t.sizes + t.ndim);
  DCN_CHECK(got == shape, kValue, op, ": expected ", name, ".shape to be ", format_shape(shape), ", but got ",
            format_shape(got));
}

void expect_same_dtype(const char* op, const std::string& name, const TensorView& t, const std::string& reference_name,
                       const TensorView& reference) {
  DCN_CHECK(t.dtype == reference.dtype, kDType, op, ": expected ", name, ".dtype to be ", dtype_name(reference.dtype),
            " (the dtype of ", reference_name, "), but got ", dtype_name(t.dtype));
}

void expect_no_overlap(const char* op, const std::vector<NamedTensor>& outputs,
                       const std::vector<NamedTensor>& inputs) {
  auto range = [](const TensorView& t, uintptr_t* b, uintptr_t* e) {
    *b = reinterpret_cast<uintptr_t>(t.data);
    *e = *b + static_cast<uintptr_t>(t.numel()) * dtype_size(t.dtype);
  };
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorView& o = *outputs[i].view;
    if (!o.defined() || o.numel() == 0) continue;
    uintptr_t ob, oe;
    range(o, &ob, &oe);
    auto check = [&](const NamedTensor& other) {
      const TensorView& t = *other.view;
      if (!t.defined() || t.numel() == 0) return;
      uintptr_t tb, te;
      range(t, &tb, &te);
      DCN_CHECK(oe <= tb || te <= ob, kValue, op, ": expected ", outputs[i].name, " not to share memory with ",
                other.name, ", but their buffers overlap");
    };
    for (const auto& in : inputs) check(in);
    for (size_t j = i + 1; j < outputs.size(); ++j) check(outputs[j]);
  }
}

}  // namespace dcn::napi
