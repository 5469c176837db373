// Gemm and MatMul, CPU fast path (float32, row-major): OpenBLAS sgemm + a parallel epilogue.
//
// Compute what gemm_ref / matmul_ref (kernels/cpu/gemm_ref.h) define:
//   gemm_blas:   one cblas_sgemm(alpha, beta = 0) into Y, then one pass over Y's rows on `threads`
//                threads: Y = activation(Y + beta * C (+ residual)).
//   matmul_blas: one cblas_sgemm for the whole batch when B has no batch dimensions of its own and A's
//                batch is not broadcast (Y = A viewed as [batch*M, K] times B), else one call per
//                batch entry; then the epilogue pass when there is a residual or an activation.
// The sums are the reference's dot products in OpenBLAS's order (possibly with fused multiply-adds),
// hence |Y - Y_ref| <= 2 * gamma_{K+4} * (|alpha| * sum_k |a*b| + |beta*C| + |residual|) for
// 1-Lipschitz activations (derivation in tests/kernels/test_cpu_fast_path.cpp).
//
// Threads: sgemm runs on OpenBLAS's threads, the epilogue on ours, one after the other.
// blas_set_threads fixes OpenBLAS's thread count for the whole process (this OpenBLAS has no
// per-call setting); the CPU backend calls it once per context with BackendOptions::threads.
#pragma once

#include <cstdint>

#include "engine/graph.h"

namespace octet::kernels {

void blas_set_threads(int threads);

void gemm_blas(const GemmAttrs& attrs, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
               const float* c, const Dims& c_dims, const float* residual, float* y, int threads);

void matmul_blas(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, const float* residual,
                 const ActivationParams& activation, float* y, int threads);

}  // namespace octet::kernels
