// Convolution, CPU fast path (float32, NCHW, KCRS): im2col + sgemm, multi-threaded.
//
// Computes what conv2d_ref (kernels/cpu/conv_ref.h) defines, choosing one of three methods:
//   kDirect1x1:  1x1 kernel, stride 1, no padding: x[n] already is the [C, H*W] column matrix, so
//                per image and group  y[n][g] (Kg x HW) = W_g (Kg x Cg) * x[n][g] (Cg x HW).
//   kDepthwise:  one input channel per group (C / groups = 1, groups > 1): per output row, each
//                tap (r, s) adds its products to a row of accumulators (a contiguous loop that
//                vectorizes), taps in the reference's order, planes in parallel. An sgemm with one
//                row per group would spend its time in call overhead; this one is bit-identical to
//                the reference (every output sums the same terms in the same order).
//   kIm2col:     everything else. A chunk of `batch_chunk` images is unrolled into
//                  col[(c*R + r)*S + s][i*OH*OW + oh*OW + ow] = x[n0+i][c][ih][iw]  (0 in the padding)
//                (rows of group g are contiguous), then per group one sgemm over the whole chunk:
//                  out[g*Kg + k][j] = sum_row W_g[k][row] * col[g*Cg*R*S + row][j]
//                With batch_chunk = 1, out is y itself; otherwise a workspace the epilogue scatters
//                from into NCHW.
// The epilogue (bias, residual, activation: kernels/cpu/epilogue.h) runs in the same pass that reads
// the sgemm result, parallel over output planes.
//
// Threads: im2col and the epilogue run on `threads` threads (kernels/cpu/parallel.h); the sgemm
// (kernels/cpu/sgemm.h) is one call over the whole chunk per group and runs on OpenBLAS's own
// threads, whose count the CPU backend sets with blas_set_threads (or, without OpenBLAS, on
// `threads` threads of octet's blocked sgemm). The phases never overlap, so at most
// max(threads, BLAS threads) cores are busy.
//
// Accuracy: each output is the same dot product as the reference, summed in the sgemm's order (and
// possibly with fused multiply-adds), so |y - y_ref| <= 2 * gamma_{K+3} * (sum |x*w| + |bias| +
// |residual|) with K = C/groups * R * S and gamma_n = n*u / (1 - n*u), u = 2^-24, for activations
// that are 1-Lipschitz (the derivation is in tests/kernels/test_cpu_fast_path.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/shapes.h"

namespace octet::kernels {

// The default budget of the im2col workspace: 8 Mi floats (32 MiB). A chunk holds as many images
// as fit (at least one).
constexpr size_t kIm2colWorkspaceBudgetFloats = size_t{8} << 20;

struct Conv2dIm2colPlan {
  enum class Method : uint8_t { kDirect1x1, kDepthwise, kIm2col };
  Method method = Method::kIm2col;
  int64_t batch_chunk = 1;      // images per sgemm call (kIm2col)
  size_t workspace_floats = 0;  // what conv2d_im2col needs in `workspace`
  bool k_ordered = false;       // kDirect1x1, kIm2col: sgemm_blocked instead of the provider
};

const char* conv_method_name(Conv2dIm2colPlan::Method method);

// A budget smaller than one image's columns and result (0, say) gives batch_chunk = 1: every
// sgemm then has one image's shape whatever N is, and each image's outputs are bit-identical
// whatever the batch (BackendOptions::batch_invariant). kDirect1x1 and kDepthwise have that
// property anyway: the first runs one sgemm per image and group, the second loops per image.
//
// k_ordered: the products run through sgemm_blocked (kernels/cpu/sgemm.h), which sums every output in
// k order, (c, r, s), one rounding per product and per sum: conv2d_ref's order (zero-padding terms
// added as 0 * w leave a sum unchanged) and the CUDA backend's with BackendOptions::reproducible
// (kernels/cuda/gemm_ordered_cuda.h), so the two backends give the same bits. kDepthwise already
// sums in that order.
Conv2dIm2colPlan plan_conv2d_im2col(const Conv2dShape& shape,
                                    size_t workspace_budget_floats = kIm2colWorkspaceBudgetFloats,
                                    bool k_ordered = false);

// workspace: at least plan.workspace_floats floats (may be null when that is 0). bias, residual:
// optional (null). y must not alias x, w, bias or residual.
void conv2d_im2col(const Conv2dIm2colPlan& plan, const Conv2dShape& shape, const float* x, const float* w,
                   const float* bias, const float* residual, const ActivationParams& activation, float* y,
                   float* workspace, int threads);

}  // namespace octet::kernels
