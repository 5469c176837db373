// Data movement (engine/ops/slice.cpp, split.cpp, gather.cpp, expand_tile.cpp, depth_space.cpp;
// kernels/data_movement.h): values the tests state by hand on every backend, int64 shape arithmetic
// folded at import, refusals naming node, attribute and value, and the strided views the CUDA kernels
// run checked against the CPU reference on the host (so the CUDA geometry is tested without a GPU).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>

#include "engine/shape_inference.h"
#include "kernels/cpu/data_movement_ref.h"
#include "tests/ops/op_harness.h"
#include "tests/support/graph_lookup.h"

namespace octet::test {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr auto kInt64 = onnx::TensorProto_DataType_INT64;

std::vector<float> iota_floats(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

template <typename T>
void expect_values(const Tensor& t, const Dims& dims, const std::vector<T>& expected) {
  ASSERT_EQ(t.dims(), dims);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(t.data<T>()[i], expected[i]) << "element " << i;
}

size_t count_nodes(const Graph& g, OpKind op) {
  size_t n = 0;
  for (const Node& node : g.nodes) n += node.op == op;
  return n;
}

// ---- Slice ---------------------------------------------------------------------------------------------

// x[3, 4] = 0..11. Axis 0 from the last row backwards by 2 to an INT64_MIN end: rows 2, 0; axis 1
// from 0 by 3: columns 0, 3.
TEST(Slice, NegativeStartNegativeStepAndStrideOnEveryBackend) {
  ModelBuilder b(13);
  b.input("x", {3, 4}).output("y", {2, 2});
  b.initializer<int64_t>("starts", {2}, {-1, 0});
  b.initializer<int64_t>("ends", {2}, {kInt64Min, 4});
  b.initializer<int64_t>("axes", {2}, {0, 1});
  b.initializer<int64_t>("steps", {2}, {-2, 3});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 4}, iota_floats(12))});
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  EXPECT_EQ(r.graph.nodes[0].inputs.size(), 1u) << "starts, ends, axes and steps are folded into the attributes";
  expect_values<float>(r.outputs[0], {2, 2}, {8, 11, 0, 3});
}

TEST(Slice, HugeEndsWithDefaultAxesAndSteps) {
  ModelBuilder b(13);
  b.input("x", {2, 5}).output("y", {2, 4});
  b.initializer<int64_t>("starts", {2}, {0, 1});
  b.initializer<int64_t>("ends", {2}, {kInt64Max, kInt64Max});
  b.node("Slice", {"x", "starts", "ends"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 5}, iota_floats(10))});
  expect_values<float>(r.outputs[0], {2, 4}, {1, 2, 3, 4, 6, 7, 8, 9});
}

TEST(Slice, NegativeStepReversesTheWholeAxis) {
  ModelBuilder b(13);
  b.input("x", {1, 5}).output("y", {1, 5});
  b.initializer<int64_t>("starts", {1}, {-1});
  b.initializer<int64_t>("ends", {1}, {kInt64Min});
  b.initializer<int64_t>("axes", {1}, {-1});
  b.initializer<int64_t>("steps", {1}, {-1});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 5}, iota_floats(5))});
  expect_values<float>(r.outputs[0], {1, 5}, {4, 3, 2, 1, 0});
}

TEST(Slice, Opset9ReadsAttributesAndClampsEnds) {
  ModelBuilder b(9);
  b.input("x", {2, 3}).output("y", {2, 2});
  b.node("Slice", {"x"}, {"y"}).attr_ints("starts", {1}).attr_ints("ends", {1000}).attr_ints("axes", {1});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, iota_floats(6))});
  expect_values<float>(r.outputs[0], {2, 2}, {1, 2, 4, 5});
}

TEST(Slice, StartPastEndGivesAnEmptyDimension) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2, 0});
  b.initializer<int64_t>("starts", {1}, {2});
  b.initializer<int64_t>("ends", {1}, {1});
  b.initializer<int64_t>("axes", {1}, {1});
  b.node("Slice", {"x", "starts", "ends", "axes"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, iota_floats(6))});
  EXPECT_EQ(r.outputs[0].dims(), (Dims{2, 0}));
}

// Every other row of the batch, columns 1..2 of the last axis: re-inferred when the batch changes.
TEST(Slice, ReinfersAtAnotherBatchAlongTheBatchAxisAndOthers) {
  ModelBuilder b(13);
  b.input("x", {kSymbolicDim, 3, 4}).output("y", {kSymbolicDim, 3, 2});
  b.initializer<int64_t>("starts", {2}, {0, 1});
  b.initializer<int64_t>("ends", {2}, {kInt64Max, 3});
  b.initializer<int64_t>("axes", {2}, {0, 2});
  b.initializer<int64_t>("steps", {2}, {2, 1});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  Graph g = import_model(b);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{1, 3, 2}));
  set_batch(g, 4);
  EXPECT_EQ(value_named(g, "y").dims, (Dims{2, 3, 2}));
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({4, 3, 4}, iota_floats(48))});
  expect_values<float>(r.outputs[0], {2, 3, 2}, {1, 2, 5, 6, 9, 10, 25, 26, 29, 30, 33, 34});
}

// Shape arithmetic: a Slice of an int64 initializer is folded; the Reshape reads the constant.
TEST(Slice, Int64ShapeArithmeticFoldsToAConstant) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {2, 12});
  b.initializer<int64_t>("dims", {4}, {2, 12, 99, 5});
  b.initializer<int64_t>("starts", {1}, {0});
  b.initializer<int64_t>("ends", {1}, {2});
  b.node("Slice", {"dims", "starts", "ends"}, {"shape"});
  b.node("Reshape", {"x", "shape"}, {"y"});
  const Graph g = import_model(b);
  EXPECT_EQ(count_nodes(g, OpKind::Slice), 0u);
  ASSERT_TRUE(value_named(g, "shape").is_constant());
  expect_values<int64_t>(*value_named(g, "shape").initializer, {2}, {2, 12});
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({2, 3, 4}, iota_floats(24))});
  expect_values<float>(r.outputs[0], {2, 12}, iota_floats(24));
}

TEST(Slice, RefusesRuntimeStartsZeroStepsAndRepeatedAxes) {
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).input("starts", {1}, kInt64).output("y", {2, 2});
    b.initializer<int64_t>("ends", {1}, {3});
    b.node("Slice", {"x", "starts", "ends"}, {"y"}, "cut");
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Slice)", "starts", "computed at run time"},
                            /*unsupported=*/true);
  }
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y", {2, 2});
    b.initializer<int64_t>("starts", {1}, {0});
    b.initializer<int64_t>("ends", {1}, {3});
    b.initializer<int64_t>("axes", {1}, {1});
    b.initializer<int64_t>("steps", {1}, {0});
    b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"}, "cut");
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Slice)", "steps [0]", "step of 0"});
  }
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y", {2, 2});
    b.initializer<int64_t>("starts", {2}, {0, 0});
    b.initializer<int64_t>("ends", {2}, {1, 1});
    b.initializer<int64_t>("axes", {2}, {1, -1});
    b.node("Slice", {"x", "starts", "ends", "axes"}, {"y"}, "cut");
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Slice)", "axes [1, 1]", "axis 1 twice"});
  }
}

// ONNX's clamping, case by case, on a dimension of 5.
TEST(Slice, ResolveClampsAsOnnxSays) {
  const auto one = [](int64_t start, int64_t end, int64_t step, int64_t n = 5) {
    return kernels::resolve_slice({n}, {0}, {start}, {end}, {step})[0];
  };
  const auto expect = [](kernels::SliceAxis a, int64_t start, int64_t count) {
    EXPECT_EQ(a.count, count);
    if (count > 0) {
      EXPECT_EQ(a.start, start);
    }
  };
  expect(one(-100, 100, 1), 0, 5);                // both clamped to [0, 5]
  expect(one(100, -100, -1), 4, 5);               // start to n - 1, end to -1: all, reversed
  expect(one(10, 20, 1), 0, 0);                   // starts past the end
  expect(one(1, 4, 2), 1, 2);                     // 1, 3
  expect(one(4, 0, -2), 4, 2);                    // 4, 2 (end excluded)
  expect(one(0, kInt64Max, kInt64Max), 0, 1);     // a step past the end takes one
  expect(one(-1, kInt64Min, kInt64Min), 4, 1);    // and backwards
  expect(one(0, kInt64Max, 1, /*n=*/0), 0, 0);    // an empty dimension stays empty
  expect(one(-1, kInt64Min, -1, /*n=*/0), 0, 0);  // in either direction
}

// ---- Split ---------------------------------------------------------------------------------------------

TEST(Split, BySizesInputOpset13) {
  ModelBuilder b(13);
  b.input("x", {2, 5}).output("a", {2, 2}).output("b", {2, 3});
  b.initializer<int64_t>("split", {2}, {2, 3});
  b.node("Split", {"x", "split"}, {"a", "b"}).attr_int("axis", 1);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 5}, iota_floats(10))});
  ASSERT_EQ(r.graph.nodes.size(), 1u);
  EXPECT_EQ(r.graph.nodes[0].inputs.size(), 1u) << "split is folded into the attributes";
  expect_values<float>(r.outputs[0], {2, 2}, {0, 1, 5, 6});
  expect_values<float>(r.outputs[1], {2, 3}, {2, 3, 4, 7, 8, 9});
}

TEST(Split, BySizesAttributeOpset11) {
  ModelBuilder b(11);
  b.input("x", {3, 2}).output("a", {1, 2}).output("b", {2, 2});
  b.node("Split", {"x"}, {"a", "b"}).attr_ints("split", {1, 2});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 2}, iota_floats(6))});
  expect_values<float>(r.outputs[0], {1, 2}, {0, 1});
  expect_values<float>(r.outputs[1], {2, 2}, {2, 3, 4, 5});
}

TEST(Split, EqualPartsAlongANegativeAxis) {
  ModelBuilder b(13);
  b.input("x", {2, 6}).output("a", {2, 2}).output("b", {2, 2}).output("c", {2, 2});
  b.node("Split", {"x"}, {"a", "b", "c"}).attr_int("axis", -1);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 6}, iota_floats(12))});
  expect_values<float>(r.outputs[0], {2, 2}, {0, 1, 6, 7});
  expect_values<float>(r.outputs[1], {2, 2}, {2, 3, 8, 9});
  expect_values<float>(r.outputs[2], {2, 2}, {4, 5, 10, 11});
}

// Opset 18: ceil(7 / 3) = 3 per part, the last one what remains.
TEST(Split, NumOutputsLastPartSmallerOpset18) {
  ModelBuilder b(18);
  b.input("x", {7}).output("a", {3}).output("b", {3}).output("c", {1});
  b.node("Split", {"x"}, {"a", "b", "c"}).attr_int("num_outputs", 3);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({7}, iota_floats(7))});
  expect_values<float>(r.outputs[0], {3}, {0, 1, 2});
  expect_values<float>(r.outputs[1], {3}, {3, 4, 5});
  expect_values<float>(r.outputs[2], {1}, {6});
}

// An output the model leaves unnamed is not written, but its part still counts.
TEST(Split, AnUnrequestedOutputIsSkipped) {
  ModelBuilder b(13);
  b.input("x", {3}).output("a", {1}).output("c", {1});
  b.node("Split", {"x"}, {"a", "", "c"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3}, {10.0f, 11.0f, 12.0f})});
  expect_values<float>(r.outputs[0], {1}, {10});
  expect_values<float>(r.outputs[1], {1}, {12});
}

TEST(Split, Int64ConstantsFold) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {2, 12});
  b.initializer<int64_t>("dims", {4}, {2, 12, 3, 4});
  b.node("Split", {"dims"}, {"head", "tail"});
  b.node("Reshape", {"x", "head"}, {"y"});
  const Graph g = import_model(b);
  EXPECT_EQ(count_nodes(g, OpKind::Split), 0u);
  expect_values<int64_t>(*value_named(g, "head").initializer, {2}, {2, 12});
  expect_values<int64_t>(*value_named(g, "tail").initializer, {2}, {3, 4});
}

TEST(Split, RefusesSizesThatDoNotAddUpAndUnevenEqualParts) {
  {
    ModelBuilder b(13);
    b.input("x", {2, 5}).output("a", {2, 2}).output("b", {2, 2});
    b.initializer<int64_t>("split", {2}, {2, 2});
    b.node("Split", {"x", "split"}, {"a", "b"}, "cut").attr_int("axis", 1);
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Split)", "split [2, 2]", "sums to 4", "is 5"});
  }
  {
    ModelBuilder b(13);
    b.input("x", {5}).output("a", {2}).output("b", {2});
    b.node("Split", {"x"}, {"a", "b"}, "cut");
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Split)", "(5)", "2 equal parts"});
  }
  {
    ModelBuilder b(18);
    b.input("x", {6}).output("a", {3}).output("b", {3});
    b.node("Split", {"x"}, {"a", "b"}, "cut").attr_int("num_outputs", 3);
    expect_error_mentioning([&] { import_model(b); }, {"node 'cut' (Split)", "num_outputs 3", "2 outputs"});
  }
}

// ---- Gather --------------------------------------------------------------------------------------------

TEST(Gather, Axis0WithNegativeIndices) {
  ModelBuilder b(13);
  b.input("x", {3, 2}).output("y", {3, 2});
  b.initializer<int64_t>("idx", {3}, {-1, 0, 2});
  b.node("Gather", {"x", "idx"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 2}, iota_floats(6))});
  expect_values<float>(r.outputs[0], {3, 2}, {4, 5, 0, 1, 4, 5});
}

// x [2, 2, 3], int32 indices [2, 2] = {{2, -3}, {1, 1}} along axis 2: y [2, 2, 2, 2] with
// y[a, b, i, j] = x[a, b, wrap(idx[i, j])], wrap: -3 -> 0.
TEST(Gather, Axis2With2DInt32Indices) {
  ModelBuilder b(13);
  b.input("x", {2, 2, 3}).output("y", {2, 2, 2, 2});
  b.initializer<int32_t>("idx", {2, 2}, {2, -3, 1, 1});
  b.node("Gather", {"x", "idx"}, {"y"}).attr_int("axis", 2);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 2, 3}, iota_floats(12))});
  expect_values<float>(r.outputs[0], {2, 2, 2, 2}, {2, 0, 1, 1, 5, 3, 4, 4, 8, 6, 7, 7, 11, 9, 10, 10});
}

TEST(Gather, AScalarIndexRemovesTheAxis) {
  ModelBuilder b(13);
  b.input("x", {3, 4}).output("y", {3});
  b.initializer<int64_t>("idx", {}, {-2});
  b.node("Gather", {"x", "idx"}, {"y"}).attr_int("axis", 1);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 4}, iota_floats(12))});
  expect_values<float>(r.outputs[0], {3}, {2, 6, 10});
}

// Shape -> Gather -> Reshape as exporters write it, the Shape already a constant.
TEST(Gather, Int64InitializerFoldsToAConstant) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y", {2, 12});
  b.initializer<int64_t>("dims", {3}, {2, 99, 12});
  b.initializer<int64_t>("idx", {2}, {0, -1});
  b.node("Gather", {"dims", "idx"}, {"shape"});
  b.node("Reshape", {"x", "shape"}, {"y"});
  const Graph g = import_model(b);
  EXPECT_EQ(count_nodes(g, OpKind::Gather), 0u) << "the imported graph has no Gather node";
  expect_values<int64_t>(*value_named(g, "shape").initializer, {2}, {2, 12});
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({2, 3, 4}, iota_floats(24))});
  expect_values<float>(r.outputs[0], {2, 12}, iota_floats(24));
}

// Indices computed at run time (here: the constant turned into a graph input): the kernels read them
// from memory; the CPU backend reports an index out of range, naming the node and the index.
TEST(Gather, RuntimeIndicesAreReadAndCheckedOnTheCpu) {
  ModelBuilder b(13);
  b.input("x", {3, 2}).output("y", {2, 2});
  b.initializer<int64_t>("idx", {2}, {0, 0});
  b.node("Gather", {"x", "idx"}, {"y"}, "pick");
  Graph g = import_model(b);
  const ValueId idx = g.find_value("idx");
  g.value(idx).initializer.reset();
  g.inputs.push_back(idx);
  g.input_batched.push_back(false);
  const Tensor x = make_host_tensor<float>({3, 2}, iota_floats(6));
  const OpRun r = run_everywhere(g, {x, make_host_tensor<int64_t>({2}, {2, -3})});
  expect_values<float>(r.outputs[0], {2, 2}, {4, 5, 0, 1});
  BackendOptions reference;
  reference.reference = true;
  expect_error_mentioning(
      [&] { create_context(g, BackendKind::kCpu, reference)->run({x, make_host_tensor<int64_t>({2}, {1, 3})}); },
      {"node 'pick' (Gather)", "index 3", "entry 1", "axis 0 of size 3"});
}

TEST(Gather, RefusesConstantIndicesOutOfRangeAndFloatIndices) {
  {
    ModelBuilder b(13);
    b.input("x", {3, 2}).output("y", {2, 2});
    b.initializer<int64_t>("idx", {2}, {0, -4});
    b.node("Gather", {"x", "idx"}, {"y"}, "pick");
    expect_error_mentioning([&] { import_model(b); }, {"node 'pick' (Gather)", "index -4", "axis 0 of size 3"});
  }
  {
    ModelBuilder b(13);
    b.input("x", {3, 2}).output("y", {2, 2});
    b.initializer<float>("idx", {2}, {0.0f, 1.0f});
    b.node("Gather", {"x", "idx"}, {"y"}, "pick");
    expect_error_mentioning([&] { import_model(b); }, {"node 'pick' (Gather)", "indices 'idx'", "float32"});
  }
}

// ONNX's own Gather node tests take their int64 indices as a graph input, which octet refuses
// (activations are float32), so the conformance run skips them. Bound as constants (what
// ImportOptions::constant_inputs is for), they must give ONNX's outputs exactly.
TEST(Gather, OnnxNodeTestsWithIndicesBoundAsConstants) {
  const char* env = std::getenv("OCTET_ONNX_TESTDATA");
  const std::filesystem::path root = env ? env : "/usr/share/libonnx-testdata/data/node";
  int ran = 0;
  for (const char* name : {"test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices"}) {
    const std::filesystem::path set = root / name / "test_data_set_0";
    if (!std::filesystem::exists(set / "input_1.pb")) continue;
    SCOPED_TRACE(name);
    ImportOptions options;
    options.constant_inputs["indices"] = read_tensor_proto_file((set / "input_1.pb").string());
    const Graph g = import_onnx_file((root / name / "model.onnx").string(), options);
    const OpRun r = run_everywhere(g, {read_tensor_proto_file((set / "input_0.pb").string())});
    const Tensor expected = read_tensor_proto_file((set / "output_0.pb").string());
    EXPECT_TRUE(same_within(r.outputs[0], expected, 0.0));
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "ONNX node test data not found at " << root;
}

// ---- Expand, Tile --------------------------------------------------------------------------------------

// [3, 1] with shape [2, 1, 4]: both sides broadcast, y [2, 3, 4] with y[., i, .] = x[i].
TEST(Expand, BroadcastsBothWays) {
  ModelBuilder b(13);
  b.input("x", {3, 1}).output("y", {2, 3, 4});
  b.initializer<int64_t>("shape", {3}, {2, 1, 4});
  b.node("Expand", {"x", "shape"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({3, 1}, {7.0f, 8.0f, 9.0f})});
  std::vector<float> expected;
  for (int n = 0; n < 2; ++n)
    for (float v : {7.0f, 8.0f, 9.0f}) expected.insert(expected.end(), 4, v);
  expect_values<float>(r.outputs[0], {2, 3, 4}, expected);
}

// Data movement copies any type: bool and int64 constants fold through Expand and Tile.
TEST(Expand, BoolAndInt64ConstantsFold) {
  ModelBuilder b(13);
  b.input("x", {1}).output("y", {1});
  b.initializer<bool>("flags", {2}, {true, false});
  b.initializer<int64_t>("wide", {1, 2}, {kInt64Max, -5});
  b.initializer<int64_t>("shape", {2}, {2, 2});
  b.initializer<int64_t>("repeats", {2}, {2, 1});
  b.node("Expand", {"flags", "shape"}, {"flags2"});
  b.node("Tile", {"wide", "repeats"}, {"wide2"});
  b.node("Identity", {"x"}, {"y"});
  const Graph g = import_model(b);
  expect_values<bool>(*value_named(g, "flags2").initializer, {2, 2}, {true, false, true, false});
  expect_values<int64_t>(*value_named(g, "wide2").initializer, {2, 2}, {kInt64Max, -5, kInt64Max, -5});
}

TEST(Tile, RepeatsEachDimension) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {4, 6});
  b.initializer<int64_t>("repeats", {2}, {2, 2});
  b.node("Tile", {"x", "repeats"}, {"y"});
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 3}, iota_floats(6))});
  const std::vector<float> row0 = {0, 1, 2, 0, 1, 2}, row1 = {3, 4, 5, 3, 4, 5};
  std::vector<float> expected;
  for (int k = 0; k < 2; ++k) {
    expected.insert(expected.end(), row0.begin(), row0.end());
    expected.insert(expected.end(), row1.begin(), row1.end());
  }
  expect_values<float>(r.outputs[0], {4, 6}, expected);
}

TEST(ExpandTile, RefuseShapesThatDoNotBroadcastAndRepeatsOfTheWrongLength) {
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y", {2, 4});
    b.initializer<int64_t>("shape", {1}, {4});
    b.node("Expand", {"x", "shape"}, {"y"}, "grow");
    expect_error_mentioning([&] { import_model(b); }, {"node 'grow' (Expand)", "[2, 3] and [4]", "do not broadcast"});
  }
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y", {4, 3});
    b.initializer<int64_t>("repeats", {1}, {2});
    b.node("Tile", {"x", "repeats"}, {"y"}, "copies");
    expect_error_mentioning([&] { import_model(b); }, {"node 'copies' (Tile)", "repeats [2]", "rank 2"});
  }
  {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y", {4, 3});
    b.initializer<int64_t>("repeats", {2}, {2, -1});
    b.node("Tile", {"x", "repeats"}, {"y"}, "copies");
    expect_error_mentioning([&] { import_model(b); }, {"node 'copies' (Tile)", "repeats [2, -1]", "negative entry -1"});
  }
}

// ---- DepthToSpace, SpaceToDepth -------------------------------------------------------------------------

// ONNX's documented example: x [1, 8, 2, 3] = 0..47, blocksize 2.
TEST(DepthToSpace, DcrAndCrdModes) {
  const std::vector<float> dcr = {0,  12, 1,  13, 2,  14, 24, 36, 25, 37, 26, 38, 3,  15, 4,  16,
                                  5,  17, 27, 39, 28, 40, 29, 41, 6,  18, 7,  19, 8,  20, 30, 42,
                                  31, 43, 32, 44, 9,  21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47};
  const std::vector<float> crd = {0,  6,  1,  7,  2,  8,  12, 18, 13, 19, 14, 20, 3,  9,  4,  10,
                                  5,  11, 15, 21, 16, 22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42,
                                  37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47};
  for (const auto& [mode, expected] : {std::pair{"DCR", dcr}, std::pair{"CRD", crd}}) {
    ModelBuilder b(13);
    b.input("x", {1, 8, 2, 3}).output("y", {1, 2, 4, 6});
    b.node("DepthToSpace", {"x"}, {"y"}).attr_int("blocksize", 2).attr_string("mode", mode);
    const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 8, 2, 3}, iota_floats(48))});
    SCOPED_TRACE(mode);
    expect_values<float>(r.outputs[0], {1, 2, 4, 6}, expected);
  }
}

// y[n, (bh * 2 + bw) * C + c, h, w] = x[n, c, h * 2 + bh, w * 2 + bw] for x [1, 2, 2, 2].
TEST(SpaceToDepth, MovesBlocksIntoChannels) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2, 2}).output("y", {1, 8, 1, 1});
  b.node("SpaceToDepth", {"x"}, {"y"}).attr_int("blocksize", 2);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({1, 2, 2, 2}, iota_floats(8))});
  expect_values<float>(r.outputs[0], {1, 8, 1, 1}, {0, 4, 1, 5, 2, 6, 3, 7});
}

TEST(SpaceToDepth, UndoesDepthToSpaceDcr) {
  ModelBuilder b(13);
  b.input("x", {2, 18, 2, 3}).output("z", {2, 18, 2, 3});
  b.node("DepthToSpace", {"x"}, {"y"}).attr_int("blocksize", 3);
  b.node("SpaceToDepth", {"y"}, {"z"}).attr_int("blocksize", 3);
  const std::vector<float> x = iota_floats(2 * 18 * 2 * 3);
  const OpRun r = run_everywhere(b, {make_host_tensor<float>({2, 18, 2, 3}, x)});
  expect_values<float>(r.outputs[0], {2, 18, 2, 3}, x);
}

TEST(DepthSpace, RefuseBadModeBlocksizeAndIndivisibleDims) {
  const auto model = [](const char* op, Dims x_dims, int64_t blocksize, const char* mode) {
    ModelBuilder b(13);
    b.input("x", x_dims).output_without_shape("y");
    NodeRef n = b.node(op, {"x"}, {"y"}, "move");
    n.attr_int("blocksize", blocksize);
    if (mode) n.attr_string("mode", mode);
    return b;
  };
  expect_error_mentioning([&] { import_model(model("DepthToSpace", {1, 8, 2, 2}, 2, "XYZ")); },
                          {"node 'move' (DepthToSpace)", "mode 'XYZ'"});
  expect_error_mentioning([&] { import_model(model("DepthToSpace", {1, 8, 2, 2}, 0, nullptr)); },
                          {"node 'move' (DepthToSpace)", "blocksize 0"});
  expect_error_mentioning([&] { import_model(model("DepthToSpace", {1, 6, 2, 2}, 2, nullptr)); },
                          {"node 'move' (DepthToSpace)", "channels 6", "blocksize^2 = 4"});
  expect_error_mentioning([&] { import_model(model("SpaceToDepth", {1, 2, 3, 4}, 2, nullptr)); },
                          {"node 'move' (SpaceToDepth)", "[1, 2, 3, 4]", "blocksize 2"});
  expect_error_mentioning([&] { import_model(model("SpaceToDepth", {2, 3, 4}, 2, nullptr)); },
                          {"node 'move' (SpaceToDepth)", "not 4-D"});
}

// ---- the CUDA kernels' strided views, on the host --------------------------------------------------------

// What strided_copy_kernel computes (kernels/cuda/data_movement_cuda.cu), in its 32-bit arithmetic:
// the coordinates of i in the view's dims, the offset summed modulo 2^32.
std::vector<uint64_t> apply_view(const std::vector<uint64_t>& x, const kernels::StridedView& v) {
  std::vector<uint64_t> y(static_cast<size_t>(numel(v.dims)));
  for (uint32_t i = 0; i < y.size(); ++i) {
    uint32_t rest = i, at = static_cast<uint32_t>(v.offset);
    for (size_t d = v.dims.size(); d-- > 0;) {
      const auto dim = static_cast<uint32_t>(v.dims[d]);
      at += (rest % dim) * static_cast<uint32_t>(v.strides[d]);
      rest /= dim;
    }
    EXPECT_LT(at, x.size()) << "element " << i;
    y[i] = at < x.size() ? x[at] : 0;
  }
  return y;
}

// x = 0, 1, 2, ... as 8-byte elements, so every element is distinct. Returns the reference's y.
template <typename Ref>
std::vector<uint64_t> reference(const Dims& x_dims, int64_t y_elements, Ref&& ref) {
  std::vector<uint64_t> x(static_cast<size_t>(numel(x_dims)));
  std::iota(x.begin(), x.end(), uint64_t{0});
  std::vector<uint64_t> y(static_cast<size_t>(y_elements));
  ref(x.data(), y.data());
  return y;
}

void expect_view_matches(const Dims& x_dims, const kernels::StridedView& view, const std::vector<uint64_t>& want) {
  std::vector<uint64_t> x(static_cast<size_t>(numel(x_dims)));
  std::iota(x.begin(), x.end(), uint64_t{0});
  EXPECT_EQ(apply_view(x, view), want) << "as built";
  const kernels::StridedView merged = kernels::simplify(view);
  EXPECT_LE(merged.dims.size(), 12u) << "the CUDA kernel's kMaxViewRank";
  EXPECT_EQ(apply_view(x, merged), want) << "simplified to " << to_string(merged.dims);
}

TEST(DataMovementViews, SliceMatchesTheReference) {
  const Dims x_dims = {4, 5, 6};
  struct Case {
    Dims axes, starts, ends, steps;
  };
  for (const Case& c : {Case{{0, 1, 2}, {0, 0, 0}, {4, 5, 6}, {1, 1, 1}}, Case{{2}, {-1}, {kInt64Min}, {-1}},
                        Case{{0, 2}, {3, 1}, {kInt64Min, kInt64Max}, {-2, 2}}, Case{{1}, {4}, {0}, {-3}},
                        Case{{1, 2}, {2, 0}, {3, kInt64Max}, {1, kInt64Max}}, Case{{0}, {3}, {1}, {1}}}) {
    const auto axes = kernels::resolve_slice(x_dims, c.axes, c.starts, c.ends, c.steps);
    Dims y_dims;
    for (const auto& a : axes) y_dims.push_back(a.count);
    SCOPED_TRACE("starts " + to_string(c.starts) + " steps " + to_string(c.steps));
    expect_view_matches(x_dims, kernels::slice_view(x_dims, axes), reference(x_dims, numel(y_dims), [&](auto x, auto y) {
                          kernels::slice_ref(x, x_dims, axes, 8, y);
                        }));
  }
}

TEST(DataMovementViews, ExpandAndTileMatchTheReference) {
  for (const auto& [x_dims, y_dims] : {std::pair<Dims, Dims>{{3, 1}, {2, 3, 4}}, std::pair<Dims, Dims>{{1}, {5}},
                                       std::pair<Dims, Dims>{{2, 1, 3}, {2, 4, 3}}, std::pair<Dims, Dims>{{}, {2, 2}}}) {
    SCOPED_TRACE("expand " + to_string(x_dims) + " to " + to_string(y_dims));
    expect_view_matches(x_dims, kernels::expand_view(x_dims, y_dims), reference(x_dims, numel(y_dims), [&](auto x, auto y) {
                          kernels::expand_ref(x, x_dims, y_dims, 8, y);
                        }));
  }
  for (const auto& [x_dims, repeats] : {std::pair<Dims, Dims>{{2, 3, 1}, {2, 1, 3}},
                                        std::pair<Dims, Dims>{{1, 2, 1, 2, 1, 2}, {2, 1, 2, 1, 2, 1}},
                                        std::pair<Dims, Dims>{{2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2}}}) {
    Dims y_dims;
    for (size_t d = 0; d < x_dims.size(); ++d) y_dims.push_back(x_dims[d] * repeats[d]);
    SCOPED_TRACE("tile " + to_string(x_dims) + " by " + to_string(repeats));
    expect_view_matches(x_dims, kernels::tile_view(x_dims, repeats), reference(x_dims, numel(y_dims), [&](auto x, auto y) {
                          kernels::tile_ref(x, x_dims, repeats, 8, y);
                        }));
  }
}

TEST(DataMovementViews, DepthToSpaceAndSpaceToDepthMatchTheReference) {
  for (const auto& [x_dims, b] : {std::pair<Dims, int64_t>{{2, 8, 3, 2}, 2}, std::pair<Dims, int64_t>{{1, 18, 2, 2}, 3},
                                  std::pair<Dims, int64_t>{{1, 4, 1, 1}, 2}}) {
    for (bool crd : {false, true}) {
      SCOPED_TRACE(to_string(x_dims) + (crd ? " CRD" : " DCR"));
      expect_view_matches(x_dims, kernels::depth_to_space_view(x_dims, b, crd),
                          reference(x_dims, numel(x_dims), [&](auto x, auto y) {
                            kernels::depth_to_space_ref(x, x_dims, b, crd, 8, y);
                          }));
    }
  }
  for (const auto& [x_dims, b] : {std::pair<Dims, int64_t>{{2, 3, 4, 6}, 2}, std::pair<Dims, int64_t>{{1, 1, 3, 3}, 3}}) {
    SCOPED_TRACE(to_string(x_dims) + " SpaceToDepth");
    expect_view_matches(x_dims, kernels::space_to_depth_view(x_dims, b), reference(x_dims, numel(x_dims), [&](auto x, auto y) {
                          kernels::space_to_depth_ref(x, x_dims, b, 8, y);
                        }));
  }
}

}  // namespace
}  // namespace octet::test
