// Gemm and MatMul through cuBLAS SGEMM, or the k-ordered GEMM when batch-invariant (contracts in
// gemm_cuda.h). The additive terms and the activation run in epilogue_cuda.cu.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/epilogue_cuda.h"
#include "kernels/cuda/gemm_cuda.h"
#include "kernels/cuda/gemm_ordered_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace {

int to_blas_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) OCTET_UNSUPPORTED("GEMM: ", what, " = ", v, " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

// Row-major Y [M, N] (ld N) = alpha * op(A) * op(B), computed as column-major Y^T = op(B)^T op(A)^T.
// lda/ldb are the row lengths of A and B as stored. batch > 1: strided over the three operands.
// batch_invariant: the k-ordered GEMM (gemm_ordered_cuda.h) instead of cuBLAS.
void sgemm_row_major(cublasHandle_t cublas, cudaStream_t stream, bool batch_invariant, bool trans_a, bool trans_b,
                     int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, int64_t stride_a,
                     const float* b, int64_t ldb, int64_t stride_b, float* y, int64_t stride_y, int64_t batch) {
  if (batch_invariant) {
    OrderedGemm g;
    g.m = m, g.n = n, g.k = k, g.alpha = alpha;
    g.a = a, g.lda = lda, g.stride_a = stride_a, g.trans_a = trans_a;
    g.b = b, g.ldb = ldb, g.stride_b = stride_b, g.trans_b = trans_b;
    g.y = y, g.ldy = n, g.stride_y = stride_y, g.batch = batch;
    gemm_ordered_cuda(g, stream);
    return;
  }
  const float zero = 0.0f;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int im = to_blas_int(m, "M"), in = to_blas_int(n, "N"), ik = to_blas_int(k, "K");
  // BLAS wants leading dimensions >= 1 even for an empty inner dimension (K = 0, where Y = 0).
  const int ilda = to_blas_int(std::max<int64_t>(lda, 1), "lda"), ildb = to_blas_int(std::max<int64_t>(ldb, 1), "ldb");
  if (batch == 1) {
    OCTET_CUBLAS_CHECK(cublasSgemm(cublas, op_b, op_a, in, im, ik, &alpha, b, ildb, a, ilda, &zero, y, in));
  } else {
    OCTET_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas, op_b, op_a, in, im, ik, &alpha, b, ildb, stride_b, a, ilda,
                                                 stride_a, &zero, y, in, stride_y, to_blas_int(batch, "batch")));
  }
}

}  // namespace

void gemm_cuda(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
               float beta, const float* c, const Dims& c_dims, const float* residual,
               const ActivationParams& activation, float* y, cublasHandle_t cublas, cudaStream_t stream,
               bool batch_invariant) {
  if (m == 0 || n == 0) return;
  sgemm_row_major(cublas, stream, batch_invariant, trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, 0, b,
                  trans_b ? k : n, 0, y, 0, 1);

  // The epilogue views Y as [outer, channels, inner] so that C's broadcast becomes a per-channel bias.
  EpilogueArgs args;
  args.residual = residual;
  args.activation = activation;
  int64_t outer = 1, channels = 1, inner = m * n;
  if (c != nullptr && beta != 0.0f) {
    OCTET_CHECK(c_dims.size() <= 2, "Gemm: C ", to_string(c_dims), " has more than 2 dimensions");
    const int64_t c_rows = c_dims.size() == 2 ? c_dims[0] : 1;
    const int64_t c_cols = c_dims.empty() ? 1 : c_dims.back();
    if (c_rows == 1 && c_cols == 1) {  // scalar: one "channel" spanning all of Y
      args.bias = c;
    } else if (c_rows == 1 && c_cols == n) {  // a row, added to every row of Y
      args.bias = c;
      outer = m;
      channels = n;
      inner = 1;
    } else if (c_rows == m && c_cols == 1) {  // a column, added to every column of Y
      args.bias = c;
      channels = m;
      inner = n;
    } else {
      OCTET_CHECK(c_rows == m && c_cols == n, "Gemm: C ", to_string(c_dims), " does not broadcast to [", m, ", ", n,
                  "]");
      args.addend = c;
      args.addend_scale = beta;
    }
    args.bias_scale = beta;
  }
  if (!args.is_identity()) epilogue_cuda(y, y, outer, channels, inner, args, stream);
}

void matmul_cuda(const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y, const Dims& y_dims,
                 const float* bias, const float* residual, const ActivationParams& activation, cublasHandle_t cublas,
                 cudaStream_t stream, bool batch_invariant) {
  OCTET_CHECK(!a_dims.empty() && !b_dims.empty(), "MatMul: scalar operands ", to_string(a_dims), " and ",
              to_string(b_dims));
  // Promote 1-D operands: a [K] -> [1, K], b [K] -> [K, 1].
  Dims am = a_dims, bm = b_dims;
  if (am.size() == 1) am.insert(am.begin(), 1);
  if (bm.size() == 1) bm.push_back(1);
  const int64_t m = am[am.size() - 2], k = am.back(), n = bm.back();
  OCTET_CHECK(bm[bm.size() - 2] == k, "MatMul: ", to_string(a_dims), " @ ", to_string(b_dims),
              ": inner dimensions differ");
  const Dims a_batch(am.begin(), am.end() - 2), b_batch(bm.begin(), bm.end() - 2);
  const int64_t batch = numel(y_dims) / std::max<int64_t>(m * n, 1);
  const int64_t a_volume = numel(a_batch), b_volume = numel(b_batch);
  if (m == 0 || n == 0 || batch == 0) return;

  if (b_volume == 1) {
    // b shared by every batch entry: a's batch rows stack into one [batch * M, K] operand.
    OCTET_CHECK(a_volume == batch, "MatMul: batch of ", to_string(a_dims), " does not give ", to_string(y_dims));
    sgemm_row_major(cublas, stream, batch_invariant, false, false, batch * m, n, k, 1.0f, a, k, 0, b, n, 0, y, 0, 1);
  } else if ((a_volume == batch || a_volume == 1) && b_volume == batch) {
    sgemm_row_major(cublas, stream, batch_invariant, false, false, m, n, k, 1.0f, a, k, a_volume == 1 ? 0 : m * k, b,
                    n, k * n, y, m * n, batch);
  } else {
    // Mixed broadcasting (e.g. [2, 1, M, K] @ [1, 3, K, N]): one GEMM per batch entry, the operand
    // offsets from broadcast strides over y's batch dims.
    const size_t rank = std::max(a_batch.size(), b_batch.size());
    auto right_align = [rank](const Dims& dims) {
      Dims padded(rank - dims.size(), 1);
      padded.insert(padded.end(), dims.begin(), dims.end());
      return padded;
    };
    const Dims a_pad = right_align(a_batch), b_pad = right_align(b_batch);
    Dims y_batch(rank);
    for (size_t d = 0; d < rank; ++d) {
      OCTET_CHECK(a_pad[d] == b_pad[d] || a_pad[d] == 1 || b_pad[d] == 1, "MatMul: batch dims of ", to_string(a_dims),
                  " and ", to_string(b_dims), " do not broadcast");
      y_batch[d] = std::max(a_pad[d], b_pad[d]);
    }
    OCTET_CHECK(numel(y_batch) == batch, "MatMul: batch of ", to_string(a_dims), " @ ", to_string(b_dims),
                " does not give ", to_string(y_dims));
    auto batch_strides = [rank](const Dims& padded, int64_t matrix) {
      Dims strides(rank, 0);
      int64_t s = matrix;
      for (size_t d = rank; d-- > 0;) {
        strides[d] = padded[d] == 1 ? 0 : s;
        s *= padded[d];
      }
      return strides;
    };
    const Dims sa = batch_strides(a_pad, m * k), sb = batch_strides(b_pad, k * n);
    for (int64_t i = 0; i < batch; ++i) {
      int64_t rest = i, offset_a = 0, offset_b = 0;
      for (size_t d = rank; d-- > 0;) {
        const int64_t coord = rest % y_batch[d];
        rest /= y_batch[d];
        offset_a += coord * sa[d];
        offset_b += coord * sb[d];
      }
      sgemm_row_major(cublas, stream, batch_invariant, false, false, m, n, k, 1.0f, a + offset_a, k, 0, b + offset_b, n,
                      0, y + i * m * n, 0, 1);
    }
  }

  EpilogueArgs args;
  args.bias = bias;
  args.residual = residual;
  args.activation = activation;
  if (!args.is_identity())
    epilogue_cuda(y, y, batch * m, bias != nullptr ? n : 1, bias != nullptr ? 1 : n, args, stream);
}

}  // namespace octet::kernels
