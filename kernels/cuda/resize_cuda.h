// Resize along H and W on the GPU: the CPU reference's y (kernels/cpu/resize_ref.h), bit for bit.
// Enqueued on `stream`; the launch is checked.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/resize.h"

namespace octet::kernels {

void resize_cuda(const ResizeParams& p, int64_t planes, const float* x, float* y, cudaStream_t stream);

}  // namespace octet::kernels
