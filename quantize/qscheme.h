// The quantization spec: every INT8 number in octet is made and read by the functions of this header.
// Compiled for host and device (kernels/cuda compiles with --fmad=false, the host compiler targets
// x86-64 without FMA), so the CPU reference and every CUDA kernel evaluate the same expressions with
// the same roundings and their INT8 results are bit-identical.
//
// Scheme: symmetric, zero point 0 (what TensorRT and ONNX QuantizeLinear with a zero zero-point use).
//   scale  the size of one INT8 step:  real = q * scale.  (Its inverse is never called "scale".)
//   amax   the largest magnitude kept: scale = amax / 127.
//   quantize(x, scale)   = saturate_int8(round_half_even(x / scale)), range [-128, 127]
//                          A true division (correctly rounded), not a multiply by a precomputed
//                          reciprocal: that would round differently on ties (x / scale = k + 0.5)
//                          than ONNX does. Kernels may get the same quotient without a division
//                          instruction (quantize_by_reciprocal: same result for every input).
//                          NaN quantizes to 0 (ONNX leaves it undefined; 0 keeps garbage bounded).
//   dequantize(q, scale) = float(q) * scale
// Weights: per output channel c (axis 0 of Conv's KCRS, the output dimension of Gemm),
//   amax_c = max |w_c|, weight_scale_c = amax_c / 127, or 1 when amax_c is 0 (never divide by zero).
// Activations: one scale per tensor, from the calibration ScaleTable. A tensor without a scale stays
//   FP32 (engine builder).
// Convolution / GEMM: int8 x int8 products accumulate exactly in int32 (K * 128 * 128 < 2^31 for
//   K < 131072; the builder refuses larger K). The epilogue, in FP32, each operation rounded once, in
//   this order:
//     y = float(acc) * combined_scale[c]      combined_scale[c] = input_scale * weight_scale[c],
//                                             one float multiply done on the host when a layer is
//                                             prepared (never per element), stored and shared
//     y = y + bias[c]                         0 when the layer has no bias
//     y = round_to_step(y, after_bias)        explicit quantization only (below)
//     y = y + residual                        the fused residual Add: dequantize(q_res, residual_scale)
//                                             for an INT8 residual, the float itself for an FP32 one,
//                                             0 when none
//     y = round_to_step(y, after_residual)    explicit quantization only (below)
//     y = activation(y)                       kernels/activation.h
//     out = quantize(y, output_scale)         INT8 out; or y itself for INT8-in/FP32-out layers
//   Adding 0 for a missing bias or residual changes nothing but the sign of a zero, and every
//   implementation adds it, so the bits agree.
//   Explicit quantization (EpilogueRounding): a Q/DQ model may round tensors that the fused epilogue
//   keeps inside (ONNX Runtime's quantize_static puts a QuantizeLinear/DequantizeLinear pair on a
//   Conv's own output before its Relu or residual Add, and on the Add's output before the Relu). The
//   epilogue then does what each pair does, round_to_step(y, s) = dequantize(quantize(y, s), s), at
//   that pair's scale s; s = 0 means no pair there, and calibrated engines have none.
// Requantize (Concat inputs, pooling with another output scale): quantize(dequantize(q, s_in), s_out),
//   and the identity when s_in == s_out.
// Average pooling: sum the window's int8 values in int32 (exact), then
//     y = float(sum) * input_scale;  y = y / float(count);  out = quantize(y, output_scale)
//   count as kernels/shapes.h defines it (count_include_pad or not).
// Max pooling keeps the input scale (max commutes with a positive scale), so it is exact in INT8.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE, ActivationParams

namespace octet::quant {

constexpr int kInt8Min = -128;
constexpr int kInt8Max = 127;
constexpr float kInt8Levels = 127.0f;  // amax maps to q = 127

// scale = amax / 127 (a true division); 1 for amax 0 (an all-zero tensor or weight channel), and for a
// negative or NaN amax, which no caller should pass. An infinite amax gives an infinite scale, which
// the calibration outputs refuse, naming the tensor.
OCTET_HOST_DEVICE inline float scale_from_amax(float amax) { return amax > 0.0f ? amax / kInt8Levels : 1.0f; }

// The bits of a float as an int32 and back (memcpy: defined behaviour on the host, a register move on
// the device).
OCTET_HOST_DEVICE inline int32_t float_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}
OCTET_HOST_DEVICE inline float bits_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

// 1.5 * 2^23: for |v| <= 2^22, v + kRoundingBias is rounded (to nearest, ties to even: the default
// mode) to an integer, and that integer n sits in the low mantissa bits: bits = bits(kRoundingBias) + n.
constexpr float kRoundingBias = 12582912.0f;

// saturate_int8(round_half_even(x / scale)), NaN -> 0. Evaluated as: clamp x / scale to [-128, 127]
// (clamping to integer bounds commutes with rounding to integers, both being monotonic), then round
// with the bias addition above and read the integer from the bits. Same results as
// rintf + compare + convert for every input (tests/kernels/test_int8_cpu checks all 2^32 floats), with
// one float addition instead of two conversions, which are quarter-rate instructions on GPUs and
// bound the INT8 epilogues there.
// saturate_int8(round_half_even(v)), NaN -> 0: the part of quantize after the division.
OCTET_HOST_DEVICE inline int8_t round_and_saturate(float v) {
  if (!(v == v)) return 0;  // NaN
  v = v < -128.0f ? -128.0f : v;
  v = v > 127.0f ? 127.0f : v;
  return static_cast<int8_t>(float_bits(v + kRoundingBias) - float_bits(kRoundingBias));
}

OCTET_HOST_DEVICE inline int8_t quantize(float x, float scale) {
  // A zero (either sign) quantizes to 0 whatever the scale (0 / scale is a zero, or NaN for scale 0,
  // and both give 0), so it is not divided: on GPUs a division of 0 leaves the division's fast path
  // for its slow subroutine, and ReLU makes about half of a layer's outputs 0.
  if (x == 0.0f) return 0;
  return round_and_saturate(x / scale);
}

// The same quotient x / scale, correctly rounded, without a division instruction: for kernels that
// quantize many values by one scale (a GPU division is a reciprocal, five FMAs, a range check and a
// branch to a slow subroutine per element; this is one multiply and two FMAs, no branch).
//
// Markstein's theorem (IA-64 division; Muller et al., Handbook of Floating-Point Arithmetic): if
// r = RN(1 / scale) and q is within one ulp of x / scale, then e = x - scale * q is exact in one fma and
// RN(q + e * r) = RN(x / scale), provided no step overflows or underflows. q = RN(x * r) is within one
// ulp. The ranges: for scale in [2^-40, 2^40] (quotient_by_reciprocal_exact) and 2^-62 <= |x| <= 2^80
// every step stays normal (|x * r| <= 2^120), so the quotient is exact. Below, |x / scale| < 2^-22 and
// both paths round to 0 (the fma form stays within a few ulps of a tiny number). Above, both saturate
// (|x / scale| >= 2^40), so x is first clamped to +-2^80, which also keeps infinities out of the fma
// (inf - inf = NaN); the comparisons keep a NaN, which stays NaN and quantizes to 0. Hence for every
// float x:
//   quantize_by_reciprocal(x, scale, 1.0f / scale) == quantize(x, scale)
// (tests/kernels/test_int8_cpu checks every x with |x / scale| in [1/4, 256] for a spread of scales,
// and random floats of every magnitude; the GPU exactness tests run it against the CPU reference).
constexpr float kReciprocalScaleMin = 0x1p-40f, kReciprocalScaleMax = 0x1p40f;

OCTET_HOST_DEVICE inline bool quotient_by_reciprocal_exact(float scale) {
  return scale >= kReciprocalScaleMin && scale <= kReciprocalScaleMax;
}

// reciprocal == 1.0f / scale (one IEEE division, done once, on the host) and
// quotient_by_reciprocal_exact(scale).
OCTET_HOST_DEVICE inline int8_t quantize_by_reciprocal(float x, float scale, float reciprocal) {
  constexpr float kClamp = 0x1p80f;
  x = x > kClamp ? kClamp : x;
  x = x < -kClamp ? -kClamp : x;
  const float q = x * reciprocal;
  const float e = fmaf(-scale, q, x);
  return round_and_saturate(fmaf(e, reciprocal, q));
}

// float(q) * scale. An INT8 q becomes a float exactly through the bias of quantize (no conversion
// instruction); other int32 values (average-pool sums) through the conversion.
OCTET_HOST_DEVICE inline float dequantize(int32_t q, float scale) { return static_cast<float>(q) * scale; }
OCTET_HOST_DEVICE inline float dequantize(int8_t q, float scale) {
  return (bits_float(float_bits(kRoundingBias) + q) - kRoundingBias) * scale;
}

OCTET_HOST_DEVICE inline int8_t requantize(int8_t q, float input_scale, float output_scale) {
  return input_scale == output_scale ? q : quantize(dequantize(q, input_scale), output_scale);
}

// An INT8 Add of two activations of the same shape (a residual joined after its activation, as in
// YOLOv8's bottlenecks): each input dequantized at its own scale, the float sum quantized at the
// output's. Two zeros give 0, so NHWCp pad channels stay 0.
OCTET_HOST_DEVICE inline int8_t add_int8(int8_t a, float a_scale, int8_t b, float b_scale, float output_scale) {
  return quantize(dequantize(a, a_scale) + dequantize(b, b_scale), output_scale);
}

// The roundings of an explicitly quantized epilogue (see the header comment): the scale of the Q/DQ
// pair on the value after the bias and after the residual add, 0 where the model has none.
struct EpilogueRounding {
  float after_bias = 0.0f;
  float after_residual = 0.0f;
  OCTET_HOST_DEVICE bool any() const { return after_bias != 0.0f || after_residual != 0.0f; }
};

// What a QuantizeLinear -> DequantizeLinear pair of scale `scale` does to y; y itself for scale 0.
OCTET_HOST_DEVICE inline float round_to_step(float y, float scale) {
  return scale != 0.0f ? dequantize(quantize(y, scale), scale) : y;
}

// The conv/GEMM epilogue up to the activation (see the header comment); `residual` is already a
// float (dequantized when it is INT8), 0 when there is none; `bias` is 0 when there is none. Kernels
// that pass no rounding compile without its branches.
OCTET_HOST_DEVICE inline float epilogue_before_activation(int32_t acc, float combined_scale, float bias, float residual,
                                                          const EpilogueRounding& rounding = {}) {
  float y = static_cast<float>(acc) * combined_scale;
  y = y + bias;
  y = round_to_step(y, rounding.after_bias);
  y = y + residual;
  y = round_to_step(y, rounding.after_residual);
  return y;
}

OCTET_HOST_DEVICE inline float epilogue_value(int32_t acc, float combined_scale, float bias, float residual,
                                              const ActivationParams& activation,
                                              const EpilogueRounding& rounding = {}) {
  return apply_activation(activation, epilogue_before_activation(acc, combined_scale, bias, residual, rounding));
}

// epilogue_value with the activation kind fixed at compile time (activation.kind == Kind), for
// kernels that choose the kind once outside their element loops.
template <Activation Kind>
OCTET_HOST_DEVICE inline float epilogue_value_as(int32_t acc, float combined_scale, float bias, float residual,
                                                 const ActivationParams& activation,
                                                 const EpilogueRounding& rounding = {}) {
  return apply_activation_as<Kind>(activation,
                                   epilogue_before_activation(acc, combined_scale, bias, residual, rounding));
}

// Average pooling of an int32 window sum.
OCTET_HOST_DEVICE inline int8_t average_pool_value(int32_t sum, int32_t count, float input_scale, float output_scale) {
  float y = static_cast<float>(sum) * input_scale;
  y = y / static_cast<float>(count);
  return quantize(y, output_scale);
}

}  // namespace octet::quant
