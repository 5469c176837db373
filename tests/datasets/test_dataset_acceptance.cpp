// The datasets issue's acceptance, on real data (Debian's dataset-fashion-mnist):
//   1. `octet eval` of each reference model on the 10,000 test images (IDX reader) counts the same
//      correct predictions as ONNX Runtime did (models/<name>.json "correct"), within 2 for FP32
//      near-ties;
//   2. the same images written as PNG files in class folders (made here, not committed) and read
//      through the image-folder reader give bit-identical input tensors, hence identical predictions;
//      the HDF5 pack of them too.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "datasets/batch_source.h"
#include "datasets/hdf5_writer.h"
#include "datasets/idx_source.h"
#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "tests/support/cli_runner.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

const std::string kTestImages = test::fashion_mnist_test_images();

#define SKIP_WITHOUT_FASHION_MNIST() \
  if (!fs::exists(kTestImages)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << kTestImages << ")"

class EvalMatchesOnnxRuntime : public ::testing::TestWithParam<std::string> {};

TEST_P(EvalMatchesOnnxRuntime, OnTheFashionMnistTestSet) {
  SKIP_WITHOUT_FASHION_MNIST();
  const std::string model = test::source_dir() + "/models/" + GetParam() + ".onnx";
  std::ifstream json_file(test::source_dir() + "/models/" + GetParam() + ".json");
  const int64_t ort_correct = nlohmann::json::parse(json_file).at("correct").get<int64_t>();
  const test::CliResult result = test::run_cli("eval '" + model + "' --data " + kTestImages + " --batch 250");
  const std::string& output = result.output;
  ASSERT_EQ(result.exit_code, 0) << output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(output, m, std::regex("top-1 +[0-9.]+% \\((\\d+) correct\\)"))) << output;
  EXPECT_TRUE(std::regex_search(output, std::regex("evaluated +10000"))) << output;
  const int64_t correct = std::stoll(m[1]);
  std::printf("%s: octet %lld correct, ONNX Runtime %lld\n", GetParam().c_str(), static_cast<long long>(correct),
              static_cast<long long>(ort_correct));
  EXPECT_LE(std::llabs(correct - ort_correct), 2);
}

INSTANTIATE_TEST_SUITE_P(ReferenceModels, EvalMatchesOnnxRuntime,
                         ::testing::Values("resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"));

// All samples of a source, in its order.
Batch read_all(BatchSource& source) {
  Batch all, batch;
  std::vector<float> pixels;
  while (source.next(97, batch)) {  // an odd batch size on purpose
    pixels.insert(pixels.end(), batch.images.data<float>(), batch.images.data<float>() + batch.images.numel());
    all.labels.insert(all.labels.end(), batch.labels.begin(), batch.labels.end());
  }
  Dims dims{static_cast<int64_t>(all.labels.size())};
  const Dims sample = source.sample_dims();
  dims.insert(dims.end(), sample.begin(), sample.end());
  all.images = Tensor(DataType::kFloat32, dims);
  std::copy(pixels.begin(), pixels.end(), all.images.data<float>());
  return all;
}

TEST(DatasetReaders, PngClassFoldersAndHdf5PackGiveTheIdxTensorsBitForBit) {
  SKIP_WITHOUT_FASHION_MNIST();
  // The PNG files: class_<label>/<index>.png, so the folder reader's order (sorted class folders,
  // then sorted names) is the IDX order sorted by (label, index).
  const fs::path root = fs::temp_directory_path() / "octet_fmnist_png";
  fs::remove_all(root);
  const IdxArray images = read_idx_file(kTestImages);
  const IdxArray labels = read_idx_file(idx_labels_path_for(kTestImages));
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  std::vector<std::pair<int64_t, int64_t>> order;  // (label, index)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = labels.data[static_cast<size_t>(i)];
    const fs::path dir = root / ("class_" + std::to_string(label));
    fs::create_directories(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.png", static_cast<long long>(i));
    const cv::Mat image(static_cast<int>(h), static_cast<int>(w), CV_8UC1,
                        const_cast<uint8_t*>(images.data.data() + i * h * w));
    ASSERT_TRUE(cv::imwrite((dir / name).string(), image));
    order.emplace_back(label, i);
  }
  std::sort(order.begin(), order.end());

  SourceOptions options;
  options.preprocessing = preprocessing_preset("fashion-mnist");
  const Batch from_idx = read_all(*open_batch_source(kTestImages, options));
  const Batch from_png = read_all(*open_batch_source(root.string(), options));
  ASSERT_EQ(from_png.images.dims(), from_idx.images.dims());
  const int64_t per = h * w;
  for (int64_t k = 0; k < n; ++k) {
    const auto [label, index] = order[static_cast<size_t>(k)];
    ASSERT_EQ(from_png.labels[static_cast<size_t>(k)], label) << "sample " << k;
    ASSERT_EQ(0, std::memcmp(from_png.images.data<float>() + k * per, from_idx.images.data<float>() + index * per,
                             static_cast<size_t>(per) * sizeof(float)))
        << "PNG of IDX image " << index << " differs";
  }

  // The HDF5 pack of the PNG folder reads back as the same tensors.
  const fs::path h5 = fs::temp_directory_path() / "octet_fmnist_png.h5";
  {
    auto png_source = open_batch_source(root.string(), options);
    pack_to_hdf5(*png_source, h5.string(), options.preprocessing);
  }
  const Batch from_h5 = read_all(*open_batch_source(h5.string(), options));
  ASSERT_EQ(from_h5.images.dims(), from_png.images.dims());
  EXPECT_EQ(from_h5.labels, from_png.labels);
  EXPECT_EQ(0, std::memcmp(from_h5.images.raw(), from_png.images.raw(), from_png.images.bytes()));

  // Identical inputs must give identical predictions: checked end to end on one model.
  Graph graph = import_onnx_file(test::source_dir() + "/models/mlp_fmnist.onnx");
  optimize_fp32(graph);
  set_batch(graph, n);
  auto context = create_context(graph, BackendKind::kCpu);
  const Tensor logits_png = context->run({from_png.images}).at(0);
  const Tensor logits_h5 = context->run({from_h5.images}).at(0);
  EXPECT_EQ(0, std::memcmp(logits_png.raw(), logits_h5.raw(), logits_png.bytes()));
  fs::remove_all(root);
  fs::remove(h5);
}

}  // namespace
}  // namespace octet
