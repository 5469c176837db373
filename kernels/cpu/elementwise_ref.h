// Elementwise reference kernels (float32): Add/Sub/Mul/Div, the activations, BatchNormalization.
//
//   binary_ref:     y[i] = a[ia(i)] op b[ib(i)],  op in {+, -, *, /}, numpy broadcasting of any rank
//                   (kernels/cpu/broadcast.h); y has dims broadcast_shape(a_dims, b_dims).
//                   Div is the IEEE division ONNX specifies for floats (x / 0 = +-inf, 0 / 0 = NaN).
//   activation_ref: y[i] = apply_activation(params, x[i])            (kernels/activation.h)
//   batchnorm_ref:  y[n][c][...] = (x[n][c][...] - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
//                   evaluated in that order in float (inference mode; channel is dimension 1,
//                   x has rank >= 2).
// In-place use (y == x, or y == a / y == b when that operand has y's dims) is allowed.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "kernels/activation.h"

namespace octet::kernels {

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv };
const char* binary_op_name(BinaryOp op);

void binary_ref(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y);

void activation_ref(const ActivationParams& params, const float* x, float* y, int64_t count);

void batchnorm_ref(const float* x, const Dims& x_dims, const float* scale, const float* bias, const float* mean,
                   const float* var, float epsilon, float* y);

}  // namespace octet::kernels
