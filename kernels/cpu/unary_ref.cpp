#include "kernels/cpu/unary_ref.h"

namespace octet::kernels {

void unary_ref(UnaryOp op, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = apply_unary(op, x[i]);
}

}  // namespace octet::kernels
