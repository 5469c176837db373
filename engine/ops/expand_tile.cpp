// Expand and Tile (kernels/data_movement.h): copies of the input repeated along dimensions, any
// element type.
//
//   Expand (opset 8+)  input 1 `shape`, constant, folded into the attribute `shape`; y's dims are the
//                      numpy broadcast of x's dims and shape (either side may be the larger or 1).
//   Tile (opset 6+)    input 1 `repeats`, constant, one non-negative entry per dimension of x,
//                      folded into the attribute `repeats`; y_dims[d] = x_dims[d] * repeats[d].
//                      Opset 1's Tile (inputs tiles and axis) is refused.
// Both shape rules work from the input's current dims, so they re-infer at any batch.
#include "engine/op_registry.h"
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/data_movement_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/data_movement_cuda.h"
#endif

namespace octet {
namespace {

std::string where(const Node& node) { return detail::concat("node '", node.name, "' (", to_string(node.op), ")"); }

// ---- Expand ------------------------------------------------------------------------------------------
void import_expand(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId x = node.required_input(0, "input");
  const Dims shape = int_values(node, node.constant_input(1, "shape"), "shape");
  for (int64_t d : shape) OCTET_CHECK(d >= 0, node.where(), ": shape ", to_string(shape), " has a negative entry");
  OpAttributes a;
  a.set("shape", shape);
  node.emit(OpKind::Expand, {x}, a);
}

std::vector<Dims> infer_expand(const Graph& graph, const Node& node) {
  return {kernels::broadcast_shape(graph.value(node.inputs[0]).dims, std::get<OpAttributes>(node.attrs).ints("shape"),
                                   where(node) + ": input and shape")};
}

void run_expand_cpu(const OpKernelArgs& a) {
  kernels::expand_ref(a.inputs[0], a.in_dims(0), a.out_dims(), element_size(a.in_type(0)), a.outputs[0]);
}

#if OCTET_HAVE_CUDA
void run_expand_cuda(const OpKernelArgs& a) {
  kernels::strided_copy_cuda(a.inputs[0], numel(a.in_dims(0)), kernels::expand_view(a.in_dims(0), a.out_dims()),
                             a.outputs[0], element_size(a.in_type(0)), a.stream);
}
#endif

// ---- Tile ----------------------------------------------------------------------------------------------
void import_tile(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  if (node.opset() < 6)
    OCTET_UNSUPPORTED(node.where(), ": opset ", node.opset(), "'s Tile (inputs tiles and axis) is not supported; "
                      "opset 6+ gives repeats");
  const ValueId x = node.required_input(0, "input");
  const Dims repeats = int_values(node, node.constant_input(1, "repeats"), "repeats");
  const size_t rank = node.dims(x).size();
  OCTET_CHECK(repeats.size() == rank, node.where(), ": repeats ", to_string(repeats), " has ", repeats.size(),
              " entries for an input of rank ", rank);
  for (int64_t r : repeats)
    OCTET_CHECK(r >= 0, node.where(), ": repeats ", to_string(repeats), " has a negative entry ", r);
  OpAttributes a;
  a.set("repeats", repeats);
  node.emit(OpKind::Tile, {x}, a);
}

std::vector<Dims> infer_tile(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& repeats = std::get<OpAttributes>(node.attrs).ints("repeats");
  OCTET_CHECK(repeats.size() == x.size(), where(node), ": repeats ", to_string(repeats), " do not fit input dims ",
              to_string(x));
  Dims y;
  for (size_t d = 0; d < x.size(); ++d) y.push_back(x[d] * repeats[d]);
  return {y};
}

void run_tile_cpu(const OpKernelArgs& a) {
  kernels::tile_ref(a.inputs[0], a.in_dims(0), a.attrs().ints("repeats"), element_size(a.in_type(0)), a.outputs[0]);
}

#if OCTET_HAVE_CUDA
void run_tile_cuda(const OpKernelArgs& a) {
  kernels::strided_copy_cuda(a.inputs[0], numel(a.in_dims(0)),
                             kernels::tile_view(a.in_dims(0), a.attrs().ints("repeats")), a.outputs[0],
                             element_size(a.in_type(0)), a.stream);
}
#endif

}  // namespace

const OpDef& define_Expand() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Expand"};
    d.import = import_expand;
    d.types = OpDef::Types::kAnyData;
    d.infer = infer_expand;
    d.run_cpu = run_expand_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_expand_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // Not an INT8 layer, and its output need not have the batch as dim 0, which calibration taps require.
    d.calibrated = false;
    return d;
  }();
  return def;
}

const OpDef& define_Tile() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Tile"};
    d.import = import_tile;
    d.types = OpDef::Types::kAnyData;
    d.infer = infer_tile;
    d.run_cpu = run_tile_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_tile_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // Not an INT8 layer, and its output need not have the batch as dim 0 (repeats along dim 0), which
    // calibration taps require.
    d.calibrated = false;
    return d;
  }();
  return def;
}

}  // namespace octet
