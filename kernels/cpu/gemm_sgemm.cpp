#include "kernels/cpu/gemm_sgemm.h"

#include <algorithm>

#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/sgemm.h"

namespace octet::kernels {

namespace {
constexpr int64_t kMinElementsPerTask = 16384;

void product(bool batch_invariant, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int threads) {
  if (batch_invariant) {
    sgemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc, threads);
  } else {
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc, threads);
  }
}

}  // namespace

void gemm_sgemm(const GemmAttrs& attrs, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                const float* c, const Dims& c_dims, const float* residual, float* y, int threads,
                bool batch_invariant) {
  const MatrixStrides c_strides = c ? gemm_c_strides(c_dims, m, n) : MatrixStrides{};
  product(batch_invariant, attrs.trans_a, attrs.trans_b, m, n, k, attrs.alpha, a, attrs.trans_a ? m : k, b, attrs.trans_b ? k : n, y, n,
        threads);
  const ActivationParams& activation = attrs.epilogue.activation;
  if (!c && !residual && activation.kind == Activation::kNone) return;
  parallel_for(m, threads, std::max<int64_t>(1, kMinElementsPerTask / std::max<int64_t>(n, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t i = begin; i < end; ++i) {
                   for (int64_t j = 0; j < n; ++j) {
                     float value = y[i * n + j];
                     if (c) value += attrs.beta * c[i * c_strides.row + j * c_strides.col];
                     y[i * n + j] = finish_epilogue(value, residual ? residual + i * n + j : nullptr, activation);
                   }
                 }
               });
}

void matmul_sgemm(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, const float* residual,
                  const ActivationParams& activation, float* y, int threads, bool batch_invariant) {
  const MatMulLayout layout = make_matmul_layout(a_dims, b_dims);
  const int64_t m = layout.m, n = layout.n, k = layout.k;
  const int64_t batch = layout.batch_count();
  const bool b_shared = std::all_of(layout.b_batch_strides.begin(), layout.b_batch_strides.end(),
                                    [](int64_t s) { return s == 0; });
  // A's matrices follow each other densely unless A is broadcast along some batch dimension.
  bool a_dense = true;
  for (size_t d = 0; d < layout.batch_dims.size(); ++d)
    if (layout.batch_dims[d] > 1 && layout.a_batch_strides[d] == 0) a_dense = false;
  if (b_shared && a_dense) {
    product(batch_invariant, false, false, batch * m, n, k, 1.0f, a, k, b, n, y, n, threads);
  } else {
    for (int64_t i = 0; i < batch; ++i)
      product(batch_invariant, false, false, m, n, k, 1.0f, a + layout.a_offset(i), k, b + layout.b_offset(i), n,
              y + i * m * n, n, threads);
  }
  if (!residual && activation.kind == Activation::kNone) return;
  parallel_for(batch * m * n, threads, kMinElementsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = finish_epilogue(y[i], residual ? residual + i : nullptr, activation);
  });
}

}  // namespace octet::kernels
