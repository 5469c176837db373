#include "kernels/cpu/normalization_ref.h"

#include <cmath>

#include "kernels/reduce.h"

namespace octet::kernels {

void layer_norm_ref(const float* x, const float* scale, const float* bias, const LayerNormShape& s, float* y) {
  const float count = static_cast<float>(s.n);
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* row = x + r * s.n;
    float* out = y + r * s.n;
    const float mean = reduce_in_lane_order(ReduceOp::kSum, s.n, [&](int64_t j) { return row[j]; }) / count;
    const float var = reduce_in_lane_order(ReduceOp::kSum, s.n,
                                           [&](int64_t j) { return (row[j] - mean) * (row[j] - mean); }) / count;
    const float deviation = std::sqrt(var + s.epsilon);
    for (int64_t j = 0; j < s.n; ++j) {
      const float scaled = (row[j] - mean) / deviation * scale[j * s.scale_stride];
      out[j] = bias ? scaled + bias[j * s.bias_stride] : scaled;
    }
  }
}

}  // namespace octet::kernels
