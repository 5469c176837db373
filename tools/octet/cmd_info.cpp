// octet info MODEL|PLAN — what a model is: inputs, outputs, operators, parameters, MACs per sample;
// for a plan, what it was built for (header) and each layer's precision, types and tactic.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "engine/graph_stats.h"
#include "engine/layer_info.h"
#include "engine/onnx_import.h"
#include "engine/plan.h"
#include "tools/octet/cli.h"

namespace octet::cli {
namespace {

void print_tensor_line(const Graph& graph, ValueId id, bool batched) {
  const Value& v = graph.value(id);
  std::string dims = "[";
  for (size_t i = 0; i < v.dims.size(); ++i)
    dims += (i ? ", " : "") + ((i == 0 && batched) ? std::string("N") : std::to_string(v.dims[i]));
  dims += "]";
  std::printf("  %-24s %-8s %s\n", v.name.c_str(), to_string(v.type), dims.c_str());
}

// The type a layer reads: its first activation input's ("-" when it has none).
std::string input_type(const Graph& graph, const Node& node) {
  for (ValueId id : node.inputs)
    if (id != kNoValue && !graph.value(id).is_constant()) return to_string(graph.value(id).type);
  return "-";
}

void print_layer_table(const Graph& graph) {
  size_t name_width = 4;
  for (const Node& node : graph.nodes) name_width = std::max(name_width, node.name.size());
  name_width = std::min<size_t>(name_width, 48);
  const int w = static_cast<int>(name_width);
  std::printf("layers       %zu\n", graph.nodes.size());
  std::printf("  %-*s  %-18s %-9s %-8s %-8s %s\n", w, "name", "op", "precision", "in", "out", "tactic");
  for (const Node& node : graph.nodes) {
    const std::string out = node.outputs.empty() ? "-" : to_string(graph.value(node.outputs[0]).type);
    std::string tactic = node.tactic.empty() ? "-" : node.tactic;
    if (is_mixed_output(graph, node)) tactic += "  (int8 in, fp32 out)";
    std::printf("  %-*s  %-18s %-9s %-8s %-8s %s\n", w, node.name.c_str(), to_string(node.op),
                to_string(node.precision), input_type(graph, node).c_str(), out.c_str(), tactic.c_str());
  }
}

void print_plan(const std::string& path) {
  const Plan plan = load_plan(path);
  const Graph& graph = plan.graph;
  int64_t int8_layers = 0, reformats = 0;
  for (const Node& node : graph.nodes) {
    int8_layers += node.precision == Precision::kInt8;
    reformats += node.op == OpKind::QuantizeLinear || node.op == OpKind::DequantizeLinear;
  }
  std::printf("plan         %s\n", path.c_str());
  std::printf("format       version %u, written by octet %s\n", kPlanFormatVersion, plan.octet_version.c_str());
  std::printf("backend      %s\n", to_string(plan.backend));
  if (plan.backend == BackendKind::kCuda)
    std::printf("gpu          %s (%s)\n", plan.gpu_arch.c_str(), plan.gpu_name.c_str());
  std::printf("built with   %s\n", plan.build_settings.empty() ? "(not recorded)" : plan.build_settings.c_str());
  std::printf("batch        %lld\n", static_cast<long long>(graph.batch));
  std::printf("inputs\n");
  for (ValueId id : graph.inputs) print_tensor_line(graph, id, false);  // a plan's dims are at its batch
  std::printf("outputs\n");
  for (ValueId id : graph.outputs) print_tensor_line(graph, id, false);
  std::printf("precision    %lld INT8 layers, %lld reformats (Quantize/DequantizeLinear), %lld other FP32 layers\n",
              static_cast<long long>(int8_layers), static_cast<long long>(reformats),
              static_cast<long long>(static_cast<int64_t>(graph.nodes.size()) - int8_layers - reformats));
  print_layer_table(graph);
}

}  // namespace

int command_info(const Args& args) {
  po::options_description options("Options");
  options.add_options()("model", po::value<std::string>()->required(), "ONNX model file or plan (octet build)");
  options.add(shape_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(args, "usage: octet info MODEL|PLAN\n\nPrints a model's inputs and outputs, operator "
                                "counts, parameters and MACs per sample; for a plan, its header (format and octet "
                                "version, backend, GPU architecture, build settings) and a table of its layers "
                                "(name, op, precision, input/output type, tactic).",
                          options, positional, vm))
    return 0;

  const std::string path = vm["model"].as<std::string>();
  if (is_plan_file(path)) {
    print_plan(path);
    return 0;
  }
  ImportOptions import_options;  // shapes at batch 1 = per sample, unless --shapes says otherwise
  import_options.input_shapes = read_shape_options(vm);
  const Graph graph = import_onnx_file(path, import_options);
  const GraphStats stats = graph_stats(graph);
  const bool batched_model = !graph.input_batched.empty() && graph.input_batched.front();

  std::printf("model        %s\n", path.c_str());
  std::printf("producer     %s, opset %lld\n", graph.producer.empty() ? "(unknown)" : graph.producer.c_str(),
              static_cast<long long>(graph.opset));
  std::printf("inputs\n");
  for (size_t i = 0; i < graph.inputs.size(); ++i) print_tensor_line(graph, graph.inputs[i], graph.input_batched[i]);
  std::printf("outputs\n");
  for (ValueId id : graph.outputs) print_tensor_line(graph, id, batched_model);
  std::printf("operators    %zu nodes\n", graph.nodes.size());
  for (const auto& [op, count] : stats.op_counts) std::printf("  %-24s %lld\n", op.c_str(), static_cast<long long>(count));
  std::printf("parameters   %s (%s bytes of constants)\n", with_thousands(stats.parameters).c_str(),
              with_thousands(stats.parameter_bytes).c_str());
  std::printf("MACs/sample  %s (%sMAC)\n", with_thousands(stats.macs).c_str(),
              human_count(static_cast<double>(stats.macs)).c_str());
  for (const auto& [key, value] : graph.metadata) std::printf("metadata     %s = %s\n", key.c_str(), value.c_str());
  return 0;
}

}  // namespace octet::cli
