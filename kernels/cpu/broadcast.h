// Numpy broadcasting, shared by the elementwise kernels, MatMul's batch dimensions and Gemm's C.
//
// Shapes are aligned at their last dimension; each pair of dimensions must be equal or one of them
// 1, and the result takes the larger. A tensor broadcast to a larger shape is read with stride 0
// along every dimension it lacks or has as 1, so element y[i_0, ..., i_{r-1}] reads
//   x[sum_d i_d * broadcast_strides(x_dims, y_dims)[d]].
#pragma once

#include <string>

#include "engine/tensor.h"

namespace octet::kernels {

// The broadcast shape of a and b; throws Error naming `context` when they do not broadcast.
Dims broadcast_shape(const Dims& a, const Dims& b, const std::string& context);

// True when `dims` broadcasts to `out_dims` (rank(dims) <= rank(out_dims), every dim 1 or equal).
bool broadcasts_to(const Dims& dims, const Dims& out_dims);

// Element strides of a row-major tensor of `dims` read as a tensor of `out_dims`: one entry per
// dimension of out_dims, 0 where `dims` is missing or 1. Requires broadcasts_to(dims, out_dims).
Dims broadcast_strides(const Dims& dims, const Dims& out_dims);

// The element offset of row-major linear index `linear` of a tensor of `dims`, read through
// `strides` (one per dimension): the plain divide-and-remainder walk over the dimensions.
int64_t strided_offset(int64_t linear, const Dims& dims, const Dims& strides);

}  // namespace octet::kernels
