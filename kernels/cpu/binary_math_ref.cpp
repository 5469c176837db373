#include "kernels/cpu/binary_math_ref.h"

#include "kernels/cpu/broadcast.h"

namespace octet::kernels {

void binary_math_ref(BinaryMath op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y,
                     const Dims& y_dims) {
  const Dims a_strides = broadcast_strides(a_dims, y_dims);
  const Dims b_strides = broadcast_strides(b_dims, y_dims);
  const int64_t count = numel(y_dims);
  for (int64_t i = 0; i < count; ++i)
    y[i] = apply_binary_math(op, a[strided_offset(i, y_dims, a_strides)], b[strided_offset(i, y_dims, b_strides)]);
}

}  // namespace octet::kernels
