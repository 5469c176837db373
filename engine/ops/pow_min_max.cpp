// Pow, Max and Min of float32 (kernels/binary_math.h), with numpy broadcasting.
//
// ONNX: Pow(X, Y) -> Z of the broadcast dims (opsets 7..15; opset 1's legacy broadcasting with an
// `axis` is refused, integer types are refused by the registry's float32 check). Max and Min take
// 1 or more inputs (variadic; numpy broadcasting since opset 8, same-shape inputs before, which
// broadcasting covers): with one input the node is an alias of it; with more, the output is folded
// left to right, y = f(f(f(x0, x1), x2), ...), each step over the output's dims.
// No attributes after import.
#include <limits>

#include "engine/op_registry.h"
#include "engine/shape_inference.h"
#include "kernels/cpu/binary_math_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/binary_math_cuda.h"
#endif

namespace octet {
namespace {

using kernels::BinaryMath;

void import_pow(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  if (node.opset() < 7 && node.get_int("broadcast", 0) != 0 && node.has("axis"))
    OCTET_UNSUPPORTED(node.where(), ": legacy broadcasting with axis ", node.get_int("axis", 0),
                      " (opset < 7) is not supported (numpy broadcasting)");
  node.emit(OpKind::Pow, {node.required_input(0, "X"), node.required_input(1, "Y")}, OpAttributes{});
}

template <OpKind Kind>
void import_variadic(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  std::vector<ValueId> inputs;
  for (int i = 0; i < node.input_count(); ++i) inputs.push_back(node.required_input(i, "data_i"));
  OCTET_CHECK(!inputs.empty(), node.where(), ": needs at least one input");
  if (inputs.size() == 1) {
    node.emit_alias(inputs[0]);
    return;
  }
  node.emit(Kind, std::move(inputs), OpAttributes{});
}

// The numpy broadcast of every input's dims.
std::vector<Dims> broadcast_all(const Graph& graph, const Node& node) {
  const std::string where = detail::concat("node '", node.name, "' (", to_string(node.op), ")");
  Dims out = graph.value(node.inputs[0]).dims;
  for (size_t i = 1; i < node.inputs.size(); ++i) out = broadcast_dims(out, graph.value(node.inputs[i]).dims, where);
  return {out};
}

// y = f(x0, x1), then y = f(y, x_i) for each further input, over y's dims; `binary` is the CPU
// reference or the CUDA kernel with its stream bound.
template <typename Binary>
void fold_inputs(const OpKernelArgs& a, Binary binary) {
  float* y = a.out<float>();
  const Dims& y_dims = a.out_dims();
  binary(a.in<float>(0), a.in_dims(0), a.in<float>(1), a.in_dims(1), y, y_dims);
  for (size_t i = 2; i < a.input_count(); ++i) binary(y, y_dims, a.in<float>(i), a.in_dims(i), y, y_dims);
}

template <BinaryMath Op>
void run_cpu(const OpKernelArgs& a) {
  fold_inputs(a, [](const float* x0, const Dims& d0, const float* x1, const Dims& d1, float* y, const Dims& dy) {
    kernels::binary_math_ref(Op, x0, d0, x1, d1, y, dy);
  });
}

#if OCTET_HAVE_CUDA
template <BinaryMath Op>
void run_cuda(const OpKernelArgs& a) {
  fold_inputs(a, [&](const float* x0, const Dims& d0, const float* x1, const Dims& d1, float* y, const Dims& dy) {
    kernels::binary_math_cuda(Op, x0, d0, x1, d1, y, dy, a.stream);
  });
}
#endif

template <BinaryMath Op>
OpDef define_binary_math(const char* onnx_type, void (*import)(OnnxNode&), int max_inputs) {
  OpDef d;
  d.onnx_types = {onnx_type};
  d.import = import;
  d.min_inputs = 2;
  d.max_inputs = max_inputs;
  d.infer = broadcast_all;
  d.run_cpu = run_cpu<Op>;
#if OCTET_HAVE_CUDA
  d.run_cuda = run_cuda<Op>;
#endif
  d.cuda_relative_error = kernels::binary_math_relative_error(Op);
  return d;
}

constexpr int kVariadic = std::numeric_limits<int>::max();

}  // namespace

const OpDef& define_Pow() {
  static const OpDef def = define_binary_math<BinaryMath::kPow>("Pow", import_pow, 2);
  return def;
}
const OpDef& define_Max() {
  static const OpDef def = define_binary_math<BinaryMath::kMax>("Max", import_variadic<OpKind::Max>, kVariadic);
  return def;
}
const OpDef& define_Min() {
  static const OpDef def = define_binary_math<BinaryMath::kMin>("Min", import_variadic<OpKind::Min>, kVariadic);
  return def;
}

}  // namespace octet
