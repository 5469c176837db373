// octet run MODEL|PLAN (--input FILE | --random) — one forward pass, top-5 per sample.
#include <algorithm>
#include <cstdio>
#include <numeric>

#include "engine/tensor_io.h"
#include "tools/octet/cli.h"

namespace octet::cli {
namespace {

// Top-k of each row of a [N, classes...] output, flattened per sample.
void print_topk(const Tensor& output, const std::string& name, int k) {
  OCTET_CHECK(output.type() == DataType::kFloat32, "output '", name, "' is ", to_string(output.type()));
  const int64_t n = output.rank() > 0 ? output.dims()[0] : 1;
  const int64_t per = n > 0 ? output.numel() / n : 0;
  const float* y = output.data<float>();
  std::printf("output '%s' %s\n", name.c_str(), to_string(output.dims()).c_str());
  std::vector<int64_t> order(static_cast<size_t>(per));
  for (int64_t s = 0; s < n; ++s) {
    std::iota(order.begin(), order.end(), 0);
    const float* row = y + s * per;
    const auto kk = std::min<int64_t>(k, per);
    std::partial_sort(order.begin(), order.begin() + kk, order.end(),
                      [&](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    std::printf("  sample %lld:", static_cast<long long>(s));
    for (int64_t i = 0; i < kk; ++i) std::printf("  %lld (%.4f)", static_cast<long long>(order[i]), row[order[i]]);
    std::printf("\n");
  }
}

}  // namespace

int command_run(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "ONNX model file or plan (octet build)")
    ("input", po::value<std::string>(), "input tensor file (.npy or .pb TensorProto); its dim 0 is the batch")
    ("random", po::bool_switch(), "use a random normal input of the model's shape instead of --input")
    ("seed", po::value<uint32_t>()->default_value(0), "seed for --random")
    ("output", po::value<std::string>(), "write the first output to this file (.npy or .pb)")
    ("topk", po::value<int>()->default_value(5), "classes to print per sample");
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(args,
                          "usage: octet run MODEL|PLAN (--input FILE | --random) [--batch N] [--backend cpu|cuda] "
                          "[--output FILE]\n\nRuns the model (FP32) or the plan (as built: INT8 layers in INT8) "
                          "once and prints the top-k classes per sample. A plan runs on the backend it was built "
                          "for, at its own batch unless --batch or --input says otherwise.",
                          options, positional, vm))
    return 0;

  const bool random = vm["random"].as<bool>();
  OCTET_CHECK(random != (vm.count("input") > 0), "give exactly one of --input FILE or --random");
  ExecutionChoice exec = read_execution_options(vm);
  const std::string model_path = vm["model"].as<std::string>();

  Tensor input;
  if (!random) {
    input = read_tensor_file(vm["input"].as<std::string>());
    OCTET_CHECK(input.type() == DataType::kFloat32, "input '", vm["input"].as<std::string>(), "' holds ",
                to_string(input.type()), ", the model takes float32");
    OCTET_CHECK(input.rank() >= 1, "input '", vm["input"].as<std::string>(), "' is a scalar");
    if (!vm["batch"].defaulted())
      OCTET_CHECK(exec.batch == input.dims()[0], "--batch ", exec.batch, " differs from the batch of '",
                  vm["input"].as<std::string>(), "' (", input.dims()[0], ")");
    exec.batch = input.dims()[0];
  }
  const int64_t batch = random && vm["batch"].defaulted() ? 0 : exec.batch;  // 0: a plan's own batch
  const LoadedGraph loaded = load_model_or_plan(model_path, batch, exec);
  const Graph& graph = loaded.graph;
  OCTET_CHECK(graph.inputs.size() == 1, "'", model_path, "' has ", graph.inputs.size(),
              " inputs; octet run feeds single-input models");
  const Value& in_value = graph.value(graph.inputs[0]);
  if (random) input = random_input(in_value.dims, vm["seed"].as<uint32_t>());
  OCTET_CHECK(input.dims() == in_value.dims, "input '", vm["input"].as<std::string>(), "' has dims ",
              to_string(input.dims()), ", model input '", in_value.name, "' needs ", to_string(in_value.dims));

  auto context = create_context(graph, exec.backend, exec.options);
  const std::vector<Tensor> outputs = context->run({input});
  std::printf("ran %s '%s' on %s, batch %lld\n", loaded.kind(), model_path.c_str(), to_string(exec.backend),
              static_cast<long long>(exec.batch));
  for (size_t i = 0; i < outputs.size(); ++i)
    print_topk(outputs[i], graph.value(graph.outputs[i]).name, vm["topk"].as<int>());
  if (vm.count("output")) {
    const std::string out_path = vm["output"].as<std::string>();
    write_tensor_file(out_path, outputs.at(0), graph.value(graph.outputs[0]).name);
    std::printf("wrote '%s'\n", out_path.c_str());
  }
  return 0;
}

}  // namespace octet::cli
