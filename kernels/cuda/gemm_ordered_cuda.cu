// The k-ordered FP32 GEMM (contract in gemm_ordered_cuda.h): tile, launcher, entry point.
#include <algorithm>
#include <climits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_ordered_cuda.h"

namespace octet::kernels {
namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int kThreads = 256;
constexpr int kThreadRows = 16, kThreadColumns = 16;  // threads of a block as a 16 x 16 grid
constexpr int kPerThreadM = kTileM / kThreadRows, kPerThreadN = kTileN / kThreadColumns;
constexpr int kLoadsA = kTileM * kTileK / kThreads, kLoadsB = kTileK * kTileN / kThreads;
static_assert(kThreadRows * kThreadColumns == kThreads, "one thread per cell of the 16 x 16 grid");
static_assert(kTileM * kTileK % kThreads == 0 && kTileK * kTileN % kThreads == 0, "whole loads per thread");

// Block (blockIdx.x, blockIdx.y) computes Y[row0 .. row0 + 64)[col0 .. col0 + 64) of product
// blockIdx.z + batch0. Thread (ty, tx) owns rows row0 + ty + 16 i and columns col0 + tx + 16 j
// (i, j < 4), so in the inner loop the 16 threads of a row read one shared-memory row of B
// contiguously and broadcast one element of A.
__global__ void __launch_bounds__(kThreads) gemm_ordered_kernel(OrderedGemm g, int64_t batch0) {
  __shared__ float as[kTileK][kTileM];  // as[kk][r] = A'[row0 + r][k0 + kk]
  __shared__ float bs[kTileK][kTileN];  // bs[kk][c] = B'[k0 + kk][col0 + c]
  const int64_t batch = batch0 + blockIdx.z;
  const float* a = g.a + batch * g.stride_a;
  const float* b = g.b + batch * g.stride_b;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM, col0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const int tid = threadIdx.x, ty = tid / kThreadColumns, tx = tid % kThreadColumns;
  float acc[kPerThreadM][kPerThreadN] = {};
  for (int64_t k0 = 0; k0 < g.k; k0 += kTileK) {
#pragma unroll
    for (int l = 0; l < kLoadsA; ++l) {
      // Consecutive threads take consecutive addresses of A as stored.
      const int idx = tid + l * kThreads;
      const int r = g.trans_a ? idx % kTileM : idx / kTileK;
      const int kk = g.trans_a ? idx / kTileM : idx % kTileK;
      const int64_t row = row0 + r, p = k0 + kk;
      float v = 0.0f;
      if (row < g.m && p < g.k) v = g.trans_a ? a[p * g.lda + row] : a[row * g.lda + p];
      as[kk][r] = v;
    }
#pragma unroll
    for (int l = 0; l < kLoadsB; ++l) {
      const int idx = tid + l * kThreads;
      const int c = g.trans_b ? idx / kTileK : idx % kTileN;
      const int kk = g.trans_b ? idx % kTileK : idx / kTileN;
      const int64_t col = col0 + c, p = k0 + kk;
      float v = 0.0f;
      if (col < g.n && p < g.k) v = g.trans_b ? b[col * g.ldb + p] : b[p * g.ldb + col];
      bs[kk][c] = v;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a_frag[kPerThreadM], b_frag[kPerThreadN];
#pragma unroll
      for (int i = 0; i < kPerThreadM; ++i) a_frag[i] = as[kk][ty + i * kThreadRows];
#pragma unroll
      for (int j = 0; j < kPerThreadN; ++j) b_frag[j] = bs[kk][tx + j * kThreadColumns];
#pragma unroll
      for (int i = 0; i < kPerThreadM; ++i)
#pragma unroll
        for (int j = 0; j < kPerThreadN; ++j) acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(a_frag[i], b_frag[j]));
    }
    __syncthreads();
  }
  float* y = g.y + batch * g.stride_y;
#pragma unroll
  for (int i = 0; i < kPerThreadM; ++i) {
    const int64_t row = row0 + ty + i * kThreadRows;
#pragma unroll
    for (int j = 0; j < kPerThreadN; ++j) {
      const int64_t col = col0 + tx + j * kThreadColumns;
      if (row < g.m && col < g.n) y[row * g.ldy + col] = g.alpha * acc[i][j];
    }
  }
}

}  // namespace

void gemm_ordered_cuda(const OrderedGemm& g, cudaStream_t stream) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  for (int64_t extent : {g.m, g.n, g.k})
    if (extent < 0 || extent > INT_MAX) OCTET_UNSUPPORTED("ordered GEMM: extent ", extent, " exceeds 2^31 - 1");
  const dim3 tiles(static_cast<unsigned>((g.n + kTileN - 1) / kTileN), static_cast<unsigned>((g.m + kTileM - 1) / kTileM));
  OCTET_CHECK(tiles.y <= 65535u, "ordered GEMM: ", g.m, " rows exceed the grid");
  constexpr int64_t kMaxGridZ = 65535;
  for (int64_t batch0 = 0; batch0 < g.batch; batch0 += kMaxGridZ) {
    const dim3 grid(tiles.x, tiles.y, static_cast<unsigned>(std::min(kMaxGridZ, g.batch - batch0)));
    gemm_ordered_kernel<<<grid, kThreads, 0, stream>>>(g, batch0);
    OCTET_CUDA_CHECK_LAUNCH("gemm_ordered_kernel");
  }
}

}  // namespace octet::kernels
