// The pooling window of kernels/shapes.h (Pool2dShape) as the CPU references walk it, shared by the
// FP32 (pool_ref) and INT8 (int8_ref) pools so both visit the same cells and divide by the same count.
//   for_each_pool_cell(p, x_plane, oh, ow, visit)   visit(x) for every window cell of output (oh, ow)
//                                                    inside the input plane, in window order (i, then j)
//   pool_window_count(p, oh, ow)                     the average pool's divisor: window cells inside the
//                                                    input, or inside the padded input when
//                                                    count_include_pad (never the ceil_mode overhang)
#pragma once

#include <cstdint>

#include "kernels/shapes.h"

namespace octet::kernels {

template <typename T, typename Visit>
void for_each_pool_cell(const Pool2dShape& p, const T* x_plane, int64_t oh, int64_t ow, Visit&& visit) {
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

// Window positions start + t * dilation (t < kernel) within [lo, hi).
inline int64_t window_cells_within(int64_t start, int64_t kernel, int64_t dilation, int64_t lo, int64_t hi) {
  int64_t count = 0;
  for (int64_t t = 0; t < kernel; ++t) {
    const int64_t at = start + t * dilation;
    if (at >= lo && at < hi) ++count;
  }
  return count;
}

inline int64_t pool_window_count(const Pool2dShape& p, int64_t oh, int64_t ow) {
  const int64_t pad_top = p.count_include_pad ? p.pad_top : 0, pad_bottom = p.count_include_pad ? p.pad_bottom : 0;
  const int64_t pad_left = p.count_include_pad ? p.pad_left : 0, pad_right = p.count_include_pad ? p.pad_right : 0;
  return window_cells_within(oh * p.stride_h - p.pad_top, p.kernel_h, p.dilation_h, -pad_top, p.h + pad_bottom) *
         window_cells_within(ow * p.stride_w - p.pad_left, p.kernel_w, p.dilation_w, -pad_left, p.w + pad_right);
}

}  // namespace octet::kernels
