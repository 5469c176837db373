// ConvTranspose (engine/ops/conv_transpose.cpp, kernels/conv_transpose.h). The expected values were
// computed by ONNX Runtime 1.30 (CPU) on the same models and are exact in float32 here (small sums of
// multiples of 1/8, or within 1e-6).
#include <functional>

#include "engine/graph_stats.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

std::vector<float> iota_times(size_t n, float scale, float offset = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (static_cast<float>(i) + offset) * scale;
  return v;
}

// x [1, 2, 2, 2] = (1..8) / 2; w [2, 3, 3, 3] = ((i % 5) - 2) / 4; b = [0.5, -1, 2].
ModelBuilder three_by_three(const std::function<void(NodeRef&)>& attrs, const Dims& y_dims) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 2}).output("y", y_dims);
  std::vector<float> w(54);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.25f;
  b.initializer("w", {2, 3, 3, 3}, w);
  b.initializer("b", {3}, std::vector<float>{0.5f, -1.0f, 2.0f});
  NodeRef n = b.node("ConvTranspose", {"x", "w", "b"}, {"y"}, "up");
  attrs(n);
  return b;
}

TEST(ConvTranspose, StridePadsAndOutputPaddingAgreeWithOnnxRuntime) {
  const ModelBuilder b = three_by_three(
      [](NodeRef& n) { n.attr_ints("strides", {2, 2}).attr_ints("pads", {1, 1, 0, 0}).attr_ints("output_padding", {1, 0}); },
      {1, 3, 5, 4});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 2, 2, 2}, iota_times(8, 0.5f))});
  expect_close(r.outputs[0],
               {0.125f,  -1.0f, 0.25f,  0.0f,   2.25f,  0.625f, 2.5f,   1.25f, 0.375f,  -1.75f, 0.5f,   -0.5f,
                2.25f,   -0.375f, 2.5f, -1.0f,  0.5f,   0.5f,   0.5f,   0.5f,  -2.125f, 0.125f, -2.25f, -1.25f,
                -1.25f,  0.25f, -1.5f,  1.0f,   -2.375f, 0.875f, -2.5f, -1.0f, -0.5f,   -0.25f, -0.5f,  1.0f,
                -1.0f,   -1.0f, -1.0f,  -1.0f,  3.25f,  1.375f, 3.5f,   0.75f, 1.625f,  0.0f,   1.5f,   1.5f,
                3.75f,   1.125f, 4.0f,  0.5f,   1.25f,  2.5f,   1.0f,   2.5f,  2.0f,    2.0f,   2.0f,   2.0f},
               1e-6);
  EXPECT_EQ(graph_stats(r.graph).macs, 8 * 3 * 9) << "every input cell times its 3 filters of 3x3";
}

TEST(ConvTranspose, OutputShapeAndAutoPadResolveToPads) {
  const std::vector<float> x = iota_times(8, 0.5f);
  const OpRun upper = run_everywhere(
      three_by_three([](NodeRef& n) { n.attr_ints("strides", {2, 2}).attr_ints("output_shape", {5, 5}).attr_string("auto_pad", "SAME_UPPER"); },
                     {1, 3, 5, 5}),
      {make_host_tensor<float>({1, 2, 2, 2}, x)});
  ASSERT_EQ(upper.outputs[0].dims(), (Dims{1, 3, 5, 5}));
  const std::vector<float> upper_head = {0.25f, 1.0f, 1.25f, 1.0f, 2.0f, -0.625f, 0.125f, -1.0f, 0.25f, 0.0f};
  for (size_t i = 0; i < upper_head.size(); ++i) EXPECT_NEAR(upper.outputs[0].data<float>()[i], upper_head[i], 1e-6);
  const OpRun lower = run_everywhere(
      three_by_three([](NodeRef& n) { n.attr_ints("strides", {2, 2}).attr_string("auto_pad", "SAME_LOWER"); }, {1, 3, 4, 4}),
      {make_host_tensor<float>({1, 2, 2, 2}, x)});
  ASSERT_EQ(lower.outputs[0].dims(), (Dims{1, 3, 4, 4}));
  const std::vector<float> lower_head = {0.125f, -1.0f, 0.25f, 0.0f, 2.25f, 0.625f, 2.5f, 1.25f, 0.375f, -1.75f};
  for (size_t i = 0; i < lower_head.size(); ++i) EXPECT_NEAR(lower.outputs[0].data<float>()[i], lower_head[i], 1e-6);
}

TEST(ConvTranspose, GroupsAndDilationAgreeWithOnnxRuntime) {
  ModelBuilder b(13);
  b.input("x", {1, 4, 2, 3}).output("y", {1, 2, 4, 6});
  std::vector<float> w(16);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 3) - 1);
  b.initializer("w", {4, 1, 2, 2}, w);
  b.node("ConvTranspose", {"x", "w"}, {"y"}).attr_int("group", 2).attr_ints("dilations", {2, 1}).attr_ints("strides", {1, 2});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 4, 2, 3}, iota_times(24, 0.1f))});
  expect_close(r.outputs[0],
               {-0.1f, 0.7f,  -0.2f, 0.8f,  -0.3f, 0.9f,  -0.4f, 1.0f,  -0.5f, 1.1f,  -0.6f, 1.2f,
                -0.6f, -0.1f, -0.6f, -0.2f, -0.6f, -0.3f, -0.6f, -0.4f, -0.6f, -0.5f, -0.6f, -0.6f,
                -0.6f, -1.3f, -0.6f, -1.4f, -0.6f, -1.5f, -0.6f, -1.6f, -0.6f, -1.7f, -0.6f, -1.8f,
                1.9f,  -0.6f, 2.0f,  -0.6f, 2.1f,  -0.6f, 2.2f,  -0.6f, 2.3f,  -0.6f, 2.4f,  -0.6f},
               2e-6);
}

TEST(ConvTranspose, ReinfersAtAnotherBatch) {
  ModelBuilder b(13);
  b.input("x", {kSymbolicDim, 2, 2, 2}).output("y", {kSymbolicDim, 3, 5, 5});
  b.initializer("w", {2, 3, 3, 3}, std::vector<float>(54, 0.5f));
  b.node("ConvTranspose", {"x", "w"}, {"y"}).attr_ints("strides", {2, 2});
  ImportOptions options;
  options.batch = 3;
  const Graph g = import_model(b, options);
  EXPECT_EQ(g.value(g.outputs[0]).dims, (Dims{3, 3, 5, 5}));
}

TEST(ConvTranspose, ThreeDimensionalIsRefusedNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 2, 2}).output("y", {1, 1, 3, 3, 3});
  b.initializer("w", {2, 1, 2, 2, 2}, std::vector<float>(16, 1.0f));
  b.node("ConvTranspose", {"x", "w"}, {"y"}, "up3d");
  expect_error_mentioning([&] { import_model(b); }, {"up3d", "2-D"}, /*unsupported=*/true);
}

}  // namespace
}  // namespace octet::test
