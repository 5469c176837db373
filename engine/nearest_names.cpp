#include "engine/nearest_names.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace octet {

size_t edit_distance(const std::string& a, const std::string& b) {
  // One row of the dynamic-programming table at a time: row[j] = distance(a[0, i), b[0, j)).
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       size_t count) {
  std::vector<std::pair<size_t, size_t>> ranked;  // (distance, candidate index): ties in candidate order
  ranked.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) ranked.emplace_back(edit_distance(name, candidates[i]), i);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> nearest;
  for (size_t i = 0; i < std::min(count, ranked.size()); ++i) nearest.push_back(candidates[ranked[i].second]);
  return nearest;
}

std::string quoted_with_nearest(const std::string& name, const std::vector<std::string>& candidates,
                                const std::string& when_none, size_t count) {
  const std::vector<std::string> nearest = nearest_names(name, candidates, count);
  std::string text = "'" + name + "' (nearest: ";
  for (size_t i = 0; i < nearest.size(); ++i) text += (i ? ", '" : "'") + nearest[i] + "'";
  if (nearest.empty()) text += when_none;
  return text + ")";
}

}  // namespace octet
