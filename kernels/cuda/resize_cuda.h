// Resize along H and W on the GPU: the CPU reference's y (kernels/cpu/resize_ref.h), bit for bit.
// Enqueued on `stream`; the launch is checked.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/resize.h"

namespace octet::kernels {

void resize_cuda(const ResizeParams& p, int64_t planes, const float* x, float* y, cudaStream_t stream);

// Nearest mode on int8 NHWCp (kernels/int8_layout.h) x [n, p.h.in, p.w.in, padded_channels(channels)]:
// each output pixel copies the whole padded pixel resize_nearest_cell() names, pad channels (0)
// included, as 32-bit words. resize_nearest_int8_ref's values in the CUDA layout; x and y 4-byte aligned.
void resize_nearest_int8_nhwcp_cuda(const ResizeParams& p, int64_t n, int64_t channels, const int8_t* x, int8_t* y,
                                    cudaStream_t stream);

}  // namespace octet::kernels
