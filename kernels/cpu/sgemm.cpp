#include "kernels/cpu/sgemm.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "octet/build_config.h"

#if OCTET_BLAS
#include <cblas.h>
#endif

namespace octet::kernels {

namespace {

// Block sizes of sgemm_blocked: a [kDepthBlock x kColumnBlock] panel of op(B) is 128 KiB, so it stays
// in L2 while a block of rows of C runs over it; the inner j loop is contiguous and vectorizes.
constexpr int64_t kRowBlock = 16;
constexpr int64_t kDepthBlock = 128;
constexpr int64_t kColumnBlock = 256;

}  // namespace

void sgemm_blocked(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  // op(B) as a dense [K, N] matrix: B itself, or a transposed copy.
  std::vector<float> b_transposed;
  const float* ob = b;
  int64_t ldob = ldb;
  if (trans_b) {
    b_transposed.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) b_transposed[static_cast<size_t>(p * n + j)] = b[j * ldb + p];
    ob = b_transposed.data();
    ldob = n;
  }
  const int64_t row_blocks = (m + kRowBlock - 1) / kRowBlock;
  parallel_for(row_blocks, threads, 1, [&](int64_t block_begin, int64_t block_end) {
    const int64_t i_begin = block_begin * kRowBlock;
    const int64_t i_end = std::min(m, block_end * kRowBlock);
    for (int64_t i = i_begin; i < i_end; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    for (int64_t j0 = 0; j0 < n; j0 += kColumnBlock) {
      const int64_t j1 = std::min(n, j0 + kColumnBlock);
      // p blocks in increasing order: every c[i][j] still adds its products in p order.
      for (int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
        const int64_t p1 = std::min(k, p0 + kDepthBlock);
        for (int64_t i = i_begin; i < i_end; ++i) {
          float* c_row = c + i * ldc;
          for (int64_t p = p0; p < p1; ++p) {
            const float a_ip = trans_a ? a[p * lda + i] : a[i * lda + p];
            const float* b_row = ob + p * ldob;
            for (int64_t j = j0; j < j1; ++j) c_row[j] += a_ip * b_row[j];
          }
        }
      }
    }
    for (int64_t i = i_begin; i < i_end; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = alpha * c[i * ldc + j];
  });
}

#if OCTET_BLAS

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  // Leading dimensions must be >= 1 even for an empty operand (K = 0).
  auto ld = [](int64_t v) { return static_cast<blasint>(std::max<int64_t>(v, 1)); };
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a, ld(lda), b,
              ld(ldb), 0.0f, c, ld(ldc));
}

void blas_set_threads(int threads) { openblas_set_num_threads(resolve_thread_count(threads)); }

const char* sgemm_provider() { return "OpenBLAS"; }

#else

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, int threads) {
  sgemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc, threads);
}

void blas_set_threads(int /*threads*/) {}

const char* sgemm_provider() { return "octet blocked sgemm"; }

#endif

}  // namespace octet::kernels
