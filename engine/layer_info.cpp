#include "engine/layer_info.h"

#include <numeric>

#include "engine/error.h"
#include "engine/file_util.h"
#include "octet/build_config.h"

namespace octet {
namespace {

using json = nlohmann::ordered_json;  // keys in the order written, for people reading the file

json tensor_json(const Value& v, BackendKind backend) {
  json t = {{"name", v.name}, {"dims", v.dims}, {"type", to_string(v.type)}, {"layout", value_layout(v, backend)}};
  if (v.scale) t["scale"] = *v.scale;
  return t;
}

// The activation tensors among `ids` (omitted optional inputs and constants left out).
json activations_json(const Graph& graph, const std::vector<ValueId>& ids, BackendKind backend) {
  json list = json::array();
  for (ValueId id : ids)
    if (id != kNoValue && !graph.value(id).is_constant()) list.push_back(tensor_json(graph.value(id), backend));
  return list;
}

json layer_json(const Graph& graph, const Node& node, BackendKind backend) {
  json layer = {{"name", node.name},
                {"type", to_string(node.op)},
                {"fused_ops", node.fused_nodes},
                {"precision", to_string(node.precision)},
                {"inputs", activations_json(graph, node.inputs, backend)},
                {"outputs", activations_json(graph, node.outputs, backend)},
                {"tactic", node.tactic}};
  if (is_mixed_output(graph, node)) layer["mixed_output"] = true;
  if (const Epilogue* e = epilogue_of(node); e && e->rounding.any())
    layer["epilogue_rounding"] = {{"after_bias", e->rounding.after_bias}, {"after_residual", e->rounding.after_residual}};
  return layer;
}

json bindings_json(const Graph& graph, BackendKind backend) {
  json list = json::array();
  const auto add = [&](ValueId id, const char* role) {
    json b = tensor_json(graph.value(id), backend);
    b["role"] = role;
    list.push_back(std::move(b));
  };
  for (ValueId id : graph.inputs) add(id, "input");
  for (ValueId id : graph.outputs) add(id, "output");
  return list;
}

}  // namespace

std::string value_layout(const Value& value, BackendKind backend) {
  return value.type == DataType::kInt8 && backend == BackendKind::kCuda ? "NHWC4" : "NCHW";
}

bool is_mixed_output(const Graph& graph, const Node& node) {
  return node.precision == Precision::kInt8 && !node.outputs.empty() &&
         graph.value(node.outputs[0]).type == DataType::kFloat32;
}

json layer_info_json(const LayerInfoSource& source) {
  OCTET_CHECK(source.graph, "layer_info_json: no graph");
  const Graph& graph = *source.graph;
  if (source.node_ms)
    OCTET_CHECK(source.node_ms->size() == graph.nodes.size(), "layer_info_json: ", source.node_ms->size(),
                " timings for ", graph.nodes.size(), " layers");
  const double total_ms =
      source.node_ms ? std::accumulate(source.node_ms->begin(), source.node_ms->end(), 0.0) : 0.0;

  json layers = json::array();
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    json layer = layer_json(graph, graph.nodes[i], source.backend);
    if (source.node_ms) {
      const double ms = (*source.node_ms)[i];
      layer["time_ms"] = ms;
      layer["time_share"] = total_ms > 0 ? ms / total_ms : 0.0;
    }
    layers.push_back(std::move(layer));
  }
  return {{"octet_version", OCTET_VERSION_STRING},
          {"backend", to_string(source.backend)},
          {"gpu_arch", source.gpu_arch},
          {"batch", graph.batch},
          {"bindings", bindings_json(graph, source.backend)},
          {"layers", std::move(layers)}};
}

void write_layer_info(const std::string& path, const LayerInfoSource& source) {
  write_file_atomic(path, layer_info_json(source).dump(2) + "\n");
}

}  // namespace octet
