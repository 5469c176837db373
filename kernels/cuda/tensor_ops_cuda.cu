// Transpose, Concat, Pad (constant), Softmax. Contracts in tensor_ops_cuda.h.
//
// Transpose and Pad: one thread per output element, coordinates by FastDivmod, reads gathered
// (Transpose merges output dimensions that stay adjacent in the input first, so NCHW <-> NHWC runs at
// rank 3). Concat: one cudaMemcpy2DAsync per input. Softmax: a warp per contiguous row (inner == 1),
// else a thread per column walking the strided row; three passes (max, sum, write), recomputing e^x
// in the last rather than storing it; kernels/softmax.h's operations, bit-identical to the CPU's.
#include <cfloat>
#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/cuda/tensor_ops_cuda.h"
#include "kernels/cuda/warp_fold.cuh"
#include "kernels/softmax.h"

namespace octet::kernels {
namespace gpu {
namespace {

// Output dims (outermost first) and, per output dimension, the matching input stride.
struct LayoutGeometry {
  int rank = 0;
  FastDivmod dims[kMaxLayoutRank];
  uint32_t in_stride[kMaxLayoutRank] = {};
};

// ---- Transpose -----------------------------------------------------------------------------------

template <typename T>
__global__ void transpose_kernel(const T* __restrict__ x, T* __restrict__ y, uint32_t total, LayoutGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i, offset = 0;
#pragma unroll
    for (int d = kMaxLayoutRank - 1; d >= 0; --d) {
      if (d < g.rank) {
        uint32_t q, r;
        g.dims[d].divmod(rest, q, r);
        offset += r * g.in_stride[d];
        rest = q;
      }
    }
    y[i] = x[offset];
  }
}

LayoutGeometry make_transpose_geometry(const Dims& x_dims, const Dims& perm) {
  OCTET_CHECK(perm.size() == x_dims.size(), "Transpose: perm ", to_string(perm), " does not match rank ",
              x_dims.size());
  const Dims x_strides = contiguous_strides(x_dims);
  // Merged output dims, their input strides, and the input dim each kept output dim came from (a
  // size-1 input dim in between only prevents a merge, which costs speed, never correctness).
  Dims out, stride, source;
  for (size_t d = 0; d < perm.size(); ++d) {
    const int64_t p = perm[d];
    OCTET_CHECK(p >= 0 && p < static_cast<int64_t>(x_dims.size()), "Transpose: perm ", to_string(perm),
                " out of range");
    if (x_dims[p] == 1) continue;
    // Consecutive output dims that are consecutive input dims form one contiguous run of the input.
    if (!out.empty() && source.back() + 1 == p) {
      out.back() *= x_dims[p];
      stride.back() = x_strides[p];
    } else {
      out.push_back(x_dims[p]);
      stride.push_back(x_strides[p]);
    }
    source.push_back(p);
  }
  if (out.empty()) {
    out = {1};
    stride = {0};
  }
  if (out.size() > static_cast<size_t>(kMaxLayoutRank))
    OCTET_UNSUPPORTED("Transpose: ", out.size(), " dimensions after merging, the CUDA kernel handles ", kMaxLayoutRank);
  LayoutGeometry g;
  g.rank = static_cast<int>(out.size());
  for (int d = 0; d < g.rank; ++d) {
    g.dims[d] = FastDivmod(out[d]);
    g.in_stride[d] = static_cast<uint32_t>(stride[d]);
  }
  return g;
}

template <typename T>
void launch_transpose(const void* x, void* y, int64_t total, const LayoutGeometry& g, cudaStream_t stream) {
  transpose_kernel<T><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y),
                                                                        static_cast<uint32_t>(total), g);
  OCTET_CUDA_CHECK_LAUNCH("transpose_kernel");
}

// ---- Pad -----------------------------------------------------------------------------------------

struct PadGeometry {
  int rank = 0;
  FastDivmod y_dims[kMaxLayoutRank];
  int32_t begin[kMaxLayoutRank] = {};
  int32_t x_dim[kMaxLayoutRank] = {};
  uint32_t x_stride[kMaxLayoutRank] = {};
};

__global__ void pad_constant_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t total, float value,
                                    PadGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i, offset = 0;
    bool inside = true;
#pragma unroll
    for (int d = kMaxLayoutRank - 1; d >= 0; --d) {
      if (d < g.rank) {
        uint32_t q, r;
        g.y_dims[d].divmod(rest, q, r);
        const int32_t xi = static_cast<int32_t>(r) - g.begin[d];
        inside = inside && xi >= 0 && xi < g.x_dim[d];
        offset += static_cast<uint32_t>(xi) * g.x_stride[d];
        rest = q;
      }
    }
    y[i] = inside ? x[offset] : value;
  }
}

// ---- Softmax -------------------------------------------------------------------------------------

constexpr int kWarp = 32;

// x, y [rows, length] contiguous: one warp per row, lane l taking elements l, l + 32, ... and the
// warp folding the lanes: kernels/softmax.h's order.
__global__ void softmax_rows_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t rows,
                                    uint32_t length) {
  const uint32_t lane = threadIdx.x % kWarp;
  const uint32_t warps_per_block = blockDim.x / kWarp;
  for (uint32_t row = blockIdx.x * warps_per_block + threadIdx.x / kWarp; row < rows;
       row += gridDim.x * warps_per_block) {
    const float* xr = x + static_cast<size_t>(row) * length;
    float* yr = y + static_cast<size_t>(row) * length;
    float m = reduce_identity(ReduceOp::kMax);
    for (uint32_t j = lane; j < length; j += kWarp) m = reduce_combine(ReduceOp::kMax, m, xr[j]);
    m = __shfl_sync(0xffffffffu, fold_warp(ReduceOp::kMax, m), 0);
    float sum = 0.0f;
    for (uint32_t j = lane; j < length; j += kWarp) sum += exp_f32(xr[j] - m);
    sum = __shfl_sync(0xffffffffu, fold_warp(ReduceOp::kSum, sum), 0);
    for (uint32_t j = lane; j < length; j += kWarp) yr[j] = exp_f32(xr[j] - m) / sum;
  }
}

// x, y [outer, length, inner], inner > 1: one thread per (outer, inner) column, which runs
// softmax_slice itself; neighbouring threads read neighbouring columns, so every step of the walk
// along `length` is a coalesced row.
__global__ void softmax_columns_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t columns,
                                       uint32_t length, FastDivmod inner) {
  for (uint32_t col = blockIdx.x * blockDim.x + threadIdx.x; col < columns; col += gridDim.x * blockDim.x) {
    uint32_t o, k;
    inner.divmod(col, o, k);
    const size_t base = static_cast<size_t>(o) * length * inner.divisor + k;
    softmax_slice(x + base, y + base, length, inner.divisor);
  }
}

// softmax_columns_kernel for a slice length known at compile time (softmax_slice_fixed: one read of
// each element). 16 is the length of YOLOv8-family box heads (the distribution focal loss's 16 bins
// per box side, [N, 16, 4, anchors] over axis 1), whose column softmax is their largest float layer.
template <int Length>
__global__ void softmax_columns_fixed_kernel(const float* __restrict__ x, float* __restrict__ y, uint32_t columns,
                                             FastDivmod inner) {
  for (uint32_t col = blockIdx.x * blockDim.x + threadIdx.x; col < columns; col += gridDim.x * blockDim.x) {
    uint32_t o, k;
    inner.divmod(col, o, k);
    const size_t base = static_cast<size_t>(o) * Length * inner.divisor + k;
    softmax_slice_fixed<Length>(x + base, y + base, inner.divisor);
  }
}

}  // namespace
}  // namespace gpu

// ---- entry points --------------------------------------------------------------------------------

void transpose_cuda(const void* x, const Dims& x_dims, const Dims& perm, void* y, size_t element_bytes,
                    cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = numel(x_dims);
  if (total == 0) return;
  check_index_range(total, "Transpose");
  const LayoutGeometry g = make_transpose_geometry(x_dims, perm);
  switch (element_bytes) {
    case 1: return launch_transpose<uint8_t>(x, y, total, g, stream);
    case 2: return launch_transpose<uint16_t>(x, y, total, g, stream);
    case 4: return launch_transpose<uint32_t>(x, y, total, g, stream);
    case 8: return launch_transpose<uint64_t>(x, y, total, g, stream);
  }
  OCTET_UNSUPPORTED("Transpose: elements of ", element_bytes, " bytes");
}

void concat_cuda(const std::vector<const void*>& inputs, const std::vector<Dims>& input_dims, int64_t axis, void* y,
                 size_t element_bytes, cudaStream_t stream) {
  OCTET_CHECK(inputs.size() == input_dims.size() && !inputs.empty(), "Concat: ", inputs.size(), " inputs, ",
              input_dims.size(), " shapes");
  const Dims& first = input_dims.front();
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(first.size()), "Concat: axis ", axis, " out of range for ",
              to_string(first));
  int64_t outer = 1, inner = 1, total_axis = 0;
  for (int64_t d = 0; d < axis; ++d) outer *= first[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < first.size(); ++d) inner *= first[d];
  for (const Dims& dims : input_dims) total_axis += dims[axis];
  // y viewed as [outer, total_axis * inner]: input i fills columns [offset, offset + axis_i * inner).
  const size_t dst_pitch = static_cast<size_t>(total_axis * inner) * element_bytes;
  size_t offset_bytes = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const size_t width = static_cast<size_t>(input_dims[i][axis] * inner) * element_bytes;
    if (width != 0 && outer != 0) {
      OCTET_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<char*>(y) + offset_bytes, dst_pitch, inputs[i], width, width,
                                         static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, stream));
    }
    offset_bytes += width;
  }
}

void pad_constant_cuda(const float* x, const Dims& x_dims, const Dims& pads, float value, float* y, const Dims& y_dims,
                       cudaStream_t stream) {
  using namespace gpu;
  const size_t rank = y_dims.size();
  OCTET_CHECK(x_dims.size() == rank && pads.size() == 2 * rank, "Pad: input ", to_string(x_dims), ", pads ",
              to_string(pads), " and output ", to_string(y_dims), " disagree in rank");
  if (rank > static_cast<size_t>(kMaxLayoutRank))
    OCTET_UNSUPPORTED("Pad: rank ", rank, ", the CUDA kernel handles ", kMaxLayoutRank);
  const int64_t total = numel(y_dims);
  if (total == 0) return;
  check_index_range(total, "Pad output");
  check_index_range(numel(x_dims), "Pad input");
  const Dims x_strides = contiguous_strides(x_dims);
  PadGeometry g;
  g.rank = static_cast<int>(rank);
  for (size_t d = 0; d < rank; ++d) {
    OCTET_CHECK(x_dims[d] + pads[d] + pads[d + rank] == y_dims[d], "Pad: input ", to_string(x_dims), " with pads ",
                to_string(pads), " does not give ", to_string(y_dims));
    g.y_dims[d] = FastDivmod(y_dims[d]);
    g.begin[d] = static_cast<int32_t>(pads[d]);
    g.x_dim[d] = static_cast<int32_t>(x_dims[d]);
    g.x_stride[d] = static_cast<uint32_t>(x_strides[d]);
  }
  pad_constant_kernel<<<grid_for(total), kThreadsPerBlock, 0, stream>>>(x, y, static_cast<uint32_t>(total), value, g);
  OCTET_CUDA_CHECK_LAUNCH("pad_constant_kernel");
}

void softmax_cuda(const float* x, float* y, int64_t outer, int64_t length, int64_t inner, cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = outer * length * inner;
  if (total == 0) return;
  check_index_range(total, "Softmax");
  if (inner == 1) {
    constexpr int kWarpsPerBlock = kThreadsPerBlock / kWarp;
    softmax_rows_kernel<<<grid_for(outer, kWarpsPerBlock), kThreadsPerBlock, 0, stream>>>(
        x, y, static_cast<uint32_t>(outer), static_cast<uint32_t>(length));
    OCTET_CUDA_CHECK_LAUNCH("softmax_rows_kernel");
  } else if (length == 16) {
    const int64_t columns = outer * inner;
    softmax_columns_fixed_kernel<16><<<grid_for(columns), kThreadsPerBlock, 0, stream>>>(
        x, y, static_cast<uint32_t>(columns), FastDivmod(inner));
    OCTET_CUDA_CHECK_LAUNCH("softmax_columns_fixed_kernel");
  } else {
    const int64_t columns = outer * inner;
    softmax_columns_kernel<<<grid_for(columns), kThreadsPerBlock, 0, stream>>>(
        x, y, static_cast<uint32_t>(columns), static_cast<uint32_t>(length), FastDivmod(inner));
    OCTET_CUDA_CHECK_LAUNCH("softmax_columns_kernel");
  }
}

}  // namespace octet::kernels
