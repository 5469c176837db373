// Device-side helpers shared by the kernels in kernels/cuda (included by .cu files only).
//
// Index arithmetic: the elementwise, pooling and layout kernels turn a linear index into
// coordinates. A 32-bit integer division costs ~20 instructions on the GPU, enough to make a
// memory-bound kernel issue-bound, so divisors that are fixed per launch are replaced by a
// multiply-high and a shift (Granlund & Montgomery 1994, as in PyTorch's IntDivider):
//   shift = ceil(log2 d),  magic = floor(2^32 * (2^shift - d) / d) + 1,
//   n / d = (umulhi(n, magic) + n) >> shift            exact for 0 <= n < 2^31, 1 <= d < 2^31.
// Every launcher therefore checks that its index space stays below 2^31 elements
// (check_index_range); larger tensors (> 8 GiB of float32) are reported as unsupported.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/error.h"
#include "kernels/activation.h"

namespace octet::kernels::gpu {

constexpr int64_t kMaxIndex = (int64_t{1} << 31) - 1;

inline void check_index_range(int64_t elements, const char* what) {
  if (elements > kMaxIndex)
    OCTET_UNSUPPORTED(what, ": ", elements, " elements exceed the 2^31 - 1 the CUDA kernels index");
}

struct FastDivmod {
  uint32_t divisor = 1;
  uint32_t magic = 1;
  uint32_t shift = 0;

  FastDivmod() = default;
  explicit FastDivmod(int64_t d) {
    OCTET_CHECK(d >= 1 && d <= kMaxIndex, "FastDivmod: divisor ", d, " out of range");
    divisor = static_cast<uint32_t>(d);
    while ((int64_t{1} << shift) < d) ++shift;
    const uint64_t one = 1;
    magic = static_cast<uint32_t>(((one << 32) * ((one << shift) - divisor)) / divisor + 1);
  }

  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
  __device__ __forceinline__ void divmod(uint32_t n, uint32_t& quotient, uint32_t& remainder) const {
    quotient = div(n);
    remainder = n - quotient * divisor;
  }
};

// Blocks for a grid-stride loop over `work` items: enough to fill the device several times over,
// never more than the work needs.
constexpr int kThreadsPerBlock = 256;
inline unsigned grid_for(int64_t work, int threads = kThreadsPerBlock) {
  const int64_t blocks = (work + threads - 1) / threads;
  constexpr int64_t kMaxBlocks = int64_t{1} << 20;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

// apply_activation with the kind fixed at compile time: the switch in kernels/activation.h folds
// away, so a templated kernel's inner loop holds only the selected expression.
template <Activation kKind>
__device__ __forceinline__ float activate(ActivationParams params, float x) {
  params.kind = kKind;
  return apply_activation(params, x);
}

// Calls launch(std::integral_constant<Activation, kind>{}) for the run-time activation kind, so a
// generic lambda can instantiate a kernel template: [&](auto act) { kernel<decltype(act)::value>...; }
template <typename Launch>
void dispatch_activation(Activation kind, Launch&& launch) {
  using A = Activation;
  switch (kind) {
    case A::kNone: return launch(std::integral_constant<A, A::kNone>{});
    case A::kRelu: return launch(std::integral_constant<A, A::kRelu>{});
    case A::kClip: return launch(std::integral_constant<A, A::kClip>{});
    case A::kLeakyRelu: return launch(std::integral_constant<A, A::kLeakyRelu>{});
    case A::kSigmoid: return launch(std::integral_constant<A, A::kSigmoid>{});
    case A::kHardSigmoid: return launch(std::integral_constant<A, A::kHardSigmoid>{});
    case A::kHardSwish: return launch(std::integral_constant<A, A::kHardSwish>{});
    case A::kXSigmoid: return launch(std::integral_constant<A, A::kXSigmoid>{});
    case A::kXHardSigmoid: return launch(std::integral_constant<A, A::kXHardSigmoid>{});
    case A::kGelu: return launch(std::integral_constant<A, A::kGelu>{});
    case A::kXClipDiv: return launch(std::integral_constant<A, A::kXClipDiv>{});
  }
  OCTET_CHECK(false, "unknown activation kind ", static_cast<int>(kind));
}

}  // namespace octet::kernels::gpu
