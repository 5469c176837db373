// INT8 convolution and GEMM on the GPU with the fused epilogue (kernels/int8_conv.h for the contract,
// quantize/qscheme.h for the math, kernels/int8_layout.h for the layouts). Three tactics, each in its
// own file, each equal to kernels/cpu/int8_ref.h's conv2d_int8_ref bit for bit:
//   kDp4a        conv_int8_dp4a.cu      implicit GEMM, __dp4a on 4-channel words; every shape (groups,
//                                       dilation, odd channel counts).
//   kTensorCore  conv_int8_mma.cu       implicit GEMM on mma.sync.m16n8k32 s8 (sm_80+), cp.async
//                                       pipelined tiles; groups == 1.
//   kWgmma       conv_int8_wgmma.cu     implicit GEMM on wgmma.mma_async m64nNk32 s8 (sm_90a: H100,
//                                       H200), cp.async pipelined 128-byte swizzled tiles; groups == 1.
//   kCublasLt    conv_int8_cublaslt.cu  1x1 / stride 1 / no padding / groups 1 convolutions and GEMMs:
//                                       cuBLASLt INT8 GEMM to int32 in the workspace, then octet's
//                                       epilogue kernel (cuBLASLt's own epilogue cannot be made to
//                                       round as qscheme.h fixes).
// Layouts (device pointers): x NHWCp [N, H, W, Cp]; w [K][R][S][Cgp]; out int8 NHWCp [N, OH, OW, Kp]
// with zeros in the pad channels, or float NCHW [N, K, OH, OW] (INT8-in/FP32-out); residual_int8 NHWCp
// like an int8 out, residual_f32 NCHW like a float out. out must not overlap x or the residual.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/int8_conv.h"
#include "kernels/shapes.h"

namespace octet::kernels {

// In the order of kInt8TacticNames (kernels/int8_tactic_names.h).
enum class Int8Tactic : uint8_t { kDp4a, kTensorCore, kCublasLt, kWgmma };
constexpr Int8Tactic kAllInt8Tactics[] = {Int8Tactic::kDp4a, Int8Tactic::kTensorCore, Int8Tactic::kCublasLt,
                                          Int8Tactic::kWgmma};
const char* to_string(Int8Tactic tactic);  // "dp4a" | "tensorcore" | "cublaslt" | "wgmma"

struct Int8ConvCudaArgs {
  Conv2dShape shape;
  const int8_t* x = nullptr;
  const int8_t* w = nullptr;
  Int8ConvEpilogue epilogue;  // device pointers
  void* out = nullptr;
  void* workspace = nullptr;  // conv_int8_cuda_workspace_bytes(tactic, shape) bytes, 256-byte aligned
};

// Whether `tactic` implements `shape` on the current device (kTensorCore: sm_80+; kWgmma: sm_90).
bool conv_int8_cuda_supports(Int8Tactic tactic, const Conv2dShape& shape);
size_t conv_int8_cuda_workspace_bytes(Int8Tactic tactic, const Conv2dShape& shape);
// Launches on `stream`; `lt` is used by kCublasLt only (may be null otherwise). Throws
// UnsupportedError when the tactic does not support the shape.
void conv_int8_cuda(Int8Tactic tactic, const Int8ConvCudaArgs& args, cublasLtHandle_t lt, cudaStream_t stream);

// The per-tactic entry points behind conv_int8_cuda (one per file named above).
bool conv_int8_dp4a_supports(const Conv2dShape& shape);
void conv_int8_dp4a(const Int8ConvCudaArgs& args, cudaStream_t stream);
bool conv_int8_mma_supports(const Conv2dShape& shape);
void conv_int8_mma(const Int8ConvCudaArgs& args, cudaStream_t stream);
bool conv_int8_wgmma_supports(const Conv2dShape& shape);
void conv_int8_wgmma(const Int8ConvCudaArgs& args, cudaStream_t stream);
bool conv_int8_cublaslt_supports(const Conv2dShape& shape);
size_t conv_int8_cublaslt_workspace_bytes(const Conv2dShape& shape);
void conv_int8_cublaslt(const Int8ConvCudaArgs& args, cublasLtHandle_t lt, cudaStream_t stream);

}  // namespace octet::kernels
