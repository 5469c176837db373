// Elementwise unary functions of float32 (kernels/unary.h): Exp, Log, Sqrt, Reciprocal, Neg, Abs,
// Floor, Ceil, Tanh, Erf, Sin, Cos, Softplus. ONNX: one input X, one output Y of X's dims, no
// attributes, the same semantics in every opset octet reads (6..21: only the types changed).
#include "engine/op_registry.h"
#include "kernels/cpu/unary_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/unary_cuda.h"
#endif

namespace octet {
namespace {

using kernels::UnaryOp;

template <OpKind Kind>
void import_unary(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  node.emit(Kind, {node.required_input(0, "X")}, OpAttributes{});
}

std::vector<Dims> same_dims(const Graph& graph, const Node& node) { return {graph.value(node.inputs[0]).dims}; }

template <UnaryOp Op>
void run_cpu(const OpKernelArgs& a) {
  kernels::unary_ref(Op, a.in<float>(0), a.out<float>(), numel(a.out_dims()));
}

#if OCTET_HAVE_CUDA
template <UnaryOp Op>
void run_cuda(const OpKernelArgs& a) {
  kernels::unary_cuda(Op, a.in<float>(0), a.out<float>(), numel(a.out_dims()), a.stream);
}
#endif

template <OpKind Kind, UnaryOp Op>
const OpDef& define_unary(const char* onnx_type) {
  static const OpDef def = [&] {
    OpDef d;
    d.onnx_types = {onnx_type};
    d.import = import_unary<Kind>;
    d.infer = same_dims;
    d.run_cpu = run_cpu<Op>;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda<Op>;
#endif
    d.cuda_relative_error = kernels::unary_relative_error(Op);
    return d;
  }();
  return def;
}

}  // namespace

const OpDef& define_Exp() { return define_unary<OpKind::Exp, UnaryOp::kExp>("Exp"); }
const OpDef& define_Log() { return define_unary<OpKind::Log, UnaryOp::kLog>("Log"); }
const OpDef& define_Sqrt() { return define_unary<OpKind::Sqrt, UnaryOp::kSqrt>("Sqrt"); }
const OpDef& define_Reciprocal() { return define_unary<OpKind::Reciprocal, UnaryOp::kReciprocal>("Reciprocal"); }
const OpDef& define_Neg() { return define_unary<OpKind::Neg, UnaryOp::kNeg>("Neg"); }
const OpDef& define_Abs() { return define_unary<OpKind::Abs, UnaryOp::kAbs>("Abs"); }
const OpDef& define_Floor() { return define_unary<OpKind::Floor, UnaryOp::kFloor>("Floor"); }
const OpDef& define_Ceil() { return define_unary<OpKind::Ceil, UnaryOp::kCeil>("Ceil"); }
const OpDef& define_Tanh() { return define_unary<OpKind::Tanh, UnaryOp::kTanh>("Tanh"); }
const OpDef& define_Erf() { return define_unary<OpKind::Erf, UnaryOp::kErf>("Erf"); }
const OpDef& define_Sin() { return define_unary<OpKind::Sin, UnaryOp::kSin>("Sin"); }
const OpDef& define_Cos() { return define_unary<OpKind::Cos, UnaryOp::kCos>("Cos"); }
const OpDef& define_Softplus() { return define_unary<OpKind::Softplus, UnaryOp::kSoftplus>("Softplus"); }

}  // namespace octet
