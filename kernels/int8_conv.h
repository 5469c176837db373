// An INT8 convolution or GEMM with its fused epilogue: the arguments every implementation takes
// (CPU reference, CPU im2col path, CUDA DP4A, CUDA tensor core, cuBLASLt). The math is
// quantize/qscheme.h; the geometry kernels/shapes.h (Conv2dShape); the layouts kernels/int8_layout.h
// (pointers are host NCHW on the CPU, device NHWCp / NCHW-float on CUDA).
//
//   acc[n][k][oh][ow] = sum_{c in group(k), r, s} int32(x[n][c][ih][iw]) * int32(w[k][c - c0][r][s])
//                       (ih, iw as Conv2dShape; padded cells contribute 0)
//   y = quant::epilogue_value(acc, combined_scale[k], bias ? bias[k] : 0, residual value or 0, activation,
//                             rounding)
//   out[n][k][oh][ow] = output_int8 ? quant::quantize(y, output_scale) : y
//
// A Gemm Y[M, N_out] = X[M, K_in] * W^T + b is the convolution with n = M, c = K_in, h = w = 1,
// k = N_out, r = s = 1 (weights [N_out, K_in] = KCRS with R = S = 1).
#pragma once

#include <cstdint>

#include "kernels/activation.h"
#include "kernels/shapes.h"
#include "quantize/qscheme.h"

namespace octet::kernels {

struct Int8ConvEpilogue {
  const float* combined_scale = nullptr;  // [K], input_scale * weight_scale[k] (qscheme.h)
  const float* bias = nullptr;            // [K] or nullptr
  // The fused residual, in the output's shape; at most one of the two is set.
  const int8_t* residual_int8 = nullptr;  // dequantized with residual_scale
  float residual_scale = 1.0f;
  const float* residual_f32 = nullptr;
  ActivationParams activation;
  quant::EpilogueRounding rounding;  // explicitly quantized models only; none by default
  bool output_int8 = true;   // false: INT8-in/FP32-out, `out` is float
  float output_scale = 1.0f;  // output_int8 only
};

}  // namespace octet::kernels
