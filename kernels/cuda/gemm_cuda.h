// Gemm and MatMul on the GPU through cuBLAS SGEMM, FP32 row-major, with the fused epilogue.
//
// cuBLAS is column-major; a row-major [M, N] matrix is a column-major N x M one, so both ops compute
//   Y^T = op(B)^T * op(A)^T
// in cuBLAS's terms (operands swapped, no data moved). The additive terms and the activation follow
// in one epilogue pass (epilogue_cuda.h), skipped when there is nothing to add or activate.
// `cublas` must be bound to `stream` with its math mode (TF32 or not) and workspace set by the owner.
//
// batch_invariant (BackendOptions::batch_invariant and ::reproducible): instead of cuBLAS, the
// k-ordered GEMM (gemm_ordered_cuda.h) sums every output in p order, one rounding per product and per
// sum, alpha last. An output's arithmetic then depends on its row of A and on B only, never on M,
// the batch or where the row lies in memory, so a sample's row has the same bits at any batch (cuBLAS
// picks kernels, tilings and split-K by shape and alignment, and gemv for M = 1), and it is the CPU's
// arithmetic (kernels/cpu/gemm_sgemm.h with batch_invariant), so both backends give the same bits.
// Slower than cuBLAS.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor.h"
#include "kernels/activation.h"

namespace octet::kernels {

// ONNX Gemm: Y [M, N] = alpha * op(A) * op(B) + beta * C  (+ residual), then activation.
// A is [M, K] ([K, M] when trans_a), B is [K, N] ([N, K] when trans_b). C (nullptr when absent)
// broadcasts to [M, N] from c_dims: [] / [1] / [1, 1] (scalar), [N] / [1, N] (a row), [M, 1] (a
// column) or [M, N]. residual (nullptr when absent) is [M, N]. y must not overlap the inputs.
void gemm_cuda(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
               float beta, const float* c, const Dims& c_dims, const float* residual,
               const ActivationParams& activation, float* y, cublasHandle_t cublas, cudaStream_t stream,
               bool batch_invariant = false);

// numpy matmul: y [batch..., M, N] = a [batch_a..., M, K] @ b [batch_b..., K, N], the batch dims
// broadcasting; a 1-D a is [1, K] and a 1-D b is [K, 1] (that dimension dropped from y). Batches run
// as one GEMM when b is shared by all (a's batch folds into M), as one strided-batched GEMM when each
// operand is either fully batched or shared, and otherwise as one GEMM per batch entry (with
// batch_invariant, the same splits through the k-ordered GEMM).
// Epilogue: bias [N] (nullptr when absent) added to every row, residual in y's shape, activation.
void matmul_cuda(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y, const Dims& y_dims,
                 const float* bias, const float* residual, const ActivationParams& activation, cublasHandle_t cublas,
                 cudaStream_t stream, bool batch_invariant = false);

}  // namespace octet::kernels
