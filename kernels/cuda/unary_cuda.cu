#include "kernels/cuda/unary_cuda.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace {

// One element per thread of a grid-stride loop; the op is uniform across the grid.
__global__ void unary_kernel(UnaryOp op, const float* __restrict__ x, float* __restrict__ y, uint32_t n) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    y[i] = apply_unary(op, x[i]);
}

}  // namespace

void unary_cuda(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  gpu::check_index_range(n, "unary_cuda");
  unary_kernel<<<gpu::grid_for(n), gpu::kThreadsPerBlock, 0, stream>>>(op, x, y, static_cast<uint32_t>(n));
  OCTET_CUDA_CHECK_LAUNCH("unary_kernel");
}

}  // namespace octet::kernels
