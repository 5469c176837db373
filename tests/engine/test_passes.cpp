// FP32 passes: the rewritten structure (nodes, wiring, epilogues, fused names) and the folded
// BatchNormalization parameters against the formula, evaluated here on values written here.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "tests/engine/graph_builder.h"

namespace octet {
namespace {

using test::GraphBuilder;

ConvAttrs conv1x1() { return ConvAttrs{}; }

ActivationParams relu() { return ActivationParams{Activation::kRelu, 0.0f, 0.0f}; }

const Node* find_node(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

int index_of(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

// ---- remove_identities --------------------------------------------------------------------------

TEST(PassRemoveIdentities, ConsumersAreRewired) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 4});
  const ValueId a = b.node(OpKind::Relu, "relu1", {x}, relu());
  const ValueId i = b.node(OpKind::Identity, "id", {a});
  const ValueId y = b.node(OpKind::Relu, "relu2", {i}, relu());
  b.output(y);
  infer_shapes(b.graph);
  remove_identities(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 2u);
  EXPECT_EQ(b.graph.nodes[1].name, "relu2");
  EXPECT_EQ(b.graph.nodes[1].inputs, (std::vector<ValueId>{a}));
}

TEST(PassRemoveIdentities, GraphOutputKeepsItsName) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 4});
  const ValueId a = b.node(OpKind::Relu, "relu", {x}, relu());
  const ValueId other = b.node(OpKind::Sigmoid, "reader", {a}, ActivationParams{Activation::kSigmoid});
  const ValueId out = b.node(OpKind::Identity, "id", {a});
  b.output(out);
  b.output(other);
  infer_shapes(b.graph);
  remove_identities(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 2u);
  // The producer now writes the graph output; its other reader follows.
  EXPECT_EQ(find_node(b.graph, "relu")->outputs, (std::vector<ValueId>{out}));
  EXPECT_EQ(find_node(b.graph, "reader")->inputs, (std::vector<ValueId>{out}));
  EXPECT_EQ(b.graph.outputs, (std::vector<ValueId>{out, other}));
}

TEST(PassRemoveIdentities, IdentityOfAGraphInputToAGraphOutputStays) {
  GraphBuilder b;
  const ValueId x = b.input("x", {3});
  b.output(b.node(OpKind::Identity, "id", {x}));
  infer_shapes(b.graph);
  remove_identities(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 1u);
  EXPECT_EQ(b.graph.nodes[0].op, OpKind::Identity);
}

TEST(PassRemoveIdentities, ChainOfIdentities) {
  GraphBuilder b;
  const ValueId x = b.input("x", {3});
  const ValueId a = b.node(OpKind::Relu, "relu", {x}, relu());
  const ValueId i1 = b.node(OpKind::Identity, "id1", {a});
  const ValueId i2 = b.node(OpKind::Identity, "id2", {i1});
  b.output(i2);
  infer_shapes(b.graph);
  remove_identities(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 1u);
  EXPECT_EQ(b.graph.nodes[0].outputs, (std::vector<ValueId>{i2}));
}

// ---- fold_batchnorm -------------------------------------------------------------------------------

// Conv [K=2, C=1, 1x2] (bias optional) -> BatchNormalization, values chosen by hand.
struct ConvBn {
  GraphBuilder b;
  ValueId x, conv_out, bn_out;
  std::vector<float> w{1.0f, -2.0f, 0.5f, 3.0f};
  std::vector<float> bias{0.25f, -1.0f};
  std::vector<float> gamma{2.0f, 0.5f}, beta{0.1f, -0.3f}, mean{1.0f, -2.0f}, var{3.0f, 0.25f};
  float eps = 1e-3f;

  explicit ConvBn(bool with_bias) {
    x = b.input("x", {1, 1, 3, 3});
    std::vector<ValueId> conv_inputs{x, b.constant("w", {2, 1, 1, 2}, w)};
    if (with_bias) conv_inputs.push_back(b.constant("conv_b", {2}, bias));
    ConvAttrs a;
    a.kernel_w = 2;
    conv_out = b.node(OpKind::Conv, "conv", conv_inputs, a);
    bn_out = b.node(OpKind::BatchNormalization, "bn",
                    {conv_out, b.constant("gamma", {2}, gamma), b.constant("beta", {2}, beta),
                     b.constant("mean", {2}, mean), b.constant("var", {2}, var)},
                    BatchNormAttrs{eps});
    infer_shapes(b.graph);
  }
};

void expect_folded(const ConvBn& t, bool with_bias) {
  const Graph& g = t.b.graph;
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& conv = g.nodes[0];
  EXPECT_EQ(conv.name, "conv");
  EXPECT_EQ(conv.fused_nodes, (std::vector<std::string>{"bn"}));
  EXPECT_EQ(conv.outputs, (std::vector<ValueId>{t.bn_out}));
  ASSERT_EQ(conv.inputs.size(), 3u);
  const Tensor& w = *g.value(conv.inputs[1]).initializer;
  const Tensor& b = *g.value(conv.inputs[2]).initializer;
  ASSERT_EQ(w.dims(), (Dims{2, 1, 1, 2}));
  ASSERT_EQ(b.dims(), (Dims{2}));
  for (int k = 0; k < 2; ++k) {
    // w' = w * g / sqrt(var + eps); b' = (b - mean) * g / sqrt(var + eps) + beta. Evaluated in float
    // in the same order as the header states it, so the pass must agree to the last bit; a float
    // evaluation in another order would differ by at most a few ulp, hence EXPECT_FLOAT_EQ (4 ulp).
    const float s = t.gamma[k] / std::sqrt(t.var[k] + t.eps);
    for (int j = 0; j < 2; ++j) EXPECT_FLOAT_EQ(w.data<float>()[k * 2 + j], t.w[k * 2 + j] * s);
    const float bias = with_bias ? t.bias[k] : 0.0f;
    EXPECT_FLOAT_EQ(b.data<float>()[k], (bias - t.mean[k]) * s + t.beta[k]);
  }
  // Spot check against a value worked out by hand: k = 0, s = 2 / sqrt(3.001) = 1.154508...
  EXPECT_NEAR(w.data<float>()[1], -2.0f * 1.1545083f, 1e-5f);
  // The original weights are untouched (another node may share them).
  EXPECT_EQ(g.value(g.find_value("w")).initializer->data<float>()[1], -2.0f);
}

TEST(PassFoldBatchNorm, ConvWithBias) {
  ConvBn t(true);
  fold_batchnorm(t.b.graph);
  expect_folded(t, true);
}

TEST(PassFoldBatchNorm, ConvWithoutBias) {
  ConvBn t(false);
  fold_batchnorm(t.b.graph);
  expect_folded(t, false);
}

TEST(PassFoldBatchNorm, NotFoldedWhenConvOutputHasAnotherConsumer) {
  ConvBn t(true);
  t.b.node(OpKind::Relu, "other", {t.conv_out}, relu());
  fold_batchnorm(t.b.graph);
  EXPECT_EQ(t.b.graph.nodes.size(), 3u);
}

TEST(PassFoldBatchNorm, NotFoldedWhenConvOutputIsAGraphOutput) {
  ConvBn t(true);
  t.b.output(t.conv_out);
  fold_batchnorm(t.b.graph);
  EXPECT_EQ(t.b.graph.nodes.size(), 2u);
}

TEST(PassFoldBatchNorm, NotFoldedWhenStatisticsAreRuntimeInputs) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 2, 2});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {1, 0, 0, 1})}, conv1x1());
  b.node(OpKind::BatchNormalization, "bn",
         {c, b.input("gamma", {2}), b.constant("beta", {2}, {}), b.constant("mean", {2}, {}),
          b.constant("var", {2}, {1, 1})},
         BatchNormAttrs{});
  infer_shapes(b.graph);
  fold_batchnorm(b.graph);
  EXPECT_EQ(b.graph.nodes.size(), 2u);
}

TEST(PassFoldBatchNorm, BatchNormAfterANonConvStays) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 2, 2});
  const ValueId r = b.node(OpKind::Relu, "relu", {x}, relu());
  b.node(OpKind::BatchNormalization, "bn",
         {r, b.constant("g", {2}, {1, 1}), b.constant("beta", {2}, {}), b.constant("mean", {2}, {}),
          b.constant("var", {2}, {1, 1})},
         BatchNormAttrs{});
  infer_shapes(b.graph);
  fold_batchnorm(b.graph);
  EXPECT_EQ(b.graph.nodes.size(), 2u);
}

// ---- fuse_epilogues -------------------------------------------------------------------------------

// conv(x) + residual -> relu, with the residual computed after the conv.
TEST(PassFuseEpilogues, ConvAddRelu) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId bias = b.constant("b", {2}, {0.5f, -0.5f});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {1, 0, 0, 1}), bias}, conv1x1());
  const ValueId r = b.node(OpKind::Sigmoid, "residual", {x}, ActivationParams{Activation::kSigmoid});
  const ValueId s = b.node(OpKind::Add, "add", {r, c});  // the conv output is the second operand
  const ValueId y = b.node(OpKind::Relu, "relu", {s}, relu());
  b.output(y);
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);

  ASSERT_EQ(b.graph.nodes.size(), 2u);
  const Node& fused = *find_node(b.graph, "conv");
  EXPECT_EQ(fused.op, OpKind::Conv);
  EXPECT_EQ(fused.inputs.size(), 4u);
  EXPECT_EQ(fused.inputs[0], x);
  EXPECT_EQ(fused.inputs[2], bias);
  EXPECT_EQ(fused.inputs[3], r);
  EXPECT_EQ(fused.outputs, (std::vector<ValueId>{y}));
  EXPECT_EQ(fused.fused_nodes, (std::vector<std::string>{"add", "relu"}));
  const Epilogue& e = std::get<ConvAttrs>(fused.attrs).epilogue;
  EXPECT_TRUE(e.has_residual);
  EXPECT_EQ(e.activation.kind, Activation::kRelu);
  // The tensors made internal, by name (explicit quantization rounds them where a model has pairs).
  EXPECT_EQ(e.fused_output, b.graph.value(c).name);
  EXPECT_EQ(e.fused_sum, b.graph.value(s).name);
  // The residual's producer still runs first.
  EXPECT_LT(index_of(b.graph, "residual"), index_of(b.graph, "conv"));
  EXPECT_NO_THROW(infer_shapes(b.graph));
}

TEST(PassFuseEpilogues, ConvWithoutBiasGetsANoValueSlot) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId r = b.input("r", {1, 2, 3, 3});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {})}, conv1x1());
  b.output(b.node(OpKind::Add, "add", {c, r}));
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 1u);
  EXPECT_EQ(b.graph.nodes[0].inputs, (std::vector<ValueId>{x, b.graph.nodes[0].inputs[1], kNoValue, r}));
  EXPECT_EQ(std::get<ConvAttrs>(b.graph.nodes[0].attrs).epilogue.activation.kind, Activation::kNone);
  // Without an activation the Add's output is the layer's own: no inner sum to name.
  EXPECT_EQ(std::get<ConvAttrs>(b.graph.nodes[0].attrs).epilogue.fused_output, b.graph.value(c).name);
  EXPECT_EQ(std::get<ConvAttrs>(b.graph.nodes[0].attrs).epilogue.fused_sum, "");
}

TEST(PassFuseEpilogues, ActivationOnlyClipAsRelu6) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {})}, conv1x1());
  const ValueId y = b.node(OpKind::Clip, "relu6", {c}, ActivationParams{Activation::kClip, 0.0f, 6.0f});
  b.output(y);
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 1u);
  const Epilogue& e = std::get<ConvAttrs>(b.graph.nodes[0].attrs).epilogue;
  EXPECT_FALSE(e.has_residual);
  EXPECT_EQ(e.activation.kind, Activation::kClip);
  EXPECT_EQ(e.activation.beta, 6.0f);
  EXPECT_EQ(b.graph.nodes[0].inputs.size(), 3u);
  EXPECT_EQ(b.graph.nodes[0].outputs, (std::vector<ValueId>{y}));
}

TEST(PassFuseEpilogues, BroadcastAddIsNotAResidual) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {})}, conv1x1());
  const ValueId s = b.node(OpKind::Add, "add_bias", {c, b.constant("k", {1, 2, 1, 1}, {})});
  b.output(b.node(OpKind::Relu, "relu", {s}, relu()));
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  EXPECT_EQ(b.graph.nodes.size(), 3u);  // nothing fused: the relu does not follow the conv
}

TEST(PassFuseEpilogues, IntermediateGraphOutputBlocksFusion) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId r = b.input("r", {1, 2, 3, 3});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, b.constant("w", {2, 2, 1, 1}, {})}, conv1x1());
  const ValueId s = b.node(OpKind::Add, "add", {c, r});
  b.output(b.node(OpKind::Relu, "relu", {s}, relu()));
  b.output(s);  // the sum is observed
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 2u);  // conv+add fused, relu stays
  EXPECT_EQ(b.graph.nodes[0].fused_nodes, (std::vector<std::string>{"add"}));
  EXPECT_EQ(b.graph.nodes[0].outputs, (std::vector<ValueId>{s}));
}

TEST(PassFuseEpilogues, TwoConvsCompetingForOneAdd) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId w = b.constant("w", {2, 2, 1, 1}, {});
  const ValueId c1 = b.node(OpKind::Conv, "conv1", {x, w}, conv1x1());
  const ValueId c2 = b.node(OpKind::Conv, "conv2", {x, w}, conv1x1());
  const ValueId s = b.node(OpKind::Add, "add", {c1, c2});
  b.output(b.node(OpKind::Relu, "relu", {s}, relu()));
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 2u);
  EXPECT_EQ(b.graph.nodes[0].name, "conv2");
  EXPECT_EQ(b.graph.nodes[1].name, "conv1");  // placed where the relu was, after its residual conv2
  EXPECT_EQ(b.graph.nodes[1].inputs[3], c2);
  EXPECT_NO_THROW(infer_shapes(b.graph));
}

TEST(PassFuseEpilogues, GemmWithScaledCIsLeftAlone) {
  GraphBuilder b;
  const ValueId a = b.input("a", {2, 3});
  GemmAttrs attrs;
  attrs.beta = 0.5f;
  const ValueId g = b.node(OpKind::Gemm, "gemm", {a, b.constant("w", {3, 4}, {}), b.constant("c", {4}, {})}, attrs);
  b.output(b.node(OpKind::Relu, "relu", {g}, relu()));
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  EXPECT_EQ(b.graph.nodes.size(), 2u);
}

TEST(PassFuseEpilogues, GemmWithUnitBetaAndMatMulFuse) {
  GraphBuilder b;
  const ValueId a = b.input("a", {2, 3});
  const ValueId r = b.input("r", {2, 4});
  const ValueId g = b.node(OpKind::Gemm, "gemm", {a, b.constant("w", {3, 4}, {}), b.constant("c", {4}, {})}, GemmAttrs{});
  const ValueId s = b.node(OpKind::Add, "add", {g, r});
  const ValueId y1 = b.node(OpKind::LeakyRelu, "leaky", {s}, ActivationParams{Activation::kLeakyRelu, 0.1f, 0.0f});
  GemmAttrs mm;
  mm.beta = 0.0f;
  const ValueId m = b.node(OpKind::MatMul, "matmul", {y1, b.constant("w2", {4, 5}, {})}, mm);
  const ValueId y2 = b.node(OpKind::HardSwish, "hswish", {m}, ActivationParams{Activation::kHardSwish});
  b.output(y2);
  infer_shapes(b.graph);
  fuse_epilogues(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 2u);
  const Node& gemm = b.graph.nodes[0];
  EXPECT_EQ(gemm.inputs.size(), 4u);
  EXPECT_EQ(gemm.inputs[3], r);
  EXPECT_EQ(std::get<GemmAttrs>(gemm.attrs).epilogue.activation.kind, Activation::kLeakyRelu);
  const Node& matmul = b.graph.nodes[1];
  EXPECT_EQ(matmul.op, OpKind::MatMul);
  ASSERT_EQ(matmul.inputs.size(), 3u);
  EXPECT_EQ(matmul.inputs[2], kNoValue);
  EXPECT_EQ(std::get<GemmAttrs>(matmul.attrs).epilogue.activation.kind, Activation::kHardSwish);
  EXPECT_EQ(matmul.outputs, (std::vector<ValueId>{y2}));
}

// ---- optimize_fp32 --------------------------------------------------------------------------------

TEST(PassOptimizeFp32, ConvBnIdentityAddReluBecomesOneNode) {
  ConvBn t(true);
  GraphBuilder& b = t.b;
  const ValueId id = b.node(OpKind::Identity, "id", {t.bn_out});
  const ValueId r = b.input("r", {1, 2, 3, 2});
  const ValueId s = b.node(OpKind::Add, "add", {id, r});
  const ValueId y = b.node(OpKind::Relu, "relu", {s}, relu());
  b.output(y);
  optimize_fp32(b.graph);
  ASSERT_EQ(b.graph.nodes.size(), 1u);
  const Node& n = b.graph.nodes[0];
  EXPECT_EQ(n.name, "conv");
  EXPECT_EQ(n.fused_nodes, (std::vector<std::string>{"bn", "add", "relu"}));
  EXPECT_EQ(n.outputs, (std::vector<ValueId>{y}));
  EXPECT_EQ(n.inputs[3], r);
  EXPECT_EQ(b.graph.value(y).dims, (Dims{1, 2, 3, 2}));
}

}  // namespace
}  // namespace octet
