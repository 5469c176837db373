// Resize and Upsample (engine/ops/resize.cpp, kernels/resize.h): values worked by hand for each mode,
// coordinate mapping and nearest rounding, scales against sizes, the opsets without coordinate
// attributes (Upsample-7/9, Resize-10), opset 18's axes and antialias, re-inference at another batch,
// and the refusals; every case on every backend against the CPU reference. The expected values were
// also checked against ONNX Runtime 1.30 (and ONNX 1.23's reference implementation where it has the
// case); x' below is the input coordinate an output coordinate maps to.
#include <algorithm>
#include <functional>
#include <numeric>

#include "engine/shape_inference.h"
#include "tests/ops/op_harness.h"

namespace octet::test {
namespace {

// One node "resize" (op Resize unless `op` says Upsample): X of dims `x` -> Y, `scales` and `sizes`
// as initializers where non-empty, in the input slots of `opset`; `attrs` sets the node's attributes.
struct ResizeModel {
  int64_t opset = 13;
  std::vector<int64_t> x;
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  std::string op = "Resize";
};

ModelBuilder build(const ResizeModel& m, const std::function<void(NodeRef&)>& attrs = {}) {
  ModelBuilder b(m.opset);
  b.input("x", m.x).output_without_shape("y");
  std::vector<std::string> inputs = {"x"};
  const bool scales_first = m.op == "Upsample" || m.opset < 11;  // X, scales; else X, roi, scales, sizes
  if (!scales_first) inputs.push_back("");
  if (!m.scales.empty()) b.initializer<float>("scales", {static_cast<int64_t>(m.scales.size())}, m.scales);
  if (!m.sizes.empty()) b.initializer<int64_t>("sizes", {static_cast<int64_t>(m.sizes.size())}, m.sizes);
  if (!m.scales.empty() || !m.sizes.empty()) inputs.push_back(m.scales.empty() ? "" : "scales");
  if (!m.sizes.empty()) inputs.push_back("sizes");
  NodeRef node = b.node(m.op, inputs, {"y"}, "resize");
  if (attrs) attrs(node);
  return b;
}

Graph import_resize(const ResizeModel& m, const std::function<void(NodeRef&)>& attrs = {}) {
  return import_model(build(m, attrs));
}

// 1, 2, ..., n as floats.
std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}

const std::vector<float> k2x2 = {1, 2,   //
                                 3, 4};
const std::vector<float> k4x4 = iota(16);  // rows 1-4, 5-8, 9-12, 13-16: x[i][j] = 1 + 4 i + j

// Runs a model on `input` and checks the output dims and values, within float32 rounding of values up to
// 24 (a few ulp: 1e-5).
void expect_resized(const Graph& g, const std::vector<float>& input, const Dims& out_dims,
                    const std::vector<float>& expected) {
  const OpRun r = run_everywhere(g, {make_host_tensor<float>(g.value(g.inputs[0]).dims, input)});
  ASSERT_EQ(r.outputs[0].dims(), out_dims);
  expect_close(r.outputs[0], expected, 1e-5);
}

TEST(Resize, FoldsScalesIntoTheAttributesAndKeepsOneInput) {
  const Graph g = import_resize({13, {1, 1, 2, 2}, {1, 1, 2, 2}, {}});
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpKind::Resize);
  EXPECT_EQ(g.nodes[0].inputs.size(), 1u);
  const OpAttributes& a = std::get<OpAttributes>(g.nodes[0].attrs);
  EXPECT_EQ(a.floats("scales"), (std::vector<float>{2.0f, 2.0f}));
  EXPECT_FALSE(a.has("sizes"));
}

TEST(Resize, NearestUpscaleHalfPixelFloat32) {
  // x' = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> round_prefer_floor, clamped: 0, 0, 1, 1.
  expect_resized(import_resize({13, {1, 1, 2, 2}, {1, 1, 2, 2}, {}}), k2x2, {1, 1, 4, 4},
                 {1, 1, 2, 2,  //
                  1, 1, 2, 2,  //
                  3, 3, 4, 4,  //
                  3, 3, 4, 4});
}

// Bilinear 2x2 -> 4x4 (scales 2) under each coordinate mapping.
struct CoordinateCase {
  const char* mode;
  int64_t opset;
  std::vector<float> expected;
};

class ResizeLinearUpscale : public ::testing::TestWithParam<CoordinateCase> {};

TEST_P(ResizeLinearUpscale, Float32OnEveryBackend) {
  const CoordinateCase c = GetParam();
  const Graph g = import_resize({c.opset, {1, 1, 2, 2}, {1, 1, 2, 2}, {}}, [&](NodeRef& n) {
    n.attr_string("mode", "linear").attr_string("coordinate_transformation_mode", c.mode);
  });
  expect_resized(g, k2x2, {1, 1, 4, 4}, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Registry, ResizeLinearUpscale,
    ::testing::Values(
        // x' = (x + 0.5) / 2 - 0.5, clamped to [0, 1]: 0, 0.25, 0.75, 1.
        CoordinateCase{"half_pixel", 13, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4}},
        // The same: the output is longer than 1.
        CoordinateCase{"pytorch_half_pixel", 13,
                       {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4}},
        // The output length 2 * 2 is whole: the offset is 0 and this is half_pixel.
        CoordinateCase{"half_pixel_symmetric", 19,
                       {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4}},
        // x' = x * (2 - 1) / (4 - 1) = 0, 1/3, 2/3, 1.
        CoordinateCase{"align_corners", 13,
                       {1, 4 / 3.0f, 5 / 3.0f, 2, 5 / 3.0f, 2, 7 / 3.0f, 8 / 3.0f, 7 / 3.0f, 8 / 3.0f, 3, 10 / 3.0f, 3,
                        10 / 3.0f, 11 / 3.0f, 4}},
        // x' = x / 2 = 0, 0.5, 1, 1.5 -> clamped 1.
        CoordinateCase{"asymmetric", 13, {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4}},
        // x' = (x + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75 -> clamped 1.
        CoordinateCase{"tf_half_pixel_for_nn", 13,
                       {1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3.5f, 3.25f, 3.75f, 4, 4, 3.25f, 3.75f, 4, 4}}),
    [](const ::testing::TestParamInfo<CoordinateCase>& c) { return std::string(c.param.mode); });

TEST(Resize, HalfPixelSymmetricCentresAFractionalOutputLength) {
  // W: 4 -> floor(4 * 1.9) = 7 of a fractional 7.6. half_pixel_symmetric shifts x' by
  // offset = 4 / 2 * (1 - 7 / 7.6) = 3 / 19, which puts output 3 on the input's centre 1.5.
  const auto model = [](const char* mode) {
    return import_resize({19, {1, 1, 1, 4}, {1, 1, 1, 1.9f}, {}}, [&](NodeRef& n) {
      n.attr_string("mode", "linear").attr_string("coordinate_transformation_mode", mode);
    });
  };
  const float offset = 3.0f / 19;
  std::vector<float> symmetric, half_pixel;
  for (int x = 0; x < 7; ++x) {
    const float source = (x + 0.5f) / 1.9f - 0.5f;  // in [0, 3] for x in 1..5; clamped at both ends
    half_pixel.push_back(1 + std::min(std::max(source, 0.0f), 3.0f));
    symmetric.push_back(1 + std::min(std::max(offset + source, 0.0f), 3.0f));
  }
  EXPECT_NEAR(symmetric[3], 2.5f, 1e-6);
  expect_resized(model("half_pixel_symmetric"), iota(4), {1, 1, 1, 7}, symmetric);
  expect_resized(model("half_pixel"), iota(4), {1, 1, 1, 7}, half_pixel);
}

TEST(Resize, DownscaleFourToThreeBySizes) {
  // sizes 3x3 of 4x4: scale 3/4 on both axes. The input is 1 + 4 i + j, so linear mode gives
  // 1 + 4 y' + x' exactly where x', y' lie inside [0, 3].
  const auto model = [](const char* mode, const char* coordinate) {
    return import_resize({13, {1, 1, 4, 4}, {}, {1, 1, 3, 3}}, [&](NodeRef& n) {
      n.attr_string("mode", mode).attr_string("coordinate_transformation_mode", coordinate);
    });
  };
  // half_pixel: x' = (x + 0.5) / 0.75 - 0.5 = 1/6, 3/2, 17/6.
  const std::vector<float> at = {1 / 6.0f, 1.5f, 17 / 6.0f};
  std::vector<float> half_pixel;
  for (float y : at)
    for (float x : at) half_pixel.push_back(1 + 4 * y + x);
  expect_resized(model("linear", "half_pixel"), k4x4, {1, 1, 3, 3}, half_pixel);
  // align_corners: x' = x * (4 - 1) / (3 - 1) = 0, 3/2, 3.
  expect_resized(model("linear", "align_corners"), k4x4, {1, 1, 3, 3}, {1, 2.5f, 4, 7, 8.5f, 10, 13, 14.5f, 16});
  // nearest, round_prefer_floor: 1/6 -> 0, 3/2 -> 1 (the tie goes down), 17/6 -> 3.
  expect_resized(model("nearest", "half_pixel"), k4x4, {1, 1, 3, 3}, {1, 2, 4, 5, 6, 8, 13, 14, 16});
  // align_corners 0, 3/2, 3 round the same way.
  expect_resized(model("nearest", "align_corners"), k4x4, {1, 1, 3, 3}, {1, 2, 4, 5, 6, 8, 13, 14, 16});
}

TEST(Resize, ScalesThatGiveTheSizesMapTheSame) {
  // scales 0.75 ask for 3x3 of 4x4 exactly: the same scale, the same output as sizes 3x3.
  for (const char* coordinate : {"half_pixel", "align_corners", "pytorch_half_pixel", "asymmetric"}) {
    const auto attrs = [&](NodeRef& n) {
      n.attr_string("mode", "linear").attr_string("coordinate_transformation_mode", coordinate);
    };
    const OpRun by_scales = run_everywhere(import_resize({13, {1, 1, 4, 4}, {1, 1, 0.75f, 0.75f}, {}}, attrs),
                                           {make_host_tensor<float>({1, 1, 4, 4}, k4x4)});
    const OpRun by_sizes = run_everywhere(import_resize({13, {1, 1, 4, 4}, {}, {1, 1, 3, 3}}, attrs),
                                          {make_host_tensor<float>({1, 1, 4, 4}, k4x4)});
    EXPECT_TRUE(same_within(by_scales.outputs[0], by_sizes.outputs[0], 0.0)) << coordinate;
  }
}

TEST(Resize, ScalesMapWithTheScaleNotTheOutputLength) {
  // 2x4 (x[i][j] = 1 + 4 i + j) by scales 0.6: output floor(1.2) x floor(2.4) = 1x2, and the mapping
  // uses 0.6: y' = 0.5 / 0.6 - 0.5 = 1/3, x' = 1/3 and 1.5 / 0.6 - 0.5 = 2.
  const auto linear = [](NodeRef& n) { n.attr_string("mode", "linear"); };
  expect_resized(import_resize({13, {1, 1, 2, 4}, {1, 1, 0.6f, 0.6f}, {}}, linear), iota(8), {1, 1, 1, 2},
                 {1 + 4 / 3.0f + 1 / 3.0f, 1 + 4 / 3.0f + 2});
  // sizes 1x2 map with 1/2 and 2/4: y' = 0.5, x' = 0.5 and 2.5.
  expect_resized(import_resize({13, {1, 1, 2, 4}, {}, {1, 1, 1, 2}}, linear), iota(8), {1, 1, 1, 2}, {3.5f, 5.5f});
}

TEST(Resize, PytorchHalfPixelMapsAnOutputOfLengthOneToZero) {
  // W: 4 -> 1, x' = 0 (half_pixel would read 1.5); H: 4 -> 3, y' = 1/6, 3/2, 17/6 on column 0 (1 + 4 i).
  const Graph g = import_resize({13, {1, 1, 4, 4}, {}, {1, 1, 3, 1}}, [](NodeRef& n) {
    n.attr_string("mode", "linear").attr_string("coordinate_transformation_mode", "pytorch_half_pixel");
  });
  expect_resized(g, k4x4, {1, 1, 3, 1}, {1 + 4 / 6.0f, 7, 1 + 4 * 17 / 6.0f});
}

// Nearest rounding, half_pixel 1x4 -> 1x6 (scale 1.5): x' = (x + 0.5) / 1.5 - 0.5
// = -1/6, 0.5, 7/6, 11/6, 2.5, 19/6 (two ties), rounded then clamped to [0, 3].
struct RoundingCase {
  const char* nearest_mode;
  std::vector<float> expected;
};

class ResizeNearestRounding : public ::testing::TestWithParam<RoundingCase> {};

TEST_P(ResizeNearestRounding, TiesAndClampsFloat32) {
  const RoundingCase c = GetParam();
  const Graph g = import_resize({13, {1, 1, 1, 4}, {}, {1, 1, 1, 6}},
                                [&](NodeRef& n) { n.attr_string("nearest_mode", c.nearest_mode); });
  expect_resized(g, iota(4), {1, 1, 1, 6}, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Registry, ResizeNearestRounding,
                         ::testing::Values(RoundingCase{"round_prefer_floor", {1, 1, 2, 3, 3, 4}},  // 0 0 1 2 2 3
                                           RoundingCase{"round_prefer_ceil", {1, 2, 2, 3, 4, 4}},   // 0 1 1 2 3 3
                                           RoundingCase{"floor", {1, 1, 2, 2, 3, 4}},               // -1 0 1 1 2 3
                                           RoundingCase{"ceil", {1, 2, 3, 3, 4, 4}}),               // 0 1 2 2 3 4
                         [](const ::testing::TestParamInfo<RoundingCase>& c) {
                           return std::string(c.param.nearest_mode);
                         });

TEST(Upsample, Opset7ScalesAttributeNearestRoundsDown) {
  // Asymmetric: y' = y / 2 = 0, 0.5, 1, 1.5 -> 0 0 1 1; x' = x / 3 -> 0 0 0 1 1 1.
  const Graph g = import_resize({7, {1, 1, 2, 2}, {}, {}, "Upsample"},
                                [](NodeRef& n) { n.attr_floats("scales", {1, 1, 2, 3}); });
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpKind::Upsample);
  expect_resized(g, k2x2, {1, 1, 4, 6},
                 {1, 1, 1, 2, 2, 2,  //
                  1, 1, 1, 2, 2, 2,  //
                  3, 3, 3, 4, 4, 4,  //
                  3, 3, 3, 4, 4, 4});
}

TEST(Upsample, Opset9ScalesInput) {
  // Linear, asymmetric: x' = x / 2 = 0, 0.5, 1, 1.5 -> clamped 1.
  const Graph linear = import_resize({9, {1, 1, 2, 2}, {1, 1, 2, 2}, {}, "Upsample"},
                                     [](NodeRef& n) { n.attr_string("mode", "linear"); });
  EXPECT_EQ(linear.nodes.at(0).inputs.size(), 1u);
  expect_resized(linear, k2x2, {1, 1, 4, 4}, {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4});
  // Nearest rounds down: y' = y / 1.5 = 0, 2/3, 4/3 -> 0 0 1; x' = x / 2.5 = 0, 0.4, 0.8, 1.2, 1.6 -> 0 0 0 1 1.
  const Graph nearest = import_resize({9, {1, 1, 2, 2}, {1, 1, 1.5f, 2.5f}, {}, "Upsample"});
  expect_resized(nearest, k2x2, {1, 1, 3, 5}, {1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4});
}

TEST(Resize, Opset10RoundsDownUpscaledAndUpDownscaledAxes) {
  // 4x4 by scales 1.5 (H) and 0.75 (W), asymmetric: y' = y / 1.5 = 0, 2/3, 4/3, 2, 8/3, 10/3 -> floor
  // 0 0 1 2 2 3; x' = x / 0.75 = 0, 4/3, 8/3 -> ceil 0 2 3 (as ONNX Runtime does).
  expect_resized(import_resize({10, {1, 1, 4, 4}, {1, 1, 1.5f, 0.75f}, {}}), k4x4, {1, 1, 6, 3},
                 {1, 3, 4, 1, 3, 4, 5, 7, 8, 9, 11, 12, 9, 11, 12, 13, 15, 16});
  // Linear, asymmetric: x' = y' = 0, 4/3, 8/3 -> 1 + 4 y' + x'.
  const std::vector<float> at = {0, 4 / 3.0f, 8 / 3.0f};
  std::vector<float> linear;
  for (float y : at)
    for (float x : at) linear.push_back(1 + 4 * y + x);
  expect_resized(import_resize({10, {1, 1, 4, 4}, {1, 1, 0.75f, 0.75f}, {}},
                               [](NodeRef& n) { n.attr_string("mode", "linear"); }),
                 k4x4, {1, 1, 3, 3}, linear);
}

TEST(Resize, Opset18AxesListHAndW) {
  // sizes for axes [3, 2]: W 2 -> 6 (scale 3, x' = -1/3, 0, 1/3, 2/3, 1, 4/3 -> 0 0 0 1 1 1),
  // H 2 -> 3 (scale 1.5, y' = -1/6, 1/2, 7/6 -> 0 0 1, the tie going down).
  const Graph g = import_resize({18, {1, 1, 2, 2}, {}, {6, 3}}, [](NodeRef& n) { n.attr_ints("axes", {3, 2}); });
  expect_resized(g, k2x2, {1, 1, 3, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
  // Only W (axis -1), linear: H keeps its length and scale 1.
  const Graph w = import_resize({18, {1, 1, 2, 2}, {2}, {}},
                                [](NodeRef& n) { n.attr_ints("axes", {-1}).attr_string("mode", "linear"); });
  expect_resized(w, k2x2, {1, 1, 2, 4}, {1, 1.25f, 1.75f, 2, 3, 3.25f, 3.75f, 4});
}

TEST(Resize, Opset18AntialiasChangesNothingWhenUpscaling) {
  // The filter stretches by max(1, 1 / scale) = 1: plain bilinear, half_pixel.
  const Graph g = import_resize({18, {1, 1, 2, 2}, {1, 1, 2, 2}, {}},
                                [](NodeRef& n) { n.attr_string("mode", "linear").attr_int("antialias", 1); });
  expect_resized(g, k2x2, {1, 1, 4, 4},
                 {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
}

TEST(Resize, ReinfersAtAnotherBatch) {
  // Nearest 2x, half_pixel: out[p][i][j] = in[p][i / 2][j / 2], by scales or by sizes.
  for (const bool by_sizes : {false, true}) {
    ResizeModel m{13, {kSymbolicDim, 2, 2, 2}, {}, {}};
    if (by_sizes) m.sizes = {1, 2, 4, 4};
    else m.scales = {1, 1, 2, 2};
    Graph g = import_resize(m);
    const Value& y = g.value(g.outputs[0]);
    EXPECT_EQ(y.dims, (Dims{1, 2, 4, 4}));
    set_batch(g, 3);
    EXPECT_EQ(g.value(g.outputs[0]).dims, (Dims{3, 2, 4, 4})) << (by_sizes ? "sizes" : "scales");
    const std::vector<float> input = iota(3 * 2 * 2 * 2);
    std::vector<float> expected;
    for (int p = 0; p < 6; ++p)
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) expected.push_back(input[static_cast<size_t>(p * 4 + (i / 2) * 2 + j / 2)]);
    expect_resized(g, input, {3, 2, 4, 4}, expected);
  }
}

TEST(Resize, RefusalsNameNodeAttributeAndValue) {
  const ResizeModel up{13, {1, 1, 2, 2}, {1, 1, 2, 2}, {}};
  const auto refused = [](const ResizeModel& m, const std::function<void(NodeRef&)>& attrs,
                          const std::vector<std::string>& parts) {
    expect_error_mentioning([&] { import_resize(m, attrs); }, parts, /*unsupported=*/true);
  };
  refused(up, [](NodeRef& n) { n.attr_string("mode", "cubic"); }, {"'resize'", "mode", "'cubic'"});
  refused(up, [](NodeRef& n) { n.attr_string("coordinate_transformation_mode", "tf_crop_and_resize"); },
          {"'resize'", "coordinate_transformation_mode", "'tf_crop_and_resize'"});
  refused({18, {1, 1, 4, 4}, {1, 1, 0.5f, 0.5f}, {}},
          [](NodeRef& n) { n.attr_string("mode", "linear").attr_int("antialias", 1); },
          {"'resize'", "antialias 1", "0.5"});
  refused({18, {1, 1, 2, 2}, {}, {1, 1, 4, 4}}, [](NodeRef& n) { n.attr_string("keep_aspect_ratio_policy", "not_larger"); },
          {"'resize'", "keep_aspect_ratio_policy", "'not_larger'"});
  refused({13, {1, 1, 2, 2}, {1, 2, 2, 2}, {}}, {}, {"'resize'", "scales 2", "axis 1 (C)"});
  refused({13, {1, 1, 2, 2}, {}, {2, 1, 4, 4}}, {}, {"'resize'", "sizes 2", "axis 0 (N"});
  refused({13, {1, 2, 2}, {1, 2, 2}, {}}, {}, {"'resize'", "[1, 2, 2]", "4-D"});
  // scales 0.6 ask for W = 2.4: ONNX's reference maps align_corners with 2.4, ONNX Runtime with 2.
  refused({13, {1, 1, 2, 4}, {1, 1, 0.6f, 0.6f}, {}},
          [](NodeRef& n) { n.attr_string("coordinate_transformation_mode", "align_corners"); },
          {"'resize'", "coordinate_transformation_mode 'align_corners'", "scales 0.6", "axis 3 (W"});

  // Scales computed at run time.
  ModelBuilder b(13);
  b.input("x", {1, 1, 2, 2}).input("scales", {4}).output_without_shape("y");
  b.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
  expect_error_mentioning([&] { import_model(b); }, {"'resize'", "scales", "computed at run time"}, true);

  // Malformed models are errors, not unsupported cases.
  expect_error_mentioning([&] { import_resize({13, {1, 1, 2, 2}, {1, 1, 2, 2}, {1, 1, 4, 4}}); },
                          {"'resize'", "exactly one of scales and sizes"});
  expect_error_mentioning([&] { import_resize({7, {1, 1, 2, 2}, {}, {}, "Upsample"}); },
                          {"'resize'", "attribute scales is required"});
}

}  // namespace
}  // namespace octet::test
