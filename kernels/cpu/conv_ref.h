// Convolution, reference (float32, NCHW activations, KCRS weights).
//
// With the geometry of kernels/shapes.h (Conv2dShape: groups, strides, pads, dilations; 1-D
// convolutions have H = R = 1), for every output element
//   acc = sum_{c' < C/groups, r < R, s < S} x[n][g*C/groups + c'][ih][iw] * w[k][c'][r][s]
//         with g = k / (K/groups), ih = oh*stride_h - pad_top + r*dilation_h,
//         iw = ow*stride_w - pad_left + s*dilation_w, terms outside the input skipped (zero padding)
//   y[n][k][oh][ow] = activation(acc + bias[k] + residual[n][k][oh][ow])       (kernels/cpu/epilogue.h)
// bias and residual are optional (null). The pads at the bottom/right only shape OH/OW (already in
// the Conv2dShape); the kernel never reads them.
//
// Accumulation order: acc starts at 0.0f and adds one float product at a time, c' outermost, then
// r, then s (the order of w's memory); the bias is added after the whole sum, then the residual.
// This order defines the reference result; faster kernels match it within a rounding bound.
#pragma once

#include "kernels/activation.h"
#include "kernels/shapes.h"

namespace octet::kernels {

void conv2d_ref(const Conv2dShape& shape, const float* x, const float* w, const float* bias, const float* residual,
                const ActivationParams& activation, float* y);

}  // namespace octet::kernels
