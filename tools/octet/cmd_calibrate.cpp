// octet calibrate MODEL --data PATH ... --cache FILE — streams calibration images through the FP32
// model, selects a range per activation tensor and writes a TensorRT calibration cache, a JSON
// table and (optionally) the histograms. With --from-histograms it re-selects ranges from saved
// histograms without running the model.
//
// Interruption: SIGINT/SIGTERM set a flag that is checked between batches and between output
// files; the command then stops, and every output keeps its earlier content (each write is atomic:
// temp file + rename, calibration/calibration_io.h). A second signal ends the process at once.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "calibration/calibration_io.h"
#include "calibration/calibrator.h"
#include "engine/onnx_import.h"
#include "octet/build_config.h"
#include "tools/octet/cli.h"

namespace octet::cli {
namespace {

volatile sig_atomic_t g_signal = 0;

extern "C" void on_interrupt(int signo) { g_signal = signo; }

// Installs the handler for SIGINT and SIGTERM for the life of the object. SA_RESETHAND restores the
// default action after the first signal, so a second Ctrl-C ends a process that does not stop.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Thrown from the progress callback to leave the calibrator between batches.
struct Interrupted {};

struct Output {
  const char* what;  // "cache", "table", "histograms"
  std::string path;
  bool existed = false;
};

// The same file after resolving ".", ".." and links of the folders that exist.
bool same_file_name(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  return fs::weakly_canonical(fs::absolute(a)) == fs::weakly_canonical(fs::absolute(b));
}

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, seconds < 10 ? "%.2f s" : "%.1f s", seconds);
  return buf;
}

// The summary of a run that stopped on a signal: what was written, what kept its earlier content.
int report_interrupted(const std::vector<Output>& outputs, size_t written) {
  std::fprintf(stderr, "\n");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Output& out = outputs[i];
    if (i < written)
      std::fprintf(stderr, "octet calibrate: interrupted after writing %s '%s'\n", out.what, out.path.c_str());
    else if (out.existed)
      std::fprintf(stderr, "octet calibrate: interrupted, earlier %s '%s' left intact\n", out.what, out.path.c_str());
    else
      std::fprintf(stderr, "octet calibrate: interrupted, %s '%s' not written\n", out.what, out.path.c_str());
  }
  return 128 + static_cast<int>(g_signal);
}

po::options_description calibrate_execution_options() {
  po::options_description d("Execution");
  d.add_options()
    ("backend", po::value<std::string>()->default_value("auto"),
     "where to run: cpu | cuda | auto (cuda when a device is present, else cpu)")
    ("batch", po::value<int64_t>()->default_value(32), "images per batch (>= 1); the scales do not depend on it")
    ("threads", po::value<int>()->default_value(0), "cpu: worker threads (0 = all cores)")
    ("allow-tf32", po::bool_switch(), "cuda: let FP32 GEMMs use TF32 tensor cores (off by default)")
    ("reproducible", po::bool_switch(),
     "the same cache from cpu and cuda: FP32 convolutions, Gemm and MatMul sum every output in one fixed order "
     "(slower; the scales never depend on --batch either way)");
  d.add(shape_options());
  return d;
}

}  // namespace

int command_calibrate(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "ONNX model file (FP32)")
    ("method", po::value<std::string>()->default_value("entropy"),
     "range selection: entropy (TensorRT's EntropyCalibration2) | max | percentile | mse")
    ("percentile", po::value<double>(), "with --method percentile: share of |x| kept, in (0, 100] (default 99.99)")
    ("max-images", po::value<int64_t>()->default_value(0), "calibrate on the first N samples (0 = all)")
    ("cache", po::value<std::string>(), "TensorRT calibration cache to write (text, one scale per tensor)")
    ("calibration-cache", po::value<std::string>(), "the same as --cache (Polygraphy's name)")
    ("table", po::value<std::string>(), "JSON table to write: amax, scale, min/max, saturation per tensor")
    ("save-histograms", po::value<std::string>(), "HDF5 file to write the histograms to, for --from-histograms")
    ("from-histograms", po::value<std::string>(),
     "select ranges from histograms saved by --save-histograms instead of running the model (no --data)")
    ("single-pass", po::bool_switch(),
     "one pass with a growing histogram as TensorRT does (for comparison: results depend on batch size)")
    ("trt-version", po::value<int>()->default_value(kDefaultTrtCacheVersion),
     "TensorRT version written in the cache header (8601 = 8.6.1)");
  options.add(data_options());
  options.add(calibrate_execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet calibrate MODEL --data PATH [preprocessing] [--method M] [--percentile P] [--batch N]\n"
          "                       [--max-images N] --cache FILE [--table FILE.json] [--save-histograms FILE.h5]\n"
          "       octet calibrate MODEL --from-histograms FILE.h5 [--method M] --cache FILE [--table FILE.json]\n\n"
          "Runs the calibration images through the FP32 model in two passes (abs-max of every activation, then a\n"
          "2048-bin histogram of |x| over [0, abs-max]), selects each tensor's range with --method and writes\n"
          "the scales (scale = amax / 127). The cache is in TensorRT's format (TRT-<version>-EntropyCalibration2).\n"
          "--from-histograms re-selects the ranges in seconds from a file written by --save-histograms. Outputs\n"
          "are written atomically: Ctrl-C or a killed process leaves any earlier file intact.",
          options, positional, vm))
    return 0;

  // ---- options ----
  const std::string model_path = vm["model"].as<std::string>();
  RangeOptions range;
  range.method = parse_range_method(vm["method"].as<std::string>());
  if (vm.count("percentile")) {
    OCTET_CHECK(range.method == RangeMethod::kPercentile, "--percentile applies to --method percentile only (the "
                "method is ", to_string(range.method), ")");
    range.percentile = vm["percentile"].as<double>();
    OCTET_CHECK(range.percentile > 0.0 && range.percentile <= 100.0, "--percentile must be in (0, 100], got ",
                range.percentile);
  }
  OCTET_CHECK(!(vm.count("cache") && vm.count("calibration-cache")),
              "--cache and --calibration-cache name the same file; give one");
  std::string method_text = to_string(range.method);
  if (range.method == RangeMethod::kPercentile) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " %g", range.percentile);
    method_text += buf;
  }
  const std::string cache_path = vm.count("cache")               ? vm["cache"].as<std::string>()
                                 : vm.count("calibration-cache") ? vm["calibration-cache"].as<std::string>()
                                                                 : std::string();
  const std::string table_path = vm.count("table") ? vm["table"].as<std::string>() : std::string();
  const std::string histograms_out = vm.count("save-histograms") ? vm["save-histograms"].as<std::string>() : "";
  const bool from_histograms = vm.count("from-histograms") > 0;
  OCTET_CHECK(from_histograms != (vm.count("data") > 0),
              from_histograms ? "--from-histograms and --data exclude each other: the histograms replace the data"
                              : "octet calibrate needs --data PATH (or --from-histograms FILE.h5); see --help");
  OCTET_CHECK(!(from_histograms && vm.count("save-histograms")),
              "--save-histograms with --from-histograms would only copy the file; leave it out");
  OCTET_CHECK(
      !cache_path.empty() || !table_path.empty() || !histograms_out.empty(),
      "octet calibrate writes nothing: give --cache FILE (and/or --table FILE.json, --save-histograms FILE.h5)");
  const int trt_version = vm["trt-version"].as<int>();
  OCTET_CHECK(trt_version > 0, "--trt-version must be positive, got ", trt_version);
#if !OCTET_HDF5
  OCTET_CHECK(!from_histograms && histograms_out.empty(),
              "--from-histograms and --save-histograms need HDF5, and this octet was built without HDF5 "
              "(OCTET_HDF5=OFF or libhdf5-dev missing)");
#endif

  std::vector<Output> outputs;
  if (!histograms_out.empty()) outputs.push_back({"histograms", histograms_out});
  if (!table_path.empty()) outputs.push_back({"table", table_path});
  if (!cache_path.empty()) outputs.push_back({"cache", cache_path});
  for (size_t i = 0; i < outputs.size(); ++i) {
    Output& out = outputs[i];
    check_output_path(std::string("--") + out.what, out.path);
    out.existed = std::filesystem::exists(out.path);
    for (size_t j = 0; j < i; ++j)
      OCTET_CHECK(!same_file_name(outputs[j].path, out.path),
                  "the ", outputs[j].what, " and the ", out.what, " would both be written to '", out.path, "'");
  }
  if (from_histograms)
    for (const char* option : {"max-images", "batch", "single-pass", "backend", "threads"})
      if (!vm[option].defaulted())
        std::fprintf(stderr, "octet calibrate: note: --%s has no effect with --from-histograms (the model does not "
                     "run)\n", option);

  const auto start = std::chrono::steady_clock::now();
  // The model is imported at the calibration batch: shape sub-graphs fold for it.
  ImportOptions import_options;
  import_options.batch = from_histograms ? 0 : vm["batch"].as<int64_t>();
  import_options.input_shapes = read_shape_options(vm);
  Graph graph = import_onnx_file(model_path, import_options);
  const std::vector<std::string> tensor_names = calibrated_tensor_names(graph);
  OCTET_CHECK(!tensor_names.empty(), "'", model_path, "' has no tensor that octet calibrates");

  InterruptGuard interrupt_guard;
  g_signal = 0;
  CalibrationData data;
  std::string source_text, backend_text;
  std::vector<double> pass_seconds;
  int passes = 0;

  if (from_histograms) {
#if OCTET_HDF5
    const std::string h5 = vm["from-histograms"].as<std::string>();
    data = load_histograms(h5, tensor_names);
    source_text = "histograms '" + h5 + "' (" + std::to_string(data.images) + " images)";
#endif
  } else {
    // ---- run the model ----
    CalibratorOptions calibrator;
    const std::string backend_name = vm["backend"].as<std::string>();
    if (backend_name == "auto") {
      calibrator.backend = cuda_available() ? BackendKind::kCuda : BackendKind::kCpu;
      backend_text = calibrator.backend == BackendKind::kCuda ? "cuda (" + cuda_device_description() + ")"
                     : OCTET_HAVE_CUDA ? "cpu (no CUDA device: " + cuda_device_description() + ")"
                                       : std::string("cpu (this octet is built without CUDA)");
    } else {
      calibrator.backend = parse_backend(backend_name);
      if (calibrator.backend == BackendKind::kCuda)
        OCTET_CHECK(cuda_available(), "--backend cuda: ", cuda_device_description());
      backend_text = to_string(calibrator.backend);
    }
    calibrator.batch = vm["batch"].as<int64_t>();
    OCTET_CHECK(calibrator.batch >= 1, "--batch must be at least 1, got ", calibrator.batch);
    calibrator.backend_options.threads = vm["threads"].as<int>();
    OCTET_CHECK(calibrator.backend_options.threads >= 0, "--threads must be >= 0, got ",
                calibrator.backend_options.threads);
    calibrator.backend_options.allow_tf32 = vm["allow-tf32"].as<bool>();
    calibrator.backend_options.reproducible = vm["reproducible"].as<bool>();
    OCTET_CHECK(!(calibrator.backend_options.reproducible && calibrator.backend_options.allow_tf32),
                "--reproducible and --allow-tf32 exclude each other (TF32 rounds the GEMM inputs)");
    calibrator.max_images = vm["max-images"].as<int64_t>();
    OCTET_CHECK(calibrator.max_images >= 0, "--max-images must be >= 0, got ", calibrator.max_images);
    calibrator.single_pass = vm["single-pass"].as<bool>();
    passes = calibrator.single_pass ? 1 : 2;

    const std::string data_path = vm["data"].as<std::string>();
    auto source = open_batch_source(data_path, read_data_options(vm, &graph, model_path));
    source_text = source->describe();
    // An NHWC model input takes [C, H, W] samples through a Transpose; the tensors (and names) it
    // calibrates are the model's.
    feed_samples(graph, source->sample_dims());
    std::fprintf(stderr, "calibrating '%s' (%zu tensors) on %s\nbackend %s, batch %lld, method %s\n",
                 model_path.c_str(), tensor_names.size(), source_text.c_str(), backend_text.c_str(),
                 static_cast<long long>(calibrator.batch), method_text.c_str());

    // Passes are told apart by the pass number changing, so the labels do not depend on whether the
    // calibrator counts from 0 or 1.
    std::unique_ptr<Progress> progress;
    int current_pass = -1, ordinal = 0;
    auto pass_start = std::chrono::steady_clock::now();
    const auto on_progress = [&](int pass, int64_t done, int64_t total) {
      if (g_signal) throw Interrupted{};
      if (pass != current_pass) {
        const auto now = std::chrono::steady_clock::now();
        if (progress) {
          progress->finish();
          pass_seconds.push_back(std::chrono::duration<double>(now - pass_start).count());
        }
        pass_start = now;
        current_pass = pass;
        ++ordinal;
        const char* what = passes == 1 ? "histograms" : ordinal == 1 ? "abs-max" : "histograms";
        progress = std::make_unique<Progress>(
            "pass " + std::to_string(ordinal) + "/" + std::to_string(passes) + " " + what, total);
      }
      if (done > 0) progress->update(done);  // the first line comes with a rate and an ETA
    };
    try {
      data = calibrate(graph, *source, calibrator, on_progress);
    } catch (...) {
      if (progress) progress->finish();
      if (g_signal) return report_interrupted(outputs, 0);
      throw;
    }
    if (progress) {
      progress->finish();
      pass_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_start).count());
    }
    data.model = model_path;  // recorded in the saved histograms
    if (source->skipped() > 0)
      std::fprintf(stderr, "skipped %lld unreadable samples (--skip-bad)\n", static_cast<long long>(source->skipped()));
  }
  OCTET_CHECK(data.images > 0 || from_histograms, "no samples were read from '", vm["data"].as<std::string>(), "'");

  // ---- select ranges and write ----
  const auto select_start = std::chrono::steady_clock::now();
  ScaleTable table = make_scale_table(data, range);
  table.model = model_path;
  const double select_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - select_start).count();

  size_t written = 0;
  for (const Output& out : outputs) {
    if (g_signal) return report_interrupted(outputs, written);
    const std::string what = out.what;
    if (what == "cache") {
      write_trt_cache(out.path, table, trt_version);
    } else if (what == "table") {
      write_json_table(out.path, table);
    } else {
#if OCTET_HDF5
      save_histograms(out.path, data, tensor_names);
#endif
    }
    ++written;
  }
  const double total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // ---- summary ----
  size_t zero = 0;
  double worst_saturation = 0.0;
  std::string worst_tensor;
  for (const TensorScale& t : table.tensors) {
    zero += t.amax == 0.0f;
    if (t.saturation > worst_saturation) {
      worst_saturation = t.saturation;
      worst_tensor = t.name;
    }
  }
  std::printf("model       %s\n", model_path.c_str());
  std::printf("source      %s\n", source_text.c_str());
  if (!from_histograms) std::printf("backend     %s\n", backend_text.c_str());
  std::printf("images      %s%s\n", with_thousands(data.images).c_str(),
              from_histograms ? " (when the histograms were gathered)"
              : passes == 2   ? " per pass (2 passes: abs-max, histograms)"
                              : " (1 pass, growing histogram)");
  std::printf("tensors     %zu", table.tensors.size());
  if (zero) std::printf(" (%zu all zero: scale 1)", zero);
  std::printf("\nmethod      %s\n", method_text.c_str());
  if (!worst_tensor.empty())
    std::printf("saturation  at most %.4f%% of values clipped ('%s')\n", 100.0 * worst_saturation,
                worst_tensor.c_str());
  std::printf("time        %s", seconds_text(total_seconds).c_str());
  if (!pass_seconds.empty()) {
    std::printf(" (");
    for (size_t i = 0; i < pass_seconds.size(); ++i) {
      const double rate = pass_seconds[i] > 0 ? static_cast<double>(data.images) / pass_seconds[i] : 0.0;
      std::printf("%spass %zu %s, %.0f images/s", i ? "; " : "", i + 1, seconds_text(pass_seconds[i]).c_str(), rate);
    }
    std::printf("; selection %s)", seconds_text(select_seconds).c_str());
  } else {
    std::printf(" (selection %s)", seconds_text(select_seconds).c_str());
  }
  std::printf("\n");
  for (const Output& out : outputs) {
    std::string detail;
    if (std::string(out.what) == "cache")
      detail = " (TRT-" + std::to_string(trt_version) +
               (range.method == RangeMethod::kMax ? "-MinMaxCalibration" : "-EntropyCalibration2") + ")";
    std::printf("wrote       %-10s '%s'%s\n", out.what, out.path.c_str(), detail.c_str());
  }
  return 0;
}

}  // namespace octet::cli
