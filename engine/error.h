// octet::Error — the one exception type that crosses module boundaries.
//
// Every error says what failed and where: the file, node (layer) or tensor at fault is part of the
// message, so a user can act on it without a debugger. The CLI catches Error at the top, prints
// what() and exits non-zero.
//
// UnsupportedError is the subclass for "valid ONNX, but a case octet does not implement" (an
// operator, an attribute value, a data type). The conformance harness reports those as skips with
// the reason; every other Error is a failure.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace octet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

class UnsupportedError : public Error {
 public:
  explicit UnsupportedError(const std::string& what) : Error(what) {}
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// OCTET_CHECK(cond, parts...): throws Error(parts...) when cond is false. The parts are streamed,
// so callers write OCTET_CHECK(k > 0, "node '", name, "': kernel size ", k, " must be positive").
#define OCTET_CHECK(cond, ...)                                          \
  do {                                                                  \
    if (!(cond)) throw ::octet::Error(::octet::detail::concat(__VA_ARGS__)); \
  } while (0)

#define OCTET_UNSUPPORTED(...) throw ::octet::UnsupportedError(::octet::detail::concat(__VA_ARGS__))

}  // namespace octet
