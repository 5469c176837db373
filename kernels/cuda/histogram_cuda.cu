// Calibration statistics and |x| histograms on the GPU. Contracts in histogram_cuda.h.
//
// Both kernels are memory-bound grid-stride loops that read each element once (16-byte loads when x
// is 16-byte aligned, then the n % 4 tail element by element).
//   stats:     each thread folds its elements into (min key, max key, absmax bits, NaN count);
//              warp shuffles and a shared array reduce the block; one thread applies the block's
//              result with 32-bit atomicMin/atomicMax and 64-bit atomicAdd.
//   histogram: one 2048-bin sub-histogram of 32-bit counters per block in shared memory (8 KiB),
//              filled with shared atomics, then added into the global 64-bit counts (one atomicAdd
//              per non-empty bin). Bin 0 is counted in a register per thread and added once: after
//              a ReLU most values are exactly 0, and a warp whose lanes all hit one shared address
//              would serialise on it. A launch covers < 2^31 elements, so a block's 32-bit counters
//              cannot overflow.
// The grid is capped at a few blocks per multiprocessor: enough to keep the loads in flight, few
// enough that the flush of the sub-histograms stays small next to the pass over the data.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/histogram_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

constexpr int kStatsThreads = 256;
constexpr int kHistogramThreads = 512;
constexpr int kBlocksPerMultiprocessor = 4;
static_assert(kStatsThreads % 32 == 0 && kStatsThreads <= 1024, "whole warps, at most 32 of them");
static_assert(kHistogramThreads * kBlocksPerMultiprocessor <= 2048, "the blocks of one SM fit its 2048 threads");
static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "the histogram counts are 64-bit");

// Applies `visit` to x[0..n) over the grid, with 16-byte loads when kVec == 4.
template <int kVec, typename Visit>
__device__ __forceinline__ void for_each_element(const float* __restrict__ x, uint32_t n, Visit&& visit) {
  static_assert(kVec == 1 || kVec == 4, "1 or 4 floats per load");
  const uint32_t stride = gridDim.x * blockDim.x;
  const uint32_t start = blockIdx.x * blockDim.x + threadIdx.x;
  uint32_t done = 0;
  if constexpr (kVec == 4) {
    const float4* xv = reinterpret_cast<const float4*>(x);
    const uint32_t n_vec = n / 4;
    for (uint32_t i = start; i < n_vec; i += stride) {
      const float4 v = xv[i];
      visit(v.x);
      visit(v.y);
      visit(v.z);
      visit(v.w);
    }
    done = n_vec * 4;
  }
  for (uint32_t i = done + start; i < n; i += stride) visit(x[i]);
}

// ---- statistics ----------------------------------------------------------------------------------

// Trivially constructible (it lives in shared memory); start from identity().
struct StatsPartial {
  uint32_t min_key;
  uint32_t max_key;
  uint32_t absmax_bits;
  uint32_t nans;

  // min_key above every non-NaN key and max_key below them all: the identities of min and max.
  __device__ static StatsPartial identity() { return StatsPartial{0xffffffffu, 0u, 0u, 0u}; }

  __device__ void fold(float v) {
    if (isnan(v)) {
      ++nans;
      return;
    }
    const uint32_t key = float_order_key(v);
    min_key = min(min_key, key);
    max_key = max(max_key, key);
    absmax_bits = max(absmax_bits, abs_bits(v));
  }
  __device__ void fold(const StatsPartial& o) {
    min_key = min(min_key, o.min_key);
    max_key = max(max_key, o.max_key);
    absmax_bits = max(absmax_bits, o.absmax_bits);
    nans += o.nans;
  }
};

__device__ __forceinline__ StatsPartial warp_reduce(StatsPartial p) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    StatsPartial other;
    other.min_key = __shfl_xor_sync(0xffffffffu, p.min_key, offset);
    other.max_key = __shfl_xor_sync(0xffffffffu, p.max_key, offset);
    other.absmax_bits = __shfl_xor_sync(0xffffffffu, p.absmax_bits, offset);
    other.nans = __shfl_xor_sync(0xffffffffu, p.nans, offset);
    p.fold(other);
  }
  return p;
}

template <int kVec>
__global__ void __launch_bounds__(kStatsThreads)
    tensor_stats_kernel(const float* __restrict__ x, uint32_t n, TensorStatsCuda* __restrict__ stats) {
  constexpr int kWarps = kStatsThreads / 32;
  __shared__ StatsPartial warp_partials[kWarps];
  StatsPartial p = StatsPartial::identity();
  for_each_element<kVec>(x, n, [&](float v) { p.fold(v); });
  p = warp_reduce(p);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_partials[warp] = p;
  __syncthreads();
  if (warp != 0) return;
  p = lane < kWarps ? warp_partials[lane] : StatsPartial::identity();
  p = warp_reduce(p);
  if (lane != 0) return;
  atomicMin(&stats->min_key, p.min_key);
  atomicMax(&stats->max_key, p.max_key);
  atomicMax(&stats->absmax_bits, p.absmax_bits);
  if (p.nans != 0) atomicAdd(&stats->nan_count, static_cast<unsigned long long>(p.nans));
  if (blockIdx.x == 0) atomicAdd(&stats->count, static_cast<unsigned long long>(n));
}

__global__ void tensor_stats_reset_kernel(TensorStatsCuda* stats, uint32_t entries) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < entries; i += gridDim.x * blockDim.x) {
    TensorStatsCuda s;
    s.min_key = float_order_key(INFINITY);
    s.max_key = float_order_key(-INFINITY);
    s.absmax_bits = 0;
    s.unused = 0;
    s.count = 0;
    s.nan_count = 0;
    stats[i] = s;
  }
}

// ---- histogram -----------------------------------------------------------------------------------

template <int kVec>
__global__ void __launch_bounds__(kHistogramThreads)
    histogram_kernel(const float* __restrict__ x, uint32_t n, float inv_width,
                     unsigned long long* __restrict__ counts) {
  __shared__ uint32_t local[kHistogramBins];
  for (int b = threadIdx.x; b < kHistogramBins; b += kHistogramThreads) local[b] = 0;
  __syncthreads();
  uint32_t first_bin = 0;
  for_each_element<kVec>(x, n, [&](float v) {
    if (isnan(v)) return;
    const int bin = histogram_bin(v, inv_width);
    if (bin == 0) {
      ++first_bin;
    } else {
      atomicAdd(&local[bin], 1u);
    }
  });
  if (first_bin != 0) atomicAdd(&local[0], first_bin);
  __syncthreads();
  for (int b = threadIdx.x; b < kHistogramBins; b += kHistogramThreads)
    if (local[b] != 0) atomicAdd(&counts[b], static_cast<unsigned long long>(local[b]));
}

// ---- launchers -----------------------------------------------------------------------------------

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Blocks for `n` elements read `vec` at a time by `threads` per block, at most kBlocksPerMultiprocessor
// per multiprocessor of the current device.
unsigned blocks_for(int64_t n, int vec, int threads) {
  int device = 0, multiprocessors = 0;
  OCTET_CUDA_CHECK(cudaGetDevice(&device));
  OCTET_CUDA_CHECK(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
  const unsigned needed = grid_for((n + vec - 1) / vec, threads);
  const unsigned cap = static_cast<unsigned>(multiprocessors * kBlocksPerMultiprocessor);
  return needed < cap ? needed : cap;
}

void launch_tensor_stats(const float* x, int64_t n, TensorStatsCuda* stats, cudaStream_t stream) {
  if (aligned16(x)) {
    tensor_stats_kernel<4>
        <<<blocks_for(n, 4, kStatsThreads), kStatsThreads, 0, stream>>>(x, static_cast<uint32_t>(n), stats);
    OCTET_CUDA_CHECK_LAUNCH("tensor_stats_kernel<float4>");
  } else {
    tensor_stats_kernel<1>
        <<<blocks_for(n, 1, kStatsThreads), kStatsThreads, 0, stream>>>(x, static_cast<uint32_t>(n), stats);
    OCTET_CUDA_CHECK_LAUNCH("tensor_stats_kernel<float>");
  }
}

void launch_histogram(const float* x, int64_t n, float inv_width, uint64_t* counts, cudaStream_t stream) {
  auto* out = reinterpret_cast<unsigned long long*>(counts);
  if (aligned16(x)) {
    histogram_kernel<4><<<blocks_for(n, 4, kHistogramThreads), kHistogramThreads, 0, stream>>>(
        x, static_cast<uint32_t>(n), inv_width, out);
    OCTET_CUDA_CHECK_LAUNCH("histogram_kernel<float4>");
  } else {
    histogram_kernel<1><<<blocks_for(n, 1, kHistogramThreads), kHistogramThreads, 0, stream>>>(
        x, static_cast<uint32_t>(n), inv_width, out);
    OCTET_CUDA_CHECK_LAUNCH("histogram_kernel<float>");
  }
}

// Calls launch(piece, elements) over x[0..n) in pieces below 2^31 elements. Pieces are a multiple
// of 4 elements long, so a 16-byte aligned x stays aligned in every piece.
template <typename Launch>
void for_each_piece(const float* x, int64_t n, Launch&& launch) {
  constexpr int64_t kPiece = kMaxIndex / 4 * 4;
  for (int64_t offset = 0; offset < n; offset += kPiece) launch(x + offset, n - offset < kPiece ? n - offset : kPiece);
}

}  // namespace
}  // namespace gpu

void tensor_stats_reset_cuda(TensorStatsCuda* stats, int64_t entries, cudaStream_t stream) {
  OCTET_CHECK(entries >= 0, "tensor_stats_reset_cuda: ", entries, " entries");
  if (entries == 0) return;
  gpu::check_index_range(entries, "tensor_stats_reset_cuda");
  gpu::tensor_stats_reset_kernel<<<gpu::grid_for(entries), gpu::kThreadsPerBlock, 0, stream>>>(
      stats, static_cast<uint32_t>(entries));
  OCTET_CUDA_CHECK_LAUNCH("tensor_stats_reset_kernel");
}

void tensor_stats_cuda(const float* x, int64_t n, TensorStatsCuda* stats, cudaStream_t stream) {
  OCTET_CHECK(n >= 0, "tensor_stats_cuda: ", n, " elements");
  gpu::for_each_piece(
      x, n, [&](const float* piece, int64_t count) { gpu::launch_tensor_stats(piece, count, stats, stream); });
}

void histogram_cuda(const float* x, int64_t n, float inv_width, uint64_t* counts, cudaStream_t stream) {
  OCTET_CHECK(n >= 0, "histogram_cuda: ", n, " elements");
  gpu::for_each_piece(
      x, n, [&](const float* piece, int64_t count) { gpu::launch_histogram(piece, count, inv_width, counts, stream); });
}

}  // namespace octet::kernels
