// 2-D convolution on the GPU, FP32 NCHW, with the fused epilogue (engine/graph.h ConvAttrs):
//   y[n][k][oh][ow] = act( sum_{c in group(k), r, s} x[n][c][ih][iw] * w[k][c - c0][r][s]  + bias[k]
//                          (+ residual[n][k][oh][ow]) ),   ih = oh*sh - pt + r*dh, iw = ow*sw - pl + s*dw
// (geometry from kernels/shapes.h Conv2dShape; the epilogue as in epilogue_cuda.h).
//
// Three algorithms, chosen per shape by plan_conv2d_cuda:
//   kDepthwiseDirect  one input channel per group (C/group == 1; depthwise when K == C): a direct
//                     kernel with the epilogue fused. im2col + GEMM would multiply with an inner
//                     dimension of R*S (9), far from anything a GEMM is efficient at.
//   kGemm1x1          1x1, stride 1, no padding (and OH*OW >= gemm1x1_min_pixels, see
//                     plan_conv2d_cuda): x[n] is already the GEMM operand. One cuBLAS
//                     strided-batched SGEMM per group over the images (weights with stride 0),
//                     written into y, then the epilogue in place.
//   kIm2colGemm       everything else. For a chunk of `images_per_chunk` images, im2col writes
//                     col[(c*R + r)*S + s][n*P + p] (P = OH*OW; all images side by side), one SGEMM
//                     (strided-batched over groups) computes acc[k][n*P + p] = W[k] . col[:, n*P + p]
//                     into the workspace, and the epilogue moves acc to y[n][k][p] with bias,
//                     residual and activation in the same pass. Putting the images side by side
//                     keeps the GEMM's M dimension large where OH*OW is small (49 at ResNet-50's last
//                     stage), which per-image GEMMs would fill poorly.
// Batch-invariant plans (plan_conv2d_cuda's batch_invariant, BackendOptions::batch_invariant): every
// image gets the same operations with the same shapes and operand alignments, so its outputs have
// the same bits whatever N and its position. kDepthwiseDirect already is (one thread sums one
// output in a fixed order); every other shape, 1x1 included, runs kIm2colGemm with one image per
// chunk, and the GEMM always reads col and writes acc in the workspace (256-byte aligned) rather
// than y[n], whose alignment varies with n and could change the kernel cuBLAS picks. cuBLAS gives
// the same bits for the same call (shape, operand alignment, math mode) on one device with the
// workspace set by the owner and the default CUBLAS_ATOMICS_NOT_ALLOWED, which the backend keeps.
// Reproducible plans (k_ordered, BackendOptions::reproducible): the GEMM of kIm2colGemm (1x1
// included) is the k-ordered one of gemm_ordered_cuda.h, which sums every output over (c, r, s) in
// order, one rounding per product and per sum, as the CPU does with sgemm_blocked
// (kernels/cpu/conv_im2col.h k_ordered); the epilogue then adds bias and residual in conv2d_ref's
// order, so CPU and GPU give the same bits. kDepthwiseDirect sums that way in every plan. Such
// plans may still put several images in a chunk: the k-ordered sums do not depend on it.
// The GEMMs run through cuBLAS in column-major terms: row-major [K, CRS] weights are a column-major
// CRS x K matrix, row-major [CRS, M] columns a column-major M x CRS matrix, so
//   acc (column-major M x K) = col (M x CRS) * W (CRS x K)      — no transposes.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/shapes.h"

namespace octet::kernels {

enum class ConvAlgoCuda : uint8_t { kDepthwiseDirect, kGemm1x1, kIm2colGemm };
const char* to_string(ConvAlgoCuda algo);

struct ConvPlanCuda {
  ConvAlgoCuda algo = ConvAlgoCuda::kIm2colGemm;
  int64_t images_per_chunk = 0;  // kIm2colGemm: images processed per im2col + GEMM round
  bool batch_invariant = false;  // kIm2colGemm: one image per chunk, the GEMM result always in acc
  bool k_ordered = false;        // kIm2colGemm: the k-ordered GEMM (gemm_ordered_cuda.h), not cuBLAS
  size_t workspace_bytes = 0;    // device workspace conv2d_cuda needs (0 for the other algorithms)
};

// Picks the algorithm for `shape` and, for kIm2colGemm, the largest chunk of images whose columns
// and GEMM result fit in workspace_limit_bytes (always at least one image, so the workspace may
// exceed the limit when a single image needs more). A 1x1 convolution with fewer than
// gemm1x1_min_pixels output pixels (OH*OW) goes through kIm2colGemm instead of kGemm1x1: its "im2col"
// is a copy of x into [C, images*P], which costs one pass over x but turns per-image GEMMs with a
// small M (49 at 7x7) into one GEMM with M = images*P. 0 keeps every 1x1 on kGemm1x1. Throws
// UnsupportedError for shapes the kernels cannot index (more than 2^31 - 1 elements in one chunk).
// batch_invariant: a batch-invariant plan (see above); the workspace limit and gemm1x1_min_pixels
// are then not used. k_ordered: a reproducible plan (see above); 1x1 convolutions run kIm2colGemm.
ConvPlanCuda plan_conv2d_cuda(const Conv2dShape& shape, size_t workspace_limit_bytes, int64_t gemm1x1_min_pixels = 0,
                              bool batch_invariant = false, bool k_ordered = false);

struct ConvEpilogueCuda {
  const float* bias = nullptr;      // [K], nullptr when the node has none
  const float* residual = nullptr;  // [N, K, OH, OW], nullptr when not fused
  ActivationParams activation;
};

// Runs the convolution. x [N, C, H, W], w [K, C/group, R, S], y [N, K, OH, OW] (must not overlap x or
// the residual); workspace: plan.workspace_bytes of device memory, 256-byte aligned. `cublas` must be
// bound to `stream` (cublasSetStream) with its workspace set by the owner; conv2d_cuda never rebinds it.
void conv2d_cuda(const Conv2dShape& shape, const ConvPlanCuda& plan, const float* x, const float* w,
                 const ConvEpilogueCuda& epilogue, float* y, float* workspace, cublasHandle_t cublas,
                 cudaStream_t stream);

}  // namespace octet::kernels
