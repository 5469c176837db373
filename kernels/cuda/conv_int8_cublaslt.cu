// kCublasLt: a 1x1 / stride 1 / unpadded / groups 1 INT8 convolution (or a Gemm) as one cuBLASLt INT8
// GEMM to int32, then octet's epilogue kernel. Contract: kernels/cuda/conv_int8_cuda.h.
//
// The GEMM. With M = N*OH*OW pixels (= N*H*W here), Cp = padded_channels(C) and K output channels:
//   x  NHWCp, row-major [M][Cp]  = column-major Cp x M, ld Cp   -> B, op N
//   w  [K][1][1][Cp], row-major [K][Cp] = column-major Cp x K, ld Cp -> A, op T
//   acc = A^T * B: column-major K x M, ld K = row-major int32 [M][K] in the workspace  -> D (and C, beta 0)
// This is the "TN" form cuBLASLt's integer tensor-core kernels take (CUDA_R_8I inputs,
// CUBLAS_COMPUTE_32I, CUDA_R_32I alpha/beta and output). The pad channels of x and w are 0, so the
// sum over Cp equals the sum over C exactly. cuBLASLt wants leading dimensions that are multiples of
// 4 for INT8 (Cp always is; K must be), hence supports() requires K % 4 == 0.
// The epilogue. cuBLASLt's own epilogue cannot be made to round as quantize/qscheme.h fixes (scale,
// bias, residual, activation, true-division quantize), so a small kernel reads acc[pixel][k] and calls
// store_int8_conv_output per element (store_int8_pad for k in [K, Kp), none when K % 4 == 0): the
// result equals conv2d_int8_ref bit for bit because the int32 sums are exact.
//
// Workspace (conv_int8_cublaslt_workspace_bytes): [ int32 acc M*K, rounded up to 256 bytes ]
// [ kLtWorkspaceBytes = 32 MiB for cuBLASLt itself, NVIDIA's recommendation for Hopper (split-K and
// stream-K algorithms need it) ].
//
// Algorithm choice: cublasLtMatmulAlgoGetHeuristic's first answer, asked once per (device, M, K, Cp,
// operand alignments) and kept with its descriptors in a mutex-guarded map, so a call after the
// first is one cublasLtMatmul and one kernel launch.
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "engine/error.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/int8_epilogue.cuh"
#include "kernels/int8_layout.h"

namespace octet::kernels {
namespace {

constexpr size_t kLtWorkspaceBytes = size_t{32} << 20;
constexpr size_t kWorkspaceAlignment = 256;
constexpr int64_t kMaxIndex = (int64_t{1} << 31) - 1;

// ---- Epilogue kernel ------------------------------------------------------------------------------

// One thread per output element (pixel, k < Kp), channel fastest: reads of acc and int8 NHWCp stores
// are both contiguous across a warp.
// One thread per four channels of a pixel (supports() requires K % 4 == 0, so Kp == K and acc rows
// are whole quads): one 16-byte accumulator load, one 4-byte residual load and one 4-byte store.
__global__ void cublaslt_int8_epilogue_kernel(const int32_t* __restrict__ acc, const Int8OutputView out,
                                              int32_t pixels) {
  const int32_t quads = out.k / 4;
  const int64_t total = static_cast<int64_t>(pixels) * quads;  // < 2^31, but idx + stride may not be
  with_activation(out.epilogue.activation.kind, [&](auto kind) {
    constexpr Activation kKind = decltype(kind)::value;
    for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
         idx += int64_t{gridDim.x} * blockDim.x) {
      const int32_t pixel = static_cast<int32_t>(idx / quads);
      const int32_t k0 = static_cast<int32_t>(idx - static_cast<int64_t>(pixel) * quads) * 4;
      const int4 a = *reinterpret_cast<const int4*>(acc + static_cast<int64_t>(pixel) * out.k + k0);
      const int32_t quad[4] = {a.x, a.y, a.z, a.w};
      if (out.epilogue.output_int8) {
        store_int8_conv_output_vec<4, kKind>(out, pixel, k0, quad);
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) store_int8_conv_output_as<kKind>(out, pixel, k0 + i, quad[i]);
      }
    }
  });
}

void launch_epilogue(const int32_t* acc, const Int8ConvCudaArgs& args, int32_t pixels, cudaStream_t stream) {
  const Int8OutputView view = make_int8_output_view(args);
  constexpr int kThreads = 256;
  const int64_t total = static_cast<int64_t>(pixels) * (view.k / 4);
  // Enough blocks to fill any current GPU several times over; the loop strides over the rest.
  const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, int64_t{1} << 16);
  cublaslt_int8_epilogue_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(acc, view, pixels);
  OCTET_CUDA_CHECK_LAUNCH("cublaslt_int8_epilogue_kernel");
}

// ---- cuBLASLt plans ---------------------------------------------------------------------------------

struct LtDescDeleter {
  void operator()(cublasLtMatmulDescOpaque_t* d) const { cublasLtMatmulDescDestroy(d); }
};
struct LtLayoutDeleter {
  void operator()(cublasLtMatrixLayoutOpaque_t* l) const { cublasLtMatrixLayoutDestroy(l); }
};
struct LtPreferenceDeleter {
  void operator()(cublasLtMatmulPreferenceOpaque_t* p) const { cublasLtMatmulPreferenceDestroy(p); }
};
using LtDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, LtDescDeleter>;
using LtLayout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, LtLayoutDeleter>;
using LtPreference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, LtPreferenceDeleter>;

// What the algorithm choice depends on. Alignments are of the actual pointers (capped at 256, the
// heuristic's default assumption), so an algorithm needing more is never picked for less.
struct LtGemmKey {
  int device = 0;
  int64_t m = 0, k = 0, cp = 0;
  uint32_t align_x = 0, align_w = 0;
  bool operator<(const LtGemmKey& o) const {
    return std::tie(device, m, k, cp, align_x, align_w) < std::tie(o.device, o.m, o.k, o.cp, o.align_x, o.align_w);
  }
};

struct LtGemmPlan {
  LtDesc desc;
  LtLayout a, b, d;  // w (Cp x K), x (Cp x M), acc (K x M), column-major
  cublasLtMatmulAlgo_t algo{};
};

// Throws octet::Error naming the GEMM and the failed call.
void check_lt(cublasStatus_t status, const char* call, const LtGemmKey& key) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(detail::concat("cublaslt INT8 GEMM (pixels M=", key.m, ", output channels K=", key.k,
                             ", padded input channels Cp=", key.cp, "): ", call, " failed: ",
                             cublasGetStatusName(status), " (", cublasGetStatusString(status), ")"));
}

uint32_t pointer_alignment(const void* p) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 1;
  while (alignment < kWorkspaceAlignment && address % (alignment * 2) == 0) alignment *= 2;
  return alignment;
}

LtLayout make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, const LtGemmKey& key) {
  cublasLtMatrixLayout_t layout = nullptr;
  check_lt(cublasLtMatrixLayoutCreate(&layout, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld),
           "cublasLtMatrixLayoutCreate", key);
  return LtLayout(layout);
}

std::unique_ptr<LtGemmPlan> make_plan(cublasLtHandle_t lt, const LtGemmKey& key) {
  auto plan = std::make_unique<LtGemmPlan>();
  cublasLtMatmulDesc_t desc = nullptr;
  check_lt(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32I, CUDA_R_32I), "cublasLtMatmulDescCreate", key);
  plan->desc.reset(desc);
  const cublasOperation_t transpose = CUBLAS_OP_T;
  check_lt(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)),
           "cublasLtMatmulDescSetAttribute(TRANSA)", key);
  plan->a = make_layout(CUDA_R_8I, key.cp, key.k, key.cp, key);
  plan->b = make_layout(CUDA_R_8I, key.cp, key.m, key.cp, key);
  plan->d = make_layout(CUDA_R_32I, key.k, key.m, key.k, key);

  cublasLtMatmulPreference_t raw_preference = nullptr;
  check_lt(cublasLtMatmulPreferenceCreate(&raw_preference), "cublasLtMatmulPreferenceCreate", key);
  LtPreference preference(raw_preference);
  const uint64_t workspace = kLtWorkspaceBytes;
  check_lt(cublasLtMatmulPreferenceSetAttribute(raw_preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                                sizeof(workspace)),
           "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", key);
  const uint32_t align_d = kWorkspaceAlignment;
  check_lt(cublasLtMatmulPreferenceSetAttribute(raw_preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                &key.align_w, sizeof(key.align_w)),
           "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_A_BYTES)", key);
  check_lt(cublasLtMatmulPreferenceSetAttribute(raw_preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                &key.align_x, sizeof(key.align_x)),
           "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_B_BYTES)", key);
  check_lt(cublasLtMatmulPreferenceSetAttribute(raw_preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_d,
                                                sizeof(align_d)),
           "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_C_BYTES)", key);
  check_lt(cublasLtMatmulPreferenceSetAttribute(raw_preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d,
                                                sizeof(align_d)),
           "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_D_BYTES)", key);

  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  check_lt(cublasLtMatmulAlgoGetHeuristic(lt, desc, plan->a.get(), plan->b.get(), plan->d.get(), plan->d.get(),
                                          raw_preference, 1, &result, &found),
           "cublasLtMatmulAlgoGetHeuristic", key);
  if (found == 0)
    OCTET_UNSUPPORTED("cublaslt INT8 GEMM (M=", key.m, ", K=", key.k, ", Cp=", key.cp,
                      "): cublasLtMatmulAlgoGetHeuristic found no algorithm");
  check_lt(result.state, "cublasLtMatmulAlgoGetHeuristic (result state)", key);
  plan->algo = result.algo;
  return plan;
}

// The cached plan for `key`, made on first use. Plans live until the process ends (a few per model).
const LtGemmPlan& plan_for(cublasLtHandle_t lt, const LtGemmKey& key) {
  static std::mutex mutex;
  static std::map<LtGemmKey, std::unique_ptr<LtGemmPlan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, make_plan(lt, key)).first;
  return *it->second;
}

size_t accumulator_bytes(const Conv2dShape& shape) {
  const size_t bytes = static_cast<size_t>(shape.n * shape.oh * shape.ow * shape.k) * sizeof(int32_t);
  return (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment;
}

}  // namespace

bool conv_int8_cublaslt_supports(const Conv2dShape& shape) {
  const bool pointwise = shape.r == 1 && shape.s == 1 && shape.stride_h == 1 && shape.stride_w == 1 &&
                         shape.pad_top == 0 && shape.pad_left == 0 && shape.dilation_h == 1 &&
                         shape.dilation_w == 1 && shape.oh == shape.h && shape.ow == shape.w;
  if (!pointwise || shape.groups != 1) return false;
  if (padded_channels(shape.c) % 4 != 0 || shape.k % 4 != 0) return false;  // INT8 leading dimensions
  // 32-bit indices in the epilogue (int8_epilogue.cuh).
  return shape.n * shape.oh * shape.ow * padded_channels(shape.k) <= kMaxIndex &&
         shape.n * shape.k * shape.oh * shape.ow <= kMaxIndex;
}

size_t conv_int8_cublaslt_workspace_bytes(const Conv2dShape& shape) {
  return accumulator_bytes(shape) + kLtWorkspaceBytes;
}

void conv_int8_cublaslt(const Int8ConvCudaArgs& args, cublasLtHandle_t lt, cudaStream_t stream) {
  const Conv2dShape& shape = args.shape;
  if (!conv_int8_cublaslt_supports(shape))
    OCTET_UNSUPPORTED("cublaslt INT8 convolution: needs a 1x1, stride 1, unpadded, groups 1 convolution with a "
                      "multiple of 4 output channels");
  OCTET_CHECK(lt != nullptr, "cublaslt INT8 convolution: no cuBLASLt handle was given");
  OCTET_CHECK(args.workspace != nullptr && reinterpret_cast<uintptr_t>(args.workspace) % kWorkspaceAlignment == 0,
              "cublaslt INT8 convolution: the workspace must be a 256-byte aligned device buffer of ",
              conv_int8_cublaslt_workspace_bytes(shape), " bytes");
  LtGemmKey key;
  OCTET_CUDA_CHECK(cudaGetDevice(&key.device));
  key.m = shape.n * shape.oh * shape.ow;
  key.k = shape.k;
  key.cp = padded_channels(shape.c);
  key.align_x = pointer_alignment(args.x);
  key.align_w = pointer_alignment(args.w);
  if (key.m == 0 || key.k == 0) return;

  const LtGemmPlan& plan = plan_for(lt, key);
  int32_t* acc = static_cast<int32_t*>(args.workspace);
  void* lt_workspace = static_cast<char*>(args.workspace) + accumulator_bytes(shape);
  const int32_t alpha = 1, beta = 0;
  check_lt(cublasLtMatmul(lt, plan.desc.get(), &alpha, args.w, plan.a.get(), args.x, plan.b.get(), &beta, acc,
                          plan.d.get(), acc, plan.d.get(), &plan.algo, lt_workspace, kLtWorkspaceBytes, stream),
           "cublasLtMatmul", key);
  launch_epilogue(acc, args, static_cast<int32_t>(key.m), stream);
}

}  // namespace octet::kernels
