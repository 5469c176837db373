// Activations that exporters write as several nodes and engine/pattern_fusion.h fuses into one
// (kernels/activation.h states each formula): Silu (x * Sigmoid(x)), XHardSigmoid
// (x * HardSigmoid(x), Paddle's hard_swish), Gelu (the Erf form; also ONNX's Gelu of opset 20 with
// approximate "none") and XClipDiv (x * Clip(x + 3, 0, 6) / 6, hard-swish written out). Each is a
// pointwise activation that Conv/Gemm epilogues apply too.
#include "engine/op_registry.h"
#include "kernels/cpu/elementwise_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/elementwise_cuda.h"
#endif

namespace octet {
namespace {

ActivationParams silu(const Node&) { return {Activation::kXSigmoid, 0.0f, 0.0f}; }

ActivationParams x_hard_sigmoid(const Node& node) {
  const auto& a = std::get<OpAttributes>(node.attrs);
  return {Activation::kXHardSigmoid, a.f("alpha"), a.f("beta")};
}

ActivationParams gelu(const Node& node) { return {Activation::kGelu, std::get<OpAttributes>(node.attrs).f("alpha"), 0.0f}; }

ActivationParams x_clip_div(const Node& node) {
  const auto& a = std::get<OpAttributes>(node.attrs);
  return {Activation::kXClipDiv, a.f("alpha"), a.f("beta")};
}

void import_gelu(OnnxNode& node) {
  OCTET_CHECK(node.opset() >= 20, node.where(), ": Gelu is an operator of opset 20; the model imports opset ",
              node.opset());
  const std::string approximate = node.get_string("approximate", "none");
  if (approximate != "none")
    OCTET_UNSUPPORTED(node.where(), ": approximate '", approximate, "' is not supported (none is)");
  node.emit(OpKind::Gelu, {node.required_input(0, "X")}, OpAttributes().set("alpha", 1.41421356f));
}

std::vector<Dims> same_dims(const Graph& graph, const Node& node) { return {graph.value(node.inputs[0]).dims}; }

template <ActivationParams (*Params)(const Node&)>
void run_cpu(const OpKernelArgs& a) {
  kernels::activation_ref(Params(a.node), a.in<float>(0), a.out<float>(), numel(a.out_dims()));
}

#if OCTET_HAVE_CUDA
template <ActivationParams (*Params)(const Node&)>
void run_cuda(const OpKernelArgs& a) {
  kernels::activation_cuda(Params(a.node), a.in<float>(0), a.out<float>(), numel(a.out_dims()), a.stream);
}
#endif

// Every activation is bit-identical on CPU and GPU (kernels/activation.h), so none declares a
// cuda_relative_error.
template <ActivationParams (*Params)(const Node&)>
OpDef activation_def() {
  OpDef d;
  d.infer = same_dims;
  d.run_cpu = run_cpu<Params>;
#if OCTET_HAVE_CUDA
  d.run_cuda = run_cuda<Params>;
#endif
  d.activation = Params;
  return d;
}

}  // namespace

const OpDef& define_Silu() {
  static const OpDef def = activation_def<silu>();
  return def;
}

const OpDef& define_XHardSigmoid() {
  static const OpDef def = activation_def<x_hard_sigmoid>();
  return def;
}

const OpDef& define_XClipDiv() {
  static const OpDef def = activation_def<x_clip_div>();
  return def;
}

const OpDef& define_Gelu() {
  static const OpDef def = [] {
    OpDef d = activation_def<gelu>();
    d.onnx_types = {"Gelu"};
    d.import = import_gelu;
    return d;
  }();
  return def;
}

}  // namespace octet
