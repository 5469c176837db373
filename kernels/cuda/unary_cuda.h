// Elementwise unary functions on the GPU: y[i] = apply_unary(op, x[i]) for i < n (kernels/unary.h),
// within unary_relative_error(op) of the CPU reference. Enqueued on `stream`; the launch is checked.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/unary.h"

namespace octet::kernels {

void unary_cuda(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t stream);

}  // namespace octet::kernels
