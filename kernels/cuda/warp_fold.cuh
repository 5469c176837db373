// The lane tree of kernels/reduce.h on one warp (included by .cu files only): lane l holds lane[l];
// after the fold, lane 0 holds lane[0] of the tree
//   for s = 16, 8, 4, 2, 1:  lane[l] = reduce_combine(op, lane[l], lane[l + s])  for l < s
// since __shfl_down_sync(.., s) hands lane l the value of lane l + s. Lanes 1..31 end with partial
// values nobody reads. Every lane of the warp must call it (full mask).
#pragma once

#include "kernels/reduce.h"

namespace octet::kernels::gpu {

static_assert(kReduceLanes == 32, "the lanes of kernels/reduce.h are the threads of a warp");

__device__ __forceinline__ float fold_warp(ReduceOp op, float lane_value) {
#pragma unroll
  for (int s = kReduceLanes / 2; s >= 1; s /= 2)
    lane_value = reduce_combine(op, lane_value, __shfl_down_sync(0xffffffffu, lane_value, s));
  return lane_value;
}

}  // namespace octet::kernels::gpu
