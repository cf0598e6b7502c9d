// SPDX-License-Identifier: MIT
// CPU runtime settings: setNumThreads / getNumThreads, and the `_`-prefixed test hooks
// _setWorkspaceLimit / _getWorkspaceLimit (column tile size), _setGemmIsa / _gemmIsa (micro-kernel), _setGemmRowsA /
// _gemmRowsA (micro-kernels reading A in place, or A packed) and
// _setForcePlanar / _getForcePlanar (planar CPU kernels instead of the channels-last ones) and _setForceHandover
// (the backward's slot pieces handed between threads at every group end). The setters drain
// the environment's CPU queue first, so that ops queued before a change run with the old setting.
#include <string>

#include "core/parallel.h"
#include "deform_conv/deform_conv.h"
#include "gemm/cpu/gemm.h"
#include "napi/cpu_queue.h"
#include "napi/errors.h"
#include "napi/register.h"
#include "napi/tensor_arg.h"

namespace dcn::napi {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    set_num_threads(static_cast<int>(int_arg("setNumThreads", "n", info[0], 1, 1024)));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), get_num_threads()); }

Napi::Value SetWorkspaceLimit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    set_workspace_limit(int_arg("_setWorkspaceLimit", "bytes", info[0], 1));
    return info.Env().Undefined();
  });
}

Napi::Value GetWorkspaceLimit(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(workspace_limit()));
}

// _setGemmIsa('auto' | 'avx512' | 'avx2' | 'neon' | 'generic') -> whether this CPU supports it (then it is used).
Napi::Value SetGemmIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsString(), kType, "_setGemmIsa: expected isa to be 'auto', 'avx512', 'avx2' or 'generic'");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    cpu::GemmIsa isa;
    if (name == "auto")
      isa = cpu::GemmIsa::kAuto;
    else if (name == "avx512")
      isa = cpu::GemmIsa::kAvx512;
    else if (name == "avx2")
      isa = cpu::GemmIsa::kAvx2;
    else if (name == "neon")
      isa = cpu::GemmIsa::kNeon;
    else if (name == "generic")
      isa = cpu::GemmIsa::kGeneric;
    else
      throw Error(
          ErrorKind::kType,
          "_setGemmIsa: expected isa to be 'auto', 'avx512', 'avx2', 'neon' or 'generic', but got \"" + name + "\"");
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    return Napi::Boolean::New(info.Env(), cpu::set_gemm_isa(isa));
  });
}

Napi::Value GemmIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), cpu::gemm_isa_name()); }

// _setGemmRowsA(on): with false the micro-kernels that read A in place (MicroKernel::fn_rows) are not used and the
// GEMMs pack A instead (the same results), so that the tests can compare the two ways.
Napi::Value SetGemmRowsA(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsBoolean(), kType, "_setGemmRowsA: expected on to be a boolean");
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    cpu::set_gemm_rows_a(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetGemmRowsA(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cpu::gemm_rows_a_enabled());
}

// _setForcePlanar(on): the CPU 3D forward and every CPU backward / transposed forward take the planar
// kernels (otherwise only the fallback for huge planes), so that the tests reach them.
Napi::Value SetForcePlanar(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsBoolean(), kType, "_setForcePlanar: expected on to be a boolean");
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    set_force_planar(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetForcePlanar(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), force_planar()); }

// _setForceHandover(on): the channels-last backward's threads leave their slot pieces at every dcol group end
// while an untaken piece remains (NOTE [ Slot pieces handed over ]), and the channels-last forward's claims after a
// thread's first take half of what they could (NOTE [ Forward tail by thread rates ]), so that the tests reach the
// hand-overs and the split tiles.
Napi::Value SetForceHandover(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    DCN_CHECK(info[0].IsBoolean(), kType, "_setForceHandover: expected on to be a boolean");
    CpuQueue::of(info.Env()).drain(info.Env());  // queued ops keep the setting they were called with
    set_force_handover(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("_setWorkspaceLimit", Napi::Function::New(env, SetWorkspaceLimit, "_setWorkspaceLimit"));
  exports.Set("_getWorkspaceLimit", Napi::Function::New(env, GetWorkspaceLimit, "_getWorkspaceLimit"));
  exports.Set("_setGemmIsa", Napi::Function::New(env, SetGemmIsa, "_setGemmIsa"));
  exports.Set("_gemmIsa", Napi::Function::New(env, GemmIsa, "_gemmIsa"));
  exports.Set("_setGemmRowsA", Napi::Function::New(env, SetGemmRowsA, "_setGemmRowsA"));
  exports.Set("_gemmRowsA", Napi::Function::New(env, GetGemmRowsA, "_gemmRowsA"));
  exports.Set("_setForcePlanar", Napi::Function::New(env, SetForcePlanar, "_setForcePlanar"));
  exports.Set("_getForcePlanar", Napi::Function::New(env, GetForcePlanar, "_getForcePlanar"));
  exports.Set("_setForceHandover", Napi::Function::New(env, SetForceHandover, "_setForceHandover"));
}

}  // namespace dcn::napi
