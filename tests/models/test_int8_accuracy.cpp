// The INT8 build path's accuracy acceptance, on real data (Debian's dataset-fashion-mnist):
// each reference model, calibrated on the first 512 training images (two-pass histograms, CPU), built
// INT8 by quantize/int8_builder.h from the chosen range method, evaluated on the 10,000 test images,
// loses at most 0.3 percentage points (30 images) of the FP32 top-1 (the FP32 count is ONNX Runtime's,
// models/<name>.json, which octet's FP32 engines equal exactly: tests/datasets), on the CPU, and on CUDA
// when a device is present, where every prediction must equal the CPU engine's.
//
// Methods: entropy by default (the acceptance); OCTET_INT8_METHODS="max,entropy,percentile,mse" runs
// more (tools/gpu/run-checks.sh does, for the table in docs/int8_accuracy.md). Each method reuses the
// one calibration's histograms. A line per (model, method, backend) is printed for the table.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "calibration/calibration_io.h"
#include "calibration/calibrator.h"
#include "datasets/batch_source.h"
#include "datasets/preprocessing.h"
#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "quantize/int8_builder.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

constexpr int64_t kCalibrationImages = 512;
constexpr int64_t kEvalBatch = 250;
constexpr int64_t kAllowedLoss = 30;  // 0.3 points of 10,000 images

std::vector<RangeMethod> methods_to_run() {
  const char* env = std::getenv("OCTET_INT8_METHODS");
  std::vector<RangeMethod> methods;
  std::stringstream list(env ? env : "entropy");
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) methods.push_back(parse_range_method(name));
  return methods;
}

std::unique_ptr<BatchSource> open_idx(const std::string& path, const Graph& graph) {
  SourceOptions options;
  options.preprocessing = preprocessing_from_metadata(graph, "model");
  return open_batch_source(path, options);
}

struct Predictions {
  std::vector<int64_t> top1;
  int64_t correct = 0;
};

Predictions evaluate(Graph graph, BackendKind backend, BatchSource& source) {
  source.reset();
  set_batch(graph, kEvalBatch);
  std::unique_ptr<ExecutionContext> context = create_context(graph, backend);
  Predictions p;
  Batch batch;
  while (source.next(kEvalBatch, batch)) {
    const int64_t n = static_cast<int64_t>(batch.labels.size());
    if (n != kEvalBatch) {  // the test set divides by 250; a last short batch would need another context
      ADD_FAILURE() << "unexpected short batch of " << n;
      break;
    }
    const Tensor logits = context->run({batch.images}).at(0);
    const int64_t classes = logits.dims().at(1);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = logits.data<float>() + i * classes;
      const int64_t best = std::max_element(row, row + classes) - row;
      p.top1.push_back(best);
      p.correct += best == batch.labels[static_cast<size_t>(i)] ? 1 : 0;
    }
  }
  return p;
}

class Int8Accuracy : public ::testing::TestWithParam<std::string> {};

TEST_P(Int8Accuracy, LosesAtMostAThirdOfAPointOnFashionMnist) {
  if (!fs::exists(test::fashion_mnist_test_images()))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << test::fashion_mnist_test_images() << ")";
  const std::string name = GetParam();
  const std::string model = test::source_dir() + "/models/" + name + ".onnx";
  std::ifstream json_file(test::source_dir() + "/models/" + name + ".json");
  const int64_t fp32_correct = nlohmann::json::parse(json_file).at("correct").get<int64_t>();

  // The calibrator runs the graph as imported (every ONNX tensor exists); the builder takes it optimised.
  const Graph imported = import_onnx_file(model);
  Graph graph = imported;
  optimize_fp32(graph);
  std::unique_ptr<BatchSource> train = open_idx(test::fashion_mnist_train_images(), graph);
  CalibratorOptions calibration;
  calibration.max_images = kCalibrationImages;
  calibration.batch = 64;
  const CalibrationData data = calibrate(imported, *train, calibration);
  std::unique_ptr<BatchSource> test_set = open_idx(test::fashion_mnist_test_images(), graph);

  for (RangeMethod method : methods_to_run()) {
    RangeOptions range;
    range.method = method;
    std::map<std::string, float> scales;
    for (const TensorScale& t : make_scale_table(data, range).tensors) scales[t.name] = t.scale;
    BuildConfig config;
    config.int8 = true;
    BuildReport report;
    const Graph int8 = build_int8_graph(graph, scales, config, &report);
    int int8_layers = 0;
    for (const Node& node : int8.nodes) int8_layers += node.precision == Precision::kInt8 ? 1 : 0;

    const Predictions cpu = evaluate(int8, BackendKind::kCpu, *test_set);
    std::printf("INT8 %s %s cpu: %lld correct (FP32 %lld, %+.2f points), %d INT8 layers\n", name.c_str(),
                to_string(method), static_cast<long long>(cpu.correct), static_cast<long long>(fp32_correct),
                static_cast<double>(cpu.correct - fp32_correct) / 100.0, int8_layers);
    EXPECT_GT(int8_layers, 0) << name;
    EXPECT_GE(cpu.correct, fp32_correct - kAllowedLoss) << name << " " << to_string(method) << " on the CPU";
    if (!cuda_available()) {
      std::printf("INT8 %s %s cuda: skipped (%s)\n", name.c_str(), to_string(method),
                  cuda_device_description().c_str());
      continue;
    }
    const Predictions cuda = evaluate(int8, BackendKind::kCuda, *test_set);
    int64_t differing = 0;
    for (size_t i = 0; i < cpu.top1.size(); ++i) differing += cpu.top1[i] != cuda.top1.at(i) ? 1 : 0;
    std::printf("INT8 %s %s cuda: %lld correct, %lld of %zu predictions differ from the CPU engine\n", name.c_str(),
                to_string(method), static_cast<long long>(cuda.correct), static_cast<long long>(differing),
                cpu.top1.size());
    EXPECT_EQ(differing, 0) << name << " " << to_string(method) << ": CPU and CUDA INT8 engines disagree";
    EXPECT_GE(cuda.correct, fp32_correct - kAllowedLoss) << name << " " << to_string(method) << " on CUDA";
  }
}

INSTANTIATE_TEST_SUITE_P(ReferenceModels, Int8Accuracy,
                         ::testing::Values("resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"));

}  // namespace
}  // namespace octet
