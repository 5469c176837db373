// The fused epilogue of Conv/Gemm/MatMul (engine/graph.h), one element at a time:
//   y = acc (+ bias) (+ residual), then activation (kernels/activation.h)
// The caller adds the bias (Conv: bias[k]; Gemm: beta * C), because how the bias is indexed is the
// operator's business; this function fixes the rest of the order so the reference and the fast
// path round identically after the accumulator.
#pragma once

#include "kernels/activation.h"

namespace octet::kernels {

// acc_plus_bias: the accumulator with the bias already added; residual: this element's residual
// value or null.
inline float finish_epilogue(float acc_plus_bias, const float* residual, const ActivationParams& activation) {
  float y = acc_plus_bias;
  if (residual) y += *residual;
  return apply_activation(activation, y);
}

}  // namespace octet::kernels
