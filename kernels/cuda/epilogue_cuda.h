// The fused epilogue of Conv / Gemm / MatMul on the GPU (engine/graph.h Epilogue), one pass after the
// cuBLAS GEMM that produced the accumulators:
//   t = acc[i]
//   t = t + bias_scale * bias[c]          when bias     (conv bias, Gemm's C broadcast along a dim)
//   t = t + addend_scale * addend[i]      when addend   (Gemm's C given as a full [M, N] matrix)
//   t = t + residual[i]                   when residual (the fused residual Add)
//   y[i] = apply_activation(activation, t)
// each operation rounded separately, in this order. The output is viewed as [outer, channels, inner]
// (conv: [N, K, OH*OW]); c is the channel coordinate of element i, addend and residual have y's
// layout.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/activation.h"

namespace octet::kernels {

struct EpilogueArgs {
  const float* bias = nullptr;  // [channels]
  float bias_scale = 1.0f;
  const float* addend = nullptr;  // y's shape
  float addend_scale = 1.0f;
  const float* residual = nullptr;  // y's shape
  ActivationParams activation;

  // True when the epilogue would copy acc unchanged (the pass can be skipped when acc is y).
  bool is_identity() const {
    return bias == nullptr && addend == nullptr && residual == nullptr && activation.kind == Activation::kNone;
  }
};

// acc and y in the same layout [outer, channels, inner]; acc may equal y (in place).
void epilogue_cuda(const float* acc, float* y, int64_t outer, int64_t channels, int64_t inner, const EpilogueArgs& args,
                   cudaStream_t stream);

// acc channel-major [channels, outer, inner] (the im2col convolution multiplies all images of a chunk in
// one GEMM, so its result is [K, images, OH*OW]); y [outer, channels, inner]. acc must not overlap y.
void epilogue_channel_major_cuda(const float* acc, float* y, int64_t outer, int64_t channels, int64_t inner,
                                 const EpilogueArgs& args, cudaStream_t stream);

}  // namespace octet::kernels
