// Split (kernels/data_movement.h): x cut along `axis` into consecutive pieces, one per output, any
// element type.
//
// ONNX: the sizes come from the `split` attribute (opsets 1..12) or input 1 (opset 1 and 13+), which
// octet needs to be a constant; without them x is cut into equal parts, one per output. Opset 18 may
// give `num_outputs` instead (equal to the node's output count): parts of ceil(n / num_outputs), the
// last one smaller. Attributes:
//   axis         non-negative
//   split        the sizes, or empty: equal parts
//   num_outputs  the node's output count (the ONNX node's, requested or not)
//   uneven       1 where the last part may be smaller (opset 18's num_outputs), 0 where n must divide
// The shape rule computes the parts from the current dims, so an equal split of the batch axis
// re-infers at any batch divisible by num_outputs.
#include <numeric>

#include "engine/op_registry.h"
#include "kernels/cpu/data_movement_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/data_movement_cuda.h"
#endif

namespace octet {
namespace {

// OpDef::max_outputs: a node with more outputs is refused at import.
constexpr int kMaxOutputs = 64;

std::string where(const Node& node) { return detail::concat("node '", node.name, "' (Split)"); }

void import_split(OnnxNode& node) {
  const ValueId x = node.required_input(0, "input");
  const int64_t axis = normalize_axis(node, node.get_int("axis", 0), static_cast<int64_t>(node.dims(x).size()));
  const int outputs = node.output_count();
  if (outputs > kMaxOutputs)
    OCTET_UNSUPPORTED(node.where(), ": ", outputs, " outputs; octet splits into at most ", kMaxOutputs);
  Dims split;
  if (node.input(1) != kNoValue)
    split = int_values(node, node.constant_input(1, "split"), "split");
  else if (node.opset() < 13)
    split = node.get_ints("split", {});
  bool uneven = false;
  if (node.has("num_outputs")) {
    const int64_t num_outputs = node.get_int("num_outputs", 0);
    OCTET_CHECK(num_outputs == outputs, node.where(), ": num_outputs ", num_outputs, " but the node has ", outputs,
                " outputs");
    OCTET_CHECK(split.empty(), node.where(), ": both split ", to_string(split), " and num_outputs ", num_outputs,
                " are given");
    uneven = true;
  }
  OCTET_CHECK(split.empty() || static_cast<int>(split.size()) == outputs, node.where(), ": split ", to_string(split),
              " gives ", split.size(), " sizes for ", outputs, " outputs");
  for (int64_t size : split)
    OCTET_CHECK(size >= 0, node.where(), ": split ", to_string(split), " has a negative size ", size);
  OpAttributes a;
  a.set("axis", axis).set("split", split).set("num_outputs", int64_t{outputs}).set("uneven", int64_t{uneven});
  node.emit(OpKind::Split, {x}, a, outputs);
}

// The size of each part along the axis, for the input's current dims.
Dims part_sizes(const Node& node, const Dims& x_dims) {
  const auto& a = std::get<OpAttributes>(node.attrs);
  const int64_t axis = a.i("axis");
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x_dims.size()), where(node), ": axis ", axis,
              " is outside input dims ", to_string(x_dims));
  const int64_t n = x_dims[static_cast<size_t>(axis)];
  const Dims& split = a.ints("split");
  if (!split.empty()) {
    const int64_t sum = std::accumulate(split.begin(), split.end(), int64_t{0});
    OCTET_CHECK(sum == n, where(node), ": split ", to_string(split), " sums to ", sum, ", but dimension ", axis,
                " of input ", to_string(x_dims), " is ", n);
    return split;
  }
  const int64_t parts = a.i("num_outputs");
  if (a.i("uneven") == 0) {
    OCTET_CHECK(n % parts == 0, where(node), ": dimension ", axis, " of input ", to_string(x_dims), " (", n,
                ") does not split into ", parts, " equal parts");
    return Dims(static_cast<size_t>(parts), n / parts);
  }
  const int64_t chunk = (n + parts - 1) / parts;
  Dims sizes(static_cast<size_t>(parts), chunk);
  sizes.back() = n - chunk * (parts - 1);
  OCTET_CHECK(sizes.back() >= 0, where(node), ": dimension ", axis, " of input ", to_string(x_dims), " (", n,
              ") leaves nothing for the last of num_outputs ", parts, " parts of ", chunk);
  return sizes;
}

std::vector<Dims> infer_split(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  const auto axis = static_cast<size_t>(std::get<OpAttributes>(node.attrs).i("axis"));
  std::vector<Dims> out;
  for (int64_t size : part_sizes(node, x)) {
    out.push_back(x);
    out.back()[axis] = size;
  }
  return out;
}

// Outputs the node does not write (not requested) are nullptr and skipped; the parts still count.
std::vector<void*> part_pointers(const OpKernelArgs& a) {
  std::vector<void*> parts(static_cast<size_t>(a.attrs().i("num_outputs")), nullptr);
  for (size_t k = 0; k < a.outputs.size(); ++k) parts[k] = a.outputs[k];
  return parts;
}

void run_cpu(const OpKernelArgs& a) {
  kernels::split_ref(a.inputs[0], a.in_dims(0), a.attrs().i("axis"), part_sizes(a.node, a.in_dims(0)),
                     element_size(a.in_type(0)), part_pointers(a));
}

// INT8 (OpDef::int8_obstacle): the parts of an int8 tensor keep its scale. On NCHW int8 run_cpu's byte
// copy is the INT8 kernel; on NHWCp each part is a window along the axis.
std::string int8_obstacle(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  if (x.size() != 4) return "an INT8 Split cuts [N, C, H, W], input is " + to_string(x);
  return "";
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  kernels::split_cuda(a.inputs[0], a.in_dims(0), a.attrs().i("axis"), part_sizes(a.node, a.in_dims(0)),
                      element_size(a.in_type(0)), part_pointers(a), a.stream);
}

void run_int8_cuda(const OpKernelArgs& a) {
  const Dims& x = a.in_dims(0);
  const auto axis = static_cast<size_t>(a.attrs().i("axis"));
  std::vector<kernels::SliceAxis> window;
  for (int64_t n : x) window.push_back({0, 1, n});
  const std::vector<void*> parts = part_pointers(a);
  const Dims sizes = part_sizes(a.node, x);
  int64_t offset = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    window[axis] = {offset, 1, sizes[k]};
    if (parts[k] != nullptr)
      kernels::window_int8_nhwcp_cuda(a.in<int8_t>(0), x, window, static_cast<int8_t*>(parts[k]), a.stream);
    offset += sizes[k];
  }
}
#endif

}  // namespace

const OpDef& define_Split() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Split"};
    d.import = import_split;
    d.types = OpDef::Types::kAnyData;
    d.max_outputs = kMaxOutputs;
    d.infer = infer_split;
    d.run_cpu = run_cpu;
    d.int8_obstacle = int8_obstacle;
    d.run_int8_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
    d.run_int8_cuda = run_int8_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // Its values are its input's (an INT8 Split passes the scale through), and its outputs need not
    // have the batch as dim 0 (a split of dim 0), which calibration taps require.
    d.calibrated = false;
    return d;
  }();
  return def;
}

}  // namespace octet
