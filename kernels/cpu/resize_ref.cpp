#include "kernels/cpu/resize_ref.h"

#include "engine/error.h"

namespace octet::kernels {

void resize_ref(const ResizeParams& p, int64_t planes, const float* x, float* y) {
  const int64_t in_plane = int64_t{p.h.in} * p.w.in;
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int32_t i = 0; i < p.h.out; ++i)
      for (int32_t j = 0; j < p.w.out; ++j) *y++ = resize_at(p, x + plane * in_plane, i, j);
}

void resize_nearest_int8_ref(const ResizeParams& p, int64_t planes, const int8_t* x, int8_t* y) {
  OCTET_CHECK(p.mode == ResizeMode::kNearest, "resize_nearest_int8_ref: a linear Resize computes new values");
  const int64_t in_plane = int64_t{p.h.in} * p.w.in;
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int32_t i = 0; i < p.h.out; ++i)
      for (int32_t j = 0; j < p.w.out; ++j) {
        const ResizeCell cell = resize_nearest_cell(p, i, j);
        *y++ = x[plane * in_plane + int64_t{cell.row} * p.w.in + cell.col];
      }
}

}  // namespace octet::kernels
