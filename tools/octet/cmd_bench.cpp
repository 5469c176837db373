// octet bench MODEL|PLAN — a trtexec-style performance summary.
//
// Inputs are random (fixed seed, |x| in [0.1, 1), never zero, so no kernel meets an all-zero fast
// case). Warm-up: full runs until --warmup milliseconds have passed. Then full runs until both
// --iterations and --duration are satisfied; each is timed on the host clock around run(), which on
// CUDA includes the input copy to the device, the compute and the output copy back ("latency").
// CUDA also reports the GPU compute time per run: CudaExecutionContext::time_device_runs (CUDA events
// around the device work alone, as many runs as the latency loop made, optionally one CUDA graph
// launch each). Throughput is batch / median GPU compute time on CUDA and batch / median latency on
// the CPU; the summary says which. The per-layer profile (ExecutionContext::profile_nodes: per-node
// medians) is printed with --dump-profile and written with --export-profile / --export-layer-info.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "engine/file_util.h"
#include "engine/layer_info.h"
#include "octet/build_config.h"
#include "tools/octet/cli.h"
#if OCTET_HAVE_CUDA
#include "engine/cuda_backend.h"
#endif

namespace octet::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchSettings {
  double warmup_ms = 200.0;
  int64_t iterations = 10;
  double duration_s = 3.0;
  bool cuda_graph = false;
  int profile_iterations = 20;
};

struct Stats {
  int64_t count = 0;
  double min = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

// Nearest-rank percentile of sorted values (p in (0, 100]).
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

Stats summarize(std::vector<double> ms) {
  Stats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.count = static_cast<int64_t>(ms.size());
  s.min = ms.front();
  s.max = ms.back();
  s.mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  const size_t n = ms.size();
  s.median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  s.p90 = percentile(ms, 90);
  s.p95 = percentile(ms, 95);
  s.p99 = percentile(ms, 99);
  return s;
}

std::vector<Tensor> random_inputs(const LoadedGraph& loaded) {
  std::vector<Tensor> inputs;
  std::mt19937 rng(20261122);
  std::uniform_real_distribution<float> magnitude(0.1f, 1.0f);
  std::bernoulli_distribution negative(0.5);
  for (ValueId id : loaded.graph.inputs) {
    const Value& v = loaded.graph.value(id);
    OCTET_CHECK(v.type == DataType::kFloat32, loaded.kind(), " '", loaded.path, "': input '", v.name, "' is ",
                to_string(v.type), "; octet bench feeds float32 inputs");
    Tensor t(DataType::kFloat32, v.dims);
    float* x = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) x[i] = negative(rng) ? -magnitude(rng) : magnitude(rng);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Full run() calls: warm-up for settings.warmup_ms, then until both the iteration count and the
// duration are reached. Returns each timed run's host milliseconds.
std::vector<double> time_host_runs(ExecutionContext& context, const std::vector<Tensor>& inputs,
                                   const BenchSettings& settings) {
  const Clock::time_point warmup_start = Clock::now();
  do {
    context.run(inputs);
  } while (ms_since(warmup_start) < settings.warmup_ms);
  std::vector<double> ms;
  const Clock::time_point start = Clock::now();
  while (static_cast<int64_t>(ms.size()) < settings.iterations || ms_since(start) < settings.duration_s * 1000.0) {
    const Clock::time_point run_start = Clock::now();
    context.run(inputs);
    ms.push_back(ms_since(run_start));
  }
  return ms;
}

void print_stats(const char* label, const Stats& s, bool all_percentiles) {
  std::printf("%s: min = %.4f ms, mean = %.4f ms, median = %.4f ms, ", label, s.min, s.mean, s.median);
  if (all_percentiles) std::printf("percentile(90%%) = %.4f ms, percentile(95%%) = %.4f ms, ", s.p90, s.p95);
  std::printf("percentile(99%%) = %.4f ms, max = %.4f ms\n", s.p99, s.max);
}

struct LayerTime {
  size_t node = 0;
  double ms = 0.0;
};

void print_profile(const Graph& graph, const std::vector<double>& node_ms, int iterations) {
  const double total = std::accumulate(node_ms.begin(), node_ms.end(), 0.0);
  std::vector<LayerTime> order;
  for (size_t i = 0; i < node_ms.size(); ++i) order.push_back({i, node_ms[i]});
  std::stable_sort(order.begin(), order.end(), [](const LayerTime& a, const LayerTime& b) { return a.ms > b.ms; });
  size_t width = 4;
  for (const Node& n : graph.nodes) width = std::max(width, n.name.size());
  const int w = static_cast<int>(std::min<size_t>(width, 48));
  std::printf("\n=== Per-layer profile (median of %d runs per layer, slowest first) ===\n", iterations);
  std::printf("  %-*s  %-18s %10s %8s  %-9s %s\n", w, "name", "op", "time ms", "share", "precision", "tactic");
  for (const LayerTime& t : order) {
    const Node& n = graph.nodes[t.node];
    std::printf("  %-*s  %-18s %10.4f %7.2f%%  %-9s %s\n", w, n.name.c_str(), to_string(n.op), t.ms,
                total > 0 ? 100.0 * t.ms / total : 0.0, to_string(n.precision), n.tactic.empty() ? "-" : n.tactic.c_str());
  }
  std::printf("  %-*s  %-18s %10.4f %7.2f%%\n", w, "total", "", total, 100.0);
}

// trtexec --exportProfile's shape: [{"count": runs}, {"name", "timeMs", "averageMs", "medianMs",
// "percentage"}, ...] in layer order, plus octet's "op", "precision" and "tactic". octet measures a
// median per layer: averageMs and medianMs both hold it, timeMs = median * count.
void write_profile(const std::string& path, const Graph& graph, const std::vector<double>& node_ms, int iterations) {
  const double total = std::accumulate(node_ms.begin(), node_ms.end(), 0.0);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  list.push_back({{"count", iterations}});
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    list.push_back({{"name", n.name},
                    {"timeMs", node_ms[i] * iterations},
                    {"averageMs", node_ms[i]},
                    {"medianMs", node_ms[i]},
                    {"percentage", total > 0 ? 100.0 * node_ms[i] / total : 0.0},
                    {"op", to_string(n.op)},
                    {"precision", to_string(n.precision)},
                    {"tactic", n.tactic}});
  }
  write_file_atomic(path, list.dump(2) + "\n");
}

std::string precision_text(const Graph& graph) {
  int64_t int8 = 0;
  for (const Node& n : graph.nodes) int8 += n.precision == Precision::kInt8;
  if (int8 == 0) return "FP32";
  return std::to_string(int8) + " of " + std::to_string(graph.nodes.size()) + " layers INT8";
}

std::string option_or_alias(const po::variables_map& vm, const char* name, const char* alias) {
  OCTET_CHECK(!(vm.count(name) && vm.count(alias)), "give --", name, " or --", alias, ", not both");
  if (vm.count(name)) return vm[name].as<std::string>();
  if (vm.count(alias)) return vm[alias].as<std::string>();
  return "";
}

BenchSettings read_settings(const po::variables_map& vm) {
  BenchSettings s;
  s.warmup_ms = vm["warmup"].as<double>();
  s.iterations = vm["iterations"].as<int64_t>();
  s.duration_s = vm["duration"].as<double>();
  s.cuda_graph = vm["use-cuda-graph"].as<bool>() || vm["useCudaGraph"].as<bool>();
  s.profile_iterations = vm["profile-iterations"].as<int>();
  OCTET_CHECK(s.warmup_ms >= 0, "--warmup must be >= 0 ms, got ", s.warmup_ms);
  OCTET_CHECK(s.iterations >= 1, "--iterations must be >= 1, got ", s.iterations);
  OCTET_CHECK(s.duration_s >= 0, "--duration must be >= 0 s, got ", s.duration_s);
  OCTET_CHECK(s.profile_iterations >= 1, "--profile-iterations must be >= 1, got ", s.profile_iterations);
  return s;
}

}  // namespace

int command_bench(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "ONNX model file or plan (octet build)")
    ("warmup", po::value<double>()->default_value(200.0), "warm up with full runs for this many milliseconds")
    ("iterations", po::value<int64_t>()->default_value(10), "at least this many timed runs")
    ("duration", po::value<double>()->default_value(3.0), "and at least this many seconds of timed runs")
    ("use-cuda-graph", po::bool_switch(), "cuda: time the GPU compute as one CUDA graph launch per run "
                                          "(alias --useCudaGraph)")
    ("useCudaGraph", po::bool_switch(), "same as --use-cuda-graph")
    ("dump-profile", po::bool_switch(), "print the per-layer profile, slowest first (alias --dumpProfile)")
    ("dumpProfile", po::bool_switch(), "same as --dump-profile")
    ("profile-iterations", po::value<int>()->default_value(20), "runs per layer for the per-layer profile")
    ("export-profile", po::value<std::string>(), "write the per-layer profile as JSON (trtexec --exportProfile "
                                                 "style; alias --exportProfile)")
    ("exportProfile", po::value<std::string>(), "same as --export-profile")
    ("export-layer-info", po::value<std::string>(), "write the layer info JSON with each layer's time (alias "
                                                    "--exportLayerInfo)")
    ("exportLayerInfo", po::value<std::string>(), "same as --export-layer-info");
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet bench MODEL|PLAN [--backend cpu|cuda] [--batch N] [--warmup MS] [--iterations N] "
          "[--duration S]\n"
          "                   [--use-cuda-graph] [--dump-profile] [--export-profile JSON] "
          "[--export-layer-info JSON]\n\n"
          "Times full runs on random inputs (fixed seed, never zero) and prints throughput, latency "
          "(host clock around each run: on CUDA input copy + compute + output copy) min/mean/median/p90/p95/p99/"
          "max and, on CUDA, the GPU compute time per run (CUDA events). Throughput is batch / median GPU "
          "compute time on CUDA, batch / median latency on the CPU. A plan runs on its backend, at its own batch "
          "unless --batch is given.",
          options, positional, vm))
    return 0;

  const BenchSettings settings = read_settings(vm);
  const bool dump_profile = vm["dump-profile"].as<bool>() || vm["dumpProfile"].as<bool>();
  const std::string profile_path = option_or_alias(vm, "export-profile", "exportProfile");
  const std::string layer_info_path = option_or_alias(vm, "export-layer-info", "exportLayerInfo");
  ExecutionChoice exec = read_execution_options(vm);
  const std::string path = vm["model"].as<std::string>();
  const LoadedGraph loaded = load_model_or_plan(path, vm["batch"].defaulted() ? 0 : exec.batch, exec);
  if (settings.cuda_graph && exec.backend != BackendKind::kCuda)
    std::fprintf(stderr, "octet bench: note: --use-cuda-graph applies to --backend cuda\n");
  const std::vector<Tensor> inputs = random_inputs(loaded);

  std::unique_ptr<ExecutionContext> context;
  std::vector<double> gpu_ms;
  std::string device = "CPU", arch;
#if OCTET_HAVE_CUDA
  CudaExecutionContext* cuda_context = nullptr;
  if (exec.backend == BackendKind::kCuda) {
    auto created = create_cuda_context(loaded.graph, exec.options);
    cuda_context = created.get();
    context = std::move(created);
    device = cuda_describe_device(exec.options.device);
    arch = cuda_device_arch(exec.options.device);
  }
#endif
  if (!context) context = create_context(loaded.graph, exec.backend, exec.options);

  std::fprintf(stderr, "benchmarking %s '%s' on %s, batch %lld: warm-up %.0f ms, then >= %lld runs and >= %.1f s\n",
               loaded.kind(), path.c_str(), to_string(exec.backend), static_cast<long long>(exec.batch),
               settings.warmup_ms, static_cast<long long>(settings.iterations), settings.duration_s);
  const Clock::time_point wall_start = Clock::now();
  const Stats latency = summarize(time_host_runs(*context, inputs, settings));
#if OCTET_HAVE_CUDA
  if (cuda_context) {
    const std::vector<float> device_ms =
        cuda_context->time_device_runs(10, static_cast<int>(std::min<int64_t>(latency.count, 100000)),
                                       settings.cuda_graph);
    gpu_ms.assign(device_ms.begin(), device_ms.end());
  }
#endif
  const Stats gpu = summarize(gpu_ms);
  const double wall_s = ms_since(wall_start) / 1000.0;

  const double batch = static_cast<double>(exec.batch);
  std::printf("=== Performance summary ===\n");
  std::printf("%-10s %s\n", loaded.kind(), path.c_str());
  std::printf("device     %s\n", device.c_str());
  std::printf("backend    %s, batch %lld, %s\n", to_string(exec.backend), static_cast<long long>(exec.batch),
              precision_text(loaded.graph).c_str());
  if (gpu.count > 0) {
    std::printf("Throughput: %.1f images/s (batch %lld / median GPU compute time; %.1f queries/s)\n",
                batch * 1000.0 / gpu.median, static_cast<long long>(exec.batch), 1000.0 / gpu.median);
    std::printf("Host throughput: %.1f images/s (batch / median latency, copies included)\n",
                batch * 1000.0 / latency.median);
  } else {
    std::printf("Throughput: %.1f images/s (batch %lld / median latency; %.1f queries/s)\n",
                batch * 1000.0 / latency.median, static_cast<long long>(exec.batch), 1000.0 / latency.median);
  }
  const std::string latency_label = "Latency (host clock around run()" +
                                    std::string(gpu.count > 0 ? ": H2D + compute + D2H" : "") + ", " +
                                    std::to_string(latency.count) + " runs)";
  print_stats(latency_label.c_str(), latency, true);
  if (gpu.count > 0) {
    const std::string gpu_label = "GPU Compute Time (CUDA events, " + std::to_string(gpu.count) + " runs" +
                                  (settings.cuda_graph ? ", CUDA graph" : "") + ")";
    print_stats(gpu_label.c_str(), gpu, false);
  }
  std::printf("Total wall time: %.2f s\n", wall_s);

  if (dump_profile || !profile_path.empty() || !layer_info_path.empty()) {
    const std::vector<double> node_ms = context->profile_nodes(inputs, settings.profile_iterations);
    if (dump_profile) print_profile(loaded.graph, node_ms, settings.profile_iterations);
    if (!profile_path.empty()) {
      write_profile(profile_path, loaded.graph, node_ms, settings.profile_iterations);
      std::printf("profile    %s\n", profile_path.c_str());
    }
    if (!layer_info_path.empty()) {
      write_layer_info(layer_info_path, {&loaded.graph, exec.backend, arch, &node_ms});
      std::printf("layer info %s\n", layer_info_path.c_str());
    }
  }
  return 0;
}

}  // namespace octet::cli
