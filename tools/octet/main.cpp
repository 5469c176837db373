// octet — INT8 post-training quantization and calibration for CNNs. The command-line entry point.
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include "engine/error.h"
#include "octet/build_config.h"
#include "tools/octet/cli.h"

namespace {

struct Command {
  int (*run)(const octet::cli::Args&);
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"info", {octet::cli::command_info, "a model (inputs, outputs, operators, MACs) or a plan (header, layers)"}},
      {"run", {octet::cli::command_run, "run a model or plan once on an input file or random data; top-5"}},
      {"compare", {octet::cli::command_compare, "two executions on the same input, every output checked with "
                                                 "atol/rtol; exit 1 on a mismatch"}},
      {"debug", {octet::cli::command_debug, "debug precision: rank INT8 layers by sensitivity, keep the fewest FP32 "
                                             "for a target"}},
      {"eval", {octet::cli::command_eval, "top-1/top-5 accuracy on a labelled dataset; --reference: agreement"}},
      {"build", {octet::cli::command_build, "build a plan: FP32, or INT8 from a calibration cache (--int8 --calib)"}},
      {"bench", {octet::cli::command_bench, "trtexec-style throughput, latency, GPU time, per-layer profile"}},
      {"calibrate", {octet::cli::command_calibrate, "activation scales from images: cache, JSON table, histograms"}},
      {"inspect", {octet::cli::command_inspect, "scale tables, caches and histograms: listing, --diff, --plot PNGs"}},
      {"export-qdq", {octet::cli::command_export_qdq, "an explicitly quantized (Q/DQ) ONNX model from a cache, for "
                                                       "TensorRT 11, ORT"}},
#if OCTET_HDF5
      {"dataset", {octet::cli::command_dataset, "dataset pack: preprocessed images and labels into an HDF5 file"}},
#endif
  };
  return table;
}

void print_usage() {
  std::printf("octet %s — INT8 post-training quantization and calibration for CNNs\n\n", OCTET_VERSION_STRING);
  std::printf("usage: octet <command> [options]      octet <command> --help\n\ncommands:\n");
  for (const auto& [name, command] : commands()) std::printf("  %-11s %s\n", name.c_str(), command.summary);
  std::printf("\nbuilt with CUDA: %s\n", OCTET_HAVE_CUDA ? "yes" : "no");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage();
    return argc < 2 ? 1 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("octet %s\n", OCTET_VERSION_STRING);
    return 0;
  }
  const auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "octet: unknown command '%s'\n\n", argv[1]);
    print_usage();
    return 2;
  }
  try {
    return it->second.run(octet::cli::Args(argv + 2, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "octet %s: error: %s\n", argv[1], e.what());
    return 1;
  }
}
