#include "quantize/qdq_fusion.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/error.h"
#include "engine/passes.h"

namespace octet {
namespace {

bool is_qdq(OpKind op) { return op == OpKind::QuantizeLinear || op == OpKind::DequantizeLinear; }

std::string describe_scale(float scale) {
  std::ostringstream text;
  text << scale;
  return text.str();
}

// scales[x] = s, or an Error when x already has another scale (`by` says which nodes).
void set_scale(std::map<std::string, float>& scales, const std::string& tensor, float scale, const std::string& by) {
  const auto [it, inserted] = scales.emplace(tensor, scale);
  OCTET_CHECK(inserted || std::memcmp(&it->second, &scale, sizeof scale) == 0, "tensor '", tensor,
              "' is quantized with scale ", describe_scale(it->second), " and, by ", by, ", with scale ",
              describe_scale(scale), "; octet keeps one scale per tensor");
}

// Replaces each Q -> DQ pair by an Identity and records the scale; the Q nodes go once all their DQ
// readers are gone. Returns, per value id of a DQ output, the names of its pair (for the readers).
std::map<ValueId, std::vector<std::string>> replace_pairs(Graph& graph, std::map<std::string, float>& scales,
                                                          QdqFusionReport* report) {
  std::vector<int> producer(graph.values.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (ValueId out : graph.nodes[i].outputs) producer[static_cast<size_t>(out)] = static_cast<int>(i);
  for (const Node& node : graph.nodes) {
    if (node.op != OpKind::QuantizeLinear) continue;
    const ValueId q = node.outputs.at(0);
    OCTET_CHECK(!is_graph_output(graph, q), "QuantizeLinear '", node.name, "' writes the graph output '",
                graph.value(q).name, "' as int8; octet's graph outputs are float32");
    for (const Node& reader : graph.nodes)
      for (ValueId in : reader.inputs)
        OCTET_CHECK(in != q || reader.op == OpKind::DequantizeLinear, "QuantizeLinear '", node.name, "' is read by ",
                    to_string(reader.op), " '", reader.name, "'; octet needs a DequantizeLinear after it");
  }
  std::map<ValueId, std::vector<std::string>> pair_of_output;
  std::vector<bool> drop(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    Node& dq = graph.nodes[i];
    if (dq.op != OpKind::DequantizeLinear) continue;
    const int from = producer[static_cast<size_t>(dq.inputs.at(0))];
    OCTET_CHECK(from >= 0 && graph.nodes[static_cast<size_t>(from)].op == OpKind::QuantizeLinear,
                "DequantizeLinear '", dq.name, "' reads '", graph.value(dq.inputs[0]).name,
                "', which no QuantizeLinear produced");
    const Node& q = graph.nodes[static_cast<size_t>(from)];
    const ValueId x = q.inputs.at(0);
    const float scale = *graph.value(q.outputs[0]).scale;
    set_scale(scales, graph.value(x).name, scale, "QuantizeLinear '" + q.name + "'");
    // A graph output y keeps its name: remove_identities has x's producer write y instead of x.
    if (is_graph_output(graph, dq.outputs[0]))
      set_scale(scales, graph.value(dq.outputs[0]).name, scale, "QuantizeLinear '" + q.name + "'");
    if (report)
      report->fused.push_back("tensor '" + graph.value(x).name + "': QuantizeLinear '" + q.name +
                              "' + DequantizeLinear '" + dq.name + "' (scale " + describe_scale(scale) + ")");
    pair_of_output[dq.outputs[0]] = {q.name, dq.name};
    dq.op = OpKind::Identity;  // x -> y, rewired by remove_identities
    dq.inputs = {x};
    dq.attrs = std::monostate{};
    drop[static_cast<size_t>(from)] = true;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
  return pair_of_output;
}

// The readers of each removed pair list its Q and DQ as fused into them.
void credit_readers(Graph& graph, const std::map<ValueId, std::vector<std::string>>& pair_of_output) {
  for (Node& node : graph.nodes)
    for (ValueId in : node.inputs) {
      const auto it = pair_of_output.find(in);
      if (it == pair_of_output.end()) continue;
      for (const std::string& name : it->second)
        if (std::find(node.fused_nodes.begin(), node.fused_nodes.end(), name) == node.fused_nodes.end())
          node.fused_nodes.push_back(name);
    }
}

bool commutes_forward(OpKind op) { return op == OpKind::Relu || op == OpKind::MaxPool || op == OpKind::Reshape; }
bool commutes_backward(OpKind op) { return op == OpKind::MaxPool; }

void propagate_scales(const Graph& graph, std::map<std::string, float>& scales, QdqFusionReport* report) {
  const std::vector<int> readers = count_uses(graph);
  const auto note = [&](const std::string& to, const std::string& from, const Node& node) {
    if (report)
      report->propagated.push_back("tensor '" + to + "': scale of '" + from + "' across " + to_string(node.op) + " '" +
                                   node.name + "'");
  };
  // Forward in topological order (a chain Relu -> MaxPool -> Reshape passes the scale along), then
  // backward in reverse order.
  for (const Node& node : graph.nodes) {
    if (!commutes_forward(node.op) || node.inputs.empty() || node.outputs.size() != 1) continue;
    const std::string& in = graph.value(node.inputs[0]).name;
    const std::string& out = graph.value(node.outputs[0]).name;
    const auto it = scales.find(in);
    if (it == scales.end() || scales.count(out)) continue;
    scales[out] = it->second;
    note(out, in, node);
  }
  for (auto n = graph.nodes.rbegin(); n != graph.nodes.rend(); ++n) {
    const Node& node = *n;
    const bool concat = node.op == OpKind::Concat;
    if ((!concat && !commutes_backward(node.op)) || node.outputs.size() != 1) continue;
    const std::string& out = graph.value(node.outputs[0]).name;
    const auto it = scales.find(out);
    if (it == scales.end()) continue;
    for (ValueId in : concat ? node.inputs : std::vector<ValueId>{node.inputs.at(0)}) {
      const Value& v = graph.value(in);
      if (v.is_constant() || scales.count(v.name) || readers[static_cast<size_t>(in)] != 1) continue;
      scales[v.name] = it->second;
      note(v.name, out, node);
    }
  }
}

}  // namespace

bool has_qdq(const Graph& graph) {
  for (const Node& node : graph.nodes)
    if (is_qdq(node.op)) return true;
  for (const Value& value : graph.values)
    if (value.quantized) return true;
  return false;
}

std::map<std::string, float> fuse_qdq(Graph& graph, QdqFusionReport* report) {
  std::map<std::string, float> scales;
  const auto pair_of_output = replace_pairs(graph, scales, report);
  credit_readers(graph, pair_of_output);
  remove_identities(graph);
  propagate_scales(graph, scales, report);
  return scales;
}

}  // namespace octet
