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
// Sigmoid uses expf, whose host and device results may differ by a couple of ulp; every other
// activation is exact (comparisons, one multiply-add) and bit-identical on CPU and GPU.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define OCTET_HOST_DEVICE __host__ __device__
#else
#define OCTET_HOST_DEVICE
#endif

namespace octet {

enum class Activation : uint8_t { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kHardSigmoid, kHardSwish };

struct ActivationParams {
  Activation kind = Activation::kNone;
  float alpha = 0.0f;  // Clip: lower bound; LeakyRelu: slope; HardSigmoid: alpha
  float beta = 0.0f;   // Clip: upper bound; HardSigmoid: beta
};

OCTET_HOST_DEVICE inline float apply_activation(const ActivationParams& a, float x) {
  switch (a.kind) {
    case Activation::kNone: return x;
    case Activation::kRelu: return x > 0.0f ? x : 0.0f;
    case Activation::kClip: return fminf(fmaxf(x, a.alpha), a.beta);
    case Activation::kLeakyRelu: return x >= 0.0f ? x : a.alpha * x;
    case Activation::kSigmoid: return 1.0f / (1.0f + expf(-x));
    case Activation::kHardSigmoid: return fmaxf(0.0f, fminf(1.0f, a.alpha * x + a.beta));
    case Activation::kHardSwish: return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
  }
  return x;
}

}  // namespace octet
