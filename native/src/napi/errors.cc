// SPDX-License-Identifier: MIT
// dcn::Error -> JS error with `code` (see errors.h).
#include "napi/errors.h"

#include <string>

namespace dcn::napi {

Napi::Error to_js_error(Napi::Env env, const char* message, const char* code) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

Napi::Error to_js_error(Napi::Env env, const dcn::Error& e) {
  Napi::Error err;
  const char* code = "ERR_DCN";
  switch (e.kind()) {
    case ErrorKind::kType:
      err = Napi::TypeError::New(env, e.what());
      code = "ERR_DCN_INVALID_ARGUMENT";
      break;
    case ErrorKind::kRange:
      err = Napi::RangeError::New(env, e.what());
      code = "ERR_DCN_INVALID_ARGUMENT";
      break;
    case ErrorKind::kValue:
      err = Napi::Error::New(env, e.what());
      code = "ERR_DCN_SHAPE_MISMATCH";
      break;
    case ErrorKind::kDType:
      err = Napi::TypeError::New(env, e.what());
      code = "ERR_DCN_DTYPE_MISMATCH";
      break;
    case ErrorKind::kNotImplemented:
      err = Napi::Error::New(env, e.what());
      code = "ERR_DCN_NOT_IMPLEMENTED";
      break;
    case ErrorKind::kInternal: err = Napi::Error::New(env, e.what()); break;
  }
  err.Set("code", Napi::String::New(env, code));
  return err;
}

}  // namespace dcn::napi
