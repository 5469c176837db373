#include "engine/channel_scale.h"

#include <utility>

namespace octet {

std::optional<size_t> channel_scale_gate_slot(const Graph& graph, const Node& node) {
  if (node.op != OpKind::Mul || node.inputs.size() != 2 || node.outputs.empty()) return std::nullopt;
  const Dims& y = graph.value(node.outputs[0]).dims;
  if (y.size() != 4 || y[2] * y[3] <= 1) return std::nullopt;
  for (size_t gate_slot : {size_t{1}, size_t{0}}) {
    const Value& x = graph.value(node.inputs[1 - gate_slot]);
    const Value& gate = graph.value(node.inputs[gate_slot]);
    if (x.is_constant() || x.type != DataType::kFloat32 || x.dims != y) continue;
    if (gate.type != DataType::kFloat32 || gate.dims.size() != 4) continue;
    if ((gate.dims[0] == y[0] || gate.dims[0] == 1) && gate.dims[1] == y[1] && gate.dims[2] == 1 && gate.dims[3] == 1)
      return gate_slot;
  }
  return std::nullopt;
}

void order_channel_scale_inputs(Graph& graph) {
  for (Node& node : graph.nodes)
    if (channel_scale_gate_slot(graph, node) == size_t{0}) std::swap(node.inputs[0], node.inputs[1]);
}

}  // namespace octet
