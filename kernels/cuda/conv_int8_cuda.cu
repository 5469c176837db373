// The tactic dispatch of kernels/cuda/conv_int8_cuda.h.
#include "kernels/cuda/conv_int8_cuda.h"

#include <iterator>

#include "engine/error.h"
#include "kernels/int8_tactic_names.h"

namespace octet::kernels {

static_assert(std::size(kInt8TacticNames) == std::size(kAllInt8Tactics), "one name per tactic");

const char* to_string(Int8Tactic tactic) {
  const auto index = static_cast<size_t>(tactic);
  return index < std::size(kInt8TacticNames) ? kInt8TacticNames[index] : "?";
}

bool conv_int8_cuda_supports(Int8Tactic tactic, const Conv2dShape& shape) {
  switch (tactic) {
    case Int8Tactic::kDp4a: return conv_int8_dp4a_supports(shape);
    case Int8Tactic::kTensorCore: return conv_int8_mma_supports(shape);
    case Int8Tactic::kCublasLt: return conv_int8_cublaslt_supports(shape);
    case Int8Tactic::kWgmma: return conv_int8_wgmma_supports(shape);
  }
  return false;
}

size_t conv_int8_cuda_workspace_bytes(Int8Tactic tactic, const Conv2dShape& shape) {
  return tactic == Int8Tactic::kCublasLt ? conv_int8_cublaslt_workspace_bytes(shape) : 0;
}

void conv_int8_cuda(Int8Tactic tactic, const Int8ConvCudaArgs& args, cublasLtHandle_t lt, cudaStream_t stream) {
  if (!conv_int8_cuda_supports(tactic, args.shape))
    OCTET_UNSUPPORTED(std::string("INT8 tactic ") + to_string(tactic) + " does not implement this convolution shape");
  switch (tactic) {
    case Int8Tactic::kDp4a: conv_int8_dp4a(args, stream); return;
    case Int8Tactic::kTensorCore: conv_int8_mma(args, stream); return;
    case Int8Tactic::kCublasLt: conv_int8_cublaslt(args, lt, stream); return;
    case Int8Tactic::kWgmma: conv_int8_wgmma(args, stream); return;
  }
}

}  // namespace octet::kernels
