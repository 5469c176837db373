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

// What a reader gets in place of the tensor it names.
enum class Reading { kAsIs, kInt8, kFloat32, kRounded };

class ReformatInserter {
 public:
  ReformatInserter(Graph& graph, const std::vector<std::optional<float>>& scales, bool explicit_quantization)
      : graph_(graph), scales_(scales), explicit_(explicit_quantization) {}

  ReformatCounts run() {
    rename_int8_graph_outputs();
    plan_reformats();
    emit();
    return counts_;
  }

 private:
  std::optional<float> scale(ValueId id) const {
    return static_cast<size_t>(id) < scales_.size() ? scales_[static_cast<size_t>(id)] : std::nullopt;
  }

  // What the reader at `slot` of `node` must get.
  Reading reading(const Node& node, size_t slot) const {
    const ValueId id = node.inputs[slot];
    if (id == kNoValue || graph_.value(id).is_constant()) return Reading::kAsIs;
    const DataType type = graph_.value(id).type;
    // Explicit quantization: the model rounds this float tensor for every reader (its Q/DQ pair).
    const bool rounded = explicit_ && type == DataType::kFloat32 && scale(id);
    if (node.precision == Precision::kInt8) {
      if (is_int8_activation_input(node, slot) && type != DataType::kInt8) return Reading::kInt8;
      if (slot == 3 && rounded) return Reading::kInt8;  // the residual, dequantized by the epilogue
      return Reading::kAsIs;
    }
    if (is_carrier(graph_, node) && slot == 0) return Reading::kAsIs;
    if (type == DataType::kInt8) return Reading::kFloat32;
    if (rounded) return Reading::kRounded;
    return Reading::kAsIs;
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
      copy.scale = scale(id);
      OCTET_CHECK(copy.scale, "INT8 builder: tensor '", source.name, "' needs a QuantizeLinear but has no scale");
    }
    return graph_.add_value(std::move(copy));
  }

  // The reformatted copy of `id` a reading needs, made once per tensor (a rounded copy is the float
  // copy of the int8 one: "<tensor>:int8:fp32").
  ValueId copy_for(ValueId id, Reading how) {
    if (how == Reading::kRounded) {
      const ValueId q = copy_for(id, Reading::kInt8);
      if (!rounded_copy_.count(id)) {
        rounded_copy_[id] = add_copy(q, DataType::kFloat32);
        ++counts_.dequantize;
      }
      return rounded_copy_.at(id);
    }
    const bool to_int8 = how == Reading::kInt8;
    std::map<ValueId, ValueId>& copies = to_int8 ? int8_copy_ : float_copy_;
    if (!copies.count(id)) {
      copies[id] = add_copy(id, to_int8 ? DataType::kInt8 : DataType::kFloat32);
      ++(to_int8 ? counts_.quantize : counts_.dequantize);
    }
    return copies.at(id);
  }

  void plan_reformats() {
    for (const Node& node : graph_.nodes)
      for (size_t slot = 0; slot < node.inputs.size(); ++slot)
        if (const Reading how = reading(node, slot); how != Reading::kAsIs) copy_for(node.inputs[slot], how);
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
    if (const auto q = int8_copy_.find(id); q != int8_copy_.end()) {
      nodes.push_back(reformat_node(id, q->second, OpKind::QuantizeLinear));
      if (const auto r = rounded_copy_.find(id); r != rounded_copy_.end())
        nodes.push_back(reformat_node(q->second, r->second, OpKind::DequantizeLinear));
    }
    if (const auto dq = float_copy_.find(id); dq != float_copy_.end())
      nodes.push_back(reformat_node(id, dq->second, OpKind::DequantizeLinear));
  }

  void emit() {
    std::vector<Node> nodes;
    nodes.reserve(graph_.nodes.size() + int8_copy_.size() + float_copy_.size());
    for (ValueId input : graph_.inputs) emit_reformats_of(input, nodes);
    for (Node& node : graph_.nodes) {
      for (size_t slot = 0; slot < node.inputs.size(); ++slot)
        if (const Reading how = reading(node, slot); how != Reading::kAsIs)
          node.inputs[slot] = copy_for(node.inputs[slot], how);
      const std::vector<ValueId> outputs = node.outputs;
      nodes.push_back(std::move(node));
      for (ValueId output : outputs)
        if (output != kNoValue) emit_reformats_of(output, nodes);
    }
    graph_.nodes = std::move(nodes);
  }

  Graph& graph_;
  const std::vector<std::optional<float>>& scales_;
  const bool explicit_;
  std::map<ValueId, ValueId> int8_copy_;     // tensor -> its QuantizeLinear output
  std::map<ValueId, ValueId> float_copy_;    // tensor -> its DequantizeLinear output
  std::map<ValueId, ValueId> rounded_copy_;  // float tensor -> the DequantizeLinear of its int8 copy
  ReformatCounts counts_;
};

}  // namespace

ReformatCounts insert_reformats(Graph& graph, const std::vector<std::optional<float>>& scales,
                               bool explicit_quantization) {
  return ReformatInserter(graph, scales, explicit_quantization).run();
}

}  // namespace octet
