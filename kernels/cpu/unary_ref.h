// Elementwise unary functions, CPU reference: y[i] = apply_unary(op, x[i]) for i < n (kernels/unary.h).
#pragma once

#include <cstdint>

#include "kernels/unary.h"

namespace octet::kernels {

void unary_ref(UnaryOp op, const float* x, float* y, int64_t n);

}  // namespace octet::kernels
