#include "kernels/cuda/normalization_cuda.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/cuda/warp_fold.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

// The lane-ordered sum of kernels/reduce.h of this lane's share of a row, on every lane.
__device__ __forceinline__ float warp_sum(float lane_sum) {
  return __shfl_sync(0xffffffffu, fold_warp(ReduceOp::kSum, lane_sum), 0);
}

// Warp w normalises rows w, w + warps, ...; lane l takes elements l, l + 32, ... of the row in each of
// the three passes (mean, variance, output). The row loop's condition is the same for every lane of
// a warp, as the shuffles need.
__global__ void layer_norm_kernel(const float* __restrict__ x, const float* __restrict__ scale,
                                  const float* __restrict__ bias, float* __restrict__ y, uint32_t rows, uint32_t n,
                                  uint32_t scale_stride, uint32_t bias_stride, float epsilon) {
  const uint32_t lane = threadIdx.x % kReduceLanes;
  const uint32_t warps = gridDim.x * blockDim.x / kReduceLanes;
  const float count = static_cast<float>(n);
  for (uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / kReduceLanes; r < rows; r += warps) {
    const float* row = x + r * n;
    float* out = y + r * n;
    float sum = 0.0f;
    for (uint32_t j = lane; j < n; j += kReduceLanes) sum += row[j];
    const float mean = warp_sum(sum) / count;
    float squares = 0.0f;
    for (uint32_t j = lane; j < n; j += kReduceLanes) squares += (row[j] - mean) * (row[j] - mean);
    const float deviation = sqrtf(warp_sum(squares) / count + epsilon);
    for (uint32_t j = lane; j < n; j += kReduceLanes) {
      const float scaled = (row[j] - mean) / deviation * scale[j * scale_stride];
      out[j] = bias ? scaled + bias[j * bias_stride] : scaled;
    }
  }
}

}  // namespace
}  // namespace gpu

void layer_norm_cuda(const float* x, const float* scale, const float* bias, const LayerNormShape& s, float* y,
                     cudaStream_t stream) {
  using namespace gpu;
  static_assert(kThreadsPerBlock % kReduceLanes == 0, "whole warps per block");
  if (s.rows == 0 || s.n == 0) return;
  check_index_range(s.rows * s.n, "LayerNormalization");
  check_index_range(s.rows * kReduceLanes, "LayerNormalization threads");
  layer_norm_kernel<<<grid_for(s.rows * kReduceLanes), kThreadsPerBlock, 0, stream>>>(
      x, scale, bias, y, static_cast<uint32_t>(s.rows), static_cast<uint32_t>(s.n),
      static_cast<uint32_t>(s.scale_stride), static_cast<uint32_t>(s.bias_stride), s.epsilon);
  OCTET_CUDA_CHECK_LAUNCH("layer_norm_kernel");
}

}  // namespace octet::kernels
