// `octet calibrate` and `octet inspect` end to end: the binary run as a user runs it on the shipped
// Fashion-MNIST models and Debian's Fashion-MNIST images (dataset-fashion-mnist; the tests skip
// with a message when it is absent).
//
// Every test works in its own folder (the process id in the name), so ctest -j can run them side by
// side; each calibrates what it needs on 256 images (about a second per run on the CPU backend).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "engine/backend.h"
#include "tests/support/cli_runner.h"
#include "tests/support/onnx_builder.h"
#include "tests/support/paths.h"

extern char** environ;

namespace fs = std::filesystem;

namespace octet {
namespace {

const std::string kTestImages = test::fashion_mnist_test_images();
const std::string kTrainImages = test::fashion_mnist_train_images();

using Result = test::CliResult;
using test::run_cli;
using test::run_cli_stdout;

std::string model_path(const std::string& name) { return test::source_dir() + "/models/" + name + ".onnx"; }

// One shell word (the paths here hold no quote).
std::string arg(const fs::path& p) { return "'" + p.string() + "'"; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void expect_clean_error(const Result& r, std::initializer_list<std::string> expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
  for (const auto& fragment : expected)
    EXPECT_NE(r.output.find(fragment), std::string::npos) << "missing '" << fragment << "' in:\n" << r.output;
}

// The tensor names of a TensorRT cache, in file order (the value follows the last ": ").
std::vector<std::string> cache_names(const fs::path& cache) {
  std::istringstream in(read_bytes(cache));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  while (std::getline(in, line))
    if (!line.empty()) names.push_back(line.substr(0, line.rfind(": ")));
  return names;
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, separator);) fields.push_back(field);
  if (!line.empty() && line.back() == separator) fields.emplace_back();
  return fields;
}

class CalibrateCli : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("octet_calibrate_cli_" + std::to_string(::getpid()));

  void SetUp() override {
    if (!fs::exists(kTestImages))
      GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << kTestImages << ")";
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path file(const std::string& name) const { return dir / name; }

  static bool hdf5_missing(const Result& r) { return r.output.find("built without HDF5") != std::string::npos; }

  // octet calibrate MODEL --data t10k --max-images 256 EXTRA; the run must succeed unless it asked
  // for histograms from a build without HDF5 (the caller skips then).
  Result calibrate(const std::string& model, const std::string& extra) {
    Result r = run_cli("calibrate " + arg(model_path(model)) + " --data " + kTestImages + " --max-images 256 " + extra);
    if (!hdf5_missing(r)) {
      EXPECT_EQ(r.exit_code, 0) << r.output;
    }
    return r;
  }
};

TEST_F(CalibrateCli, WritesCacheTableAndHistogramsWithProgressAndSummary) {
  const Result r = calibrate("resnet_fmnist", "--cache " + arg(file("r.cache")) + " --table " +
                                                  arg(file("r.json")) + " --save-histograms " + arg(file("r.h5")));
  if (hdf5_missing(r)) GTEST_SKIP() << "octet built without HDF5";
  // --backend auto: cuda where a device is present (the GPU machine), cpu otherwise.
  const std::string backend = cuda_available() ? "backend     cuda" : "backend     cpu";
  for (const std::string fragment : {"pass 1/2 abs-max", "pass 2/2 histograms", "images/s", "ETA", backend.c_str(),
                                     "method      entropy", "images      256 per pass", "tensors     ", "time        "})
    EXPECT_NE(r.output.find(fragment), std::string::npos) << "missing '" << fragment << "' in:\n" << r.output;
  for (const char* name : {"r.cache", "r.json", "r.h5"}) {
    EXPECT_TRUE(fs::exists(file(name))) << name;
    EXPECT_NE(r.output.find(file(name).string()), std::string::npos) << "summary does not name " << name;
  }
  EXPECT_EQ(read_bytes(file("r.cache")).rfind("TRT-8601-EntropyCalibration2\n", 0), 0u);
  const std::vector<std::string> names = cache_names(file("r.cache"));
  ASSERT_GT(names.size(), 5u);
  EXPECT_NE(r.output.find("tensors     " + std::to_string(names.size())), std::string::npos) << r.output;
  EXPECT_EQ(names.front(), "input") << "the graph input comes first";

  const nlohmann::json table = nlohmann::json::parse(read_bytes(file("r.json")));
  EXPECT_EQ(table["method"], "entropy");
  EXPECT_EQ(table["images"], 256);
  ASSERT_EQ(table["tensors"].size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(table["tensors"][i]["name"], names[i]);
  // No temporary file is left beside the outputs.
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST_F(CalibrateCli, FromHistogramsGivesTheSameFilesAsCalibratingDirectlyForEveryMethod) {
  const Result saved = calibrate("resnet_fmnist", "--save-histograms " + arg(file("r.h5")));
  if (hdf5_missing(saved)) GTEST_SKIP() << "octet built without HDF5";
  for (const std::string method : {"entropy", "max", "percentile", "mse"}) {
    SCOPED_TRACE(method);
    const std::string extra = method == "percentile" ? " --percentile 99.9" : "";
    const std::string direct = "--method " + method + extra + " --cache " + arg(file(method + ".cache")) +
                               " --table " + arg(file(method + ".json"));
    const Result d = calibrate("resnet_fmnist", direct);
    EXPECT_NE(d.output.find("method      " + method), std::string::npos) << d.output;
    const auto start = std::chrono::steady_clock::now();
    const Result again = run_cli("calibrate " + arg(model_path("resnet_fmnist")) + " --from-histograms " +
                                 arg(file("r.h5")) + " --method " + method + extra + " --cache " +
                                 arg(file(method + ".re.cache")) + " --table " + arg(file(method + ".re.json")));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(again.output.find("pass 1/2"), std::string::npos) << "the model ran again:\n" << again.output;
    EXPECT_LT(seconds, 30.0);
    EXPECT_EQ(read_bytes(file(method + ".re.cache")), read_bytes(file(method + ".cache")));
    EXPECT_EQ(read_bytes(file(method + ".re.json")), read_bytes(file(method + ".json")));
    const std::string header = method == "max" ? "TRT-8601-MinMaxCalibration\n" : "TRT-8601-EntropyCalibration2\n";
    EXPECT_EQ(read_bytes(file(method + ".cache")).rfind(header, 0), 0u);
  }
  // The methods disagree somewhere: max keeps every value, the others clip.
  EXPECT_NE(read_bytes(file("max.cache")), read_bytes(file("entropy.cache")));
}

TEST_F(CalibrateCli, MlpCalibratesWithEveryMethodAndTheCalibrationCacheAlias) {
  for (const std::string method : {"entropy", "max", "percentile", "mse"}) {
    const Result r = calibrate("mlp_fmnist", "--method " + method + " --batch 100 --calibration-cache " +
                                                 arg(file(method + ".cache")));
    EXPECT_NE(r.output.find("method      " + method), std::string::npos) << r.output;
    EXPECT_FALSE(cache_names(file(method + ".cache")).empty()) << method;
  }
}

// An NHWC model ([N, 28, 28, 1], as TensorFlow exports write it) calibrates from the [1, 28, 28]
// Fashion-MNIST samples (engine/input_layout.h): the cache names the model's own tensors.
TEST_F(CalibrateCli, NhwcInputCalibratesFromChannelFirstSamples) {
  test::ModelBuilder b;
  b.input("image", {test::kSymbolicDim, 28, 28, 1})
      .initializer<float>("perm_w", {2, 1, 3, 3}, std::vector<float>(18, 0.25f))
      .output("out", {test::kSymbolicDim, 2, 28, 28});
  b.node("Transpose", {"image"}, {"nchw"}, "to_nchw").attr_ints("perm", {0, 3, 1, 2});
  b.node("Conv", {"nchw", "perm_w"}, {"c"}, "conv").attr_ints("kernel_shape", {3, 3}).attr_ints("pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"out"}, "relu");
  test::write_bytes(file("nhwc.onnx"), b.bytes());
  const Result r = run_cli("calibrate " + arg(file("nhwc.onnx")) + " --data " + kTestImages +
                           " --max-images 64 --batch 16 --method max --cache " + arg(file("nhwc.cache")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> names = cache_names(file("nhwc.cache"));
  EXPECT_EQ(names.front(), "image");
  EXPECT_NE(std::find(names.begin(), names.end(), "c"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "image:nhwc"), names.end());
}

TEST_F(CalibrateCli, InspectListsEveryTensorAsTextCsvAndJson) {
  const std::string outputs = "--cache " + arg(file("r.cache")) + " --table " + arg(file("r.json"));
  const bool have_h5 = !hdf5_missing(calibrate("resnet_fmnist", outputs + " --save-histograms " + arg(file("r.h5"))));
  if (!have_h5) calibrate("resnet_fmnist", outputs);
  const std::vector<std::string> names = cache_names(file("r.cache"));
  ASSERT_FALSE(names.empty());
  std::vector<std::string> inputs = {"r.cache", "r.json"};
  if (have_h5) inputs.push_back("r.h5");
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    const Result text = run_cli("inspect " + arg(file(input)));
    ASSERT_EQ(text.exit_code, 0) << text.output;
    for (const char* column : {"tensor", "abs-max", "amax", "scale", "method", "saturation"})
      EXPECT_NE(text.output.find(column), std::string::npos) << column;
    for (const std::string& name : names) EXPECT_NE(text.output.find("\n" + name + " "), std::string::npos) << name;

    const Result csv = run_cli_stdout("inspect " + arg(file(input)) + " --format csv");
    ASSERT_EQ(csv.exit_code, 0);
    std::istringstream lines(csv.output);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "tensor,absmax,amax,scale,scale_hex,method,saturation_percent");
    std::vector<std::string> csv_names;
    while (std::getline(lines, line)) {
      const std::vector<std::string> fields = split(line, ',');
      ASSERT_EQ(fields.size(), 7u) << line;
      csv_names.push_back(fields[0]);
      EXPECT_GT(std::stod(fields[3]), 0.0) << line;
      EXPECT_EQ(fields[4].size(), 8u) << line;
    }
    EXPECT_EQ(csv_names, names);

    const Result json = run_cli_stdout("inspect " + arg(file(input)) + " --format json");
    ASSERT_EQ(json.exit_code, 0);
    const nlohmann::json j = nlohmann::json::parse(json.output);
    ASSERT_EQ(j["tensors"].size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(j["tensors"][i]["name"], names[i]);
    // A cache holds scales only; the table and the histograms know the abs-max and saturation.
    EXPECT_EQ(j["tensors"][0]["absmax"].is_null(), input == "r.cache");
    EXPECT_EQ(j["tensors"][0]["saturation_percent"].is_null(), input == "r.cache");
  }
  if (have_h5) {
    // The histograms re-select with any method; max gives zero saturation everywhere.
    const Result json = run_cli_stdout("inspect " + arg(file("r.h5")) + " --method max --format json");
    ASSERT_EQ(json.exit_code, 0);
    for (const auto& t : nlohmann::json::parse(json.output)["tensors"]) EXPECT_EQ(t["saturation_percent"], 0.0);
  }
}

TEST_F(CalibrateCli, InspectSortsByScaleAndName) {
  calibrate("resnet_fmnist", "--table " + arg(file("r.json")));
  const Result by_scale = run_cli_stdout("inspect " + arg(file("r.json")) + " --format csv --sort scale");
  ASSERT_EQ(by_scale.exit_code, 0);
  std::istringstream lines(by_scale.output);
  std::string line;
  std::getline(lines, line);
  double previous = 1e30;
  int rows = 0;
  while (std::getline(lines, line)) {
    const double scale = std::stod(split(line, ',')[3]);
    EXPECT_LE(scale, previous) << line;
    previous = scale;
    ++rows;
  }
  EXPECT_GT(rows, 5);
  const Result by_name = run_cli_stdout("inspect " + arg(file("r.json")) + " --format json --sort name");
  ASSERT_EQ(by_name.exit_code, 0);
  std::vector<std::string> names;
  for (const auto& t : nlohmann::json::parse(by_name.output)["tensors"]) names.push_back(t["name"]);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  expect_clean_error(run_cli("inspect " + arg(file("r.json")) + " --sort size"), {"--sort", "size", "saturation"});
}

TEST_F(CalibrateCli, InspectPlotWritesOnePngPerTensor) {
  const Result saved = calibrate("resnet_fmnist", "--cache " + arg(file("r.cache")) + " --save-histograms " +
                                                      arg(file("r.h5")));
  if (hdf5_missing(saved)) GTEST_SKIP() << "octet built without HDF5";
  const Result r = run_cli("inspect " + arg(file("r.h5")) + " --plot " + arg(file("plots")) + " --method mse");
  if (r.output.find("built without OpenCV") != std::string::npos) GTEST_SKIP() << "octet built without OpenCV";
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t tensors = cache_names(file("r.cache")).size();
  EXPECT_NE(r.output.find("wrote " + std::to_string(tensors) + " plots"), std::string::npos) << r.output;
  size_t pngs = 0;
  for (const auto& entry : fs::directory_iterator(file("plots"))) {
    EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
    ++pngs;
  }
  EXPECT_EQ(pngs, tensors);
  // PNG signature, then the IHDR chunk: width and height as big-endian 32-bit integers.
  const std::string png = read_bytes(file("plots") / "input.png");
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(png[at + i]);
    return v;
  };
  EXPECT_EQ(be32(16), 900u);
  EXPECT_EQ(be32(20), 500u);
  expect_clean_error(run_cli("inspect " + arg(file("r.cache")) + " --plot " + arg(file("plots2"))),
                     {"--plot needs histograms", file("r.cache").string()});
}

TEST_F(CalibrateCli, DiffListsScaleRatiosAndTensorsInOneFileOnly) {
  calibrate("resnet_fmnist", "--method max --table " + arg(file("max.json")));
  calibrate("resnet_fmnist", "--method entropy --table " + arg(file("entropy.json")));
  // B lacks one tensor of A.
  nlohmann::json b = nlohmann::json::parse(read_bytes(file("entropy.json")));
  ASSERT_GT(b["tensors"].size(), 3u);
  const std::string dropped = b["tensors"][2]["name"];
  b["tensors"].erase(2);
  std::ofstream(file("entropy_less.json")) << b.dump(2);

  const Result text = run_cli("inspect --diff " + arg(file("max.json")) + " " + arg(file("entropy_less.json")));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("only in A (1):\n  " + dropped + "\n"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("only in B (0)"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("B/A"), std::string::npos) << text.output;

  const Result json = run_cli_stdout("inspect --diff " + arg(file("max.json")) + " " +
                                     arg(file("entropy_less.json")) + " --format json --sort ratio");
  ASSERT_EQ(json.exit_code, 0);
  const nlohmann::json d = nlohmann::json::parse(json.output);
  EXPECT_EQ(d["only_in_a"], nlohmann::json::array({dropped}));
  EXPECT_TRUE(d["only_in_b"].empty());
  ASSERT_EQ(d["tensors"].size(), b["tensors"].size());
  double previous = 1e30;
  for (const auto& t : d["tensors"]) {
    const double ratio = t["ratio"];
    EXPECT_DOUBLE_EQ(ratio, t["scale_b"].get<double>() / t["scale_a"].get<double>());
    // Entropy's largest candidate is half a bin above the abs-max (calibration/range_selection.h).
    EXPECT_LE(ratio, 2048.5 / 2048.0 + 1e-6) << t["name"] << ": entropy never goes past the abs-max bin";
    EXPECT_LE(std::fabs(std::log(ratio)), previous + 1e-12) << "--sort ratio puts the largest change first";
    previous = std::fabs(std::log(ratio));
  }
  expect_clean_error(run_cli("inspect --diff " + arg(file("max.json"))), {"--diff", "two"});
}

TEST_F(CalibrateCli, HistogramFileFromAnotherModelIsRefused) {
  const Result saved = calibrate("resnet_fmnist", "--save-histograms " + arg(file("resnet.h5")));
  if (hdf5_missing(saved)) GTEST_SKIP() << "octet built without HDF5";
  const Result r = run_cli("calibrate " + arg(model_path("mlp_fmnist")) + " --from-histograms " +
                           arg(file("resnet.h5")) + " --cache " + arg(file("mlp.cache")));
  // The message names the file and lists tensors of the other model.
  expect_clean_error(r, {file("resnet.h5").string(), "/stem/stem.0/Conv_output_0"});
  EXPECT_FALSE(fs::exists(file("mlp.cache")));
}

TEST_F(CalibrateCli, CacheForAnotherModelListsUnknownNamesWithTheNearestModelNames) {
  calibrate("resnet_fmnist", "--cache " + arg(file("resnet.cache")));
  const std::vector<std::string> names = cache_names(file("resnet.cache"));
  const Result r = run_cli("inspect " + arg(file("resnet.cache")) + " --model " + arg(model_path("mlp_fmnist")));
  expect_clean_error(r, {file("resnet.cache").string(), model_path("mlp_fmnist"), "nearest"});
  // Every name the MLP lacks is listed (the input is shared, the resnet's convolutions are not).
  size_t listed = 0;
  for (const std::string& name : names) listed += r.output.find("'" + name + "'") != std::string::npos;
  EXPECT_GE(listed, names.size() - 2) << r.output;

  const Result same = run_cli("inspect " + arg(file("resnet.cache")) + " --model " + arg(model_path("resnet_fmnist")));
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_NE(same.output.find("all " + std::to_string(names.size()) + " tensors found"), std::string::npos)
      << same.output;
}

TEST_F(CalibrateCli, BadOptionsAreRefusedBeforeAnyWork) {
  const std::string model = arg(model_path("mlp_fmnist"));
  const std::string data = std::string(" --data ") + kTestImages;
  expect_clean_error(run_cli("calibrate " + model + data), {"writes nothing", "--cache"});
  expect_clean_error(run_cli("calibrate " + model + data + " --method entropy --percentile 99 --cache " +
                             arg(file("x.cache"))),
                     {"--percentile", "percentile"});
  expect_clean_error(run_cli("calibrate " + model + data + " --method kl --cache " + arg(file("x.cache"))), {"kl"});
  expect_clean_error(run_cli("calibrate " + model + data + " --cache " + arg(dir)), {dir.string(), "folder"});
  expect_clean_error(run_cli("calibrate " + model + " --cache " + arg(file("x.cache"))), {"--data"});
  expect_clean_error(run_cli("calibrate " + model + data + " --cache " + arg(file("x.cache")) + " --table " +
                             arg(dir / "." / "x.cache")),
                     {"both", "x.cache"});
  expect_clean_error(run_cli("calibrate " + model + data + " --from-histograms " + arg(file("h.h5")) +
                             " --cache " + arg(file("x.cache"))),
                     {"--from-histograms", "--data"});
  expect_clean_error(run_cli("inspect " + arg(model_path("mlp_fmnist"))), {model_path("mlp_fmnist"), "neither"});
  expect_clean_error(run_cli("inspect " + arg(file("missing.cache"))), {file("missing.cache").string()});
  EXPECT_FALSE(fs::exists(file("x.cache")));
}

TEST_F(CalibrateCli, HelpListsTheOptions) {
  const Result top = run_cli("--help");
  EXPECT_NE(top.output.find("calibrate"), std::string::npos);
  EXPECT_NE(top.output.find("inspect"), std::string::npos);
  const Result calibrate_help = run_cli("calibrate --help");
  EXPECT_EQ(calibrate_help.exit_code, 0);
  for (const char* option : {"--data", "--method", "--percentile", "--batch", "--max-images", "--cache", "--table",
                             "--save-histograms", "--from-histograms", "--backend", "--preset", "--calibration-cache"})
    EXPECT_NE(calibrate_help.output.find(option), std::string::npos) << option;
  const Result inspect_help = run_cli("inspect --help");
  EXPECT_EQ(inspect_help.exit_code, 0);
  for (const char* option : {"--format", "--sort", "--plot", "--diff", "--model", "--method"})
    EXPECT_NE(inspect_help.output.find(option), std::string::npos) << option;
}

// ---- interrupted runs ----

// Starts octet with `args`, stdout and stderr into `log`.
pid_t spawn_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_strings = {test::cli_path()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits until `log` contains `text` (true) or the process ends or 60 s pass (false).
bool wait_for_output(pid_t pid, const fs::path& log, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_bytes(log).find(text) != std::string::npos) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class InterruptedCalibration : public CalibrateCli {
 protected:
  const std::string earlier = "TRT-8601-EntropyCalibration2\ninput: 3c010204\n";

  void SetUp() override {
    CalibrateCli::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists(kTrainImages))
      GTEST_SKIP() << "the Fashion-MNIST train set is not installed (" << kTrainImages << ")";
    std::ofstream(file("model.cache"), std::ios::binary) << earlier;
  }

  // Runs a long calibration (60,000 images, two passes, on the CPU so that it stays long on a GPU
  // machine) that would replace model.cache, and sends `signo` once pass 1 is under way. Returns the
  // wait status and the pid.
  std::pair<int, pid_t> interrupt_with(int signo) {
    const pid_t pid = spawn_cli({"calibrate", model_path("resnet_fmnist"), "--data", kTrainImages, "--batch", "64",
                                 "--backend", "cpu",
                                 "--cache", file("model.cache").string(), "--table", file("model.json").string()},
                                file("log.txt"));
    EXPECT_GT(pid, 0);
    if (pid <= 0) return {-1, pid};
    const bool running = wait_for_output(pid, file("log.txt"), "pass 1/2 abs-max");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, signo);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(running) << read_bytes(file("log.txt"));
    return {status, pid};
  }

  // Nothing beside model.cache looks like it, except `<cache>.tmp.<pid>` when allowed.
  void expect_no_stray_files(pid_t pid, bool temp_allowed) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name == "model.cache" || name == "log.txt") continue;
      if (temp_allowed && name == "model.cache.tmp." + std::to_string(pid)) continue;
      EXPECT_EQ(name.rfind("model.", 0), std::string::npos) << "left behind: " << name;
    }
  }
};

TEST_F(InterruptedCalibration, SigintStopsBetweenBatchesAndKeepsTheEarlierCache) {
  const auto [status, pid] = interrupt_with(SIGINT);
  const std::string log = read_bytes(file("log.txt"));
  ASSERT_TRUE(WIFEXITED(status)) << "ended by a signal, not by the handler:\n" << log;
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_NE(log.find("interrupted, earlier cache '" + file("model.cache").string() + "' left intact"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("interrupted, table '" + file("model.json").string() + "' not written"), std::string::npos) << log;
  EXPECT_EQ(read_bytes(file("model.cache")), earlier);
  EXPECT_FALSE(fs::exists(file("model.json")));
  expect_no_stray_files(pid, false);
}

TEST_F(InterruptedCalibration, SigkillLeavesTheEarlierCacheIntact) {
  const auto [status, pid] = interrupt_with(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status)) << read_bytes(file("log.txt"));
  EXPECT_EQ(read_bytes(file("model.cache")), earlier);
  expect_no_stray_files(pid, true);
}

}  // namespace
}  // namespace octet
