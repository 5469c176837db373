#include "kernels/cpu/histogram_ref.h"

#include <algorithm>
#include <cmath>

namespace octet::kernels {

void tensor_stats_ref(const float* x, int64_t n, TensorStats& stats) {
  uint32_t lo = float_order_key(stats.min);
  uint32_t hi = float_order_key(stats.max);
  uint32_t amax = abs_bits(stats.absmax);
  uint64_t nans = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    const uint32_t key = float_order_key(v);
    lo = std::min(lo, key);
    hi = std::max(hi, key);
    amax = std::max(amax, abs_bits(v));
  }
  stats.min = float_from_order_key(lo);
  stats.max = float_from_order_key(hi);
  stats.absmax = float_from_bits(amax);
  stats.count += static_cast<uint64_t>(n);
  stats.nan_count += nans;
}

void histogram_ref(const float* x, int64_t n, float inv_width, uint64_t* counts) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) continue;
    ++counts[histogram_bin(x[i], inv_width)];
  }
}

}  // namespace octet::kernels
