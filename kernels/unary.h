// Elementwise unary functions of float32, one definition compiled for the CPU reference
// (kernels/cpu/unary_ref.h) and the CUDA kernel (kernels/cuda/unary_cuda.h):
//   Exp         y = e^x                  expf
//   Log         y = ln x                 logf (x < 0: NaN, 0: -inf, as ONNX and numpy)
//   Sqrt        y = sqrt(x)              sqrtf, correctly rounded on both
//   Reciprocal  y = 1 / x                one true division, correctly rounded on both
//   Neg         y = -x                   exact
//   Abs         y = |x|                  exact
//   Floor/Ceil  y = floor(x) / ceil(x)   exact
//   Tanh        y = tanh(x)              tanhf
//   Erf         y = erf(x)               erff
//   Sin/Cos     y = sin(x) / cos(x)      sinf / cosf
//   Softplus    y = ln(1 + e^x)          log1pf(expf(x)), x itself above 20 (e^-20 < 2^-24 relative)
// expf, logf, tanhf, erff, sinf, cosf and log1pf come from two libraries (glibc on the host, CUDA's
// on the device); CUDA documents at most 2 ulp for each in the range octet's tensors take (sinf/cosf:
// |x| < 48039 * pi), glibc at most 2, so the two agree within 4 ulp: a relative 4 * 2^-23. Every other
// function is bit-identical.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE

namespace octet::kernels {

enum class UnaryOp : uint8_t { kExp, kLog, kSqrt, kReciprocal, kNeg, kAbs, kFloor, kCeil, kTanh, kErf, kSin, kCos, kSoftplus };

// The largest relative CPU/CUDA difference of an op (see above): 0 for the exact ones.
constexpr double unary_relative_error(UnaryOp op) {
  switch (op) {
    case UnaryOp::kSqrt:
    case UnaryOp::kReciprocal:
    case UnaryOp::kNeg:
    case UnaryOp::kAbs:
    case UnaryOp::kFloor:
    case UnaryOp::kCeil: return 0.0;
    case UnaryOp::kExp:
    case UnaryOp::kLog:
    case UnaryOp::kTanh:
    case UnaryOp::kErf:
    case UnaryOp::kSin:
    case UnaryOp::kCos:
    case UnaryOp::kSoftplus: return 4.0 / (1 << 23);
  }
  return 0.0;
}

OCTET_HOST_DEVICE inline float apply_unary(UnaryOp op, float x) {
  switch (op) {
    case UnaryOp::kExp: return expf(x);
    case UnaryOp::kLog: return logf(x);
    case UnaryOp::kSqrt: return sqrtf(x);
    case UnaryOp::kReciprocal: return 1.0f / x;
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kAbs: return fabsf(x);
    case UnaryOp::kFloor: return floorf(x);
    case UnaryOp::kCeil: return ceilf(x);
    case UnaryOp::kTanh: return tanhf(x);
    case UnaryOp::kErf: return erff(x);
    case UnaryOp::kSin: return sinf(x);
    case UnaryOp::kCos: return cosf(x);
    case UnaryOp::kSoftplus: return x > 20.0f ? x : log1pf(expf(x));
  }
  return x;
}

}  // namespace octet::kernels
