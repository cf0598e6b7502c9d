// SPDX-License-Identifier: MIT
// dcn::Error, the one exception type of the native code, and DCN_CHECK, which builds its message only
// when the check fails. napi/errors.cc turns an Error into a JS TypeError, RangeError or Error with a
// stable `code`. Host code only.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace dcn {

enum class ErrorKind {
  kType,            // an argument of the wrong type (JS TypeError, ERR_DCN_INVALID_ARGUMENT)
  kRange,           // a number out of its range (JS RangeError, ERR_DCN_INVALID_ARGUMENT)
  kValue,           // shapes that do not fit together (ERR_DCN_SHAPE_MISMATCH)
  kDType,           // tensors of different or unsupported dtypes (ERR_DCN_DTYPE_MISMATCH)
  kNotImplemented,  // a supported-later combination (ERR_DCN_NOT_IMPLEMENTED)
  kInternal,        // a broken invariant of our own (ERR_DCN)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace dcn

// Throws dcn::Error(ErrorKind::KIND, message) when COND is false; the message parts are streamed
// together only on failure.
#define DCN_CHECK(COND, KIND, ...)                                                    \
  do {                                                                                \
    if (!(COND)) {                                                                    \
      throw ::dcn::Error(::dcn::ErrorKind::KIND, ::dcn::detail::concat(__VA_ARGS__)); \
    }                                                                                 \
  } while (0)
