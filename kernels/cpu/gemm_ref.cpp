#include "kernels/cpu/gemm_ref.h"

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/epilogue.h"

namespace octet::kernels {

MatrixStrides gemm_c_strides(const Dims& c_dims, int64_t m, int64_t n) {
  const Dims out{m, n};
  OCTET_CHECK(broadcasts_to(c_dims, out), "Gemm: C of shape ", to_string(c_dims), " does not broadcast to ",
              to_string(out));
  const Dims strides = broadcast_strides(c_dims, out);
  return MatrixStrides{strides[0], strides[1]};
}

void gemm_ref(const GemmAttrs& attrs, int64_t m, int64_t n, int64_t k, const float* a, const float* b, const float* c,
              const Dims& c_dims, const float* residual, float* y) {
  const MatrixStrides c_strides = c ? gemm_c_strides(c_dims, m, n) : MatrixStrides{};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        const float a_ip = attrs.trans_a ? a[p * m + i] : a[i * k + p];
        const float b_pj = attrs.trans_b ? b[j * k + p] : b[p * n + j];
        acc += a_ip * b_pj;
      }
      float value = attrs.alpha * acc;
      if (c) value += attrs.beta * c[i * c_strides.row + j * c_strides.col];
      y[i * n + j] = finish_epilogue(value, residual ? residual + i * n + j : nullptr, attrs.epilogue.activation);
    }
  }
}

int64_t MatMulLayout::a_offset(int64_t i) const {
  return strided_offset(i, batch_dims, a_batch_strides);
}

int64_t MatMulLayout::b_offset(int64_t i) const {
  return strided_offset(i, batch_dims, b_batch_strides);
}

MatMulLayout make_matmul_layout(const Dims& a_dims, const Dims& b_dims) {
  OCTET_CHECK(!a_dims.empty() && !b_dims.empty(), "MatMul: operands must have rank >= 1, got ", to_string(a_dims),
              " and ", to_string(b_dims));
  // Promote 1-D operands to matrices; the promoted 1 is dropped from Y by matmul_output_dims.
  const Dims a2 = a_dims.size() == 1 ? Dims{1, a_dims[0]} : a_dims;
  const Dims b2 = b_dims.size() == 1 ? Dims{b_dims[0], 1} : b_dims;
  MatMulLayout layout;
  layout.m = a2[a2.size() - 2];
  layout.k = a2.back();
  layout.n = b2.back();
  OCTET_CHECK(b2[b2.size() - 2] == layout.k, "MatMul: inner dimensions differ: ", to_string(a_dims), " x ",
              to_string(b_dims));
  const Dims a_batch(a2.begin(), a2.end() - 2);
  const Dims b_batch(b2.begin(), b2.end() - 2);
  layout.batch_dims = broadcast_shape(a_batch, b_batch, "MatMul batch dimensions");
  // Strides of whole matrices: a batch step of A moves m*k elements.
  layout.a_batch_strides = broadcast_strides(a_batch, layout.batch_dims);
  for (int64_t& s : layout.a_batch_strides) s *= layout.m * layout.k;
  layout.b_batch_strides = broadcast_strides(b_batch, layout.batch_dims);
  for (int64_t& s : layout.b_batch_strides) s *= layout.k * layout.n;
  return layout;
}

Dims matmul_output_dims(const Dims& a_dims, const Dims& b_dims) {
  const MatMulLayout layout = make_matmul_layout(a_dims, b_dims);
  Dims y = layout.batch_dims;
  if (a_dims.size() > 1) y.push_back(layout.m);
  if (b_dims.size() > 1) y.push_back(layout.n);
  return y;
}

void matmul_ref(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, const float* residual,
                const ActivationParams& activation, float* y) {
  const MatMulLayout layout = make_matmul_layout(a_dims, b_dims);
  const int64_t m = layout.m, n = layout.n, k = layout.k;
  for (int64_t batch = 0; batch < layout.batch_count(); ++batch) {
    const float* a_mat = a + layout.a_offset(batch);
    const float* b_mat = b + layout.b_offset(batch);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (int64_t p = 0; p < k; ++p) acc += a_mat[i * k + p] * b_mat[p * n + j];
        const int64_t out = (batch * m + i) * n + j;
        y[out] = finish_epilogue(acc, residual ? residual + out : nullptr, activation);
      }
    }
  }
}

}  // namespace octet::kernels
