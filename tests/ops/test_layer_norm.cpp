// LayerNormalization (engine/ops/layer_norm.cpp, kernels/normalization.h): rows with hand-worked
// mean and variance, the axis and parameter forms, batch re-inference and the refusals; every case
// on every backend against the CPU reference.
#include <cmath>

#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

// y = (x - mean) / sqrt(var + epsilon) * scale + bias per row of n elements, in double.
std::vector<float> layer_norm_double(const std::vector<float>& x, size_t n, const std::vector<float>& scale,
                                     const std::vector<float>& bias, double epsilon) {
  std::vector<float> y;
  for (size_t row = 0; row < x.size() / n; ++row) {
    double mean = 0, var = 0;
    for (size_t j = 0; j < n; ++j) mean += x[row * n + j];
    mean /= static_cast<double>(n);
    for (size_t j = 0; j < n; ++j) var += (x[row * n + j] - mean) * (x[row * n + j] - mean);
    var /= static_cast<double>(n);
    for (size_t j = 0; j < n; ++j) {
      const double s = scale.size() == 1 ? scale[0] : scale[j];
      const double b = bias.empty() ? 0.0 : bias.size() == 1 ? bias[0] : bias[j];
      y.push_back(static_cast<float>((x[row * n + j] - mean) / std::sqrt(var + epsilon) * s + b));
    }
  }
  return y;
}

// Rows [1, 2, 3] (mean 2, variance 2/3) and [4, 6, 8] (mean 6, variance 8/3).
TEST(LayerNormOps, RowsOfTwoByThree) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("scale", {3}, std::vector<float>{1.0f, 2.0f, 0.5f});
  b.initializer("bias", {3}, std::vector<float>{0.0f, 1.0f, -1.0f});
  b.node("LayerNormalization", {"x", "scale", "bias"}, {"y"});
  const std::vector<float> x = {1, 2, 3, 4, 6, 8};
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, x)});
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  EXPECT_EQ(r.graph.nodes[0].op, OpKind::LayerNormalization);
  const double d0 = std::sqrt(2.0 / 3 + 1e-5), d1 = std::sqrt(8.0 / 3 + 1e-5);
  expect_close(r.outputs[0],
               {static_cast<float>(-1 / d0), 1.0f, static_cast<float>(0.5 / d0 - 1), static_cast<float>(-2 / d1), 1.0f,
                static_cast<float>(1 / d1 - 1)},
               1e-6);
}

// axis 0 normalises the whole tensor: mean 4, variance 34/6; no B, and a Scale of the full dims.
TEST(LayerNormOps, AxisZeroWithoutBias) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  const std::vector<float> scale = {1, 2, 3, 4, 5, 6};
  b.initializer("scale", {2, 3}, scale);
  b.node("LayerNormalization", {"x", "scale"}, {"y"}).attr_int("axis", 0).attr_float("epsilon", 0.0f);
  const std::vector<float> x = {1, 2, 3, 4, 6, 8};
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, x)});
  const double deviation = std::sqrt(34.0 / 6);
  std::vector<float> expected;
  for (size_t i = 0; i < x.size(); ++i) expected.push_back(static_cast<float>((x[i] - 4) / deviation * scale[i]));
  expect_close(r.outputs[0], expected, 1e-6);
}

// Rows of 100 (several elements per lane), a one-element Scale and B, over the middle axis.
TEST(LayerNormOps, LongRowsAgreeWithDouble) {
  const Dims dims = {3, 2, 10, 10};
  std::vector<float> x(static_cast<size_t>(numel(dims)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.71f * static_cast<float>(i)) * 5.0f + 2.0f;
  ModelBuilder b(17);
  b.input("x", dims).output("y", dims);
  b.initializer("scale", {1}, std::vector<float>{1.5f});
  b.initializer("bias", {1}, std::vector<float>{-0.25f});
  b.node("LayerNormalization", {"x", "scale", "bias"}, {"y"}).attr_int("axis", -2).attr_float("epsilon", 1e-3f);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>(dims, x)});
  expect_close(r.outputs[0], layer_norm_double(x, 100, {1.5f}, {-0.25f}, double(1e-3f)), 5e-6);
}

// A transformer's shape: rows of 768 with per-element Scale and B.
TEST(LayerNormOps, TransformerRowsAgreeWithDouble) {
  const Dims dims = {2, 77, 768};
  std::vector<float> x(static_cast<size_t>(numel(dims))), scale(768), bias(768);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.05f * static_cast<float>(i % 3001)) * 4.0f + 1.0f;
  for (size_t j = 0; j < 768; ++j) {
    scale[j] = 0.5f + 0.001f * static_cast<float>(j);
    bias[j] = 0.01f * static_cast<float>(j % 7) - 0.03f;
  }
  ModelBuilder b(17);
  b.input("x", dims).output("y", dims);
  b.initializer("scale", {768}, scale);
  b.initializer("bias", {768}, bias);
  b.node("LayerNormalization", {"x", "scale", "bias"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>(dims, x)});
  expect_close(r.outputs[0], layer_norm_double(x, 768, scale, bias, 1e-5), 1e-5);
}

TEST(LayerNormOps, BatchChangeReinfers) {
  ModelBuilder b(17);
  b.input("x", {kSymbolicDim, 4}).output("y", {kSymbolicDim, 4});
  const std::vector<float> scale = {1, -1, 2, 0.5f};
  const std::vector<float> bias = {0.5f, 0, 0, 1};
  b.initializer("scale", {4}, scale);
  b.initializer("bias", {4}, bias);
  b.node("LayerNormalization", {"x", "scale", "bias"}, {"y"});
  Graph g = import_model(b);
  set_batch(g, 3);
  const std::vector<float> x = {1, 2, 3, 4, -1, -1, 1, 1, 0, 10, 0, 10};
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({3, 4}, x)});
  EXPECT_EQ(r.outputs[0].dims(), (Dims{3, 4}));
  expect_close(r.outputs[0], layer_norm_double(x, 4, scale, bias, 1e-5), 1e-6);
}

TEST(LayerNormOps, MeanAndInvStdDevOutputsAreUnsupportedNamingTheNode) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3}).output("mean", {2, 1});
  b.initializer("scale", {3}, std::vector<float>{1, 1, 1});
  b.node("LayerNormalization", {"x", "scale"}, {"y", "mean"}, "ln_train");
  expect_error_mentioning([&] { import_model(b); }, {"ln_train", "output 1", "Mean"}, /*unsupported=*/true);
}

TEST(LayerNormOps, StashTypeOtherThanFloatIsUnsupportedNamingTheValue) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("scale", {3}, std::vector<float>{1, 1, 1});
  b.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln_half").attr_int("stash_type", 10);
  expect_error_mentioning([&] { import_model(b); }, {"ln_half", "stash_type 10"}, /*unsupported=*/true);
}

TEST(LayerNormOps, ScaleThatDoesNotBroadcastIsAnErrorNamingTheNode) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("scale", {2}, std::vector<float>{1, 1});
  b.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln_bad");
  expect_error_mentioning([&] { import_model(b); }, {"ln_bad", "Scale dims [2]", "[3]"});
}

// Scale [3] broadcasts to the normalised [2, 3] of axis 0, but octet reads only the full dims or one element.
TEST(LayerNormOps, PartlyBroadcastScaleIsUnsupportedNamingTheNode) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("scale", {3}, std::vector<float>{1, 1, 1});
  b.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln_partial").attr_int("axis", 0);
  expect_error_mentioning([&] { import_model(b); }, {"ln_partial", "Scale dims [3]", "[2, 3]"}, /*unsupported=*/true);
}

TEST(LayerNormOps, AxisOutOfRangeIsAnErrorNamingTheNode) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("scale", {3}, std::vector<float>{1, 1, 1});
  b.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln_axis").attr_int("axis", 2);
  expect_error_mentioning([&] { import_model(b); }, {"ln_axis", "axis 2", "rank 2"});
}

}  // namespace
}  // namespace octet::test
