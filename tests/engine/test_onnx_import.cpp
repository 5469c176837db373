// ONNX import: hand-built models for every operator and attribute form, and every kind of bad
// input. Expected attributes and dims are worked out by hand in each test (ONNX's formulas), never
// taken from octet.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "engine/onnx_import.h"
#include "engine/op_registry.h"
#include "tests/support/onnx_builder.h"
#include "tests/support/graph_lookup.h"

namespace octet {
namespace {

using test::node_named;
using test::value_named;

using test::kSymbolicDim;
using test::kUnknownDim;
using test::ModelBuilder;

Graph import(const ModelBuilder& b) { return import_onnx_bytes(b.bytes(), "model.onnx"); }

// Runs `fn`, expects it to throw E, and checks the message holds every fragment.
template <typename E, typename Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

template <typename Fn>
void expect_unsupported(Fn&& fn, const std::vector<std::string>& fragments) {
  expect_error<UnsupportedError>(fn, fragments);
}

// Errors that are not UnsupportedError (malformed or inconsistent input).
template <typename Fn>
void expect_plain_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const UnsupportedError& e) {
    ADD_FAILURE() << "expected Error, got UnsupportedError: " << e.what();
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

std::vector<float> filled(size_t n, float v = 0.5f) { return std::vector<float>(n, v); }

// ---- Conv -----------------------------------------------------------------------------------------

TEST(OnnxImportConv, ExplicitAttributesAndDefaultName) {
  ModelBuilder b(17);
  b.input("x", {1, 4, 9, 9})
      .initializer<float>("w", {6, 2, 3, 3}, filled(6 * 2 * 9))
      .initializer<float>("b", {6}, filled(6))
      .output("y", {1, 6, 4, 3});
  b.node("Conv", {"x", "w", "b"}, {"y"})
      .attr_ints("strides", {2, 3})
      .attr_ints("pads", {1, 0, 0, 2})
      .attr_ints("dilations", {1, 2})
      .attr_int("group", 2);
  const Graph g = import(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  EXPECT_EQ(n.name, "Conv_0");
  EXPECT_EQ(n.op, OpKind::Conv);
  ASSERT_EQ(n.inputs.size(), 3u);
  const auto& a = std::get<ConvAttrs>(n.attrs);
  EXPECT_EQ(a.kernel_h, 3);  // from W: kernel_shape absent
  EXPECT_EQ(a.kernel_w, 3);
  EXPECT_EQ(a.stride_h, 2);
  EXPECT_EQ(a.stride_w, 3);
  EXPECT_EQ(a.pad_top, 1);
  EXPECT_EQ(a.pad_left, 0);
  EXPECT_EQ(a.pad_bottom, 0);
  EXPECT_EQ(a.pad_right, 2);
  EXPECT_EQ(a.dilation_h, 1);
  EXPECT_EQ(a.dilation_w, 2);
  EXPECT_EQ(a.group, 2);
  EXPECT_EQ(a.spatial_rank, 2);
  // OH = (9 + 1 + 0 - 3) / 2 + 1 = 4; OW = (9 + 0 + 2 - (2*2+1)) / 3 + 1 = 3
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 6, 4, 3}));
}

// in 5, kernel 4, stride 1: SAME output 5 needs (5-1)*1 + 4 - 5 = 3 padding cells.
struct AutoPadCase {
  const char* mode;
  int64_t begin, end, out;
};

class OnnxImportConvAutoPad : public ::testing::TestWithParam<AutoPadCase> {};

TEST_P(OnnxImportConvAutoPad, ResolvesToExplicitPads) {
  const AutoPadCase c = GetParam();
  ModelBuilder b(11);
  b.input("x", {1, 1, 5, 5}).initializer<float>("w", {1, 1, 4, 4}, filled(16)).output("y", {1, 1, c.out, c.out});
  b.node("Conv", {"x", "w"}, {"y"}, "conv").attr_string("auto_pad", c.mode).attr_ints("kernel_shape", {4, 4});
  const Graph g = import(b);
  const auto& a = std::get<ConvAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(a.pad_top, c.begin);
  EXPECT_EQ(a.pad_left, c.begin);
  EXPECT_EQ(a.pad_bottom, c.end);
  EXPECT_EQ(a.pad_right, c.end);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 1, c.out, c.out}));
}

INSTANTIATE_TEST_SUITE_P(Modes, OnnxImportConvAutoPad,
                         ::testing::Values(AutoPadCase{"SAME_UPPER", 1, 2, 5}, AutoPadCase{"SAME_LOWER", 2, 1, 5},
                                           AutoPadCase{"VALID", 0, 0, 2}, AutoPadCase{"NOTSET", 0, 0, 2}),
                         [](const auto& test_info) { return std::string(test_info.param.mode); });

TEST(OnnxImportConv, SameUpperWithStride) {
  // in 7, kernel 3, stride 2: out ceil(7/2) = 4, padding (4-1)*2 + 3 - 7 = 2 -> 1 and 1.
  ModelBuilder b(17);
  b.input("x", {1, 1, 7, 7}).initializer<float>("w", {1, 1, 3, 3}, filled(9)).output("y", {1, 1, 4, 4});
  b.node("Conv", {"x", "w"}, {"y"}, "conv").attr_string("auto_pad", "SAME_UPPER").attr_ints("strides", {2, 2});
  const auto a = std::get<ConvAttrs>(import(b).nodes[0].attrs);
  EXPECT_EQ(a.pad_top, 1);
  EXPECT_EQ(a.pad_bottom, 1);
}

TEST(OnnxImportConv, OneDimensionalIsLiftedTo2D) {
  ModelBuilder b(17);
  b.input("x", {1, 2, 10}).initializer<float>("w", {3, 2, 3}, filled(18)).output("y", {1, 3, 5});
  b.node("Conv", {"x", "w"}, {"y"}, "conv1d").attr_ints("strides", {2}).attr_ints("pads", {1, 1});
  const Graph g = import(b);
  const auto& a = std::get<ConvAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(a.spatial_rank, 1);
  EXPECT_EQ(a.kernel_h, 1);
  EXPECT_EQ(a.kernel_w, 3);
  EXPECT_EQ(a.stride_h, 1);
  EXPECT_EQ(a.stride_w, 2);
  EXPECT_EQ(a.pad_top, 0);
  EXPECT_EQ(a.pad_bottom, 0);
  EXPECT_EQ(a.pad_left, 1);
  EXPECT_EQ(a.pad_right, 1);
  // L = (10 + 2 - 3) / 2 + 1 = 5; the tensor keeps its ONNX rank.
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 3, 5}));
}

TEST(OnnxImportConv, ThreeDimensionalIsUnsupported) {
  ModelBuilder b(17);
  b.input("x", {1, 1, 4, 4, 4}).initializer<float>("w", {1, 1, 2, 2, 2}, filled(8)).output("y", {1, 1, 3, 3, 3});
  b.node("Conv", {"x", "w"}, {"y"}, "conv3d");
  expect_unsupported([&] { import(b); }, {"conv3d", "3-D convolution: octet targets 2-D image CNNs"});
}

TEST(OnnxImportConv, RuntimeWeightsAreAllowed) {
  // ONNX's own conv tests feed W as a graph input.
  ModelBuilder b(11);
  b.input("x", {1, 1, 5, 5}).input("w", {1, 1, 3, 3}).output("y", {1, 1, 5, 5});
  b.node("Conv", {"x", "w"}, {"y"}).attr_ints("pads", {1, 1, 1, 1});
  const Graph g = import(b);
  EXPECT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 1, 5, 5}));
}

TEST(OnnxImportConv, IntegerWeightsAreUnsupported) {
  ModelBuilder b(17);
  b.input("x", {1, 1, 3, 3}).initializer<int8_t>("w_int8", {1, 1, 1, 1}, {1}).output("y", {1, 1, 3, 3});
  b.node("Conv", {"x", "w_int8"}, {"y"}, "conv");
  expect_unsupported([&] { import(b); }, {"model.onnx", "conv", "w_int8", "int8"});
}

// ---- Pooling ----------------------------------------------------------------------------------------

TEST(OnnxImportPool, MaxPoolAttributesAndCeilMode) {
  ModelBuilder b(12);
  b.input("x", {1, 2, 6, 6}).output("y", {1, 2, 3, 3});
  b.node("MaxPool", {"x"}, {"y"}, "pool")
      .attr_ints("kernel_shape", {2, 2})
      .attr_ints("strides", {2, 2})
      .attr_ints("dilations", {2, 1})
      .attr_int("ceil_mode", 1);
  const Graph g = import(b);
  const Node& n = g.nodes[0];
  EXPECT_EQ(n.op, OpKind::MaxPool);
  const auto& a = std::get<PoolAttrs>(n.attrs);
  EXPECT_TRUE(a.ceil_mode);
  EXPECT_EQ(a.kernel_h, 2);
  EXPECT_EQ(a.stride_w, 2);
  EXPECT_EQ(a.dilation_h, 2);
  EXPECT_EQ(a.dilation_w, 1);
  EXPECT_FALSE(a.count_include_pad);
  // H: effective kernel (2-1)*2+1 = 3, ceil((6 - 3) / 2) + 1 = 3; the last window starts at 4 < 6.
  // W: kernel 2, ceil((6 - 2) / 2) + 1 = 3.
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 2, 3, 3}));
}

TEST(OnnxImportPool, AveragePoolCountIncludePadAndSameLower) {
  ModelBuilder b(11);
  b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 4, 4});
  b.node("AveragePool", {"x"}, {"y"}, "avg")
      .attr_ints("kernel_shape", {2, 2})
      .attr_string("auto_pad", "SAME_LOWER")
      .attr_int("count_include_pad", 1);
  const auto a = std::get<PoolAttrs>(import(b).nodes[0].attrs);
  EXPECT_TRUE(a.count_include_pad);
  EXPECT_EQ(a.pad_top, 1);  // total 1, SAME_LOWER puts the odd cell first
  EXPECT_EQ(a.pad_bottom, 0);
}

TEST(OnnxImportPool, OneDimensionalPoolIsLifted) {
  ModelBuilder b(11);
  b.input("x", {1, 3, 32}).output("y", {1, 3, 31});
  b.node("AveragePool", {"x"}, {"y"}, "avg1d").attr_ints("kernel_shape", {2});
  const Graph g = import(b);
  const auto& a = std::get<PoolAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(a.spatial_rank, 1);
  EXPECT_EQ(a.kernel_h, 1);
  EXPECT_EQ(a.kernel_w, 2);
}

TEST(OnnxImportPool, MaxPoolIndicesAreUnsupported) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 2, 2}).output("idx", {1, 1, 2, 2}, onnx::TensorProto_DataType_INT64);
  b.node("MaxPool", {"x"}, {"y", "idx"}, "argmax_pool").attr_ints("kernel_shape", {2, 2}).attr_ints("strides", {2, 2});
  expect_unsupported([&] { import(b); }, {"argmax_pool", "indices"});
}

TEST(OnnxImportPool, StorageOrderIsUnsupported) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 3, 3});
  b.node("MaxPool", {"x"}, {"y"}, "pool").attr_ints("kernel_shape", {2, 2}).attr_int("storage_order", 1);
  expect_unsupported([&] { import(b); }, {"pool", "storage_order"});
}

TEST(OnnxImportPool, ThreeDimensionalPoolIsUnsupported) {
  ModelBuilder b(12);
  b.input("x", {1, 1, 4, 4, 4}).output("y", {1, 1, 3, 3, 3});
  b.node("MaxPool", {"x"}, {"y"}, "pool3d").attr_ints("kernel_shape", {2, 2, 2});
  expect_unsupported([&] { import(b); }, {"pool3d", "3-D pooling"});
}

TEST(OnnxImportPool, GlobalPools) {
  ModelBuilder b(1);
  b.input("x", {2, 3, 5, 7}).output("avg", {2, 3, 1, 1}).output("max", {2, 3, 1, 1});
  b.node("GlobalAveragePool", {"x"}, {"avg"});
  b.node("GlobalMaxPool", {"x"}, {"max"});
  const Graph g = import(b);
  EXPECT_EQ(node_named(g, "GlobalAveragePool_0").op, OpKind::GlobalAveragePool);
  EXPECT_EQ(node_named(g, "GlobalMaxPool_1").op, OpKind::GlobalMaxPool);
  EXPECT_EQ(g.batch, 2);  // a fixed batch is kept
}

// ---- Activations --------------------------------------------------------------------------------

TEST(OnnxImportActivation, ClipBoundsAsAttributesBeforeOpset11) {
  ModelBuilder b(6);
  b.input("x", {1, 4}).output("y", {1, 4});
  b.node("Clip", {"x"}, {"y"}, "clip").attr_float("min", -1.5f).attr_float("max", 6.0f);
  const Node n = import(b).nodes[0];
  EXPECT_EQ(n.op, OpKind::Clip);
  const auto& p = std::get<ActivationParams>(n.attrs);
  EXPECT_EQ(p.kind, Activation::kClip);
  EXPECT_EQ(p.alpha, -1.5f);
  EXPECT_EQ(p.beta, 6.0f);
}

TEST(OnnxImportActivation, ClipBoundsAsInputsFromOpset11) {
  ModelBuilder b(13);
  b.input("x", {1, 4}).initializer<float>("hi", {}, {6.0f}).output("y", {1, 4});
  b.node("Clip", {"x", "", "hi"}, {"y"}, "relu6");  // min omitted
  const auto p = std::get<ActivationParams>(import(b).nodes[0].attrs);
  EXPECT_EQ(p.alpha, std::numeric_limits<float>::lowest());
  EXPECT_EQ(p.beta, 6.0f);
}

TEST(OnnxImportActivation, ClipWithoutBoundsIsUnbounded) {
  ModelBuilder b(13);
  b.input("x", {1, 4}).output("y", {1, 4});
  b.node("Clip", {"x"}, {"y"}, "clip");
  const auto p = std::get<ActivationParams>(import(b).nodes[0].attrs);
  EXPECT_EQ(p.alpha, std::numeric_limits<float>::lowest());
  EXPECT_EQ(p.beta, std::numeric_limits<float>::max());
}

TEST(OnnxImportActivation, ClipBoundComputedAtRunTimeIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {1, 4}).input("lo", {}).output("y", {1, 4});
  b.node("Clip", {"x", "lo"}, {"y"}, "clip_dyn");
  expect_unsupported([&] { import(b); }, {"clip_dyn", "'lo'", "computed at run time"});
}

TEST(OnnxImportActivation, IntegerClipIsUnsupported) {
  // As ONNX's test_clip_default_int8_min: the graph input itself is int8.
  ModelBuilder b(13);
  b.input("x", {3}, onnx::TensorProto_DataType_INT8).output("y", {3}, onnx::TensorProto_DataType_INT8);
  b.node("Clip", {"x"}, {"y"});
  expect_unsupported([&] { import(b); }, {"Clip_0", "'x'", "graph input", "int8"});
}

TEST(OnnxImportActivation, ParametersAndDefaults) {
  ModelBuilder b(14);
  b.input("x", {1, 4}).output("a", {1, 4}).output("b", {1, 4}).output("c", {1, 4}).output("d", {1, 4}).output(
      "e", {1, 4}).output("f", {1, 4});
  b.node("Relu", {"x"}, {"a"}, "relu");
  b.node("LeakyRelu", {"x"}, {"b"}, "leaky");
  b.node("LeakyRelu", {"x"}, {"c"}, "leaky2").attr_float("alpha", 0.25f);
  b.node("Sigmoid", {"x"}, {"d"}, "sigmoid");
  b.node("HardSigmoid", {"x"}, {"e"}, "hsig");
  b.node("HardSwish", {"x"}, {"f"}, "hswish");
  const Graph g = import(b);
  auto params = [&](const char* name) { return std::get<ActivationParams>(node_named(g, name).attrs); };
  EXPECT_EQ(params("relu").kind, Activation::kRelu);
  EXPECT_EQ(params("leaky").kind, Activation::kLeakyRelu);
  EXPECT_EQ(params("leaky").alpha, 0.01f);  // ONNX default
  EXPECT_EQ(params("leaky2").alpha, 0.25f);
  EXPECT_EQ(params("sigmoid").kind, Activation::kSigmoid);
  EXPECT_EQ(params("hsig").kind, Activation::kHardSigmoid);
  EXPECT_EQ(params("hsig").alpha, 0.2f);
  EXPECT_EQ(params("hsig").beta, 0.5f);
  EXPECT_EQ(params("hswish").kind, Activation::kHardSwish);
  EXPECT_EQ(node_named(g, "hswish").op, OpKind::HardSwish);
}

// ---- Gemm, MatMul, elementwise ----------------------------------------------------------------------

TEST(OnnxImportGemm, AttributesAndOptionalC) {
  ModelBuilder b(13);
  b.input("a", {4, 3})
      .initializer<float>("w", {5, 4}, filled(20))
      .initializer<float>("c", {5}, filled(5))
      .output("y", {3, 5})
      .output("z", {3, 5});
  b.node("Gemm", {"a", "w", "c"}, {"y"}, "gemm")
      .attr_int("transA", 1)
      .attr_int("transB", 1)
      .attr_float("alpha", 0.5f)
      .attr_float("beta", 2.0f);
  b.node("Gemm", {"a", "w"}, {"z"}, "gemm_no_c").attr_int("transA", 1).attr_int("transB", 1);
  const Graph g = import(b);
  const auto& a = std::get<GemmAttrs>(node_named(g, "gemm").attrs);
  EXPECT_TRUE(a.trans_a);
  EXPECT_TRUE(a.trans_b);
  EXPECT_EQ(a.alpha, 0.5f);
  EXPECT_EQ(a.beta, 2.0f);
  EXPECT_EQ(node_named(g, "gemm").inputs.size(), 3u);
  EXPECT_EQ(node_named(g, "gemm_no_c").inputs.size(), 2u);
}

TEST(OnnxImportGemm, MatMulIsGemmWithoutScaling) {
  ModelBuilder b(13);
  b.input("a", {2, 3, 4}).initializer<float>("w", {4, 6}, filled(24)).output("y", {2, 3, 6});
  b.node("MatMul", {"a", "w"}, {"y"}, "mm");
  const Node n = import(b).nodes[0];
  EXPECT_EQ(n.op, OpKind::MatMul);
  const auto& a = std::get<GemmAttrs>(n.attrs);
  EXPECT_FALSE(a.trans_a);
  EXPECT_FALSE(a.trans_b);
  EXPECT_EQ(a.alpha, 1.0f);
  EXPECT_EQ(a.beta, 0.0f);
}

TEST(OnnxImportElementwise, BinaryOpsBroadcast) {
  ModelBuilder b(14);
  b.input("x", {2, 3, 4}).initializer<float>("k", {3, 1}, filled(3)).output("s", {2, 3, 4}).output("q", {2, 3, 4});
  b.node("Add", {"x", "k"}, {"a"}, "add");
  b.node("Sub", {"a", "k"}, {"s0"}, "sub");
  b.node("Mul", {"s0", "k"}, {"s"}, "mul");
  b.node("Div", {"k", "x"}, {"q"}, "div");
  const Graph g = import(b);
  EXPECT_EQ(node_named(g, "add").op, OpKind::Add);
  EXPECT_EQ(node_named(g, "sub").op, OpKind::Sub);
  EXPECT_EQ(node_named(g, "mul").op, OpKind::Mul);
  EXPECT_EQ(node_named(g, "div").op, OpKind::Div);
  EXPECT_EQ(value_named(g, "q").dims, (Dims{2, 3, 4}));
}

TEST(OnnxImportElementwise, IntegerInputIsUnsupported) {
  // As ONNX's test_add_uint8.
  ModelBuilder b(14);
  b.input("x", {3}, onnx::TensorProto_DataType_UINT8)
      .input("y", {3}, onnx::TensorProto_DataType_UINT8)
      .output("z", {3}, onnx::TensorProto_DataType_UINT8);
  b.node("Add", {"x", "y"}, {"z"});
  expect_unsupported([&] { import(b); }, {"Add_0", "'x'", "graph input", "uint8"});
}

TEST(OnnxImportElementwise, IntegerConstantOperandIsUnsupported) {
  ModelBuilder b(14);
  b.input("x", {3}).initializer<int64_t>("k64", {3}, {1, 2, 3}).output("z", {3});
  b.node("Add", {"x", "k64"}, {"z"}, "add_int");
  expect_unsupported([&] { import(b); }, {"add_int", "'k64'", "int64"});
}

// ---- BatchNormalization, Dropout, Identity ----------------------------------------------------------

ModelBuilder batchnorm_model(int64_t opset) {
  ModelBuilder b(opset);
  b.input("x", {1, 2, 3, 3})
      .initializer<float>("g", {2}, {1.0f, 2.0f})
      .initializer<float>("beta", {2}, {0.0f, 1.0f})
      .initializer<float>("mean", {2}, {0.5f, -0.5f})
      .initializer<float>("var", {2}, {1.0f, 4.0f})
      .output("y", {1, 2, 3, 3});
  return b;
}

TEST(OnnxImportBatchNorm, Epsilon) {
  ModelBuilder b = batchnorm_model(15);
  b.node("BatchNormalization", {"x", "g", "beta", "mean", "var"}, {"y"}, "bn").attr_float("epsilon", 1e-3f);
  const Node n = import(b).nodes[0];
  EXPECT_EQ(n.op, OpKind::BatchNormalization);
  EXPECT_EQ(std::get<BatchNormAttrs>(n.attrs).epsilon, 1e-3f);
  EXPECT_EQ(n.inputs.size(), 5u);
}

TEST(OnnxImportBatchNorm, TrainingModeIsUnsupported) {
  ModelBuilder b = batchnorm_model(15);
  b.node("BatchNormalization", {"x", "g", "beta", "mean", "var"}, {"y"}, "bn_train").attr_int("training_mode", 1);
  expect_unsupported([&] { import(b); }, {"bn_train", "training_mode"});
}

TEST(OnnxImportBatchNorm, RunningStatisticsOutputsAreUnsupported) {
  ModelBuilder b = batchnorm_model(9);
  b.output("running_mean", {2});
  b.node("BatchNormalization", {"x", "g", "beta", "mean", "var"}, {"y", "running_mean"}, "bn_stats");
  expect_unsupported([&] { import(b); }, {"bn_stats", "running_mean"});
}

TEST(OnnxImportDropout, InferenceDropoutIsIdentity) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).initializer<float>("ratio", {}, {0.3f}).output("y", {2, 3});
  b.node("Dropout", {"x", "ratio"}, {"y"}, "drop");
  const Node n = import(b).nodes[0];
  EXPECT_EQ(n.op, OpKind::Identity);
  EXPECT_EQ(n.name, "drop");
}

TEST(OnnxImportDropout, OldOpsetWithRatioAttribute) {
  ModelBuilder b(11);
  b.input("x", {3}).output("y", {3});
  b.node("Dropout", {"x"}, {"y"}).attr_float("ratio", 0.2f);
  EXPECT_EQ(import(b).nodes[0].op, OpKind::Identity);
}

TEST(OnnxImportDropout, ConstantFalseTrainingModeIsAccepted) {
  ModelBuilder b(13);
  b.input("x", {3}).initializer<bool>("train", {}, {false}).output("y", {3});
  b.node("Dropout", {"x", "", "train"}, {"y"});
  EXPECT_EQ(import(b).nodes[0].op, OpKind::Identity);
}

TEST(OnnxImportDropout, TrainingModeIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {3}).initializer<bool>("train", {}, {true}).output("y", {3});
  b.node("Dropout", {"x", "", "train"}, {"y"}, "drop_train");
  expect_unsupported([&] { import(b); }, {"drop_train", "training_mode"});
}

TEST(OnnxImportDropout, RuntimeTrainingModeIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {3}).input("train", {}, onnx::TensorProto_DataType_BOOL).output("y", {3});
  b.node("Dropout", {"x", "", "train"}, {"y"}, "drop_dyn");
  expect_unsupported([&] { import(b); }, {"drop_dyn", "'train'", "computed at run time"});
}

TEST(OnnxImportDropout, MaskOutputIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {3}).output("y", {3}).output("mask", {3}, onnx::TensorProto_DataType_BOOL);
  b.node("Dropout", {"x"}, {"y", "mask"}, "drop_mask");
  expect_unsupported([&] { import(b); }, {"drop_mask", "mask"});
}

TEST(OnnxImportIdentity, RuntimeIdentityIsANode) {
  ModelBuilder b(14);
  b.input("x", {3}).output("y", {3});
  b.node("Identity", {"x"}, {"y"}, "id");
  const Graph g = import(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpKind::Identity);
}

// ---- Reshape family -------------------------------------------------------------------------------

TEST(OnnxImportReshape, ShapeInputWithZeroAndMinusOne) {
  ModelBuilder b(13);
  b.input("x", {kSymbolicDim, 4, 6}).initializer<int64_t>("shape", {3}, {0, -1, 3}).output("y", {kSymbolicDim, 8, 3});
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  const Graph g = import(b);
  const auto& a = std::get<ReshapeAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(a.rule, ReshapeAttrs::Rule::kShape);
  EXPECT_EQ(a.shape, (Dims{0, -1, 3}));
  EXPECT_FALSE(a.allowzero);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 8, 3}));
}

TEST(OnnxImportReshape, AllowZero) {
  ModelBuilder b(14);
  b.input("x", {0, 4}).initializer<int64_t>("shape", {2}, {4, 0}).output("y", {4, 0});
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape").attr_int("allowzero", 1);
  const Graph g = import(b);
  EXPECT_TRUE(std::get<ReshapeAttrs>(g.nodes[0].attrs).allowzero);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{4, 0}));
}

TEST(OnnxImportReshape, ShapeFromConstantNode) {
  ModelBuilder b(13);
  b.input("x", {2, 6}).output("y", {3, 4});
  b.node("Constant", {}, {"shape"}, "shape_const").attr_tensor("value", test::make_tensor<int64_t>("", {2}, {3, 4}));
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  const Graph g = import(b);
  ASSERT_EQ(g.nodes.size(), 1u);  // the Constant is a value, not a node
  EXPECT_TRUE(value_named(g, "shape").is_constant());
  EXPECT_EQ(std::get<ReshapeAttrs>(g.nodes[0].attrs).shape, (Dims{3, 4}));
}

TEST(OnnxImportReshape, ShapeComputedAtRunTimeIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {2, 6}).input("dyn_shape", {2}).output("y", {3, 4});
  b.node("Reshape", {"x", "dyn_shape"}, {"y"}, "reshape_dyn");
  expect_unsupported([&] { import(b); }, {"reshape_dyn", "'dyn_shape'", "computed at run time"});
}

TEST(OnnxImportReshape, FlattenNegativeAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4, 5}).output("y", {24, 5});
  b.node("Flatten", {"x"}, {"y"}, "flat").attr_int("axis", -1);
  const Graph g = import(b);
  const auto& a = std::get<ReshapeAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(g.nodes[0].op, OpKind::Reshape);
  EXPECT_EQ(a.rule, ReshapeAttrs::Rule::kFlatten);
  EXPECT_EQ(a.axis, 3);
}

TEST(OnnxImportReshape, SqueezeAxesAttributeBeforeOpset13) {
  ModelBuilder b(11);
  b.input("x", {1, 3, 1, 5}).output("y", {3, 5});
  b.node("Squeeze", {"x"}, {"y"}, "squeeze").attr_ints("axes", {-2, 0});
  const auto a = std::get<ReshapeAttrs>(import(b).nodes[0].attrs);
  EXPECT_EQ(a.rule, ReshapeAttrs::Rule::kSqueeze);
  EXPECT_EQ(a.axes, (Dims{0, 2}));  // normalised and sorted
}

TEST(OnnxImportReshape, SqueezeAxesInputFromOpset13) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 1, 5}).initializer<int64_t>("axes", {1}, {-2}).output("y", {1, 3, 5});
  b.node("Squeeze", {"x", "axes"}, {"y"}, "squeeze");
  EXPECT_EQ(std::get<ReshapeAttrs>(import(b).nodes[0].attrs).axes, (Dims{2}));
}

TEST(OnnxImportReshape, SqueezeWithoutAxesRemovesAllOnes) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 1, 5}).output("y", {3, 5});
  b.node("Squeeze", {"x"}, {"y"}, "squeeze");
  const Graph g = import(b);
  EXPECT_TRUE(std::get<ReshapeAttrs>(g.nodes[0].attrs).axes.empty());
  EXPECT_EQ(value_named(g, "y").dims, (Dims{3, 5}));
}

TEST(OnnxImportReshape, UnsqueezeBothForms) {
  ModelBuilder old_form(11);
  old_form.input("x", {3, 4}).output("y", {3, 4, 1, 1});
  // Negative axes count in the output's rank (4): -1 -> 3, -2 -> 2.
  old_form.node("Unsqueeze", {"x"}, {"y"}, "unsq").attr_ints("axes", {-1, -2});
  EXPECT_EQ(std::get<ReshapeAttrs>(import(old_form).nodes[0].attrs).axes, (Dims{2, 3}));

  ModelBuilder new_form(13);
  new_form.input("x", {3, 4}).initializer<int64_t>("axes", {2}, {0, 3}).output("y", {1, 3, 4, 1});
  new_form.node("Unsqueeze", {"x", "axes"}, {"y"}, "unsq");
  const Graph g = import(new_form);
  EXPECT_EQ(std::get<ReshapeAttrs>(g.nodes[0].attrs).rule, ReshapeAttrs::Rule::kUnsqueeze);
  EXPECT_EQ(std::get<ReshapeAttrs>(g.nodes[0].attrs).axes, (Dims{0, 3}));
}

TEST(OnnxImportReshape, ReshapeOfAConstantIsFolded) {
  ModelBuilder b(13);
  b.input("x", {2, 3})
      .initializer<float>("k", {6}, {1, 2, 3, 4, 5, 6})
      .initializer<int64_t>("shape", {2}, {2, 3})
      .output("y", {2, 3});
  b.node("Reshape", {"k", "shape"}, {"k2"}, "fold_me");
  b.node("Add", {"x", "k2"}, {"y"}, "add");
  const Graph g = import(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Value& k2 = value_named(g, "k2");
  ASSERT_TRUE(k2.is_constant());
  EXPECT_EQ(k2.dims, (Dims{2, 3}));
  EXPECT_EQ(k2.initializer->data<float>()[5], 6.0f);
}

// ---- Transpose, Concat, Softmax, Pad ----------------------------------------------------------------

TEST(OnnxImportLayout, TransposeDefaultPermIsReversed) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {4, 3, 2});
  b.node("Transpose", {"x"}, {"y"}, "t");
  EXPECT_EQ(std::get<TransposeAttrs>(import(b).nodes[0].attrs).perm, (Dims{2, 1, 0}));
}

TEST(OnnxImportLayout, ConcatNegativeAxis) {
  ModelBuilder b(13);
  b.input("a", {1, 2, 3}).input("b", {1, 2, 5}).output("y", {1, 2, 8});
  b.node("Concat", {"a", "b"}, {"y"}, "cat").attr_int("axis", -1);
  EXPECT_EQ(std::get<ConcatAttrs>(import(b).nodes[0].attrs).axis, 2);
}

TEST(OnnxImportSoftmax, CoerceTo2DBeforeOpset13) {
  ModelBuilder b(11);
  b.input("x", {2, 3, 4}).output("y", {2, 3, 4});
  b.node("Softmax", {"x"}, {"y"}, "sm");
  const auto a = std::get<SoftmaxAttrs>(import(b).nodes[0].attrs);
  EXPECT_TRUE(a.coerce_2d);
  EXPECT_EQ(a.axis, 1);  // opset < 13 default
}

TEST(OnnxImportSoftmax, SingleAxisFromOpset13) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {2, 3, 4}).output("z", {2, 3, 4});
  b.node("Softmax", {"x"}, {"y"}, "sm");
  b.node("Softmax", {"x"}, {"z"}, "sm0").attr_int("axis", -3);
  const Graph g = import(b);
  const auto& a = std::get<SoftmaxAttrs>(node_named(g, "sm").attrs);
  EXPECT_FALSE(a.coerce_2d);
  EXPECT_EQ(a.axis, 2);  // default -1
  EXPECT_EQ(std::get<SoftmaxAttrs>(node_named(g, "sm0").attrs).axis, 0);
}

TEST(OnnxImportPad, PadsAttributeBeforeOpset11) {
  ModelBuilder b(2);
  b.input("x", {1, 1, 2, 2}).output("y", {1, 1, 5, 3});
  b.node("Pad", {"x"}, {"y"}, "pad").attr_ints("pads", {0, 0, 1, 0, 0, 0, 2, 1}).attr_float("value", 1.5f);
  const Graph g = import(b);
  const auto& a = std::get<PadAttrs>(g.nodes[0].attrs);
  EXPECT_EQ(a.pads, (Dims{0, 0, 1, 0, 0, 0, 2, 1}));
  EXPECT_EQ(a.value, 1.5f);
}

TEST(OnnxImportPad, PadsAndValueAsInputsFromOpset11) {
  ModelBuilder b(11);
  b.input("x", {1, 3, 4, 4})
      .initializer<int64_t>("pads", {8}, {0, 0, 1, -1, 0, 0, 2, -1})
      .initializer<float>("cv", {}, {-2.0f})
      .output("y", {1, 3, 7, 2});
  b.node("Pad", {"x", "pads", "cv"}, {"y"}, "pad");
  const auto a = std::get<PadAttrs>(import(b).nodes[0].attrs);
  EXPECT_EQ(a.pads, (Dims{0, 0, 1, -1, 0, 0, 2, -1}));
  EXPECT_EQ(a.value, -2.0f);
}

TEST(OnnxImportPad, ConstantValueIsOptional) {
  ModelBuilder b(13);
  b.input("x", {2, 2}).initializer<int64_t>("pads", {4}, {1, 0, 0, 1}).output("y", {3, 3});
  b.node("Pad", {"x", "pads"}, {"y"}, "pad");
  EXPECT_EQ(std::get<PadAttrs>(import(b).nodes[0].attrs).value, 0.0f);
}

TEST(OnnxImportPad, AxesInputFromOpset18) {
  ModelBuilder b(18);
  b.input("x", {1, 2, 3, 3})
      .initializer<int64_t>("pads", {4}, {1, 2, 3, 4})
      .initializer<int64_t>("axes", {2}, {-1, 2})
      .output("y", {1, 2, 9, 7});
  b.node("Pad", {"x", "pads", "", "axes"}, {"y"}, "pad");
  // axis 3: begin 1, end 3 (W 3 + 4 = 7); axis 2: begin 2, end 4 (H 3 + 6 = 9).
  EXPECT_EQ(std::get<PadAttrs>(import(b).nodes[0].attrs).pads, (Dims{0, 0, 2, 1, 0, 0, 4, 3}));
}

TEST(OnnxImportPad, ReflectModeIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {2, 2}).initializer<int64_t>("pads", {4}, {1, 0, 0, 1}).output("y", {3, 3});
  b.node("Pad", {"x", "pads"}, {"y"}, "pad_reflect").attr_string("mode", "reflect");
  expect_unsupported([&] { import(b); }, {"pad_reflect", "'reflect'"});
}

TEST(OnnxImportPad, RuntimePadsAreUnsupported) {
  ModelBuilder b(13);
  b.input("x", {2, 2}).input("p", {4}).output("y", {3, 3});
  b.node("Pad", {"x", "p"}, {"y"}, "pad_dyn");
  expect_unsupported([&] { import(b); }, {"pad_dyn", "'p'", "computed at run time"});
}

// ---- Constant -------------------------------------------------------------------------------------

TEST(OnnxImportConstant, EveryValueAttribute) {
  ModelBuilder b(13);
  b.input("x", {2}).output("y", {2});
  b.node("Constant", {}, {"t"}).attr_tensor("value", test::make_tensor<float>("", {2}, {1.0f, 2.0f}));
  b.node("Constant", {}, {"f"}).attr_float("value_float", 3.0f);
  b.node("Constant", {}, {"fs"}).attr_floats("value_floats", {4.0f, 5.0f});
  b.node("Constant", {}, {"i"}).attr_int("value_int", 6);
  b.node("Constant", {}, {"is"}).attr_ints("value_ints", {7, 8, 9});
  b.node("Add", {"x", "t"}, {"y"}, "add");
  const Graph g = import(b);
  EXPECT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(value_named(g, "t").initializer->data<float>()[1], 2.0f);
  EXPECT_EQ(value_named(g, "f").dims, Dims{});
  EXPECT_EQ(value_named(g, "f").initializer->data<float>()[0], 3.0f);
  EXPECT_EQ(value_named(g, "fs").dims, Dims{2});
  EXPECT_EQ(value_named(g, "i").type, DataType::kInt64);
  EXPECT_EQ(value_named(g, "i").initializer->data<int64_t>()[0], 6);
  EXPECT_EQ(value_named(g, "is").initializer->data<int64_t>()[2], 9);
}

TEST(OnnxImportConstant, StringConstantIsUnsupported) {
  ModelBuilder b(13);
  b.input("x", {2}).output("y", {2});
  b.node("Constant", {}, {"s"}, "str_const").attr_string("value_string", "hello");
  b.node("Identity", {"x"}, {"y"});
  expect_unsupported([&] { import(b); }, {"str_const", "value_string"});
}

// ---- graph inputs, metadata -------------------------------------------------------------------------

TEST(OnnxImportGraph, InitializersListedAsInputsAreConstants) {
  ModelBuilder b(9);
  b.input("x", {1, 2}).initializer_as_input("k", {1, 2}, {1.0f, 2.0f}).output("y", {1, 2});
  b.node("Add", {"x", "k"}, {"y"});
  const Graph g = import(b);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_TRUE(value_named(g, "k").is_constant());
}

TEST(OnnxImportGraph, SymbolicDimZeroIsTheBatch) {
  ModelBuilder b(17);
  b.input("named", {kSymbolicDim, 3}).input("missing", {kUnknownDim, 3}).input("fixed", {4, 3}).output("y", {kSymbolicDim, 3});
  b.node("Add", {"named", "missing"}, {"y"});
  const Graph g = import(b);
  ASSERT_EQ(g.inputs.size(), 3u);
  ASSERT_EQ(g.input_batched.size(), 3u);
  EXPECT_TRUE(g.input_batched[0]);
  EXPECT_TRUE(g.input_batched[1]);
  EXPECT_FALSE(g.input_batched[2]);
  EXPECT_EQ(value_named(g, "named").dims, (Dims{1, 3}));
  EXPECT_EQ(value_named(g, "missing").dims, (Dims{1, 3}));
  EXPECT_EQ(value_named(g, "fixed").dims, (Dims{4, 3}));
  EXPECT_EQ(g.batch, 1);
}

TEST(OnnxImportGraph, UnknownNonBatchDimIsAnError) {
  ModelBuilder b(17);
  b.input("image", {kSymbolicDim, 3, kSymbolicDim, 224}).output("y", {kSymbolicDim, 3, kSymbolicDim, 224});
  b.node("Relu", {"image"}, {"y"});
  expect_plain_error([&] { import(b); }, {"model.onnx", "'image'", "dim 2"});
}

TEST(OnnxImportGraph, InputWithoutShapeIsAnError) {
  ModelBuilder b(17);
  b.input_without_shape("x").output("y", {1});
  b.node("Relu", {"x"}, {"y"});
  expect_plain_error([&] { import(b); }, {"'x'", "no shape"});
}

TEST(OnnxImportGraph, NonFloatGraphInputs) {
  // Read by no node: refused as a graph input.
  ModelBuilder unused(17);
  unused.input("x", {2}).input("ids", {2}, onnx::TensorProto_DataType_INT64).output("y", {2});
  unused.node("Relu", {"x"}, {"y"});
  expect_unsupported([&] { import(unused); }, {"graph input 'ids'", "int64"});

  // A type octet does not store at all.
  ModelBuilder dbl(17);
  dbl.input("x", {2}, onnx::TensorProto_DataType_DOUBLE).output("y", {2}, onnx::TensorProto_DataType_DOUBLE);
  dbl.node("Relu", {"x"}, {"y"});
  expect_unsupported([&] { import(dbl); }, {"graph input 'x'", "DOUBLE"});

  // An int64 shape fed at run time (as ONNX's test_reshape_* do): the Reshape names it.
  ModelBuilder shape(13);
  shape.input("x", {2, 3}).input("shape", {2}, onnx::TensorProto_DataType_INT64).output("y", {3, 2});
  shape.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  expect_unsupported([&] { import(shape); }, {"reshape", "'shape'", "computed at run time"});
}

TEST(OnnxImportGraph, NonTensorInputIsUnsupported) {
  ModelBuilder b(17);
  auto* seq = b.model().mutable_graph()->add_input();
  seq->set_name("seq");
  seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto_DataType_FLOAT);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"y"});
  expect_unsupported([&] { import(b); }, {"graph input 'seq'", "not a tensor"});
}

TEST(OnnxImportGraph, MetadataProducerAndOpset) {
  ModelBuilder b(16);
  b.producer("pytorch").metadata("mean", "0.485,0.456,0.406").metadata("layout", "NCHW");
  b.input("x", {1}).output("y", {1});
  b.node("Relu", {"x"}, {"y"});
  const Graph g = import(b);
  EXPECT_EQ(g.producer, "pytorch");
  EXPECT_EQ(g.opset, 16);
  EXPECT_EQ(g.metadata.at("mean"), "0.485,0.456,0.406");
  EXPECT_EQ(g.metadata.at("layout"), "NCHW");
}

TEST(OnnxImportGraph, RepeatedNodeNamesAreMadeUnique) {
  ModelBuilder b(17);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"a"}, "act");
  b.node("Relu", {"a"}, {"b"}, "act");
  b.node("Relu", {"b"}, {"y"}, "Relu_1");  // also what an unnamed node 1 would be called
  const Graph g = import(b);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[0].name, "act");
  EXPECT_EQ(g.nodes[1].name, "act_1");
  EXPECT_EQ(g.nodes[2].name, "Relu_1");
}

TEST(OnnxImportGraph, NodesOutOfTopologicalOrderAreAnError) {
  ModelBuilder b(17);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"t"}, {"y"}, "second");
  b.node("Relu", {"x"}, {"t"}, "first");
  expect_plain_error([&] { import(b); }, {"second", "'t'"});
}

TEST(OnnxImportGraph, UndefinedGraphOutputIsAnError) {
  ModelBuilder b(17);
  b.input("x", {2}).output("y", {2}).output("ghost", {2});
  b.node("Relu", {"x"}, {"y"});
  expect_plain_error([&] { import(b); }, {"'ghost'"});
}

// ---- opsets and unsupported operators ---------------------------------------------------------------

TEST(OnnxImportOpset, Opset21IsAccepted) {
  ModelBuilder b(21);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"y"});
  EXPECT_EQ(import(b).opset, 21);
}

TEST(OnnxImportOpset, Opset22IsRefused) {
  ModelBuilder b(22);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"y"});
  expect_unsupported([&] { import(b); }, {"model.onnx", "opset 22", "21"});
}

TEST(OnnxImportOpset, MissingDefaultDomainOpsetIsAnError) {
  ModelBuilder b(17);
  b.model().clear_opset_import();
  b.opset(1, "ai.onnx.ml");
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"y"});
  expect_plain_error([&] { import(b); }, {"default ONNX domain"});
}

TEST(OnnxImportUnsupported, SupportedOperatorList) {
  const std::vector<std::string>& ops = supported_onnx_operators();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  for (const char* op : {"Conv", "Gemm", "MatMul", "Flatten", "Squeeze", "Unsqueeze", "Dropout", "Constant", "Pad",
                         "HardSwish", "Identity", "QuantizeLinear", "DequantizeLinear"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  EXPECT_EQ(std::find(ops.begin(), ops.end(), "LSTM"), ops.end());
  // ops.def's 26 kinds from before the registry, Flatten, Squeeze, Unsqueeze, Dropout and Constant, and
  // the registered operators.
  EXPECT_EQ(ops.size(), 31u + registered_onnx_types().size());
}

TEST(OnnxImportUnsupported, OneMessageListsEveryUnsupportedNode) {
  ModelBuilder b(17);
  b.opset(1, "com.microsoft");
  b.input("x", {1, 3, 4, 4}).output("y", {1, 3, 4, 4});
  b.node("Relu", {"x"}, {"a"}, "fine");
  b.node("LSTM", {"a"}, {"b"}, "recurrent");
  b.node("Gelu", {"b"}, {"c"}, "ms_gelu").domain("com.microsoft");
  b.node("LRN", {"c"}, {"y"});  // unnamed: reported as LRN_3
  expect_unsupported([&] { import(b); },
                     {"model.onnx", "3 node(s)", "(LRN x1, LSTM x1, com.microsoft.Gelu x1)", "'recurrent'", "'LSTM'", "'ai.onnx', opset 17", "'ms_gelu'",
                      "'Gelu'", "'com.microsoft', opset 1", "'LRN_3'", "'LRN'"});
}

TEST(OnnxImportUnsupported, ModelWithoutDefaultOpsetListsItsNodes) {
  // As ONNX's test_adam: only the training domain is imported.
  ModelBuilder b(1);
  b.model().clear_opset_import();
  b.opset(1, "ai.onnx.preview.training");
  b.input("x", {2}).output("y", {2});
  b.node("Adam", {"x"}, {"y"}, "adam").domain("ai.onnx.preview.training");
  expect_unsupported([&] { import(b); }, {"'adam'", "'Adam'", "'ai.onnx.preview.training', opset 1"});
}

TEST(OnnxImportUnsupported, KnownOpInAnotherDomainIsUnsupported) {
  ModelBuilder b(17);
  b.input("x", {2}).output("y", {2});
  b.node("Relu", {"x"}, {"y"}, "custom_relu").domain("my.domain");
  expect_unsupported([&] { import(b); }, {"'custom_relu'", "'my.domain', opset not imported"});
}

// ---- declared shapes ------------------------------------------------------------------------------

TEST(OnnxImportDeclaredShapes, ContradictingOutputShapeNamesTensorAndNode) {
  ModelBuilder b(17);
  b.input("x", {1, 3, 8, 8}).initializer<float>("w", {4, 3, 3, 3}, filled(108)).output("features", {1, 4, 8, 8});
  b.node("Conv", {"x", "w"}, {"features"}, "conv1");  // no padding: 6x6, not 8x8
  expect_plain_error([&] { import(b); },
                     {"model.onnx", "'features'", "'conv1'", "[1, 4, 8, 8]", "[1, 4, 6, 6]"});
}

TEST(OnnxImportDeclaredShapes, ContradictingValueInfoIsAnError) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {2, 3}).value_info("mid", {3, 2});
  b.node("Relu", {"x"}, {"mid"}, "r1");
  b.node("Relu", {"mid"}, {"y"}, "r2");
  expect_plain_error([&] { import(b); }, {"'mid'", "'r1'", "[3, 2]", "[2, 3]"});
}

TEST(OnnxImportDeclaredShapes, BatchedModelSkipsDimZeroAndSymbolicDims) {
  ModelBuilder b(17);
  // Dim 0 declared as 8 in a batched model: not compared (the import runs at batch 1).
  b.input("x", {kSymbolicDim, 3}).output("y", {8, 3}).value_info("mid", {kSymbolicDim, kUnknownDim});
  b.node("Relu", {"x"}, {"mid"});
  b.node("Relu", {"mid"}, {"y"});
  EXPECT_NO_THROW(import(b));
}

TEST(OnnxImportDeclaredShapes, RankMismatchIsAnError) {
  ModelBuilder b(17);
  b.input("x", {2, 3}).output("y", {6});
  b.node("Relu", {"x"}, {"y"}, "relu");
  expect_plain_error([&] { import(b); }, {"'y'", "'relu'"});
}

// ---- files ---------------------------------------------------------------------------------------

ModelBuilder small_conv_model() {
  ModelBuilder b(17);
  b.input("x", {1, 3, 8, 8}).initializer<float>("w", {8, 3, 3, 3}, filled(216)).output("y", {1, 8, 6, 6});
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  return b;
}

TEST(OnnxImportFile, ImportsAWrittenModel) {
  const std::string path = small_conv_model().write(test::temp_path("small_conv.onnx"));
  const Graph g = import_onnx_file(path);
  EXPECT_EQ(g.nodes.size(), 1u);
}

TEST(OnnxImportFile, MissingFile) {
  const std::string path = test::temp_path("does_not_exist.onnx");
  std::filesystem::remove(path);
  expect_plain_error([&] { import_onnx_file(path); }, {path, "no such file"});
}

TEST(OnnxImportFile, DirectoryIsNotAModel) {
  const std::string path = test::temp_path("a_directory.onnx");
  std::filesystem::create_directories(path);
  expect_plain_error([&] { import_onnx_file(path); }, {path, "directory"});
}

TEST(OnnxImportFile, TruncatedFile) {
  const std::string bytes = small_conv_model().bytes();
  const std::string path = test::temp_path("truncated.onnx");
  test::write_file(path, bytes.substr(0, bytes.size() / 2));
  expect_plain_error([&] { import_onnx_file(path); }, {path, "truncated"});
}

TEST(OnnxImportFile, TextFileIsNotOnnx) {
  const std::string path = test::temp_path("notes.txt");
  test::write_file(path, "This is a text file, not an ONNX model.\nSecond line.\n");
  expect_plain_error([&] { import_onnx_file(path); }, {path, "ONNX"});
}

TEST(OnnxImportFile, EmptyFileIsNotOnnx) {
  const std::string path = test::temp_path("empty.onnx");
  test::write_file(path, "");
  expect_plain_error([&] { import_onnx_file(path); }, {path, "not an ONNX model"});
}

// ---- tensors ------------------------------------------------------------------------------------

TEST(OnnxTensor, FloatRawAndTyped) {
  for (auto storage : {test::Storage::kRaw, test::Storage::kTyped}) {
    const Tensor t = tensor_from_proto(test::make_tensor<float>("t", {2, 2}, {1.0f, -2.0f, 3.5f, 0.25f}, storage), "t");
    EXPECT_EQ(t.type(), DataType::kFloat32);
    EXPECT_EQ(t.dims(), (Dims{2, 2}));
    EXPECT_EQ(t.data<float>()[1], -2.0f);
    EXPECT_EQ(t.data<float>()[3], 0.25f);
  }
}

TEST(OnnxTensor, IntegerAndBoolTypes) {
  for (auto storage : {test::Storage::kRaw, test::Storage::kTyped}) {
    EXPECT_EQ(tensor_from_proto(test::make_tensor<int64_t>("", {2}, {-5, 1LL << 40}, storage), "i64")
                  .data<int64_t>()[1],
              1LL << 40);
    EXPECT_EQ(tensor_from_proto(test::make_tensor<int32_t>("", {1}, {-7}, storage), "i32").data<int32_t>()[0], -7);
    EXPECT_EQ(tensor_from_proto(test::make_tensor<int8_t>("", {2}, {-128, 127}, storage), "i8").data<int8_t>()[0],
              -128);
    EXPECT_EQ(tensor_from_proto(test::make_tensor<uint8_t>("", {1}, {255}, storage), "u8").data<uint8_t>()[0], 255);
    EXPECT_TRUE(tensor_from_proto(test::make_tensor<bool>("", {2}, {false, true}, storage), "b").data<bool>()[1]);
  }
}

TEST(OnnxTensor, ScalarAndEmpty) {
  EXPECT_EQ(tensor_from_proto(test::make_tensor<float>("", {}, {4.0f}), "s").rank(), 0);
  EXPECT_EQ(tensor_from_proto(test::make_tensor<float>("", {0, 3}, {}), "e").numel(), 0);
}

TEST(OnnxTensor, SizeMismatchIsAnError) {
  expect_plain_error([] { tensor_from_proto(test::make_tensor<float>("", {2, 3}, {1, 2, 3}), "weights 'w'"); },
                     {"weights 'w'", "[2, 3]"});
  expect_plain_error(
      [] { tensor_from_proto(test::make_tensor<float>("", {2}, {1, 2, 3}, test::Storage::kRaw), "bias 'b'"); },
      {"bias 'b'", "12 bytes"});
}

TEST(OnnxTensor, ExternalDataIsRefused) {
  onnx::TensorProto t = test::make_tensor<float>("w", {2}, {});
  t.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto* entry = t.add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  expect_unsupported([&] { tensor_from_proto(t, "initializer 'w'"); }, {"initializer 'w'", "external"});
}

TEST(OnnxTensor, UnsupportedTypeIsRefused) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto_DataType_DOUBLE);
  t.add_dims(1);
  t.add_double_data(1.0);
  expect_unsupported([&] { tensor_from_proto(t, "initializer 'd'"); }, {"initializer 'd'", "DOUBLE"});
}

TEST(OnnxTensor, ReadTensorProtoFile) {
  const std::string path = test::temp_path("input_0.pb");
  test::write_file(path, test::make_tensor<float>("x", {3}, {1, 2, 3}, test::Storage::kRaw).SerializeAsString());
  const Tensor t = read_tensor_proto_file(path);
  EXPECT_EQ(t.dims(), Dims{3});
  EXPECT_EQ(t.data<float>()[2], 3.0f);

  const std::string bad = test::temp_path("bad_input_0.pb");
  test::write_file(bad, test::make_tensor<float>("x", {3}, {1, 2}).SerializeAsString());
  expect_plain_error([&] { read_tensor_proto_file(bad); }, {bad, "'x'"});
  expect_plain_error([&] { read_tensor_proto_file(test::temp_path("missing_0.pb")); }, {"missing_0.pb", "no such file"});
}

}  // namespace
}  // namespace octet
