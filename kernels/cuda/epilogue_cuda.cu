// The Conv/Gemm/MatMul epilogue: bias, full-shape addend, residual, activation in one pass.
//
// Memory-bound: per output element one accumulator read, optional addend/residual reads, one write
// (the bias is [channels] and stays in L1/L2). Each thread step covers kVec consecutive elements of
// one (outer, channel) row, 16-byte accesses when inner % 4 == 0 and the pointers are aligned, which
// holds for the planned buffers of every conv whose OH*OW is a multiple of 4.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/epilogue_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

template <int kVec>
struct VecOf;
template <>
struct VecOf<1> {
  using type = float;
  static __device__ __forceinline__ float& at(float& v, int) { return v; }
};
template <>
struct VecOf<4> {
  using type = float4;
  static __device__ __forceinline__ float& at(float4& v, int j) {
    return j == 0 ? v.x : (j == 1 ? v.y : (j == 2 ? v.z : v.w));
  }
};

// y [outer, channels, inner] viewed in steps of kVec; acc in y's layout (kChannelMajor = false) or
// [channels, outer, inner] (kChannelMajor = true).
template <Activation kKind, int kVec, bool kChannelMajor>
__global__ void epilogue_kernel(const float* acc, float* y, uint32_t n_vec, FastDivmod inner_vec, FastDivmod channels,
                                uint32_t outer, EpilogueArgs args) {
  static_assert(kVec == 1 || kVec == 4, "epilogue_kernel moves 1 or 4 floats per step");
  using V = VecOf<kVec>;
  using Vec = typename V::type;
  const Vec* accv = reinterpret_cast<const Vec*>(acc);
  const Vec* addv = reinterpret_cast<const Vec*>(args.addend);
  const Vec* resv = reinterpret_cast<const Vec*>(args.residual);
  Vec* yv = reinterpret_cast<Vec*>(y);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n_vec; i += gridDim.x * blockDim.x) {
    uint32_t row, p, o, c;
    inner_vec.divmod(i, row, p);  // row = o * channels + c
    channels.divmod(row, o, c);
    const uint32_t src = kChannelMajor ? (c * outer + o) * inner_vec.divisor + p : i;
    Vec t = accv[src];
    const float b = args.bias != nullptr ? args.bias_scale * args.bias[c] : 0.0f;
    Vec add, res;
    if (args.addend != nullptr) add = addv[i];
    if (args.residual != nullptr) res = resv[i];
#pragma unroll
    for (int j = 0; j < kVec; ++j) {
      float& v = V::at(t, j);
      if (args.bias != nullptr) v = v + b;
      if (args.addend != nullptr) v = v + args.addend_scale * V::at(add, j);
      if (args.residual != nullptr) v = v + V::at(res, j);
      v = activate<kKind>(args.activation, v);
    }
    yv[i] = t;
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <bool kChannelMajor>
void launch_epilogue(const float* acc, float* y, int64_t outer, int64_t channels, int64_t inner,
                     const EpilogueArgs& args, cudaStream_t stream) {
  const int64_t total = outer * channels * inner;
  if (total == 0) return;
  check_index_range(total, "conv/gemm epilogue");
  const bool vec4 =
      inner % 4 == 0 && aligned16(acc) && aligned16(y) && aligned16(args.addend) && aligned16(args.residual);
  dispatch_activation(args.activation.kind, [&](auto kind) {
    constexpr Activation kKind = decltype(kind)::value;
    if (vec4) {
      const int64_t n_vec = total / 4;
      epilogue_kernel<kKind, 4, kChannelMajor><<<grid_for(n_vec), kThreadsPerBlock, 0, stream>>>(
          acc, y, static_cast<uint32_t>(n_vec), FastDivmod(inner / 4), FastDivmod(channels),
          static_cast<uint32_t>(outer), args);
      OCTET_CUDA_CHECK_LAUNCH("epilogue_kernel<float4>");
    } else {
      epilogue_kernel<kKind, 1, kChannelMajor>
          <<<grid_for(total), kThreadsPerBlock, 0, stream>>>(acc, y, static_cast<uint32_t>(total), FastDivmod(inner),
                                                             FastDivmod(channels), static_cast<uint32_t>(outer), args);
      OCTET_CUDA_CHECK_LAUNCH("epilogue_kernel<float>");
    }
  });
}

}  // namespace
}  // namespace gpu

void epilogue_cuda(const float* acc, float* y, int64_t outer, int64_t channels, int64_t inner, const EpilogueArgs& args,
                   cudaStream_t stream) {
  gpu::launch_epilogue<false>(acc, y, outer, channels, inner, args, stream);
}

void epilogue_channel_major_cuda(const float* acc, float* y, int64_t outer, int64_t channels, int64_t inner,
                                 const EpilogueArgs& args, cudaStream_t stream) {
  gpu::launch_epilogue<true>(acc, y, outer, channels, inner, args, stream);
}

}  // namespace octet::kernels
