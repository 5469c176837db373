// Lookups and error expectations the graph-level test suites share.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/graph.h"

namespace octet::test {

// The node / value of that name; std::runtime_error (never octet's Error, which tests expect from
// the code under test) when the graph has none.
inline const Node& node_named(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("test: no node named " + name);
}

inline const Value& value_named(const Graph& g, const std::string& name) {
  const ValueId id = g.find_value(name);
  if (id == kNoValue) throw std::runtime_error("test: no value named " + name);
  return g.value(id);
}

// Expects `fn` to throw an octet Error (UnsupportedError included) whose message holds every fragment.
template <typename Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

}  // namespace octet::test
