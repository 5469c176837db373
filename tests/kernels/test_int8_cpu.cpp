// The INT8 CPU kernels (kernels/cpu/int8_ref.h) and their execution in the CPU backend.
//
//   Int8CpuReference  hand-computed cases: the arithmetic of every expected value is in a comment,
//                     with scales that are powers of two so every product and quotient is exact and
//                     only the rounding under test (half to even, saturation) decides the result.
//   Int8CpuIm2col     conv2d_int8_im2col == conv2d_int8_ref on the whole output, bit for bit, over
//                     seeded shapes; every failure names its case (SCOPED_TRACE) so it reproduces.
//   Int8CpuBackend    graphs built by hand in the IR, run with and without `reference`, against the
//                     kernels called directly (== on the outputs).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/graph.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/int8_ref.h"
#include "kernels/int8_conv.h"
#include "kernels/shapes.h"
#include "quantize/qscheme.h"

namespace octet {
namespace {

using Bytes = std::vector<int8_t>;
using Floats = std::vector<float>;

// Bit patterns, so that float outputs compare exactly (== on floats would equate 0 and -0).
std::vector<uint32_t> bits_of(const Floats& values) {
  std::vector<uint32_t> bits(values.size());
  if (!values.empty()) std::memcpy(bits.data(), values.data(), values.size() * sizeof(float));
  return bits;
}

Conv2dShape conv_shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s, int64_t stride,
                       int64_t pad, int64_t dilation, int64_t groups) {
  Conv2dShape p;
  p.n = n;
  p.c = c;
  p.h = h;
  p.w = w;
  p.k = k;
  p.r = r;
  p.s = s;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = pad;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  // Symmetric padding, as ConvAttrs would give with pad_bottom = pad_top.
  p.oh = (h + 2 * pad - dilation * (r - 1) - 1) / stride + 1;
  p.ow = (w + 2 * pad - dilation * (s - 1) - 1) / stride + 1;
  return p;
}

Pool2dShape pool_shape(int64_t h, int64_t w, int64_t kernel, int64_t pad, int64_t oh, int64_t ow) {
  Pool2dShape p;
  p.n = p.c = 1;
  p.h = h;
  p.w = w;
  p.oh = oh;
  p.ow = ow;
  p.kernel_h = p.kernel_w = kernel;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  return p;
}

// ---- quantize / dequantize ------------------------------------------------------------------------

TEST(Int8CpuReference, QuantizeRoundsHalfToEvenInBothDirections) {
  // scale 1: x / scale is x. Ties go to the even neighbour: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, and the
  // same mirrored for negatives. Scale 0.5: 1.25 / 0.5 = 2.5 -> 2, 0.75 / 0.5 = 1.5 -> 2,
  // -1.75 / 0.5 = -3.5 -> -4.
  const Floats x = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, -3.5f, 2.4999998f, 2.5000002f};
  Bytes y(x.size());
  kernels::quantize_ref(x.data(), static_cast<int64_t>(x.size()), 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{0, 2, 2, 4, 0, -2, -2, -4, 2, 3}));

  const Floats halves = {1.25f, 0.75f, -1.75f};
  Bytes q(halves.size());
  kernels::quantize_ref(halves.data(), 3, 0.5f, q.data());
  EXPECT_EQ(q, (Bytes{2, 2, -4}));
}

TEST(Int8CpuReference, QuantizeSaturatesAndMapsNanToZero) {
  // 126.5 -> 126 (even), 127.4 -> 127, 127.5 -> 128 saturates to 127, 1e6 -> 127; -128.5 -> -128
  // (even), -129 -> -128, -1e6 -> -128; +-inf saturate; NaN -> 0.
  const float inf = std::numeric_limits<float>::infinity();
  const Floats x = {126.5f, 127.4f, 127.5f, 1e6f, -128.5f, -129.0f, -1e6f, inf, -inf,
                    std::numeric_limits<float>::quiet_NaN()};
  Bytes y(x.size());
  kernels::quantize_ref(x.data(), static_cast<int64_t>(x.size()), 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{126, 127, 127, 127, -128, -128, -128, 127, -128, 0}));
}

TEST(Int8CpuReference, DequantizeMultipliesByTheScale) {
  // -128 * 0.5 = -64, 0 * 0.5 = 0, 127 * 0.5 = 63.5, -3 * 0.5 = -1.5
  const Bytes q = {-128, 0, 127, -3};
  Floats y(q.size());
  kernels::dequantize_ref(q.data(), 4, 0.5f, y.data());
  EXPECT_EQ(y, (Floats{-64.0f, 0.0f, 63.5f, -1.5f}));
}

// saturate_int8(rint(v)), NaN -> 0: ONNX QuantizeLinear's formula applied to the quotient v.
int rint_and_saturate(float v) {
  const float r = std::rint(v);
  if (std::isnan(r)) return 0;
  return static_cast<int>(std::fmin(std::fmax(r, -128.0f), 127.0f));
}

// quantize() rounds with a bias addition instead of rintf and a conversion (qscheme.h). Against the
// formula as ONNX QuantizeLinear states it, on every float: with scale 1 the quotient is x itself, so
// every value the rounding and clamping can see is covered (the division is the same in both).
TEST(Int8CpuReference, QuantizeEqualsRintAndSaturateOnEveryFloat) {
  const auto formula = rint_and_saturate;
  uint64_t mismatches = 0;
  uint32_t first_bad = 0;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; ++bits) {
    const auto b = static_cast<uint32_t>(bits);
    float x;
    std::memcpy(&x, &b, sizeof x);
    if (quant::quantize(x, 1.0f) != formula(x) && mismatches++ == 0) first_bad = b;
  }
  EXPECT_EQ(mismatches, 0u) << "first mismatch at float bits 0x" << std::hex << first_bad;
}

// quantize() returns 0 for a zero without dividing it (qscheme.h): the formula with the division
// gives the same for every scale, including the ones no caller should pass.
TEST(Int8CpuReference, QuantizeOfZeroIsZeroForEveryScale) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (float zero : {0.0f, -0.0f})
    for (float scale : {1.0f, 0.5f, 1e-30f, 1e-45f, 3e38f, 0.0f, -0.0f, -2.0f, inf, -inf, nan}) {
      EXPECT_EQ(rint_and_saturate(zero / scale), 0) << zero << " / " << scale;
      EXPECT_EQ(quant::quantize(zero, scale), 0) << zero << " / " << scale;
    }
}

// quantize_by_reciprocal (the kernels' division-free quotient, qscheme.h) against quantize (a true
// division) for scales across the allowed range [2^-40, 2^40]: every float x whose quotient lies in
// [1/4, 256] in magnitude (where the rounding is decided), the float nearest each tie (k + 0.5) *
// scale and its neighbours for many more scales, and random bit patterns of every magnitude,
// infinities and NaNs included (where the theorem gives way to the clamp and the saturation).
TEST(Int8CpuReference, QuantizeByReciprocalEqualsQuantize) {
  const auto check = [](float x, float scale, uint64_t& mismatches, std::string& first) {
    const float reciprocal = 1.0f / scale;
    if (quant::quantize_by_reciprocal(x, scale, reciprocal) != quant::quantize(x, scale) && mismatches++ == 0) {
      std::ostringstream where;
      where << std::hexfloat << "x = " << x << ", scale = " << scale;
      first = where.str();
    }
  };
  uint64_t mismatches = 0, checked = 0;
  std::string first;
  const auto next_up = [](float x) { return std::nextafter(x, std::numeric_limits<float>::infinity()); };
  // Every float in the deciding range (~168 M per scale), for a typical activation scale and the
  // range's ends.
  for (float scale : {0.0123f, 0x1p-40f, 0x1p40f}) {
    for (float sign : {1.0f, -1.0f})
      for (float x = 0.25f * scale; x <= 256.0f * scale; x = next_up(x), ++checked) check(sign * x, scale, mismatches, first);
  }
  std::mt19937 rng(20261122);
  std::uniform_real_distribution<float> exponent(-40.0f, 39.0f);
  // Ties and their neighbours, for log-uniform random scales.
  for (int i = 0; i < 20000; ++i) {
    const float scale = std::exp2(exponent(rng)) * std::uniform_real_distribution<float>(1.0f, 2.0f)(rng);
    for (int k = -130; k <= 130; ++k) {
      float x = (static_cast<float>(k) + 0.5f) * scale;
      for (int step = 0; step < 3; ++step) x = std::nextafter(x, -std::numeric_limits<float>::infinity());
      for (int step = 0; step < 7; ++step, x = next_up(x), ++checked) check(x, scale, mismatches, first);
    }
  }
  // Random bit patterns: every magnitude, subnormals, infinities and NaNs.
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 1000; ++i) {
    const float scale = std::exp2(exponent(rng)) * std::uniform_real_distribution<float>(1.0f, 2.0f)(rng);
    for (int j = 0; j < 10000; ++j, ++checked) {
      const uint32_t b = any_bits(rng);
      float x;
      std::memcpy(&x, &b, sizeof x);
      check(x, scale, mismatches, first);
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << checked << " values; first: " << first;
  EXPECT_GT(checked, 500'000'000u);
}

TEST(Int8CpuReference, QuotientByReciprocalIsExactOnlyInsideItsScaleRange) {
  EXPECT_TRUE(quant::quotient_by_reciprocal_exact(0x1p-40f));
  EXPECT_TRUE(quant::quotient_by_reciprocal_exact(0x1p40f));
  EXPECT_TRUE(quant::quotient_by_reciprocal_exact(0.0123f));
  EXPECT_FALSE(quant::quotient_by_reciprocal_exact(std::nextafter(0x1p-40f, 0.0f)));
  EXPECT_FALSE(quant::quotient_by_reciprocal_exact(std::nextafter(0x1p40f, 1e38f)));
  EXPECT_FALSE(quant::quotient_by_reciprocal_exact(0.0f));
  EXPECT_FALSE(quant::quotient_by_reciprocal_exact(std::numeric_limits<float>::quiet_NaN()));
}

TEST(Int8CpuReference, Int8DequantizeEqualsConversionTimesScale) {
  for (float scale : {1.0f, 0.0123f, 3.5e-7f, 1e30f})
    for (int q = -128; q <= 127; ++q)
      EXPECT_EQ(quant::dequantize(static_cast<int8_t>(q), scale), static_cast<float>(q) * scale) << q << " " << scale;
}

TEST(Int8CpuReference, WeightsQuantizePerChannelAndAZeroChannelGetsScaleOne) {
  // channel 0: amax 63.5 -> scale 63.5 / 127 = 0.5; q = 127, -10.25/0.5 = -20.5 -> -20,
  //            0.25/0.5 = 0.5 -> 0, 0.75/0.5 = 1.5 -> 2
  // channel 1: all zero -> amax 0 -> scale 1 (never a division by zero); q = 0
  // channel 2: amax |-31.75| -> scale 0.25; q = -127, 8/0.25 = 32, 0.125/0.25 = 0.5 -> 0,
  //            -0.375/0.25 = -1.5 -> -2
  const Floats w = {63.5f, -10.25f, 0.25f, 0.75f, 0, 0, 0, 0, -31.75f, 8.0f, 0.125f, -0.375f};
  Bytes q(w.size());
  const Floats scales = kernels::quantize_weights_per_channel(w.data(), 3, 4, q.data());
  EXPECT_EQ(scales, (Floats{0.5f, 1.0f, 0.25f}));
  EXPECT_EQ(q, (Bytes{127, -20, 0, 2, 0, 0, 0, 0, -127, 32, 0, -2}));
}

// ---- convolution epilogue by hand -----------------------------------------------------------------

// x [1, 2, 1, 2]: channel 0 = (10, -20), channel 1 = (3, 4); w [2, 2, 1, 1]: k0 = (2, 5), k1 = (-1, 3).
//   acc k0 = (10*2 + 3*5, -20*2 + 4*5) = (35, -20);  acc k1 = (-10 + 9, 20 + 12) = (-1, 32)
// combined scales (0.5, 0.25), bias (1, -2), residual int8 (4, -6 | 8, 2) at scale 0.5 = (2, -3 | 4, 1):
//   k0: 35*0.5 + 1 + 2 = 20.5;   -20*0.5 + 1 - 3 = -12 -> ReLU 0
//   k1: -1*0.25 - 2 + 4 = 1.75;  32*0.25 - 2 + 1 = 7
struct TinyConv {
  Conv2dShape shape = conv_shape(1, 2, 1, 2, 2, 1, 1, 1, 0, 1, 1);
  Bytes x = {10, -20, 3, 4};
  Bytes w = {2, 5, -1, 3};
  Floats combined_scale = {0.5f, 0.25f};
  Floats bias = {1.0f, -2.0f};
  Bytes residual = {4, -6, 8, 2};

  kernels::Int8ConvEpilogue epilogue() const {
    kernels::Int8ConvEpilogue e;
    e.combined_scale = combined_scale.data();
    e.bias = bias.data();
    e.residual_int8 = residual.data();
    e.residual_scale = 0.5f;
    e.activation.kind = Activation::kRelu;
    return e;
  }
};

TEST(Int8CpuReference, ConvWithBiasInt8ResidualReluFloatOut) {
  const TinyConv t;
  kernels::Int8ConvEpilogue e = t.epilogue();
  e.output_int8 = false;
  Floats y(4);
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, y.data());
  EXPECT_EQ(y, (Floats{20.5f, 0.0f, 1.75f, 7.0f}));
}

TEST(Int8CpuReference, ConvWithBiasInt8ResidualReluInt8Out) {
  const TinyConv t;
  kernels::Int8ConvEpilogue e = t.epilogue();
  // output scale 0.5: 20.5 / 0.5 = 41, 0, 1.75 / 0.5 = 3.5 -> 4 (even), 7 / 0.5 = 14
  e.output_scale = 0.5f;
  Bytes y(4);
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, y.data());
  EXPECT_EQ(y, (Bytes{41, 0, 4, 14}));
  // output scale 0.125: 164 saturates to 127, 0, 14, 56
  e.output_scale = 0.125f;
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, y.data());
  EXPECT_EQ(y, (Bytes{127, 0, 14, 56}));
}

TEST(Int8CpuReference, ConvRoundsInsideItsEpilogueWhereAQdqModelDoes) {
  // quant::EpilogueRounding: after the bias at scale 2, after the residual at scale 3 (a Q/DQ pair on
  // the Conv's own output and one on the Add's output):
  //   after bias:    k0: 18.5, -9;  k1: -2.25, 6
  //   rounded by 2:  18.5 / 2 = 9.25 -> 18;  -9 / 2 = -4.5 -> -4 (even) -> -8;  -1.125 -> -2;  3 -> 6
  //   + residual (2, -3 | 4, 1):  20, -11, 2, 7
  //   rounded by 3:  6.67 -> 21;  -3.67 -> -12;  0.67 -> 3;  2.33 -> 6;   ReLU: 21, 0, 3, 6
  // (without the roundings: 20.5, 0, 1.75, 7, ConvWithBiasInt8ResidualReluFloatOut)
  const TinyConv t;
  kernels::Int8ConvEpilogue e = t.epilogue();
  e.rounding = {2.0f, 3.0f};
  e.output_int8 = false;
  Floats y(4);
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, y.data());
  EXPECT_EQ(y, (Floats{21.0f, 0.0f, 3.0f, 6.0f}));
  kernels::conv2d_int8_im2col(t.shape, t.x.data(), t.w.data(), e, y.data(), 1);
  EXPECT_EQ(y, (Floats{21.0f, 0.0f, 3.0f, 6.0f}));
  // INT8 out at scale 1.5: 14, 0, 2, 4.
  e.output_int8 = true;
  e.output_scale = 1.5f;
  Bytes q(4);
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, q.data());
  EXPECT_EQ(q, (Bytes{14, 0, 2, 4}));
}

TEST(Int8CpuReference, ConvWithFloatResidualAndNoBias) {
  // No bias, float residual (0.5, 0.5, -10, 0), no activation, float out:
  //   k0: 17.5 + 0.5 = 18, -10 + 0.5 = -9.5;  k1: -0.25 - 10 = -10.25, 8 + 0 = 8
  const TinyConv t;
  const Floats residual = {0.5f, 0.5f, -10.0f, 0.0f};
  kernels::Int8ConvEpilogue e;
  e.combined_scale = t.combined_scale.data();
  e.residual_f32 = residual.data();
  e.output_int8 = false;
  Floats y(4);
  kernels::conv2d_int8_ref(t.shape, t.x.data(), t.w.data(), e, y.data());
  EXPECT_EQ(y, (Floats{18.0f, -9.5f, -10.25f, 8.0f}));
  kernels::conv2d_int8_im2col(t.shape, t.x.data(), t.w.data(), e, y.data(), 1);
  EXPECT_EQ(y, (Floats{18.0f, -9.5f, -10.25f, 8.0f}));
}

// The reference's geometry (padding, stride, dilation, groups) against the FP32 reference: with
// small integers every float product and sum is an exact integer (|sum| < 2^24), and with combined
// scale 1, no bias, no activation and float out, the INT8 result is float(acc) itself.
TEST(Int8CpuReference, ConvGeometryMatchesTheFloatReferenceOnIntegers) {
  const std::vector<Conv2dShape> shapes = {
      conv_shape(2, 4, 7, 6, 6, 3, 3, 2, 1, 1, 2), conv_shape(1, 3, 9, 9, 3, 3, 3, 1, 2, 2, 3),
      conv_shape(2, 5, 5, 8, 7, 1, 3, 3, 1, 1, 1), conv_shape(1, 6, 6, 6, 4, 2, 2, 1, 0, 3, 2)};
  for (size_t i = 0; i < shapes.size(); ++i) {
    SCOPED_TRACE("shape " + std::to_string(i));
    const Conv2dShape& p = shapes[i];
    std::mt19937 engine(static_cast<uint32_t>(i));
    std::uniform_int_distribution<int> dist(-128, 127);
    Bytes x(static_cast<size_t>(p.n * p.c * p.h * p.w)), w(static_cast<size_t>(p.k * p.c_per_group() * p.r * p.s));
    for (int8_t& v : x) v = static_cast<int8_t>(dist(engine));
    for (int8_t& v : w) v = static_cast<int8_t>(dist(engine));
    const Floats xf(x.begin(), x.end()), wf(w.begin(), w.end());
    const size_t outputs = static_cast<size_t>(p.n * p.k * p.oh * p.ow);
    Floats expected(outputs), y(outputs);
    kernels::conv2d_ref(p, xf.data(), wf.data(), nullptr, nullptr, ActivationParams{}, expected.data());
    const Floats ones(static_cast<size_t>(p.k), 1.0f);
    kernels::Int8ConvEpilogue e;
    e.combined_scale = ones.data();
    e.output_int8 = false;
    kernels::conv2d_int8_ref(p, x.data(), w.data(), e, y.data());
    EXPECT_EQ(y, expected);
  }
}

// ---- pooling and concatenation by hand ------------------------------------------------------------

// x [1, 1, 2, 2] = 10 20 / 30 41, 2x2 windows, stride 1, pads 1: a 3x3 output.
TEST(Int8CpuReference, AveragePoolCountsPadsOnlyWhenAsked) {
  const Bytes x = {10, 20, 30, 41};
  Pool2dShape p = pool_shape(2, 2, 2, 1, 3, 3);
  Bytes y(9);
  // Without the pads, scales 1: sums / cells inside
  //   10/1  30/2  20/1         10  15  20
  //   40/2 101/4  61/2    ->   20  25  30        25.25 -> 25; 30.5 -> 30 (even)
  //   30/1  71/2  41/1         30  36  41        35.5 -> 36 (even)
  p.count_include_pad = false;
  kernels::avgpool2d_int8_ref(p, x.data(), 1.0f, 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{10, 15, 20, 20, 25, 30, 30, 36, 41}));
  // With the pads every window counts 4 cells:
  //   2.5 -> 2, 7.5 -> 8, 5;  10, 25.25 -> 25, 15.25 -> 15;  7.5 -> 8, 17.75 -> 18, 10.25 -> 10
  p.count_include_pad = true;
  kernels::avgpool2d_int8_ref(p, x.data(), 1.0f, 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{2, 8, 5, 10, 25, 15, 8, 18, 10}));
  // Another output scale: input 0.5, output 0.25 doubles the quotient: the centre 101*0.5/4 =
  // 12.625 -> /0.25 = 50.5 -> 50 (even).
  kernels::avgpool2d_int8_ref(p, x.data(), 0.5f, 0.25f, y.data());
  EXPECT_EQ(y[4], 50);
}

TEST(Int8CpuReference, AveragePoolWindowWithNoCellGivesZero) {
  // A 1x1 window with pads 1 over a 1x1 input: outputs 3x3 (stride 1), only the centre sees the
  // cell; every other window has count 0 without the pads -> 0. With the pads, count 1: 0 / 1 = 0.
  const Bytes x = {-7};
  Pool2dShape p = pool_shape(1, 1, 1, 1, 3, 3);
  Bytes y(9, 99);
  kernels::avgpool2d_int8_ref(p, x.data(), 1.0f, 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{0, 0, 0, 0, -7, 0, 0, 0, 0}));
}

TEST(Int8CpuReference, MaxPoolSkipsPaddingAndEmptyWindowsGiveMinus128) {
  // x = -5 7 / 3 -128, 2x2 windows, stride 1, pads 1: each output the max of the cells inside.
  //   -5   7   7
  //    3   7   7
  //    3   3 -128
  const Bytes x = {-5, 7, 3, -128};
  Bytes y(9);
  kernels::maxpool2d_int8_ref(pool_shape(2, 2, 2, 1, 3, 3), x.data(), y.data());
  EXPECT_EQ(y, (Bytes{-5, 7, 7, 3, 7, 7, 3, 3, -128}));
  // 1x1 windows with pads 1 over a 1x1 input: only the centre holds the cell.
  const Bytes one = {42};
  kernels::maxpool2d_int8_ref(pool_shape(1, 1, 1, 1, 3, 3), one.data(), y.data());
  EXPECT_EQ(y, (Bytes{-128, -128, -128, -128, 42, -128, -128, -128, -128}));
}

TEST(Int8CpuReference, GlobalAveragePoolSumsThePlane) {
  // channel 0: 1+2+3+4 = 10, * 0.5 = 5, / 4 = 1.25, / 0.25 = 5
  // channel 1: -128*3 - 127 = -511, * 0.5 = -255.5, / 4 = -63.875, / 0.25 = -255.5 -> -128
  // channel 2: 1+1+1+2 = 5 -> 2.5 / 4 = 0.625 / 0.25 = 2.5 -> 2 (even)
  const Bytes x = {1, 2, 3, 4, -128, -128, -128, -127, 1, 1, 1, 2};
  Bytes y(3);
  kernels::global_avgpool_int8_ref(x.data(), 1, 3, 2, 2, 0.5f, 0.25f, y.data());
  EXPECT_EQ(y, (Bytes{5, -128, 2}));
}

TEST(Int8CpuReference, ConcatRequantizesEachInput) {
  // n = 2 images, h*w = 2. Input 0: 1 channel, scale 0.5; input 1: 2 channels, scale 2; out scale 1.
  //   input 0 image 0 (10, -128) -> 5, -64;   image 1 (3, 5) -> 1.5 -> 2, 2.5 -> 2 (even)
  //   input 1 image 0 (100, -3, 1, 0) -> 200 -> 127, -6, 2, 0;   image 1 (-64, -65, 63, 64)
  //            -> -128, -130 -> -128, 126, 128 -> 127
  const Bytes a = {10, -128, 3, 5};
  const Bytes b = {100, -3, 1, 0, -64, -65, 63, 64};
  Bytes y(12);
  kernels::concat_int8_ref({a.data(), b.data()}, {1, 2}, {0.5f, 2.0f}, 2, 1, 2, 1.0f, y.data());
  EXPECT_EQ(y, (Bytes{5, -64, 127, -6, 2, 0, 2, 2, -128, -128, 126, 127}));
  // Equal scales: the bytes themselves, -128 and 127 included.
  kernels::concat_int8_ref({a.data(), b.data()}, {1, 2}, {0.3f, 0.3f}, 2, 1, 2, 0.3f, y.data());
  EXPECT_EQ(y, (Bytes{10, -128, 100, -3, 1, 0, 3, 5, -64, -65, 63, 64}));
}

// ---- im2col == reference ---------------------------------------------------------------------------

struct ConvCase {
  Conv2dShape shape;
  bool output_int8 = true;
  enum class Residual { kNone, kInt8, kFloat } residual = Residual::kNone;
  bool bias = true;
  Activation activation = Activation::kNone;
  int threads = 0;
  uint32_t seed = 0;

  std::string id() const {
    const Conv2dShape& p = shape;
    std::ostringstream s;
    s << "n" << p.n << " c" << p.c << " h" << p.h << " w" << p.w << " k" << p.k << " r" << p.r << " s" << p.s
      << " stride" << p.stride_h << " pad" << p.pad_top << " dil" << p.dilation_h << " g" << p.groups
      << (output_int8 ? " int8-out" : " float-out")
      << (residual == Residual::kInt8 ? " res-int8" : residual == Residual::kFloat ? " res-float" : "")
      << (bias ? " bias" : "") << " act" << static_cast<int>(activation) << " threads" << threads << " seed "
      << seed;
    return s.str();
  }
};

Bytes random_bytes(size_t count, std::mt19937& engine) {
  std::uniform_int_distribution<int> dist(-128, 127);
  Bytes v(count);
  for (int8_t& b : v) b = static_cast<int8_t>(dist(engine));
  return v;
}

Floats random_floats(size_t count, std::mt19937& engine, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  Floats v(count);
  for (float& f : v) f = dist(engine);
  return v;
}

// Whole outputs compared with ==; on a mismatch, the count and the first differing element instead
// of two printed vectors of thousands of values.
template <typename T>
void expect_same_elements(const std::vector<T>& got, const std::vector<T>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == expected[i]) continue;
    if (mismatches++ == 0) first = i;
  }
  EXPECT_EQ(mismatches, 0u) << "first at element " << first << ": " << +got[first] << " vs reference "
                            << +expected[first];
}

// Runs one case through both kernels and compares the whole output.
void expect_im2col_equals_reference(const ConvCase& cc) {
  SCOPED_TRACE(cc.id());
  const Conv2dShape& p = cc.shape;
  std::mt19937 engine(cc.seed);
  const Bytes x = random_bytes(static_cast<size_t>(p.n * p.c * p.h * p.w), engine);
  const Bytes w = random_bytes(static_cast<size_t>(p.k * p.c_per_group() * p.r * p.s), engine);
  const size_t outputs = static_cast<size_t>(p.n * p.k * p.oh * p.ow);
  // Scales near what calibration gives: the typical |acc| is ~ 128^2 * sqrt(terms), so with
  // combined scale ~1e-4 and output scale ~0.05 outputs spread over the int8 range and saturate
  // sometimes.
  const Floats combined = random_floats(static_cast<size_t>(p.k), engine, 2e-5f, 2e-4f);
  const Floats bias = random_floats(static_cast<size_t>(p.k), engine, -2.0f, 2.0f);
  const Bytes residual_q = random_bytes(outputs, engine);
  const Floats residual_f = random_floats(outputs, engine, -3.0f, 3.0f);

  kernels::Int8ConvEpilogue e;
  e.combined_scale = combined.data();
  if (cc.bias) e.bias = bias.data();
  if (cc.residual == ConvCase::Residual::kInt8) {
    e.residual_int8 = residual_q.data();
    e.residual_scale = 0.03f;
  }
  if (cc.residual == ConvCase::Residual::kFloat) e.residual_f32 = residual_f.data();
  e.activation.kind = cc.activation;
  e.activation.alpha = 0.0f;  // Clip: ReLU6
  e.activation.beta = 6.0f;
  e.output_int8 = cc.output_int8;
  e.output_scale = 0.05f;

  if (cc.output_int8) {
    Bytes expected(outputs), y(outputs, 55);
    kernels::conv2d_int8_ref(p, x.data(), w.data(), e, expected.data());
    kernels::conv2d_int8_im2col(p, x.data(), w.data(), e, y.data(), cc.threads);
    expect_same_elements(y, expected);
    // Not vacuous: the outputs take many values.
    int64_t distinct_from_first = 0;
    for (int8_t v : expected) distinct_from_first += v != expected[0];
    if (outputs > 16) {
      EXPECT_GT(distinct_from_first, 0);
    }
  } else {
    Floats expected(outputs), y(outputs, 55.0f);
    kernels::conv2d_int8_ref(p, x.data(), w.data(), e, expected.data());
    kernels::conv2d_int8_im2col(p, x.data(), w.data(), e, y.data(), cc.threads);
    expect_same_elements(bits_of(y), bits_of(expected));
  }
}

TEST(Int8CpuIm2col, EqualsReferenceOnHandPickedShapes) {
  // n c h w k r s stride pad dilation groups
  const std::vector<Conv2dShape> shapes = {
      conv_shape(1, 3, 11, 9, 5, 3, 3, 1, 1, 1, 1),     // odd channels, 3x3 pad 1
      conv_shape(1, 1, 28, 28, 8, 5, 5, 1, 2, 1, 1),    // one input channel, 5x5
      conv_shape(2, 7, 13, 10, 9, 3, 3, 2, 1, 1, 1),    // stride 2
      conv_shape(1, 5, 17, 14, 7, 3, 2, 3, 2, 1, 1),    // stride 3, non-square kernel
      conv_shape(1, 6, 12, 12, 9, 3, 3, 1, 1, 1, 3),    // groups 3
      conv_shape(2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 8),      // depthwise
      conv_shape(1, 12, 10, 10, 24, 3, 3, 2, 1, 1, 12), // depthwise, channel multiplier 2
      conv_shape(1, 4, 15, 15, 6, 3, 3, 1, 2, 2, 1),    // dilation 2
      conv_shape(1, 3, 14, 12, 5, 3, 3, 2, 3, 3, 1),    // dilation 3, stride 2, pad 3
      conv_shape(33, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1),     // batch 33
      conv_shape(33, 64, 1, 1, 10, 1, 1, 1, 0, 1, 1),   // a Gemm: M = 33, K_in = 64, N_out = 10
      conv_shape(1, 67, 7, 7, 131, 1, 1, 1, 0, 1, 1),   // 1x1, odd channels past a tile
      conv_shape(2, 130, 5, 5, 3, 3, 3, 1, 1, 1, 1),    // long rows (1170 lanes)
      conv_shape(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),      // one multiply
  };
  uint32_t seed = 1;
  for (const Conv2dShape& shape : shapes) {
    for (int variant = 0; variant < 4; ++variant) {
      ConvCase cc;
      cc.shape = shape;
      cc.output_int8 = variant % 2 == 0;
      cc.residual = variant == 1 ? ConvCase::Residual::kInt8 : variant == 2 ? ConvCase::Residual::kFloat
                                                                           : ConvCase::Residual::kNone;
      cc.bias = variant != 3;
      cc.activation = variant == 0 ? Activation::kRelu : variant == 3 ? Activation::kClip : Activation::kNone;
      cc.threads = variant + 1;
      cc.seed = seed++;
      expect_im2col_equals_reference(cc);
    }
  }
}

TEST(Int8CpuIm2col, EqualsReferenceOnRandomShapes) {
  for (uint32_t seed = 100; seed < 160; ++seed) {
    std::mt19937 engine(seed);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine); };
    const int groups_kind = pick(0, 2);  // 0: dense, 1: grouped, 2: depthwise
    const int64_t groups = groups_kind == 0 ? 1 : groups_kind == 1 ? pick(2, 3) : pick(2, 9);
    const int64_t c = groups * (groups_kind == 2 ? 1 : pick(1, 5));
    const int64_t k = groups * pick(1, 5);
    const int64_t r = pick(1, 4);
    const int64_t s = pick(1, 4);
    const int64_t stride = pick(1, 3);
    const int64_t dilation = pick(1, 2);
    const int64_t pad = pick(0, 2);
    const int64_t n = pick(0, 4) == 0 ? 33 : pick(1, 3);
    // Big enough for the kernel span.
    const int64_t h = dilation * (r - 1) + 1 + pick(0, 9);
    const int64_t w = dilation * (s - 1) + 1 + pick(0, 9);
    ConvCase cc;
    cc.shape = conv_shape(n, c, h, w, k, r, s, stride, pad, dilation, groups);
    cc.output_int8 = pick(0, 1) == 1;
    cc.residual = static_cast<ConvCase::Residual>(pick(0, 2));
    cc.bias = pick(0, 1) == 1;
    cc.activation = static_cast<Activation>(pick(0, 3));  // none, relu, clip, leaky relu
    cc.threads = pick(0, 3);
    cc.seed = seed;
    expect_im2col_equals_reference(cc);
  }
}

// ---- the CPU backend -------------------------------------------------------------------------------

class Int8GraphBuilder {
 public:
  ValueId input(const std::string& name, const Dims& dims) {
    const ValueId id = value(name, DataType::kFloat32, dims, std::nullopt);
    graph.inputs.push_back(id);
    graph.input_batched.push_back(true);
    return id;
  }
  ValueId value(const std::string& name, DataType type, const Dims& dims, std::optional<float> scale) {
    return graph.add_value(Value{name, type, dims, std::nullopt, scale, std::nullopt});
  }
  ValueId constant(const std::string& name, Tensor tensor) {
    const DataType type = tensor.type();
    const Dims dims = tensor.dims();
    return graph.add_value(Value{name, type, dims, std::move(tensor), std::nullopt, std::nullopt});
  }
  template <typename T>
  ValueId constant(const std::string& name, const Dims& dims, const std::vector<T>& values) {
    Tensor t(data_type_of<T>(), dims);
    std::memcpy(t.raw(), values.data(), t.bytes());
    return constant(name, std::move(t));
  }
  // A node writing `out`; INT8 layers get precision kInt8.
  Node& node(OpKind op, const std::string& name, std::vector<ValueId> inputs, ValueId out, NodeAttributes attrs,
             Precision precision) {
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    n.precision = precision;
    graph.nodes.push_back(std::move(n));
    return graph.nodes.back();
  }

  Graph graph;
};

Tensor float_tensor(const Dims& dims, const Floats& values) {
  Tensor t(DataType::kFloat32, dims);
  std::memcpy(t.raw(), values.data(), t.bytes());
  return t;
}

Floats floats_of(const Tensor& t) { return Floats(t.data<float>(), t.data<float>() + t.numel()); }

std::vector<Floats> run_both_paths(const Graph& graph, const Tensor& input) {
  std::vector<Floats> results;
  for (bool reference : {true, false}) {
    BackendOptions options;
    options.reference = reference;
    options.threads = 2;
    auto context = create_context(graph, BackendKind::kCpu, options);
    const std::vector<Tensor> out = context->run({input});
    EXPECT_EQ(out.size(), 1u);
    results.push_back(floats_of(out.at(0)));
  }
  return results;
}

TEST(Int8CpuBackend, QuantizeConvMaxPoolDequantizeEqualsTheKernels) {
  // x [2, 3, 6, 5] float -> QuantizeLinear (scale 0.02) -> INT8 Conv 3x3 pad 1, 4 filters, bias, ReLU
  // (out scale 0.05) -> INT8 MaxPool 2x2 stride 2 -> DequantizeLinear.
  const float x_scale = 0.02f, y_scale = 0.05f;
  const Conv2dShape cs = conv_shape(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1);
  std::mt19937 engine(7);
  const Floats x = random_floats(static_cast<size_t>(2 * 3 * 6 * 5), engine, -2.5f, 2.5f);  // some saturate
  const Floats w_float = random_floats(static_cast<size_t>(4 * 3 * 3 * 3), engine, -0.5f, 0.5f);
  Bytes w(w_float.size());
  const Floats w_scales = kernels::quantize_weights_per_channel(w_float.data(), 4, 27, w.data());
  const Floats bias = {0.1f, -0.2f, 0.3f, 0.0f};

  Int8GraphBuilder b;
  const ValueId in = b.input("x", {2, 3, 6, 5});
  const ValueId xq = b.value("x_q", DataType::kInt8, {2, 3, 6, 5}, x_scale);
  b.node(OpKind::QuantizeLinear, "quantize", {in}, xq, {}, Precision::kFloat32);
  const ValueId wq = b.constant("w_q", {4, 3, 3, 3}, w);
  const ValueId bq = b.constant("bias", {4}, bias);
  const ValueId yq = b.value("conv_out", DataType::kInt8, {2, 4, 6, 5}, y_scale);
  ConvAttrs ca;
  ca.kernel_h = ca.kernel_w = 3;
  ca.pad_top = ca.pad_left = ca.pad_bottom = ca.pad_right = 1;
  ca.epilogue.activation.kind = Activation::kRelu;
  b.node(OpKind::Conv, "conv", {xq, wq, bq}, yq, ca, Precision::kInt8).weight_scales = w_scales;
  const ValueId pq = b.value("pool_out", DataType::kInt8, {2, 4, 3, 2}, y_scale);
  PoolAttrs pa;
  pa.kernel_h = pa.kernel_w = 2;
  pa.stride_h = pa.stride_w = 2;
  b.node(OpKind::MaxPool, "pool", {yq}, pq, pa, Precision::kInt8);
  const ValueId out = b.value("y", DataType::kFloat32, {2, 4, 3, 2}, std::nullopt);
  b.node(OpKind::DequantizeLinear, "dequantize", {pq}, out, {}, Precision::kFloat32);
  b.graph.outputs.push_back(out);

  // The same computation with the kernels.
  Bytes x8(x.size());
  kernels::quantize_ref(x.data(), static_cast<int64_t>(x.size()), x_scale, x8.data());
  Floats combined;
  for (float s : w_scales) combined.push_back(x_scale * s);
  kernels::Int8ConvEpilogue e;
  e.combined_scale = combined.data();
  e.bias = bias.data();
  e.activation.kind = Activation::kRelu;
  e.output_scale = y_scale;
  Bytes conv8(static_cast<size_t>(2 * 4 * 6 * 5));
  kernels::conv2d_int8_ref(cs, x8.data(), w.data(), e, conv8.data());
  Pool2dShape ps;
  ps.n = 2;
  ps.c = 4;
  ps.h = 6;
  ps.w = 5;
  ps.oh = 3;
  ps.ow = 2;
  ps.kernel_h = ps.kernel_w = 2;
  ps.stride_h = ps.stride_w = 2;
  Bytes pool8(static_cast<size_t>(2 * 4 * 3 * 2));
  kernels::maxpool2d_int8_ref(ps, conv8.data(), pool8.data());
  Floats expected(pool8.size());
  kernels::dequantize_ref(pool8.data(), static_cast<int64_t>(pool8.size()), y_scale, expected.data());

  int64_t nonzero = 0;
  for (float v : expected) nonzero += v != 0.0f;
  EXPECT_GT(nonzero, 8);  // ReLU left enough positives for the comparison to mean something
  for (const Floats& got : run_both_paths(b.graph, float_tensor({2, 3, 6, 5}, x))) EXPECT_EQ(got, expected);
}

TEST(Int8CpuBackend, ConcatAveragePoolsAndInt8GemmWithFloatOutput) {
  // x [3, 2, 4, 4] -> Q (0.05) -> conv_a 1x1 (out 0.04, int8 residual = x_q itself) and conv_b 3x3
  // pad 1 (out 0.1, float residual = x) -> Concat (0.08) -> AveragePool 2x2 stride 2
  // count_include_pad (0.06) -> GlobalAveragePool (0.03) -> Reshape [3, 4] -> INT8 Gemm, 5 outputs,
  // bias, float out.
  const float sx = 0.05f, sa = 0.04f, sb = 0.1f, sc = 0.08f, sp = 0.06f, sg = 0.03f;
  std::mt19937 engine(11);
  const Floats x = random_floats(static_cast<size_t>(3 * 2 * 4 * 4), engine, -3.0f, 3.0f);
  auto quantized_weights = [&](int64_t k, int64_t row, Bytes& q) {
    const Floats wf = random_floats(static_cast<size_t>(k * row), engine, -1.0f, 1.0f);
    q.resize(wf.size());
    return kernels::quantize_weights_per_channel(wf.data(), k, row, q.data());
  };
  Bytes wa, wb, wg;
  const Floats sa_w = quantized_weights(2, 2, wa);
  const Floats sb_w = quantized_weights(2, 18, wb);
  const Floats sg_w = quantized_weights(5, 4, wg);
  const Floats gemm_bias = {0.5f, -0.5f, 0.25f, 0.0f, 1.0f};

  Int8GraphBuilder b;
  const ValueId in = b.input("x", {3, 2, 4, 4});
  const ValueId xq = b.value("x_q", DataType::kInt8, {3, 2, 4, 4}, sx);
  b.node(OpKind::QuantizeLinear, "quantize", {in}, xq, {}, Precision::kFloat32);
  ConvAttrs a1;
  a1.epilogue.has_residual = true;
  const ValueId ya = b.value("a", DataType::kInt8, {3, 2, 4, 4}, sa);
  b.node(OpKind::Conv, "conv_a", {xq, b.constant("wa", {2, 2, 1, 1}, wa), kNoValue, xq}, ya, a1, Precision::kInt8)
      .weight_scales = sa_w;
  ConvAttrs a3;
  a3.kernel_h = a3.kernel_w = 3;
  a3.pad_top = a3.pad_left = a3.pad_bottom = a3.pad_right = 1;
  a3.epilogue.has_residual = true;
  a3.epilogue.activation.kind = Activation::kRelu;
  const ValueId yb = b.value("b", DataType::kInt8, {3, 2, 4, 4}, sb);
  b.node(OpKind::Conv, "conv_b", {xq, b.constant("wb", {2, 2, 3, 3}, wb), kNoValue, in}, yb, a3, Precision::kInt8)
      .weight_scales = sb_w;
  const ValueId cat = b.value("cat", DataType::kInt8, {3, 4, 4, 4}, sc);
  b.node(OpKind::Concat, "concat", {ya, yb}, cat, ConcatAttrs{1}, Precision::kInt8);
  PoolAttrs pa;
  pa.kernel_h = pa.kernel_w = 3;
  pa.stride_h = pa.stride_w = 2;
  pa.pad_top = pa.pad_left = pa.pad_bottom = pa.pad_right = 1;
  pa.count_include_pad = true;
  const ValueId avg = b.value("avg", DataType::kInt8, {3, 4, 2, 2}, sp);
  b.node(OpKind::AveragePool, "avgpool", {cat}, avg, pa, Precision::kInt8);
  const ValueId gap = b.value("gap", DataType::kInt8, {3, 4, 1, 1}, sg);
  b.node(OpKind::GlobalAveragePool, "gap", {avg}, gap, {}, Precision::kInt8);
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  const ValueId flat = b.value("flat", DataType::kInt8, {3, 4}, sg);
  b.node(OpKind::Reshape, "flatten", {gap}, flat, flatten, Precision::kFloat32);
  GemmAttrs ga;
  ga.trans_b = true;
  const ValueId out = b.value("y", DataType::kFloat32, {3, 5}, std::nullopt);
  b.node(OpKind::Gemm, "fc", {flat, b.constant("wg", {5, 4}, wg), b.constant("bg", {5}, gemm_bias)}, out, ga,
         Precision::kInt8)
      .weight_scales = sg_w;
  b.graph.outputs.push_back(out);

  // The same with the kernels.
  auto combined = [](float s_in, const Floats& s_w) {
    Floats c;
    for (float s : s_w) c.push_back(s_in * s);
    return c;
  };
  Bytes x8(x.size());
  kernels::quantize_ref(x.data(), static_cast<int64_t>(x.size()), sx, x8.data());
  const Floats ca = combined(sx, sa_w), cb = combined(sx, sb_w), cg = combined(sg, sg_w);
  kernels::Int8ConvEpilogue ea;
  ea.combined_scale = ca.data();
  ea.residual_int8 = x8.data();
  ea.residual_scale = sx;
  ea.output_scale = sa;
  Bytes a8(x8.size()), b8(x8.size());
  kernels::conv2d_int8_ref(conv_shape(3, 2, 4, 4, 2, 1, 1, 1, 0, 1, 1), x8.data(), wa.data(), ea, a8.data());
  kernels::Int8ConvEpilogue eb;
  eb.combined_scale = cb.data();
  eb.residual_f32 = x.data();
  eb.activation.kind = Activation::kRelu;
  eb.output_scale = sb;
  kernels::conv2d_int8_ref(conv_shape(3, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1), x8.data(), wb.data(), eb, b8.data());
  Bytes cat8(static_cast<size_t>(3 * 4 * 16));
  kernels::concat_int8_ref({a8.data(), b8.data()}, {2, 2}, {sa, sb}, 3, 4, 4, sc, cat8.data());
  Pool2dShape ps;
  ps.n = 3;
  ps.c = 4;
  ps.h = ps.w = 4;
  ps.oh = ps.ow = 2;
  ps.kernel_h = ps.kernel_w = 3;
  ps.stride_h = ps.stride_w = 2;
  ps.pad_top = ps.pad_left = ps.pad_bottom = ps.pad_right = 1;
  ps.count_include_pad = true;
  Bytes avg8(static_cast<size_t>(3 * 4 * 4));
  kernels::avgpool2d_int8_ref(ps, cat8.data(), sc, sp, avg8.data());
  Bytes gap8(12);
  kernels::global_avgpool_int8_ref(avg8.data(), 3, 4, 2, 2, sp, sg, gap8.data());
  kernels::Int8ConvEpilogue eg;
  eg.combined_scale = cg.data();
  eg.bias = gemm_bias.data();
  eg.output_int8 = false;
  Floats expected(15);
  kernels::conv2d_int8_ref(conv_shape(3, 4, 1, 1, 5, 1, 1, 1, 0, 1, 1), gap8.data(), wg.data(), eg, expected.data());

  int64_t nonzero_gap = 0;
  for (int8_t v : gap8) nonzero_gap += v != 0;
  EXPECT_GT(nonzero_gap, 3);  // the Gemm sees more than its bias
  for (const Floats& got : run_both_paths(b.graph, float_tensor({3, 2, 4, 4}, x)))
    EXPECT_EQ(bits_of(got), bits_of(expected));
}

}  // namespace
}  // namespace octet
