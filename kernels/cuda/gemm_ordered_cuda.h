// The FP32 matrix product whose every output is summed in one fixed order, the CPU's
// (kernels/cpu/sgemm.h sgemm_blocked, kernels/cpu/gemm_ref.h):
//   Y[b][i][j] = alpha * (((0 + A'[i][0] * B'[0][j]) + A'[i][1] * B'[1][j]) + ... + A'[i][K-1] * B'[K-1][j])
// A' = op(A[b]), B' = op(B[b]); each product and each sum rounded on its own (no fused multiply-add:
// kernels/cuda is compiled with --fmad=false), alpha applied last. An output's bits then depend on
// its row of A' and its column of B' only: not on M, N, the batch, the tiling, the device or the
// backend, so the CPU and the GPU agree bit for bit (BackendOptions::reproducible) and a sample's
// outputs do not change with the batch (BackendOptions::batch_invariant).
//
// The kernel tiles Y in 64 x 64 blocks over 256 threads (4 x 4 outputs each) and walks K in slices of
// 16 staged in shared memory; the slices go in increasing order and a thread adds its products in
// order within one, which is the order above. Past K both tiles hold zeros: their product +0 leaves a
// sum unchanged (a sum that starts at +0 is never -0). About a tenth of cuBLAS's FP32 speed, for the
// layers that ask for reproducible sums.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace octet::kernels {

// Row-major operands, leading dimensions in elements: A is [M, K] (lda >= K), or [K, M] (lda >= M)
// when trans_a; B is [K, N] (ldb >= N), or [N, K] (ldb >= K) when trans_b; Y is [M, N] (ldy >= N).
// batch >= 1 products, operand b at a + b * stride_a, ... (a stride may be 0: the operand is shared).
struct OrderedGemm {
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  bool trans_a = false;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  bool trans_b = false;
  float* y = nullptr;
  int64_t ldy = 0, stride_y = 0;
  int64_t batch = 1;
};

// Enqueued on `stream`; the launch is checked. Throws UnsupportedError when M, N or K exceeds 2^31 - 1.
void gemm_ordered_cuda(const OrderedGemm& g, cudaStream_t stream);

}  // namespace octet::kernels
