// Elementwise unary functions (engine/ops/unary.cpp, kernels/unary.h): values against the C library
// on inputs that cover each function's special points; every backend against the CPU reference.
#include <cmath>
#include <limits>

#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

struct UnaryCase {
  const char* op;
  double (*expected)(double);
};

class UnaryOps : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryOps, FloatValuesOnEveryBackend) {
  const UnaryCase c = GetParam();
  ModelBuilder b(13);
  b.input("x", {2, 5}).output("y", {2, 5});
  b.node(c.op, {"x"}, {"y"});
  const std::vector<float> x = {-3.5f, -1.0f, -0.5f, -0.0f, 0.0f, 0.25f, 0.5f, 1.0f, 2.5f, 30.0f};
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 5}, x)});
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = c.expected(x[i]);
    const float got = r.outputs[0].data<float>()[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << c.op << "(" << x[i] << ")";
    } else if (std::isinf(want)) {
      EXPECT_EQ(got, want) << c.op << "(" << x[i] << ")";
    } else {
      // float32 of a double result: within 4 ulp of the float nearest to it
      EXPECT_NEAR(got, want, 4 * std::fabs(want) * std::numeric_limits<float>::epsilon() + 1e-30)
          << c.op << "(" << x[i] << ")";
    }
  }
}

double neg(double v) { return -v; }
double reciprocal(double v) { return 1.0 / v; }
double softplus(double v) { return std::log1p(std::exp(v)); }

INSTANTIATE_TEST_SUITE_P(
    Registry, UnaryOps,
    ::testing::Values(UnaryCase{"Exp", [](double v) { return std::exp(v); }},
                      UnaryCase{"Log", [](double v) { return std::log(v); }},
                      UnaryCase{"Sqrt", [](double v) { return std::sqrt(v); }}, UnaryCase{"Reciprocal", reciprocal},
                      UnaryCase{"Neg", neg}, UnaryCase{"Abs", [](double v) { return std::fabs(v); }},
                      UnaryCase{"Floor", [](double v) { return std::floor(v); }},
                      UnaryCase{"Ceil", [](double v) { return std::ceil(v); }},
                      UnaryCase{"Tanh", [](double v) { return std::tanh(v); }},
                      UnaryCase{"Erf", [](double v) { return std::erf(v); }},
                      UnaryCase{"Sin", [](double v) { return std::sin(v); }},
                      UnaryCase{"Cos", [](double v) { return std::cos(v); }}, UnaryCase{"Softplus", softplus}),
    [](const ::testing::TestParamInfo<UnaryCase>& info) { return std::string(info.param.op); });

TEST(UnaryOps, ConstantInputsFoldAtImport) {
  ModelBuilder b(13);
  b.input("x", {3}).output("y", {3});
  b.initializer("c", {3}, std::vector<float>{0.0f, 1.0f, 4.0f});
  b.node("Sqrt", {"c"}, {"s"});
  b.node("Add", {"x", "s"}, {"y"});
  const Graph g = import_model(b);
  ASSERT_EQ(g.nodes.size(), 1u) << "the Sqrt of a constant is a constant";
  EXPECT_EQ(g.nodes[0].op, OpKind::Add);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({3}, {1.0f, 1.0f, 1.0f})});
  expect_close(r.outputs[0], {1.0f, 2.0f, 3.0f}, 0.0);
}

TEST(UnaryOps, IntegerInputIsUnsupportedNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {3}).output("y", {3});
  b.initializer("c", {3}, std::vector<int64_t>{1, 2, 3});
  b.node("Neg", {"c"}, {"n"}, "negate");
  b.node("Identity", {"x"}, {"y"});
  expect_error_mentioning([&] { import_model(b); }, {"negate", "int64", "float32"}, /*unsupported=*/true);
}

}  // namespace
}  // namespace octet::test
