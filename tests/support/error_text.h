// The message of the octet::Error a call throws, for tests that check what an error says.
#pragma once

#include <string>

#include "engine/error.h"

namespace octet::test {

// f's Error message, or "(no error)" when it returns normally (other exceptions pass through).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace octet::test
