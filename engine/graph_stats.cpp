#include "engine/graph_stats.h"

#include <set>

#include "engine/op_registry.h"
#include "kernels/shapes.h"

namespace octet {

int64_t node_macs(const Graph& graph, const Node& node) {
  const auto dims = [&](size_t i) -> const Dims& { return graph.value(node.inputs.at(i)).dims; };
  switch (node.op) {
    case OpKind::Conv: {
      const Dims& y = graph.value(node.outputs.at(0)).dims;
      return make_conv2d_shape(std::get<ConvAttrs>(node.attrs), dims(0), dims(1), y).macs();
    }
    case OpKind::Gemm: {
      const auto& a = std::get<GemmAttrs>(node.attrs);
      const Dims& y = graph.value(node.outputs.at(0)).dims;  // [M, N]
      const int64_t k = a.trans_a ? dims(0)[0] : dims(0)[1];
      return y[0] * y[1] * k;
    }
    case OpKind::MatMul: {
      const Dims& a = dims(0);
      const int64_t k = a.back();
      return numel(graph.value(node.outputs.at(0)).dims) * k;  // every output element is a length-K dot
    }
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
    case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid:
    case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::BatchNormalization:
    case OpKind::MaxPool: case OpKind::AveragePool: case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: case OpKind::Reshape: case OpKind::Transpose: case OpKind::Concat:
    case OpKind::Softmax: case OpKind::Identity: case OpKind::Pad: case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear:
      return 0;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      return op_def(node.op).macs ? op_def(node.op).macs(graph, node) : 0;
  }
  return 0;
}

GraphStats graph_stats(const Graph& graph) {
  GraphStats stats;
  std::set<ValueId> counted;
  for (const Node& node : graph.nodes) {
    stats.op_counts[to_string(node.op)] += 1;
    stats.macs += node_macs(graph, node);
    for (ValueId id : node.inputs) {
      if (id == kNoValue || !graph.value(id).is_constant() || !counted.insert(id).second) continue;
      const Tensor& t = *graph.value(id).initializer;
      stats.parameter_bytes += static_cast<int64_t>(t.bytes());
      if (t.type() == DataType::kFloat32) stats.parameters += t.numel();
    }
  }
  return stats;
}

}  // namespace octet
