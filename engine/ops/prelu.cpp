// PRelu of float32 (kernels/binary_math.h): y = x < 0 ? slope * x : x.
//
// ONNX: PRelu(X, slope) -> Y of X's dims. slope broadcasts unidirectionally to X (numpy rules with
// X's dims fixed; opset 7 on): typically [C, 1, 1] for an [N, C, H, W] input, [C] for [N, C] or one
// element. Before opset 7 slope had X's shape or one element, both of which the rule covers.
// No attributes.
#include "engine/op_registry.h"
#include "kernels/cpu/binary_math_ref.h"
#include "kernels/cpu/broadcast.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/binary_math_cuda.h"
#endif

namespace octet {
namespace {

using kernels::BinaryMath;

void import_prelu(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  node.emit(OpKind::PRelu, {node.required_input(0, "X"), node.required_input(1, "slope")}, OpAttributes{});
}

std::vector<Dims> x_dims(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& slope = graph.value(node.inputs[1]).dims;
  OCTET_CHECK(kernels::broadcasts_to(slope, x), "node '", node.name, "' (PRelu): slope dims ", to_string(slope),
              " do not broadcast to X's ", to_string(x));
  return {x};
}

void run_cpu(const OpKernelArgs& a) {
  kernels::binary_math_ref(BinaryMath::kPRelu, a.in<float>(0), a.in_dims(0), a.in<float>(1), a.in_dims(1),
                           a.out<float>(), a.out_dims());
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& a) {
  kernels::binary_math_cuda(BinaryMath::kPRelu, a.in<float>(0), a.in_dims(0), a.in<float>(1), a.in_dims(1),
                            a.out<float>(), a.out_dims(), a.stream);
}
#endif

}  // namespace

const OpDef& define_PRelu() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"PRelu"};
    d.import = import_prelu;
    d.min_inputs = d.max_inputs = 2;
    d.infer = x_dims;
    d.run_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
#endif
    d.cuda_relative_error = kernels::binary_math_relative_error(BinaryMath::kPRelu);  // 0: one multiply
    return d;
  }();
  return def;
}

}  // namespace octet
