// Gemm and MatMul, CPU fast path (float32, row-major): one sgemm (kernels/cpu/sgemm.h: OpenBLAS or
// octet's blocked loop) and a parallel epilogue pass.
//
// Compute what gemm_ref / matmul_ref (kernels/cpu/gemm_ref.h) define:
//   gemm_sgemm:   sgemm(alpha) into Y, then one pass over Y's rows on `threads` threads:
//                 Y = activation(Y + beta * C (+ residual)).
//   matmul_sgemm: one sgemm for the whole batch when B has no batch dimensions of its own and A's
//                 batch is not broadcast (A viewed as [batch*M, K]), else one per batch entry; then
//                 the epilogue pass when there is a residual or an activation.
// The sums are the reference's dot products in the provider's order (possibly with fused
// multiply-adds), hence |Y - Y_ref| <= 2 * gamma_{K+4} * (|alpha| * sum_k |a*b| + |beta*C| +
// |residual|) for 1-Lipschitz activations (derivation in tests/kernels/test_cpu_fast_path.cpp).
// The sgemm and the epilogue run one after the other, never at the same time.
//
// batch_invariant: the products run through sgemm_blocked (kernels/cpu/sgemm.h) instead of the
// provider. It sums every output in k order on its own, whatever M is and however the rows are
// split over threads, so a row of Y has the same bits whether A holds 1 or 64 rows and wherever
// the row sits (OpenBLAS picks kernels and blockings by shape: M = 1 goes through gemv); it also is
// the reference's arithmetic. Slower (BackendOptions::batch_invariant).
#pragma once

#include <cstdint>

#include "engine/graph.h"

namespace octet::kernels {

void gemm_sgemm(const GemmAttrs& attrs, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                const float* c, const Dims& c_dims, const float* residual, float* y, int threads,
                bool batch_invariant = false);

void matmul_sgemm(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, const float* residual,
                  const ActivationParams& activation, float* y, int threads, bool batch_invariant = false);

}  // namespace octet::kernels
