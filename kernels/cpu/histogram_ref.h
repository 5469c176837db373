// Calibration observers, reference: running statistics and the |x| histogram of
// calibration/histogram.h, accumulated over a float32 buffer. kernels/cuda/histogram_cuda.h computes
// the same on the device and gives identical results (integer counts and the float min/max/absmax,
// which are selections, never arithmetic).
//
//   tensor_stats_ref: folds x[0..n) into `stats`: count += n; nan_count += number of NaNs; min, max
//                     and absmax over the non-NaN values (absmax = max |x|; infinities included).
//   histogram_ref:    counts[histogram_bin(x[i], inv_width)] += 1 for every non-NaN x[i]; `counts`
//                     has kHistogramBins entries and is added to, not cleared.
//
// Order independence. min and max compare through float_order_key, a total order on the non-NaN
// floats in which -0 < +0: with plain float comparisons min(-0, +0) would be whichever came first,
// so the result would depend on the batch size and the sample order. absmax compares the bit
// patterns of |x| (for non-negative floats the unsigned bit pattern orders like the value), so
// -0 and +0 both give +0. Both functions are therefore commutative and associative over any split
// of the data, which is what lets the GPU reduce in any order and still match bit for bit.
#pragma once

#include <cstdint>
#include <cstring>

#include "calibration/histogram.h"
#include "kernels/float_math.h"  // float_bits, float_from_bits
#include "kernels/host_device.h"

namespace octet::kernels {

// Monotone map of the non-NaN floats onto uint32: key(a) < key(b) exactly when a orders before b
// (-inf < ... < -0 < +0 < ... < +inf). Negative floats flip all bits (larger magnitude, smaller
// key); non-negative ones set the sign bit (so they sit above every negative).
OCTET_HOST_DEVICE inline uint32_t float_order_key(float x) {
  const uint32_t bits = float_bits(x);
  return (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
}

OCTET_HOST_DEVICE inline float float_from_order_key(uint32_t key) {
  return float_from_bits((key & 0x80000000u) != 0 ? (key & 0x7fffffffu) : ~key);
}

// The bit pattern of |x|, which orders like |x| itself for non-NaN x.
OCTET_HOST_DEVICE inline uint32_t abs_bits(float x) { return float_bits(x) & 0x7fffffffu; }

void tensor_stats_ref(const float* x, int64_t n, TensorStats& stats);

void histogram_ref(const float* x, int64_t n, float inv_width, uint64_t* counts);

}  // namespace octet::kernels
