// Reductions of float32 (ReduceSum, ReduceMean, ReduceMax, ReduceMin) and the order of their
// operations, one definition for the CPU reference (kernels/cpu/reduce_ref.h) and the CUDA kernels
// (kernels/cuda/reduce_cuda.h). LayerNormalization (kernels/normalization.h) sums in the same order.
//
// Each output element reduces the n input elements e_0 .. e_{n-1} whose coordinates equal the
// output's on the kept axes, taken in row-major order of the reduced axes:
//   Sum   y = e_0 + ... + e_{n-1}                          0 when n = 0
//   Mean  y = Sum / n                                       one true division; n = 0: 0 / 0 = NaN
//   Max   y = the largest e_i, NaN when any e_i is NaN     -inf when n = 0
//   Min   y = the smallest e_i, NaN when any e_i is NaN    +inf when n = 0
// NaN propagates as in numpy's maximum/minimum (ONNX's reference), not as fmaxf/fminf, which drop it.
//
// The order of the operations is part of the definition, since float addition does not associate.
// The elements are dealt round-robin to kReduceLanes = 32 lanes: lane l folds e_l, e_{l+32},
// e_{l+64}, ... in that order, starting from the identity (0 for Sum and Mean, -inf for Max, +inf for
// Min), acc = reduce_combine(op, acc, e). The lanes are then folded as a tree:
//   for s = 16, 8, 4, 2, 1:  lane[l] = reduce_combine(op, lane[l], lane[l + s])  for every l < s
// and lane[0] is the reduction. The CUDA kernels give each output one warp (lane l is thread l, the
// tree is __shfl_down_sync); the CPU reference keeps 32 accumulators. Both perform the same IEEE
// operations in the same order, so their results are bit-identical (but for the bits of a NaN that
// arithmetic makes: x86 gives the NaN operand or its default NaN, CUDA its canonical one; Max and Min
// only select, so theirs are identical too). The 32 partial sums also keep a long sum's rounding
// error about 32 times smaller than one running sum's.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/tensor.h"
#include "kernels/host_device.h"

namespace octet::kernels {

enum class ReduceOp : uint8_t { kSum, kMean, kMax, kMin };

constexpr int kReduceLanes = 32;  // a warp

OCTET_HOST_DEVICE inline float reduce_identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kMean: return 0.0f;
    case ReduceOp::kMax: return -INFINITY;
    case ReduceOp::kMin: return INFINITY;
  }
  return 0.0f;
}

// acc (op) e. Max and Min keep acc on ties, and `x != x` is true for NaN only, which makes a NaN on
// either side win.
OCTET_HOST_DEVICE inline float reduce_combine(ReduceOp op, float acc, float e) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kMean: return acc + e;
    case ReduceOp::kMax: return (acc >= e || acc != acc) ? acc : e;
    case ReduceOp::kMin: return (acc <= e || acc != acc) ? acc : e;
  }
  return acc;
}

// The output from the folded lanes of n elements.
OCTET_HOST_DEVICE inline float reduce_finish(ReduceOp op, float folded, int64_t n) {
  return op == ReduceOp::kMean ? folded / static_cast<float>(n) : folded;
}

// The tree fold of the 32 lanes (see the top of this file); lanes[] is overwritten.
OCTET_HOST_DEVICE inline float fold_lanes(ReduceOp op, float (&lanes)[kReduceLanes]) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int s = kReduceLanes / 2; s >= 1; s /= 2) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int l = 0; l < s; ++l) lanes[l] = reduce_combine(op, lanes[l], lanes[l + s]);
  }
  return lanes[0];
}

// The whole reduction of element(0) .. element(n - 1) in the order above, by one thread: lane by
// lane, then the tree. Other ops that sum (Softmax, GlobalAveragePool, LayerNormalization) use it on
// the host, and in device code where one thread owns a reduction, so that a warp's kernel and a
// thread's give the same bits. (The loops unroll on the device so lanes[] stays in registers.)
template <typename Element>
OCTET_HOST_DEVICE inline float reduce_in_lane_order(ReduceOp op, int64_t n, Element element) {
  float lanes[kReduceLanes];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int l = 0; l < kReduceLanes; ++l) {
    float acc = reduce_identity(op);
    for (int64_t i = l; i < n; i += kReduceLanes) acc = reduce_combine(op, acc, element(i));
    lanes[l] = acc;
  }
  return reduce_finish(op, fold_lanes(op, lanes), n);
}

// Where the elements of a reduction lie in a row-major input. Output o (row-major over the kept axes,
// which is also its index in the output, keepdims or not) starts at
//   base(o) = strided_offset(o, kept_dims, kept_strides)
// and its element e_i at base(o) + strided_offset(i, reduced_dims, reduced_strides) (the walk of
// kernels/cpu/broadcast.h). Neighbouring axes of the same kind are merged and axes of size 1 dropped,
// which changes neither the set nor the order of the elements but keeps the GPU's index arithmetic
// short. A reduction over an axis of size 0 has reduced_dims {0}: no element.
struct ReduceGeometry {
  Dims kept_dims, kept_strides;
  Dims reduced_dims, reduced_strides;

  int64_t outputs() const { return numel(kept_dims); }
  int64_t count() const { return numel(reduced_dims); }
};

// `axes`: sorted, distinct, each in [0, rank(x_dims)).
inline ReduceGeometry make_reduce_geometry(const Dims& x_dims, const Dims& axes) {
  const Dims strides = contiguous_strides(x_dims);
  ReduceGeometry g;
  bool last_reduced = false;
  size_t next_axis = 0;
  for (size_t d = 0; d < x_dims.size(); ++d) {
    const bool reduced = next_axis < axes.size() && axes[next_axis] == static_cast<int64_t>(d);
    if (reduced) ++next_axis;
    if (x_dims[d] == 1) continue;
    Dims& dims = reduced ? g.reduced_dims : g.kept_dims;
    Dims& dim_strides = reduced ? g.reduced_strides : g.kept_strides;
    const bool merge = !dims.empty() && last_reduced == reduced;
    if (merge) {
      dims.back() *= x_dims[d];
      dim_strides.back() = strides[d];
    } else {
      dims.push_back(x_dims[d]);
      dim_strides.push_back(strides[d]);
    }
    last_reduced = reduced;
  }
  if (g.count() == 0) {
    g.reduced_dims = {0};
    g.reduced_strides = {0};
  }
  return g;
}

}  // namespace octet::kernels
