#include "kernels/cpu/resize_ref.h"

namespace octet::kernels {

void resize_ref(const ResizeParams& p, int64_t planes, const float* x, float* y) {
  const int64_t in_plane = int64_t{p.h.in} * p.w.in;
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int32_t i = 0; i < p.h.out; ++i)
      for (int32_t j = 0; j < p.w.out; ++j) *y++ = resize_at(p, x + plane * in_plane, i, j);
}

}  // namespace octet::kernels
