// Pieces shared by the `octet` subcommands: argument parsing, model loading, progress output.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "datasets/batch_source.h"
#include "engine/backend.h"
#include "engine/graph.h"
#include "engine/plan.h"

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
int command_build(const Args& args);
int command_bench(const Args& args);
int command_export_qdq(const Args& args);
int command_compare(const Args& args);
int command_debug(const Args& args);

// Parses `args` against `options` (+ positional names); prints `usage` and the options on --help
// (returns false: the caller exits 0). Unknown or malformed options throw Error.
bool parse_command_line(const Args& args, const std::string& usage, const po::options_description& options,
                        const po::positional_options_description& positional, po::variables_map& vm);

// The options every command that executes a model shares: --backend, --batch, --threads,
// --allow-tf32.
po::options_description execution_options();
struct ExecutionChoice {
  BackendKind backend = BackendKind::kCpu;
  bool backend_given = false;  // --backend was on the command line (not its default)
  BackendOptions options;
  int64_t batch = 1;
  std::map<std::string, Dims> shapes;  // --shapes
};
// Reads the execution options; --batch must be >= 1, the backend must exist in this build.
ExecutionChoice read_execution_options(const po::variables_map& vm);

// The options that say where samples come from and how they are preprocessed: --data, --preset,
// --resize, --center-crop, --channel-order, --scale, --mean, --std, --skip-bad, --decode-threads,
// --hdf5-images, --hdf5-labels.
po::options_description data_options();
// Preprocessing starts from `model`'s metadata (when a model is given and has one), else from
// --preset, else identity; each flag given then overrides its field. With a model, the sample size
// it takes ([C, H, W] of its input; of an NHWC image input [N, H, W, C], engine/input_layout.h, the
// same [C, H, W]) is required of the data.
SourceOptions read_data_options(const po::variables_map& vm, const Graph* model, const std::string& model_path);
// Makes `graph` take samples of `sample` dims: nothing changes, unless its input is an NHWC image
// whose NCHW form the samples are; then the input is fed through a Transpose (engine/input_layout.h).
void feed_samples(Graph& graph, const Dims& sample);

// --shapes (trtexec's spelling: name:1x3x640x640[,name2:...]): dynamic input dims fixed at import.
po::options_description shape_options();
std::map<std::string, Dims> read_shape_options(const po::variables_map& vm);

// Imports an ONNX model at `batch` with `shapes` fixed (engine/onnx_import.h ImportOptions: shape
// sub-graphs fold for exactly those dims) and applies the FP32 optimisation passes.
Graph load_model_for_inference(const std::string& path, int64_t batch, const std::map<std::string, Dims>& shapes);

// What a command runs: an ONNX model (imported, FP32 passes applied) or a plan (`octet build`).
struct LoadedGraph {
  std::string path;
  Graph graph;               // shapes at the batch asked for
  std::optional<Plan> plan;  // set for a plan: its header (its graph moved into `graph`)
  bool is_plan() const { return plan.has_value(); }
  const char* kind() const { return plan ? "plan" : "model"; }
};
// The one place commands load what they run. `path` is a plan when it starts with the plan magic
// (is_plan_file), else an ONNX model. A plan fixes the backend: --backend, when given, must agree
// (exec.backend is set from the plan); a CUDA plan needs a build with CUDA and a device of the
// plan's architecture (check_plan_device). The graph is shaped with set_batch for `batch`; 0 keeps
// a plan's own batch (1 for a model). exec.batch is set to the batch used.
LoadedGraph load_model_or_plan(const std::string& path, int64_t batch, ExecutionChoice& exec);

// Scales for an INT8 build or a Q/DQ export (--calib): a JSON table (octet calibrate --table; by the
// extension .json or a first character '{') or else a TensorRT calibration cache.
struct Scales {
  std::map<std::string, float> by_tensor;
  std::string format;  // "TensorRT cache" | "JSON table"
};
// Name -> scale from the cache or table; Error when it names tensors the model does not have (a cache
// of another model), listing them with the model's nearest names. `imported` is the model as imported,
// before the FP32 passes: caches from other tools may scale tensors those passes fold away.
Scales read_scales(const std::string& path, const std::string& model_path, const Graph& imported);

// Fails before any work when an output file cannot be written: its folder is missing or it names a folder.
void check_output_path(const std::string& option, const std::string& path);

// Progress on stderr: a redrawn bar on a terminal, a plain line every ~10% otherwise.
class Progress {
 public:
  // `unit`: what `total` counts, for the rate ("12 images/s").
  Progress(std::string label, int64_t total, std::string unit = "images");
  void update(int64_t done);
  void finish();

 private:
  std::string label_;
  std::string unit_;
  int64_t total_;
  bool terminal_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// A --layer-precisions / --layer-output-types value: as given, or, written @FILE, the rules in FILE
// (one or more per line, comma separated; blank lines and lines starting with # ignored), joined with
// commas. octet debug precision --save-rules writes such files.
std::string rules_argument(const std::string& option, const std::string& value);

// `batch`'s samples at the start of `padded` (the context's input, sized for its batch), the rest
// zeros: a short last batch runs at the context's size and its padding rows are ignored by the caller.
void fill_padded(Tensor& padded, const Batch& batch);

// The class with the largest score among `classes`, the lowest index among equal ones.
int64_t top1_class(const float* scores, int64_t classes);

// A float32 tensor of `dims` drawn from N(0, 1) with `seed` (octet run / compare --random).
Tensor random_input(const Dims& dims, uint32_t seed);

// "12,345,678"
std::string with_thousands(int64_t n);
// "4.09 G", "512.0 K"
std::string human_count(double n);

}  // namespace octet::cli
