#include "kernels/cuda/resize_cuda.h"

#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/int8_layout.h"

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

// One 32-bit word (4 channels) of an output pixel per thread, over [n, out_h, out_w, words].
__global__ void resize_nearest_int8_kernel(ResizeParams p, gpu::FastDivmod words, gpu::FastDivmod out_w,
                                           gpu::FastDivmod out_h, const uint32_t* __restrict__ x,
                                           uint32_t* __restrict__ y, uint32_t n) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t pixel, word, rows, col, image, row;
    words.divmod(i, pixel, word);
    out_w.divmod(pixel, rows, col);
    out_h.divmod(rows, image, row);
    const ResizeCell cell = resize_nearest_cell(p, static_cast<int32_t>(row), static_cast<int32_t>(col));
    const uint32_t source = (image * static_cast<uint32_t>(p.h.in) + static_cast<uint32_t>(cell.row)) *
                                static_cast<uint32_t>(p.w.in) +
                            static_cast<uint32_t>(cell.col);
    y[i] = x[source * words.divisor + word];
  }
}

}  // namespace

void resize_nearest_int8_nhwcp_cuda(const ResizeParams& p, int64_t n, int64_t channels, const int8_t* x, int8_t* y,
                                    cudaStream_t stream) {
  OCTET_CHECK(p.mode == ResizeMode::kNearest, "resize_nearest_int8_nhwcp_cuda: a linear Resize computes new values");
  OCTET_CHECK(reinterpret_cast<uintptr_t>(x) % 4 == 0 && reinterpret_cast<uintptr_t>(y) % 4 == 0,
              "resize_nearest_int8_nhwcp_cuda: int8 buffers must be 4-byte aligned");
  const int64_t words = padded_channels(channels) / 4;
  const int64_t total = n * p.h.out * p.w.out * words;
  if (total == 0) return;
  gpu::check_index_range(total, "resize_nearest_int8_nhwcp_cuda (output words)");
  gpu::check_index_range(n * p.h.in * p.w.in * words, "resize_nearest_int8_nhwcp_cuda (input words)");
  resize_nearest_int8_kernel<<<gpu::grid_for(total), gpu::kThreadsPerBlock, 0, stream>>>(
      p, gpu::FastDivmod(words), gpu::FastDivmod(p.w.out), gpu::FastDivmod(p.h.out),
      reinterpret_cast<const uint32_t*>(x), reinterpret_cast<uint32_t*>(y), static_cast<uint32_t>(total));
  OCTET_CUDA_CHECK_LAUNCH("resize_nearest_int8_kernel");
}

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
