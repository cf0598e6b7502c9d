// SPDX-License-Identifier: MIT
// Turns dcn::Error (and anything else C++ throws) into a JS error with a stable `code`, so bad input
// from JS never crashes the process. Every exported function body runs inside guarded().
#pragma once
#include <exception>
#include <new>

#include <napi.h>

#include "core/error.h"

namespace dcn::napi {

// The JS error for a dcn::Error: TypeError (kType), RangeError (kRange) or Error, with `code` set to
// ERR_DCN_INVALID_ARGUMENT, ERR_DCN_SHAPE_MISMATCH, ERR_DCN_DTYPE_MISMATCH, ERR_DCN_NOT_IMPLEMENTED or
// ERR_DCN (std::bad_alloc: ERR_DCN_OUT_OF_MEMORY). TypeScript maps these to the classes of @tvdcn/shape
// in one place (packages/ops/src/native/native-errors.ts).
Napi::Error to_js_error(Napi::Env env, const dcn::Error& e);
Napi::Error to_js_error(Napi::Env env, const char* message, const char* code);

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS exception (e.g. from a getter): pass it on unchanged
  } catch (const dcn::Error& e) {
    throw to_js_error(env, e);
  } catch (const std::bad_alloc&) {
    throw to_js_error(env, "out of memory in native code", "ERR_DCN_OUT_OF_MEMORY");
  } catch (const std::exception& e) {
    throw to_js_error(env, e.what(), "ERR_DCN");
  }
}

}  // namespace dcn::napi
