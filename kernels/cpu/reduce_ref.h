// Reductions, CPU reference: y[o] = the reduction `op` of output o's elements, in the order
// kernels/reduce.h defines (32 round-robin lanes, then their tree), for every o < g.outputs().
#pragma once

#include "kernels/reduce.h"

namespace octet::kernels {

void reduce_ref(ReduceOp op, const float* x, const ReduceGeometry& g, float* y);

}  // namespace octet::kernels
