// "Did you mean": the names nearest to a name that was not found, for error messages.
//
// Distance is Levenshtein's edit distance (one insertion, deletion or substitution of a byte costs
// 1; case matters). Ties keep the candidates' order, so a message is the same on every run and
// reads in the order the user sees the names elsewhere (model order, layer order).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace octet {

size_t edit_distance(const std::string& a, const std::string& b);

// The `count` candidates nearest to `name`, nearest first (fewer when there are fewer candidates).
std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       size_t count = 3);

// "'<name>' (nearest: '<a>', '<b>', '<c>')", or "'<name>' (nearest: <when_none>)" when there are no
// candidates (e.g. when_none = "none, the model has no tensors").
std::string quoted_with_nearest(const std::string& name, const std::vector<std::string>& candidates,
                                const std::string& when_none, size_t count = 3);

}  // namespace octet
