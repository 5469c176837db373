// Pointwise FP32 kernels on the GPU: numpy-broadcasting binary arithmetic, the activations of
// kernels/activation.h, and BatchNormalization in inference mode.
//
// Every launcher enqueues on the given stream (never the default stream), checks the launch and
// returns without synchronizing. Pointers are device pointers; y never aliases an input unless the
// function says so.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor.h"
#include "kernels/activation.h"
#include "kernels/cpu/elementwise_ref.h"  // BinaryOp, shared with the CPU reference

namespace octet::kernels {

// Tensors of more dimensions than this (after merging dimensions that broadcast alike) are
// reported as unsupported.
constexpr int kMaxBroadcastRank = 8;

// y = a (op) b, numpy broadcasting: a_dims and b_dims are right-aligned against y_dims and each of
// their dimensions equals y's or is 1. One IEEE operation per element (Div is a true division), the
// same expression as the CPU reference, so results are bit-identical.
void binary_broadcast_cuda(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims,
                           float* y, const Dims& y_dims, cudaStream_t stream);

// y[i] = apply_activation(params, x[i]) for i < n. y may equal x (in place).
void activation_cuda(const ActivationParams& params, const float* x, float* y, int64_t n, cudaStream_t stream);

// BatchNormalization, inference: x viewed as [N, C, inner] (inner = product of the spatial dims),
//   y = (x - mean[c]) / sqrtf(var[c] + epsilon) * scale[c] + bias[c]
// evaluated in that order with separate IEEE roundings (no FMA contraction; sqrtf and the division
// correctly rounded), the expression of the CPU reference, so the results are bit-identical.
void batchnorm_inference_cuda(const float* x, const float* scale, const float* bias, const float* mean,
                              const float* var, float epsilon, float* y, int64_t n, int64_t c, int64_t inner,
                              cudaStream_t stream);

}  // namespace octet::kernels
