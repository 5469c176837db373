#include "kernels/cuda/resize_cuda.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace {

// One output element per thread of a grid-stride loop over [planes, out_h, out_w].
__global__ void resize_kernel(ResizeParams p, gpu::FastDivmod out_w, gpu::FastDivmod out_h, const float* __restrict__ x,
                              float* __restrict__ y, uint32_t n) {
  const uint32_t in_plane = static_cast<uint32_t>(p.h.in) * static_cast<uint32_t>(p.w.in);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t rows, col, plane, row;
    out_w.divmod(i, rows, col);
    out_h.divmod(rows, plane, row);
    y[i] = resize_at(p, x + plane * in_plane, static_cast<int32_t>(row), static_cast<int32_t>(col));
  }
}

}  // namespace

void resize_cuda(const ResizeParams& p, int64_t planes, const float* x, float* y, cudaStream_t stream) {
  const int64_t n = planes * p.h.out * p.w.out;
  if (n == 0) return;
  gpu::check_index_range(n, "resize_cuda (output)");
  gpu::check_index_range(planes * p.h.in * p.w.in, "resize_cuda (input)");
  resize_kernel<<<gpu::grid_for(n), gpu::kThreadsPerBlock, 0, stream>>>(p, gpu::FastDivmod(p.w.out),
                                                                         gpu::FastDivmod(p.h.out), x, y,
                                                                         static_cast<uint32_t>(n));
  OCTET_CUDA_CHECK_LAUNCH("resize_kernel");
}

}  // namespace octet::kernels
