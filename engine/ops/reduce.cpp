// Reductions of float32 (kernels/reduce.h): ReduceSum, ReduceMean, ReduceMax, ReduceMin.
//
// ONNX (opsets 1..21): input `data`; `axes` is an attribute before opset 18 (ReduceSum: before 13)
// and an optional int64 input from then on, which octet needs as a constant and folds into the
// attributes; `keepdims` (default 1) keeps each reduced axis as a dim of 1; empty axes reduce every
// axis, or with `noop_with_empty_axes` = 1 (the opsets with the axes input) leave the input
// unchanged, which octet imports as an alias of the input. Negative axes count from the end.
//
// Attributes after import: `axes` (sorted, distinct, in [0, rank); every axis when the model names
// none) and `keepdims` (0 or 1).
#include <algorithm>

#include "engine/op_registry.h"
#include "kernels/cpu/reduce_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/reduce_cuda.h"
#endif

namespace octet {
namespace {

using kernels::ReduceOp;

template <OpKind Kind>
void import_reduce(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId data = node.required_input(0, "data");
  const auto rank = static_cast<int64_t>(node.dims(data).size());
  const int64_t axes_input_since = Kind == OpKind::ReduceSum ? 13 : 18;
  OCTET_CHECK(node.opset() < axes_input_since || !node.has("axes"), node.where(), ": axes is an input since opset ",
              axes_input_since, ", not an attribute (the model's opset is ", node.opset(), ")");
  Dims axes;
  if (node.opset() < axes_input_since) {
    axes = node.get_ints("axes", {});
  } else if (node.input(1) != kNoValue) {
    axes = int_values(node, node.constant_input(1, "axes"), "axes");
  }
  if (axes.empty() && node.get_int("noop_with_empty_axes", 0) != 0) {
    node.emit_alias(data);
    return;
  }
  for (int64_t& axis : axes) axis = normalize_axis(node, axis, rank, "axes value");
  std::sort(axes.begin(), axes.end());
  const auto repeated = std::adjacent_find(axes.begin(), axes.end());
  OCTET_CHECK(repeated == axes.end(), node.where(), ": axes name axis ", *repeated, " twice");
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  const int64_t keepdims = node.get_int("keepdims", 1) != 0 ? 1 : 0;
  node.emit(Kind, {data}, OpAttributes{}.set("axes", axes).set("keepdims", keepdims));
}

// The input's dims with each reduced axis made 1 (keepdims) or dropped.
std::vector<Dims> reduced_dims(const Graph& graph, const Node& node) {
  const auto& attrs = std::get<OpAttributes>(node.attrs);
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& axes = attrs.ints("axes");
  const bool keepdims = attrs.i("keepdims") != 0;
  Dims out;
  size_t next_axis = 0;
  for (size_t d = 0; d < x.size(); ++d) {
    if (next_axis < axes.size() && axes[next_axis] == static_cast<int64_t>(d)) {
      ++next_axis;
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(x[d]);
    }
  }
  // Unsorted, repeated or out-of-range axes leave some unmatched (a corrupt plan; import sorts them).
  OCTET_CHECK(next_axis == axes.size(), "node '", node.name, "' (", to_string(node.op), "): axes ", to_string(axes),
              " are not sorted, distinct axes of input dims ", to_string(x));
  return {out};
}

kernels::ReduceGeometry geometry(const OpKernelArgs& a) {
  return kernels::make_reduce_geometry(a.in_dims(0), a.attrs().ints("axes"));
}

template <ReduceOp Op>
void run_cpu(const OpKernelArgs& a) {
  kernels::reduce_ref(Op, a.in<float>(0), geometry(a), a.out<float>());
}

#if OCTET_HAVE_CUDA
template <ReduceOp Op>
void run_cuda(const OpKernelArgs& a) {
  kernels::reduce_cuda(Op, a.in<float>(0), geometry(a), a.out<float>(), a.stream);
}
#endif

template <OpKind Kind, ReduceOp Op>
const OpDef& define_reduce(const char* onnx_type) {
  static const OpDef def = [&] {
    OpDef d;
    d.onnx_types = {onnx_type};
    d.import = import_reduce<Kind>;
    d.infer = reduced_dims;
    d.run_cpu = run_cpu<Op>;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda<Op>;
#endif
    d.cuda_relative_error = 0.0;  // the same operations in the same order (kernels/reduce.h)
    return d;
  }();
  return def;
}

}  // namespace

const OpDef& define_ReduceSum() { return define_reduce<OpKind::ReduceSum, ReduceOp::kSum>("ReduceSum"); }
const OpDef& define_ReduceMean() { return define_reduce<OpKind::ReduceMean, ReduceOp::kMean>("ReduceMean"); }
const OpDef& define_ReduceMax() { return define_reduce<OpKind::ReduceMax, ReduceOp::kMax>("ReduceMax"); }
const OpDef& define_ReduceMin() { return define_reduce<OpKind::ReduceMin, ReduceOp::kMin>("ReduceMin"); }

}  // namespace octet
