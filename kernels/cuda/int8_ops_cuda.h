// INT8 layers other than convolution, on the GPU, equal to kernels/cpu/int8_ref.h bit for bit, and the
// reformats at precision boundaries. Layouts as kernels/int8_layout.h: INT8 tensors NHWCp (pad
// channels written as 0), FP32 tensors NCHW. A 2-D [N, C] tensor is the case h = w = 1.
//   quantize_nchw_to_nhwcp_cuda     y(n,h,w,c) = quant::quantize(x[n][c][h][w], scale)
//   dequantize_nhwcp_to_nchw_cuda   y[n][c][h][w] = quant::dequantize(x(n,h,w,c), scale)
//   maxpool2d_int8_cuda / avgpool2d_int8_cuda / global_avgpool_int8_cuda / channel_scale_int8_cuda /
//   concat_int8_cuda / add_int8_cuda  as their _ref twins, NHWCp in and out (channel_scale's gate float
//                                   [N or 1, C]; add_int8 runs over the padded bytes, whose zeros
//                                   stay 0).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "kernels/shapes.h"

namespace octet::kernels {

void quantize_nchw_to_nhwcp_cuda(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float scale, int8_t* y,
                                 cudaStream_t stream);
void dequantize_nhwcp_to_nchw_cuda(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float scale, float* y,
                                   cudaStream_t stream);

void maxpool2d_int8_cuda(const Pool2dShape& shape, const int8_t* x, int8_t* y, cudaStream_t stream);
void avgpool2d_int8_cuda(const Pool2dShape& shape, const int8_t* x, float input_scale, float output_scale, int8_t* y,
                         cudaStream_t stream);
void global_avgpool_int8_cuda(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float input_scale,
                              float output_scale, int8_t* y, cudaStream_t stream);
void channel_scale_int8_cuda(const int8_t* x, const float* gate, bool gate_batched, int64_t n, int64_t c, int64_t h,
                             int64_t w, float input_scale, float output_scale, int8_t* y, cudaStream_t stream);
// inputs[i] NHWCp with channels[i] channels (padded to padded_channels(channels[i])), scale
// input_scales[i]; y NHWCp with sum(channels) channels.
void concat_int8_cuda(const std::vector<const int8_t*>& inputs, const std::vector<int64_t>& channels,
                      const std::vector<float>& input_scales, int64_t n, int64_t h, int64_t w, float output_scale,
                      int8_t* y, cudaStream_t stream);

// a, b, y: `count` bytes (an NHWCp tensor with its pad channels).
void add_int8_cuda(const int8_t* a, float a_scale, const int8_t* b, float b_scale, int64_t count, float output_scale,
                   int8_t* y, cudaStream_t stream);

}  // namespace octet::kernels
