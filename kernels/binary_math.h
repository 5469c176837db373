// Broadcasting binary functions of float32 beyond the four arithmetic ones of
// kernels/cpu/elementwise_ref.h, one definition for the CPU reference (kernels/cpu/binary_math_ref.h)
// and the CUDA kernel (kernels/cuda/binary_math_cuda.h):
//   Pow    y = a^b   b = 2:   a * a                      (correctly rounded a^2)
//                    b = 0.5: sqrtf(a), but +0 for a = -0 and +inf for a = -inf, pow's values where
//                             sqrtf gives -0 and NaN     (correctly rounded a^0.5)
//                    else:    powf(a, b)
//   Max    y = max(a, b), NaN when either is NaN; a when they compare equal (+0 and -0)
//   Min    y = min(a, b), NaN when either is NaN; a when they compare equal
//   PRelu  y = a < 0 ? b * a : a                          (a: X, b: slope)
// Max and Min propagate NaN as numpy's maximum/minimum do (ONNX's reference implementation); fmaxf
// and fminf would drop it. The exponents 2 and 0.5 are recognised by value, wherever b comes from
// (a constant, a tensor, a broadcast scalar), on both sides alike: they are the common cases (squares
// and roots in decomposed normalisations) and are then exact and bit-identical on CPU and GPU.
//
// Every function but powf is one or two correctly rounded IEEE operations, bit-identical on CPU and
// GPU (the bits of a NaN that arithmetic makes aside, kernels/reduce.h). powf comes from two libraries: CUDA documents at most 4 ulp for it, glibc (x86-64) at most 1,
// so the two agree within 5 ulp: a relative 5 * 2^-23 (binary_math_relative_error).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE

namespace octet::kernels {

enum class BinaryMath : uint8_t { kPow, kMax, kMin, kPRelu };

constexpr double binary_math_relative_error(BinaryMath op) { return op == BinaryMath::kPow ? 5.0 / (1 << 23) : 0.0; }

OCTET_HOST_DEVICE inline float pow_value(float a, float b) {
  if (b == 2.0f) return a * a;
  if (b == 0.5f) {
    if (a == 0.0f) return 0.0f;
    if (a == -INFINITY) return INFINITY;
    return sqrtf(a);
  }
  return powf(a, b);
}

// `x != x` is true for NaN only.
OCTET_HOST_DEVICE inline float apply_binary_math(BinaryMath op, float a, float b) {
  switch (op) {
    case BinaryMath::kPow: return pow_value(a, b);
    case BinaryMath::kMax: return (a >= b || a != a) ? a : b;
    case BinaryMath::kMin: return (a <= b || a != a) ? a : b;
    case BinaryMath::kPRelu: return a < 0.0f ? b * a : a;
  }
  return a;
}

}  // namespace octet::kernels
