// How far a tensor is from a reference: the statistics of `octet compare` (Polygraphy's comparison
// of two runners, with the quantization-minded SQNR and cosine beside them).
//
//   absdiff_i = |x_i - r_i|        reldiff_i = absdiff_i / |r_i|   (0 where both are 0, inf where only r_i is)
//   max / mean / median of absdiff and of reldiff
//   rel_l2  = ||x - r||_2 / ||r||_2                      (0 when equal; inf when r = 0 and x != r)
//   sqnr_db = 10 log10(sum r_i^2 / sum (x_i - r_i)^2)    (inf when equal)
//   cosine  = <x, r> / (||x|| ||r||)                     (1 when both are 0)
// Sums in double. A NaN on either side makes that element fail every check and is counted in `nans`.
//
// The check (`--check-error-stat`, Polygraphy's spelling; defaults atol = rtol = 1e-5):
//   elemwise   every element has absdiff <= atol or reldiff <= rtol
//   max | mean | median   that statistic of absdiff <= atol, or that statistic of reldiff <= rtol
#pragma once

#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace octet {

enum class ErrorStat { kElemwise, kMax, kMean, kMedian };
// "elemwise" | "max" | "mean" | "median"; Error listing them otherwise.
ErrorStat parse_error_stat(const std::string& text);

struct Tolerance {
  double atol = 1e-5;
  double rtol = 1e-5;
  ErrorStat stat = ErrorStat::kElemwise;
};

struct TensorDiff {
  int64_t elements = 0;
  int64_t nans = 0;
  int64_t failing = 0;  // elements outside atol-or-rtol (the elemwise check counts these)
  double max_abs = 0, mean_abs = 0, median_abs = 0;
  double max_rel = 0, mean_rel = 0, median_rel = 0;
  double rel_l2 = 0, sqnr_db = 0, cosine = 1;
  bool passed = true;  // under the tolerance it was computed with
};

// x and reference: float32 tensors of equal dims (Error naming `what` otherwise).
TensorDiff diff_tensors(const Tensor& x, const Tensor& reference, const Tolerance& tolerance, const std::string& what);

}  // namespace octet
