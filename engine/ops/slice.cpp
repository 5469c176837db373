// Slice (kernels/data_movement.h): y = x[start:end:step] along some axes, any element type.
//
// ONNX: opset 1 reads starts, ends and axes as attributes (step 1); opset 10+ reads them as inputs
// 1..4 (starts, ends, axes, steps; axes default 0..len(starts)-1, steps default 1, negative steps
// reverse). octet needs those inputs to be constants (initializers, Constants or folded shape
// arithmetic) and folds them into the attributes:
//   axes, starts, ends, steps   equal-length lists, axes non-negative and distinct, steps non-zero;
//                               starts and ends as the model gives them (negative, or huge to mean
//                               "to the end").
// The shape rule clamps them against the input's current dims (resolve_slice, ONNX's rule), so a
// slice along any axis, the batch axis included, re-infers when the batch changes.
#include <set>

#include "engine/op_registry.h"
#include "kernels/cpu/data_movement_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/data_movement_cuda.h"
#endif

namespace octet {
namespace {

void import_slice(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId data = node.required_input(0, "data");
  const auto rank = static_cast<int64_t>(node.dims(data).size());
  Dims starts, ends, axes, steps;
  bool axes_given = false;
  if (node.opset() < 10) {
    OCTET_CHECK(node.has("starts") && node.has("ends"), node.where(), ": attributes starts and ends are required");
    starts = node.get_ints("starts", {});
    ends = node.get_ints("ends", {});
    axes_given = node.has("axes");
    axes = node.get_ints("axes", {});
  } else {
    starts = int_values(node, node.constant_input(1, "starts"), "starts");
    ends = int_values(node, node.constant_input(2, "ends"), "ends");
    axes_given = node.input(3) != kNoValue;
    if (axes_given) axes = int_values(node, node.constant_input(3, "axes"), "axes");
    if (node.input(4) != kNoValue) steps = int_values(node, node.constant_input(4, "steps"), "steps");
  }
  const size_t count = starts.size();
  OCTET_CHECK(ends.size() == count, node.where(), ": ", count, " starts ", to_string(starts), " but ", ends.size(),
              " ends ", to_string(ends));
  if (!axes_given)
    for (size_t i = 0; i < count; ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(count, 1);
  OCTET_CHECK(axes.size() == count, node.where(), ": axes ", to_string(axes), " do not match ", count, " starts");
  OCTET_CHECK(steps.size() == count, node.where(), ": steps ", to_string(steps), " do not match ", count, " starts");
  std::set<int64_t> seen;
  for (size_t i = 0; i < count; ++i) {
    axes[i] = normalize_axis(node, axes[i], rank, "axes entry");
    OCTET_CHECK(seen.insert(axes[i]).second, node.where(), ": axes ", to_string(axes), " name axis ", axes[i],
                " twice");
    OCTET_CHECK(steps[i] != 0, node.where(), ": steps ", to_string(steps), " has a step of 0 (axis ", axes[i], ")");
  }
  OpAttributes a;
  a.set("axes", axes).set("starts", starts).set("ends", ends).set("steps", steps);
  node.emit(OpKind::Slice, {data}, a);
}

std::vector<kernels::SliceAxis> resolved(const Dims& x_dims, const OpAttributes& a) {
  return kernels::resolve_slice(x_dims, a.ints("axes"), a.ints("starts"), a.ints("ends"), a.ints("steps"));
}

std::vector<Dims> infer_slice(const Graph& graph, const Node& node) {
  Dims y;
  for (const kernels::SliceAxis& axis : resolved(graph.value(node.inputs[0]).dims, std::get<OpAttributes>(node.attrs)))
    y.push_back(axis.count);
  return {y};
}

void run_cpu(const OpKernelArgs& a) {
  kernels::slice_ref(a.inputs[0], a.in_dims(0), resolved(a.in_dims(0), a.attrs()), element_size(a.in_type(0)),
                     a.outputs[0]);
}

// INT8 (OpDef::int8_obstacle): a slice of an int8 tensor keeps its scale. On NCHW int8 run_cpu's byte
// copy is the INT8 kernel; on NHWCp the slice is a window whose channel step must be 1.
std::string int8_obstacle(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  if (x.size() != 4) return "an INT8 Slice cuts [N, C, H, W], input is " + to_string(x);
  if (resolved(x, std::get<OpAttributes>(node.attrs))[1].step != 1)
    return "an INT8 Slice takes channels with step 1 (the CUDA int8 layout is NHWC)";
  return "";
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  const Dims& x = a.in_dims(0);
  kernels::strided_copy_cuda(a.inputs[0], numel(x), kernels::slice_view(x, resolved(x, a.attrs())), a.outputs[0],
                             element_size(a.in_type(0)), a.stream);
}

void run_int8_cuda(const OpKernelArgs& a) {
  kernels::window_int8_nhwcp_cuda(a.in<int8_t>(0), a.in_dims(0), resolved(a.in_dims(0), a.attrs()), a.out<int8_t>(),
                                  a.stream);
}
#endif

}  // namespace

const OpDef& define_Slice() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Slice"};
    d.import = import_slice;
    d.types = OpDef::Types::kAnyData;
    d.infer = infer_slice;
    d.run_cpu = run_cpu;
    d.int8_obstacle = int8_obstacle;
    d.run_int8_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
    d.run_int8_cuda = run_int8_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // Its values are its input's (an INT8 Slice passes the scale through), and its output need not
    // have the batch as dim 0 (a slice of dim 0), which calibration taps require.
    d.calibrated = false;
    return d;
  }();
  return def;
}

}  // namespace octet
