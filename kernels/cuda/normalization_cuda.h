// LayerNormalization on the GPU (kernels/normalization.h), one warp per row, bit-identical to the CPU
// reference. bias may be nullptr (no B). Enqueued on `stream`; the launch is checked. UnsupportedError
// beyond 2^31 - 1 elements.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/normalization.h"

namespace octet::kernels {

void layer_norm_cuda(const float* x, const float* scale, const float* bias, const LayerNormShape& s, float* y,
                     cudaStream_t stream);

}  // namespace octet::kernels
