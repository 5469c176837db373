// Pointwise FP32 kernels: binary broadcasting, activations, BatchNormalization (inference).
//
// Contracts in elementwise_cuda.h. All three are memory-bound: one read per input element, one
// write per output element. Index decomposition uses FastDivmod (kernel_utils.cuh); the
// activation and BatchNormalization kernels move 16 bytes per thread when the pointers and the
// extents allow it.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

// ---- binary broadcast ----------------------------------------------------------------------------

// y's dims after merging, outermost first; a_stride/b_stride are 0 along broadcast dimensions.
struct BroadcastGeometry {
  int rank = 0;
  FastDivmod dims[kMaxBroadcastRank];
  uint32_t a_stride[kMaxBroadcastRank] = {};
  uint32_t b_stride[kMaxBroadcastRank] = {};
};

template <BinaryOp kOp>
__device__ __forceinline__ float binary_op(float a, float b) {
  if constexpr (kOp == BinaryOp::kAdd) {
    return a + b;
  } else if constexpr (kOp == BinaryOp::kSub) {
    return a - b;
  } else if constexpr (kOp == BinaryOp::kMul) {
    return a * b;
  } else {
    static_assert(kOp == BinaryOp::kDiv, "one case per BinaryOp");
    return a / b;
  }
}

template <BinaryOp kOp>
__global__ void binary_broadcast_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,
                                        uint32_t n, BroadcastGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t rest = i, a_offset = 0, b_offset = 0;
#pragma unroll
    for (int d = kMaxBroadcastRank - 1; d >= 0; --d) {
      if (d < g.rank) {
        uint32_t q, r;
        g.dims[d].divmod(rest, q, r);
        a_offset += r * g.a_stride[d];
        b_offset += r * g.b_stride[d];
        rest = q;
      }
    }
    y[i] = binary_op<kOp>(a[a_offset], b[b_offset]);
  }
}

// Right-aligns a and b against y, drops y's size-1 dimensions and merges neighbours that broadcast
// alike in both inputs (for contiguous inputs the merged stride is the inner one), so a same-shape
// or scalar operation runs at rank 1.
BroadcastGeometry make_broadcast_geometry(const Dims& a_dims, const Dims& b_dims, const Dims& y_dims) {
  const size_t rank = y_dims.size();
  OCTET_CHECK(a_dims.size() <= rank && b_dims.size() <= rank, "binary op: inputs ", to_string(a_dims), " and ",
              to_string(b_dims), " have more dimensions than the output ", to_string(y_dims));
  auto right_align = [rank](const Dims& dims) {
    Dims padded(rank - dims.size(), 1);
    padded.insert(padded.end(), dims.begin(), dims.end());
    return padded;
  };
  const Dims a_pad = right_align(a_dims), b_pad = right_align(b_dims);
  const Dims a_contig = contiguous_strides(a_pad), b_contig = contiguous_strides(b_pad);
  Dims merged, a_str, b_str;
  for (size_t d = 0; d < rank; ++d) {
    OCTET_CHECK((a_pad[d] == y_dims[d] || a_pad[d] == 1) && (b_pad[d] == y_dims[d] || b_pad[d] == 1),
                "binary op: ", to_string(a_dims), " and ", to_string(b_dims), " do not broadcast to ",
                to_string(y_dims));
    if (y_dims[d] == 1) continue;
    const int64_t sa = a_pad[d] == 1 ? 0 : a_contig[d];
    const int64_t sb = b_pad[d] == 1 ? 0 : b_contig[d];
    if (!merged.empty() && (a_str.back() == 0) == (sa == 0) && (b_str.back() == 0) == (sb == 0)) {
      merged.back() *= y_dims[d];
      a_str.back() = sa;
      b_str.back() = sb;
    } else {
      merged.push_back(y_dims[d]);
      a_str.push_back(sa);
      b_str.push_back(sb);
    }
  }
  if (merged.empty()) {  // every dimension is 1: one element
    merged = {1};
    a_str = {0};
    b_str = {0};
  }
  if (merged.size() > static_cast<size_t>(kMaxBroadcastRank))
    OCTET_UNSUPPORTED("binary op: broadcasting ", to_string(a_dims), " with ", to_string(b_dims), " needs ",
                      merged.size(), " dimensions, the CUDA kernel handles ", kMaxBroadcastRank);
  BroadcastGeometry g;
  g.rank = static_cast<int>(merged.size());
  for (int d = 0; d < g.rank; ++d) {
    g.dims[d] = FastDivmod(merged[d]);
    g.a_stride[d] = static_cast<uint32_t>(a_str[d]);
    g.b_stride[d] = static_cast<uint32_t>(b_str[d]);
  }
  return g;
}

template <BinaryOp kOp>
void launch_binary_broadcast(const float* a, const float* b, float* y, int64_t n, const BroadcastGeometry& g,
                             cudaStream_t stream) {
  binary_broadcast_kernel<kOp><<<grid_for(n), kThreadsPerBlock, 0, stream>>>(a, b, y, static_cast<uint32_t>(n), g);
  OCTET_CUDA_CHECK_LAUNCH("binary_broadcast_kernel");
}

// ---- activation ----------------------------------------------------------------------------------

// kVec elements per thread step: 4 (float4 loads/stores) when x and y are 16-byte aligned, else 1.
template <Activation kKind, int kVec>
__global__ void activation_kernel(const float* x, float* y, uint32_t n_vec, ActivationParams params) {
  static_assert(kVec == 1 || kVec == 4, "activation_kernel moves 1 or 4 floats per step");
  using Vec = std::conditional_t<kVec == 4, float4, float>;
  const Vec* xv = reinterpret_cast<const Vec*>(x);
  Vec* yv = reinterpret_cast<Vec*>(y);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n_vec; i += gridDim.x * blockDim.x) {
    Vec v = xv[i];
    if constexpr (kVec == 4) {
      v.x = activate<kKind>(params, v.x);
      v.y = activate<kKind>(params, v.y);
      v.z = activate<kKind>(params, v.z);
      v.w = activate<kKind>(params, v.w);
    } else {
      v = activate<kKind>(params, v);
    }
    yv[i] = v;
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <Activation kKind>
void launch_activation(const ActivationParams& params, const float* x, float* y, int64_t n, cudaStream_t stream) {
  int64_t done = 0;
  if (aligned16(x) && aligned16(y) && n >= 4) {
    const int64_t n_vec = n / 4;
    activation_kernel<kKind, 4>
        <<<grid_for(n_vec), kThreadsPerBlock, 0, stream>>>(x, y, static_cast<uint32_t>(n_vec), params);
    OCTET_CUDA_CHECK_LAUNCH("activation_kernel<float4>");
    done = n_vec * 4;
  }
  if (done < n) {  // the tail after the float4 part, or everything when unaligned
    activation_kernel<kKind, 1><<<grid_for(n - done), kThreadsPerBlock, 0, stream>>>(
        x + done, y + done, static_cast<uint32_t>(n - done), params);
    OCTET_CUDA_CHECK_LAUNCH("activation_kernel<float>");
  }
}

// ---- BatchNormalization --------------------------------------------------------------------------

// x, y [N, C, inner]; kVec consecutive elements share a channel (inner % kVec == 0).
template <int kVec>
__global__ void batchnorm_inference_kernel(const float* __restrict__ x, const float* __restrict__ scale,
                                           const float* __restrict__ bias, const float* __restrict__ mean,
                                           const float* __restrict__ var, float epsilon, float* __restrict__ y,
                                           uint32_t n_vec, FastDivmod inner_vec, FastDivmod channels) {
  static_assert(kVec == 1 || kVec == 4, "batchnorm_inference_kernel moves 1 or 4 floats per step");
  using Vec = std::conditional_t<kVec == 4, float4, float>;
  const Vec* xv = reinterpret_cast<const Vec*>(x);
  Vec* yv = reinterpret_cast<Vec*>(y);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n_vec; i += gridDim.x * blockDim.x) {
    uint32_t plane, c, unused;
    plane = inner_vec.div(i);
    channels.divmod(plane, unused, c);
    const float m = mean[c];
    const float deviation = sqrtf(var[c] + epsilon);
    const float a = scale[c];
    const float b = bias[c];
    Vec v = xv[i];
    if constexpr (kVec == 4) {
      v.x = (v.x - m) / deviation * a + b;
      v.y = (v.y - m) / deviation * a + b;
      v.z = (v.z - m) / deviation * a + b;
      v.w = (v.w - m) / deviation * a + b;
    } else {
      v = (v - m) / deviation * a + b;
    }
    yv[i] = v;
  }
}

}  // namespace
}  // namespace gpu

// ---- entry points --------------------------------------------------------------------------------

void binary_broadcast_cuda(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims,
                           float* y, const Dims& y_dims, cudaStream_t stream) {
  using namespace gpu;
  const int64_t n = numel(y_dims);
  if (n == 0) return;
  check_index_range(n, "binary op output");
  const BroadcastGeometry g = make_broadcast_geometry(a_dims, b_dims, y_dims);
  switch (op) {
    case BinaryOp::kAdd: return launch_binary_broadcast<BinaryOp::kAdd>(a, b, y, n, g, stream);
    case BinaryOp::kSub: return launch_binary_broadcast<BinaryOp::kSub>(a, b, y, n, g, stream);
    case BinaryOp::kMul: return launch_binary_broadcast<BinaryOp::kMul>(a, b, y, n, g, stream);
    case BinaryOp::kDiv: return launch_binary_broadcast<BinaryOp::kDiv>(a, b, y, n, g, stream);
  }
}

void activation_cuda(const ActivationParams& params, const float* x, float* y, int64_t n, cudaStream_t stream) {
  using namespace gpu;
  if (n == 0) return;
  check_index_range(n, "activation");
  dispatch_activation(params.kind,
                      [&](auto kind) { launch_activation<decltype(kind)::value>(params, x, y, n, stream); });
}

void batchnorm_inference_cuda(const float* x, const float* scale, const float* bias, const float* mean,
                              const float* var, float epsilon, float* y, int64_t n, int64_t c, int64_t inner,
                              cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = n * c * inner;
  if (total == 0) return;
  check_index_range(total, "BatchNormalization");
  if (inner % 4 == 0 && aligned16(x) && aligned16(y)) {
    const int64_t n_vec = total / 4;
    batchnorm_inference_kernel<4><<<grid_for(n_vec), kThreadsPerBlock, 0, stream>>>(
        x, scale, bias, mean, var, epsilon, y, static_cast<uint32_t>(n_vec), FastDivmod(inner / 4), FastDivmod(c));
    OCTET_CUDA_CHECK_LAUNCH("batchnorm_inference_kernel<float4>");
  } else {
    batchnorm_inference_kernel<1><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(
        x, scale, bias, mean, var, epsilon, y, static_cast<uint32_t>(total), FastDivmod(inner), FastDivmod(c));
    OCTET_CUDA_CHECK_LAUNCH("batchnorm_inference_kernel<float>");
  }
}

}  // namespace octet::kernels
