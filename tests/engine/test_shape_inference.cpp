// Shape inference: every rule on graphs built by hand, expected dims from ONNX's formulas worked
// out in the comments.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/shape_inference.h"
#include "tests/engine/graph_builder.h"
#include "tests/support/graph_lookup.h"

namespace octet {
namespace {

using test::expect_error;
using test::GraphBuilder;

Dims inferred(GraphBuilder& b, ValueId id) {
  infer_shapes(b.graph);
  return b.graph.value(id).dims;
}

ConvAttrs conv_attrs(int64_t k, int64_t stride, int64_t pad, int64_t dilation = 1, int64_t group = 1) {
  ConvAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  a.dilation_h = a.dilation_w = dilation;
  a.group = group;
  return a;
}

// ---- Conv -----------------------------------------------------------------------------------------

TEST(ShapeInferenceConv, StridePadDilation) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 4, 17, 17});
  const ValueId w = b.constant("w", {8, 4, 3, 3}, {});
  // (17 + 2*2 - ((3-1)*2+1)) / 2 + 1 = 16/2 + 1 = 9
  const ValueId y = b.node(OpKind::Conv, "conv", {x, w}, conv_attrs(3, 2, 2, 2));
  EXPECT_EQ(inferred(b, y), (Dims{2, 8, 9, 9}));
}

TEST(ShapeInferenceConv, AsymmetricPadsAndStrides) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 7, 5});
  const ValueId w = b.constant("w", {1, 1, 3, 3}, {});
  ConvAttrs a = conv_attrs(3, 2, 0);
  a.pad_top = 1;
  a.pad_right = 1;  // H: (7+1-3)/2+1 = 3; W: (5+1-3)/2+1 = 2
  const ValueId y = b.node(OpKind::Conv, "conv", {x, w}, a);
  EXPECT_EQ(inferred(b, y), (Dims{1, 1, 3, 2}));
}

TEST(ShapeInferenceConv, GroupedAndDepthwise) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 6, 5, 5});
  const ValueId w = b.constant("w", {6, 1, 3, 3}, {});
  const ValueId bias = b.constant("b", {6}, {});
  const ValueId y = b.node(OpKind::Conv, "dw", {x, w, bias}, conv_attrs(3, 1, 1, 1, 6));
  EXPECT_EQ(inferred(b, y), (Dims{1, 6, 5, 5}));
}

TEST(ShapeInferenceConv, OneDimensional) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 10});
  const ValueId w = b.constant("w", {3, 2, 4}, {});
  ConvAttrs a = conv_attrs(4, 3, 0);
  a.kernel_h = 1;
  a.stride_h = 1;
  a.pad_top = a.pad_bottom = 0;
  a.pad_left = 1;  // (10 + 1 - 4) / 3 + 1 = 3
  a.spatial_rank = 1;
  const ValueId y = b.node(OpKind::Conv, "conv1d", {x, w}, a);
  EXPECT_EQ(inferred(b, y), (Dims{1, 3, 3}));
}

TEST(ShapeInferenceConv, ChannelMismatchNamesTheNode) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 8, 8});
  const ValueId w = b.constant("w", {4, 2, 3, 3}, {});
  b.node(OpKind::Conv, "conv_bad", {x, w}, conv_attrs(3, 1, 0));
  expect_error([&] { infer_shapes(b.graph); }, {"conv_bad", "channels"});
}

TEST(ShapeInferenceConv, KernelLargerThanInputNamesTheNode) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 2, 2});
  const ValueId w = b.constant("w", {1, 1, 3, 3}, {});
  b.node(OpKind::Conv, "conv_big", {x, w}, conv_attrs(3, 1, 0));
  expect_error([&] { infer_shapes(b.graph); }, {"conv_big", "larger than the padded input"});
}

TEST(ShapeInferenceConv, BiasAndResidualMustFit) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 4, 4});
  const ValueId w = b.constant("w", {3, 2, 1, 1}, {});
  const ValueId bias = b.constant("b", {2}, {});
  b.node(OpKind::Conv, "conv_bias", {x, w, bias}, conv_attrs(1, 1, 0));
  expect_error([&] { infer_shapes(b.graph); }, {"conv_bias", "bias [2]"});

  GraphBuilder r;
  const ValueId rx = r.input("x", {1, 2, 4, 4});
  const ValueId rw = r.constant("w", {3, 2, 1, 1}, {});
  const ValueId residual = r.input("res", {1, 2, 4, 4});
  ConvAttrs a = conv_attrs(1, 1, 0);
  a.epilogue.has_residual = true;
  r.node(OpKind::Conv, "conv_res", {rx, rw, kNoValue, residual}, a);
  expect_error([&] { infer_shapes(r.graph); }, {"conv_res", "residual"});
}

// ---- Pooling ----------------------------------------------------------------------------------------

PoolAttrs pool_attrs(int64_t k, int64_t stride, int64_t pad, bool ceil_mode) {
  PoolAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  a.ceil_mode = ceil_mode;
  return a;
}

TEST(ShapeInferencePool, FloorAndCeil) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 5, 5});
  // floor((5 - 2) / 2) + 1 = 2; ceil((5 - 2) / 2) + 1 = 3 (third window starts at 4, inside).
  const ValueId f = b.node(OpKind::MaxPool, "floor", {x}, pool_attrs(2, 2, 0, false));
  const ValueId c = b.node(OpKind::MaxPool, "ceil", {x}, pool_attrs(2, 2, 0, true));
  infer_shapes(b.graph);
  EXPECT_EQ(b.graph.value(f).dims, (Dims{1, 1, 2, 2}));
  EXPECT_EQ(b.graph.value(c).dims, (Dims{1, 1, 3, 3}));
}

TEST(ShapeInferencePool, CeilModeDropsAWindowStartingInThePadding) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 5, 5});
  // kernel 3, stride 3, pads 1/1: ceil((5 + 2 - 3) / 3) + 1 = 3, but window 3 would start at
  // 2*3 - 1 = 5, in the right padding (input indices 0..4), so ONNX drops it: 2.
  const ValueId y = b.node(OpKind::AveragePool, "avg", {x}, pool_attrs(3, 3, 1, true));
  EXPECT_EQ(inferred(b, y), (Dims{1, 1, 2, 2}));
}

TEST(ShapeInferencePool, DilatedPool) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 4, 4});
  PoolAttrs a = pool_attrs(2, 1, 0, false);
  a.dilation_h = a.dilation_w = 2;  // effective 3: (4 - 3) / 1 + 1 = 2
  const ValueId y = b.node(OpKind::MaxPool, "pool", {x}, a);
  EXPECT_EQ(inferred(b, y), (Dims{1, 1, 2, 2}));
}

TEST(ShapeInferencePool, GlobalPoolsKeepRank) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 7, 9});
  const ValueId x1 = b.input("x1", {2, 3, 7});
  const ValueId a = b.node(OpKind::GlobalAveragePool, "gap", {x});
  const ValueId m = b.node(OpKind::GlobalMaxPool, "gmp", {x1});
  infer_shapes(b.graph);
  EXPECT_EQ(b.graph.value(a).dims, (Dims{2, 3, 1, 1}));
  EXPECT_EQ(b.graph.value(m).dims, (Dims{2, 3, 1}));
}

// ---- Gemm / MatMul --------------------------------------------------------------------------------

TEST(ShapeInferenceGemm, TransposesAndBroadcastC) {
  GraphBuilder b;
  const ValueId a = b.input("a", {4, 3});         // transA: M = 3, K = 4
  const ValueId w = b.constant("w", {5, 4}, {});  // transB: N = 5
  const ValueId c = b.constant("c", {1, 5}, {});
  GemmAttrs attrs;
  attrs.trans_a = attrs.trans_b = true;
  const ValueId y = b.node(OpKind::Gemm, "gemm", {a, w, c}, attrs);
  EXPECT_EQ(inferred(b, y), (Dims{3, 5}));
}

TEST(ShapeInferenceGemm, InnerMismatchAndBadC) {
  GraphBuilder b;
  const ValueId a = b.input("a", {2, 3});
  const ValueId w = b.constant("w", {4, 5}, {});
  b.node(OpKind::Gemm, "gemm_k", {a, w}, GemmAttrs{});
  expect_error([&] { infer_shapes(b.graph); }, {"gemm_k", "inner dimensions"});

  GraphBuilder bc;
  const ValueId a2 = bc.input("a", {2, 3});
  const ValueId w2 = bc.constant("w", {3, 5}, {});
  const ValueId c2 = bc.constant("c", {3, 5}, {});
  bc.node(OpKind::Gemm, "gemm_c", {a2, w2, c2}, GemmAttrs{});
  expect_error([&] { infer_shapes(bc.graph); }, {"gemm_c", "C"});
}

struct MatMulCase {
  Dims a, b, out;
};

class ShapeInferenceMatMul : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(ShapeInferenceMatMul, NumpySemantics) {
  const MatMulCase c = GetParam();
  GraphBuilder b;
  GemmAttrs attrs;
  attrs.beta = 0.0f;
  const ValueId y = b.node(OpKind::MatMul, "mm", {b.input("a", c.a), b.input("b", c.b)}, attrs);
  EXPECT_EQ(inferred(b, y), c.out);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ShapeInferenceMatMul,
    ::testing::Values(MatMulCase{{3, 4}, {4, 5}, {3, 5}},              // plain
                      MatMulCase{{2, 3, 4}, {4, 5}, {2, 3, 5}},        // batched A
                      MatMulCase{{2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}},  // batch dims broadcast
                      MatMulCase{{4}, {4, 5}, {5}},                    // vector x matrix
                      MatMulCase{{3, 4}, {4}, {3}},                    // matrix x vector
                      MatMulCase{{4}, {4}, {}}));                      // dot product

TEST(ShapeInferenceMatMulErrors, InnerMismatchNamesTheNode) {
  GraphBuilder b;
  b.node(OpKind::MatMul, "mm_bad", {b.input("a", {2, 3}), b.input("b", {4, 2})}, GemmAttrs{});
  expect_error([&] { infer_shapes(b.graph); }, {"mm_bad", "inner dimensions"});
}

// ---- Broadcasting ---------------------------------------------------------------------------------

TEST(ShapeInferenceBroadcast, NumpyRules) {
  EXPECT_EQ(broadcast_dims({2, 1, 4}, {3, 1}, "t"), (Dims{2, 3, 4}));
  EXPECT_EQ(broadcast_dims({}, {2, 3}, "t"), (Dims{2, 3}));
  EXPECT_EQ(broadcast_dims({1, 3, 1, 1}, {1, 3, 8, 8}, "t"), (Dims{1, 3, 8, 8}));
  EXPECT_EQ(broadcast_dims({0, 1}, {1, 5}, "t"), (Dims{0, 5}));
  expect_error([] { broadcast_dims({2, 3}, {4}, "node 'add7'"); }, {"node 'add7'", "[2, 3]", "[4]"});
}

TEST(ShapeInferenceBroadcast, ElementwiseNodes) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4});
  const ValueId k = b.constant("k", {3, 1}, {});
  const ValueId y = b.node(OpKind::Mul, "mul", {k, x});
  EXPECT_EQ(inferred(b, y), (Dims{2, 3, 4}));
  b.node(OpKind::Sub, "sub_bad", {x, b.constant("k2", {2}, {})});
  expect_error([&] { infer_shapes(b.graph); }, {"sub_bad"});
}

// ---- Reshape family -------------------------------------------------------------------------------

ReshapeAttrs to_shape(Dims shape, bool allowzero = false) {
  ReshapeAttrs a;
  a.rule = ReshapeAttrs::Rule::kShape;
  a.shape = std::move(shape);
  a.allowzero = allowzero;
  return a;
}

TEST(ShapeInferenceReshape, ZeroCopiesAndMinusOneInfers) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4});
  const ValueId y = b.node(OpKind::Reshape, "r", {x}, to_shape({0, -1}));  // [2, 12]
  const ValueId z = b.node(OpKind::Reshape, "r2", {x}, to_shape({-1, 0, 2}));  // [4, 3, 2]
  infer_shapes(b.graph);
  EXPECT_EQ(b.graph.value(y).dims, (Dims{2, 12}));
  EXPECT_EQ(b.graph.value(z).dims, (Dims{4, 3, 2}));
}

TEST(ShapeInferenceReshape, AllowZeroKeepsZero) {
  GraphBuilder b;
  const ValueId x = b.input("x", {0, 3});
  const ValueId y = b.node(OpKind::Reshape, "r", {x}, to_shape({3, 0}, true));
  EXPECT_EQ(inferred(b, y), (Dims{3, 0}));
}

TEST(ShapeInferenceReshape, Errors) {
  GraphBuilder two;
  two.node(OpKind::Reshape, "two_minus_one", {two.input("x", {2, 3})}, to_shape({-1, -1}));
  expect_error([&] { infer_shapes(two.graph); }, {"two_minus_one", "more than one -1"});

  GraphBuilder count;
  count.node(OpKind::Reshape, "wrong_count", {count.input("x", {2, 3})}, to_shape({4, 2}));
  expect_error([&] { infer_shapes(count.graph); }, {"wrong_count", "[2, 3]", "[4, 2]"});

  GraphBuilder az;
  az.node(OpKind::Reshape, "zero_and_minus_one", {az.input("x", {2, 3})}, to_shape({0, -1}, true));
  expect_error([&] { infer_shapes(az.graph); }, {"zero_and_minus_one", "allowzero"});
}

TEST(ShapeInferenceReshape, Flatten) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4, 5});
  ReshapeAttrs a;
  a.rule = ReshapeAttrs::Rule::kFlatten;
  a.axis = 0;
  const ValueId f0 = b.node(OpKind::Reshape, "f0", {x}, a);
  a.axis = 2;
  const ValueId f2 = b.node(OpKind::Reshape, "f2", {x}, a);
  a.axis = 4;
  const ValueId f4 = b.node(OpKind::Reshape, "f4", {x}, a);
  infer_shapes(b.graph);
  EXPECT_EQ(b.graph.value(f0).dims, (Dims{1, 120}));
  EXPECT_EQ(b.graph.value(f2).dims, (Dims{6, 20}));
  EXPECT_EQ(b.graph.value(f4).dims, (Dims{120, 1}));
}

TEST(ShapeInferenceReshape, SqueezeAndUnsqueeze) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 1, 5});
  ReshapeAttrs sq;
  sq.rule = ReshapeAttrs::Rule::kSqueeze;
  const ValueId all = b.node(OpKind::Reshape, "squeeze_all", {x}, sq);
  sq.axes = {2};
  const ValueId one = b.node(OpKind::Reshape, "squeeze_2", {x}, sq);
  ReshapeAttrs unsq;
  unsq.rule = ReshapeAttrs::Rule::kUnsqueeze;
  unsq.axes = {0, 3};
  const ValueId grown = b.node(OpKind::Reshape, "unsqueeze", {b.input("y", {3, 4})}, unsq);
  infer_shapes(b.graph);
  EXPECT_EQ(b.graph.value(all).dims, (Dims{3, 5}));
  EXPECT_EQ(b.graph.value(one).dims, (Dims{1, 3, 5}));
  EXPECT_EQ(b.graph.value(grown).dims, (Dims{1, 3, 4, 1}));
}

TEST(ShapeInferenceReshape, SqueezeOfANonUnitAxisNamesTheNode) {
  GraphBuilder b;
  ReshapeAttrs sq;
  sq.rule = ReshapeAttrs::Rule::kSqueeze;
  sq.axes = {1};
  b.node(OpKind::Reshape, "squeeze_bad", {b.input("x", {1, 3})}, sq);
  expect_error([&] { infer_shapes(b.graph); }, {"squeeze_bad", "axis 1"});
}

// ---- Transpose, Concat, Pad, Softmax, BatchNorm, Identity ---------------------------------------------

TEST(ShapeInferenceLayout, Transpose) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4});
  const ValueId y = b.node(OpKind::Transpose, "t", {x}, TransposeAttrs{{1, 2, 0}});
  EXPECT_EQ(inferred(b, y), (Dims{3, 4, 2}));
  b.node(OpKind::Transpose, "t_bad", {x}, TransposeAttrs{{0, 0, 1}});
  expect_error([&] { infer_shapes(b.graph); }, {"t_bad", "permutation"});
}

TEST(ShapeInferenceLayout, Concat) {
  GraphBuilder b;
  const ValueId y = b.node(OpKind::Concat, "cat",
                           {b.input("a", {1, 2, 4}), b.input("b", {1, 5, 4}), b.input("c", {1, 1, 4})}, ConcatAttrs{1});
  EXPECT_EQ(inferred(b, y), (Dims{1, 8, 4}));
  b.node(OpKind::Concat, "cat_bad", {b.input("d", {1, 2, 4}), b.input("e", {1, 2, 5})}, ConcatAttrs{1});
  expect_error([&] { infer_shapes(b.graph); }, {"cat_bad", "[1, 2, 5]"});
}

TEST(ShapeInferenceLayout, PadWithNegativePads) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 4, 4});
  // H: 4 + 1 + 2 = 7; W: 4 - 1 - 1 = 2
  const ValueId y = b.node(OpKind::Pad, "pad", {x}, PadAttrs{{0, 0, 1, -1, 0, 0, 2, -1}, 0.0f});
  EXPECT_EQ(inferred(b, y), (Dims{1, 3, 7, 2}));
  b.node(OpKind::Pad, "pad_bad", {x}, PadAttrs{{0, 0, 0, -3, 0, 0, 0, -2}, 0.0f});
  expect_error([&] { infer_shapes(b.graph); }, {"pad_bad"});
}

TEST(ShapeInferenceLayout, SoftmaxBatchNormIdentityKeepDims) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4, 4});
  const ValueId s = b.node(OpKind::Softmax, "sm", {x}, SoftmaxAttrs{3, false});
  std::vector<ValueId> bn_inputs{x};
  for (const char* p : {"g", "beta", "mean", "var"}) bn_inputs.push_back(b.constant(p, {3}, {}));
  const ValueId n = b.node(OpKind::BatchNormalization, "bn", bn_inputs, BatchNormAttrs{});
  const ValueId i = b.node(OpKind::Identity, "id", {x});
  const ValueId r = b.node(OpKind::Relu, "relu", {x}, ActivationParams{Activation::kRelu});
  infer_shapes(b.graph);
  for (ValueId id : {s, n, i, r}) EXPECT_EQ(b.graph.value(id).dims, (Dims{2, 3, 4, 4}));

  b.node(OpKind::Softmax, "sm_bad", {x}, SoftmaxAttrs{4, false});
  expect_error([&] { infer_shapes(b.graph); }, {"sm_bad", "axis 4"});
}

TEST(ShapeInferenceLayout, BatchNormParameterMismatchNamesTheNode) {
  GraphBuilder b;
  std::vector<ValueId> inputs{b.input("x", {1, 3, 2, 2})};
  for (const char* p : {"g", "beta", "mean"}) inputs.push_back(b.constant(p, {3}, {}));
  inputs.push_back(b.constant("var", {4}, {}));
  b.node(OpKind::BatchNormalization, "bn_bad", inputs, BatchNormAttrs{});
  expect_error([&] { infer_shapes(b.graph); }, {"bn_bad", "var [4]"});
}

// ---- set_batch ------------------------------------------------------------------------------------

TEST(ShapeInferenceBatch, SetBatchReinfers) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 8, 8}, /*batched=*/true);
  const ValueId side = b.input("side", {1, 10});  // fixed dim 0 in a batched graph: a side input
  const ValueId w = b.constant("w", {4, 3, 3, 3}, {});
  const ValueId c = b.node(OpKind::Conv, "conv", {x, w}, conv_attrs(3, 1, 1));
  ReshapeAttrs flat;
  flat.rule = ReshapeAttrs::Rule::kFlatten;
  const ValueId f = b.node(OpKind::Reshape, "flatten", {c}, flat);
  const ValueId keep = b.node(OpKind::Reshape, "keep_batch", {c}, to_shape({0, -1}));
  const ValueId r = b.node(OpKind::Relu, "relu", {side}, ActivationParams{Activation::kRelu});
  set_batch(b.graph, 8);
  EXPECT_EQ(b.graph.batch, 8);
  EXPECT_EQ(b.graph.value(c).dims, (Dims{8, 4, 8, 8}));
  EXPECT_EQ(b.graph.value(f).dims, (Dims{8, 256}));
  EXPECT_EQ(b.graph.value(keep).dims, (Dims{8, 256}));
  EXPECT_EQ(b.graph.value(r).dims, (Dims{1, 10}));
  set_batch(b.graph, 1);
  EXPECT_EQ(b.graph.value(f).dims, (Dims{1, 256}));
}

TEST(ShapeInferenceBatch, FixedBatchGraphRefusesAnotherBatch) {
  GraphBuilder b;
  const ValueId x = b.input("images", {2, 3});
  b.node(OpKind::Relu, "relu", {x}, ActivationParams{Activation::kRelu});
  b.graph.batch = 2;
  EXPECT_NO_THROW(set_batch(b.graph, 2));
  expect_error([&] { set_batch(b.graph, 4); }, {"'images'", "fixed batch of 2", "batch 4"});
  expect_error([&] { set_batch(b.graph, 0); }, {"at least 1"});
}

TEST(ShapeInferenceBatch, LiteralBatchInReshapeNamesTheNodeAndLeavesTheGraphUnchanged) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2048, 1, 1}, /*batched=*/true);
  const ValueId y = b.node(OpKind::Reshape, "fc_reshape", {x}, to_shape({1, 2048}));
  infer_shapes(b.graph);
  expect_error([&] { set_batch(b.graph, 4); }, {"fc_reshape", "[1, 2048]", "batch"});
  EXPECT_EQ(b.graph.batch, 1);
  EXPECT_EQ(b.graph.value(x).dims, (Dims{1, 2048, 1, 1}));
  EXPECT_EQ(b.graph.value(y).dims, (Dims{1, 2048}));
}

}  // namespace
}  // namespace octet
