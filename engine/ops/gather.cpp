// Gather (kernels/data_movement.h): entries of `data` along `axis` picked by `indices`, any element
// type; y's dims are data_dims[:axis] + index_dims + data_dims[axis+1:] (a 0-d index removes the axis).
//
// ONNX (opsets 1..13, one semantics): inputs data and indices (int64 or int32, constant or computed
// at run time), attribute axis (default 0). An index v names entry v, or v + n when negative (n =
// data_dims[axis]); outside [-n, n) is an error:
//   - constant indices are checked at import and validation: an Error naming the node and the index;
//   - run-time indices are checked by the CPU backend before it reads (the same Error), and clamped to
//     [0, n - 1] by the CUDA kernel, which cannot raise one (kernels/cuda/data_movement_cuda.h).
// Attributes: axis (non-negative). The indices stay input 1, so one kernel reads them from memory
// whether they are a constant or not.
#include "engine/op_registry.h"
#include "kernels/cpu/data_movement_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/data_movement_cuda.h"
#endif

namespace octet {
namespace {

bool is_index_type(DataType type) { return type == DataType::kInt64 || type == DataType::kInt32; }

// Error naming `where` and the first index outside [-n, n).
void check_indices(const std::string& where, const void* indices, DataType type, int64_t count, int64_t n,
                   int64_t axis) {
  for (int64_t j = 0; j < count; ++j) {
    const int64_t v = type == DataType::kInt64 ? static_cast<const int64_t*>(indices)[j]
                                               : static_cast<const int32_t*>(indices)[j];
    OCTET_CHECK(v >= -n && v < n, where, ": index ", v, " (entry ", j, " of indices) is out of range for axis ", axis,
                " of size ", n);
  }
}

void import_gather(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId data = node.required_input(0, "data");
  const ValueId indices = node.required_input(1, "indices");
  const Dims& data_dims = node.dims(data);
  const int64_t axis = normalize_axis(node, node.get_int("axis", 0), static_cast<int64_t>(data_dims.size()));
  const Value& index_value = node.value(indices);
  OCTET_CHECK(is_index_type(index_value.type), node.where(), ": indices '", index_value.name, "' have type ",
              to_string(index_value.type), " (int64 or int32 expected)");
  if (const Tensor* constant = node.constant(1))
    check_indices(node.where(), constant->raw(), constant->type(), constant->numel(),
                  data_dims[static_cast<size_t>(axis)], axis);
  OpAttributes a;
  a.set("axis", axis);
  node.emit(OpKind::Gather, {data, indices}, a);
}

std::string where(const Node& node) { return detail::concat("node '", node.name, "' (Gather)"); }

std::vector<Dims> infer_gather(const Graph& graph, const Node& node) {
  const Dims& data = graph.value(node.inputs[0]).dims;
  const Dims& indices = graph.value(node.inputs[1]).dims;
  const int64_t axis = std::get<OpAttributes>(node.attrs).i("axis");
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(data.size()), where(node), ": axis ", axis,
              " is outside data dims ", to_string(data));
  Dims y(data.begin(), data.begin() + axis);
  y.insert(y.end(), indices.begin(), indices.end());
  y.insert(y.end(), data.begin() + axis + 1, data.end());
  return {y};
}

// The registry accepts float32 for index inputs; Gather's must be integers. Constant indices are
// checked against the data's current dims (the batch may have changed them).
void validate_gather(const Graph& graph, const Node& node) {
  const Value& indices = graph.value(node.inputs[1]);
  OCTET_CHECK(is_index_type(indices.type), where(node), ": indices '", indices.name, "' have type ",
              to_string(indices.type), " (int64 or int32 expected)");
  const int64_t axis = std::get<OpAttributes>(node.attrs).i("axis");
  if (indices.is_constant())
    check_indices(where(node), indices.initializer->raw(), indices.type, indices.initializer->numel(),
                  graph.value(node.inputs[0]).dims[static_cast<size_t>(axis)], axis);
}

void run_cpu(const OpKernelArgs& a) {
  const int64_t axis = a.attrs().i("axis");
  const int64_t count = numel(a.in_dims(1));
  check_indices(where(a.node), a.inputs[1], a.in_type(1), count, a.in_dims(0)[static_cast<size_t>(axis)], axis);
  kernels::gather_ref(a.inputs[0], a.in_dims(0), axis, a.inputs[1], a.in_type(1), count, element_size(a.in_type(0)),
                      a.outputs[0]);
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  kernels::gather_cuda(a.inputs[0], a.in_dims(0), a.attrs().i("axis"), a.inputs[1], a.in_type(1),
                       numel(a.in_dims(1)), element_size(a.in_type(0)), a.outputs[0], a.stream);
}
#endif

}  // namespace

const OpDef& define_Gather() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Gather"};
    d.import = import_gather;
    d.types = OpDef::Types::kAnyData;
    d.min_inputs = 2;
    d.max_inputs = 2;
    d.infer = infer_gather;
    d.validate = validate_gather;
    d.run_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // Not an INT8 layer, and its output need not have the batch as dim 0 (a gather along dim 0),
    // which calibration taps require.
    d.calibrated = false;
    return d;
  }();
  return def;
}

}  // namespace octet
