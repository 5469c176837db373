#include "engine/tensor_diff.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"

namespace octet {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double median_of(std::vector<double>& v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
}

double reldiff(double absdiff, double reference) {
  if (absdiff == 0) return 0;
  return reference == 0 ? kInf : absdiff / std::abs(reference);
}

}  // namespace

ErrorStat parse_error_stat(const std::string& text) {
  if (text == "elemwise") return ErrorStat::kElemwise;
  if (text == "max") return ErrorStat::kMax;
  if (text == "mean") return ErrorStat::kMean;
  if (text == "median") return ErrorStat::kMedian;
  OCTET_CHECK(false, "--check-error-stat '", text, "': use elemwise, max, mean or median");
  return ErrorStat::kElemwise;
}

TensorDiff diff_tensors(const Tensor& x, const Tensor& reference, const Tolerance& tolerance,
                        const std::string& what) {
  OCTET_CHECK(x.type() == DataType::kFloat32 && reference.type() == DataType::kFloat32, what, ": compares float32 ",
              "tensors, got ", to_string(x.type()), " and ", to_string(reference.type()));
  OCTET_CHECK(x.dims() == reference.dims(), what, ": dims ", to_string(x.dims()), " differ from the reference's ",
              to_string(reference.dims()));
  TensorDiff d;
  d.elements = x.numel();
  const float* a = x.data<float>();
  const float* r = reference.data<float>();
  std::vector<double> abs_diffs, rel_diffs;
  abs_diffs.reserve(static_cast<size_t>(d.elements));
  rel_diffs.reserve(static_cast<size_t>(d.elements));
  double error_sq = 0, reference_sq = 0, x_sq = 0, dot = 0, abs_sum = 0, rel_sum = 0;
  for (int64_t i = 0; i < d.elements; ++i) {
    if (std::isnan(a[i]) || std::isnan(r[i])) {
      ++d.nans;
      ++d.failing;
      continue;
    }
    const double xi = a[i], ri = r[i];
    const double absdiff = std::abs(xi - ri), rel = reldiff(absdiff, ri);
    abs_diffs.push_back(absdiff);
    rel_diffs.push_back(rel);
    abs_sum += absdiff;
    rel_sum += rel;
    d.max_abs = std::max(d.max_abs, absdiff);
    d.max_rel = std::max(d.max_rel, rel);
    if (!(absdiff <= tolerance.atol || rel <= tolerance.rtol)) ++d.failing;
    error_sq += (xi - ri) * (xi - ri);
    reference_sq += ri * ri;
    x_sq += xi * xi;
    dot += xi * ri;
  }
  const auto counted = static_cast<double>(abs_diffs.size());
  d.mean_abs = counted > 0 ? abs_sum / counted : 0;
  d.mean_rel = counted > 0 ? rel_sum / counted : 0;
  d.median_abs = median_of(abs_diffs);
  d.median_rel = median_of(rel_diffs);
  d.rel_l2 = error_sq == 0 ? 0 : (reference_sq == 0 ? kInf : std::sqrt(error_sq / reference_sq));
  d.sqnr_db = error_sq == 0 ? kInf : 10 * std::log10(reference_sq / error_sq);
  d.cosine = x_sq == 0 && reference_sq == 0 ? 1 : (x_sq == 0 || reference_sq == 0 ? 0 : dot / std::sqrt(x_sq * reference_sq));
  const auto within = [&](double abs_stat, double rel_stat) {
    return d.nans == 0 && (abs_stat <= tolerance.atol || rel_stat <= tolerance.rtol);
  };
  switch (tolerance.stat) {
    case ErrorStat::kElemwise: d.passed = d.failing == 0; break;
    case ErrorStat::kMax: d.passed = within(d.max_abs, d.max_rel); break;
    case ErrorStat::kMean: d.passed = within(d.mean_abs, d.mean_rel); break;
    case ErrorStat::kMedian: d.passed = within(d.median_abs, d.median_rel); break;
  }
  return d;
}

}  // namespace octet
