// ConvTranspose (2-D, NCHW), the gradient of a convolution with respect to its input, as ONNX defines
// it: X [N, C, H, W], W [C, M / group, kH, kW], optional B [M], Y [N, M, OH, OW] with
//   OH = stride_h * (H - 1) + output_padding_h + (kH - 1) * dilation_h + 1 - pad_top - pad_bottom
// (OW likewise). Every input cell scatters x * w to the outputs its window covers; octet evaluates the
// equivalent gather, one output at a time:
//   y[n, m, oh, ow] = B[m] + sum over c in m's group, kh, kw of x[n, c, ih, iw] * W[c, m % (M/group), kh, kw]
//   where ih = (oh + pad_top - kh * dilation_h) / stride_h when that division is exact and 0 <= ih < H
//   (iw likewise).
// The sum runs c, then kh, then kw, in ascending order, starting from 0.0f with one rounding per
// product and per addition (no FMA: the CUDA files are built with --fmad=false), then adds the bias:
// one function below does it for the CPU reference and the CUDA kernel, so their results are
// bit-identical.
#pragma once

#include <cstdint>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE

namespace octet::kernels {

struct ConvTranspose2dShape {
  int64_t n = 1, c = 1, h = 1, w = 1;  // X
  int64_t m = 1, oh = 1, ow = 1;       // Y channels and size
  int64_t kh = 1, kw = 1, group = 1;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
};

// One output element; `out` is its linear index in Y [N, M, OH, OW].
OCTET_HOST_DEVICE inline float conv_transpose2d_output(const ConvTranspose2dShape& s, const float* x, const float* w,
                                                       const float* bias, int64_t out) {
  const int64_t ox = out % s.ow;
  const int64_t oy = (out / s.ow) % s.oh;
  const int64_t m = (out / (s.ow * s.oh)) % s.m;
  const int64_t n = out / (s.ow * s.oh * s.m);
  const int64_t m_per_group = s.m / s.group;
  const int64_t c_per_group = s.c / s.group;
  const int64_t g = m / m_per_group;
  const int64_t m_in_group = m % m_per_group;
  float sum = 0.0f;
  for (int64_t c = g * c_per_group; c < (g + 1) * c_per_group; ++c) {
    const float* x_plane = x + (n * s.c + c) * s.h * s.w;
    const float* w_kernel = w + (c * m_per_group + m_in_group) * s.kh * s.kw;
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const int64_t ty = oy + s.pad_top - kh * s.dilation_h;
      if (ty < 0 || ty % s.stride_h != 0 || ty / s.stride_h >= s.h) continue;
      const int64_t iy = ty / s.stride_h;
      for (int64_t kw = 0; kw < s.kw; ++kw) {
        const int64_t tx = ox + s.pad_left - kw * s.dilation_w;
        if (tx < 0 || tx % s.stride_w != 0 || tx / s.stride_w >= s.w) continue;
        sum = sum + x_plane[iy * s.w + tx / s.stride_w] * w_kernel[kh * s.kw + kw];
      }
    }
  }
  return bias != nullptr ? sum + bias[m] : sum;
}

}  // namespace octet::kernels
