#include "kernels/cpu/reduce_ref.h"

#include "kernels/cpu/broadcast.h"

namespace octet::kernels {

void reduce_ref(ReduceOp op, const float* x, const ReduceGeometry& g, float* y) {
  const int64_t n = g.count();
  for (int64_t o = 0; o < g.outputs(); ++o) {
    const float* base = x + strided_offset(o, g.kept_dims, g.kept_strides);
    y[o] = reduce_in_lane_order(
        op, n, [&](int64_t i) { return base[strided_offset(i, g.reduced_dims, g.reduced_strides)]; });
  }
}

}  // namespace octet::kernels
