#include "kernels/cuda/binary_math_cuda.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

// y's dims after merging, outermost first; a_stride/b_stride are 0 along the dims an operand broadcasts.
struct BinaryMathIndexing {
  int rank = 0;
  FastDivmod dims[kMaxBinaryMathRank];  // dims[0] is never divided by (the index is below numel)
  uint32_t a_stride[kMaxBinaryMathRank] = {};
  uint32_t b_stride[kMaxBinaryMathRank] = {};
};

// One element per thread of a grid-stride loop. `a` and `y` are not __restrict__: they may be one
// buffer, each thread then reading a[i] before writing y[i].
__global__ void binary_math_kernel(BinaryMath op, const float* a, const float* __restrict__ b, float* y, uint32_t n,
                                   BinaryMathIndexing g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t rest = i, a_offset = 0, b_offset = 0;
#pragma unroll
    for (int d = kMaxBinaryMathRank - 1; d >= 1; --d) {
      if (d < g.rank) {
        uint32_t q, r;
        g.dims[d].divmod(rest, q, r);
        a_offset += r * g.a_stride[d];
        b_offset += r * g.b_stride[d];
        rest = q;
      }
    }
    a_offset += rest * g.a_stride[0];
    b_offset += rest * g.b_stride[0];
    y[i] = apply_binary_math(op, a[a_offset], b[b_offset]);
  }
}

// Right-aligns a and b against y, drops y's size-1 dims and merges neighbours that both operands
// read alike (each either along both or broadcasting both), so a same-shape or scalar-operand
// function runs at rank 1. For contiguous operands the merged stride is the inner one.
BinaryMathIndexing make_indexing(const Dims& a_dims, const Dims& b_dims, const Dims& y_dims) {
  const size_t rank = y_dims.size();
  OCTET_CHECK(a_dims.size() <= rank && b_dims.size() <= rank, "binary function: inputs ", to_string(a_dims), " and ",
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
                "binary function: ", to_string(a_dims), " and ", to_string(b_dims), " do not broadcast to ",
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
  if (merged.size() > static_cast<size_t>(kMaxBinaryMathRank))
    OCTET_UNSUPPORTED("binary function: broadcasting ", to_string(a_dims), " with ", to_string(b_dims), " needs ",
                      merged.size(), " dimensions, the CUDA kernel handles ", kMaxBinaryMathRank);
  BinaryMathIndexing g;
  g.rank = static_cast<int>(merged.size());  // 0 for a single element: offsets 0
  for (int d = 0; d < g.rank; ++d) {
    if (d > 0) g.dims[d] = FastDivmod(merged[static_cast<size_t>(d)]);
    g.a_stride[d] = static_cast<uint32_t>(a_str[static_cast<size_t>(d)]);
    g.b_stride[d] = static_cast<uint32_t>(b_str[static_cast<size_t>(d)]);
  }
  return g;
}

}  // namespace
}  // namespace gpu

void binary_math_cuda(BinaryMath op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y,
                      const Dims& y_dims, cudaStream_t stream) {
  using namespace gpu;
  const int64_t n = numel(y_dims);
  if (n == 0) return;
  check_index_range(n, "binary function output");
  const BinaryMathIndexing g = make_indexing(a_dims, b_dims, y_dims);
  binary_math_kernel<<<grid_for(n), kThreadsPerBlock, 0, stream>>>(op, a, b, y, static_cast<uint32_t>(n), g);
  OCTET_CUDA_CHECK_LAUNCH("binary_math_kernel");
}

}  // namespace octet::kernels
