// The CPU fast paths (im2col + sgemm convolution, sgemm Gemm/MatMul, octet's blocked sgemm and
// parallel_for) against the reference kernels on seeded random shapes. Every failure message
// carries the case id, so a failure reproduces by running that case alone.
//
// Tolerance: elementwise |y_fast - y_ref| <= 2 * gamma_{K+4} * T, derived in
// tests/kernels/kernel_test_util.h, with T (the sum of absolute terms of that output) computed
// here in double by loops that share no code with octet's kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/gemm_sgemm.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/shapes.h"
#include "tests/kernels/kernel_test_util.h"

namespace octet {
namespace {

using test::fast_path_bound;
using test::random_values;
using Floats = std::vector<float>;
using Method = kernels::Conv2dIm2colPlan::Method;

// Checks y against y_ref with per-element bounds; returns the number of elements that are not 0
// in the reference (so a caller can make sure the comparison was not vacuous).
int64_t expect_within(const Floats& y, const Floats& y_ref, const std::vector<double>& bound, const std::string& id) {
  EXPECT_EQ(y.size(), y_ref.size()) << id;
  int64_t nonzero = 0;
  for (size_t i = 0; i < y.size() && i < y_ref.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(y[i]) - static_cast<double>(y_ref[i]));
    EXPECT_LE(diff, bound[i]) << id << " element " << i << ": fast " << y[i] << " reference " << y_ref[i];
    if (diff > bound[i]) return nonzero;  // one message per case is enough
    nonzero += y_ref[i] != 0.0f;
  }
  return nonzero;
}

// ---- convolution ---------------------------------------------------------------------------------

struct ConvCase {
  int64_t n, c, h, w, k, r, s;
  int64_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w, group;
  bool bias, residual;
  ActivationParams activation;
  Method method;  // the method plan_conv2d_im2col must pick
};

int64_t out_extent(int64_t in, int64_t k, int64_t stride, int64_t pb, int64_t pe, int64_t dil) {
  return (in + pb + pe - dil * (k - 1) - 1) / stride + 1;
}

std::string conv_case_id(size_t index, const ConvCase& t, size_t budget, int threads) {
  std::ostringstream out;
  out << "conv case " << index << " [N " << t.n << " C " << t.c << " H " << t.h << " W " << t.w << " K " << t.k
      << " R " << t.r << " S " << t.s << " stride " << t.stride_h << "x" << t.stride_w << " pads " << t.pad_top << ","
      << t.pad_left << "," << t.pad_bottom << "," << t.pad_right << " dilation " << t.dilation_h << "x"
      << t.dilation_w << " group " << t.group << " bias " << t.bias << " residual " << t.residual << " activation "
      << static_cast<int>(t.activation.kind) << "] workspace budget " << budget << " threads " << threads;
  return out.str();
}

const ActivationParams kNone{};
const ActivationParams kRelu{Activation::kRelu, 0.0f, 0.0f};
const ActivationParams kClip{Activation::kClip, -0.5f, 0.5f};
const ActivationParams kLeaky{Activation::kLeakyRelu, 0.1f, 0.0f};

const std::vector<ConvCase> kConvCases = {
    // n  c   h   w   k  r  s  sh sw pt pl pb pr dh dw grp bias  res    act
    {1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, false, kRelu, Method::kIm2col},
    {3, 5, 11, 6, 7, 3, 2, 2, 1, 0, 1, 2, 0, 1, 1, 1, true, true, kNone, Method::kIm2col},
    {3, 6, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 2, true, false, kClip, Method::kIm2col},
    {3, 7, 5, 5, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, true, kLeaky, Method::kDirect1x1},
    {1, 6, 4, 3, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3, false, false, kRelu, Method::kDirect1x1},
    {3, 5, 8, 8, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, true, false, kRelu, Method::kDepthwise},
    {1, 3, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 3, true, true, kNone, Method::kDepthwise},
    {3, 4, 7, 7, 5, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, false, true, kNone, Method::kIm2col},
    {3, 4, 1, 17, 6, 1, 5, 1, 3, 0, 2, 0, 2, 1, 2, 1, true, false, kLeaky, Method::kIm2col},
    {1, 2, 5, 5, 3, 5, 5, 1, 1, 2, 0, 0, 2, 1, 1, 1, true, true, kClip, Method::kIm2col},
    {3, 9, 6, 5, 6, 2, 3, 1, 2, 1, 0, 0, 1, 1, 1, 3, true, true, kRelu, Method::kIm2col},
    {1, 1, 12, 12, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, true, false, kRelu, Method::kIm2col},
    {3, 4, 9, 10, 4, 3, 5, 2, 3, 0, 2, 1, 0, 1, 2, 4, true, true, kLeaky, Method::kDepthwise},
};

TEST(Conv2dIm2colFloat32Nchw, MatchesReferenceWithinRoundingBound) {
  // Budgets: the default (several images per sgemm, scattered by the epilogue) and 1 float (one
  // image per sgemm, written in place).
  for (size_t index = 0; index < kConvCases.size(); ++index) {
    const ConvCase& t = kConvCases[index];
    ConvAttrs a;
    a.kernel_h = t.r;
    a.kernel_w = t.s;
    a.stride_h = t.stride_h;
    a.stride_w = t.stride_w;
    a.pad_top = t.pad_top;
    a.pad_left = t.pad_left;
    a.pad_bottom = t.pad_bottom;
    a.pad_right = t.pad_right;
    a.dilation_h = t.dilation_h;
    a.dilation_w = t.dilation_w;
    a.group = t.group;
    const int64_t oh = out_extent(t.h, t.r, t.stride_h, t.pad_top, t.pad_bottom, t.dilation_h);
    const int64_t ow = out_extent(t.w, t.s, t.stride_w, t.pad_left, t.pad_right, t.dilation_w);
    const int64_t cg = t.c / t.group, kg = t.k / t.group;
    const Dims x_dims{t.n, t.c, t.h, t.w}, w_dims{t.k, cg, t.r, t.s}, y_dims{t.n, t.k, oh, ow};
    const Conv2dShape shape = make_conv2d_shape(a, x_dims, w_dims, y_dims);
    const auto seed = static_cast<uint32_t>(100 * index);
    const Floats x = random_values(static_cast<size_t>(numel(x_dims)), seed + 1);
    const Floats w = random_values(static_cast<size_t>(numel(w_dims)), seed + 2);
    const Floats bias = random_values(static_cast<size_t>(t.k), seed + 3);
    const Floats residual = random_values(static_cast<size_t>(numel(y_dims)), seed + 4);
    const float* b_ptr = t.bias ? bias.data() : nullptr;
    const float* r_ptr = t.residual ? residual.data() : nullptr;

    // T per output: sum of |x*w| over the window cells inside the input, + |bias| + |residual|.
    std::vector<double> bound(static_cast<size_t>(numel(y_dims)));
    for (int64_t n = 0; n < t.n; ++n)
      for (int64_t k = 0; k < t.k; ++k)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double abs_terms = 0.0;
            for (int64_t cc = 0; cc < cg; ++cc)
              for (int64_t r = 0; r < t.r; ++r)
                for (int64_t s = 0; s < t.s; ++s) {
                  const int64_t ih = i * t.stride_h - t.pad_top + r * t.dilation_h;
                  const int64_t iw = j * t.stride_w - t.pad_left + s * t.dilation_w;
                  if (ih < 0 || ih >= t.h || iw < 0 || iw >= t.w) continue;
                  const int64_t c = (k / kg) * cg + cc;
                  abs_terms += std::fabs(static_cast<double>(x[static_cast<size_t>(((n * t.c + c) * t.h + ih) * t.w + iw)]) *
                                         w[static_cast<size_t>(((k * cg + cc) * t.r + r) * t.s + s)]);
                }
            const size_t out = static_cast<size_t>(((n * t.k + k) * oh + i) * ow + j);
            if (t.bias) abs_terms += std::fabs(bias[static_cast<size_t>(k)]);
            if (t.residual) abs_terms += std::fabs(residual[out]);
            bound[out] = fast_path_bound(cg * t.r * t.s, abs_terms);
          }

    Floats y_ref(static_cast<size_t>(numel(y_dims)));
    kernels::conv2d_ref(shape, x.data(), w.data(), b_ptr, r_ptr, t.activation, y_ref.data());
    for (size_t budget : {kernels::kIm2colWorkspaceBudgetFloats, size_t{1}}) {
      const kernels::Conv2dIm2colPlan plan = kernels::plan_conv2d_im2col(shape, budget);
      EXPECT_EQ(plan.method, t.method) << conv_case_id(index, t, budget, 1) << ": picked "
                                       << kernels::conv_method_name(plan.method);
      if (plan.method == Method::kIm2col) {
        EXPECT_EQ(plan.batch_chunk, budget == 1 ? 1 : t.n) << conv_case_id(index, t, budget, 1);
      }
      for (int threads : {1, 3}) {
        const std::string id = conv_case_id(index, t, budget, threads);
        Floats workspace(plan.workspace_floats);
        Floats y(y_ref.size(), std::nanf(""));
        kernels::conv2d_im2col(plan, shape, x.data(), w.data(), b_ptr, r_ptr, t.activation, y.data(),
                               workspace.data(), threads);
        EXPECT_GT(expect_within(y, y_ref, bound, id), 0) << id << ": the reference is all zeros";
        // The depthwise method sums in the reference's order (kernels/cpu/conv_im2col.h): bit for bit.
        if (plan.method == Method::kDepthwise) {
          EXPECT_EQ(std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)), 0) << id;
        }
      }
    }
  }
}

// ---- Gemm -----------------------------------------------------------------------------------------

enum class CShape { kAbsent, kScalar, kRow, kRowMatrix, kColumn, kFull };

struct GemmCase {
  int64_t m, n, k;
  bool trans_a, trans_b;
  float alpha, beta;
  CShape c;
  bool residual;
  ActivationParams activation;
};

Dims c_dims_of(CShape c, int64_t m, int64_t n) {
  switch (c) {
    case CShape::kAbsent:
    case CShape::kScalar: return {};
    case CShape::kRow: return {n};
    case CShape::kRowMatrix: return {1, n};
    case CShape::kColumn: return {m, 1};
    case CShape::kFull: return {m, n};
  }
  return {};
}

TEST(GemmSgemmFloat32RowMajor, MatchesReferenceWithinRoundingBound) {
  const std::vector<GemmCase> cases = {
      {13, 17, 29, false, false, 1.0f, 1.0f, CShape::kRow, false, kNone},
      {13, 17, 29, true, false, 0.7f, -1.3f, CShape::kFull, true, kRelu},
      {13, 17, 29, false, true, -2.0f, 0.5f, CShape::kColumn, false, kClip},
      {13, 17, 29, true, true, 1.0f, 1.0f, CShape::kScalar, true, kLeaky},
      {5, 1, 300, false, true, 1.0f, 2.0f, CShape::kRowMatrix, false, kNone},
      {1, 1000, 64, false, true, 1.0f, 1.0f, CShape::kRow, false, kRelu},
      {64, 70, 100, true, true, 0.5f, 0.0f, CShape::kAbsent, true, kNone},
      {3, 4, 0, false, false, 1.0f, 1.0f, CShape::kRow, false, kNone},  // K = 0: Y = beta * C
  };
  for (size_t index = 0; index < cases.size(); ++index) {
    const GemmCase& t = cases[index];
    GemmAttrs a;
    a.trans_a = t.trans_a;
    a.trans_b = t.trans_b;
    a.alpha = t.alpha;
    a.beta = t.beta;
    a.epilogue.activation = t.activation;
    a.epilogue.has_residual = t.residual;
    const auto seed = static_cast<uint32_t>(1000 + 10 * index);
    const Floats mat_a = random_values(static_cast<size_t>(t.m * t.k), seed + 1);
    const Floats mat_b = random_values(static_cast<size_t>(t.k * t.n), seed + 2);
    const Dims c_dims = c_dims_of(t.c, t.m, t.n);
    const Floats mat_c = random_values(static_cast<size_t>(numel(c_dims)), seed + 3);
    const Floats residual = random_values(static_cast<size_t>(t.m * t.n), seed + 4);
    const float* c_ptr = t.c == CShape::kAbsent ? nullptr : mat_c.data();
    const float* r_ptr = t.residual ? residual.data() : nullptr;

    std::vector<double> bound(static_cast<size_t>(t.m * t.n));
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) {
        double abs_terms = 0.0;
        for (int64_t p = 0; p < t.k; ++p) {
          const float av = t.trans_a ? mat_a[static_cast<size_t>(p * t.m + i)] : mat_a[static_cast<size_t>(i * t.k + p)];
          const float bv = t.trans_b ? mat_b[static_cast<size_t>(j * t.k + p)] : mat_b[static_cast<size_t>(p * t.n + j)];
          abs_terms += std::fabs(static_cast<double>(t.alpha) * av * bv);
        }
        if (c_ptr) {
          const int64_t ci = c_dims.size() == 2 && c_dims[0] == t.m ? i : 0;
          const int64_t cj = (c_dims.size() == 1 || (c_dims.size() == 2 && c_dims[1] == t.n)) ? j : 0;
          const int64_t c_cols = c_dims.empty() ? 1 : c_dims.back();
          abs_terms += std::fabs(static_cast<double>(t.beta) * mat_c[static_cast<size_t>(ci * c_cols + cj)]);
        }
        if (r_ptr) abs_terms += std::fabs(residual[static_cast<size_t>(i * t.n + j)]);
        bound[static_cast<size_t>(i * t.n + j)] = fast_path_bound(t.k, abs_terms);
      }

    Floats y_ref(static_cast<size_t>(t.m * t.n));
    kernels::gemm_ref(a, t.m, t.n, t.k, mat_a.data(), mat_b.data(), c_ptr, c_dims, r_ptr, y_ref.data());
    for (int threads : {1, 3}) {
      std::ostringstream id;
      id << "gemm case " << index << " [M " << t.m << " N " << t.n << " K " << t.k << " trans " << t.trans_a
         << t.trans_b << " alpha " << t.alpha << " beta " << t.beta << " C " << to_string(c_dims) << " residual "
         << t.residual << "] threads " << threads;
      Floats y(y_ref.size(), std::nanf(""));
      kernels::gemm_sgemm(a, t.m, t.n, t.k, mat_a.data(), mat_b.data(), c_ptr, c_dims, r_ptr, y.data(), threads);
      EXPECT_GT(expect_within(y, y_ref, bound, id.str()), 0) << id.str() << ": the reference is all zeros";
    }
  }
}

// ---- MatMul ---------------------------------------------------------------------------------------

// Offsets of each output's A row and B column under numpy broadcasting, written out independently
// of kernels/cpu/gemm_ref: 1-D operands promoted, batch dims right-aligned, stride 0 where a dim is 1.
struct MatMulIndex {
  int64_t m, n, k;
  std::vector<int64_t> a_base, b_base;  // per batch entry
};

MatMulIndex index_matmul(Dims a, Dims b) {
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  MatMulIndex ix{a[a.size() - 2], b.back(), a.back(), {}, {}};
  const size_t batch_rank = std::max(a.size(), b.size()) - 2;
  Dims ab(batch_rank, 1), bb(batch_rank, 1), out(batch_rank, 1);
  for (size_t d = 0; d + 2 < a.size(); ++d) ab[batch_rank - (a.size() - 2) + d] = a[d];
  for (size_t d = 0; d + 2 < b.size(); ++d) bb[batch_rank - (b.size() - 2) + d] = b[d];
  for (size_t d = 0; d < batch_rank; ++d) out[d] = std::max(ab[d], bb[d]);
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  for (int64_t e = 0; e < total; ++e) {
    int64_t rest = e, a_lin = 0, b_lin = 0, a_mul = 1, b_mul = 1;
    for (size_t d = batch_rank; d-- > 0;) {
      const int64_t idx = rest % out[d];
      rest /= out[d];
      a_lin += (ab[d] == 1 ? 0 : idx) * a_mul;
      b_lin += (bb[d] == 1 ? 0 : idx) * b_mul;
      a_mul *= ab[d];
      b_mul *= bb[d];
    }
    ix.a_base.push_back(a_lin * ix.m * ix.k);
    ix.b_base.push_back(b_lin * ix.k * ix.n);
  }
  return ix;
}

TEST(MatMulSgemmFloat32, MatchesReferenceWithinRoundingBound) {
  struct Case {
    Dims a, b;
    bool residual;
    ActivationParams activation;
  };
  const std::vector<Case> cases = {
      {{5, 7}, {7, 3}, false, kNone},         {{7}, {7, 4}, true, kRelu},
      {{4, 7}, {7}, false, kNone},            {{7}, {7}, true, kLeaky},
      {{3, 5, 7}, {7, 4}, true, kClip},       {{5, 7}, {3, 7, 4}, false, kRelu},
      {{2, 1, 5, 7}, {3, 7, 4}, true, kNone}, {{3, 1, 6}, {3, 6, 2}, false, kNone},
      {{1, 130, 70}, {1, 70, 90}, false, kRelu},
  };
  for (size_t index = 0; index < cases.size(); ++index) {
    const Case& t = cases[index];
    const Dims y_dims = kernels::matmul_output_dims(t.a, t.b);
    const MatMulIndex ix = index_matmul(t.a, t.b);
    const auto seed = static_cast<uint32_t>(2000 + 10 * index);
    const Floats a = random_values(static_cast<size_t>(numel(t.a)), seed + 1);
    const Floats b = random_values(static_cast<size_t>(numel(t.b)), seed + 2);
    const Floats residual = random_values(static_cast<size_t>(numel(y_dims)), seed + 3);
    const float* r_ptr = t.residual ? residual.data() : nullptr;
    ASSERT_EQ(static_cast<int64_t>(ix.a_base.size()) * ix.m * ix.n, numel(y_dims));

    std::vector<double> bound(static_cast<size_t>(numel(y_dims)));
    for (size_t e = 0; e < ix.a_base.size(); ++e)
      for (int64_t i = 0; i < ix.m; ++i)
        for (int64_t j = 0; j < ix.n; ++j) {
          double abs_terms = 0.0;
          for (int64_t p = 0; p < ix.k; ++p)
            abs_terms += std::fabs(static_cast<double>(a[static_cast<size_t>(ix.a_base[e] + i * ix.k + p)]) *
                                   b[static_cast<size_t>(ix.b_base[e] + p * ix.n + j)]);
          const auto out = static_cast<size_t>((static_cast<int64_t>(e) * ix.m + i) * ix.n + j);
          if (r_ptr) abs_terms += std::fabs(residual[out]);
          bound[out] = fast_path_bound(ix.k, abs_terms);
        }

    Floats y_ref(static_cast<size_t>(numel(y_dims)));
    kernels::matmul_ref(a.data(), t.a, b.data(), t.b, r_ptr, t.activation, y_ref.data());
    for (int threads : {1, 3}) {
      const std::string id = "matmul case " + std::to_string(index) + " " + to_string(t.a) + " x " + to_string(t.b) +
                             " threads " + std::to_string(threads);
      Floats y(y_ref.size(), std::nanf(""));
      kernels::matmul_sgemm(a.data(), t.a, b.data(), t.b, r_ptr, t.activation, y.data(), threads);
      EXPECT_GT(expect_within(y, y_ref, bound, id), 0) << id << ": the reference is all zeros";
    }
  }
}

// ---- octet's blocked sgemm -------------------------------------------------------------------------

// sgemm_blocked sums each output in k order into a float from 0 and multiplies by alpha last, the
// reference's exact arithmetic, so it must agree bit for bit (sizes cross every block boundary).
TEST(SgemmBlockedFloat32RowMajor, BitIdenticalToReference) {
  const int64_t m = 37, n = 600, k = 300;
  const Floats a = random_values(static_cast<size_t>(m * k), 31);
  const Floats b = random_values(static_cast<size_t>(k * n), 32);
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      GemmAttrs attrs;
      attrs.trans_a = trans_a;
      attrs.trans_b = trans_b;
      attrs.alpha = 0.75f;
      Floats y_ref(static_cast<size_t>(m * n)), y(static_cast<size_t>(m * n), std::nanf(""));
      kernels::gemm_ref(attrs, m, n, k, a.data(), b.data(), nullptr, {}, nullptr, y_ref.data());
      kernels::sgemm_blocked(trans_a, trans_b, m, n, k, 0.75f, a.data(), trans_a ? m : k, b.data(), trans_b ? k : n,
                             y.data(), n, 3);
      EXPECT_EQ(std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)), 0)
          << "trans_a " << trans_a << " trans_b " << trans_b;
    }
  }
}

TEST(SgemmFloat32RowMajor, EmptyDepthWritesZeros) {
  // K = 0: C = alpha * (empty sum) = 0, for the build's provider and the blocked loop alike.
  Floats c(6, 7.0f);
  kernels::sgemm(false, false, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, c.data(), 3, 2);
  EXPECT_EQ(c, Floats(6, 0.0f)) << kernels::sgemm_provider();
  Floats c2(6, 7.0f);
  kernels::sgemm_blocked(false, false, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, c2.data(), 3, 2);
  EXPECT_EQ(c2, Floats(6, 0.0f));
}

// ---- parallel_for ---------------------------------------------------------------------------------

TEST(ParallelFor, CoversEveryIndexOnceAndRethrows) {
  for (int64_t count : {0, 1, 5, 97, 1000}) {
    for (int threads : {1, 2, 7}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      kernels::parallel_for(count, threads, 3, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "count " << count << " threads " << threads << " index " << i;
    }
  }
  EXPECT_THROW(kernels::parallel_for(100, 4, 1,
                                     [](int64_t begin, int64_t) {
                                       if (begin > 0) throw Error("chunk failed");
                                     }),
               Error);
  EXPECT_THROW(kernels::resolve_thread_count(-1), Error);
  EXPECT_GE(kernels::resolve_thread_count(0), 1);
}

}  // namespace
}  // namespace octet
