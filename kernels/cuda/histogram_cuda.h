// Calibration observers on the GPU: the running statistics and |x| histogram of
// calibration/histogram.h, accumulated in device memory from activations that stay on the device.
// The CPU reference is kernels/cpu/histogram_ref.h; results are identical bit for bit (counts are
// integers; min/max/absmax are selections under the total orders stated there, so any reduction
// order gives the same float).
//
//   tensor_stats_cuda: folds x[0..n) into *stats (count, NaN count, min/max/absmax over non-NaN).
//   histogram_cuda:    counts[histogram_bin(x[i], inv_width)] += 1 for every non-NaN x[i], the very
//                      function of calibration/histogram.h compiled for the device (no FMA: .cu files
//                      here build with --fmad=false, and the bin is one multiply and a compare).
//
// Device layout of the statistics: min and max as float_order_key()s, absmax as the bit pattern of
// |x|, so each is one 32-bit atomicMin/atomicMax per block; the counts are 64-bit.
// Every launcher enqueues on `stream` (never the default stream), checks the launch and returns
// without synchronizing; pointers are device pointers (x needs no particular alignment). Any n >= 0
// is accepted: launches are split into pieces the 32-bit kernel indices cover.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "calibration/histogram.h"
#include "kernels/cpu/histogram_ref.h"  // float_order_key and friends, shared with the reference

namespace octet::kernels {

struct TensorStatsCuda {
  uint32_t min_key;      // float_order_key(min)
  uint32_t max_key;      // float_order_key(max)
  uint32_t absmax_bits;  // bits of absmax
  uint32_t unused;
  unsigned long long count;
  unsigned long long nan_count;
};

// Sets stats[0..entries) to the empty statistics (TensorStats{}: min +inf, max -inf, absmax 0).
void tensor_stats_reset_cuda(TensorStatsCuda* stats, int64_t entries, cudaStream_t stream);

void tensor_stats_cuda(const float* x, int64_t n, TensorStatsCuda* stats, cudaStream_t stream);

// `counts`: kHistogramBins entries, added to (clear them with cudaMemsetAsync to start).
void histogram_cuda(const float* x, int64_t n, float inv_width, uint64_t* counts, cudaStream_t stream);

// Host side: the statistics a TensorStatsCuda copied back from the device holds.
inline TensorStats to_tensor_stats(const TensorStatsCuda& s) {
  TensorStats stats;
  stats.min = float_from_order_key(s.min_key);
  stats.max = float_from_order_key(s.max_key);
  stats.absmax = float_from_bits(s.absmax_bits);
  stats.count = s.count;
  stats.nan_count = s.nan_count;
  return stats;
}

}  // namespace octet::kernels
