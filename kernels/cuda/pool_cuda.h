// Pooling on the GPU, FP32 NCHW: MaxPool / AveragePool over kernels/shapes.h Pool2dShape geometry,
// GlobalMaxPool / GlobalAveragePool.
//
// Window of output (oh, ow): rows ih = oh * stride_h - pad_top + i * dilation_h (i < kernel_h),
// columns likewise. Max skips padded cells; a window is scanned row by row and the first maximum
// wins. Average sums the cells inside the input in the same row-by-row order and divides by
//   count_include_pad: the cells inside the padded input [-pad_top, H + pad_bottom) x
//                      [-pad_left, W + pad_right) (pads count, the ceil_mode overhang does not)
//   otherwise:         the cells inside the input.
// Global pools reduce each [n][c] plane of `inner` elements (a warp per plane, tree order).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/shapes.h"

namespace octet::kernels {

// x [N, C, H, W] -> y [N, C, OH, OW]; indices (optional, nullptr to skip) receives ONNX MaxPool's second
// output: the flat index (n * C + c) * H * W + ih * W + iw of each maximum, as int64.
void maxpool2d_cuda(const Pool2dShape& shape, const float* x, float* y, int64_t* indices, cudaStream_t stream);
void avgpool2d_cuda(const Pool2dShape& shape, const float* x, float* y, cudaStream_t stream);

// x [planes, inner] -> y [planes]: max, or sum / inner.
void global_maxpool_cuda(const float* x, float* y, int64_t planes, int64_t inner, cudaStream_t stream);
void global_avgpool_cuda(const float* x, float* y, int64_t planes, int64_t inner, cudaStream_t stream);

}  // namespace octet::kernels
