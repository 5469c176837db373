// kernels/float_math.h against double-precision libm: the largest error in ulp over a sweep of float
// bit patterns (every 1009th in the function's range: ~4 million inputs each), and the special
// values. The bounds are what the sweep measured (2026-12-07), rounded up; a change to an algorithm
// that loses accuracy fails here. (Its bit-identity with the GPU is tests/cuda/test_float_math_cuda.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/float_math.h"

namespace octet::kernels {
namespace {

// |got - want| in units of the last place of `want` rounded to float (the subnormal spacing below
// the normal range). 0 when both are the same infinity.
double ulp_error(float got, double want) {
  const float nearest = static_cast<float>(want);
  if (std::isinf(nearest)) return got == nearest ? 0.0 : std::numeric_limits<double>::infinity();
  const double ulp = std::fabs(want) < std::numeric_limits<float>::min()
                         ? std::numeric_limits<float>::denorm_min()
                         : std::ldexp(1.0, std::ilogb(want) - 23);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

template <typename F, typename G>
double worst_ulp_error(float lo, float hi, F octet_function, G libm_function) {
  double worst = 0.0;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 1009) {
    const float x = float_from_bits(static_cast<uint32_t>(b));
    if (!(x >= lo && x <= hi)) continue;
    worst = std::max(worst, ulp_error(octet_function(x), libm_function(static_cast<double>(x))));
  }
  return worst;
}

TEST(FloatMath, ExpWithinTwoUlp) {  // measured 1.18
  EXPECT_LE(worst_ulp_error(-104.0f, 89.0f, exp_f32, [](double x) { return std::exp(x); }), 2.0);
}

TEST(FloatMath, LogWithinTwoUlp) {  // measured 1.89
  EXPECT_LE(worst_ulp_error(0.0f, std::numeric_limits<float>::max(), log_f32, [](double x) { return std::log(x); }),
            2.0);
}

TEST(FloatMath, Log1pWithinFourUlp) {  // measured 3.68
  EXPECT_LE(worst_ulp_error(-0.999f, 3e38f, log1p_f32, [](double x) { return std::log1p(x); }), 4.0);
}

TEST(FloatMath, TanhWithinTwoUlp) {  // measured 1.43
  EXPECT_LE(worst_ulp_error(-20.0f, 20.0f, tanh_f32, [](double x) { return std::tanh(x); }), 2.0);
}

TEST(FloatMath, ErfWithinFourUlp) {  // measured 3.23
  EXPECT_LE(worst_ulp_error(-12.0f, 12.0f, erf_f32, [](double x) { return std::erf(x); }), 4.0);
}

TEST(FloatMath, ErfcWithinSevenUlp) {  // measured 6.54 (near 0.82: the Chebyshev fit's own 1.2e-7)
  EXPECT_LE(worst_ulp_error(-12.0f, 9.5f, erfc_f32, [](double x) { return std::erfc(x); }), 7.0);
}

TEST(FloatMath, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-0.0f), 1.0f);
  EXPECT_EQ(exp_f32(inf), inf);
  EXPECT_EQ(exp_f32(-inf), 0.0f);
  EXPECT_EQ(exp_f32(89.0f), inf);
  EXPECT_GT(exp_f32(-103.0f), 0.0f);  // subnormal, not flushed
  EXPECT_TRUE(std::isnan(exp_f32(nan)));
  EXPECT_EQ(log_f32(1.0f), 0.0f);
  EXPECT_EQ(log_f32(0.0f), -inf);
  EXPECT_EQ(log_f32(-0.0f), -inf);
  EXPECT_EQ(log_f32(inf), inf);
  EXPECT_TRUE(std::isnan(log_f32(-1.0f)));
  EXPECT_TRUE(std::isnan(log_f32(nan)));
  EXPECT_NEAR(log_f32(std::numeric_limits<float>::denorm_min()), std::log(1.401298464324817e-45), 1e-5);
  EXPECT_EQ(log1p_f32(0.0f), 0.0f);
  EXPECT_EQ(log1p_f32(-1.0f), -inf);
  EXPECT_EQ(log1p_f32(1e-10f), 1e-10f);
  EXPECT_EQ(tanh_f32(0.0f), 0.0f);
  EXPECT_EQ(tanh_f32(inf), 1.0f);
  EXPECT_EQ(tanh_f32(-inf), -1.0f);
  EXPECT_EQ(erf_f32(0.0f), 0.0f);
  EXPECT_EQ(erf_f32(inf), 1.0f);
  EXPECT_EQ(erf_f32(-inf), -1.0f);
  EXPECT_EQ(erfc_f32(inf), 0.0f);
  EXPECT_EQ(erfc_f32(-inf), 2.0f);
  for (float (*f)(float) : {tanh_f32, erf_f32, erfc_f32, log1p_f32}) EXPECT_TRUE(std::isnan(f(nan)));
}

}  // namespace
}  // namespace octet::kernels
