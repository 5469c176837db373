// Elementwise unary functions of float32, one definition compiled for the CPU reference
// (kernels/cpu/unary_ref.h) and the CUDA kernel (kernels/cuda/unary_cuda.h):
//   Exp         y = e^x                  exp_f32 (kernels/float_math.h)
//   Log         y = ln x                 log_f32 (x < 0: NaN, 0: -inf, as ONNX and numpy)
//   Sqrt        y = sqrt(x)              sqrtf, correctly rounded on both
//   Reciprocal  y = 1 / x                one true division, correctly rounded on both
//   Neg         y = -x                   exact
//   Abs         y = |x|                  exact
//   Floor/Ceil  y = floor(x) / ceil(x)   exact
//   Tanh        y = tanh(x)              tanh_f32
//   Erf         y = erf(x)               erf_f32
//   Sin/Cos     y = sin(x) / cos(x)      sinf / cosf
//   Softplus    y = ln(1 + e^x)          log1p_f32(exp_f32(x)), x itself above 20 (e^-20 < 2^-24 relative)
// kernels/float_math.h's functions are octet's own, the same IEEE operations on host and device, so
// every function but Sin and Cos is bit-identical on CPU and GPU. sinf and cosf come from two
// libraries (glibc on the host, CUDA's on the device); CUDA documents at most 2 ulp for each for
// |x| < 48039 * pi, glibc at most 2, so the two agree within 4 ulp: a relative 4 * 2^-23. (They are
// rare in the networks octet runs; an own sin/cos would make them exact too.)
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/float_math.h"
#include "kernels/host_device.h"

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
    case UnaryOp::kCeil:
    case UnaryOp::kExp:
    case UnaryOp::kLog:
    case UnaryOp::kTanh:
    case UnaryOp::kErf:
    case UnaryOp::kSoftplus: return 0.0;
    case UnaryOp::kSin:
    case UnaryOp::kCos: return 4.0 / (1 << 23);
  }
  return 0.0;
}

OCTET_HOST_DEVICE inline float apply_unary(UnaryOp op, float x) {
  switch (op) {
    case UnaryOp::kExp: return exp_f32(x);
    case UnaryOp::kLog: return log_f32(x);
    case UnaryOp::kSqrt: return sqrtf(x);
    case UnaryOp::kReciprocal: return 1.0f / x;
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kAbs: return fabsf(x);
    case UnaryOp::kFloor: return floorf(x);
    case UnaryOp::kCeil: return ceilf(x);
    case UnaryOp::kTanh: return tanh_f32(x);
    case UnaryOp::kErf: return erf_f32(x);
    case UnaryOp::kSin: return sinf(x);
    case UnaryOp::kCos: return cosf(x);
    case UnaryOp::kSoftplus: return x > 20.0f ? x : log1p_f32(exp_f32(x));
  }
  return x;
}

}  // namespace octet::kernels
