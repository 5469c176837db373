#include "kernels/cpu/pool_ref.h"

#include <limits>

#include "kernels/cpu/pool_window.h"
#include "kernels/reduce.h"

namespace octet::kernels {

namespace {

void check_global_dims(const Dims& x_dims, const char* op) {
  OCTET_CHECK(x_dims.size() >= 3, op, " needs an input of rank >= 3 ([N, C, spatial...]), got ",
              to_string(x_dims));
}

}  // namespace

void maxpool2d_ref(const Pool2dShape& shape, const float* x, float* y) {
  const Pool2dShape& p = shape;
  for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
    const float* x_plane = x + plane * p.h * p.w;
    for (int64_t oh = 0; oh < p.oh; ++oh) {
      for (int64_t ow = 0; ow < p.ow; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        for_each_pool_cell(p, x_plane, oh, ow, [&](float v) { best = v > best ? v : best; });
        y[(plane * p.oh + oh) * p.ow + ow] = best;
      }
    }
  }
}

void avgpool2d_ref(const Pool2dShape& shape, const float* x, float* y) {
  const Pool2dShape& p = shape;
  for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
    const float* x_plane = x + plane * p.h * p.w;
    for (int64_t oh = 0; oh < p.oh; ++oh) {
      for (int64_t ow = 0; ow < p.ow; ++ow) {
        float sum = 0.0f;
        for_each_pool_cell(p, x_plane, oh, ow, [&](float v) { sum += v; });
        y[(plane * p.oh + oh) * p.ow + ow] = sum / static_cast<float>(pool_window_count(p, oh, ow));
      }
    }
  }
}

void global_avgpool_ref(const float* x, const Dims& x_dims, float* y) {
  check_global_dims(x_dims, "GlobalAveragePool");
  const int64_t planes = x_dims[0] * x_dims[1];
  const int64_t cells = numel(Dims(x_dims.begin() + 2, x_dims.end()));
  for (int64_t plane = 0; plane < planes; ++plane) {
    // The mean in kernels/reduce.h's lane order, as the CUDA kernel (a warp per plane) sums it.
    y[plane] = reduce_in_lane_order(ReduceOp::kMean, cells, [&](int64_t i) { return x[plane * cells + i]; });
  }
}

void global_maxpool_ref(const float* x, const Dims& x_dims, float* y) {
  check_global_dims(x_dims, "GlobalMaxPool");
  const int64_t planes = x_dims[0] * x_dims[1];
  const int64_t cells = numel(Dims(x_dims.begin() + 2, x_dims.end()));
  for (int64_t plane = 0; plane < planes; ++plane) {
    float best = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < cells; ++i) best = x[plane * cells + i] > best ? x[plane * cells + i] : best;
    y[plane] = best;
  }
}

}  // namespace octet::kernels
