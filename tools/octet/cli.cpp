#include "tools/octet/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "calibration/calibration_io.h"
#include "engine/input_layout.h"
#include "engine/onnx_import.h"
#include "engine/plan.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "engine/cuda_backend.h"
#endif

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
    ("allow-tf32", po::bool_switch(), "cuda: let FP32 GEMMs use TF32 tensor cores (off by default)")
    ("reproducible", po::bool_switch(),
     "the same output bits on cpu and cuda and at any --batch: FP32 convolutions, Gemm and MatMul sum every "
     "output in one fixed order instead of OpenBLAS's/cuBLAS's (slower); every other kernel always does");
  d.add(shape_options());
  return d;
}

po::options_description shape_options() {
  po::options_description d("Shapes");
  d.add_options()("shapes", po::value<std::string>(),
                  "fix input dims: name:1x3x640x640[,name2:...] (trtexec's spelling); needed for inputs with dynamic "
                  "height/width, optional for the batch (--batch sets it)");
  return d;
}

std::map<std::string, Dims> read_shape_options(const po::variables_map& vm) {
  return vm.count("shapes") ? parse_input_shapes(vm["shapes"].as<std::string>()) : std::map<std::string, Dims>{};
}

ExecutionChoice read_execution_options(const po::variables_map& vm) {
  ExecutionChoice choice;
  choice.backend = parse_backend(vm["backend"].as<std::string>());
  choice.backend_given = !vm["backend"].defaulted();
  choice.batch = vm["batch"].as<int64_t>();
  OCTET_CHECK(choice.batch >= 1, "--batch must be at least 1, got ", choice.batch);
  choice.shapes = read_shape_options(vm);
  // --shapes gives the batch as trtexec's does, unless --batch says it; both must then agree.
  for (const auto& [name, dims] : choice.shapes) {
    if (dims.empty()) continue;
    if (vm["batch"].defaulted() && choice.batch == 1) choice.batch = dims[0];
    OCTET_CHECK(dims[0] == choice.batch || dims[0] == 1, "--shapes gives '", name, "' a batch of ", dims[0],
                " but --batch is ", choice.batch);
  }
  choice.options.threads = vm["threads"].as<int>();
  OCTET_CHECK(choice.options.threads >= 0, "--threads must be >= 0, got ", choice.options.threads);
  choice.options.allow_tf32 = vm["allow-tf32"].as<bool>();
  choice.options.reproducible = vm["reproducible"].as<bool>();
  OCTET_CHECK(!(choice.options.reproducible && choice.options.allow_tf32),
              "--reproducible and --allow-tf32 exclude each other (TF32 rounds the GEMM inputs)");
  if (choice.backend == BackendKind::kCuda)
    OCTET_CHECK(cuda_available(), "--backend cuda: ", cuda_device_description());
  return choice;
}

Graph load_model_for_inference(const std::string& path, int64_t batch, const std::map<std::string, Dims>& shapes) {
  ImportOptions options;
  options.batch = batch;
  options.input_shapes = shapes;
  Graph graph = import_onnx_file(path, options);
  optimize_fp32(graph);
  set_batch(graph, batch);
  return graph;
}

namespace {

// A JSON table (octet calibrate --table) by extension or first character; a TensorRT cache otherwise.
bool is_json_table(const std::string& path) {
  if (std::filesystem::path(path).extension() == ".json") return true;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  int c = 0;
  while ((c = std::fgetc(f)) != EOF && std::isspace(c)) {
  }
  std::fclose(f);
  return c == '{';
}

}  // namespace

Scales read_scales(const std::string& path, const std::string& model_path, const Graph& imported) {
  Scales scales;
  if (is_json_table(path)) {
    scales.format = "JSON table";
    for (const TensorScale& t : read_json_table(path).tensors) scales.by_tensor[t.name] = t.scale;
  } else {
    scales.format = "TensorRT cache";
    scales.by_tensor = read_trt_cache(path);
  }
  // Any activation of the model as imported (BatchNormalization outputs folded later included):
  // caches from other tools may scale more tensors than octet calibrates.
  std::vector<std::string> model_tensors;
  for (const Value& v : imported.values)
    if (!v.is_constant()) model_tensors.push_back(v.name);
  try {
    require_known_tensors(path, scales.by_tensor, model_tensors);
  } catch (const Error& e) {
    size_t known = 0;
    for (const std::string& name : model_tensors) known += scales.by_tensor.count(name);
    const std::string names = std::to_string(scales.by_tensor.size()) + " tensor names";
    throw Error("model '" + model_path + "' (a cache for another model? " +
                (known == 0 ? "none of its " + names + " is" : "only " + std::to_string(known) + " of its " + names + " are") +
                " in the model): " + e.what());
  }
  return scales;
}

void check_output_path(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  OCTET_CHECK(!path.empty(), option, " needs a file name");
  OCTET_CHECK(!fs::is_directory(path, ec), option, " '", path, "' is a folder, not a file");
  const fs::path parent = fs::path(path).parent_path();
  OCTET_CHECK(parent.empty() || fs::is_directory(parent, ec), option, " '", path, "': folder '", parent.string(),
              "' does not exist");
}

namespace {

// A CUDA plan runs only where this build has CUDA and a device of the plan's architecture is present.
void check_cuda_plan_runs_here(const Plan& plan, const std::string& path, const BackendOptions& options) {
  OCTET_CHECK(cuda_available(), "'", path, "' is a CUDA plan (", plan.gpu_arch, ", ", plan.gpu_name,
              ") and cannot run here: ", cuda_device_description());
#if OCTET_HAVE_CUDA
  check_plan_device(plan, path, cuda_device_arch(options.device));
#endif
}

}  // namespace

LoadedGraph load_model_or_plan(const std::string& path, int64_t batch, ExecutionChoice& exec) {
  LoadedGraph loaded;
  loaded.path = path;
  if (!is_plan_file(path)) {
    exec.batch = batch > 0 ? batch : 1;
    loaded.graph = load_model_for_inference(path, exec.batch, exec.shapes);
    return loaded;
  }
  loaded.plan = load_plan(path);
  Plan& plan = *loaded.plan;
  OCTET_CHECK(!exec.backend_given || exec.backend == plan.backend, "'", path, "' is a plan built for --backend ",
              to_string(plan.backend), ", not ", to_string(exec.backend),
              " (leave --backend out, or build a plan for that backend)");
  exec.backend = plan.backend;
  if (plan.backend == BackendKind::kCuda) check_cuda_plan_runs_here(plan, path, exec.options);
  loaded.graph = std::move(plan.graph);
  plan.graph = Graph();
  exec.batch = batch > 0 ? batch : loaded.graph.batch;
  if (exec.batch != loaded.graph.batch) {
    try {
      set_batch(loaded.graph, exec.batch);
    } catch (const Error& e) {
      throw Error("plan '" + path + "' at batch " + std::to_string(exec.batch) + ": " + e.what());
    }
  }
  return loaded;
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t done) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  char tail[128];
  std::snprintf(tail, sizeof tail, " %lld/%lld  %.*f %s/s  ETA %.0fs", static_cast<long long>(done),
                static_cast<long long>(total_), rate < 10 ? 1 : 0, rate, unit_.c_str(), eta);
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

namespace octet::cli {
namespace {

// "256" -> {256, 0}; "224x192" -> {224, 192} (width x height)
std::pair<int64_t, int64_t> parse_size(const std::string& text, const char* option) {
  try {
    const size_t x = text.find_first_of("xX");
    if (x == std::string::npos) return {std::stoll(text), 0};
    return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
  } catch (const std::exception&) {
    OCTET_CHECK(false, option, " '", text, "' is not a size (N or WxH)");
  }
  return {0, 0};
}

// "1/255" or "0.00392"
float parse_fraction(const std::string& text, const char* option) {
  try {
    const size_t slash = text.find('/');
    if (slash == std::string::npos) return std::stof(text);
    return static_cast<float>(std::stod(text.substr(0, slash)) / std::stod(text.substr(slash + 1)));
  } catch (const std::exception&) {
    OCTET_CHECK(false, option, " '", text, "' is not a number (e.g. 0.0039 or 1/255)");
  }
  return 0.0f;
}

// "0.485,0.456,0.406"
std::vector<float> parse_floats(const std::string& text, const char* option) {
  std::vector<float> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(parse_fraction(item, option));
  OCTET_CHECK(!values.empty(), option, " needs at least one value");
  return values;
}

}  // namespace

po::options_description data_options() {
  po::options_description d("Data and preprocessing (applied in this order: decode, channel order, resize, crop, "
                            "*scale, (x-mean)/std, NCHW)");
  d.add_options()
    ("data", po::value<std::string>(), "image folder (class subfolders give labels), image list (.txt/.lst: "
                                       "'path [label]' per line), IDX images (*-idx3-ubyte[.gz]) or HDF5 (.h5)")
    ("preset", po::value<std::string>(), "preprocessing preset: imagenet | fashion-mnist (a model's own "
                                         "metadata is used by default)")
    ("resize", po::value<std::string>(), "resize the shorter side to N, or to exactly WxH (bilinear)")
    ("center-crop", po::value<std::string>(), "center crop to N (square) or WxH")
    ("channel-order", po::value<std::string>(), "gray | rgb | bgr")
    ("scale", po::value<std::string>(), "multiply pixels by this (e.g. 1/255)")
    ("mean", po::value<std::string>(), "subtract per channel, comma separated (one value for all)")
    ("std", po::value<std::string>(), "divide per channel, comma separated (one value for all)")
    ("skip-bad", po::bool_switch(), "skip unreadable images with a warning and count them, instead of failing")
    ("decode-threads", po::value<int>()->default_value(0), "image decoding threads (0 = all cores)")
    ("hdf5-images", po::value<std::string>()->default_value("images"), "HDF5 dataset holding the images")
    ("hdf5-labels", po::value<std::string>()->default_value("labels"), "HDF5 dataset holding the labels (optional)");
  return d;
}

void feed_samples(Graph& graph, const Dims& sample) {
  if (graph.inputs.empty()) return;
  const Dims& in = graph.value(graph.inputs[0]).dims;
  const bool fits = in.size() == sample.size() + 1 && std::equal(sample.begin(), sample.end(), in.begin() + 1);
  if (!fits && is_nhwc_image_input(in) && sample == Dims{in[3], in[1], in[2]}) feed_input_as_nchw(graph);
}

SourceOptions read_data_options(const po::variables_map& vm, const Graph* model, const std::string& model_path) {
  SourceOptions options;
  Preprocessing& p = options.preprocessing;
  const bool model_has_preprocessing = model && model->metadata.count(kPreprocessingMetadataKey);
  if (vm.count("preset")) p = preprocessing_preset(vm["preset"].as<std::string>());
  else if (model_has_preprocessing) p = preprocessing_from_metadata(*model, model_path);
  if (model && !model->inputs.empty()) {
    // The model fixes the sample size; preprocessing must produce exactly that.
    const Dims& in = model->value(model->inputs[0]).dims;
    if (in.size() == 4) {
      const bool nhwc = is_nhwc_image_input(in);
      p.channels = nhwc ? in[3] : in[1];
      p.height = nhwc ? in[1] : in[2];
      p.width = nhwc ? in[2] : in[3];
      if (!vm.count("channel-order") && !model_has_preprocessing && !vm.count("preset"))
        p.channel_order = p.channels == 1 ? "gray" : "rgb";
    }
  }
  if (vm.count("channel-order")) {
    p.channel_order = vm["channel-order"].as<std::string>();
    p.channels = p.channel_order == "gray" ? 1 : 3;
  }
  if (vm.count("resize")) {
    const auto [a, b] = parse_size(vm["resize"].as<std::string>(), "--resize");
    p.resize_shorter = b == 0 ? a : 0;
    p.resize_width = b == 0 ? 0 : a;
    p.resize_height = b;
  }
  if (vm.count("center-crop")) {
    const auto [a, b] = parse_size(vm["center-crop"].as<std::string>(), "--center-crop");
    p.crop_width = a;
    p.crop_height = b == 0 ? a : b;
  }
  if (vm.count("scale")) p.scale = parse_fraction(vm["scale"].as<std::string>(), "--scale");
  if (vm.count("mean")) p.mean = parse_floats(vm["mean"].as<std::string>(), "--mean");
  if (vm.count("std")) p.std = parse_floats(vm["std"].as<std::string>(), "--std");
  validate_preprocessing(p, "preprocessing options");
  options.skip_bad = vm["skip-bad"].as<bool>();
  options.threads = vm["decode-threads"].as<int>();
  OCTET_CHECK(options.threads >= 0, "--decode-threads must be >= 0");
  options.hdf5_images = vm["hdf5-images"].as<std::string>();
  options.hdf5_labels = vm["hdf5-labels"].as<std::string>();
  return options;
}

std::string rules_argument(const std::string& option, const std::string& value) {
  if (value.empty() || value[0] != '@') return value;
  const std::string path = value.substr(1);
  std::ifstream in(path);
  OCTET_CHECK(in.good(), option, " ", value, ": cannot read the rules file '", path, "'");
  std::string joined;
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    joined += (joined.empty() ? "" : ",") + line.substr(first, last - first + 1);
  }
  OCTET_CHECK(!joined.empty(), option, " ", value, ": the rules file '", path, "' holds no rule");
  return joined;
}

void fill_padded(Tensor& padded, const Batch& batch) {
  OCTET_CHECK(batch.images.bytes() <= padded.bytes(), "a batch of ", to_string(batch.images.dims()),
              " does not fit the model input ", to_string(padded.dims()));
  std::memset(padded.raw(), 0, padded.bytes());
  std::memcpy(padded.raw(), batch.images.raw(), batch.images.bytes());
}

int64_t top1_class(const float* scores, int64_t classes) {
  int64_t best = 0;
  for (int64_t c = 1; c < classes; ++c)
    if (scores[c] > scores[best]) best = c;
  return best;
}

Tensor random_input(const Dims& dims, uint32_t seed) {
  Tensor t(DataType::kFloat32, dims);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* x = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) x[i] = normal(rng);
  return t;
}

}  // namespace octet::cli
