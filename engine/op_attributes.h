// The attributes of a registered operator (engine/op_registry.h): a small sorted map from name to
// value, normalised at import (defaults filled in, negative axes made positive, inputs that must be
// constants folded in), so kernels and shape rules never re-derive them.
//
// Why a map and not one struct per operator as for the operators that came before the registry: an
// operator's attributes then live in its own op file, and plans (engine/plan.cpp) and layer info
// serialise them without knowing the operator. Each op file reads them through these typed getters;
// a missing name or a value of another type is an Error naming the attribute (a bug in the op file
// or a corrupt plan, never user input: import validates user input).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "engine/tensor.h"

namespace octet {

struct OpAttributes {
  using Value = std::variant<int64_t, float, std::string, Dims, std::vector<float>>;
  std::map<std::string, Value> entries;

  OpAttributes& set(const std::string& name, Value value) {
    entries[name] = std::move(value);
    return *this;
  }
  bool has(const std::string& name) const { return entries.count(name) != 0; }

  int64_t i(const std::string& name) const { return get<int64_t>(name, "an int"); }
  float f(const std::string& name) const { return get<float>(name, "a float"); }
  const std::string& s(const std::string& name) const { return get<std::string>(name, "a string"); }
  const Dims& ints(const std::string& name) const { return get<Dims>(name, "a list of ints"); }
  const std::vector<float>& floats(const std::string& name) const { return get<std::vector<float>>(name, "a list of floats"); }

  bool operator==(const OpAttributes& other) const { return entries == other.entries; }

 private:
  template <typename T>
  const T& get(const std::string& name, const char* what) const {
    const auto it = entries.find(name);
    OCTET_CHECK(it != entries.end(), "operator attribute '", name, "' is missing");
    const T* value = std::get_if<T>(&it->second);
    OCTET_CHECK(value != nullptr, "operator attribute '", name, "' is not ", what);
    return *value;
  }
};

}  // namespace octet
