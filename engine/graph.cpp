#include "engine/graph.h"

namespace octet {

const char* to_string(OpKind op) {
  switch (op) {
#define OCTET_OP(kind, onnx_name) \
  case OpKind::kind:              \
    return onnx_name;
#define OCTET_REGISTERED_OP(kind, name) \
  case OpKind::kind:                    \
    return name;
#include "engine/ops.def"
  }
  return "?";
}

const char* to_string(Precision precision) {
  switch (precision) {
    case Precision::kFloat32: return "fp32";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

const Epilogue* epilogue_of(const Node& node) {
  if (const auto* conv = std::get_if<ConvAttrs>(&node.attrs)) return &conv->epilogue;
  if (const auto* gemm = std::get_if<GemmAttrs>(&node.attrs)) return &gemm->epilogue;
  return nullptr;
}

Epilogue* epilogue_of(Node& node) { return const_cast<Epilogue*>(epilogue_of(static_cast<const Node&>(node))); }

bool is_graph_output(const Graph& graph, ValueId id) {
  for (ValueId out : graph.outputs)
    if (out == id) return true;
  return false;
}

std::vector<int> find_producers(const Graph& graph) {
  std::vector<int> producer(graph.values.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (ValueId out : graph.nodes[i].outputs)
      if (out != kNoValue) producer[static_cast<size_t>(out)] = static_cast<int>(i);
  return producer;
}

std::vector<int> count_uses(const Graph& graph) {
  std::vector<int> uses(graph.values.size(), 0);
  for (const Node& node : graph.nodes)
    for (ValueId in : node.inputs)
      if (in != kNoValue) ++uses[static_cast<size_t>(in)];
  return uses;
}

ValueId Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<ValueId>(i);
  return kNoValue;
}

ValueId Graph::add_value(Value value) {
  values.push_back(std::move(value));
  return static_cast<ValueId>(values.size() - 1);
}

}  // namespace octet
