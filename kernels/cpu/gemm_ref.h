// Gemm and MatMul, reference (float32, row-major).
//
// gemm_ref (ONNX Gemm with the fused epilogue of engine/graph.h):
//   acc[m][n] = sum_{k < K} opA[m][k] * opB[k][n]
//   Y[m][n]   = activation(alpha * acc[m][n] + beta * C[m][n] + residual[m][n])
//   opA = A stored [M, K], or A^T with A stored [K, M] when trans_a; opB = B stored [K, N], or B^T with
//   B stored [N, K] when trans_b. C (optional) broadcasts to [M, N] by numpy rules: rank 0, [N],
//   [1, N], [M, 1], [M, N], ... (gemm_c_strides). residual (optional) is [M, N].
//   Evaluation: acc starts at 0.0f and adds one float product at a time for k = 0..K-1; then
//   alpha * acc, then + beta * C, then + residual (kernels/cpu/epilogue.h). Without C the beta term
//   is absent (not beta * 0).
//
// matmul_ref (ONNX/numpy MatMul, with an optional residual and activation epilogue):
//   A [..., M, K] x B [..., K, N] -> Y [batch..., M, N], the batch dimensions broadcast (numpy). A
//   1-D A is [1, K] with that 1 removed from Y; a 1-D B is [K, 1] with that 1 removed from Y.
//   Each Y[b][m][n] = activation(acc + residual) with acc summed in k order as above.
#pragma once

#include <cstdint>

#include "engine/graph.h"

namespace octet::kernels {

// Element strides of C read as [M, N] (0 along a broadcast dimension); throws Error when C's dims do
// not broadcast to [M, N] (rank > 2 included).
struct MatrixStrides {
  int64_t row = 0;
  int64_t col = 0;
};
MatrixStrides gemm_c_strides(const Dims& c_dims, int64_t m, int64_t n);

// a, b as described above; c and residual optional (null). Uses trans_a, trans_b, alpha, beta and
// epilogue.activation of attrs.
void gemm_ref(const GemmAttrs& attrs, int64_t m, int64_t n, int64_t k, const float* a, const float* b, const float* c,
              const Dims& c_dims, const float* residual, float* y);

// Y's dims for MatMul(A, B); throws Error when the inner dimensions differ or the batch dimensions do
// not broadcast.
Dims matmul_output_dims(const Dims& a_dims, const Dims& b_dims);

// residual optional (null), with Y's dims.
void matmul_ref(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, const float* residual,
                const ActivationParams& activation, float* y);

// How matmul_ref and matmul_blas see their operands: A as a batch of [M, K] matrices, B as a batch
// of [K, N], Y as a batch of [M, N], and the element offset of batch entry i's matrices.
struct MatMulLayout {
  int64_t m = 1, n = 1, k = 1;
  Dims batch_dims;                 // broadcast batch dimensions of Y (may be empty)
  Dims a_batch_strides;            // per batch dimension, in elements (0 where A broadcasts)
  Dims b_batch_strides;
  int64_t batch_count() const { return numel(batch_dims); }
  int64_t a_offset(int64_t i) const;
  int64_t b_offset(int64_t i) const;
};
MatMulLayout make_matmul_layout(const Dims& a_dims, const Dims& b_dims);

}  // namespace octet::kernels
