#include "kernels/cuda/reduce_cuda.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/cuda/warp_fold.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

// One index space of a ReduceGeometry (kept or reduced): its dims, outermost first, and their strides
// in the input.
struct StridedSpace {
  int rank = 0;
  FastDivmod dims[kMaxReduceRank];  // dims[0] is never divided by (the index is below numel)
  uint32_t strides[kMaxReduceRank] = {};

  // The input offset of row-major index `linear`.
  __device__ __forceinline__ uint32_t offset(uint32_t linear) const {
    uint32_t offset = 0;
#pragma unroll
    for (int d = kMaxReduceRank - 1; d >= 1; --d) {
      if (d < rank) {
        uint32_t q, r;
        dims[d].divmod(linear, q, r);
        offset += r * strides[d];
        linear = q;
      }
    }
    return offset + linear * strides[0];
  }
};

StridedSpace make_space(const Dims& dims, const Dims& strides, const char* what) {
  if (dims.size() > static_cast<size_t>(kMaxReduceRank))
    OCTET_UNSUPPORTED("reduction: ", dims.size(), " ", what, " dimensions ", to_string(dims),
                      " after merging; the CUDA kernel handles ", kMaxReduceRank);
  StridedSpace s;
  s.rank = static_cast<int>(dims.size());
  for (int d = 0; d < s.rank; ++d) {
    if (d > 0) s.dims[d] = FastDivmod(dims[static_cast<size_t>(d)]);
    s.strides[d] = static_cast<uint32_t>(strides[static_cast<size_t>(d)]);
  }
  return s;
}

// Warp w reduces outputs w, w + warps, ...; lane l folds elements l, l + 32, ... (kernels/reduce.h).
// The loop condition is the same for every lane of a warp, as fold_warp needs.
__global__ void reduce_kernel(ReduceOp op, const float* __restrict__ x, float* __restrict__ y, uint32_t outputs,
                              uint32_t count, StridedSpace kept, StridedSpace reduced) {
  const uint32_t lane = threadIdx.x % kReduceLanes;
  const uint32_t warps = gridDim.x * blockDim.x / kReduceLanes;
  for (uint32_t o = (blockIdx.x * blockDim.x + threadIdx.x) / kReduceLanes; o < outputs; o += warps) {
    const float* base = x + kept.offset(o);
    float acc = reduce_identity(op);
    for (uint32_t i = lane; i < count; i += kReduceLanes) acc = reduce_combine(op, acc, base[reduced.offset(i)]);
    acc = fold_warp(op, acc);
    if (lane == 0) y[o] = reduce_finish(op, acc, count);
  }
}

}  // namespace
}  // namespace gpu

void reduce_cuda(ReduceOp op, const float* x, const ReduceGeometry& g, float* y, cudaStream_t stream) {
  using namespace gpu;
  static_assert(kThreadsPerBlock % kReduceLanes == 0, "whole warps per block");
  const int64_t outputs = g.outputs();
  if (outputs == 0) return;
  check_index_range(outputs * g.count(), "reduction input");
  check_index_range(outputs * kReduceLanes, "reduction threads");
  const StridedSpace kept = make_space(g.kept_dims, g.kept_strides, "kept");
  const StridedSpace reduced = make_space(g.reduced_dims, g.reduced_strides, "reduced");
  reduce_kernel<<<grid_for(outputs * kReduceLanes), kThreadsPerBlock, 0, stream>>>(
      op, x, y, static_cast<uint32_t>(outputs), static_cast<uint32_t>(g.count()), kept, reduced);
  OCTET_CUDA_CHECK_LAUNCH("reduce_kernel");
}

}  // namespace octet::kernels
