#include "kernels/cpu/conv_im2col.h"

#include <algorithm>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/epilogue.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/sgemm.h"

namespace octet::kernels {

const char* conv_method_name(Conv2dIm2colPlan::Method method) {
  switch (method) {
    case Conv2dIm2colPlan::Method::kDirect1x1: return "direct-1x1";
    case Conv2dIm2colPlan::Method::kDepthwise: return "depthwise";
    case Conv2dIm2colPlan::Method::kIm2col: return "im2col";
  }
  return "?";
}

namespace {

// Enough elements per parallel chunk that starting a thread is worth it.
constexpr int64_t kMinElementsPerTask = 16384;

int64_t tasks_grain(int64_t elements_per_item) {
  return std::max<int64_t>(1, kMinElementsPerTask / std::max<int64_t>(1, elements_per_item));
}

// The sgemm result for output plane (image i of the chunk, channel k) starts at
// out + i * image_stride + k * channel_stride; writes y[n0 + i][k] = epilogue(result + bias[k]).
// When out is y itself (image_stride = K*OH*OW, channel_stride = OH*OW) this runs in place.
struct SgemmResult {
  const float* out;
  int64_t image_stride;
  int64_t channel_stride;
};

void finish_planes(const Conv2dShape& p, int64_t n0, int64_t images, const SgemmResult& result, const float* bias,
                   const float* residual, const ActivationParams& activation, float* y, int threads) {
  const int64_t plane = p.oh * p.ow;
  parallel_for(images * p.k, threads, tasks_grain(plane), [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / p.k;
      const int64_t k = item % p.k;
      const float* src = result.out + i * result.image_stride + k * result.channel_stride;
      const int64_t dst_offset = ((n0 + i) * p.k + k) * plane;
      float* dst = y + dst_offset;
      const float* res = residual ? residual + dst_offset : nullptr;
      for (int64_t j = 0; j < plane; ++j)
        dst[j] = finish_epilogue(bias ? src[j] + bias[k] : src[j], res ? res + j : nullptr, activation);
    }
  });
}

using SgemmFunction = decltype(&sgemm);

// The plan's matrix product: the provider's sgemm, or sgemm_blocked when every output must be summed
// in k order (Conv2dIm2colPlan::k_ordered).
SgemmFunction product_of(const Conv2dIm2colPlan& plan) { return plan.k_ordered ? sgemm_blocked : sgemm; }

void conv_direct_1x1(const Conv2dIm2colPlan& plan, const Conv2dShape& p, const float* x, const float* w,
                     const float* bias, const float* residual, const ActivationParams& activation, float* y,
                     int threads) {
  const SgemmFunction product = product_of(plan);
  const int64_t plane = p.h * p.w;
  const int64_t cg = p.c_per_group();
  const int64_t kg = p.k_per_group();
  for (int64_t n = 0; n < p.n; ++n) {
    for (int64_t g = 0; g < p.groups; ++g) {
      product(false, false, kg, plane, cg, 1.0f, w + g * kg * cg, cg, x + (n * p.c + g * cg) * plane, plane,
              y + (n * p.k + g * kg) * plane, plane, threads);
    }
  }
  finish_planes(p, 0, p.n, SgemmResult{y, p.k * plane, plane}, bias, residual, activation, y, threads);
}

// Smallest o >= 0 with o * stride >= offset, i.e. ceil(offset / stride) clamped at 0 (offset may be
// negative).
int64_t first_at_or_after(int64_t offset, int64_t stride) {
  return offset <= 0 ? 0 : (offset + stride - 1) / stride;
}

// Output channel k reads only input channel k / (K / groups). Per output row, each tap (r, s) adds
// its products to a row of accumulators over the output columns it reaches (a contiguous, branch-free
// loop), taps in the reference's order (r, then s): every output still sums its terms in the
// reference's order, skipping the same padded cells, so the result is bit-identical to conv2d_ref.
void conv_depthwise(const Conv2dShape& p, const float* x, const float* w, const float* bias, const float* residual,
                    const ActivationParams& activation, float* y, int threads) {
  const int64_t kg = p.k_per_group();
  parallel_for(p.n * p.k, threads, tasks_grain(p.oh * p.ow * p.r * p.s), [&](int64_t begin, int64_t end) {
    std::vector<float> acc(static_cast<size_t>(p.ow));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / p.k;
      const int64_t k = item % p.k;
      const float* x_plane = x + (n * p.c + k / kg) * p.h * p.w;
      const float* w_k = w + k * p.r * p.s;
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t r = 0; r < p.r; ++r) {
          const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
          if (ih < 0 || ih >= p.h) continue;
          const float* x_row = x_plane + ih * p.w;
          for (int64_t s = 0; s < p.s; ++s) {
            // Columns ow with 0 <= ow*stride_w - pad_left + s*dilation_w < W.
            const int64_t shift = s * p.dilation_w - p.pad_left;
            const int64_t ow_begin = first_at_or_after(-shift, p.stride_w);
            const int64_t ow_end = std::min(p.ow, first_at_or_after(p.w - shift, p.stride_w));
            const float tap = w_k[r * p.s + s];
            float* acc_row = acc.data();
            if (p.stride_w == 1) {  // contiguous input: the loop vectorizes
              const float* src = x_row + shift;
              for (int64_t ow = ow_begin; ow < ow_end; ++ow) acc_row[ow] += src[ow] * tap;
            } else {
              for (int64_t ow = ow_begin; ow < ow_end; ++ow) acc_row[ow] += x_row[ow * p.stride_w + shift] * tap;
            }
          }
        }
        const int64_t row = ((n * p.k + k) * p.oh + oh) * p.ow;
        for (int64_t ow = 0; ow < p.ow; ++ow) {
          const float a = acc[static_cast<size_t>(ow)];
          y[row + ow] = finish_epilogue(bias ? a + bias[k] : a, residual ? residual + row + ow : nullptr, activation);
        }
      }
    }
  });
}

// col[row][i*OH*OW + oh*OW + ow] for images n0 .. n0+images-1, row = (c*R + r)*S + s.
void im2col(const Conv2dShape& p, const float* x, int64_t n0, int64_t images, float* col, int threads) {
  const int64_t plane = p.oh * p.ow;
  const int64_t rows = p.c * p.r * p.s;
  const int64_t row_length = images * plane;
  parallel_for(rows * images, threads, tasks_grain(plane), [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / images;
      const int64_t i = item % images;
      const int64_t c = row / (p.r * p.s);
      const int64_t r = (row / p.s) % p.r;
      const int64_t s = row % p.s;
      const float* x_plane = x + ((n0 + i) * p.c + c) * p.h * p.w;
      float* dst = col + row * row_length + i * plane;
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
        for (int64_t ow = 0; ow < p.ow; ++ow) {
          const int64_t iw = ow * p.stride_w - p.pad_left + s * p.dilation_w;
          const bool inside = ih >= 0 && ih < p.h && iw >= 0 && iw < p.w;
          dst[oh * p.ow + ow] = inside ? x_plane[ih * p.w + iw] : 0.0f;
        }
      }
    }
  });
}

void conv_im2col_chunks(const Conv2dIm2colPlan& plan, const Conv2dShape& p, const float* x, const float* w,
                        const float* bias, const float* residual, const ActivationParams& activation, float* y,
                        float* workspace, int threads) {
  const int64_t plane = p.oh * p.ow;
  const int64_t depth = p.c_per_group() * p.r * p.s;  // the sgemm's K
  const int64_t kg = p.k_per_group();
  const SgemmFunction product = product_of(plan);
  for (int64_t n0 = 0; n0 < p.n; n0 += plan.batch_chunk) {
    const int64_t images = std::min(plan.batch_chunk, p.n - n0);
    const int64_t row_length = images * plane;
    float* col = workspace;
    // One image: sgemm writes y directly; several: into the workspace after col, [K][images*OH*OW].
    float* out = plan.batch_chunk == 1 ? y + n0 * p.k * plane : workspace + p.c * p.r * p.s * row_length;
    im2col(p, x, n0, images, col, threads);
    for (int64_t g = 0; g < p.groups; ++g) {
      product(false, false, kg, row_length, depth, 1.0f, w + g * kg * depth, depth, col + g * depth * row_length,
              row_length, out + g * kg * row_length, row_length, threads);
    }
    finish_planes(p, n0, images, SgemmResult{out, plane, row_length}, bias, residual, activation, y, threads);
  }
}

}  // namespace

Conv2dIm2colPlan plan_conv2d_im2col(const Conv2dShape& shape, size_t workspace_budget_floats, bool k_ordered) {
  const Conv2dShape& p = shape;
  Conv2dIm2colPlan plan;
  plan.k_ordered = k_ordered;
  const bool one_by_one = p.r == 1 && p.s == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                          p.pad_left == 0 && p.oh == p.h && p.ow == p.w;
  if (one_by_one) {
    plan.method = Conv2dIm2colPlan::Method::kDirect1x1;
    return plan;
  }
  if (p.groups > 1 && p.c_per_group() == 1) {
    plan.method = Conv2dIm2colPlan::Method::kDepthwise;
    return plan;
  }
  plan.method = Conv2dIm2colPlan::Method::kIm2col;
  const int64_t plane = p.oh * p.ow;
  const auto col_per_image = static_cast<size_t>(p.c * p.r * p.s * plane);
  const auto out_per_image = static_cast<size_t>(p.k * plane);
  const auto fit = static_cast<int64_t>(workspace_budget_floats / std::max<size_t>(1, col_per_image + out_per_image));
  plan.batch_chunk = std::clamp<int64_t>(fit, 1, std::max<int64_t>(1, p.n));
  plan.workspace_floats = plan.batch_chunk == 1
                              ? col_per_image
                              : static_cast<size_t>(plan.batch_chunk) * (col_per_image + out_per_image);
  return plan;
}

void conv2d_im2col(const Conv2dIm2colPlan& plan, const Conv2dShape& shape, const float* x, const float* w,
                   const float* bias, const float* residual, const ActivationParams& activation, float* y,
                   float* workspace, int threads) {
  const Conv2dShape& p = shape;
  OCTET_CHECK(p.groups >= 1 && p.c % p.groups == 0 && p.k % p.groups == 0, "conv2d_im2col: ", p.c,
              " input and ", p.k, " output channels do not split into ", p.groups, " groups");
  OCTET_CHECK(p.c_per_group() > 0, "conv2d_im2col: no input channels");
  if (p.n == 0 || p.k == 0 || p.oh * p.ow == 0) return;
  switch (plan.method) {
    case Conv2dIm2colPlan::Method::kDirect1x1:
      conv_direct_1x1(plan, p, x, w, bias, residual, activation, y, threads);
      return;
    case Conv2dIm2colPlan::Method::kDepthwise:
      conv_depthwise(p, x, w, bias, residual, activation, y, threads);
      return;
    case Conv2dIm2colPlan::Method::kIm2col:
      OCTET_CHECK(workspace != nullptr || plan.workspace_floats == 0, "conv2d_im2col: needs a workspace of ",
                  plan.workspace_floats, " floats");
      conv_im2col_chunks(plan, p, x, w, bias, residual, activation, y, workspace, threads);
      return;
  }
}

}  // namespace octet::kernels
