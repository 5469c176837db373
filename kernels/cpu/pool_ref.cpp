#include "kernels/cpu/pool_ref.h"

#include <limits>

namespace octet::kernels {

namespace {

// Calls visit(value) for each window cell inside the input of output (plane, oh, ow).
template <typename Visit>
void for_each_input_cell(const Pool2dShape& p, const float* x_plane, int64_t oh, int64_t ow, Visit&& visit) {
  for (int64_t i = 0; i < p.kernel_h; ++i) {
    const int64_t ih = oh * p.stride_h - p.pad_top + i * p.dilation_h;
    if (ih < 0 || ih >= p.h) continue;
    for (int64_t j = 0; j < p.kernel_w; ++j) {
      const int64_t iw = ow * p.stride_w - p.pad_left + j * p.dilation_w;
      if (iw < 0 || iw >= p.w) continue;
      visit(x_plane[ih * p.w + iw]);
    }
  }
}

// Cells of the window inside [lo, hi) along one axis: start + t*dilation for t < kernel.
int64_t cells_within(int64_t start, int64_t kernel, int64_t dilation, int64_t lo, int64_t hi) {
  int64_t count = 0;
  for (int64_t t = 0; t < kernel; ++t) {
    const int64_t at = start + t * dilation;
    if (at >= lo && at < hi) ++count;
  }
  return count;
}

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
        for_each_input_cell(p, x_plane, oh, ow, [&](float v) { best = v > best ? v : best; });
        y[(plane * p.oh + oh) * p.ow + ow] = best;
      }
    }
  }
}

void avgpool2d_ref(const Pool2dShape& shape, const float* x, float* y) {
  const Pool2dShape& p = shape;
  // Counted region: the input, or the input with its pads when count_include_pad.
  const int64_t row_lo = p.count_include_pad ? -p.pad_top : 0;
  const int64_t row_hi = p.count_include_pad ? p.h + p.pad_bottom : p.h;
  const int64_t col_lo = p.count_include_pad ? -p.pad_left : 0;
  const int64_t col_hi = p.count_include_pad ? p.w + p.pad_right : p.w;
  for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
    const float* x_plane = x + plane * p.h * p.w;
    for (int64_t oh = 0; oh < p.oh; ++oh) {
      const int64_t rows = cells_within(oh * p.stride_h - p.pad_top, p.kernel_h, p.dilation_h, row_lo, row_hi);
      for (int64_t ow = 0; ow < p.ow; ++ow) {
        const int64_t cols = cells_within(ow * p.stride_w - p.pad_left, p.kernel_w, p.dilation_w, col_lo, col_hi);
        float sum = 0.0f;
        for_each_input_cell(p, x_plane, oh, ow, [&](float v) { sum += v; });
        y[(plane * p.oh + oh) * p.ow + ow] = sum / static_cast<float>(rows * cols);
      }
    }
  }
}

void global_avgpool_ref(const float* x, const Dims& x_dims, float* y) {
  check_global_dims(x_dims, "GlobalAveragePool");
  const int64_t planes = x_dims[0] * x_dims[1];
  const int64_t cells = numel(Dims(x_dims.begin() + 2, x_dims.end()));
  for (int64_t plane = 0; plane < planes; ++plane) {
    float sum = 0.0f;
    for (int64_t i = 0; i < cells; ++i) sum += x[plane * cells + i];
    y[plane] = sum / static_cast<float>(cells);
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
