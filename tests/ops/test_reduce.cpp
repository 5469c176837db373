// Reductions (engine/ops/reduce.cpp, kernels/reduce.h): hand-worked values per operator, the axes
// forms of each opset, the summation order, batch re-inference, and the refusals; every case on
// every backend against the CPU reference.
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

std::vector<float> iota_floats(size_t n, float first = 0.0f) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

size_t nodes_of(const Graph& g, OpKind op) {
  size_t count = 0;
  for (const Node& node : g.nodes) count += node.op == op;
  return count;
}

// x = 0..11 as [1, 2, 2, 3]: channel 0 holds 0..5, channel 1 holds 6..11.
TEST(ReduceOps, MeanOverSpatialAxesKeepdims) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 3}).output("y", {1, 2, 1, 1});
  b.node("ReduceMean", {"x"}, {"y"}).attr_ints("axes", {2, 3});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 2, 2, 3}, iota_floats(12))});
  ASSERT_EQ(nodes_of(r.graph, OpKind::ReduceMean), 1u);
  EXPECT_EQ(r.outputs[0].dims(), (Dims{1, 2, 1, 1}));
  expect_close(r.outputs[0], {2.5f, 8.5f}, 0.0);
}

TEST(ReduceOps, MeanOverSpatialAxesWithoutKeepdims) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 3}).output("y", {1, 2});
  b.node("ReduceMean", {"x"}, {"y"}).attr_ints("axes", {3, 2}).attr_int("keepdims", 0);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 2, 2, 3}, iota_floats(12))});
  EXPECT_EQ(r.outputs[0].dims(), (Dims{1, 2}));
  expect_close(r.outputs[0], {2.5f, 8.5f}, 0.0);
}

// Axes 0 and 2 of [2, 2, 3] are not neighbours: each output reads a strided 2 x 3 block.
TEST(ReduceOps, SumOverSeparatedAxes) {
  ModelBuilder b(11);
  b.input("x", {2, 2, 3}).output("y", {2});
  b.node("ReduceSum", {"x"}, {"y"}).attr_ints("axes", {0, -1}).attr_int("keepdims", 0);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 2, 3}, iota_floats(12))});
  // y[j] = sum over i, k of x[i][j][k] = 6 * i + 3 * j + k
  expect_close(r.outputs[0], {0 + 1 + 2 + 6 + 7 + 8, 3 + 4 + 5 + 9 + 10 + 11}, 0.0);
}

// ReduceSum reads axes from an input since opset 13; negative axes count from the end.
TEST(ReduceOps, SumWithAxesInputAndNegativeAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2});
  b.initializer("axes", {1}, std::vector<int64_t>{-1});
  b.node("ReduceSum", {"x", "axes"}, {"y"}, "sum").attr_int("keepdims", 0);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6})});
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  EXPECT_EQ(r.graph.nodes[0].inputs.size(), 1u) << "the axes input is folded into the attributes";
  EXPECT_EQ(std::get<OpAttributes>(r.graph.nodes[0].attrs).ints("axes"), (Dims{1}));
  expect_close(r.outputs[0], {6, 15}, 0.0);
}

// ReduceMean, Max and Min read axes from an input since opset 18.
TEST(ReduceOps, MeanWithAxesInputAtOpset18) {
  ModelBuilder b(18);
  b.input("x", {2, 3}).output("y", {1, 3});
  b.initializer("axes", {1}, std::vector<int64_t>{0});
  b.node("ReduceMean", {"x", "axes"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 9})});
  expect_close(r.outputs[0], {2.5f, 3.5f, 6.0f}, 0.0);
}

TEST(ReduceOps, NoAxesReducesEveryAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {1, 1});
  b.node("ReduceMax", {"x"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, {-4, 7, 1, 7.5f, -9, 0})});
  EXPECT_EQ(std::get<OpAttributes>(r.graph.nodes[0].attrs).ints("axes"), (Dims{0, 1}));
  expect_close(r.outputs[0], {7.5f}, 0.0);
}

TEST(ReduceOps, MinAlongTheFirstAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {3});
  b.node("ReduceMin", {"x"}, {"y"}).attr_ints("axes", {0}).attr_int("keepdims", 0);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, {-4, 7, 1, 7.5f, -9, 1})});
  expect_close(r.outputs[0], {-4, -9, 1}, 0.0);
}

// numpy's maximum/minimum propagate NaN (fmaxf/fminf would drop it); infinities are ordinary values.
TEST(ReduceOps, MaxAndMinPropagateNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    ModelBuilder b(13);
    b.input("x", {3, 3}).output("y", {3});
    b.node(op, {"x"}, {"y"}).attr_ints("axes", {1}).attr_int("keepdims", 0);
    const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 3}, {1, nan, 2, nan, 5, -inf, 3, inf, -inf})});
    const float* y = r.outputs[0].data<float>();
    EXPECT_TRUE(std::isnan(y[0])) << op;
    EXPECT_TRUE(std::isnan(y[1])) << op;
    EXPECT_EQ(y[2], std::string(op) == "ReduceMax" ? inf : -inf) << op;
  }
}

// With noop_with_empty_axes = 1 and no axes, the node is its input.
TEST(ReduceOps, EmptyAxesWithNoopAreTheInput) {
  ModelBuilder b(13);
  b.input("x", {2, 2}).output("y", {2, 2});
  b.initializer("axes", {0}, std::vector<int64_t>{});
  b.node("ReduceSum", {"x", "axes"}, {"y"}).attr_int("noop_with_empty_axes", 1);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 2}, {1, 2, 3, 4})});
  EXPECT_EQ(nodes_of(r.graph, OpKind::ReduceSum), 0u);
  expect_close(r.outputs[0], {1, 2, 3, 4}, 0.0);
}

TEST(ReduceOps, EmptyAxesWithoutNoopReduceEverything) {
  ModelBuilder b(13);
  b.input("x", {2, 2}).output("y", {});
  b.initializer("axes", {0}, std::vector<int64_t>{});
  b.node("ReduceSum", {"x", "axes"}, {"y"}).attr_int("keepdims", 0);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 2}, {1, 2, 3, 4})});
  EXPECT_EQ(r.outputs[0].dims(), Dims{});
  expect_close(r.outputs[0], {10}, 0.0);
}

// The order of kernels/reduce.h, pinned by a sum that rounds differently in every other order:
// e_0 = 2^24 and 32 ones. Lane 0 holds 2^24 + e_32 = 2^24 (the tie rounds to even), lanes 1..31 one
// each; the tree adds 1 (lost again), 2, 4, 8 and 16 to lane 0: 2^24 + 30. A running sum would stay
// at 2^24 and the exact sum is 2^24 + 32.
TEST(ReduceOps, SumOrderIsThirtyTwoLanesThenTheirTree) {
  std::vector<float> x(33, 1.0f);
  x[0] = 16777216.0f;
  ModelBuilder b(13);
  b.input("x", {1, 33}).output("y", {});
  b.node("ReduceSum", {"x"}, {"y"}).attr_int("keepdims", 0);  // opset 13: axes omitted, so all
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 33}, x)});
  EXPECT_EQ(r.outputs[0].data<float>()[0], 16777246.0f);
}

// A long mean against the double-precision value; the CUDA comparison (bit-identical) is the point.
TEST(ReduceOps, LongMeanOverChannelsAgreesWithDouble) {
  const Dims dims = {2, 37, 5, 7};
  std::vector<float> x(static_cast<size_t>(numel(dims)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * 3.0f + 0.1f;
  ModelBuilder b(13);
  b.input("x", dims).output("y", {2, 1, 5, 7});
  b.node("ReduceMean", {"x"}, {"y"}).attr_ints("axes", {1});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>(dims, x)});
  std::vector<float> expected;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t p = 0; p < 35; ++p) {
      double sum = 0;
      for (int64_t c = 0; c < 37; ++c) sum += x[static_cast<size_t>((n * 37 + c) * 35 + p)];
      expected.push_back(static_cast<float>(sum / 37));
    }
  expect_close(r.outputs[0], expected, 1e-6);
}

// Geometries the CUDA kernel indexes differently (contiguous, strided, split reduced axes, thousands
// of elements per output), each against a double-precision sum; CUDA must match bit for bit.
TEST(ReduceOps, SumsOfLargeShapesAgreeWithDouble) {
  const Dims dims = {2, 24, 17, 19};
  std::vector<float> x(static_cast<size_t>(numel(dims)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.013f * static_cast<float>(i * i % 10007)) + 0.5f;
  for (const Dims& axes : {Dims{2, 3}, Dims{1}, Dims{0, 2}, Dims{0, 1, 3}, Dims{0, 1, 2, 3}}) {
    ModelBuilder b(11);
    Dims out_dims = dims;
    for (int64_t axis : axes) out_dims[static_cast<size_t>(axis)] = 1;
    b.input("x", dims).output("y", out_dims);
    b.node("ReduceSum", {"x"}, {"y"}).attr_ints("axes", axes);
    const OpRun r = run_everywhere(b, {make_host_tensor<float>(dims, x)});
    const Dims strides = contiguous_strides(dims);
    std::vector<double> expected(static_cast<size_t>(numel(out_dims)), 0.0);
    const Dims out_strides = contiguous_strides(out_dims);
    for (int64_t i = 0; i < numel(dims); ++i) {
      int64_t o = 0;
      for (size_t d = 0; d < dims.size(); ++d) o += out_dims[d] == 1 ? 0 : (i / strides[d] % dims[d]) * out_strides[d];
      expected[static_cast<size_t>(o)] += x[static_cast<size_t>(i)];
    }
    const float* y = r.outputs[0].data<float>();
    for (size_t o = 0; o < expected.size(); ++o)
      ASSERT_NEAR(y[o], expected[o], 1e-6 * numel(dims) / static_cast<double>(expected.size()) + 1e-5)
          << "axes " << to_string(axes) << ", output " << o;
  }
}

TEST(ReduceOps, BatchChangeReinfersTheOutput) {
  ModelBuilder b(13);
  b.input("x", {kSymbolicDim, 2, 2}).output("y", {kSymbolicDim, 2});
  b.initializer("axes", {1}, std::vector<int64_t>{2});
  b.node("ReduceSum", {"x", "axes"}, {"y"}).attr_int("keepdims", 0);
  Graph g = import_model(b);
  set_batch(g, 3);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({3, 2, 2}, iota_floats(12))});
  EXPECT_EQ(r.outputs[0].dims(), (Dims{3, 2}));
  expect_close(r.outputs[0], {1, 5, 9, 13, 17, 21}, 0.0);
}

TEST(ReduceOps, AxesComputedAtRunTimeAreUnsupportedNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).input("axes", {1}, onnx::TensorProto_DataType_INT64).output("y", {2});
  b.node("ReduceSum", {"x", "axes"}, {"y"}, "sum_rt").attr_int("keepdims", 0);
  expect_error_mentioning([&] { import_model(b); }, {"sum_rt", "axes", "computed at run time"}, /*unsupported=*/true);
}

TEST(ReduceOps, AxesAttributeWhereAxesIsAnInputIsAnErrorNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2});
  b.node("ReduceSum", {"x"}, {"y"}, "sum_attr").attr_ints("axes", {1}).attr_int("keepdims", 0);
  expect_error_mentioning([&] { import_model(b); }, {"sum_attr", "axes is an input since opset 13"});
}

TEST(ReduceOps, AxisOutOfRangeIsAnErrorNamingTheNodeAndValue) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2});
  b.node("ReduceMean", {"x"}, {"y"}, "mean_bad").attr_ints("axes", {2});
  expect_error_mentioning([&] { import_model(b); }, {"mean_bad", "axes value 2", "rank 2"});
}

TEST(ReduceOps, RepeatedAxisIsAnErrorNamingTheNodeAndAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2});
  b.node("ReduceMax", {"x"}, {"y"}, "max_twice").attr_ints("axes", {1, -1});
  expect_error_mentioning([&] { import_model(b); }, {"max_twice", "axis 1 twice"});
}

TEST(ReduceOps, IntegerDataIsUnsupportedNamingTheNode) {
  ModelBuilder b(13);
  b.input("x", {2}).output("y", {2});
  b.initializer("c", {2, 2}, std::vector<int64_t>{1, 2, 3, 4});
  b.node("ReduceSum", {"c"}, {"s"}, "int_sum");
  b.node("Identity", {"x"}, {"y"});
  expect_error_mentioning([&] { import_model(b); }, {"int_sum", "int64", "float32"}, /*unsupported=*/true);
}

}  // namespace
}  // namespace octet::test
