// Pooling, reference (float32, NCHW; 1-D pooling is lifted to H = 1 by the importer).
//
// With the window geometry of kernels/shapes.h (Pool2dShape), output (n, c, oh, ow) covers the cells
//   ih = oh*stride_h - pad_top + i*dilation_h (i < kernel_h),  iw = ow*stride_w - pad_left + j*dilation_w (j < kernel_w)
//   maxpool2d_ref: y = max of x over the cells inside the input; padding never wins. A window with
//                  no cell inside the input (only possible when a pad reaches past the kernel's
//                  span, which ONNX models do not do) gives -inf.
//   avgpool2d_ref: y = (sum of x over the cells inside the input) / count, a true division, with
//                  count = cells inside the input                             (count_include_pad = 0)
//                  count = cells inside the padded input, rows [-pad_top, H + pad_bottom) and
//                          columns [-pad_left, W + pad_right)                    (count_include_pad = 1)
//                  so the ceil_mode overhang beyond the padded input never counts (ONNX / PyTorch);
//                  the sum adds cells in window order (i, then j) to a float starting at 0.0f. A
//                  window with count 0 gives 0 / 0 = NaN (see maxpool2d_ref for when).
//   global_avgpool_ref / global_maxpool_ref: x [N, C, d_2, ..., d_{r-1}] (rank >= 3) to y [N, C, 1, ..., 1]:
//                  the mean (the float sum of kernels/reduce.h's lane order, divided by the number of
//                  cells; the CUDA kernel's order, so both give the same bits) or the max of every
//                  spatial cell.
#pragma once

#include "engine/tensor.h"
#include "kernels/shapes.h"

namespace octet::kernels {

void maxpool2d_ref(const Pool2dShape& shape, const float* x, float* y);
void avgpool2d_ref(const Pool2dShape& shape, const float* x, float* y);

void global_avgpool_ref(const float* x, const Dims& x_dims, float* y);
void global_maxpool_ref(const float* x, const Dims& x_dims, float* y);

}  // namespace octet::kernels
