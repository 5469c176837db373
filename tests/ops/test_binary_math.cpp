// Pow, Max, Min and PRelu (engine/ops/pow_min_max.cpp, engine/ops/prelu.cpp, kernels/binary_math.h):
// hand-worked values with broadcasting, the special exponents, NaN, batch re-inference and the
// refusals; every case on every backend against the CPU reference.
#include <cmath>
#include <limits>

#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Pow of x by a constant scalar exponent.
OpRun pow_by_constant(float exponent, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  ModelBuilder b(13);
  b.input("x", {n}).output("y", {n});
  b.initializer("e", {}, std::vector<float>{exponent});
  b.node("Pow", {"x", "e"}, {"y"});
  return run_everywhere(b, {make_host_tensor<float>({n}, x)});
}

TEST(BinaryMathOps, PowSquaresExactly) {
  const OpRun r = pow_by_constant(2.0f, {-3.0f, -0.5f, 0.0f, 1.5f, 4.0f, 1.1f});
  expect_close(r.outputs[0], {9.0f, 0.25f, 0.0f, 2.25f, 16.0f, 1.1f * 1.1f}, 0.0);
}

// Exponent 0.5 is sqrtf, with pow's +0 at -0 and +inf at -inf; a negative base gives NaN.
TEST(BinaryMathOps, PowHalfIsTheSquareRoot) {
  const OpRun r = pow_by_constant(0.5f, {0.0f, 0.25f, 2.0f, 16.0f, -0.0f, -kInf, kInf, -4.0f});
  const float* y = r.outputs[0].data<float>();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.5f);
  EXPECT_EQ(y[2], std::sqrt(2.0f));
  EXPECT_EQ(y[3], 4.0f);
  EXPECT_EQ(y[4], 0.0f);
  EXPECT_FALSE(std::signbit(y[4])) << "pow(-0, 0.5) is +0";
  EXPECT_EQ(y[5], kInf);
  EXPECT_EQ(y[6], kInf);
  EXPECT_TRUE(std::isnan(y[7]));
}

// Other exponents go through powf; the exponent tensor broadcasts along the rows.
TEST(BinaryMathOps, PowBroadcastsTheExponent) {
  ModelBuilder b(15);
  b.input("x", {2, 3}).input("e", {3}).output("y", {2, 3});
  b.node("Pow", {"x", "e"}, {"y"});
  const std::vector<float> x = {2.0f, 4.0f, 16.0f, 1.5f, -2.0f, 0.3f};
  const std::vector<float> e = {3.0f, -1.0f, 0.25f};
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, x), make_host_tensor<float>({3}, e)});
  std::vector<float> expected;
  for (size_t i = 0; i < x.size(); ++i)
    expected.push_back(static_cast<float>(std::pow(double(x[i]), double(e[i % 3]))));
  expect_close(r.outputs[0], expected, 1e-6);  // 8, 0.25, 2, 3.375, -0.5, 0.3^0.25
}

// Many powf results: the CUDA comparison holds them to binary_math_relative_error (two libms).
TEST(BinaryMathOps, PowOfManyValuesAgreesWithDouble) {
  const int64_t n = 4096;
  std::vector<float> x(static_cast<size_t>(n)), e(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    x[static_cast<size_t>(i)] = 0.01f + 0.037f * static_cast<float>(i % 997);
    e[static_cast<size_t>(i)] = -3.0f + 0.0061f * static_cast<float>(i % 1013);
  }
  ModelBuilder b(15);
  b.input("x", {n}).input("e", {n}).output("y", {n});
  b.node("Pow", {"x", "e"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({n}, x), make_host_tensor<float>({n}, e)});
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::pow(double(x[i]), double(e[i]));
    ASSERT_NEAR(r.outputs[0].data<float>()[i], want, 2 * std::fabs(want) * std::numeric_limits<float>::epsilon())
        << x[i] << " ^ " << e[i];
  }
}

// Max of [2, 3], [3] and [2, 1]: every input broadcasts to [2, 3].
TEST(BinaryMathOps, MaxOfThreeBroadcastInputs) {
  ModelBuilder b(13);
  b.input("a", {2, 3}).input("b", {3}).input("c", {2, 1}).output("y", {2, 3});
  b.node("Max", {"a", "b", "c"}, {"y"});
  const OpRun r =
      run_everywhere(b, {make_host_tensor<float>({2, 3}, {1, 8, -3, 0, 2, 9}), make_host_tensor<float>({3}, {4, 5, 6}),
                         make_host_tensor<float>({2, 1}, {5, -1})});
  expect_close(r.outputs[0], {5, 8, 6, 4, 5, 9}, 0.0);
}

TEST(BinaryMathOps, MinOfThreeBroadcastInputs) {
  ModelBuilder b(13);
  b.input("a", {2, 3}).input("b", {3}).input("c", {2, 1}).output("y", {2, 3});
  b.node("Min", {"a", "b", "c"}, {"y"});
  const OpRun r =
      run_everywhere(b, {make_host_tensor<float>({2, 3}, {1, 8, -3, 0, 2, 9}), make_host_tensor<float>({3}, {4, 5, 6}),
                         make_host_tensor<float>({2, 1}, {5, -1})});
  expect_close(r.outputs[0], {1, 5, -3, -1, -1, -1}, 0.0);
}

// numpy semantics: a NaN on either side wins (fmaxf/fminf would return the other operand).
TEST(BinaryMathOps, MaxAndMinPropagateNan) {
  for (const char* op : {"Max", "Min"}) {
    ModelBuilder b(13);
    b.input("a", {3}).input("b", {3}).output("y", {3});
    b.node(op, {"a", "b"}, {"y"});
    const OpRun r =
        run_everywhere(b, {make_host_tensor<float>({3}, {kNan, 1, 2}), make_host_tensor<float>({3}, {1, kNan, 3})});
    const float* y = r.outputs[0].data<float>();
    EXPECT_TRUE(std::isnan(y[0])) << op;
    EXPECT_TRUE(std::isnan(y[1])) << op;
    EXPECT_EQ(y[2], std::string(op) == "Max" ? 3.0f : 2.0f) << op;
  }
}

TEST(BinaryMathOps, MaxOfOneInputIsTheInput) {
  ModelBuilder b(13);
  b.input("a", {3}).output("y", {3});
  b.node("Max", {"a"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3}, {1, -2, 3})});
  for (const Node& node : r.graph.nodes) EXPECT_NE(node.op, OpKind::Max);
  expect_close(r.outputs[0], {1, -2, 3}, 0.0);
}

// The usual PRelu of a convolution's output: one slope per channel, [C, 1, 1].
TEST(BinaryMathOps, PReluWithPerChannelSlopes) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 2}).output("y", {1, 2, 2, 2});
  b.initializer("slope", {2, 1, 1}, std::vector<float>{0.25f, 0.5f});
  b.node("PRelu", {"x", "slope"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 2, 2, 2}, {-4, 3, -0.0f, 1, -2, 5, -8, 0})});
  expect_close(r.outputs[0], {-1, 3, 0, 1, -1, 5, -4, 0}, 0.0);
}

TEST(BinaryMathOps, PReluBatchChangeReinfers) {
  ModelBuilder b(13);
  b.input("x", {kSymbolicDim, 3}).output("y", {kSymbolicDim, 3});
  b.initializer("slope", {3}, std::vector<float>{0.1f, 0.2f, 0.3f});
  b.node("PRelu", {"x", "slope"}, {"y"});
  Graph g = import_model(b);
  set_batch(g, 2);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({2, 3}, {-10, -10, -10, 1, -1, 2})});
  EXPECT_EQ(r.outputs[0].dims(), (Dims{2, 3}));
  expect_close(r.outputs[0], {0.1f * -10, 0.2f * -10, 0.3f * -10, 1, 0.2f * -1, 2}, 0.0);
}

TEST(BinaryMathOps, PReluSlopeThatDoesNotBroadcastIsAnErrorNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 2}).output("y", {1, 2, 2, 2});
  b.initializer("slope", {3}, std::vector<float>{0.25f, 0.5f, 0.75f});
  b.node("PRelu", {"x", "slope"}, {"y"}, "prelu_bad");
  expect_error_mentioning([&] { import_model(b); }, {"prelu_bad", "slope dims [3]", "[1, 2, 2, 2]"});
}

TEST(BinaryMathOps, IntegerExponentIsUnsupportedNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {3}).output("y", {3});
  b.initializer("e", {}, std::vector<int64_t>{2});
  b.node("Pow", {"x", "e"}, {"y"}, "pow_int");
  expect_error_mentioning([&] { import_model(b); }, {"pow_int", "int64", "float32"}, /*unsupported=*/true);
}

TEST(BinaryMathOps, PowLegacyAxisBroadcastingIsUnsupportedNamingTheNode) {
  ModelBuilder b(6);
  b.input("x", {2, 3}).input("e", {2}).output("y", {2, 3});
  b.node("Pow", {"x", "e"}, {"y"}, "pow_legacy").attr_int("broadcast", 1).attr_int("axis", 0);
  expect_error_mentioning([&] { import_model(b); }, {"pow_legacy", "axis 0"}, /*unsupported=*/true);
}

TEST(BinaryMathOps, MaxOfShapesThatDoNotBroadcastIsAnErrorNamingTheNode) {
  ModelBuilder b(13);
  b.input("a", {2, 3}).input("b", {2}).output("y", {2, 3});
  b.node("Max", {"a", "b"}, {"y"}, "max_bad");
  expect_error_mentioning([&] { import_model(b); }, {"max_bad", "[2, 3]", "[2]", "do not broadcast"});
}

}  // namespace
}  // namespace octet::test
