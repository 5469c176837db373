// ConvTranspose on the GPU: one thread per output element, each evaluating conv_transpose2d_output
// (kernels/conv_transpose.h), so the result equals the CPU reference bit for bit. Enqueued on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/conv_transpose.h"

namespace octet::kernels {

void conv_transpose2d_cuda(const ConvTranspose2dShape& shape, const float* x, const float* w, const float* bias,
                           float* y, cudaStream_t stream);

}  // namespace octet::kernels
