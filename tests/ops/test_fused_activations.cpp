// Activation patterns fused into one operator (engine/pattern_fusion.h, engine/ops/fused_activations.cpp)
// on the node sequences exporters write, then into Conv epilogues; values against double-precision
// formulas and against the unfused graph.
#include <cmath>

#include "engine/passes.h"
#include "engine/pattern_fusion.h"
#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

// erfc(z) has condition number 2 z^2 ~ 36 at z = 6 / sqrt(2): the float rounding of x / sqrt(2) alone
// (2^-24 relative) moves the result by ~2e-6 relative there.
constexpr double kGeluTolerance = 4e-6;

const std::vector<float> kInputs = {-6.0f, -2.5f, -1.0f, -0.25f, 0.0f, 0.25f, 1.0f, 2.5f, 6.0f, 11.0f};

Graph optimized(const ModelBuilder& b) {
  Graph g = import_model(b);
  optimize_fp32(g);
  return g;
}

std::vector<OpKind> ops_of(const Graph& g) {
  std::vector<OpKind> ops;
  for (const Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

void expect_formula(const Tensor& y, double (*formula)(double), double relative) {
  for (size_t i = 0; i < kInputs.size(); ++i) {
    const double want = formula(kInputs[i]);
    EXPECT_NEAR(y.data<float>()[i], want, relative * std::fabs(want) + 1e-30) << "x = " << kInputs[i];
  }
}

TEST(FusedActivations, SigmoidTimesInputIsSilu) {
  ModelBuilder b(13);
  b.input("x", {1, 10}).output("y", {1, 10});
  b.node("Sigmoid", {"x"}, {"s"}, "sig");
  b.node("Mul", {"s", "x"}, {"y"}, "silu");  // the gate first, as some exporters write it
  const Graph g = optimized(b);
  ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::Silu});
  EXPECT_EQ(g.nodes[0].name, "silu");
  EXPECT_EQ(g.nodes[0].fused_nodes, std::vector<std::string>{"sig"});
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({1, 10}, kInputs)});
  expect_formula(r.outputs[0], [](double x) { return x / (1.0 + std::exp(-x)); }, 4e-7);
  // Bit-identical to the two nodes it replaces (the same float expression).
  const OpRun unfused = run_everywhere(import_model(b), {make_host_tensor<float>({1, 10}, kInputs)});
  EXPECT_TRUE(same_within(r.outputs[0], unfused.outputs[0], 0.0));
}

TEST(FusedActivations, PaddleHardSwishIsInputTimesHardSigmoid) {
  ModelBuilder b(13);
  b.input("x", {1, 10}).output("y", {1, 10});
  b.node("HardSigmoid", {"x"}, {"h"}).attr_float("alpha", 0.2f).attr_float("beta", 0.5f);
  b.node("Mul", {"x", "h"}, {"y"});
  const Graph g = optimized(b);
  ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::XHardSigmoid});
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({1, 10}, kInputs)});
  expect_formula(r.outputs[0], [](double x) { return x * std::max(0.0, std::min(1.0, 0.2 * x + 0.5)); }, 2.4e-7);
  const OpRun unfused = run_everywhere(import_model(b), {make_host_tensor<float>({1, 10}, kInputs)});
  EXPECT_TRUE(same_within(r.outputs[0], unfused.outputs[0], 0.0));
}

// Hard-swish written out (PyTorch's x * relu6(x + 3) / 6; Paddle's hard_swish at opset 11), after a
// Conv: fused into one XClipDiv, then into the Conv's epilogue, bit-identical to the five nodes.
TEST(FusedActivations, InputTimesClipOverSixIsXClipDivInTheConvEpilogue) {
  ModelBuilder b(13);
  b.input("x", {1, 1, 1, 10}).output("y", {1, 1, 1, 10});
  b.initializer("w", {1, 1, 1, 1}, std::vector<float>{1.0f});
  b.initializer("three", {}, std::vector<float>{3.0f});
  b.initializer("zero", {}, std::vector<float>{0.0f});
  b.initializer("six", {}, std::vector<float>{6.0f});
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Add", {"c", "three"}, {"a"});
  b.node("Clip", {"a", "zero", "six"}, {"r"});
  b.node("Mul", {"r", "c"}, {"m"});
  b.node("Div", {"m", "six"}, {"y"}, "hardswish");
  Graph alone = import_model(b);
  infer_shapes(alone);
  fuse_patterns(alone);
  ASSERT_EQ(ops_of(alone), (std::vector<OpKind>{OpKind::Conv, OpKind::XClipDiv}));
  EXPECT_EQ(alone.nodes[1].name, "hardswish");
  EXPECT_EQ(alone.nodes[1].fused_nodes.size(), 3u);
  const Graph g = optimized(b);
  ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::Conv});
  EXPECT_EQ(std::get<ConvAttrs>(g.nodes[0].attrs).epilogue.activation.kind, Activation::kXClipDiv);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({1, 1, 1, 10}, kInputs)});
  expect_formula(r.outputs[0], [](double x) { return x * std::max(0.0, std::min(6.0, x + 3.0)) / 6.0; }, 2.4e-7);
  const OpRun unfused = run_everywhere(import_model(b), {make_host_tensor<float>({1, 1, 1, 10}, kInputs)});
  EXPECT_TRUE(same_within(r.outputs[0], unfused.outputs[0], 0.0));
}

// A Clip other than [0, 6] is not hard-swish: nothing fuses.
TEST(FusedActivations, OtherClipBoundsStayUnfused) {
  ModelBuilder b(13);
  b.input("x", {1, 10}).output("y", {1, 10});
  b.initializer("three", {}, std::vector<float>{3.0f});
  b.initializer("zero", {}, std::vector<float>{0.0f});
  b.initializer("six", {}, std::vector<float>{6.0f});
  b.initializer("five", {}, std::vector<float>{5.0f});
  b.node("Add", {"x", "three"}, {"a"});
  b.node("Clip", {"a", "zero", "five"}, {"r"});
  b.node("Mul", {"x", "r"}, {"m"});
  b.node("Div", {"m", "six"}, {"y"});
  Graph g = import_model(b);
  fuse_patterns(g);
  EXPECT_EQ(g.nodes.size(), 4u);
}

// LayerNorm written out as Paddle exports it at opset 11 (PP-OCR's SVTR): one LayerNormalization,
// bit-identical to the nine nodes (the same sums in the same order, Pow by 2 as a product).
ModelBuilder written_out_layer_norm(bool with_bias) {
  ModelBuilder b(11);
  b.input("x", {2, 3, 8}).output("y", {2, 3, 8});
  b.initializer("two", {}, std::vector<float>{2.0f});
  b.initializer("eps", {}, std::vector<float>{1e-5f});
  b.initializer("gamma", {8}, std::vector<float>{0.5f, 1.0f, 1.5f, -2.0f, 0.25f, 3.0f, -1.0f, 1.0f});
  b.initializer("beta", {8}, std::vector<float>{0.1f, -0.2f, 0.3f, 0.0f, 1.0f, -1.0f, 2.0f, 0.5f});
  b.node("ReduceMean", {"x"}, {"m"}).attr_ints("axes", {-1});
  b.node("Sub", {"x", "m"}, {"d"});
  b.node("Pow", {"d", "two"}, {"p"});
  b.node("ReduceMean", {"p"}, {"v"}).attr_ints("axes", {-1});
  b.node("Add", {"v", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"s"});
  b.node("Div", {"d", "s"}, {"n"});
  if (with_bias) {
    b.node("Mul", {"n", "gamma"}, {"g"});
    b.node("Add", {"g", "beta"}, {"y"}, "ln");
  } else {
    b.node("Mul", {"n", "gamma"}, {"y"}, "ln");
  }
  return b;
}

TEST(FusedPatterns, WrittenOutLayerNormIsLayerNormalization) {
  for (bool with_bias : {true, false}) {
    const ModelBuilder b = written_out_layer_norm(with_bias);
    const Graph g = optimized(b);
    ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::LayerNormalization}) << "bias " << with_bias;
    EXPECT_EQ(g.nodes[0].name, "ln");
    EXPECT_EQ(g.nodes[0].inputs.size(), with_bias ? 3u : 2u);
    EXPECT_EQ(std::get<OpAttributes>(g.nodes[0].attrs).i("axis"), 2);
    Tensor x = make_host_tensor<float>({2, 3, 8}, std::vector<float>(48));
    for (int i = 0; i < 48; ++i) x.data<float>()[i] = std::sin(0.7f * static_cast<float>(i)) * (1.0f + i % 5);
    const OpRun r = run_everywhere(g, {x});
    const OpRun unfused = run_everywhere(import_model(b), {x});
    EXPECT_TRUE(same_within(r.outputs[0], unfused.outputs[0], 0.0)) << "bias " << with_bias;
  }
}

// The calibrator taps each pattern's last output (engine/pattern_fusion.h), found on the unfused graph.
TEST(FusedPatterns, PatternOutputsAreTheFusedNodesOutputs) {
  const Graph g = import_model(written_out_layer_norm(true));
  const std::vector<ValueId> outputs = fused_pattern_outputs(g);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(g.value(outputs[0]).name, "y");
}

// PyTorch's export of nn.GELU() (opsets < 20): Div, Erf, Add 1, Mul x, Mul 0.5.
TEST(FusedActivations, ErfFormIsGelu) {
  ModelBuilder b(13);
  b.input("x", {1, 10}).output("y", {1, 10});
  b.initializer("sqrt2", {}, std::vector<float>{1.41421354f});
  b.initializer("one", {}, std::vector<float>{1.0f});
  b.initializer("half", {}, std::vector<float>{0.5f});
  b.node("Div", {"x", "sqrt2"}, {"d"});
  b.node("Erf", {"d"}, {"e"});
  b.node("Add", {"e", "one"}, {"p"});
  b.node("Mul", {"x", "p"}, {"m"});
  b.node("Mul", {"m", "half"}, {"y"}, "gelu");
  const Graph g = optimized(b);
  ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::Gelu});
  EXPECT_EQ(g.nodes[0].fused_nodes.size(), 4u);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({1, 10}, kInputs)});
  expect_formula(r.outputs[0], [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }, kGeluTolerance);
}

TEST(FusedActivations, OnnxGeluImports) {
  ModelBuilder b(20);
  b.input("x", {1, 10}).output("y", {1, 10});
  b.node("Gelu", {"x"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 10}, kInputs)});
  expect_formula(r.outputs[0], [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }, kGeluTolerance);
  ModelBuilder tanh(20);
  tanh.input("x", {1, 10}).output("y", {1, 10});
  tanh.node("Gelu", {"x"}, {"y"}, "approx").attr_string("approximate", "tanh");
  expect_error_mentioning([&] { import_model(tanh); }, {"approx", "approximate", "tanh"}, /*unsupported=*/true);
}

TEST(FusedActivations, AGateWithAnotherReaderStays) {
  ModelBuilder b(13);
  b.input("x", {1, 10}).output("y", {1, 10}).output("s", {1, 10});
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Mul", {"x", "s"}, {"y"});
  EXPECT_EQ(ops_of(optimized(b)), (std::vector<OpKind>{OpKind::Sigmoid, OpKind::Mul}));
}

TEST(FusedActivations, ConvTakesSiluIntoItsEpilogue) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 3, 3}).output("y", {1, 2, 3, 3});
  std::vector<float> w(2 * 2 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * static_cast<float>(static_cast<int>(i % 7) - 3);
  b.initializer("w", {2, 2, 3, 3}, w);
  b.node("Conv", {"x", "w"}, {"c"}).attr_ints("pads", {1, 1, 1, 1});
  b.node("Sigmoid", {"c"}, {"s"});
  b.node("Mul", {"c", "s"}, {"y"});
  const Graph g = optimized(b);
  ASSERT_EQ(ops_of(g), std::vector<OpKind>{OpKind::Conv});
  EXPECT_EQ(std::get<ConvAttrs>(g.nodes[0].attrs).epilogue.activation.kind, Activation::kXSigmoid);
  std::vector<float> x(18);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.5f - 4.0f;
  const OpRun fused = run_everywhere(g, {make_host_tensor<float>({1, 2, 3, 3}, x)});
  const OpRun unfused = run_everywhere(import_model(b), {make_host_tensor<float>({1, 2, 3, 3}, x)});
  EXPECT_TRUE(same_within(fused.outputs[0], unfused.outputs[0], 0.0));
}

}  // namespace
}  // namespace octet::test
