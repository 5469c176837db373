#include "quantize/reformat_insertion.h"

#include <map>
#include <string>
#include <utility>

#include "engine/error.h"
#include "quantize/precision_assignment.h"

namespace octet {
namespace {

bool is_carrier(const Graph& graph, const Node& node) {
  return (node.op == OpKind::Reshape || node.op == OpKind::Identity) &&
         graph.value(node.outputs[0]).type == DataType::kInt8;
}

class ReformatInserter {
 public:
  ReformatInserter(Graph& graph, const std::vector<std::optional<float>>& scales) : graph_(graph), scales_(scales) {}

  ReformatCounts run() {
    rename_int8_graph_outputs();
    plan_reformats();
    emit();
    return counts_;
  }

 private:
  // The type a reader must get at `slot`, or nullopt when it takes the tensor as it is.
  std::optional<DataType> required_type(const Node& node, size_t slot) const {
    const ValueId id = node.inputs[slot];
    if (id == kNoValue || graph_.value(id).is_constant()) return std::nullopt;
    const DataType type = graph_.value(id).type;
    if (node.precision == Precision::kInt8) {
      if (is_int8_activation_input(node, slot) && type != DataType::kInt8) return DataType::kInt8;
      return std::nullopt;
    }
    if (is_carrier(graph_, node) && slot == 0) return std::nullopt;
    if (type == DataType::kInt8) return DataType::kFloat32;
    return std::nullopt;
  }

  void replace_everywhere(ValueId from, ValueId to) {
    for (Node& node : graph_.nodes) {
      for (ValueId& id : node.inputs) id = id == from ? to : id;
      for (ValueId& id : node.outputs) id = id == from ? to : id;
    }
  }

  void rename_int8_graph_outputs() {
    for (ValueId output : graph_.outputs) {
      if (graph_.value(output).type != DataType::kInt8) continue;
      Value alias = graph_.value(output);
      alias.name += ":int8";
      const ValueId alias_id = graph_.add_value(std::move(alias));
      replace_everywhere(output, alias_id);
      Value& original = graph_.value(output);
      original.type = DataType::kFloat32;
      original.scale.reset();
      float_copy_[alias_id] = output;
      ++counts_.dequantize;
    }
  }

  ValueId add_copy(ValueId id, DataType type) {
    const Value& source = graph_.value(id);
    Value copy;
    copy.name = source.name + (type == DataType::kInt8 ? ":int8" : ":fp32");
    copy.type = type;
    copy.dims = source.dims;
    if (type == DataType::kInt8) {
      const std::optional<float> scale = static_cast<size_t>(id) < scales_.size() ? scales_[id] : std::nullopt;
      OCTET_CHECK(scale, "INT8 builder: tensor '", source.name, "' needs a QuantizeLinear but has no scale");
      copy.scale = scale;
    }
    return graph_.add_value(std::move(copy));
  }

  void plan_reformats() {
    for (const Node& node : graph_.nodes) {
      for (size_t slot = 0; slot < node.inputs.size(); ++slot) {
        const std::optional<DataType> type = required_type(node, slot);
        if (!type) continue;
        const ValueId id = node.inputs[slot];
        std::map<ValueId, ValueId>& copies = *type == DataType::kInt8 ? int8_copy_ : float_copy_;
        if (copies.count(id)) continue;
        copies[id] = add_copy(id, *type);
        ++(*type == DataType::kInt8 ? counts_.quantize : counts_.dequantize);
      }
    }
  }

  Node reformat_node(ValueId from, ValueId to, OpKind op) const {
    Node node;
    node.name = graph_.value(from).name + (op == OpKind::QuantizeLinear ? ":quantize" : ":dequantize");
    node.op = op;
    node.inputs = {from};
    node.outputs = {to};
    return node;
  }

  void emit_reformats_of(ValueId id, std::vector<Node>& nodes) const {
    if (const auto q = int8_copy_.find(id); q != int8_copy_.end())
      nodes.push_back(reformat_node(id, q->second, OpKind::QuantizeLinear));
    if (const auto dq = float_copy_.find(id); dq != float_copy_.end())
      nodes.push_back(reformat_node(id, dq->second, OpKind::DequantizeLinear));
  }

  void emit() {
    std::vector<Node> nodes;
    nodes.reserve(graph_.nodes.size() + int8_copy_.size() + float_copy_.size());
    for (ValueId input : graph_.inputs) emit_reformats_of(input, nodes);
    for (Node& node : graph_.nodes) {
      for (size_t slot = 0; slot < node.inputs.size(); ++slot) {
        const std::optional<DataType> type = required_type(node, slot);
        if (type) node.inputs[slot] = (*type == DataType::kInt8 ? int8_copy_ : float_copy_).at(node.inputs[slot]);
      }
      const std::vector<ValueId> outputs = node.outputs;
      nodes.push_back(std::move(node));
      for (ValueId output : outputs)
        if (output != kNoValue) emit_reformats_of(output, nodes);
    }
    graph_.nodes = std::move(nodes);
  }

  Graph& graph_;
  const std::vector<std::optional<float>>& scales_;
  std::map<ValueId, ValueId> int8_copy_;   // tensor -> its QuantizeLinear output
  std::map<ValueId, ValueId> float_copy_;  // tensor -> its DequantizeLinear output
  ReformatCounts counts_;
};

}  // namespace

ReformatCounts insert_reformats(Graph& graph, const std::vector<std::optional<float>>& scales) {
  return ReformatInserter(graph, scales).run();
}

}  // namespace octet
