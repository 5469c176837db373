#include "kernels/cpu/normalization_ref.h"

#include <cmath>

#include "kernels/reduce.h"

namespace octet::kernels {

namespace {

// The lane-ordered sum of kernels/reduce.h of term(j) for j < n.
template <typename Term>
float lane_sum(int64_t n, Term term) {
  float lanes[kReduceLanes] = {};
  for (int64_t j = 0; j < n; ++j) lanes[j % kReduceLanes] += term(j);
  return fold_lanes(ReduceOp::kSum, lanes);
}

}  // namespace

void layer_norm_ref(const float* x, const float* scale, const float* bias, const LayerNormShape& s, float* y) {
  const float count = static_cast<float>(s.n);
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* row = x + r * s.n;
    float* out = y + r * s.n;
    const float mean = lane_sum(s.n, [&](int64_t j) { return row[j]; }) / count;
    const float var = lane_sum(s.n, [&](int64_t j) { return (row[j] - mean) * (row[j] - mean); }) / count;
    const float deviation = std::sqrt(var + s.epsilon);
    for (int64_t j = 0; j < s.n; ++j) {
      const float scaled = (row[j] - mean) / deviation * scale[j * s.scale_stride];
      out[j] = bias ? scaled + bias[j * s.bias_stride] : scaled;
    }
  }
}

}  // namespace octet::kernels
