// Resize along H and W, CPU reference: y[n, c, i, j] = resize_at(p, plane (n, c) of x, i, j) for every
// output element, `planes` = N * C planes of [p.h.in, p.w.in] in, [p.h.out, p.w.out] out (kernels/resize.h).
#pragma once

#include <cstdint>

#include "kernels/resize.h"

namespace octet::kernels {

void resize_ref(const ResizeParams& p, int64_t planes, const float* x, float* y);

// Nearest mode on int8 NCHW planes (an INT8 Resize passes its input's scale through):
// y[n, c, i, j] = plane (n, c) of x at resize_nearest_cell(p, i, j). p.mode must be kNearest.
void resize_nearest_int8_ref(const ResizeParams& p, int64_t planes, const int8_t* x, int8_t* y);

}  // namespace octet::kernels
