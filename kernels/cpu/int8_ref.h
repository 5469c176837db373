// INT8 layers on the CPU: the reference that defines every INT8 result in octet (quantize/qscheme.h
// for the math, kernels/int8_conv.h for the convolution contract). Layout NCHW, unpadded
// (kernels/int8_layout.h). CUDA kernels equal these bit for bit.
//
//   conv2d_int8_ref        the plainest loop over (n, k, oh, ow, c, r, s) accumulating int32, then
//                          the epilogue. Gemm is the 1x1 case (kernels/int8_conv.h).
//   conv2d_int8_im2col     the same function, faster: per tile of output pixels (rows of the whole
//                          batch), im2col into int16 rows col[p][(c*R + r)*S + s] (int8 widened; zero
//                          for padding and for the row's pad to a multiple of 8), then int32 dot
//                          products of contiguous rows (SSE2 pmaddwd: the x86-64 baseline has no int8
//                          multiply), split over threads by pixel tiles, all output channels per tile
//                          (depthwise layers have one channel per group, batch 1 has few images).
//                          Integer sums are exact, so it equals the reference bit for bit.
//   maxpool2d_int8_ref     max over the window cells inside the input (scale unchanged); a window with
//                          no cell inside gives -128.
//   avgpool2d_int8_ref     int32 sum over the window cells inside the input, count as kernels/shapes.h
//                          (Pool2dShape), quant::average_pool_value; count 0 gives 0.
//   global_avgpool_int8_ref  the window is the whole H x W plane.
//   channel_scale_int8_ref y[n][c][h][w] = quant::quantize(quant::dequantize(x[n][c][h][w], input_scale)
//                          * gate[n or 0][c], output_scale): a squeeze-excitation product
//                          (engine/channel_scale.h), x and y int8, the gate float.
//   concat_int8_ref        channel concatenation (axis 1 of [N, C_i, H, W]), each input requantized
//                          from its scale to the output scale (quant::requantize).
//   add_int8_ref           y[i] = quant::add_int8(a[i], a_scale, b[i], b_scale, output_scale): the Add
//                          of two int8 tensors of one shape, elementwise (any layout, both the same).
//   quantize_ref / dequantize_ref   elementwise quant::quantize / quant::dequantize (one scale).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "kernels/int8_conv.h"
#include "kernels/shapes.h"

namespace octet::kernels {

// out: int8 [N, K, OH, OW] when epilogue.output_int8, else float.
void conv2d_int8_ref(const Conv2dShape& shape, const int8_t* x, const int8_t* w, const Int8ConvEpilogue& epilogue,
                     void* out);
// threads: 0 = all hardware threads.
void conv2d_int8_im2col(const Conv2dShape& shape, const int8_t* x, const int8_t* w, const Int8ConvEpilogue& epilogue,
                        void* out, int threads = 0);

void maxpool2d_int8_ref(const Pool2dShape& shape, const int8_t* x, int8_t* y);
void avgpool2d_int8_ref(const Pool2dShape& shape, const int8_t* x, float input_scale, float output_scale, int8_t* y);
// x [N, C, H, W] -> y [N, C, 1, 1]
void global_avgpool_int8_ref(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float input_scale,
                             float output_scale, int8_t* y);
// x, y [N, C, H, W]; gate [N, C] (gate_batched) or [1, C] shared by every image.
void channel_scale_int8_ref(const int8_t* x, const float* gate, bool gate_batched, int64_t n, int64_t c, int64_t h,
                            int64_t w, float input_scale, float output_scale, int8_t* y);

// inputs[i]: [N, channels[i], H, W] with scale input_scales[i]; y: [N, sum(channels), H, W].
void concat_int8_ref(const std::vector<const int8_t*>& inputs, const std::vector<int64_t>& channels,
                     const std::vector<float>& input_scales, int64_t n, int64_t h, int64_t w, float output_scale,
                     int8_t* y);

void add_int8_ref(const int8_t* a, float a_scale, const int8_t* b, float b_scale, int64_t count, float output_scale,
                  int8_t* y);

void quantize_ref(const float* x, int64_t count, float scale, int8_t* y);
void dequantize_ref(const int8_t* x, int64_t count, float scale, float* y);

// Per-output-channel weight quantization (qscheme.h): w has `channels` rows of `row_length` floats;
// returns the scales and writes q (same shape).
std::vector<float> quantize_weights_per_channel(const float* w, int64_t channels, int64_t row_length, int8_t* q);

}  // namespace octet::kernels
