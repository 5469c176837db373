// The one matrix product the CPU fast paths call (row-major, leading dimensions in elements):
//   C[i][j] = alpha * sum_{p < K} opA[i][p] * opB[p][j]      for i < M, j < N
// opA = A, or A^T when trans_a (A stored [K, M]); opB likewise. C is overwritten (beta = 0), also
// when K = 0 (C = 0).
//
// Provider, fixed at build time:
//   OpenBLAS (OCTET_BLAS): cblas_sgemm, run on OpenBLAS's own threads; `threads` is not used, the
//     thread count is what blas_set_threads last set (process-wide: this OpenBLAS has no per-call
//     setting).
//   otherwise sgemm_blocked: octet's cache-blocked loop, rows of C split over `threads` threads.
// sgemm_blocked is always built so tests can check it in either build. It sums every output in
// p order (0..K-1) into a float starting at 0.0f and multiplies by alpha last, which is exactly the
// reference Gemm's arithmetic (kernels/cpu/gemm_ref.h).
#pragma once

#include <cstdint>

namespace octet::kernels {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, int threads);

void sgemm_blocked(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int threads);

// Sets OpenBLAS's thread count (0 = all hardware threads); nothing without OpenBLAS.
void blas_set_threads(int threads);

// "OpenBLAS <version/config>" or "octet blocked sgemm".
const char* sgemm_provider();

}  // namespace octet::kernels
