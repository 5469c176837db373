// Pointwise activations, shared by the CPU reference, the CUDA kernels and fused epilogues.
//
// One definition, compiled for host and device, so a fused conv+activation and a standalone
// activation node compute the same expression everywhere:
//   Relu:        y = max(x, 0)
//   Clip:        y = min(max(x, lo), hi)                 lo = alpha, hi = beta (ReLU6: 0, 6)
//   LeakyRelu:   y = x >= 0 ? x : alpha * x
//   Sigmoid:     y = 1 / (1 + exp(-x))
//   HardSigmoid: y = max(0, min(1, alpha * x + beta))    (ONNX defaults alpha 0.2, beta 0.5)
//   HardSwish:   y = x * max(0, min(1, x / 6 + 1 / 2))   (ONNX: HardSigmoid with alpha 1/6)
// Fused from the patterns exporters write (engine/pattern_fusion.h), each the exact expression of the
// nodes it replaces, so fusing changes no bit:
//   XSigmoid:     y = x * (1 / (1 + exp(-x)))             SiLU / Swish: Mul(x, Sigmoid(x))
//   XHardSigmoid: y = x * max(0, min(1, alpha * x + beta)) Mul(x, HardSigmoid(x)); Paddle's hard_swish
//                                                          writes alpha 0.2 (not 1/6), so it is not
//                                                          ONNX's HardSwish
//   Gelu:         y = (x * erfc(-x / alpha)) * 0.5         alpha = sqrt(2) as the model stores it;
//                                                          erfc(-z) is 1 + erf(z) without the
//                                                          cancellation of erf(z) + 1 for z << 0
//   XClipDiv:     y = (x * min(max(x + alpha, 0), 6)) / beta
//                                                          hard-swish as Div(Mul(x, Clip(Add(x, 3),
//                                                          0, 6)), 6): PyTorch's x * relu6(x + 3) / 6,
//                                                          Paddle's hard_swish at opset 11
// Sigmoid, XSigmoid and Gelu take e^x and erfc from kernels/float_math.h (exp_f32, erfc_f32), not from
// the C library or CUDA's, so they too are bit-identical on CPU and GPU; every other activation is
// exact (comparisons, one multiply-add).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/float_math.h"
#include "kernels/host_device.h"


namespace octet {

enum class Activation : uint8_t {
  kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kHardSigmoid, kHardSwish, kXSigmoid, kXHardSigmoid, kGelu, kXClipDiv
};

struct ActivationParams {
  Activation kind = Activation::kNone;
  float alpha = 0.0f;  // Clip: lower bound; LeakyRelu: slope; (X)HardSigmoid: alpha; Gelu: the divisor;
                       // XClipDiv: the shift
  float beta = 0.0f;   // Clip: upper bound; (X)HardSigmoid: beta; XClipDiv: the divisor
};

// Not the kind of any layer: apply_activation_as<kAnyActivation> evaluates the runtime switch
// (apply_activation). GPU kernels instantiate their element loops for the kinds INT8 layers fuse
// (none, ReLU, Clip, LeakyRelu) and once with this for the rest, which keeps their code small.
inline constexpr Activation kAnyActivation = static_cast<Activation>(0xff);

OCTET_HOST_DEVICE inline float apply_activation(const ActivationParams& a, float x);

// One activation chosen at compile time: kernels that apply it to many elements pick the kind once
// (outside their element loops, see kernels/cuda/int8_epilogue.cuh) so the loop holds one expression
// instead of the whole switch inlined per element.
template <Activation Kind>
OCTET_HOST_DEVICE inline float apply_activation_as(const ActivationParams& a, float x) {
  if constexpr (Kind == Activation::kNone) return x;
  if constexpr (Kind == Activation::kRelu) return x > 0.0f ? x : 0.0f;
  if constexpr (Kind == Activation::kClip) return fminf(fmaxf(x, a.alpha), a.beta);
  if constexpr (Kind == Activation::kLeakyRelu) return x >= 0.0f ? x : a.alpha * x;
  if constexpr (Kind == Activation::kSigmoid) return 1.0f / (1.0f + kernels::exp_f32(-x));
  if constexpr (Kind == Activation::kHardSigmoid) return fmaxf(0.0f, fminf(1.0f, a.alpha * x + a.beta));
  if constexpr (Kind == Activation::kHardSwish) return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
  if constexpr (Kind == Activation::kXSigmoid) return x * (1.0f / (1.0f + kernels::exp_f32(-x)));
  if constexpr (Kind == Activation::kXHardSigmoid) return x * fmaxf(0.0f, fminf(1.0f, a.alpha * x + a.beta));
  if constexpr (Kind == Activation::kGelu) return (x * kernels::erfc_f32(-x / a.alpha)) * 0.5f;
  if constexpr (Kind == Activation::kXClipDiv) return (x * fminf(fmaxf(x + a.alpha, 0.0f), 6.0f)) / a.beta;
  if constexpr (Kind == kAnyActivation) return apply_activation(a, x);
  return x;
}

OCTET_HOST_DEVICE inline float apply_activation(const ActivationParams& a, float x) {
  switch (a.kind) {
    case Activation::kNone: return apply_activation_as<Activation::kNone>(a, x);
    case Activation::kRelu: return apply_activation_as<Activation::kRelu>(a, x);
    case Activation::kClip: return apply_activation_as<Activation::kClip>(a, x);
    case Activation::kLeakyRelu: return apply_activation_as<Activation::kLeakyRelu>(a, x);
    case Activation::kSigmoid: return apply_activation_as<Activation::kSigmoid>(a, x);
    case Activation::kHardSigmoid: return apply_activation_as<Activation::kHardSigmoid>(a, x);
    case Activation::kHardSwish: return apply_activation_as<Activation::kHardSwish>(a, x);
    case Activation::kXSigmoid: return apply_activation_as<Activation::kXSigmoid>(a, x);
    case Activation::kXHardSigmoid: return apply_activation_as<Activation::kXHardSigmoid>(a, x);
    case Activation::kGelu: return apply_activation_as<Activation::kGelu>(a, x);
    case Activation::kXClipDiv: return apply_activation_as<Activation::kXClipDiv>(a, x);
  }
  return x;
}

}  // namespace octet
