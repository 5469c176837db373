// Reductions on the GPU: y[o] = the reduction `op` of output o's elements for every
// o < g.outputs(), in the order of kernels/reduce.h, so bit-identical to the CPU reference. One warp
// per output. Enqueued on `stream`; the launch is checked. UnsupportedError when the input exceeds
// 2^31 - 1 elements or the geometry more than kMaxReduceRank kept or reduced dimensions.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/reduce.h"

namespace octet::kernels {

constexpr int kMaxReduceRank = 8;

void reduce_cuda(ReduceOp op, const float* x, const ReduceGeometry& g, float* y, cudaStream_t stream);

}  // namespace octet::kernels
