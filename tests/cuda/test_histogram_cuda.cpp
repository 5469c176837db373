// Calibration on the GPU: the observer kernels (kernels/cuda/histogram_cuda.h) against their CPU
// reference, and the CUDA calibrator against the CPU one.
//
//  * Kernels: tensor_stats_cuda and histogram_cuda run on device copies of the very arrays that
//    tensor_stats_ref and histogram_ref see on the host; every statistic and count must be equal bit
//    for bit (==), over sizes around the 16-byte vector width, misaligned starts, special values
//    (NaN, infinities, signed zeros, |x| == range, denormals), ranges 0 and arbitrary, mostly-zero
//    (post-ReLU) data, and accumulation over several launches.
//  * Calibrator, exact graph: a graph of operators whose CUDA kernels are bit-identical to the CPU
//    reference (pooling, Concat, Add, Relu/Clip/LeakyRelu/HardSwish: tests/cuda/test_cuda_backend.cpp)
//    so the activations are the same on both sides and the calibrations must be identical bit for
//    bit: two passes at several batch sizes (padded short batches), single-pass mode.
//  * Calibrator, reference models: Conv/Gemm run on cuBLAS on the GPU and as reference loops on the
//    CPU, so activations differ by rounding. Documented tolerance per tensor: count and NaN count
//    equal; |absmax_gpu - absmax_cpu| <= 1e-5 * absmax_cpu (same for min and max, relative to
//    absmax); histogram totals equal and the largest difference between the two cumulative
//    distributions <= 1e-3 (each value moves by far less than a bin width, 1/2048 of the range, so
//    only values within that distance of a bin edge change bin). Between CUDA runs at batch 1, 7 and
//    64 and in a shuffled order the calibrations must be identical bit for bit: the calibrator runs
//    the engine batch-invariant (BackendOptions::batch_invariant), so every image's activations have
//    the same bits at any batch and position.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "calibration/calibrator.h"
#include "datasets/batch_source.h"
#include "engine/cuda_backend.h"
#include "engine/onnx_import.h"
#include "engine/shape_inference.h"
#include "kernels/cpu/histogram_ref.h"
#include "kernels/cuda/histogram_cuda.h"
#include "tests/engine/graph_builder.h"
#include "tests/support/cuda_test_util.h"
#include "tests/support/paths.h"

namespace octet {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

uint32_t bits_of(float x) { return kernels::float_bits(x); }

using test::DeviceArray;
using test::Stream;

// ---- kernels against the reference ---------------------------------------------------------------

struct KernelCase {
  std::string name;
  std::vector<float> values;
  float range;  // the histogram range
};

std::vector<KernelCase> kernel_cases() {
  std::vector<KernelCase> cases;
  std::mt19937 engine(42);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  auto normal_values = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(engine);
    return v;
  };
  auto absmax_of = [](const std::vector<float>& v) {
    TensorStats s;
    kernels::tensor_stats_ref(v.data(), static_cast<int64_t>(v.size()), s);
    return s.absmax;
  };
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{7}, size_t{1000}, size_t{4099}}) {
    std::vector<float> v = normal_values(n);
    cases.push_back({"normal n=" + std::to_string(n), v, absmax_of(v)});
  }
  {
    std::vector<float> v = normal_values(1 << 22);  // several blocks per multiprocessor
    cases.push_back({"normal n=2^22", v, absmax_of(v)});
    cases.push_back({"normal n=2^22, range 3.7 (values past it)", v, 3.7f});
  }
  {
    // After a ReLU: ~half exact zeros (bin 0 counted per thread), the rest positive.
    std::vector<float> v = normal_values((1 << 21) + 3);
    for (float& x : v) x = x > 0.0f ? x : 0.0f;
    cases.push_back({"relu n=2^21+3", v, absmax_of(v)});
  }
  {
    std::vector<float> v = normal_values(5000);
    const float range = 2048.0f;
    const float specials[] = {kNaN,
                              -kNaN,
                              kInf,
                              -kInf,
                              0.0f,
                              -0.0f,
                              range,
                              -range,
                              2047.0f,
                              1.0f,
                              -1.0f,
                              std::numeric_limits<float>::denorm_min(),
                              -std::numeric_limits<float>::denorm_min(),
                              std::numeric_limits<float>::max()};
    for (size_t i = 0; i < std::size(specials); ++i) v[i * 331] = specials[i];
    cases.push_back({"specials, range 2048", v, range});
    cases.push_back({"specials, range 0", v, 0.0f});
  }
  {
    std::vector<float> zeros(3001, 0.0f);
    zeros[5] = -0.0f;
    cases.push_back({"zeros, range 0", zeros, 0.0f});
  }
  {
    std::vector<float> nans(1029, kNaN);
    cases.push_back({"all NaN", nans, 0.0f});
  }
  return cases;
}

void expect_same_stats(const TensorStats& gpu, const TensorStats& cpu, const std::string& what) {
  EXPECT_EQ(bits_of(gpu.min), bits_of(cpu.min)) << what << ": min " << gpu.min << " vs " << cpu.min;
  EXPECT_EQ(bits_of(gpu.max), bits_of(cpu.max)) << what << ": max " << gpu.max << " vs " << cpu.max;
  EXPECT_EQ(bits_of(gpu.absmax), bits_of(cpu.absmax)) << what << ": absmax " << gpu.absmax << " vs " << cpu.absmax;
  EXPECT_EQ(gpu.count, cpu.count) << what;
  EXPECT_EQ(gpu.nan_count, cpu.nan_count) << what;
}

TEST(HistogramCudaFloat32, EqualsTheReferenceOnTheSameData) {
  OCTET_SKIP_WITHOUT_CUDA();
  Stream stream;
  for (const KernelCase& c : kernel_cases()) {
    // offset 0: 16-byte aligned (float4 loads); 1..3: the scalar kernel.
    for (size_t offset : {size_t{0}, size_t{1}, size_t{3}}) {
      const std::string what = c.name + ", offset " + std::to_string(offset);
      std::vector<float> padded(offset, 123.0f);
      padded.insert(padded.end(), c.values.begin(), c.values.end());
      DeviceArray<float> x(padded.size());
      x.upload(padded);
      const int64_t n = static_cast<int64_t>(c.values.size());
      Histogram h;
      h.range = c.range;

      DeviceArray<kernels::TensorStatsCuda> stats(1);
      DeviceArray<uint64_t> counts(kHistogramBins);
      kernels::tensor_stats_reset_cuda(stats.get(), 1, stream.get());
      test::cuda_ok(cudaMemsetAsync(counts.get(), 0, kHistogramBins * sizeof(uint64_t), stream.get()), "memset");
      kernels::tensor_stats_cuda(x.get() + offset, n, stats.get(), stream.get());
      kernels::histogram_cuda(x.get() + offset, n, h.inverse_bin_width(), counts.get(), stream.get());
      stream.sync();

      TensorStats cpu;
      kernels::tensor_stats_ref(c.values.data(), n, cpu);
      std::vector<uint64_t> cpu_counts(kHistogramBins, 0);
      kernels::histogram_ref(c.values.data(), n, h.inverse_bin_width(), cpu_counts.data());
      expect_same_stats(kernels::to_tensor_stats(stats.download()[0]), cpu, what);
      EXPECT_EQ(counts.download(), cpu_counts) << what;
    }
  }
}

TEST(HistogramCudaFloat32, AccumulatesOverLaunches) {
  OCTET_SKIP_WITHOUT_CUDA();
  Stream stream;
  std::mt19937 engine(9);
  std::uniform_real_distribution<float> dist(-5.0f, 5.0f);
  std::vector<float> v(100003);
  for (float& x : v) x = dist(engine);
  DeviceArray<float> x(v.size());
  x.upload(v);
  DeviceArray<kernels::TensorStatsCuda> stats(2);  // entry 1 is the one used; entry 0 must stay empty
  DeviceArray<uint64_t> counts(kHistogramBins);
  kernels::tensor_stats_reset_cuda(stats.get(), 2, stream.get());
  test::cuda_ok(cudaMemsetAsync(counts.get(), 0, kHistogramBins * sizeof(uint64_t), stream.get()), "memset");
  const float inv_width = 2048.0f / 5.0f;
  TensorStats cpu;
  std::vector<uint64_t> cpu_counts(kHistogramBins, 0);
  for (int64_t at = 0, piece = 1; at < static_cast<int64_t>(v.size()); at += piece, piece = piece * 3 + 1) {
    const int64_t n = std::min<int64_t>(piece, static_cast<int64_t>(v.size()) - at);
    kernels::tensor_stats_cuda(x.get() + at, n, stats.get() + 1, stream.get());
    kernels::histogram_cuda(x.get() + at, n, inv_width, counts.get(), stream.get());
    kernels::tensor_stats_ref(v.data() + at, n, cpu);
    kernels::histogram_ref(v.data() + at, n, inv_width, cpu_counts.data());
  }
  stream.sync();
  const std::vector<kernels::TensorStatsCuda> gpu = stats.download();
  expect_same_stats(kernels::to_tensor_stats(gpu[1]), cpu, "pieces");
  expect_same_stats(kernels::to_tensor_stats(gpu[0]), TensorStats{}, "untouched entry");
  EXPECT_EQ(counts.download(), cpu_counts);
}

// ---- the calibrator ------------------------------------------------------------------------------

class MemorySource final : public BatchSource {
 public:
  MemorySource(Dims sample, std::vector<float> values, std::vector<int64_t> order = {})
      : sample_(std::move(sample)), values_(std::move(values)), order_(std::move(order)) {
    if (order_.empty()) {
      order_.resize(values_.size() / static_cast<size_t>(numel(sample_)));
      std::iota(order_.begin(), order_.end(), 0);
    }
  }

  // The first `limit` samples of `source`, in a fixed shuffled order when shuffle_seed != 0.
  static MemorySource read_all(BatchSource& source, int64_t limit, uint32_t shuffle_seed) {
    std::vector<float> values;
    Batch batch;
    source.reset();
    int64_t n = 0;
    while (n < limit && source.next(std::min<int64_t>(64, limit - n), batch)) {
      values.insert(values.end(), batch.images.data<float>(), batch.images.data<float>() + batch.images.numel());
      n += batch.images.dims()[0];
    }
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    if (shuffle_seed != 0) std::shuffle(order.begin(), order.end(), std::mt19937(shuffle_seed));
    return MemorySource(source.sample_dims(), std::move(values), std::move(order));
  }

  int64_t size() const override { return static_cast<int64_t>(order_.size()); }
  Dims sample_dims() const override { return sample_; }
  void reset() override { position_ = 0; }
  std::string describe() const override { return "test samples (" + std::to_string(size()) + ")"; }
  bool next(int64_t max_batch, Batch& batch) override {
    const int64_t n = std::min(max_batch, size() - position_);
    if (n <= 0) return false;
    Dims dims{n};
    dims.insert(dims.end(), sample_.begin(), sample_.end());
    batch.images = Tensor(DataType::kFloat32, dims);
    const int64_t elems = numel(sample_);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(batch.images.data<float>() + i * elems,
                  values_.data() + order_[static_cast<size_t>(position_ + i)] * elems,
                  sizeof(float) * static_cast<size_t>(elems));
    batch.labels.assign(static_cast<size_t>(n), -1);
    position_ += n;
    return true;
  }

 private:
  Dims sample_;
  std::vector<float> values_;
  std::vector<int64_t> order_;
  int64_t position_ = 0;
};

CalibratorOptions options_for(BackendKind kind, int64_t batch) {
  CalibratorOptions options;
  options.backend = kind;
  options.backend_options.reference = true;  // the CPU side: row-invariant reference kernels
  options.batch = batch;
  return options;
}

void expect_identical(const CalibrationData& a, const CalibrationData& b, const std::string& what) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size()) << what;
  EXPECT_EQ(a.images, b.images) << what;
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    const TensorCalibration& x = a.tensors[t];
    const TensorCalibration& y = b.tensors[t];
    const std::string where = what + ", tensor '" + x.name + "'";
    ASSERT_EQ(x.name, y.name) << where;
    expect_same_stats(x.stats, y.stats, where);
    EXPECT_EQ(bits_of(x.histogram.range), bits_of(y.histogram.range)) << where;
    EXPECT_EQ(x.histogram.counts, y.histogram.counts) << where << ": histogram counts differ";
  }
}

// The tolerance of the top of this file. Returns whether a and b are also bit-identical.
bool expect_close(const CalibrationData& a, const CalibrationData& b, const std::string& what) {
  bool identical = a.tensors.size() == b.tensors.size();
  EXPECT_EQ(a.tensors.size(), b.tensors.size()) << what;
  EXPECT_EQ(a.images, b.images) << what;
  for (size_t t = 0; t < std::min(a.tensors.size(), b.tensors.size()); ++t) {
    const TensorCalibration& x = a.tensors[t];
    const TensorCalibration& y = b.tensors[t];
    const std::string where = what + ", tensor '" + x.name + "'";
    EXPECT_EQ(x.name, y.name) << where;
    EXPECT_EQ(x.stats.count, y.stats.count) << where;
    EXPECT_EQ(x.stats.nan_count, y.stats.nan_count) << where;
    const double tolerance = 1e-5 * std::max(x.stats.absmax, y.stats.absmax);
    EXPECT_LE(std::fabs(x.stats.absmax - y.stats.absmax), tolerance) << where << ": absmax";
    EXPECT_LE(std::fabs(x.stats.min - y.stats.min), tolerance) << where << ": min";
    EXPECT_LE(std::fabs(x.stats.max - y.stats.max), tolerance) << where << ": max";
    EXPECT_EQ(x.histogram.counts.size(), y.histogram.counts.size()) << where;
    if (x.histogram.counts.size() != y.histogram.counts.size()) return false;
    uint64_t total_x = 0, total_y = 0;
    double worst = 0.0;
    for (size_t bin = 0; bin < x.histogram.counts.size(); ++bin) {
      total_x += x.histogram.counts[bin];
      total_y += y.histogram.counts[bin];
      worst = std::max(worst, std::fabs(static_cast<double>(total_x) - static_cast<double>(total_y)));
    }
    EXPECT_EQ(total_x, total_y) << where;
    if (total_x > 0) {
      EXPECT_LE(worst / static_cast<double>(total_x), 1e-3) << where << ": cumulative distributions";
    }
    identical = identical && bits_of(x.stats.absmax) == bits_of(y.stats.absmax) &&
                bits_of(x.stats.min) == bits_of(y.stats.min) && bits_of(x.stats.max) == bits_of(y.stats.max) &&
                x.histogram.counts == y.histogram.counts;
  }
  return identical;
}

PoolAttrs pool_attrs(int64_t k, int64_t stride, int64_t pad) {
  PoolAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  return a;
}

// Tapped operators whose CUDA kernels equal the CPU reference bit for bit. Input [N, 3, 8, 8].
Graph exact_graph() {
  test::GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 8, 8}, /*batched=*/true);
  const ValueId relu = b.node(OpKind::Relu, "relu", {x}, ActivationParams{Activation::kRelu, 0, 0});
  const ValueId leaky = b.node(OpKind::LeakyRelu, "leaky", {x}, ActivationParams{Activation::kLeakyRelu, 0.1f, 0});
  const ValueId hswish = b.node(OpKind::HardSwish, "hswish", {x}, ActivationParams{Activation::kHardSwish, 0, 0});
  const ValueId add = b.node(OpKind::Add, "add", {relu, hswish});
  ConcatAttrs cat;
  cat.axis = 1;
  const ValueId concat = b.node(OpKind::Concat, "concat", {add, leaky}, cat);  // [N, 6, 8, 8]
  const ValueId clip = b.node(OpKind::Clip, "clip", {concat}, ActivationParams{Activation::kClip, -0.5f, 2.0f});
  const ValueId maxpool = b.node(OpKind::MaxPool, "maxpool", {clip}, pool_attrs(2, 2, 0));  // [N, 6, 4, 4]
  PoolAttrs avg = pool_attrs(3, 1, 1);
  const ValueId avgpool = b.node(OpKind::AveragePool, "avgpool", {maxpool}, avg);
  b.output(b.node(OpKind::GlobalMaxPool, "gmp", {avgpool}));
  infer_shapes(b.graph);
  return b.graph;
}

std::vector<float> normal_values(int64_t n, uint32_t seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(engine);
  return v;
}

TEST(CalibratorCuda, ExactGraphEqualsTheCpuCalibration) {
  OCTET_SKIP_WITHOUT_CUDA();
  const Graph graph = exact_graph();
  MemorySource source({3, 8, 8}, normal_values(37 * 192, 13));
  const CalibrationData cpu = calibrate(graph, source, options_for(BackendKind::kCpu, 8));
  ASSERT_EQ(cpu.images, 37);
  for (int64_t batch : {1, 8, 16, 64}) {
    expect_identical(cpu, calibrate(graph, source, options_for(BackendKind::kCuda, batch)),
                     "cuda batch " + std::to_string(batch) + " vs cpu");
  }
  for (int64_t batch : {1, 5, 64}) {
    CalibratorOptions cpu_single = options_for(BackendKind::kCpu, batch);
    cpu_single.single_pass = true;
    CalibratorOptions cuda_single = options_for(BackendKind::kCuda, batch);
    cuda_single.single_pass = true;
    expect_identical(calibrate(graph, source, cpu_single), calibrate(graph, source, cuda_single),
                     "single pass, batch " + std::to_string(batch));
  }
}

void check_model_on_cuda(const std::string& model) {
  OCTET_SKIP_WITHOUT_CUDA();
  const std::string data_file = test::fashion_mnist_test_images();
  if (!std::filesystem::exists(data_file)) GTEST_SKIP() << "no Fashion-MNIST at " << data_file;
  const Graph graph = import_onnx_file(test::source_dir() + "/models/" + model);
  SourceOptions source_options;
  source_options.preprocessing = preprocessing_preset("fashion-mnist");
  auto idx = open_batch_source(data_file, source_options);
  MemorySource ordered = MemorySource::read_all(*idx, 300, 0);
  MemorySource shuffled = MemorySource::read_all(*idx, 300, 2024);

  CalibratorOptions cpu_options = options_for(BackendKind::kCpu, 64);
  cpu_options.backend_options.reference = false;  // compared within the tolerance, so the fast path will do
  const CalibrationData cpu = calibrate(graph, ordered, cpu_options);
  const CalibrationData gpu = calibrate(graph, ordered, options_for(BackendKind::kCuda, 64));
  expect_close(cpu, gpu, model + ": cpu vs cuda, batch 64");
  for (int64_t batch : {1, 7}) {
    expect_identical(gpu, calibrate(graph, ordered, options_for(BackendKind::kCuda, batch)),
                     model + ": cuda batch 64 vs " + std::to_string(batch));
  }
  expect_identical(gpu, calibrate(graph, shuffled, options_for(BackendKind::kCuda, 64)),
                   model + ": cuda batch 64, shuffled");
}

TEST(CalibratorCuda, MlpFashionMnistCloseToCpu) { check_model_on_cuda("mlp_fmnist.onnx"); }

TEST(CalibratorCuda, ResnetFashionMnistCloseToCpu) { check_model_on_cuda("resnet_fmnist.onnx"); }

}  // namespace
}  // namespace octet
