// Shape sub-graphs and input shapes fixed at import (engine/ops/shape_ops.cpp, ImportOptions in
// engine/onnx_import.h): Shape/Size/ConstantOfShape/Range/Cast fold to constants, with the legacy
// Concat and integer arithmetic, so a Shape -> Concat -> Reshape chain leaves one Reshape; --shapes
// fixes dynamic dims; a fixed batch of 1 is given anew; errors name the flag and the node.
#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

// x [N, 3, ?, ?] -> Shape(start 0, end 2) -> Concat with [-1] -> Reshape(x) = [N, 3, H*W].
ModelBuilder flatten_spatial_by_shape() {
  ModelBuilder b(15);
  b.input("x", {kSymbolicDim, 3, kUnknownDim, kUnknownDim}).output("y", {kSymbolicDim, 3, kUnknownDim});
  b.initializer("minus_one", {1}, std::vector<int64_t>{-1});
  b.node("Shape", {"x"}, {"nc"}, "shape").attr_int("start", 0).attr_int("end", 2);
  b.node("Concat", {"nc", "minus_one"}, {"target"}, "target").attr_int("axis", 0);
  b.node("Reshape", {"x", "target"}, {"y"}, "reshape");
  return b;
}

TEST(ShapeSubgraphs, FoldOnceTheInputShapeIsFixed) {
  ImportOptions options;
  options.input_shapes = {{"x", {2, 3, 4, 5}}};
  const Graph g = import_model(flatten_spatial_by_shape(), options);
  ASSERT_EQ(g.nodes.size(), 1u) << "Shape and Concat fold away";
  EXPECT_EQ(g.nodes[0].op, OpKind::Reshape);
  EXPECT_EQ(g.value(g.outputs[0]).dims, (Dims{2, 3, 20}));
  EXPECT_EQ(g.batch, 2);
  EXPECT_NE(g.batch_pinned_by.find("shape"), std::string::npos) << "the Shape node pins the batch";
  std::vector<float> x(120);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({2, 3, 4, 5}, x)});
  expect_close(r.outputs[0], x, 0.0);
}

TEST(ShapeSubgraphs, AnotherBatchNeedsAnotherImport) {
  ImportOptions options;
  options.input_shapes = {{"x", {2, 3, 4, 5}}};
  Graph g = import_model(flatten_spatial_by_shape(), options);
  expect_error_mentioning([&] { set_batch(g, 3); }, {"shape", "batch 2", "import it again at batch 3"});
  options.input_shapes = {{"x", {3, 3, 4, 5}}};
  EXPECT_EQ(import_model(flatten_spatial_by_shape(), options).value(g.outputs[0]).dims, (Dims{3, 3, 20}));
}

TEST(ShapeSubgraphs, ADynamicDimWithoutShapesNamesTheFlag) {
  expect_error_mentioning([] { import_model(flatten_spatial_by_shape()); },
                          {"graph input 'x'", "dim 2 is not fixed", "--shapes x:1x3x640x640"});
}

TEST(ShapeSubgraphs, ShapesNamingNoInputListTheInputs) {
  ImportOptions options;
  options.input_shapes = {{"images", {1, 3, 4, 5}}};
  expect_error_mentioning([&] { import_model(flatten_spatial_by_shape(), options); }, {"'images'", "'x'"});
}

TEST(ShapeSubgraphs, ShapesMustAgreeWithFixedDims) {
  ImportOptions options;
  options.input_shapes = {{"x", {1, 4, 4, 5}}};
  expect_error_mentioning([&] { import_model(flatten_spatial_by_shape(), options); }, {"'x'", "fixes dim 1 to 3"});
}

TEST(ShapeSubgraphs, ParseInputShapes) {
  const auto shapes = parse_input_shapes("images:1x3x640x640,scale:0:1x2");
  EXPECT_EQ(shapes.at("images"), (Dims{1, 3, 640, 640}));
  EXPECT_EQ(shapes.at("scale:0"), (Dims{1, 2})) << "the dims follow the last ':'";
  expect_error_mentioning([] { parse_input_shapes("images:1x3xax640"); }, {"images:1x3xax640", "'a'"});
  expect_error_mentioning([] { parse_input_shapes("images"); }, {"name:dims"});
}

TEST(ShapeSubgraphs, AFixedBatchOfOneIsGivenAnew) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2}).output("y", {1, 4});
  b.node("Flatten", {"x"}, {"y"}).attr_int("axis", 1);
  ImportOptions options;
  options.batch = 3;
  const Graph g = import_model(b, options);
  EXPECT_EQ(g.value(g.outputs[0]).dims, (Dims{3, 4}));
  EXPECT_EQ(g.batch, 3);
}

TEST(ShapeSubgraphs, OnlyAFixedBatchOfOneIsGivenAnew) {
  ModelBuilder b(13);
  b.input("x", {8, 2, 2}).output("y", {8, 4});
  b.node("Flatten", {"x"}, {"y"}).attr_int("axis", 1);
  ImportOptions options;
  options.input_shapes = {{"x", {4, 2, 2}}};
  expect_error_mentioning([&] { import_model(b, options); }, {"'x'", "fixes dim 0 to 8"});
}

TEST(ShapeSubgraphs, ALiteralBatchInAReshapeNamesTheNode) {
  ModelBuilder b(13);
  b.input("x", {1, 2, 2}).output("y", {1, 4});
  b.initializer("target", {2}, std::vector<int64_t>{1, 4});
  b.node("Reshape", {"x", "target"}, {"y"}, "head/reshape");
  ImportOptions options;
  options.batch = 3;
  expect_error_mentioning([&] { import_model(b, options); }, {"head/reshape", "literal"});
}

TEST(ShapeSubgraphs, ConstantOfShapeRangeCastAndIntegerArithmeticFold) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y", {2, 3});
  b.initializer("dims", {2}, std::vector<int64_t>{2, 3});
  b.initializer("start", {}, std::vector<int64_t>{1});
  b.initializer("limit", {}, std::vector<int64_t>{7});
  b.initializer("delta", {}, std::vector<int64_t>{1});
  b.initializer("two", {}, std::vector<int64_t>{2});
  b.node("ConstantOfShape", {"dims"}, {"halves"}).attr_tensor("value", make_tensor<float>("v", {1}, {0.5f}));
  b.node("Range", {"start", "limit", "delta"}, {"r"});              // [1..6]
  b.node("Div", {"r", "two"}, {"q"});                                // [0 1 1 2 2 3], truncating
  b.node("Cast", {"q"}, {"qf"}).attr_int("to", 1);                   // float32
  b.node("Reshape", {"qf", "dims"}, {"grid"});                       // [2, 3]
  b.node("Mul", {"grid", "halves"}, {"scaled"});                     // folds: both constant
  b.node("Add", {"x", "scaled"}, {"y"});
  const Graph g = import_model(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  const OpRun r = run_everywhere(g, {make_host_tensor<float>({2, 3}, std::vector<float>(6, 1.0f))});
  expect_close(r.outputs[0], {1.0f, 1.5f, 1.5f, 2.0f, 2.0f, 2.5f}, 0.0);
}

TEST(ShapeSubgraphs, CastOfARunTimeTensorToIntegersIsRefused) {
  ModelBuilder b(13);
  b.input("x", {2}).output("y", {2});
  b.node("Cast", {"x"}, {"y"}, "to_int").attr_int("to", 7);
  expect_error_mentioning([&] { import_model(b); }, {"to_int", "int64", "float32"}, /*unsupported=*/true);
}

TEST(ShapeSubgraphs, CastToFloatOfAFloatTensorIsNoNode) {
  ModelBuilder b(13);
  b.input("x", {2}).output("y", {2});
  b.node("Cast", {"x"}, {"c"}).attr_int("to", 1);
  b.node("Relu", {"c"}, {"y"});
  const Graph g = import_model(b);
  for (const Node& n : g.nodes) EXPECT_NE(n.op, OpKind::Cast);
}

}  // namespace
}  // namespace octet::test
