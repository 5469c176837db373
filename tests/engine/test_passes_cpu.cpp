// optimize_fp32 end to end on the CPU backend: an imported Conv -> BatchNormalization -> Add ->
// Relu -> GlobalAveragePool -> Flatten -> Gemm -> Relu model gives the same outputs before and
// after the passes, within a tolerance derived below.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/cpu_backend.h"
#include "engine/input_layout.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "tests/support/onnx_builder.h"

namespace octet {
namespace {

// Deterministic values uniform in [lo, hi] (a 32-bit LCG; the exact values do not matter).
std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::vector<float> out(n);
  for (float& v : out) {
    seed = seed * 1664525u + 1013904223u;
    v = lo + (hi - lo) * static_cast<float>(seed >> 8) / static_cast<float>(1u << 24);
  }
  return out;
}

Graph residual_block_model() {
  test::ModelBuilder b(17);
  b.input("x", {test::kSymbolicDim, 3, 6, 6})
      .input("r", {test::kSymbolicDim, 4, 6, 6})
      .initializer<float>("w", {4, 3, 3, 3}, uniform(108, -0.5f, 0.5f, 1))
      .initializer<float>("b", {4}, uniform(4, -0.5f, 0.5f, 2))
      .initializer<float>("gamma", {4}, uniform(4, 0.5f, 1.5f, 3))
      .initializer<float>("beta", {4}, uniform(4, -0.5f, 0.5f, 4))
      .initializer<float>("mean", {4}, uniform(4, -0.5f, 0.5f, 5))
      .initializer<float>("var", {4}, uniform(4, 0.5f, 1.5f, 6))
      .initializer<float>("w2", {4, 5}, uniform(20, -0.5f, 0.5f, 7))
      .initializer<float>("c2", {5}, uniform(5, -0.5f, 0.5f, 8))
      .output("block", {test::kSymbolicDim, 4, 6, 6})
      .output("logits", {test::kSymbolicDim, 5});
  b.node("Conv", {"x", "w", "b"}, {"conv"}, "conv").attr_ints("pads", {1, 1, 1, 1});
  b.node("BatchNormalization", {"conv", "gamma", "beta", "mean", "var"}, {"bn"}, "bn").attr_float("epsilon", 1e-5f);
  b.node("Add", {"bn", "r"}, {"sum"}, "add");
  b.node("Relu", {"sum"}, {"block"}, "relu");
  b.node("GlobalAveragePool", {"block"}, {"pooled"}, "gap");
  b.node("Flatten", {"pooled"}, {"flat"}, "flatten");
  b.node("Gemm", {"flat", "w2", "c2"}, {"fc"}, "fc");
  b.node("Relu", {"fc"}, {"logits"}, "fc_relu");
  return import_onnx_bytes(b.bytes(), "residual_block.onnx");
}

std::vector<Tensor> run_cpu(const Graph& graph, bool reference, const std::vector<Tensor>& inputs) {
  BackendOptions options;
  options.reference = reference;
  options.threads = 1;
  return create_cpu_context(graph, options)->run(inputs);
}

Tensor filled_tensor(Dims dims, uint32_t seed) {
  Tensor t(DataType::kFloat32, std::move(dims));
  const std::vector<float> v = uniform(static_cast<size_t>(t.numel()), -1.0f, 1.0f, seed);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

// The optimized graph's outputs, with the reference kernels and the fast path, each within
// tolerances[o] of expected[o] element by element.
void expect_outputs_near(const Graph& optimized, const std::vector<Tensor>& inputs, const std::vector<Tensor>& expected,
                         const std::vector<float>& tolerances) {
  for (bool reference : {true, false}) {
    const std::vector<Tensor> actual = run_cpu(optimized, reference, inputs);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t o = 0; o < expected.size(); ++o) {
      ASSERT_EQ(actual[o].dims(), expected[o].dims());
      for (int64_t i = 0; i < actual[o].numel(); ++i)
        ASSERT_NEAR(actual[o].data<float>()[i], expected[o].data<float>()[i], tolerances.at(o))
            << "output " << o << " element " << i << (reference ? " (reference kernels)" : " (fast path)");
    }
  }
}

TEST(PassOptimizeFp32Cpu, ResidualBlockMatchesUnoptimizedGraph) {
  Graph plain = residual_block_model();
  set_batch(plain, 2);
  Graph optimized = plain;
  optimize_fp32(optimized);
  // conv+bn+add+relu and fc+fc_relu: two nodes fused, plus gap and flatten.
  ASSERT_EQ(optimized.nodes.size(), 4u);
  EXPECT_EQ(optimized.nodes[0].fused_nodes, (std::vector<std::string>{"bn", "add", "relu"}));

  const std::vector<Tensor> inputs{filled_tensor({2, 3, 6, 6}, 11), filled_tensor({2, 4, 6, 6}, 12)};
  const std::vector<Tensor> expected = run_cpu(plain, /*reference=*/true, inputs);

  // Tolerance. Per output element the block sums n = 27 products plus bias, BN, residual (n <= 32
  // roundings). With |x|, |r| <= 1, |w|, |b|, |mean|, |beta| <= 0.5 and s = g / sqrt(var + eps) <=
  // 1.5 / sqrt(0.5) < 2.2, the magnitudes add up to S <= 27*0.5*2.2 + 2*0.5*2.2 + 0.5 + 1 < 34. Any
  // summation order errs by at most gamma_n * S with gamma_n = n*u/(1 - n*u), u = 2^-24, so < 6.6e-5
  // per path and < 1.4e-4 between the two. Pooling averages (no growth); the Gemm multiplies by
  // sum_k |w2| <= 2, so < 2.8e-4 on the logits plus its own 4-term rounding (< 1e-6).
  const float block_tol = 1.4e-4f;
  const float logits_tol = 2.9e-4f;
  expect_outputs_near(optimized, inputs, expected, {block_tol, logits_tol});
}


// PP-LCNetV3's block as PaddlePaddle exports it: a depthwise Conv without bias, its bias as an Add of
// [1, C, 1, 1], a learnable affine block (Mul and Add of scalars), HardSwish, another affine block,
// then a pointwise Conv (pads 0) and a padded 3x3 Conv reading the same kind of affine output.
Graph lcnet_block_model() {
  test::ModelBuilder b(17);
  b.input("x", {test::kSymbolicDim, 4, 6, 6})
      .initializer<float>("dw", {4, 1, 3, 3}, uniform(36, -0.5f, 0.5f, 1))
      .initializer<float>("dw_bias", {1, 4, 1, 1}, uniform(4, -0.5f, 0.5f, 2))
      .initializer<float>("a1", {1}, {1.2f})
      .initializer<float>("b1", {1}, {0.47f})
      .initializer<float>("a2", {1}, {0.25f})
      .initializer<float>("b2", {1}, {-0.125f})
      .initializer<float>("pw", {6, 4, 1, 1}, uniform(24, -0.5f, 0.5f, 3))
      .initializer<float>("pw_bias", {6}, uniform(6, -0.5f, 0.5f, 4))
      .initializer<float>("m3", {1, 6, 1, 1}, uniform(6, 0.5f, 1.5f, 5))
      .initializer<float>("c3", {6, 6, 3, 3}, uniform(324, -0.5f, 0.5f, 6))
      .output("y", {test::kSymbolicDim, 6, 6, 6});
  b.node("Conv", {"x", "dw"}, {"dw_out"}, "dw").attr_ints("pads", {1, 1, 1, 1}).attr_int("group", 4);
  b.node("Add", {"dw_out", "dw_bias"}, {"biased"}, "bias_add");
  b.node("Mul", {"a1", "biased"}, {"scaled1"}, "lab1_mul");
  b.node("Add", {"scaled1", "b1"}, {"shifted1"}, "lab1_add");
  b.node("HardSwish", {"shifted1"}, {"act"}, "hswish");
  b.node("Mul", {"a2", "act"}, {"scaled2"}, "lab2_mul");
  b.node("Add", {"scaled2", "b2"}, {"shifted2"}, "lab2_add");
  b.node("Conv", {"shifted2", "pw", "pw_bias"}, {"pw_out"}, "pw");
  b.node("Mul", {"pw_out", "m3"}, {"scaled3"}, "pw_scale");
  b.node("Conv", {"scaled3", "c3"}, {"y"}, "c3").attr_ints("pads", {1, 1, 1, 1});
  return import_onnx_bytes(b.bytes(), "lcnet_block.onnx");
}

TEST(PassOptimizeFp32Cpu, AffineNodesFoldIntoTheConvolutionsAroundThem) {
  Graph plain = lcnet_block_model();
  set_batch(plain, 2);
  Graph optimized = plain;
  optimize_fp32(optimized);
  // dw takes its bias Add, the first affine block and HardSwish; pw the second affine block (no
  // padding) and then the per-channel Mul after it; c3 (padded) folds nothing before it.
  ASSERT_EQ(optimized.nodes.size(), 3u);
  EXPECT_EQ(optimized.nodes[0].fused_nodes,
            (std::vector<std::string>{"bias_add", "lab1_mul", "lab1_add", "hswish"}));
  EXPECT_EQ(optimized.nodes[1].fused_nodes, (std::vector<std::string>{"pw_scale", "lab2_add", "lab2_mul"}));
  EXPECT_TRUE(optimized.nodes[2].fused_nodes.empty());

  // Tolerance. The folds change the order of float operations, not the values: per element of pw
  // the 4-term sum with its bias and the folded affine terms (< 16 roundings, magnitudes < 8: |act|
  // <= 3 with |x| <= 1, 9 taps of |w| <= 0.5, bias 0.5, a1 1.2, b1 0.47) errs by < 16 * 2^-24 * 8
  // ~ 7.6e-6 per path; c3 sums 54 products of those (|c3| <= 0.5) plus its own 54 roundings of
  // magnitudes < 54 * 0.5 * 4: < 54 * 0.5 * 1.6e-5 + 54 * 2^-24 * 108 < 8e-4.
  const std::vector<Tensor> inputs{filled_tensor({2, 4, 6, 6}, 21)};
  expect_outputs_near(optimized, inputs, run_cpu(plain, /*reference=*/true, inputs), {8e-4f});
}

// An NHWC model fed NCHW samples (engine/input_layout.h): the wrapped graph takes the sample in NCHW
// under the model's input name and gives exactly the model's outputs on the same image in NHWC.
TEST(InputLayout, NhwcModelBehindATransposeTakesNchwSamples) {
  test::ModelBuilder b(13);
  b.input("image", {test::kSymbolicDim, 4, 5, 3}).output("y", {test::kSymbolicDim, 4, 5, 3});
  b.initializer<float>("k", {3}, {0.5f, -2.0f, 3.0f});
  b.node("Mul", {"image", "k"}, {"y"}, "per_channel");
  ImportOptions options;
  options.batch = 2;
  const Graph nhwc = import_onnx_bytes(b.bytes(), "nhwc.onnx", options);
  ASSERT_TRUE(is_nhwc_image_input(nhwc.value(nhwc.inputs[0]).dims));
  EXPECT_FALSE(is_nhwc_image_input({2, 3, 4, 5}));
  Graph fed = nhwc;
  feed_input_as_nchw(fed);
  EXPECT_EQ(fed.value(fed.inputs[0]).name, "image");
  EXPECT_EQ(fed.value(fed.inputs[0]).dims, (Dims{2, 3, 4, 5}));
  ASSERT_EQ(fed.nodes.front().op, OpKind::Transpose);
  EXPECT_EQ(fed.value(fed.nodes.front().outputs[0]).name, "image:nhwc");

  const Tensor nchw = filled_tensor({2, 3, 4, 5}, 11);
  Tensor hwc(DataType::kFloat32, {2, 4, 5, 3});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t w = 0; w < 5; ++w)
          hwc.data<float>()[((n * 4 + h) * 5 + w) * 3 + c] = nchw.data<float>()[((n * 3 + c) * 4 + h) * 5 + w];
  const Tensor want = run_cpu(nhwc, true, {hwc})[0];
  const Tensor got = run_cpu(fed, true, {nchw})[0];
  ASSERT_EQ(got.dims(), want.dims());
  for (int64_t i = 0; i < want.numel(); ++i) EXPECT_EQ(got.data<float>()[i], want.data<float>()[i]) << i;
}

}  // namespace
}  // namespace octet
