// The transcendental functions of octet's float kernels — e^x, ln x, tanh, erf, erfc, ln(1 + x) —
// written once for the host and the device, so the CPU reference and the CUDA kernels compute the same
// bits (the C library's expf and CUDA's expf differ by an ulp here and there, and one ulp on a
// rounding boundary flips an int8 value downstream: docs/real_models.md).
//
// Why they are bit-identical: every function is a fixed sequence of IEEE-754 single-precision
// additions, multiplications and divisions (each correctly rounded on both sides), exact operations
// (rint, comparisons, exponent-field arithmetic) and nothing else. No fused multiply-add: the CUDA
// sources are compiled with --fmad=false and the host sources with -ffp-contract=off
// (CMakeLists.txt), so a * b + c rounds twice on both. Subnormal inputs and results are kept (no
// flush to zero on either side).
//
// The algorithms (the accuracy measured over every float in the stated range by
// tests/kernels/test_float_math.cpp, against double-precision libm):
//   exp_f32    e^x = 2^k * e^r, k = rint(x * log2 e), r = x - k * ln 2 with ln 2 split in two parts
//              (Cody & Waite) so r is exact to float precision; e^r by its Taylor polynomial of degree
//              7 on |r| <= ln2 / 2 (truncation below 6e-9 relative); 2^k built in the exponent field,
//              in two steps where the result is subnormal. x > 88.72: +inf; x < -103.98: +0.
//   log_f32    x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1),
//              |s| < 0.172, by its odd series to s^13; ln x = e * ln 2 + ln m, ln 2 split as above.
//              x < 0: NaN; +-0: -inf; +inf: +inf.
//   log1p_f32  ln(1 + x) = ln(w) * x / (w - 1), w = 1 + x rounded (Goldberg's correction: the ratio
//              restores what the rounding of w lost); x itself when w == 1.
//   tanh_f32   |x| < 0.55: the odd Taylor series to x^19; else 1 - 2 / (e^{2|x|} + 1), sign restored;
//              |x| > 9.1: +-1.
//   erfc_f32   |z| < 0.5: 1 - erf(z) from the series below. z >= 0.5: the Chebyshev fit of Numerical
//              Recipes (erfcc, fractional error < 1.2e-7): erfc(z) = t * exp(-z^2 + P(t)),
//              t = 1 / (1 + z / 2), with -z^2 split as -zh^2 (exact, zh = z with its low 12 bits
//              cleared) and -(z - zh)(z + zh), each in its own exp so z^2's rounding does not become
//              the result's error. z <= -0.5: 2 - erfc(-z).
//   erf_f32    |z| < 0.5: (2 / sqrt(pi)) (z - z^3/3 + z^5/10 - z^7/42 + z^9/216 - z^11/1320 + z^13/9360),
//              whose next term is below 1e-9 relative; else sign(z) (1 - erfc(|z|)).
// NaN in gives NaN out, infinities give the limits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/host_device.h"

namespace octet::kernels {

// The IEEE-754 bits of a float and back (memcpy compiles to a register move on host and device).
OCTET_HOST_DEVICE inline uint32_t float_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

OCTET_HOST_DEVICE inline float float_from_bits(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

// 2^k for k in [-126, 127], exact.
OCTET_HOST_DEVICE inline float exact_power_of_two(int k) { return float_from_bits(static_cast<uint32_t>(k + 127) << 23); }

// The two parts of ln 2: kLn2Hi has its low 9 bits zero, so k * kLn2Hi is exact for |k| < 512.
constexpr float kLn2Hi = 0.693145751953125f;       // 0x3f317200
constexpr float kLn2Lo = 1.42860676533018e-06f;    // ln 2 - kLn2Hi, rounded
constexpr float kLog2E = 1.44269504088896341f;

OCTET_HOST_DEVICE inline float exp_f32(float x) {
  if (x != x) return x;
  if (x > 88.7228394f) return INFINITY;   // e^x > FLT_MAX
  if (x < -103.972084f) return 0.0f;      // e^x < half the smallest subnormal
  const float k = rintf(x * kLog2E);
  const float r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Taylor coefficients 1/n!, n = 7 .. 2, then e^r = 1 + r * (1 + r * (1/2 + ...)).
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int ki = static_cast<int>(k);
  if (ki > 127) return p * 2.0f * exact_power_of_two(ki - 1);
  if (ki < -126) return (p * exact_power_of_two(ki + 64)) * exact_power_of_two(-64);  // one rounding, at the end
  return p * exact_power_of_two(ki);
}

OCTET_HOST_DEVICE inline float log_f32(float x) {
  if (x != x) return x;
  if (x < 0.0f) return NAN;
  if (x == 0.0f) return -INFINITY;
  if (x == INFINITY) return x;
  int e = 0;
  if (x < 1.17549435e-38f) {  // subnormal: scale into the normal range first
    x *= 8388608.0f;           // 2^23
    e = -23;
  }
  const uint32_t bits = float_bits(x);
  e += static_cast<int>(bits >> 23) - 127;
  float m = float_from_bits((bits & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  if (m > 1.41421356f) {
    m *= 0.5f;  // exact
    e += 1;
  }
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  // 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ... + s^12/13)
  float p = 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  const float ln_m = 2.0f * s + 2.0f * s * (s2 * p);
  const float ef = static_cast<float>(e);
  return ef * kLn2Hi + (ln_m + ef * kLn2Lo);
}

OCTET_HOST_DEVICE inline float log1p_f32(float x) {
  const float w = 1.0f + x;
  if (w == 1.0f) return x;
  if (w == INFINITY || x != x) return log_f32(w);
  return log_f32(w) * (x / (w - 1.0f));
}

OCTET_HOST_DEVICE inline float tanh_f32(float x) {
  if (x != x) return x;
  const float a = fabsf(x);
  float y;
  if (a > 9.1f) {
    y = 1.0f;
  } else if (a < 0.55f) {
    // tanh a = a + a^3 T(a^2), the Taylor coefficients of tanh's odd series from a^3 to a^19.
    const float a2 = a * a;
    float p = -2.391291142e-04f;   // a^19: -443861162 / 1856156927625
    p = p * a2 + 5.900274409e-04f; // a^17:  6404582 / 10854718875
    p = p * a2 - 1.455834387e-03f; // a^15: -929569 / 638512875
    p = p * a2 + 3.592128037e-03f; // a^13:  21844 / 6081075
    p = p * a2 - 8.863235530e-03f; // a^11: -1382 / 155925
    p = p * a2 + 2.186948854e-02f; // a^9:   62 / 2835
    p = p * a2 - 5.396825397e-02f; // a^7:  -17 / 315
    p = p * a2 + 1.333333333e-01f; // a^5:   2 / 15
    p = p * a2 - 3.333333333e-01f; // a^3:  -1 / 3
    y = a + a * (a2 * p);
  } else {
    y = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);
  }
  return x < 0.0f ? -y : y;
}

// erf by its Maclaurin series, |z| < 0.5 only.
OCTET_HOST_DEVICE inline float erf_series_f32(float z) {
  const float z2 = z * z;
  float p = 1.0f / 9360.0f;
  p = p * z2 - 1.0f / 1320.0f;
  p = p * z2 + 1.0f / 216.0f;
  p = p * z2 - 1.0f / 42.0f;
  p = p * z2 + 1.0f / 10.0f;
  p = p * z2 - 1.0f / 3.0f;
  return 1.12837917f * (z + z * (z2 * p));  // 2 / sqrt(pi)
}

// erfc for z >= 0.5 (see the top of this file).
OCTET_HOST_DEVICE inline float erfc_tail_f32(float z) {
  if (z > 10.06f) return 0.0f;  // erfc(z) < 2^-150, half the smallest subnormal
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float zh = float_from_bits(float_bits(z) & 0xfffff000u);  // 12 significant bits: zh * zh is exact
  return t * (exp_f32(-(zh * zh)) * exp_f32(-((z - zh) * (z + zh)) + p));
}

OCTET_HOST_DEVICE inline float erfc_f32(float z) {
  if (z != z) return z;
  if (fabsf(z) < 0.5f) return 1.0f - erf_series_f32(z);
  return z > 0.0f ? erfc_tail_f32(z) : 2.0f - erfc_tail_f32(-z);
}

OCTET_HOST_DEVICE inline float erf_f32(float z) {
  if (z != z) return z;
  const float a = fabsf(z);
  if (a < 0.5f) return erf_series_f32(z);
  const float y = 1.0f - erfc_tail_f32(a);
  return z < 0.0f ? -y : y;
}

}  // namespace octet::kernels
