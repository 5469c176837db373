// Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9): nearest or bilinear resizing of a
// 4-D NCHW float32 tensor along H and W. kernels/resize.h states the math.
//
// ONNX gives the output size as `scales` (output length floor(length * scale)) or `sizes`, both
// constants here (possibly folded from a shape sub-graph). Import folds them into the attributes and
// the node keeps one input, X:
//   scales          [s_h, s_w]          the scale each axis maps coordinates with (sizes: out / in)
//   sizes           [out_h, out_w]      only when the model gives sizes: the output lengths
//   mode, coordinate_transformation_mode, nearest_mode_h, nearest_mode_w    ONNX's names
// The shape rule reads only these and the input's dims, so it holds at any batch.
//
// What each opset reads:
//   Upsample-7            X; attribute scales
//   Upsample-9 (and 10+)  X, scales
//   Resize-10             X, scales
//   Resize-11             X, roi, scales, sizes; coordinate_transformation_mode, nearest_mode
//   Resize-13             roi and scales optional
//   Resize-18             antialias, axes, keep_aspect_ratio_policy
//   Resize-19             coordinate mode half_pixel_symmetric
// Upsample and Resize-10 state no coordinate mapping or rounding; octet maps them as ONNX Runtime
// does: asymmetric, and nearest rounds down on an axis scaled up (or kept) and up on one scaled down.
//
// Refused with UnsupportedError naming node, attribute and value: a rank other than 4; resizing N or
// C; mode cubic; coordinate mode tf_crop_and_resize (it crops to roi and fills with
// extrapolation_value); antialias where it would change the result (linear downscaling; any nearest);
// keep_aspect_ratio_policy other than stretch (with sizes); and scales that ask for a fractional
// output length where the mode reads that length (align_corners with 2 or more outputs,
// pytorch_half_pixel with 1): ONNX's reference implementation (and its test data) then maps with the
// fractional length, ONNX Runtime and the specification's text with the whole one.
// Ignored because they change nothing in these modes: roi and extrapolation_value (tf_crop_and_resize
// only), cubic_coeff_a (cubic only), exclude_outside (a linear tap outside the input reads the edge
// value, which its renormalised partner reads too; ONNX Runtime applies it to cubic only).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/op_registry.h"
#include "kernels/cpu/resize_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/resize_cuda.h"
#endif

namespace octet {
namespace {

using kernels::ResizeCoordinate;
using kernels::ResizeMode;
using kernels::ResizeNearest;

const char* const kAxisNames[] = {"N", "C", "H", "W"};

// ONNX's name of each mode octet implements.
template <typename E>
struct Named {
  const char* name;
  E value;
};

constexpr Named<ResizeMode> kModes[] = {{"nearest", ResizeMode::kNearest}, {"linear", ResizeMode::kLinear}};
constexpr Named<ResizeCoordinate> kCoordinates[] = {
    {"half_pixel", ResizeCoordinate::kHalfPixel},
    {"half_pixel_symmetric", ResizeCoordinate::kHalfPixelSymmetric},
    {"pytorch_half_pixel", ResizeCoordinate::kPytorchHalfPixel},
    {"tf_half_pixel_for_nn", ResizeCoordinate::kTfHalfPixelForNn},
    {"align_corners", ResizeCoordinate::kAlignCorners},
    {"asymmetric", ResizeCoordinate::kAsymmetric},
};
constexpr Named<ResizeNearest> kNearestModes[] = {
    {"round_prefer_floor", ResizeNearest::kRoundPreferFloor},
    {"round_prefer_ceil", ResizeNearest::kRoundPreferCeil},
    {"floor", ResizeNearest::kFloor},
    {"ceil", ResizeNearest::kCeil},
};

template <typename E, size_t N>
const E* find_named(const Named<E> (&table)[N], const std::string& name) {
  for (const Named<E>& entry : table)
    if (name == entry.name) return &entry.value;
  return nullptr;
}

template <typename E, size_t N>
std::string names_of(const Named<E> (&table)[N]) {
  std::string names;
  for (const Named<E>& entry : table) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

// Import: `value` of attribute `attr` must be one octet implements.
template <typename E, size_t N>
void require_named(const OnnxNode& node, const char* attr, const std::string& value, const Named<E> (&table)[N]) {
  if (find_named(table, value) == nullptr)
    OCTET_UNSUPPORTED(node.where(), ": ", attr, " '", value, "' is not supported (", names_of(table), ")");
}

std::string label(const Node& node) { return detail::concat("node '", node.name, "' (", to_string(node.op), ")"); }

// ---- import ------------------------------------------------------------------------------------------

// floor(length * scale), in double as ONNX's reference implementation computes it.
int64_t floor_length(float scale, int64_t length) {
  return static_cast<int64_t>(std::floor(static_cast<double>(scale) * static_cast<double>(length)));
}

// The scales or sizes the model gives, over all four axes (ONNX: axes not listed in `axes` keep their
// length); exactly one of the two is non-empty.
struct Target {
  std::vector<float> scales;
  Dims sizes;
};

// `legacy`: Upsample or Resize-10, whose scales are input 1 (Upsample-7: an attribute).
Target read_target(const OnnxNode& node, bool legacy, const Dims& in) {
  std::vector<float> scales;
  Dims sizes;
  if (node.op_type() == "Upsample" && node.opset() < 9) {
    OCTET_CHECK(node.has("scales"), node.where(), ": attribute scales is required");
    scales = node.get_floats("scales", {});
  } else if (legacy) {
    scales = float_values(node, node.constant_input(1, "scales"), "scales");
  } else {
    // Opsets 11 and 12 require the scales input but let it be empty when sizes are given.
    if (node.input(2) != kNoValue) scales = float_values(node, node.constant_input(2, "scales"), "scales");
    if (node.input(3) != kNoValue) sizes = int_values(node, node.constant_input(3, "sizes"), "sizes");
  }
  OCTET_CHECK(scales.empty() != sizes.empty(), node.where(), ": exactly one of scales and sizes must be given, got ",
              scales.size(), " scales and ", sizes.size(), " sizes");

  Dims axes = {0, 1, 2, 3};
  if (!legacy && node.opset() >= 18 && node.has("axes")) {
    axes = node.get_ints("axes", {});
    for (int64_t& axis : axes) axis = normalize_axis(node, axis, 4, "axes entry");
    for (size_t i = 0; i < axes.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        OCTET_CHECK(axes[i] != axes[j], node.where(), ": axes ", to_string(axes), " repeats axis ", axes[i]);
  }
  const char* given = scales.empty() ? "sizes" : "scales";
  const size_t count = scales.empty() ? sizes.size() : scales.size();
  OCTET_CHECK(count == axes.size(), node.where(), ": ", given, " has ", count, " values for ", axes.size(), " axes");

  Target t;
  if (!scales.empty()) {
    t.scales.assign(4, 1.0f);
    for (size_t i = 0; i < axes.size(); ++i) {
      OCTET_CHECK(std::isfinite(scales[i]) && scales[i] > 0.0f, node.where(), ": scales ", scales[i], " on axis ",
                  axes[i], " must be positive");
      t.scales[static_cast<size_t>(axes[i])] = scales[i];
    }
  } else {
    t.sizes = in;
    for (size_t i = 0; i < axes.size(); ++i) {
      OCTET_CHECK(sizes[i] > 0, node.where(), ": sizes ", sizes[i], " on axis ", axes[i], " must be positive");
      t.sizes[static_cast<size_t>(axes[i])] = sizes[i];
    }
  }
  return t;
}

template <OpKind Kind>
void import_resize(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  if (Kind == OpKind::Upsample && node.opset() < 7)
    OCTET_UNSUPPORTED(node.where(), ": Upsample of opset ", node.opset(),
                      " (experimental, height_scale/width_scale) is not supported; opset 7 and later are");
  const ValueId x = node.required_input(0, "X");
  const Dims& in = node.dims(x);
  if (in.size() != 4)
    OCTET_UNSUPPORTED(node.where(), ": input X has dims ", to_string(in), "; octet resizes 4-D NCHW tensors along H and W");

  // Upsample and Resize-10 state no coordinate mapping or rounding (see the top of this file).
  const bool legacy = Kind == OpKind::Upsample || node.opset() < 11;
  const std::string mode = node.get_string("mode", "nearest");
  require_named(node, "mode", mode, kModes);
  std::string coordinate = legacy ? "asymmetric" : node.get_string("coordinate_transformation_mode", "half_pixel");
  require_named(node, "coordinate_transformation_mode", coordinate, kCoordinates);
  const std::string nearest = legacy ? "" : node.get_string("nearest_mode", "round_prefer_floor");
  if (!legacy) require_named(node, "nearest_mode", nearest, kNearestModes);

  const Target target = read_target(node, legacy, in);
  const bool by_sizes = !target.sizes.empty();
  for (size_t d = 0; d < 2; ++d) {
    if (!by_sizes && target.scales[d] != 1.0f)
      OCTET_UNSUPPORTED(node.where(), ": scales ", target.scales[d], " on axis ", d, " (", kAxisNames[d],
                        ") is not supported; octet resizes H and W only (the N and C scales must be 1)");
    if (by_sizes && target.sizes[d] != in[d])
      OCTET_UNSUPPORTED(node.where(), ": sizes ", target.sizes[d], " on axis ", d, " (", kAxisNames[d], ", length ", in[d],
                        ") is not supported; octet resizes H and W only (the N and C sizes must be the input's)");
  }

  // H and W: the scale the coordinate mapping uses and the output length.
  std::vector<float> scales(2);
  Dims out(2);
  for (size_t i = 0; i < 2; ++i) {
    const size_t d = 2 + i;
    scales[i] = by_sizes ? static_cast<float>(target.sizes[d]) / static_cast<float>(in[d]) : target.scales[d];
    out[i] = by_sizes ? target.sizes[d] : floor_length(target.scales[d], in[d]);
    // Where the scale asks for a fractional output length (in float32, the precision of `scales`), the
    // modes that read the output length are ambiguous (see the top of this file).
    const bool reads_length =
        (coordinate == "align_corners" && out[i] > 1) || (coordinate == "pytorch_half_pixel" && out[i] == 1);
    const float length = by_sizes ? static_cast<float>(out[i]) : target.scales[d] * static_cast<float>(in[d]);
    if (reads_length && length != static_cast<float>(out[i]))
      OCTET_UNSUPPORTED(node.where(), ": coordinate_transformation_mode '", coordinate, "' with scales ",
                        target.scales[d], " on axis ", d, " (", kAxisNames[d], ", length ", in[d],
                        ") is not supported: the output length ", length,
                        " is fractional, which ONNX's reference implementation maps with and ONNX Runtime rounds to ",
                        out[i], "; give sizes instead");
  }
  // With sizes the output length is whole, where half_pixel_symmetric's offset is 0.
  if (by_sizes && coordinate == "half_pixel_symmetric") coordinate = "half_pixel";

  if (!legacy && node.opset() >= 18) {
    const int64_t antialias = node.get_int("antialias", 0);
    // Antialiasing stretches the linear filter by max(1, 1 / scale): nothing changes unless downscaling.
    if (antialias != 0 && (mode != "linear" || scales[0] < 1.0f || scales[1] < 1.0f))
      OCTET_UNSUPPORTED(node.where(), ": antialias ", antialias, " is not supported with mode '", mode,
                        "' and H/W scales ", scales[0], ", ", scales[1],
                        " (octet accepts it where it changes nothing: mode linear, no axis scaled down)");
    const std::string policy = node.get_string("keep_aspect_ratio_policy", "stretch");
    if (by_sizes && policy != "stretch")
      OCTET_UNSUPPORTED(node.where(), ": keep_aspect_ratio_policy '", policy, "' is not supported (stretch)");
  }

  const auto nearest_on = [&](size_t i) -> std::string {
    if (!legacy) return nearest;
    return scales[i] < 1.0f ? "ceil" : "floor";
  };
  OpAttributes a;
  a.set("mode", mode).set("coordinate_transformation_mode", coordinate);
  a.set("nearest_mode_h", nearest_on(0)).set("nearest_mode_w", nearest_on(1));
  a.set("scales", scales);
  if (by_sizes) a.set("sizes", out);
  node.emit(Kind, {x}, std::move(a));
}

// ---- shape rule, parameters, kernels ------------------------------------------------------------------

std::vector<Dims> infer_resize(const Graph& graph, const Node& node) {
  const Dims& in = graph.value(node.inputs[0]).dims;
  OCTET_CHECK(in.size() == 4, label(node), ": input has dims ", to_string(in), ", not 4-D NCHW");
  const OpAttributes& a = std::get<OpAttributes>(node.attrs);
  Dims out = in;
  for (size_t i = 0; i < 2; ++i)
    out[2 + i] = a.has("sizes") ? a.ints("sizes").at(i) : floor_length(a.floats("scales").at(i), in[2 + i]);
  return {out};
}

// The attribute `attr` read as one of `table`; Error for a name octet does not know (a corrupt plan).
template <typename E, size_t N>
E named(const Node& node, const char* attr, const Named<E> (&table)[N]) {
  const std::string& name = std::get<OpAttributes>(node.attrs).s(attr);
  const E* value = find_named(table, name);
  OCTET_CHECK(value != nullptr, label(node), ": ", attr, " '", name, "' is not one of ", names_of(table));
  return *value;
}

kernels::ResizeParams resize_params(const Graph& graph, const Node& node) {
  const Dims& in = graph.value(node.inputs[0]).dims;
  const Dims& out = graph.value(node.outputs[0]).dims;
  const std::vector<float>& scales = std::get<OpAttributes>(node.attrs).floats("scales");
  OCTET_CHECK(scales.size() == 2, label(node), ": scales has ", scales.size(), " values, not 2 (H, W)");
  const auto axis = [&](size_t i, const char* nearest_attr) {
    const int64_t limit = std::numeric_limits<int32_t>::max();
    OCTET_CHECK(in[2 + i] <= limit && out[2 + i] <= limit, label(node), ": ", kAxisNames[2 + i], " lengths ", in[2 + i],
                " -> ", out[2 + i], " exceed 2^31 - 1");
    return kernels::ResizeAxis{static_cast<int32_t>(in[2 + i]), static_cast<int32_t>(out[2 + i]), scales[i],
                               named(node, nearest_attr, kNearestModes)};
  };
  kernels::ResizeParams p;
  p.mode = named(node, "mode", kModes);
  p.coordinate = named(node, "coordinate_transformation_mode", kCoordinates);
  p.h = axis(0, "nearest_mode_h");
  p.w = axis(1, "nearest_mode_w");
  return p;
}

void validate_resize(const Graph& graph, const Node& node) { resize_params(graph, node); }

void run_cpu(const OpKernelArgs& a) {
  const Dims& in = a.in_dims(0);
  kernels::resize_ref(resize_params(a.graph, a.node), in[0] * in[1], a.in<float>(0), a.out<float>());
}

// INT8 (OpDef::int8_obstacle): nearest mode copies input elements, so its output keeps the input's
// scale; linear mode computes new values and stays float.
std::string int8_obstacle(const Graph& graph, const Node& node) {
  if (resize_params(graph, node).mode != kernels::ResizeMode::kNearest)
    return "a linear Resize computes new values (an INT8 Resize is nearest only)";
  return "";
}

void run_int8_cpu(const OpKernelArgs& a) {
  const Dims& in = a.in_dims(0);
  kernels::resize_nearest_int8_ref(resize_params(a.graph, a.node), in[0] * in[1], a.in<int8_t>(0), a.out<int8_t>());
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  const Dims& in = a.in_dims(0);
  kernels::resize_cuda(resize_params(a.graph, a.node), in[0] * in[1], a.in<float>(0), a.out<float>(), a.stream);
}

void run_int8_cuda(const OpKernelArgs& a) {
  const Dims& in = a.in_dims(0);
  kernels::resize_nearest_int8_nhwcp_cuda(resize_params(a.graph, a.node), in[0], in[1], a.in<int8_t>(0),
                                          a.out<int8_t>(), a.stream);
}
#endif

template <OpKind Kind>
const OpDef& define_resize(const char* onnx_type) {
  static const OpDef def = [&] {
    OpDef d;
    d.onnx_types = {onnx_type};
    d.import = import_resize<Kind>;
    d.infer = infer_resize;
    d.validate = validate_resize;
    d.run_cpu = run_cpu;
    d.int8_obstacle = int8_obstacle;
    d.run_int8_cpu = run_int8_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
    d.run_int8_cuda = run_int8_cuda;
#endif
    d.cuda_relative_error = 0.0;  // the same float32 operations in the same order (kernels/resize.h)
    return d;
  }();
  return def;
}

}  // namespace

const OpDef& define_Resize() { return define_resize<OpKind::Resize>("Resize"); }
const OpDef& define_Upsample() { return define_resize<OpKind::Upsample>("Upsample"); }

}  // namespace octet
