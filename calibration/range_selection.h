// Range selection: the activation amax (and so the INT8 scale = amax / 127) chosen from one tensor's
// statistics. Pure functions over a histogram (calibration/histogram.h), so any method can be
// re-applied to saved histograms without running the model again.
//
// Notation: c[k] = histogram.counts[k], k in [0, 2048); N = sum of c; w = bin_width() = range / 2048.
// A candidate is a bin index i, and amax is a fixed multiple of w; it is evaluated as
// float(double(i + 1) * double(range) / 2048) (or (i + 0.5)), exact up to that one final rounding.
//
//   max         amax = the observed abs-max.
//   entropy     TensorRT's EntropyCalibration2 (GTC 2017, "8-bit Inference with TensorRT"): for each
//               candidate i = 128 .. 2048 (bins kept; both ends included, i = 2048 keeps every bin),
//               over the histogram with c[0] replaced by c[1] (as NVIDIA's pytorch-quantization does;
//               not when bin 0 holds every count, which would leave nothing):
//               after a ReLU, a third or more of the values are exact zeros, all in bin 0; merged
//               into a level of Q and spread over its bins, that spike dominates KL(P || Q) for every
//               candidate whose level 0 spans more than one bin, so the search would pick i ~ 128
//               and clip the tensor hard (measured: 6-17% of the ReLU outputs of the reference
//               ResNet saturated, INT8 top-1 55 points below FP32). Only bin 0 changes; the
//               outlier and level definitions below are TensorRT's:
//                 P = c[0..i) with the outliers sum(c[i..2048)) added to P[i-1];
//                 Q = c[0..i) merged into 128 levels of m = floor(i / 128) bins each (the last
//                     level also takes the i - 128*m remaining bins), each level's total spread evenly
//                     over its bins whose count c[k] is non-zero; bins with c[k] = 0 get 0;
//                 KL(P || Q) = sum over bins with P > 0 of p * ln(p / q), P and Q each normalised to
//                     sum 1; a candidate with q = 0 where p > 0 (possible only at bin i-1, when it was
//                     empty and received outliers) has KL = +inf and never wins;
//               amax = (i + 0.5) * w for the i of least KL (no smoothing; ties: smallest i).
//               Computed in double. i = 2048 has no outliers, so its KL is finite and some candidate
//               always wins; its amax, 2048.5 * w, lies half a bin above the observed abs-max.
//   percentile  amax = (i + 1) * w for the smallest i whose cumulative count C(i) = sum c[0..i]
//               reaches p percent of N, tested as 100.0 * C(i) >= p * N in double
//               (p in (0, 100]; default 99.99; p = 100 gives the upper edge of the last non-empty bin).
//   mse         amax = (i + 1) * w for i in [127, 2047] (at least 128 bins) minimising the expected
//               squared error of symmetric INT8 quantization of values distributed as the histogram,
//               each bin's values taken at its centre x_k = (k + 0.5) * w:
//                 s = amax / 127,  q_k = min(rint_half_even(x_k / s), 127),
//                 E(i) = sum_k c[k] * (x_k - q_k * s)^2
//               (q_k = 127 is the clipping error of values beyond amax, the rest rounding error).
//               Evaluated exactly: in units of w / 254 every x_k and q_k * s is an integer, so E(i)
//               is an integer sum (128-bit) and ties are true ties. Ties: the smallest amax wins.
// Every function returns amax > 0 for a histogram with data, and 0 for an all-zero tensor (range 0)
// or a histogram without counts (its scale then falls back to 1, as DESIGN.md fixes for weights).
// A histogram whose counts are neither empty nor kHistogramBins long is an Error.
#pragma once

#include <cstdint>
#include <string>

#include "calibration/histogram.h"

namespace octet {

enum class RangeMethod : uint8_t { kMax, kEntropy, kPercentile, kMse };
const char* to_string(RangeMethod method);                // "max", "entropy", "percentile", "mse"
RangeMethod parse_range_method(const std::string& name);  // Error listing the names otherwise

struct RangeOptions {
  RangeMethod method = RangeMethod::kEntropy;
  double percentile = 99.99;
};

float amax_max(const TensorStats& stats);
float amax_entropy(const Histogram& histogram);
float amax_percentile(const Histogram& histogram, double percentile);  // Error unless 0 < percentile <= 100
float amax_mse(const Histogram& histogram);

// Dispatches on options.method. Error naming the tensor when a histogram method meets a tensor with
// data but no histogram (pass 2 did not run) or a histogram of the wrong size.
float select_amax(const TensorCalibration& tensor, const RangeOptions& options);

// Share of the tensor's values with |x| > amax, estimated from the histogram: bins whose lower edge
// is >= amax count whole, the bin holding amax counts by the part of its width above amax (values
// taken as uniform within a bin). 0 when amax >= range or the histogram has no counts.
double saturation_fraction(const Histogram& histogram, float amax);

}  // namespace octet
