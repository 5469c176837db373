#include "tools/octet/cli.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"

namespace octet::cli {

bool parse_command_line(const Args& args, const std::string& usage, const po::options_description& options,
                        const po::positional_options_description& positional, po::variables_map& vm) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    OCTET_CHECK(false, e.what(), " (see --help)");
  }
  return true;
}

po::options_description execution_options() {
  po::options_description d("Execution");
  d.add_options()
    ("backend", po::value<std::string>()->default_value("cpu"), "where to run: cpu | cuda")
    ("batch", po::value<int64_t>()->default_value(1), "batch size (>= 1)")
    ("threads", po::value<int>()->default_value(0), "cpu: worker threads (0 = all cores)")
    ("allow-tf32", po::bool_switch(), "cuda: let FP32 GEMMs use TF32 tensor cores (off by default)");
  return d;
}

ExecutionChoice read_execution_options(const po::variables_map& vm) {
  ExecutionChoice choice;
  choice.backend = parse_backend(vm["backend"].as<std::string>());
  choice.batch = vm["batch"].as<int64_t>();
  OCTET_CHECK(choice.batch >= 1, "--batch must be at least 1, got ", choice.batch);
  choice.options.threads = vm["threads"].as<int>();
  OCTET_CHECK(choice.options.threads >= 0, "--threads must be >= 0, got ", choice.options.threads);
  choice.options.allow_tf32 = vm["allow-tf32"].as<bool>();
  if (choice.backend == BackendKind::kCuda)
    OCTET_CHECK(cuda_available(), "--backend cuda: ", cuda_device_description());
  return choice;
}

Graph load_model_for_inference(const std::string& path, int64_t batch) {
  Graph graph = import_onnx_file(path);
  optimize_fp32(graph);
  set_batch(graph, batch);
  return graph;
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t done) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  char tail[96];
  std::snprintf(tail, sizeof tail, " %lld/%lld  %.0f images/s  ETA %.0fs", static_cast<long long>(done),
                static_cast<long long>(total_), rate, eta);
  if (terminal_) {
    const int width = 30, filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r%s [%s%s]%s", label_.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), tail);
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%%%s\n", label_.c_str(), decile * 10, tail);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (terminal_) std::fprintf(stderr, "\n");
}

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string human_count(double n) {
  const char* units[] = {"", " K", " M", " G", " T"};
  int u = 0;
  while (n >= 1000.0 && u < 4) {
    n /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f%s" : "%.0f%s", n, units[u]);
  return buf;
}

}  // namespace octet::cli
