// MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool (FP32, NCHW). Contracts in pool_cuda.h.
//
// Windowed pools: one thread per output element, the window walked in registers; neighbouring threads
// read neighbouring (strided) columns, so the reads coalesce as well as the stride allows. Global
// pools: one warp per [n][c] plane, lane-strided reads, a shuffle tree at the end.
#include <cfloat>
#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/cuda/pool_cuda.h"

namespace octet::kernels {
namespace gpu {
namespace {

// Pool2dShape narrowed to what the kernels index with (all extents < 2^31, checked by the entry).
struct PoolGeometry {
  int h, w, oh, ow;
  int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right;
  int dilation_h, dilation_w;
  bool count_include_pad;
  FastDivmod ow_div, oh_div;
};

// x [planes, H, W] -> y [planes, OH, OW] (+ indices)
__global__ void maxpool2d_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t* __restrict__ indices,
                                 uint32_t total, PoolGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest, ow, plane, oh;
    g.ow_div.divmod(i, rest, ow);
    g.oh_div.divmod(rest, plane, oh);
    const float* xp = x + static_cast<size_t>(plane) * g.h * g.w;
    const int ih0 = static_cast<int>(oh) * g.stride_h - g.pad_top;
    const int iw0 = static_cast<int>(ow) * g.stride_w - g.pad_left;
    float best = -FLT_MAX;
    int best_at = -1;
    for (int r = 0; r < g.kernel_h; ++r) {
      const int ih = ih0 + r * g.dilation_h;
      if (ih < 0 || ih >= g.h) continue;
      for (int s = 0; s < g.kernel_w; ++s) {
        const int iw = iw0 + s * g.dilation_w;
        if (iw < 0 || iw >= g.w) continue;
        const float v = xp[ih * g.w + iw];
        if (best_at < 0 || v > best) {
          best = v;
          best_at = ih * g.w + iw;
        }
      }
    }
    // A window always holds an input cell: it starts inside the input or its left/top padding and
    // pads are smaller than the window (ONNX).
    y[i] = best;
    if (indices != nullptr) indices[i] = static_cast<int64_t>(plane) * g.h * g.w + best_at;
  }
}

__global__ void avgpool2d_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t total, PoolGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest, ow, plane, oh;
    g.ow_div.divmod(i, rest, ow);
    g.oh_div.divmod(rest, plane, oh);
    const float* xp = x + static_cast<size_t>(plane) * g.h * g.w;
    const int ih0 = static_cast<int>(oh) * g.stride_h - g.pad_top;
    const int iw0 = static_cast<int>(ow) * g.stride_w - g.pad_left;
    float sum = 0.0f;
    int inside = 0, inside_padded = 0;
    for (int r = 0; r < g.kernel_h; ++r) {
      const int ih = ih0 + r * g.dilation_h;
      const bool row_in = ih >= 0 && ih < g.h;
      const bool row_padded = ih >= -g.pad_top && ih < g.h + g.pad_bottom;
      for (int s = 0; s < g.kernel_w; ++s) {
        const int iw = iw0 + s * g.dilation_w;
        const bool col_in = iw >= 0 && iw < g.w;
        inside_padded += row_padded && iw >= -g.pad_left && iw < g.w + g.pad_right;
        if (row_in && col_in) {
          sum += xp[ih * g.w + iw];
          ++inside;
        }
      }
    }
    y[i] = sum / static_cast<float>(g.count_include_pad ? inside_padded : inside);
  }
}

constexpr int kWarp = 32;

// x [planes, inner] -> y [planes]; kMax: max, else mean. One warp per plane.
template <bool kMax>
__global__ void global_pool_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t planes,
                                   uint32_t inner) {
  const uint32_t lane = threadIdx.x % kWarp;
  const uint32_t warps_per_block = blockDim.x / kWarp;
  for (uint32_t plane = blockIdx.x * warps_per_block + threadIdx.x / kWarp; plane < planes;
       plane += gridDim.x * warps_per_block) {
    const float* xp = x + static_cast<size_t>(plane) * inner;
    float acc = kMax ? -FLT_MAX : 0.0f;
    for (uint32_t j = lane; j < inner; j += kWarp) acc = kMax ? fmaxf(acc, xp[j]) : acc + xp[j];
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) {
      const float other = __shfl_xor_sync(0xffffffffu, acc, offset);
      acc = kMax ? fmaxf(acc, other) : acc + other;
    }
    if (lane == 0) y[plane] = kMax ? acc : acc / static_cast<float>(inner);
  }
}

PoolGeometry make_pool_geometry(const Pool2dShape& s) {
  for (int64_t extent : {s.h, s.w, s.oh, s.ow})
    OCTET_CHECK(extent >= 1 && extent <= kMaxIndex, "pool: spatial extent ", extent, " out of range");
  PoolGeometry g;
  g.h = static_cast<int>(s.h);
  g.w = static_cast<int>(s.w);
  g.oh = static_cast<int>(s.oh);
  g.ow = static_cast<int>(s.ow);
  g.kernel_h = static_cast<int>(s.kernel_h);
  g.kernel_w = static_cast<int>(s.kernel_w);
  g.stride_h = static_cast<int>(s.stride_h);
  g.stride_w = static_cast<int>(s.stride_w);
  g.pad_top = static_cast<int>(s.pad_top);
  g.pad_left = static_cast<int>(s.pad_left);
  g.pad_bottom = static_cast<int>(s.pad_bottom);
  g.pad_right = static_cast<int>(s.pad_right);
  g.dilation_h = static_cast<int>(s.dilation_h);
  g.dilation_w = static_cast<int>(s.dilation_w);
  g.count_include_pad = s.count_include_pad;
  g.ow_div = FastDivmod(s.ow);
  g.oh_div = FastDivmod(s.oh);
  return g;
}

template <bool kMax>
void launch_global_pool(const float* x, float* y, int64_t planes, int64_t inner, cudaStream_t stream) {
  if (planes == 0) return;
  check_index_range(planes * inner, "global pool input");
  constexpr int kWarpsPerBlock = kThreadsPerBlock / kWarp;
  global_pool_kernel<kMax><<<grid_for(planes, kWarpsPerBlock), kThreadsPerBlock, 0, stream>>>(
      x, y, static_cast<uint32_t>(planes), static_cast<uint32_t>(inner));
  OCTET_CUDA_CHECK_LAUNCH("global_pool_kernel");
}

}  // namespace
}  // namespace gpu

void maxpool2d_cuda(const Pool2dShape& shape, const float* x, float* y, int64_t* indices, cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = shape.n * shape.c * shape.oh * shape.ow;
  if (total == 0) return;
  check_index_range(total, "MaxPool output");
  check_index_range(shape.n * shape.c * shape.h * shape.w, "MaxPool input");
  const PoolGeometry g = make_pool_geometry(shape);
  maxpool2d_kernel<<<grid_for(total), kThreadsPerBlock, 0, stream>>>(x, y, indices, static_cast<uint32_t>(total), g);
  OCTET_CUDA_CHECK_LAUNCH("maxpool2d_kernel");
}

void avgpool2d_cuda(const Pool2dShape& shape, const float* x, float* y, cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = shape.n * shape.c * shape.oh * shape.ow;
  if (total == 0) return;
  check_index_range(total, "AveragePool output");
  check_index_range(shape.n * shape.c * shape.h * shape.w, "AveragePool input");
  const PoolGeometry g = make_pool_geometry(shape);
  avgpool2d_kernel<<<grid_for(total), kThreadsPerBlock, 0, stream>>>(x, y, static_cast<uint32_t>(total), g);
  OCTET_CUDA_CHECK_LAUNCH("avgpool2d_kernel");
}

void global_maxpool_cuda(const float* x, float* y, int64_t planes, int64_t inner, cudaStream_t stream) {
  gpu::launch_global_pool<true>(x, y, planes, inner, stream);
}

void global_avgpool_cuda(const float* x, float* y, int64_t planes, int64_t inner, cudaStream_t stream) {
  gpu::launch_global_pool<false>(x, y, planes, inner, stream);
}

}  // namespace octet::kernels
