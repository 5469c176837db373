// octet info MODEL — what a model is: inputs, outputs, operators, parameters, MACs per sample.
#include <cstdio>
#include <iostream>

#include "engine/graph_stats.h"
#include "engine/onnx_import.h"
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

}  // namespace

int command_info(const Args& args) {
  po::options_description options("Options");
  options.add_options()("model", po::value<std::string>()->required(), "ONNX model file");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(args, "usage: octet info MODEL\n\nPrints a model's inputs and outputs, operator "
                                "counts, parameters and MACs per sample.",
                          options, positional, vm))
    return 0;

  const std::string path = vm["model"].as<std::string>();
  const Graph graph = import_onnx_file(path);  // shapes at batch 1 = per sample
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
