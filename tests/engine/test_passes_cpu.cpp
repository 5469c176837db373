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
  for (bool reference : {true, false}) {
    const std::vector<Tensor> actual = run_cpu(optimized, reference, inputs);
    ASSERT_EQ(actual.size(), 2u);
    for (size_t o = 0; o < 2; ++o) {
      ASSERT_EQ(actual[o].dims(), expected[o].dims());
      const float tol = o == 0 ? block_tol : logits_tol;
      for (int64_t i = 0; i < actual[o].numel(); ++i)
        ASSERT_NEAR(actual[o].data<float>()[i], expected[o].data<float>()[i], tol)
            << "output " << o << " element " << i << (reference ? " (reference kernels)" : " (fast path)");
    }
  }
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
