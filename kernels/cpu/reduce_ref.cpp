#include "kernels/cpu/reduce_ref.h"

#include "kernels/cpu/broadcast.h"

namespace octet::kernels {

void reduce_ref(ReduceOp op, const float* x, const ReduceGeometry& g, float* y) {
  const int64_t n = g.count();
  for (int64_t o = 0; o < g.outputs(); ++o) {
    const float* base = x + strided_offset(o, g.kept_dims, g.kept_strides);
    float lanes[kReduceLanes];
    for (float& lane : lanes) lane = reduce_identity(op);
    for (int64_t i = 0; i < n; ++i) {
      float& lane = lanes[i % kReduceLanes];
      lane = reduce_combine(op, lane, base[strided_offset(i, g.reduced_dims, g.reduced_strides)]);
    }
    y[o] = reduce_finish(op, fold_lanes(op, lanes), n);
  }
}

}  // namespace octet::kernels
