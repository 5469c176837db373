// Activation statistics gathered during calibration: running min/max/abs-max and a histogram of |x|.
//
// Two passes by default (DESIGN.md): pass 1 finds each tensor's abs-max over the whole calibration
// set; pass 2 fills a kHistogramBins-bin histogram of |x| over the fixed range [0, range] with
// range = that abs-max. Fixed ranges make the counts independent of batch size and sample order.
//
// Binning, identical on CPU and GPU (one float multiply, no FMA, then a clamp):
//     inv_width = float(kHistogramBins) / range          (computed once on the host, float)
//     bin(x)    = fabsf(x) * inv_width < kHistogramBins - 1 ? int(fabsf(x) * inv_width) : kHistogramBins - 1
// so bin i holds |x| in [i * width, (i + 1) * width) with width = range / kHistogramBins, and |x| ==
// range lands in the last bin. NaN values are not binned; they are counted in nan_count. A tensor
// whose abs-max is 0 keeps range 0 and puts every value in bin 0.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE

namespace octet {

constexpr int kHistogramBins = 2048;

struct TensorStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  float absmax = 0.0f;   // max |x| over non-NaN values
  uint64_t count = 0;    // values seen (NaN included)
  uint64_t nan_count = 0;

  void merge(const TensorStats& other);
};

struct Histogram {
  float range = 0.0f;             // upper edge of the last bin: the abs-max of pass 1
  std::vector<uint64_t> counts;   // kHistogramBins entries (empty until pass 2 starts)

  float bin_width() const { return range / static_cast<float>(kHistogramBins); }
  float inverse_bin_width() const { return range > 0.0f ? static_cast<float>(kHistogramBins) / range : 0.0f; }
  uint64_t total() const;
};

// Bin of one value (the formula above); `inv_width` = Histogram::inverse_bin_width().
// The comparison comes before the conversion so values past the range (single-pass mode, inf)
// never convert an out-of-range float to int. Compiled for host and device (kernels/cuda/histogram_cuda.cu
// bins with this very function, compiled without FMA contraction).
OCTET_HOST_DEVICE inline int histogram_bin(float x, float inv_width) {
  const float scaled = (x < 0.0f ? -x : x) * inv_width;
  return scaled < static_cast<float>(kHistogramBins - 1) ? static_cast<int>(scaled) : kHistogramBins - 1;
}

// What calibration keeps per tensor.
struct TensorCalibration {
  std::string name;  // the ONNX tensor name
  TensorStats stats;
  Histogram histogram;
};

}  // namespace octet
