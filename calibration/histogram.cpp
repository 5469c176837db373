#include "calibration/histogram.h"

#include <algorithm>
#include <numeric>

namespace octet {

void TensorStats::merge(const TensorStats& other) {
  // std::min/max keep the left operand on NaN; min/max never hold NaN (NaN values are only
  // counted), and the empty defaults (+inf, -inf, 0) are the identities of these reductions.
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  absmax = std::max(absmax, other.absmax);
  count += other.count;
  nan_count += other.nan_count;
}

uint64_t Histogram::total() const { return std::accumulate(counts.begin(), counts.end(), uint64_t{0}); }

}  // namespace octet
