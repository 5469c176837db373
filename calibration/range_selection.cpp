#include "calibration/range_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"

namespace octet {
namespace {

constexpr int kLevels = 128;           // INT8 magnitudes 0..127 the entropy method merges bins into
constexpr int kMinBinsKept = kLevels;  // entropy and mse never clip below 128 bins

// Exact sums of c[k] * d^2 (below 2^113, see amax_mse); __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 uint128;

// The check every histogram method shares; false when the method returns 0 (no counts, no data, or
// range 0: the all-zero tensor, whose bin width is 0).
bool has_data(const Histogram& histogram) {
  OCTET_CHECK(histogram.counts.empty() || histogram.counts.size() == static_cast<size_t>(kHistogramBins),
              "range selection: histogram has ", histogram.counts.size(), " bins, expected ", kHistogramBins);
  return !histogram.counts.empty() && histogram.range > 0.0f && histogram.total() > 0;
}

// amax = `bins` bin widths (i + 1 or i + 0.5). bins * range needs at most 13 + 24 bits and the
// division by 2048 is exact, so the conversion to float is the only rounding.
float amax_at(const Histogram& histogram, double bins) {
  return static_cast<float>(bins * static_cast<double>(histogram.range) / kHistogramBins);
}

// Prefix sums over the histogram, so each entropy candidate forms its 128 levels in O(128).
struct EntropyPrefix {
  std::vector<uint64_t> count;     // count[k] = sum c[0..k)
  std::vector<uint64_t> nonempty;  // nonempty[k] = number of non-empty bins in [0, k)
};

// KL(P || Q) of entropy candidate i (range_selection.h), +inf when q = 0 where p > 0.
double entropy_divergence(const std::vector<uint64_t>& c, const EntropyPrefix& prefix, int i) {
  const uint64_t total = prefix.count[kHistogramBins], kept = prefix.count[i], outliers = total - kept;
  if (outliers > 0 && c[i - 1] == 0) return std::numeric_limits<double>::infinity();
  const int m = i / kLevels;
  // P sums to `total`; Q sums to the kept counts (every level with counts has a non-empty bin).
  const double p_sum = static_cast<double>(total), q_sum = static_cast<double>(kept);
  double kl = 0.0;
  for (int j = 0; j < kLevels; ++j) {
    const int start = j * m, stop = j == kLevels - 1 ? i : start + m;
    const uint64_t level_count = prefix.count[stop] - prefix.count[start];
    if (level_count == 0) continue;
    // q at each of the level's non-empty bins: the level's total spread evenly over them, normalised.
    const double level_q =
        static_cast<double>(level_count) / static_cast<double>(prefix.nonempty[stop] - prefix.nonempty[start]) / q_sum;
    for (int k = start; k < stop; ++k) {
      if (c[k] == 0) continue;  // p = 0 too: bin i-1 with outliers but c = 0 returned above
      const uint64_t p_count = c[k] + (k == i - 1 ? outliers : 0);
      const double p = static_cast<double>(p_count) / p_sum;
      kl += p * std::log(p / level_q);
    }
  }
  return kl;
}

}  // namespace

const char* to_string(RangeMethod method) {
  switch (method) {
    case RangeMethod::kMax:
      return "max";
    case RangeMethod::kEntropy:
      return "entropy";
    case RangeMethod::kPercentile:
      return "percentile";
    case RangeMethod::kMse:
      return "mse";
  }
  return "unknown";
}

RangeMethod parse_range_method(const std::string& name) {
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse})
    if (name == to_string(method)) return method;
  OCTET_CHECK(false, "unknown calibration method '", name, "' (expected max, entropy, percentile or mse)");
  return RangeMethod::kEntropy;
}

float amax_max(const TensorStats& stats) { return stats.absmax; }

float amax_entropy(const Histogram& histogram) {
  if (!has_data(histogram)) return 0.0f;
  // Bin 0 takes bin 1's count (see the header: the spike of exact zeros after a ReLU), unless bin 0
  // holds all the data.
  std::vector<uint64_t> c = histogram.counts;
  if (c[0] != histogram.total()) c[0] = c[1];
  EntropyPrefix prefix{std::vector<uint64_t>(kHistogramBins + 1, 0), std::vector<uint64_t>(kHistogramBins + 1, 0)};
  for (int k = 0; k < kHistogramBins; ++k) {
    prefix.count[k + 1] = prefix.count[k] + c[k];
    prefix.nonempty[k + 1] = prefix.nonempty[k] + (c[k] > 0 ? 1 : 0);
  }
  int best = kHistogramBins;
  double best_kl = std::numeric_limits<double>::infinity();
  for (int i = kMinBinsKept; i <= kHistogramBins; ++i) {
    const double kl = entropy_divergence(c, prefix, i);
    if (kl < best_kl) {  // strict: the smallest i keeps a tie
      best_kl = kl;
      best = i;
    }
  }
  return amax_at(histogram, best + 0.5);
}

float amax_percentile(const Histogram& histogram, double percentile) {
  OCTET_CHECK(percentile > 0.0 && percentile <= 100.0, "percentile ", percentile, " is outside (0, 100]");
  if (!has_data(histogram)) return 0.0f;
  const double target = percentile * static_cast<double>(histogram.total());
  uint64_t cumulative = 0;
  for (int i = 0; i < kHistogramBins; ++i) {
    cumulative += histogram.counts[i];
    if (100.0 * static_cast<double>(cumulative) >= target) return amax_at(histogram, i + 1);
  }
  // Unreachable for p <= 100 (C(2047) = N); kept so a rounding surprise still yields the range.
  return histogram.range;
}

float amax_mse(const Histogram& histogram) {
  if (!has_data(histogram)) return 0.0f;
  const std::vector<uint64_t>& c = histogram.counts;
  // In units of w / 254: x_k = (2k + 1) * 127 and s = 2 (i + 1), so x_k / s and the error are
  // ratios of small integers. |d| <= 2 * 127 * 2048 < 2^19, so c * d^2 < 2^102 and the sum over
  // 2048 bins < 2^113: exact in 128 bits.
  int best = kMinBinsKept - 1;
  uint128 best_error = 0;
  for (int i = kMinBinsKept - 1; i < kHistogramBins; ++i) {
    const int64_t s = 2 * int64_t(i + 1);
    uint128 error = 0;
    for (int k = 0; k < kHistogramBins; ++k) {
      if (c[k] == 0) continue;
      const int64_t x = (2 * int64_t(k) + 1) * 127;
      // rint_half_even(x / s) in integers.
      int64_t q = x / s;
      const int64_t twice_rest = 2 * (x % s);
      if (twice_rest > s || (twice_rest == s && q % 2 == 1)) ++q;
      if (q > 127) q = 127;
      const int64_t d = x - q * s;
      error += static_cast<uint128>(c[k]) * static_cast<uint128>(d * d);
    }
    if (i == kMinBinsKept - 1 || error < best_error) {  // strict: the smallest amax keeps a tie
      best_error = error;
      best = i;
    }
  }
  return amax_at(histogram, best + 1);
}

float select_amax(const TensorCalibration& tensor, const RangeOptions& options) {
  const Histogram& histogram = tensor.histogram;
  if (options.method != RangeMethod::kMax) {
    OCTET_CHECK(!histogram.counts.empty() || tensor.stats.absmax == 0.0f, "tensor '", tensor.name,
                "': no histogram to apply the ", to_string(options.method), " method to (abs-max ", tensor.stats.absmax,
                ")");
    OCTET_CHECK(histogram.counts.empty() || histogram.counts.size() == static_cast<size_t>(kHistogramBins), "tensor '",
                tensor.name, "': histogram has ", histogram.counts.size(), " bins, expected ", kHistogramBins);
  }
  switch (options.method) {
    case RangeMethod::kMax:
      return amax_max(tensor.stats);
    case RangeMethod::kEntropy:
      return amax_entropy(histogram);
    case RangeMethod::kPercentile:
      return amax_percentile(histogram, options.percentile);
    case RangeMethod::kMse:
      return amax_mse(histogram);
  }
  return 0.0f;
}

double saturation_fraction(const Histogram& histogram, float amax) {
  if (histogram.counts.empty() || !(amax < histogram.range)) return 0.0;
  const uint64_t total = histogram.total();
  if (total == 0) return 0.0;
  // Position of amax in bins; the bin holding it contributes the share of its width above amax.
  const double position = std::max(0.0, static_cast<double>(amax) * kHistogramBins / histogram.range);
  const int straddled = std::min(static_cast<int>(position), kHistogramBins - 1);
  double saturated = 0.0;
  for (int k = straddled + 1; k < kHistogramBins; ++k) saturated += static_cast<double>(histogram.counts[k]);
  saturated += static_cast<double>(histogram.counts[straddled]) * (straddled + 1 - position);
  return saturated / static_cast<double>(total);
}

}  // namespace octet
