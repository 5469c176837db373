// 2-D convolution: im2col + cuBLAS SGEMM, 1x1 through cuBLAS directly, and a direct kernel for one
// input channel per group. Contracts and the algorithm choice are in conv_cuda.h.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/epilogue_cuda.h"
#include "kernels/cuda/gemm_ordered_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"

namespace octet::kernels {
namespace gpu {
namespace {

// ---- im2col --------------------------------------------------------------------------------------

struct Im2colGeometry {
  uint32_t rows;     // C * R * S
  uint32_t columns;  // images * OH * OW
  uint32_t h, w, chw, oh, ow;
  int32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  FastDivmod s_div, r_div;   // row -> (c, r, s)
  FastDivmod p_div, ow_div;  // column -> (n, oh, ow)
};

// x [images, C, H, W] -> col [C*R*S, images*OH*OW]. A block row (blockIdx.y) is one (c, r, s), decoded
// once; threads walk its columns kVec at a time (one coordinate decode, then stepping ow with carry
// into oh and n, and one 16-byte store when kVec == 4), so the writes are contiguous and the reads of
// a row are x's pixels at stride `stride_w`.
template <int kVec>
__global__ void im2col_kernel(const float* __restrict__ x, float* __restrict__ col, Im2colGeometry g) {
  static_assert(kVec == 1 || kVec == 4, "im2col_kernel writes 1 or 4 floats per step");
  using Vec = std::conditional_t<kVec == 4, float4, float>;
  const uint32_t steps = g.columns / kVec;
  for (uint32_t row = blockIdx.y; row < g.rows; row += gridDim.y) {
    uint32_t cr, s, c, r;
    g.s_div.divmod(row, cr, s);
    g.r_div.divmod(cr, c, r);
    const int32_t ih_offset = static_cast<int32_t>(r) * g.dilation_h - g.pad_top;
    const int32_t iw_offset = static_cast<int32_t>(s) * g.dilation_w - g.pad_left;
    const float* xc = x + static_cast<size_t>(c) * g.h * g.w;
    Vec* col_row = reinterpret_cast<Vec*>(col + static_cast<size_t>(row) * g.columns);
    for (uint32_t step = blockIdx.x * blockDim.x + threadIdx.x; step < steps; step += gridDim.x * blockDim.x) {
      uint32_t n, p, oh, ow;
      g.p_div.divmod(step * kVec, n, p);
      g.ow_div.divmod(p, oh, ow);
      float v[kVec];
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        const int32_t ih = static_cast<int32_t>(oh) * g.stride_h + ih_offset;
        const int32_t iw = static_cast<int32_t>(ow) * g.stride_w + iw_offset;
        v[e] =
            static_cast<uint32_t>(ih) < g.h && static_cast<uint32_t>(iw) < g.w ? xc[n * g.chw + ih * g.w + iw] : 0.0f;
        if (++ow == g.ow) {
          ow = 0;
          if (++oh == g.oh) {
            oh = 0;
            ++n;
          }
        }
      }
      if constexpr (kVec == 4) {
        col_row[step] = make_float4(v[0], v[1], v[2], v[3]);
      } else {
        col_row[step] = v[0];
      }
    }
  }
}

void launch_im2col(const Conv2dShape& s, int64_t images, const float* x, float* col, cudaStream_t stream) {
  Im2colGeometry g;
  g.rows = static_cast<uint32_t>(s.c * s.r * s.s);
  g.columns = static_cast<uint32_t>(images * s.oh * s.ow);
  g.h = static_cast<uint32_t>(s.h);
  g.w = static_cast<uint32_t>(s.w);
  g.chw = static_cast<uint32_t>(s.c * s.h * s.w);
  g.oh = static_cast<uint32_t>(s.oh);
  g.ow = static_cast<uint32_t>(s.ow);
  g.stride_h = static_cast<int32_t>(s.stride_h);
  g.stride_w = static_cast<int32_t>(s.stride_w);
  g.pad_top = static_cast<int32_t>(s.pad_top);
  g.pad_left = static_cast<int32_t>(s.pad_left);
  g.dilation_h = static_cast<int32_t>(s.dilation_h);
  g.dilation_w = static_cast<int32_t>(s.dilation_w);
  g.s_div = FastDivmod(s.s);
  g.r_div = FastDivmod(s.r);
  g.p_div = FastDivmod(s.oh * s.ow);
  g.ow_div = FastDivmod(s.ow);
  // Rows of a multiple-of-4 length start 16-byte aligned (the workspace is 256-byte aligned).
  const bool vec4 = g.columns % 4 == 0;
  const uint32_t steps = vec4 ? g.columns / 4 : g.columns;
  // A block row per (c, r, s) up to gridDim.y's limit of 65535, and as many blocks along the columns
  // as keep the grid near 16K blocks (~15 waves of an H100); the grid-stride loops cover the rest.
  const unsigned grid_y = static_cast<unsigned>(std::min<int64_t>(g.rows, 65535));
  const unsigned grid_x = std::max(1u, std::min(grid_for(steps), (1u << 14) / grid_y));
  if (vec4) {
    im2col_kernel<4><<<dim3(grid_x, grid_y), kThreadsPerBlock, 0, stream>>>(x, col, g);
    OCTET_CUDA_CHECK_LAUNCH("im2col_kernel<float4>");
  } else {
    im2col_kernel<1><<<dim3(grid_x, grid_y), kThreadsPerBlock, 0, stream>>>(x, col, g);
    OCTET_CUDA_CHECK_LAUNCH("im2col_kernel<float>");
  }
}

// ---- direct convolution, one input channel per group ---------------------------------------------

struct DirectGeometry {
  uint32_t h, w, c, rs;
  int32_t r, s, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  FastDivmod ow_div, oh_div, k_div, k_per_group;
};

// y [N, K, OH, OW]: one thread per output element. Output channel k reads input channel
// k / (K / group) and its R x S filter w[k]; the sum runs r-major from 0, one rounding per product
// and per sum (conv2d_ref's order and arithmetic, so the CPU's bits).
template <Activation kKind>
__global__ void conv2d_direct_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                     uint32_t total, DirectGeometry g, ConvEpilogueCuda epilogue) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest, ow, oh, n, k;
    g.ow_div.divmod(i, rest, ow);
    g.oh_div.divmod(rest, rest, oh);
    g.k_div.divmod(rest, n, k);
    const uint32_t c = g.k_per_group.div(k);
    const float* xp = x + (static_cast<size_t>(n) * g.c + c) * g.h * g.w;
    const float* wp = w + static_cast<size_t>(k) * g.rs;
    const int32_t ih0 = static_cast<int32_t>(oh) * g.stride_h - g.pad_top;
    const int32_t iw0 = static_cast<int32_t>(ow) * g.stride_w - g.pad_left;
    float acc = 0.0f;
    for (int32_t r = 0; r < g.r; ++r) {
      const int32_t ih = ih0 + r * g.dilation_h;
      if (static_cast<uint32_t>(ih) >= g.h) continue;
      for (int32_t s = 0; s < g.s; ++s) {
        const int32_t iw = iw0 + s * g.dilation_w;
        if (static_cast<uint32_t>(iw) < g.w) acc = acc + xp[ih * g.w + iw] * wp[r * g.s + s];
      }
    }
    if (epilogue.bias != nullptr) acc = acc + epilogue.bias[k];
    if (epilogue.residual != nullptr) acc = acc + epilogue.residual[i];
    y[i] = activate<kKind>(epilogue.activation, acc);
  }
}

void launch_conv2d_direct(const Conv2dShape& s, const float* x, const float* w, const ConvEpilogueCuda& epilogue,
                          float* y, cudaStream_t stream) {
  DirectGeometry g;
  g.h = static_cast<uint32_t>(s.h);
  g.w = static_cast<uint32_t>(s.w);
  g.c = static_cast<uint32_t>(s.c);
  g.rs = static_cast<uint32_t>(s.r * s.s);
  g.r = static_cast<int32_t>(s.r);
  g.s = static_cast<int32_t>(s.s);
  g.stride_h = static_cast<int32_t>(s.stride_h);
  g.stride_w = static_cast<int32_t>(s.stride_w);
  g.pad_top = static_cast<int32_t>(s.pad_top);
  g.pad_left = static_cast<int32_t>(s.pad_left);
  g.dilation_h = static_cast<int32_t>(s.dilation_h);
  g.dilation_w = static_cast<int32_t>(s.dilation_w);
  g.ow_div = FastDivmod(s.ow);
  g.oh_div = FastDivmod(s.oh);
  g.k_div = FastDivmod(s.k);
  g.k_per_group = FastDivmod(s.k_per_group());
  const int64_t total = s.n * s.k * s.oh * s.ow;
  dispatch_activation(epilogue.activation.kind, [&](auto kind) {
    conv2d_direct_kernel<decltype(kind)::value>
        <<<grid_for(total), kThreadsPerBlock, 0, stream>>>(x, w, y, static_cast<uint32_t>(total), g, epilogue);
    OCTET_CUDA_CHECK_LAUNCH("conv2d_direct_kernel");
  });
}

// ---- cuBLAS --------------------------------------------------------------------------------------

int to_blas_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) OCTET_UNSUPPORTED("convolution GEMM: ", what, " = ", v, " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

constexpr float kOne = 1.0f;
constexpr float kZero = 0.0f;

// acc (column-major m x n, ld m) = A (m x k, ld m) * B (k x n, ld k), `batch` times with the given
// strides: through cuBLAS, or, k_ordered, through the k-ordered GEMM (gemm_ordered_cuda.h), for which
// the same memory is row-major acc^T (n x m) = B^T (n x k, ld k) * A^T (k x m, ld m).
void sgemm_nn_strided(cublasHandle_t cublas, cudaStream_t stream, bool k_ordered, int64_t m, int64_t n, int64_t k,
                      const float* a, int64_t stride_a, const float* b, int64_t stride_b, float* c, int64_t stride_c,
                      int64_t batch) {
  if (k_ordered) {
    OrderedGemm g;
    g.m = n, g.n = m, g.k = k;
    g.a = b, g.lda = k, g.stride_a = stride_b;
    g.b = a, g.ldb = m, g.stride_b = stride_a;
    g.y = c, g.ldy = m, g.stride_y = stride_c, g.batch = batch;
    gemm_ordered_cuda(g, stream);
    return;
  }
  const int im = to_blas_int(m, "M"), in = to_blas_int(n, "N"), ik = to_blas_int(k, "K");
  if (batch == 1) {
    OCTET_CUBLAS_CHECK(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, im, in, ik, &kOne, a, im, b, ik, &kZero, c, im));
  } else {
    OCTET_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas, CUBLAS_OP_N, CUBLAS_OP_N, im, in, ik, &kOne, a, im, stride_a,
                                                 b, ik, stride_b, &kZero, c, im, stride_c,
                                                 to_blas_int(batch, "batch")));
  }
}

EpilogueArgs epilogue_args(const ConvEpilogueCuda& e, const float* residual) {
  EpilogueArgs args;
  args.bias = e.bias;
  args.residual = residual;
  args.activation = e.activation;
  return args;
}

// 1x1, stride 1, unpadded: per group, acc[n] (column-major P x Kg) = x[n] (P x Cg) * W (Cg x Kg).
void conv2d_gemm1x1(const Conv2dShape& s, const float* x, const float* w, const ConvEpilogueCuda& e, float* y,
                    cublasHandle_t cublas, cudaStream_t stream) {
  const int64_t p = s.oh * s.ow, cg = s.c_per_group(), kg = s.k_per_group();
  for (int64_t g = 0; g < s.groups; ++g) {
    sgemm_nn_strided(cublas, stream, false, p, kg, cg, x + g * cg * p, s.c * p, w + g * kg * cg, 0, y + g * kg * p,
                     s.k * p, s.n);
  }
  const EpilogueArgs args = epilogue_args(e, e.residual);
  if (!args.is_identity()) epilogue_cuda(y, y, s.n, s.k, p, args, stream);
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

void conv2d_im2col_gemm(const Conv2dShape& s, const ConvPlanCuda& plan, const float* x, const float* w,
                        const ConvEpilogueCuda& e, float* y, float* workspace, cublasHandle_t cublas,
                        cudaStream_t stream) {
  const int64_t p = s.oh * s.ow, cg = s.c_per_group(), kg = s.k_per_group();
  const int64_t crs_g = cg * s.r * s.s;  // GEMM inner dimension per group
  float* col = workspace;
  float* acc = workspace + align256(static_cast<size_t>(plan.images_per_chunk * s.c * s.r * s.s * p) * sizeof(float)) /
                               sizeof(float);
  for (int64_t n0 = 0; n0 < s.n; n0 += plan.images_per_chunk) {
    const int64_t nc = std::min(plan.images_per_chunk, s.n - n0);
    const float* x_chunk = x + n0 * s.c * s.h * s.w;
    float* y_chunk = y + n0 * s.k * p;
    const float* residual_chunk = e.residual != nullptr ? e.residual + n0 * s.k * p : nullptr;
    launch_im2col(s, nc, x_chunk, col, stream);  // col [C*R*S, nc*P]
    // A single image's result [K, P] already is y's layout: multiply straight into y, except in a
    // batch-invariant plan, whose GEMM output must have the same alignment for every image.
    const bool into_y = nc == 1 && !plan.batch_invariant;
    float* gemm_out = into_y ? y_chunk : acc;
    const int64_t m = nc * p;
    sgemm_nn_strided(cublas, stream, plan.k_ordered, m, kg, crs_g, col, crs_g * m, w, kg * crs_g, gemm_out, kg * m,
                     s.groups);
    const EpilogueArgs args = epilogue_args(e, residual_chunk);
    if (into_y) {
      if (!args.is_identity()) epilogue_cuda(y_chunk, y_chunk, 1, s.k, p, args, stream);
    } else {
      epilogue_channel_major_cuda(acc, y_chunk, nc, s.k, p, args, stream);  // [K, nc, P] -> [nc, K, P]
    }
  }
}

}  // namespace
}  // namespace gpu

const char* to_string(ConvAlgoCuda algo) {
  switch (algo) {
    case ConvAlgoCuda::kDepthwiseDirect: return "direct (one input channel per group)";
    case ConvAlgoCuda::kGemm1x1: return "1x1 cuBLAS SGEMM";
    case ConvAlgoCuda::kIm2colGemm: return "im2col + SGEMM";
  }
  return "?";
}

ConvPlanCuda plan_conv2d_cuda(const Conv2dShape& s, size_t workspace_limit_bytes, int64_t gemm1x1_min_pixels,
                              bool batch_invariant, bool k_ordered) {
  using gpu::align256;
  using gpu::check_index_range;
  OCTET_CHECK(s.groups >= 1 && s.c % s.groups == 0 && s.k % s.groups == 0, "Conv: ", s.c, " input and ", s.k,
              " output channels do not split into ", s.groups, " groups");
  OCTET_CHECK(s.n >= 0 && s.h >= 1 && s.w >= 1 && s.oh >= 1 && s.ow >= 1 && s.r >= 1 && s.s >= 1 && s.stride_h >= 1 &&
                  s.stride_w >= 1 && s.dilation_h >= 1 && s.dilation_w >= 1,
              "Conv: degenerate geometry (input ", s.h, "x", s.w, ", output ", s.oh, "x", s.ow, ", kernel ", s.r, "x",
              s.s, ")");
  check_index_range(s.n * s.c * s.h * s.w, "Conv input");
  check_index_range(s.n * s.k * s.oh * s.ow, "Conv output");
  ConvPlanCuda plan;
  if (s.c_per_group() == 1) {
    plan.algo = ConvAlgoCuda::kDepthwiseDirect;
    return plan;
  }
  if (!batch_invariant && !k_ordered && s.r == 1 && s.s == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
      s.pad_left == 0 && s.oh == s.h && s.ow == s.w && s.oh * s.ow >= gemm1x1_min_pixels) {
    plan.algo = ConvAlgoCuda::kGemm1x1;
    return plan;
  }
  plan.algo = ConvAlgoCuda::kIm2colGemm;
  const int64_t p = s.oh * s.ow;
  const int64_t col_per_image = s.c * s.r * s.s * p;
  const int64_t acc_per_image = s.k * p;
  check_index_range(col_per_image, "Conv im2col columns of one image");
  const int64_t bytes_per_image = (col_per_image + acc_per_image) * static_cast<int64_t>(sizeof(float));
  int64_t fit = batch_invariant ? 1 : static_cast<int64_t>(workspace_limit_bytes) / bytes_per_image;
  fit = std::min({std::max<int64_t>(fit, 1), std::max<int64_t>(s.n, 1), gpu::kMaxIndex / col_per_image,
                  gpu::kMaxIndex / acc_per_image});
  // Same number of rounds, chunks as even as possible: the workspace shrinks, the last round is not a
  // sliver.
  const int64_t rounds = (std::max<int64_t>(s.n, 1) + fit - 1) / fit;
  plan.images_per_chunk = (std::max<int64_t>(s.n, 1) + rounds - 1) / rounds;
  plan.batch_invariant = batch_invariant;
  plan.k_ordered = k_ordered;
  plan.workspace_bytes = align256(static_cast<size_t>(plan.images_per_chunk * col_per_image) * sizeof(float)) +
                         align256(static_cast<size_t>(plan.images_per_chunk * acc_per_image) * sizeof(float));
  return plan;
}

void conv2d_cuda(const Conv2dShape& shape, const ConvPlanCuda& plan, const float* x, const float* w,
                 const ConvEpilogueCuda& epilogue, float* y, float* workspace, cublasHandle_t cublas,
                 cudaStream_t stream) {
  if (shape.n == 0) return;
  switch (plan.algo) {
    case ConvAlgoCuda::kDepthwiseDirect: return gpu::launch_conv2d_direct(shape, x, w, epilogue, y, stream);
    case ConvAlgoCuda::kGemm1x1: return gpu::conv2d_gemm1x1(shape, x, w, epilogue, y, cublas, stream);
    case ConvAlgoCuda::kIm2colGemm:
      OCTET_CHECK(workspace != nullptr && plan.images_per_chunk >= 1, "Conv: im2col plan without a workspace");
      return gpu::conv2d_im2col_gemm(shape, plan, x, w, epilogue, y, workspace, cublas, stream);
  }
}

}  // namespace octet::kernels
