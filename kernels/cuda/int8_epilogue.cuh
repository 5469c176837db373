// The INT8 conv/GEMM epilogue on the device (quantize/qscheme.h), shared by every tactic so the stores
// are written once: given the int32 accumulator of output (pixel, k), read the residual, evaluate
// quant::epilogue_value and store int8 NHWCp or float NCHW (kernels/cuda/conv_int8_cuda.h).
// pixel = (n*OH + oh)*OW + ow, the row of the implicit GEMM.
#pragma once

#include <cstdint>

#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/int8_layout.h"
#include "quantize/qscheme.h"

namespace octet::kernels {

// The fields of Int8ConvCudaArgs a store needs, with 32-bit sizes (kernels index below 2^31 elements).
struct Int8OutputView {
  Int8ConvEpilogue epilogue;
  void* out = nullptr;
  int32_t k = 0, kp = 0;  // output channels, padded
  int32_t pixels_per_image = 0;  // OH * OW
};

inline Int8OutputView make_int8_output_view(const Int8ConvCudaArgs& args) {
  Int8OutputView v;
  v.epilogue = args.epilogue;
  v.out = args.out;
  v.k = static_cast<int32_t>(args.shape.k);
  v.kp = static_cast<int32_t>(padded_channels(args.shape.k));
  v.pixels_per_image = static_cast<int32_t>(args.shape.oh * args.shape.ow);
  return v;
}

// Index of output (pixel, k) in the float NCHW layout (a float output, an FP32 residual). Only those
// need the integer division; INT8 NHWCp outputs and residuals index as pixel * Kp + k.
__device__ inline int64_t nchw_index(const Int8OutputView& v, int32_t pixel, int32_t k) {
  const int32_t n = pixel / v.pixels_per_image;
  const int32_t p = pixel - n * v.pixels_per_image;
  return (static_cast<int64_t>(n) * v.k + k) * v.pixels_per_image + p;
}

// k < v.k. For k in [K, Kp) of an int8 output call store_int8_pad instead.
__device__ inline void store_int8_conv_output(const Int8OutputView& v, int32_t pixel, int32_t k, int32_t acc) {
  const Int8ConvEpilogue& e = v.epilogue;
  const int64_t nhwc = static_cast<int64_t>(pixel) * v.kp + k;
  float residual = 0.0f;
  if (e.residual_int8) residual = quant::dequantize(e.residual_int8[nhwc], e.residual_scale);
  if (e.residual_f32) residual = e.residual_f32[nchw_index(v, pixel, k)];
  const float bias = e.bias ? e.bias[k] : 0.0f;
  const float y = quant::epilogue_value(acc, e.combined_scale[k], bias, residual, e.activation);
  if (e.output_int8) {
    static_cast<int8_t*>(v.out)[nhwc] = quant::quantize(y, e.output_scale);
  } else {
    static_cast<float*>(v.out)[nchw_index(v, pixel, k)] = y;
  }
}

// Four consecutive channels k0 .. k0 + 3 of one pixel of an INT8 output (k0 % 4 == 0, k0 < K): the same
// values as four store_int8_conv_output / store_int8_pad calls, with one 4-byte residual load and one
// 4-byte store (NHWCp rows are multiples of 4 bytes and every buffer is 4-byte aligned). Channels at
// or past K are pad channels and get 0.
__device__ inline void store_int8_conv_output4(const Int8OutputView& v, int32_t pixel, int32_t k0, const int32_t (&acc)[4]) {
  const Int8ConvEpilogue& e = v.epilogue;
  const int64_t nhwc = static_cast<int64_t>(pixel) * v.kp + k0;
  char4 residual = make_char4(0, 0, 0, 0);
  if (e.residual_int8) residual = *reinterpret_cast<const char4*>(e.residual_int8 + nhwc);
  const int8_t residual_q[4] = {residual.x, residual.y, residual.z, residual.w};
  int8_t q[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int32_t k = k0 + i;
    if (k >= v.k) {
      q[i] = 0;
      continue;
    }
    float r = 0.0f;
    if (e.residual_int8) r = quant::dequantize(residual_q[i], e.residual_scale);
    if (e.residual_f32) r = e.residual_f32[nchw_index(v, pixel, k)];
    const float bias = e.bias ? e.bias[k] : 0.0f;
    q[i] = quant::quantize(quant::epilogue_value(acc[i], e.combined_scale[k], bias, r, e.activation), e.output_scale);
  }
  *reinterpret_cast<char4*>(static_cast<int8_t*>(v.out) + nhwc) = make_char4(q[0], q[1], q[2], q[3]);
}

// Writes the zero of pad channel k (K <= k < Kp) of an int8 output; nothing for a float output.
__device__ inline void store_int8_pad(const Int8OutputView& v, int32_t pixel, int32_t k) {
  if (v.epilogue.output_int8) static_cast<int8_t*>(v.out)[static_cast<int64_t>(pixel) * v.kp + k] = 0;
}

}  // namespace octet::kernels
