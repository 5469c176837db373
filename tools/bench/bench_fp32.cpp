// bench_fp32 — FP32 throughput of octet's CUDA backend on an ONNX model, the way the peers are timed.
//
//   bench_fp32 MODEL [--batch 1,32,128] [--warmup 20] [--iterations 100] [--cuda-graph] [--allow-tf32]
//              [--im2col-limit-mib N] [--conv1x1-gemm-min-pixels N]
// The last two set CudaBackendTuning (engine/cuda_backend.h), for sweeping the conv dispatch.
//
// For each batch size: import + FP32 passes, a CUDA context, a random input uploaded once, then GPU
// time per run from CUDA events around device-only runs (no host copies, as the PyTorch peer
// tools/bench/pytorch_resnet50.py times a device-resident batch). Prints one JSON line per batch:
// {"engine":"octet-fp32-cuda","batch":B,"median_ms":...,"images_per_s":...,"min_ms":...,"p90_ms":...,
//  "gmacs_per_image":...,"tflops":...} — tflops counts 2 flops per MAC of the model.
#include <algorithm>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cuda_backend.h"
#include "engine/graph_stats.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"

namespace {

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_fp32 MODEL [--batch 1,32,128] [--warmup N] [--iterations N] [--cuda-graph] "
               "[--allow-tf32] [--im2col-limit-mib N] [--conv1x1-gemm-min-pixels N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string model = argv[1];
  std::vector<int64_t> batches{1, 32, 128};
  int warmup = 20, iterations = 100;
  bool cuda_graph = false;
  octet::BackendOptions options;
  octet::CudaBackendTuning tuning;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--batch" && has_value) batches = parse_list(argv[++i]);
    else if (arg == "--warmup" && has_value) warmup = std::stoi(argv[++i]);
    else if (arg == "--iterations" && has_value) iterations = std::stoi(argv[++i]);
    else if (arg == "--cuda-graph") cuda_graph = true;
    else if (arg == "--allow-tf32") options.allow_tf32 = true;
    else if (arg == "--im2col-limit-mib" && has_value) tuning.im2col_workspace_limit_bytes = std::stoull(argv[++i]) << 20;
    else if (arg == "--conv1x1-gemm-min-pixels" && has_value) tuning.conv1x1_gemm_min_pixels = std::stoll(argv[++i]);
    else return usage();
  }
  try {
    if (!octet::cuda_device_present()) {
      std::fprintf(stderr, "bench_fp32: no CUDA device: %s\n", octet::cuda_describe_device(0).c_str());
      return 1;
    }
    std::fprintf(stderr, "device: %s\n", octet::cuda_describe_device(0).c_str());
    octet::Graph graph = octet::import_onnx_file(model);
    octet::optimize_fp32(graph);
    for (int64_t batch : batches) {
      octet::set_batch(graph, batch);
      const int64_t macs = octet::graph_stats(graph).macs;
      auto context = octet::create_cuda_context(graph, options, tuning);
      std::vector<octet::Tensor> inputs;
      std::mt19937 rng(0);
      std::normal_distribution<float> normal;
      for (octet::ValueId id : graph.inputs) {
        octet::Tensor t(octet::DataType::kFloat32, graph.value(id).dims);
        for (int64_t j = 0; j < t.numel(); ++j) t.data<float>()[j] = normal(rng);
        inputs.push_back(std::move(t));
      }
      context->upload_inputs(inputs);
      std::vector<float> ms = context->time_device_runs(warmup, iterations, cuda_graph);
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      const double p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
      std::printf(
          "{\"engine\":\"octet-fp32-cuda\",\"model\":\"%s\",\"batch\":%lld,\"cuda_graph\":%s,\"tf32\":%s,"
          "\"median_ms\":%.4f,\"min_ms\":%.4f,\"p90_ms\":%.4f,\"images_per_s\":%.1f,\"gmacs_per_image\":%.3f,"
          "\"tflops\":%.2f,\"device_memory_mib\":%.0f,\"im2col_limit_mib\":%zu,\"conv1x1_gemm_min_pixels\":%lld}\n",
          model.c_str(), static_cast<long long>(batch), cuda_graph ? "true" : "false",
          options.allow_tf32 ? "true" : "false", median, ms.front(), p90, 1000.0 * batch / median,
          macs / 1e9 / batch, 2.0 * macs / (median * 1e-3) / 1e12, context->memory_plan().total() / 1048576.0,
          tuning.im2col_workspace_limit_bytes >> 20, static_cast<long long>(tuning.conv1x1_gemm_min_pixels));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fp32: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
