// LayerNormalization of float32 (kernels/normalization.h).
//
// ONNX (opset 17): inputs X, Scale, optional B; attributes axis (default -1), epsilon (default 1e-5),
// stash_type (default 1: float, the only one octet computes in; others are refused). Outputs Y and the
// optional Mean and InvStdDev, which only training reads: octet computes Y and refuses a model that
// requests the others. X is normalised over its dims from `axis` on.
//
// Scale and B must broadcast to those normalised dims (numpy rules, unidirectionally); octet reads them
// holding exactly the normalised dims (leading 1s aside) or a single element, and refuses other
// broadcasts. Attributes after import: `axis` (in [0, rank)) and `epsilon`.
#include <algorithm>

#include "engine/op_registry.h"
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/normalization_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/normalization_cuda.h"
#endif

namespace octet {
namespace {

void import_layer_norm(OnnxNode& node) {
  node.refuse_outputs_past(1, "octet computes Y only, not the Mean and InvStdDev that training reads");
  const int64_t stash_type = node.get_int("stash_type", 1);
  if (stash_type != 1) OCTET_UNSUPPORTED(node.where(), ": stash_type ", stash_type, " is not supported (1: float)");
  const ValueId x = node.required_input(0, "X");
  const auto rank = static_cast<int64_t>(node.dims(x).size());
  const int64_t axis = normalize_axis(node, node.get_int("axis", -1), rank);
  std::vector<ValueId> inputs = {x, node.required_input(1, "Scale")};
  if (node.input(2) != kNoValue) inputs.push_back(node.input(2));
  node.emit(OpKind::LayerNormalization, std::move(inputs),
            OpAttributes{}.set("axis", axis).set("epsilon", node.get_float("epsilon", 1e-5f)));
}

Dims without_leading_ones(const Dims& dims) {
  const auto first = std::find_if(dims.begin(), dims.end(), [](int64_t d) { return d != 1; });
  return Dims(first, dims.end());
}

// Where Scale or B (input `i`) is read: stride 1 along the normalised elements, or 0 for one element.
int64_t parameter_stride(const Graph& graph, const Node& node, size_t i, const Dims& normalized) {
  const Value& v = graph.value(node.inputs[i]);
  const char* what = i == 1 ? "Scale" : "B";
  OCTET_CHECK(kernels::broadcasts_to(v.dims, normalized), "node '", node.name, "' (LayerNormalization): ", what,
              " dims ", to_string(v.dims), " do not broadcast to the normalised dims ", to_string(normalized));
  if (numel(v.dims) == 1) return 0;
  if (without_leading_ones(v.dims) != without_leading_ones(normalized))
    OCTET_UNSUPPORTED("node '", node.name, "' (LayerNormalization): ", what, " dims ", to_string(v.dims),
                      " broadcast to the normalised dims ", to_string(normalized),
                      "; octet reads the normalised dims themselves or one element");
  return 1;
}

kernels::LayerNormShape shape_of(const Graph& graph, const Node& node) {
  const auto& attrs = std::get<OpAttributes>(node.attrs);
  const Dims& x = graph.value(node.inputs[0]).dims;
  const int64_t axis = attrs.i("axis");
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x.size()), "node '", node.name, "' (LayerNormalization): axis ",
              axis, " is out of range for X of dims ", to_string(x));
  const Dims normalized(x.begin() + axis, x.end());
  kernels::LayerNormShape s;
  s.n = numel(normalized);
  s.rows = numel(Dims(x.begin(), x.begin() + axis));
  s.scale_stride = parameter_stride(graph, node, 1, normalized);
  if (node.inputs.size() > 2 && node.inputs[2] != kNoValue)
    s.bias_stride = parameter_stride(graph, node, 2, normalized);
  s.epsilon = attrs.f("epsilon");
  return s;
}

// Y has X's dims; the check of Scale and B against the normalised dims runs with it, whenever the
// dims change (a batch change moves them when axis is 0).
std::vector<Dims> x_dims(const Graph& graph, const Node& node) {
  shape_of(graph, node);
  return {graph.value(node.inputs[0]).dims};
}

const float* bias_of(const OpKernelArgs& a) { return a.has_input(2) ? a.in<float>(2) : nullptr; }

void run_cpu(const OpKernelArgs& a) {
  kernels::layer_norm_ref(a.in<float>(0), a.in<float>(1), bias_of(a), shape_of(a.graph, a.node), a.out<float>());
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  kernels::layer_norm_cuda(a.in<float>(0), a.in<float>(1), bias_of(a), shape_of(a.graph, a.node), a.out<float>(),
                           a.stream);
}
#endif

}  // namespace

const OpDef& define_LayerNormalization() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"LayerNormalization"};
    d.import = import_layer_norm;
    d.min_inputs = 2;
    d.max_inputs = 3;
    d.infer = x_dims;
    d.run_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
#endif
    d.cuda_relative_error = 0.0;  // the same operations in the same order (kernels/normalization.h)
    return d;
  }();
  return def;
}

}  // namespace octet
