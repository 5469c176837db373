// Explicit quantization: QuantizeLinear / DequantizeLinear import (engine/onnx_import.cpp), their
// execution as they are, the fusion of Q -> DQ pairs into scales (quantize/qdq_fusion.h) and the INT8
// build that takes the model's own weight integers. Hand-built models; every expected number is worked
// out in a comment from ONNX's formulas (symmetric int8, zero point 0), never taken from octet.
// (ONNX Runtime's quantize_static models: tests/peers/qdq_ort_agreement.py.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/layer_info.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "quantize/int8_builder.h"
#include "quantize/qdq_fusion.h"
#include "tests/support/onnx_builder.h"
#include "tests/support/graph_lookup.h"
#include "tests/support/paths.h"

namespace octet {
namespace {

using test::expect_error;
using test::node_named;
using test::value_named;

using test::ModelBuilder;

Graph import(const ModelBuilder& b) { return import_onnx_bytes(b.bytes(), "qdq.onnx"); }

bool lists(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// x [1, 2, 2, 2] -> Q(0.5) -> DQ(0.5) -> Conv 1x1 (3 filters; W = DQ(int8, per output channel
// scales 0.25, 0.5, 1), bias) -> Relu -> Q(0.25) -> DQ(0.25) -> y.
ModelBuilder conv_model() {
  ModelBuilder b(17);
  b.input("x", {1, 2, 2, 2}).output("y", {1, 3, 2, 2});
  b.initializer<float>("x_scale", {}, {0.5f}).initializer<int8_t>("x_zero", {}, {0});
  b.initializer<float>("y_scale", {}, {0.25f}).initializer<int8_t>("y_zero", {}, {0});
  // w_q[k][c]: k = 0: (4, -8), k = 1: (127, 0), k = 2: (-127, 3)
  b.initializer<int8_t>("w_q", {3, 2, 1, 1}, {4, -8, 127, 0, -127, 3});
  b.initializer<float>("w_scale", {3}, {0.25f, 0.5f, 1.0f}).initializer<int8_t>("w_zero", {3}, {0, 0, 0});
  b.initializer<float>("bias", {3}, {0.5f, -1.0f, 0.0f});
  b.node("QuantizeLinear", {"x", "x_scale", "x_zero"}, {"x_q"}, "x_Q");
  b.node("DequantizeLinear", {"x_q", "x_scale", "x_zero"}, {"x_dq"}, "x_DQ");
  b.node("DequantizeLinear", {"w_q", "w_scale", "w_zero"}, {"w"}, "w_DQ").attr_int("axis", 0);
  b.node("Conv", {"x_dq", "w", "bias"}, {"c"}, "conv");
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("QuantizeLinear", {"r", "y_scale", "y_zero"}, {"r_q"}, "r_Q");
  b.node("DequantizeLinear", {"r_q", "y_scale", "y_zero"}, {"y"}, "r_DQ");
  return b;
}

TEST(QdqImport, ActivationPairsBecomeReformatsAndWeightsFoldWithTheirIntegers) {
  const Graph g = import(conv_model());
  EXPECT_EQ(node_named(g, "x_Q").op, OpKind::QuantizeLinear);
  EXPECT_EQ(node_named(g, "x_DQ").op, OpKind::DequantizeLinear);
  const Value& x_q = value_named(g, "x_q");
  EXPECT_EQ(x_q.type, DataType::kInt8);
  EXPECT_EQ(x_q.scale, 0.5f);
  // The weight DequantizeLinear is folded: w = q * scale of its output channel.
  const Value& w = value_named(g, "w");
  ASSERT_TRUE(w.is_constant());
  const float* f = w.initializer->data<float>();
  EXPECT_EQ(std::vector<float>(f, f + 6), (std::vector<float>{1.0f, -2.0f, 63.5f, 0.0f, -127.0f, 3.0f}));
  ASSERT_TRUE(w.quantized.has_value());
  EXPECT_EQ(w.quantized->scales, (std::vector<float>{0.25f, 0.5f, 1.0f}));
  EXPECT_EQ(w.quantized->node, "w_DQ");
  for (const Node& n : g.nodes) EXPECT_NE(n.name, "w_DQ");
}

TEST(QdqImport, ExecutesAsItIsOnTheCpu) {
  // x -> Q(0.5) -> DQ(0.5) -> y: round half to even of x / 0.5, times 0.5, saturated to [-128, 127].
  ModelBuilder b(13);
  b.input("x", {1, 6}).output("y", {1, 6});
  b.initializer<float>("s", {}, {0.5f}).initializer<int8_t>("z", {}, {0});
  b.node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "Q");
  b.node("DequantizeLinear", {"q", "s", "z"}, {"y"}, "DQ");
  Graph g = import(b);
  optimize_fp32(g);
  Tensor x(DataType::kFloat32, {1, 6});
  // 0.3 / 0.5 = 0.6 -> 1; -0.74 / 0.5 = -1.48 -> -1; 0.75 / 0.5 = 1.5 -> 2; 1.25 / 0.5 = 2.5 -> 2 (even);
  // 100 / 0.5 = 200 -> 127; -70 / 0.5 = -140 -> -128.
  const std::vector<float> in = {0.3f, -0.74f, 0.75f, 1.25f, 100.0f, -70.0f};
  std::copy(in.begin(), in.end(), x.data<float>());
  const std::vector<Tensor> out = create_context(g, BackendKind::kCpu)->run({x});
  const float* y = out.at(0).data<float>();
  EXPECT_EQ(std::vector<float>(y, y + 6), (std::vector<float>{0.5f, -0.5f, 1.0f, 1.0f, 63.5f, -64.0f}));
}

TEST(QdqFusion, PairsBecomeScalesAndTheInt8BuildUsesTheModelsWeights) {
  Graph g = import(conv_model());
  ASSERT_TRUE(has_qdq(g));
  QdqFusionReport report;
  const std::map<std::string, float> scales = fuse_qdq(g, &report);
  // Each pair gives its input tensor the pair's scale: x 0.5, r (the Relu output) 0.25, and y, the
  // graph output the Relu writes once the pair is gone, 0.25 too.
  EXPECT_EQ(scales, (std::map<std::string, float>{{"x", 0.5f}, {"r", 0.25f}, {"y", 0.25f}}));
  EXPECT_EQ(report.fused.size(), 2u);
  for (const Node& n : g.nodes) EXPECT_NE(n.op, OpKind::QuantizeLinear) << n.name;
  const Node& conv = node_named(g, "conv");
  EXPECT_EQ(g.value(conv.inputs[0]).name, "x");
  EXPECT_TRUE(lists(conv.fused_nodes, "x_Q") && lists(conv.fused_nodes, "x_DQ"));
  EXPECT_EQ(g.value(g.outputs.at(0)).name, "y");  // the graph output keeps its name

  optimize_fp32(g);
  BuildConfig config;
  config.int8 = true;
  config.explicit_quantization = true;
  BuildReport build;
  const Graph int8 = build_int8_graph(g, scales, config, &build);
  const Node& layer = node_named(int8, "conv");
  ASSERT_EQ(layer.precision, Precision::kInt8);
  // The model's integers and scales, not a re-quantization of the floats (which would give channel 0
  // the scale 2 / 127 and other integers).
  EXPECT_EQ(layer.weight_scales, (std::vector<float>{0.25f, 0.5f, 1.0f}));
  const Tensor& w = *int8.value(layer.inputs[1]).initializer;
  ASSERT_EQ(w.type(), DataType::kInt8);
  EXPECT_EQ(std::vector<int8_t>(w.data<int8_t>(), w.data<int8_t>() + 6), (std::vector<int8_t>{4, -8, 127, 0, -127, 3}));
  EXPECT_TRUE(lists(layer.fused_nodes, "w_DQ"));
  // The Conv's own output has no pair, so its epilogue rounds nothing inside. It writes the graph
  // output, which the model rounds (its last pair): int8 at 0.25, and a DequantizeLinear writes y.
  EXPECT_FALSE(epilogue_of(layer)->rounding.any());
  const Value& written = int8.value(layer.outputs[0]);
  EXPECT_EQ(written.name, "y:int8");
  EXPECT_EQ(written.type, DataType::kInt8);
  EXPECT_EQ(written.scale, 0.25f);
  EXPECT_EQ(int8.value(int8.outputs.at(0)).name, "y");
  EXPECT_EQ(int8.value(int8.outputs.at(0)).type, DataType::kFloat32);
  EXPECT_EQ(build.dequantize_nodes, 1);

  // With a calibration cache the same scales are only permissions: the graph output stays float32
  // from the same kernel.
  config.explicit_quantization = false;
  const Graph calibrated = build_int8_graph(g, scales, config, &build);
  EXPECT_EQ(calibrated.value(node_named(calibrated, "conv").outputs[0]).type, DataType::kFloat32);
}

// Runs `g` (optimised) on the CPU for one input per graph input.
std::vector<float> run_cpu(const Graph& g, const std::vector<std::vector<float>>& inputs) {
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t(DataType::kFloat32, g.value(g.inputs.at(i)).dims);
    std::copy(inputs[i].begin(), inputs[i].end(), t.data<float>());
    tensors.push_back(std::move(t));
  }
  const Tensor out = create_context(g, BackendKind::kCpu)->run(tensors).at(0);
  return std::vector<float>(out.data<float>(), out.data<float>() + out.numel());
}

// ONNX Runtime's quantize_static layout: a pair on every tensor, including those octet fuses away.
// x [1, 1, 2, 2] -> Q/DQ(0.5) -> Conv 1x1 (W = DQ(3, scale 0.25) = 0.75, bias 0.1) -> c -> Q/DQ(0.5)
//   -> Add(., DQ(Q(r, 0.5))) -> a -> Q/DQ(1) -> Relu -> Q/DQ(0.25) -> y
ModelBuilder residual_model() {
  ModelBuilder b(17);
  b.input("x", {1, 1, 2, 2}).input("r", {1, 1, 2, 2}).output("y", {1, 1, 2, 2});
  b.initializer<float>("half", {}, {0.5f}).initializer<float>("one", {}, {1.0f});
  b.initializer<float>("quarter", {}, {0.25f}).initializer<int8_t>("z", {}, {0});
  b.initializer<int8_t>("w_q", {1, 1, 1, 1}, {3}).initializer<float>("bias", {1}, {0.1f});
  const auto pair = [&](const std::string& t, const std::string& scale, const std::string& out) {
    b.node("QuantizeLinear", {t, scale, "z"}, {t + "_q"}, t + "_Q");
    b.node("DequantizeLinear", {t + "_q", scale, "z"}, {out}, t + "_DQ");
  };
  pair("x", "half", "x_dq");
  pair("r", "half", "r_dq");
  b.node("DequantizeLinear", {"w_q", "quarter", "z"}, {"w"}, "w_DQ");
  b.node("Conv", {"x_dq", "w", "bias"}, {"c"}, "conv");
  pair("c", "half", "c_dq");
  b.node("Add", {"c_dq", "r_dq"}, {"a"}, "add");
  pair("a", "one", "a_dq");
  b.node("Relu", {"a_dq"}, {"v"}, "relu");
  pair("v", "quarter", "y");
  return b;
}

// The model's pairs fused into scales, the FP32 passes, then the explicitly quantized INT8 build.
Graph explicit_int8_graph(const ModelBuilder& b, BuildReport* report = nullptr) {
  Graph g = import(b);
  const std::map<std::string, float> scales = fuse_qdq(g, nullptr);
  optimize_fp32(g);
  BuildConfig config;
  config.int8 = true;
  config.explicit_quantization = true;
  return build_int8_graph(g, scales, config, report);
}

TEST(QdqFusion, TheFusedEpilogueRoundsWhereTheModelDoes) {
  const Graph int8 = explicit_int8_graph(residual_model());
  const Node& conv = node_named(int8, "conv");  // Conv + Add + Relu
  ASSERT_EQ(conv.op, OpKind::Conv);
  ASSERT_EQ(conv.precision, Precision::kInt8);
  EXPECT_EQ(epilogue_of(conv)->fused_output, "c");
  EXPECT_EQ(epilogue_of(conv)->fused_sum, "a");
  EXPECT_EQ(epilogue_of(conv)->rounding.after_bias, 0.5f);
  EXPECT_EQ(epilogue_of(conv)->rounding.after_residual, 1.0f);
  // The residual r has a pair: read as int8 at 0.5.
  EXPECT_EQ(int8.value(conv.inputs.at(3)).type, DataType::kInt8);
  EXPECT_EQ(int8.value(conv.inputs.at(3)).scale, 0.5f);
  // The layer info shows the roundings and the inner pairs the layer absorbed.
  for (const auto& layer : layer_info_json({&int8, BackendKind::kCpu, "", nullptr})["layers"]) {
    if (layer["name"] != "conv") continue;
    EXPECT_EQ(layer["epilogue_rounding"]["after_bias"], 0.5);
    EXPECT_EQ(layer["epilogue_rounding"]["after_residual"], 1.0);
    const std::vector<std::string> fused = layer["fused_ops"];
    for (const char* pair : {"c_Q", "c_DQ", "a_Q", "a_DQ", "r_Q", "r_DQ", "add", "relu"})
      EXPECT_TRUE(lists(fused, pair)) << pair;
  }

  // x = (1, -0.5, 2, 1.5) -> q (2, -1, 4, 3); acc = 3q = (6, -3, 12, 9); * 0.5 * 0.25, + 0.1:
  //   c = (0.85, -0.275, 1.6, 1.225) -> /0.5 = (1.7, -0.55, 3.2, 2.45) -> (2, -1, 3, 2) -> (1, -0.5, 1.5, 1)
  //   + r (0.5, 0.5, -1, 0) = (1.5, 0, 0.5, 1) -> /1 round half even -> (2, 0, 0, 1); Relu; /0.25 -> (8, 0, 0, 4)
  //   y = (2, 0, 0, 1)   (without the inner pairs: (1.35, 0.225, 0.6, 1.225) -> (1.25, 0.25, 0.5, 1.25))
  const std::vector<std::vector<float>> inputs = {{1.0f, -0.5f, 2.0f, 1.5f}, {0.5f, 0.5f, -1.0f, 0.0f}};
  const std::vector<float> want = {2.0f, 0.0f, 0.0f, 1.0f};
  EXPECT_EQ(run_cpu(int8, inputs), want);
  // The model run as it is (its Q/DQ nodes executed, float Conv and Add) gives the same.
  Graph as_is = import(residual_model());
  optimize_fp32(as_is);
  EXPECT_EQ(run_cpu(as_is, inputs), want);
}

TEST(QdqFusion, FloatReadersOfAPairReadTheRoundedTensor) {
  // x -> Q/DQ(0.5) -> Softmax -> y. Softmax has no INT8 layer, yet it must read the rounded x:
  // x = (0.3, 0.74) -> (0.5, 0.5) -> y = (0.5, 0.5)   (unrounded: softmax(0.3, 0.74) = (0.39, 0.61)).
  ModelBuilder b(17);
  b.input("x", {1, 2}).output("y", {1, 2});
  b.initializer<float>("s", {}, {0.5f}).initializer<int8_t>("z", {}, {0});
  b.node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "Q");
  b.node("DequantizeLinear", {"q", "s", "z"}, {"x_dq"}, "DQ");
  b.node("Softmax", {"x_dq"}, {"y"}, "softmax").attr_int("axis", 1);
  BuildReport report;
  const Graph int8 = explicit_int8_graph(b, &report);
  EXPECT_EQ(int8.value(node_named(int8, "softmax").inputs.at(0)).name, "x:int8:fp32");
  EXPECT_EQ(report.quantize_nodes, 1);
  EXPECT_EQ(report.dequantize_nodes, 1);
  EXPECT_EQ(run_cpu(int8, {{0.3f, 0.74f}}), (std::vector<float>{0.5f, 0.5f}));
}

TEST(QdqFusion, AnAddBetweenPairsRunsInt8AsTheModelRoundsIt) {
  // a -> Q/DQ(0.5), b -> Q/DQ(0.25), Add -> Q/DQ(1) -> y: the INT8 Add (quant::add_int8) computes
  // what the pairs say. a = (1.2, -0.7) -> (1.0, -0.5); b = (0.3, 1.0) -> (0.25, 1.0); sum (1.25, 0.5)
  // -> (1, 0) at scale 1 (0.5 is a tie: half to even). Unrounded the sum would be (1.5, 0.3).
  ModelBuilder b(17);
  b.input("a", {1, 2, 1, 1}).input("b", {1, 2, 1, 1}).output("y", {1, 2, 1, 1});
  b.initializer<float>("sa", {}, {0.5f}).initializer<float>("sb", {}, {0.25f}).initializer<float>("sy", {}, {1.0f});
  b.initializer<int8_t>("z", {}, {0});
  b.node("QuantizeLinear", {"a", "sa", "z"}, {"a_q"}, "a_Q");
  b.node("DequantizeLinear", {"a_q", "sa", "z"}, {"a_dq"}, "a_DQ");
  b.node("QuantizeLinear", {"b", "sb", "z"}, {"b_q"}, "b_Q");
  b.node("DequantizeLinear", {"b_q", "sb", "z"}, {"b_dq"}, "b_DQ");
  b.node("Add", {"a_dq", "b_dq"}, {"s"}, "add");
  b.node("QuantizeLinear", {"s", "sy", "z"}, {"s_q"}, "s_Q");
  b.node("DequantizeLinear", {"s_q", "sy", "z"}, {"y"}, "s_DQ");
  const Graph int8 = explicit_int8_graph(b);
  EXPECT_EQ(node_named(int8, "add").precision, Precision::kInt8);
  EXPECT_EQ(run_cpu(int8, {{1.2f, -0.7f}, {0.3f, 1.0f}}), (std::vector<float>{1.0f, 0.0f}));
}

TEST(QdqFusion, ScalesCrossMaxPoolAndConcat) {
  // a -> Q/DQ(0.5) -> MaxPool -> p ; b -> Relu -> rb ; Concat(p, rb) -> Q/DQ(0.25) -> y.
  // c and y (the graph output the Concat writes once the pair is gone) get 0.25. Forward across
  // MaxPool: p gets 0.5 (a has it). Backward from the Concat output: rb gets 0.25 (it has none), p
  // keeps 0.5; b gets none (no propagation backward across Relu).
  ModelBuilder b(17);
  b.input("a", {1, 1, 2, 2}).input("b", {1, 1, 1, 1}).output("y", {1, 2, 1, 1});
  b.initializer<float>("s1", {}, {0.5f}).initializer<float>("s2", {}, {0.25f}).initializer<int8_t>("z", {}, {0});
  b.node("QuantizeLinear", {"a", "s1", "z"}, {"a_q"}, "a_Q");
  b.node("DequantizeLinear", {"a_q", "s1", "z"}, {"a_dq"}, "a_DQ");
  b.node("MaxPool", {"a_dq"}, {"p"}, "pool").attr_ints("kernel_shape", {2, 2});
  b.node("Relu", {"b"}, {"rb"}, "relu");
  b.node("Concat", {"p", "rb"}, {"c"}, "concat").attr_int("axis", 1);
  b.node("QuantizeLinear", {"c", "s2", "z"}, {"c_q"}, "c_Q");
  b.node("DequantizeLinear", {"c_q", "s2", "z"}, {"y"}, "c_DQ");
  Graph g = import(b);
  QdqFusionReport report;
  const std::map<std::string, float> scales = fuse_qdq(g, &report);
  EXPECT_EQ(scales, (std::map<std::string, float>{
                        {"a", 0.5f}, {"p", 0.5f}, {"c", 0.25f}, {"y", 0.25f}, {"rb", 0.25f}}));
  EXPECT_EQ(report.propagated.size(), 2u);
}

// ONNX Runtime's quantize_static models (tests/fixtures/qdq, tools/models/make_qdq_models.py): every
// Conv and Gemm becomes an INT8 layer whose weights are ORT's own int8 values and scales (the folded
// DequantizeLinear is listed among its fused nodes), and no QuantizeLinear / DequantizeLinear of the
// model is left as a layer. (Agreement of the results with ORT: tests/peers/qdq_ort_agreement.py.)
class QdqFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(QdqFixtures, EveryConvAndGemmRunsInt8WithTheModelsWeights) {
  Graph g = import_onnx_file(test::source_dir() + "/tests/fixtures/qdq/" + GetParam() + ".onnx");
  ASSERT_TRUE(has_qdq(g));
  std::map<std::string, const ConstantQuantization*> given;  // weight name -> the model's integers
  for (const Value& v : g.values)
    if (v.quantized && v.quantized->values.type() == DataType::kInt8) given[v.name] = &*v.quantized;
  QdqFusionReport report;
  const std::map<std::string, float> scales = fuse_qdq(g, &report);
  EXPECT_FALSE(report.fused.empty());
  optimize_fp32(g);
  std::map<std::string, std::string> weight_of;  // layer -> its weight's name before the build
  for (const Node& n : g.nodes)
    if (n.op == OpKind::Conv || n.op == OpKind::Gemm) weight_of[n.name] = g.value(n.inputs.at(1)).name;
  BuildConfig config;
  config.int8 = true;
  BuildReport build;
  const Graph int8 = build_int8_graph(g, scales, config, &build);
  int layers = 0;
  for (const Node& n : int8.nodes) {
    if (n.op == OpKind::Conv || n.op == OpKind::Gemm) {
      ++layers;
      SCOPED_TRACE(n.name);
      EXPECT_EQ(n.precision, Precision::kInt8);
      const auto it = given.find(weight_of.at(n.name));
      ASSERT_NE(it, given.end()) << "no DequantizeLinear weight";
      EXPECT_TRUE(lists(n.fused_nodes, it->second->node));
      const size_t channels = n.weight_scales.size();
      for (size_t c = 0; c < channels; ++c)
        EXPECT_EQ(n.weight_scales[c], it->second->scales.size() == 1 ? it->second->scales[0] : it->second->scales[c]);
      const Tensor& w = *int8.value(n.inputs.at(1)).initializer;
      if (n.op == OpKind::Conv) {  // Gemm weights keep ORT's [N_out, K_in] (transB = 1) too
        EXPECT_EQ(std::memcmp(w.data<int8_t>(), it->second->values.data<int8_t>(), static_cast<size_t>(w.numel())), 0);
      }
    }
    // The only reformats left are the builder's own ("<tensor>:quantize" / ":dequantize").
    if (n.op == OpKind::QuantizeLinear || n.op == OpKind::DequantizeLinear) {
      EXPECT_NE(n.name.find(":"), std::string::npos) << "model's " << to_string(n.op) << " '" << n.name << "' left";
    }
  }
  EXPECT_GT(layers, 0);
}

INSTANTIATE_TEST_SUITE_P(OrtQuantizeStatic, QdqFixtures,
                         ::testing::Values("resnet_fmnist_qdq_per_channel", "resnet_fmnist_qdq_per_tensor",
                                           "mobilenetv2_fmnist_qdq_per_channel", "inception_fmnist_qdq_per_tensor",
                                           "mlp_fmnist_qdq_per_channel"));

// ---- bad input ------------------------------------------------------------------------------------

ModelBuilder pair_model(float scale, const std::string& zero_type = "int8", int zero = 0) {
  ModelBuilder b(17);
  b.input("x", {1, 3}).output("y", {1, 3});
  b.initializer<float>("s", {}, {scale});
  if (zero_type == "uint8")
    b.initializer<uint8_t>("z", {}, {static_cast<uint8_t>(zero)});
  else
    b.initializer<int8_t>("z", {}, {static_cast<int8_t>(zero)});
  b.node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "the_Q");
  b.node("DequantizeLinear", {"q", "s", "z"}, {"y"}, "the_DQ");
  return b;
}

TEST(QdqImportErrors, ZeroScaleNamesTheNode) {
  expect_error([] { import(pair_model(0.0f)); }, {"qdq.onnx", "the_Q", "scale 0", "positive"});
}

TEST(QdqImportErrors, Uint8WithNonZeroZeroPointIsRefusedWithTheFix) {
  expect_error([] { import(pair_model(0.1f, "uint8", 128)); }, {"the_Q", "uint8", "symmetric int8", "QInt8"});
}

TEST(QdqImportErrors, NonZeroInt8ZeroPointIsAsymmetric) {
  expect_error([] { import(pair_model(0.1f, "int8", 3)); }, {"the_Q", "zero point 3", "asymmetric"});
}

TEST(QdqImportErrors, PerAxisScaleOfTheWrongLength) {
  ModelBuilder b(17);
  b.input("x", {1, 2, 1, 1}).output("y", {1, 3, 1, 1});
  b.initializer<int8_t>("w_q", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  b.initializer<float>("w_scale", {2}, {0.5f, 0.5f}).initializer<int8_t>("w_zero", {2}, {0, 0});
  b.node("DequantizeLinear", {"w_q", "w_scale", "w_zero"}, {"w"}, "w_DQ").attr_int("axis", 0);
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  expect_error([&] { import(b); }, {"w_DQ", "scale has 2 entries but axis 0", "'w_q'", "has 3"});
}

TEST(QdqImportErrors, DequantizeWithoutItsQuantize) {
  // An int8 tensor that no QuantizeLinear wrote: here a graph input.
  ModelBuilder b(17);
  b.input("x", {1, 3}, onnx::TensorProto_DataType_INT8).output("y", {1, 3});
  b.initializer<float>("s", {}, {0.5f}).initializer<int8_t>("z", {}, {0});
  b.node("DequantizeLinear", {"x", "s", "z"}, {"y"}, "lonely_DQ");
  expect_error([&] { import(b); }, {"lonely_DQ", "no QuantizeLinear", "'x'"});
}

TEST(QdqImportErrors, PairWithTwoScales) {
  ModelBuilder b(17);
  b.input("x", {1, 3}).output("y", {1, 3});
  b.initializer<float>("s", {}, {0.5f}).initializer<float>("t", {}, {0.25f}).initializer<int8_t>("z", {}, {0});
  b.node("QuantizeLinear", {"x", "s", "z"}, {"q"}, "the_Q");
  b.node("DequantizeLinear", {"q", "t", "z"}, {"y"}, "the_DQ");
  expect_error([&] { import(b); }, {"the_DQ", "scale 0.25", "quantized with scale 0.5"});
}

}  // namespace
}  // namespace octet
