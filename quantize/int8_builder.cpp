// build_int8_graph: the four passes of quantize/int8_builder.h, in order, on a copy of the graph.
#include "quantize/int8_builder.h"

#include <utility>

#include "engine/shape_inference.h"
#include "quantize/precision_assignment.h"
#include "quantize/reformat_insertion.h"
#include "quantize/weight_quantization.h"

namespace octet {
namespace {

// Node precisions and value types/scales as the plan decided (before any value is added).
void apply_plan(Graph& graph, const PrecisionPlan& plan) {
  for (size_t i = 0; i < graph.nodes.size(); ++i) graph.nodes[i].precision = plan.layers[i].precision;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    Value& value = graph.values[v];
    if (value.is_constant()) continue;
    value.type = plan.value_types[v];
    if (value.type == DataType::kInt8) value.scale = plan.scales[v];
  }
}

// Removes constants no node reads (the float weights replaced by int8 ones) and renumbers values.
void drop_unread_constants(Graph& graph) {
  std::vector<bool> used(graph.values.size(), false);
  for (const Node& node : graph.nodes) {
    for (ValueId id : node.inputs)
      if (id != kNoValue) used[static_cast<size_t>(id)] = true;
    for (ValueId id : node.outputs)
      if (id != kNoValue) used[static_cast<size_t>(id)] = true;
  }
  for (ValueId id : graph.inputs) used[static_cast<size_t>(id)] = true;
  for (ValueId id : graph.outputs) used[static_cast<size_t>(id)] = true;
  std::vector<ValueId> renumbered(graph.values.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (!used[v] && graph.values[v].is_constant()) continue;
    renumbered[v] = static_cast<ValueId>(kept.size());
    kept.push_back(std::move(graph.values[v]));
  }
  graph.values = std::move(kept);
  const auto renumber = [&](ValueId& id) {
    if (id != kNoValue) id = renumbered[static_cast<size_t>(id)];
  };
  for (Node& node : graph.nodes) {
    for (ValueId& id : node.inputs) renumber(id);
    for (ValueId& id : node.outputs) renumber(id);
  }
  for (ValueId& id : graph.inputs) renumber(id);
  for (ValueId& id : graph.outputs) renumber(id);
}

// Explicit quantization: an INT8 Conv/Gemm rounds inside its epilogue where the model rounds the
// tensors the fusion made internal (BuildConfig::explicit_quantization).
void set_epilogue_roundings(Graph& graph, const std::map<std::string, float>& scales) {
  const auto scale_of = [&](const std::string& tensor) {
    const auto it = tensor.empty() ? scales.end() : scales.find(tensor);
    return it == scales.end() ? 0.0f : it->second;
  };
  for (Node& node : graph.nodes) {
    Epilogue* epilogue = epilogue_of(node);
    if (!epilogue || node.precision != Precision::kInt8) continue;
    epilogue->rounding.after_bias = scale_of(epilogue->fused_output);
    epilogue->rounding.after_residual = scale_of(epilogue->fused_sum);
  }
}

}  // namespace

Graph build_int8_graph(const Graph& fp32_graph, const std::map<std::string, float>& scales, const BuildConfig& config,
                       BuildReport* report) {
  PrecisionPlan plan = assign_precisions(fp32_graph, scales, config);
  Graph graph = fp32_graph;
  apply_plan(graph, plan);
  if (config.explicit_quantization) set_epilogue_roundings(graph, scales);
  quantize_layer_weights(graph);
  const ReformatCounts reformats = insert_reformats(graph, plan.scales, config.explicit_quantization);
  drop_unread_constants(graph);
  infer_shapes(graph);
  if (report) {
    report->layers = std::move(plan.layers);
    report->tensors_without_scale = std::move(plan.tensors_without_scale);
    report->warnings = std::move(plan.warnings);
    report->quantize_nodes = reformats.quantize;
    report->dequantize_nodes = reformats.dequantize;
  }
  return graph;
}

}  // namespace octet
