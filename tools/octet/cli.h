// Pieces shared by the `octet` subcommands: argument parsing, model loading, progress output.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/batch_source.h"
#include "engine/backend.h"
#include "engine/graph.h"

namespace octet::cli {

namespace po = boost::program_options;

using Args = std::vector<std::string>;

// Subcommands: each takes the arguments after its name and returns the process exit code.
int command_info(const Args& args);
int command_run(const Args& args);
int command_eval(const Args& args);
int command_dataset(const Args& args);
int command_calibrate(const Args& args);
int command_inspect(const Args& args);

// Parses `args` against `options` (+ positional names); prints `usage` and the options on --help
// (returns false: the caller exits 0). Unknown or malformed options throw Error.
bool parse_command_line(const Args& args, const std::string& usage, const po::options_description& options,
                        const po::positional_options_description& positional, po::variables_map& vm);

// The options every command that executes a model shares: --backend, --batch, --threads,
// --allow-tf32.
po::options_description execution_options();
struct ExecutionChoice {
  BackendKind backend = BackendKind::kCpu;
  BackendOptions options;
  int64_t batch = 1;
};
// Reads the execution options; --batch must be >= 1, the backend must exist in this build.
ExecutionChoice read_execution_options(const po::variables_map& vm);

// The options that say where samples come from and how they are preprocessed: --data, --preset,
// --resize, --center-crop, --channel-order, --scale, --mean, --std, --skip-bad, --decode-threads,
// --hdf5-images, --hdf5-labels.
po::options_description data_options();
// Preprocessing starts from `model`'s metadata (when a model is given and has one), else from
// --preset, else identity; each flag given then overrides its field. With a model, the sample size
// it takes ([C, H, W] of its input) is required of the data.
SourceOptions read_data_options(const po::variables_map& vm, const Graph* model, const std::string& model_path);

// Imports an ONNX model and applies the FP32 optimisation passes, shapes inferred at `batch`.
Graph load_model_for_inference(const std::string& path, int64_t batch);

// Progress on stderr: a redrawn bar on a terminal, a plain line every ~10% otherwise.
class Progress {
 public:
  Progress(std::string label, int64_t total);
  void update(int64_t done);
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool terminal_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// "12,345,678"
std::string with_thousands(int64_t n);
// "4.09 G", "512.0 K"
std::string human_count(double n);

}  // namespace octet::cli
