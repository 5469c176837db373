// Broadcasting binary functions, CPU reference (kernels/binary_math.h):
//   y[i] = apply_binary_math(op, a[ia(i)], b[ib(i)])  for every index i of y_dims
// where a_dims and b_dims broadcast to y_dims (numpy rules, kernels/cpu/broadcast.h). y may be a
// itself when a_dims == y_dims, which is how variadic Max and Min fold their inputs into y.
#pragma once

#include "engine/tensor.h"
#include "kernels/binary_math.h"

namespace octet::kernels {

void binary_math_ref(BinaryMath op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y,
                     const Dims& y_dims);

}  // namespace octet::kernels
