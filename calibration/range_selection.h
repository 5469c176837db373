// Range selection: the activation amax (and so the INT8 scale = amax / 127) chosen from one tensor's
// statistics. Pure functions over a histogram (calibration/histogram.h), so any method can be
// re-applied to saved histograms without running the model again.
//
//   max         amax = the observed abs-max.
//   entropy     TensorRT's EntropyCalibration2 (GTC 2017, "8-bit Inference with TensorRT"): for each
//               candidate i = 128 .. 2048 (bins kept):
//                 P = counts[0..i) with the outliers sum(counts[i..2048)) added to P[i-1];
//                 Q = counts[0..i) merged into 128 levels of m = floor(i / 128) bins each (the last
//                     level also takes the i - 128*m remaining bins), each level's total spread evenly
//                     over its bins whose count is non-zero; bins with count 0 get 0;
//                 KL(P || Q) = sum over bins with P > 0 of p * ln(p / q), P and Q each normalised to
//                     sum 1; a candidate with q = 0 where p > 0 (possible only at bin i-1, when it was
//                     empty and received outliers) has KL = +inf and never wins;
//               amax = (i + 0.5) * bin_width for the i of least KL (no smoothing; ties: smallest i).
//               Computed in double.
//   percentile  the smallest bin edge (i + 1) * bin_width such that the counts of bins <= i reach
//               p percent of all counts (p in (0, 100]; default 99.99).
//   mse         the candidate amax = (i + 1) * bin_width, i in [127, 2047] (at least 128 bins), that
//               minimises the expected squared error of symmetric INT8 quantization of values
//               distributed as the histogram (each bin's values taken at its centre): rounding error
//               for values inside the range, clipping error for those outside.
//               Ties: the smallest amax wins.
// Every function returns amax > 0 for a histogram with data, and 0 for an all-zero tensor (its scale
// then falls back to 1, as DESIGN.md fixes for weights).
#pragma once

#include <string>

#include "calibration/histogram.h"

namespace octet {

enum class RangeMethod : uint8_t { kMax, kEntropy, kPercentile, kMse };
const char* to_string(RangeMethod method);
RangeMethod parse_range_method(const std::string& name);  // Error listing the names otherwise

struct RangeOptions {
  RangeMethod method = RangeMethod::kEntropy;
  double percentile = 99.99;
};

float amax_max(const TensorStats& stats);
float amax_entropy(const Histogram& histogram);
float amax_percentile(const Histogram& histogram, double percentile);
float amax_mse(const Histogram& histogram);

// Dispatches on options.method.
float select_amax(const TensorCalibration& tensor, const RangeOptions& options);

// Share of the tensor's values with |x| > amax (from the histogram; 0 when amax >= range).
double saturation_fraction(const Histogram& histogram, float amax);

}  // namespace octet
