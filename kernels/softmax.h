// Softmax of one slice: `length` elements `stride` apart. One definition for the CPU reference
// (kernels/cpu/tensor_ops_ref.h softmax_ref) and the CUDA kernels (kernels/cuda/tensor_ops_cuda.h):
//   m   = max_j x_j                          (kernels/reduce.h's Max: NaN wins)
//   e_j = exp_f32(x_j - m)                    (kernels/float_math.h; subtracting m keeps e_j <= 1)
//   s   = e_0 + ... + e_{length-1}            in kernels/reduce.h's lane order
//   y_j = e_j / s                             one true division
// The CUDA kernel that gives a slice a warp computes m and s lane by lane and folds them with the
// same tree (kernels/cuda/warp_fold.cuh); the one that gives a slice a thread calls softmax_slice.
// Both produce the bits softmax_slice does on the host.
#pragma once

#include <cstdint>

#include "kernels/float_math.h"
#include "kernels/host_device.h"
#include "kernels/reduce.h"

namespace octet::kernels {

OCTET_HOST_DEVICE inline void softmax_slice(const float* x, float* y, int64_t length, int64_t stride) {
  const float m = reduce_in_lane_order(ReduceOp::kMax, length, [&](int64_t j) { return x[j * stride]; });
  const float s =
      reduce_in_lane_order(ReduceOp::kSum, length, [&](int64_t j) { return exp_f32(x[j * stride] - m); });
  for (int64_t j = 0; j < length; ++j) y[j * stride] = exp_f32(x[j * stride] - m) / s;
}

// softmax_slice for a length known at compile time: each element is read once and e_j kept, so a
// GPU thread that owns a column makes one pass over memory instead of three. The same reductions in
// the same order on the same values: the same bits as softmax_slice.
template <int Length>
OCTET_HOST_DEVICE inline void softmax_slice_fixed(const float* x, float* y, int64_t stride) {
  float v[Length];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int j = 0; j < Length; ++j) v[j] = x[j * stride];
  const float m = reduce_in_lane_order(ReduceOp::kMax, Length, [&](int64_t j) { return v[j]; });
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int j = 0; j < Length; ++j) v[j] = exp_f32(v[j] - m);
  const float s = reduce_in_lane_order(ReduceOp::kSum, Length, [&](int64_t j) { return v[j]; });
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int j = 0; j < Length; ++j) y[j * stride] = v[j] / s;
}

}  // namespace octet::kernels
