// Broadcasting binary functions on the GPU (kernels/binary_math.h):
//   y[i] = apply_binary_math(op, a[ia(i)], b[ib(i)])  for every index i of y_dims
// with a_dims and b_dims broadcasting to y_dims (numpy rules), within binary_math_relative_error(op)
// of the CPU reference (0 for all but Pow). y may be a itself when a_dims == y_dims. Enqueued on
// `stream`; the launch is checked. UnsupportedError beyond 2^31 - 1 elements, or when the broadcast
// needs more than kMaxBinaryMathRank dimensions after merging.
#pragma once

#include <cuda_runtime_api.h>

#include "engine/tensor.h"
#include "kernels/binary_math.h"

namespace octet::kernels {

constexpr int kMaxBinaryMathRank = 8;

void binary_math_cuda(BinaryMath op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y,
                      const Dims& y_dims, cudaStream_t stream);

}  // namespace octet::kernels
