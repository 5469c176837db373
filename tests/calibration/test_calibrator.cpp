// The calibrator (calibration/calibrator.h) and the observers' CPU reference (kernels/cpu/histogram_ref.h).
//
//  * histogram_ref / tensor_stats_ref against counts and statistics worked out by hand: values on
//    bin edges, |x| == range, values past the range, negatives, NaN, infinities, signed zeros,
//    range 0; and split invariance (any split of the data into calls gives the same bits).
//  * Taps: the tensors of a graph holding every operator kind, tapped or not.
//  * Short batches: the zero rows that pad a short batch are never observed.
//  * Determinism (the acceptance criterion): the reference models on Fashion-MNIST at batch 1, 7 and
//    64, in a shuffled order and from a source that returns short batches give bit-identical
//    statistics and histograms (300 images for the MLP; 32 for the ResNet, whose reference
//    convolutions are slow, still with a padded batch in every configuration), once with the plain
//    reference kernels (BackendOptions::reference: each output one fixed loop whatever the batch and
//    the row, so that run checks the calibrator alone) and once on the BLAS fast path (300 and 64
//    images), which the calibrator runs batch-invariant (BackendOptions::batch_invariant; without it
//    OpenBLAS sums a GEMM's dot products in an order that depends on the matrix sizes and on where a
//    row falls in its blocking: 3.5e-7 relative on the MLP's first Gemm at batch 1 vs 64). The fast
//    path also writes a cache with every range method for each configuration: the bytes are equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "calibration/calibration_io.h"
#include "calibration/calibrator.h"
#include "datasets/batch_source.h"
#include "engine/onnx_import.h"
#include "engine/shape_inference.h"
#include "kernels/cpu/histogram_ref.h"
#include "tests/engine/graph_builder.h"
#include "tests/support/paths.h"

namespace octet {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

uint32_t bits_of(float x) { return kernels::float_bits(x); }

uint64_t sum_of(const std::vector<uint64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}

// ---- histogram_ref and tensor_stats_ref by hand --------------------------------------------------

std::vector<uint64_t> histogram_of(const std::vector<float>& x, float range) {
  Histogram h;
  h.range = range;
  std::vector<uint64_t> counts(kHistogramBins, 0);
  kernels::histogram_ref(x.data(), static_cast<int64_t>(x.size()), h.inverse_bin_width(), counts.data());
  return counts;
}

TEST(HistogramRefFloat32, BinEdgesNegativesAndTheLastBin) {
  // range 2048: width 1, inv_width 1, so bin i holds |x| in [i, i + 1) exactly.
  const std::vector<float> x = {0.0f,      -0.0f,      0.5f,    0.99999994f, 1.0f,    -1.0f,    -1.5f,   2.0f, 1000.25f,
                                -1000.75f, 2046.9999f, 2047.0f, 2047.5f,     2048.0f, -2048.0f, 3000.0f, kInf, -kInf};
  const std::vector<uint64_t> counts = histogram_of(x, 2048.0f);
  std::vector<uint64_t> expected(kHistogramBins, 0);
  expected[0] = 4;     // 0, -0, 0.5, 0.99999994
  expected[1] = 3;     // 1, -1, -1.5
  expected[2] = 1;     // 2
  expected[1000] = 2;  // 1000.25, -1000.75
  expected[2046] = 1;  // 2046.9999 (float 2046.99987...)
  expected[2047] = 7;  // 2047, 2047.5, |x| == range twice, past the range, +-inf
  EXPECT_EQ(counts, expected);
}

TEST(HistogramRefFloat32, NaNIsNotBinned) {
  const std::vector<uint64_t> counts = histogram_of({kNaN, -kNaN, 3.0f, kNaN}, 8.0f);
  EXPECT_EQ(sum_of(counts), 1u);
  EXPECT_EQ(counts[3 * 256], 1u);  // inv_width = 2048 / 8 = 256
}

TEST(HistogramRefFloat32, RangeZeroPutsEveryValueInBinZero) {
  // A tensor whose abs-max is 0 keeps range 0 (inverse width 0): every finite value lands in bin 0.
  Histogram h;
  EXPECT_EQ(h.inverse_bin_width(), 0.0f);
  const std::vector<uint64_t> counts = histogram_of({0.0f, -0.0f, 0.0f, 5.0f, -1e30f}, 0.0f);
  EXPECT_EQ(counts[0], 5u);
  EXPECT_EQ(sum_of(counts), 5u);
}

TEST(HistogramRefFloat32, AbsEqualToAnyRangeLandsInTheLastBin) {
  // range * (2048 / range) rounds to 2048 or a neighbour; either way it is past bin 2046.
  std::mt19937 engine(7);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  for (int i = 0; i < 2000; ++i) {
    const float range = std::ldexp(mantissa(engine), (i % 80) - 40);
    const std::vector<uint64_t> counts = histogram_of({range, -range}, range);
    ASSERT_EQ(counts[kHistogramBins - 1], 2u) << "range " << range;
  }
}

TEST(HistogramRefFloat32, BinIsTheDocumentedFormula) {
  // The bin of x is floor(|x| * inv_width) in float, clamped; check it against double arithmetic on
  // values around every bin edge of an arbitrary range.
  const float range = 3.7f;
  Histogram h;
  h.range = range;
  const float inv = h.inverse_bin_width();
  for (int b = 1; b < kHistogramBins; ++b) {
    const float edge = static_cast<float>(b) / inv;
    for (float v : {std::nextafter(edge, 0.0f), edge, std::nextafter(edge, kInf)}) {
      const float scaled = v * inv;  // one float multiply, as the formula says
      const int expected = scaled < 2047.0f ? static_cast<int>(std::floor(static_cast<double>(scaled))) : 2047;
      ASSERT_EQ(histogram_bin(v, inv), expected) << "v " << v;
      ASSERT_EQ(histogram_bin(-v, inv), expected) << "v " << -v;
    }
  }
}

TEST(TensorStatsRefFloat32, HandValues) {
  TensorStats s;
  const std::vector<float> x = {1.5f, -3.0f, kNaN, 2.0f, -0.0f, kNaN};
  kernels::tensor_stats_ref(x.data(), static_cast<int64_t>(x.size()), s);
  EXPECT_EQ(s.min, -3.0f);
  EXPECT_EQ(s.max, 2.0f);
  EXPECT_EQ(s.absmax, 3.0f);
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.nan_count, 2u);
  const std::vector<float> more = {-kInf, 7.0f};
  kernels::tensor_stats_ref(more.data(), 2, s);
  EXPECT_EQ(s.min, -kInf);
  EXPECT_EQ(s.max, 7.0f);
  EXPECT_EQ(s.absmax, kInf);
  EXPECT_EQ(s.count, 8u);
}

TEST(TensorStatsRefFloat32, OnlyNaNOrNothingKeepsTheEmptyStatistics) {
  TensorStats s;
  const float nan = kNaN;
  kernels::tensor_stats_ref(&nan, 1, s);
  kernels::tensor_stats_ref(nullptr, 0, s);
  EXPECT_EQ(s.min, kInf);
  EXPECT_EQ(s.max, -kInf);
  EXPECT_EQ(bits_of(s.absmax), 0u);
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.nan_count, 1u);
}

TEST(TensorStatsRefFloat32, SignedZerosDoNotDependOnOrder) {
  // With plain comparisons min(-0, +0) would keep whichever came first.
  for (const std::vector<float>& x : {std::vector<float>{0.0f, -0.0f}, std::vector<float>{-0.0f, 0.0f}}) {
    TensorStats s;
    kernels::tensor_stats_ref(x.data(), 2, s);
    EXPECT_EQ(bits_of(s.min), bits_of(-0.0f));
    EXPECT_EQ(bits_of(s.max), bits_of(0.0f));
    EXPECT_EQ(bits_of(s.absmax), bits_of(0.0f));
  }
  TensorStats only_negative_zero;
  const float nz = -0.0f;
  kernels::tensor_stats_ref(&nz, 1, only_negative_zero);
  EXPECT_EQ(bits_of(only_negative_zero.max), bits_of(-0.0f));
  EXPECT_EQ(bits_of(only_negative_zero.absmax), bits_of(0.0f));
}

TEST(TensorStatsRefFloat32, AnySplitGivesTheSameBits) {
  std::mt19937 engine(3);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> x(10007);
  for (float& v : x) v = dist(engine);
  x[17] = kNaN;
  x[5000] = -0.0f;
  TensorStats whole;
  kernels::tensor_stats_ref(x.data(), static_cast<int64_t>(x.size()), whole);
  std::vector<uint64_t> whole_counts(kHistogramBins, 0);
  kernels::histogram_ref(x.data(), static_cast<int64_t>(x.size()), 2048.0f / whole.absmax, whole_counts.data());
  for (int64_t piece : {1, 7, 64, 1000}) {
    TensorStats split;
    std::vector<uint64_t> split_counts(kHistogramBins, 0);
    for (int64_t at = 0; at < static_cast<int64_t>(x.size()); at += piece) {
      const int64_t n = std::min<int64_t>(piece, static_cast<int64_t>(x.size()) - at);
      kernels::tensor_stats_ref(x.data() + at, n, split);
      kernels::histogram_ref(x.data() + at, n, 2048.0f / whole.absmax, split_counts.data());
    }
    EXPECT_EQ(bits_of(split.min), bits_of(whole.min)) << piece;
    EXPECT_EQ(bits_of(split.max), bits_of(whole.max)) << piece;
    EXPECT_EQ(bits_of(split.absmax), bits_of(whole.absmax)) << piece;
    EXPECT_EQ(split.count, whole.count) << piece;
    EXPECT_EQ(split.nan_count, 1u) << piece;
    EXPECT_EQ(split_counts, whole_counts) << piece;
  }
}

// ---- sources -------------------------------------------------------------------------------------

// Samples held in memory, yielded in `order` (a permutation of 0..n-1), at most `chunk` per next()
// call (0 = as many as asked for), so a test can shuffle the data or return short batches.
class MemorySource final : public BatchSource {
 public:
  MemorySource(Dims sample, std::vector<float> values, std::vector<int64_t> order = {}, int64_t chunk = 0)
      : sample_(std::move(sample)), values_(std::move(values)), order_(std::move(order)), chunk_(chunk) {
    const int64_t n = static_cast<int64_t>(values_.size()) / numel(sample_);
    if (order_.empty()) {
      order_.resize(static_cast<size_t>(n));
      std::iota(order_.begin(), order_.end(), 0);
    }
  }

  // Everything `source` yields, optionally shuffled with a fixed seed.
  static MemorySource read_all(BatchSource& source, int64_t limit, uint32_t shuffle_seed, int64_t chunk) {
    std::vector<float> values;
    Batch batch;
    source.reset();
    int64_t n = 0;
    while (n < limit && source.next(std::min<int64_t>(64, limit - n), batch)) {
      const float* data = batch.images.data<float>();
      values.insert(values.end(), data, data + batch.images.numel());
      n += batch.images.dims()[0];
    }
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    if (shuffle_seed != 0) std::shuffle(order.begin(), order.end(), std::mt19937(shuffle_seed));
    return MemorySource(source.sample_dims(), std::move(values), std::move(order), chunk);
  }

  int64_t size() const override { return static_cast<int64_t>(order_.size()); }
  Dims sample_dims() const override { return sample_; }
  void reset() override { position_ = 0; }
  std::string describe() const override { return "test samples (" + std::to_string(size()) + ")"; }

  bool next(int64_t max_batch, Batch& batch) override {
    int64_t n = std::min(max_batch, size() - position_);
    if (chunk_ > 0) n = std::min(n, chunk_);
    if (n <= 0) return false;
    Dims dims{n};
    dims.insert(dims.end(), sample_.begin(), sample_.end());
    batch.images = Tensor(DataType::kFloat32, dims);
    const int64_t elems = numel(sample_);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t from = order_[static_cast<size_t>(position_ + i)];
      std::memcpy(batch.images.data<float>() + i * elems, values_.data() + from * elems,
                  sizeof(float) * static_cast<size_t>(elems));
    }
    batch.labels.assign(static_cast<size_t>(n), -1);
    position_ += n;
    return true;
  }

 private:
  Dims sample_;
  std::vector<float> values_;
  std::vector<int64_t> order_;
  int64_t chunk_ = 0;
  int64_t position_ = 0;
};

std::vector<float> uniform_values(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(engine);
  return v;
}

CalibratorOptions cpu_options(int64_t batch) {
  CalibratorOptions options;
  options.backend = BackendKind::kCpu;
  options.backend_options.reference = true;
  options.batch = batch;
  return options;
}

// Every statistic and count of `a` and `b` equal bit for bit.
void expect_identical(const CalibrationData& a, const CalibrationData& b, const std::string& what) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size()) << what;
  EXPECT_EQ(a.images, b.images) << what;
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    const TensorCalibration& x = a.tensors[t];
    const TensorCalibration& y = b.tensors[t];
    const std::string where = what + ", tensor '" + x.name + "'";
    ASSERT_EQ(x.name, y.name) << where;
    EXPECT_EQ(bits_of(x.stats.min), bits_of(y.stats.min)) << where << ": min " << x.stats.min << " vs " << y.stats.min;
    EXPECT_EQ(bits_of(x.stats.max), bits_of(y.stats.max)) << where << ": max " << x.stats.max << " vs " << y.stats.max;
    EXPECT_EQ(bits_of(x.stats.absmax), bits_of(y.stats.absmax))
        << where << ": absmax " << x.stats.absmax << " vs " << y.stats.absmax;
    EXPECT_EQ(x.stats.count, y.stats.count) << where;
    EXPECT_EQ(x.stats.nan_count, y.stats.nan_count) << where;
    EXPECT_EQ(bits_of(x.histogram.range), bits_of(y.histogram.range)) << where;
    EXPECT_EQ(x.histogram.counts, y.histogram.counts) << where << ": histogram counts differ";
  }
}

// Each tensor saw images * (its elements per sample) values, all of them binned (over [0, abs-max]
// with two passes).
void expect_complete(const Graph& graph, const CalibrationData& data, const std::string& what, bool two_pass = true) {
  Graph one = graph;
  set_batch(one, 1);
  for (const TensorCalibration& t : data.tensors) {
    const uint64_t per_sample = static_cast<uint64_t>(numel(one.value(one.find_value(t.name)).dims));
    const uint64_t expected = static_cast<uint64_t>(data.images) * per_sample;
    EXPECT_EQ(t.stats.count, expected) << what << ", tensor '" << t.name << "'";
    EXPECT_EQ(t.stats.nan_count, 0u) << what << ", tensor '" << t.name << "'";
    ASSERT_EQ(t.histogram.counts.size(), static_cast<size_t>(kHistogramBins)) << what << ", tensor '" << t.name << "'";
    EXPECT_EQ(sum_of(t.histogram.counts), expected) << what << ", tensor '" << t.name << "'";
    if (two_pass) {
      EXPECT_EQ(bits_of(t.histogram.range), bits_of(t.stats.absmax)) << what << ", tensor '" << t.name << "'";
    }
  }
}

// ---- taps ----------------------------------------------------------------------------------------

ConvAttrs conv_attrs(int64_t k, int64_t pad) {
  ConvAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  return a;
}

PoolAttrs pool_attrs(int64_t k, int64_t stride, int64_t pad) {
  PoolAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.stride_h = a.stride_w = stride;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  return a;
}

Tensor random_tensor(Dims dims, uint32_t seed, float lo = -0.5f, float hi = 0.5f) {
  Tensor t(DataType::kFloat32, std::move(dims));
  const std::vector<float> v = uniform_values(t.numel(), lo, hi, seed);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

// Every operator kind the calibrator taps, and the untapped ones between them. Input [N, 2, 6, 6].
Graph every_op_graph() {
  test::GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 6, 6}, /*batched=*/true);
  const ValueId conv = b.node(
      OpKind::Conv, "conv",
      {x, b.constant("w", random_tensor({4, 2, 3, 3}, 1)), b.constant("wb", random_tensor({4}, 2))}, conv_attrs(3, 1));
  const ValueId relu = b.node(OpKind::Relu, "relu", {conv}, ActivationParams{Activation::kRelu, 0, 0});
  const ValueId clip = b.node(OpKind::Clip, "clip", {relu}, ActivationParams{Activation::kClip, 0.0f, 0.25f});
  const ValueId bn =
      b.node(OpKind::BatchNormalization, "bn",
             {conv, b.constant("scale", random_tensor({4}, 3, 0.5f, 1.5f)), b.constant("shift", random_tensor({4}, 4)),
              b.constant("mean", random_tensor({4}, 5)), b.constant("var", random_tensor({4}, 6, 0.5f, 1.5f))},
             BatchNormAttrs{});
  const ValueId leaky = b.node(OpKind::LeakyRelu, "leaky", {bn}, ActivationParams{Activation::kLeakyRelu, 0.1f, 0});
  const ValueId sub = b.node(OpKind::Sub, "sub", {leaky, b.constant("half", {1}, {0.5f})});
  const ValueId sigmoid = b.node(OpKind::Sigmoid, "sigmoid", {sub}, ActivationParams{Activation::kSigmoid, 0, 0});
  const ValueId hsig =
      b.node(OpKind::HardSigmoid, "hsig", {sub}, ActivationParams{Activation::kHardSigmoid, 0.2f, 0.5f});
  const ValueId hswish = b.node(OpKind::HardSwish, "hswish", {sub}, ActivationParams{Activation::kHardSwish, 0, 0});
  const ValueId add = b.node(OpKind::Add, "add", {clip, hswish});
  const ValueId mul = b.node(OpKind::Mul, "mul", {add, sigmoid});
  ConcatAttrs cat;
  cat.axis = 1;
  const ValueId concat = b.node(OpKind::Concat, "concat", {mul, hsig}, cat);                  // [N, 8, 6, 6]
  const ValueId maxpool = b.node(OpKind::MaxPool, "maxpool", {concat}, pool_attrs(2, 2, 0));  // [N, 8, 3, 3]
  PoolAttrs avg = pool_attrs(3, 1, 1);
  avg.count_include_pad = true;
  const ValueId avgpool = b.node(OpKind::AveragePool, "avgpool", {maxpool}, avg);
  const ValueId ident = b.node(OpKind::Identity, "ident", {avgpool});
  const ValueId gmp = b.node(OpKind::GlobalMaxPool, "gmp", {maxpool});
  const ValueId gap = b.node(OpKind::GlobalAveragePool, "gap", {ident});
  const ValueId add2 = b.node(OpKind::Add, "add2", {gmp, gap});
  const ValueId div = b.node(OpKind::Div, "div", {add2, b.constant("two", {1}, {2.0f})});
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  flatten.axis = 1;
  const ValueId flat = b.node(OpKind::Reshape, "flatten", {div}, flatten);  // [N, 8]
  GemmAttrs gemm_attrs;
  const ValueId gemm =
      b.node(OpKind::Gemm, "gemm",
             {flat, b.constant("gb", random_tensor({8, 5}, 7)), b.constant("gc", random_tensor({5}, 8))}, gemm_attrs);
  GemmAttrs matmul_attrs;
  matmul_attrs.beta = 0.0f;
  const ValueId matmul =
      b.node(OpKind::MatMul, "matmul", {gemm, b.constant("m", random_tensor({5, 3}, 9))}, matmul_attrs);
  SoftmaxAttrs softmax;
  softmax.axis = 1;
  const ValueId prob = b.node(OpKind::Softmax, "softmax", {matmul}, softmax);
  b.output(prob);
  infer_shapes(b.graph);
  return b.graph;
}

TEST(CalibratorTaps, EveryTappedOperatorKindAndNoOther) {
  const Graph graph = every_op_graph();
  const std::vector<std::string> expected = {"x",      "conv:0",   "relu:0", "clip:0",   "bn:0",      "leaky:0",   "sigmoid:0",
                                             "hsig:0", "hswish:0", "add:0",  "concat:0", "maxpool:0", "avgpool:0",
                                             "gmp:0",  "gap:0",    "add2:0", "gemm:0",   "matmul:0"};
  EXPECT_EQ(calibrated_tensor_names(graph), expected);
}

TEST(CalibratorTaps, CalibrationObservesEveryTapInGraphOrder) {
  const Graph graph = every_op_graph();
  MemorySource source({2, 6, 6}, uniform_values(10 * 72, -1.0f, 1.0f, 11));
  const CalibrationData one = calibrate(graph, source, cpu_options(1));
  ASSERT_EQ(one.images, 10);
  std::vector<std::string> names;
  for (const TensorCalibration& t : one.tensors) names.push_back(t.name);
  EXPECT_EQ(names, calibrated_tensor_names(graph));
  expect_complete(graph, one, "batch 1");
  const CalibrationData four = calibrate(graph, source, cpu_options(4));  // 4 + 4 + 2 (padded)
  expect_complete(graph, four, "batch 4");
  expect_identical(one, four, "batch 1 vs 4");
  const CalibrationData sixteen = calibrate(graph, source, cpu_options(16));  // one padded batch
  expect_identical(one, sixteen, "batch 1 vs 16");
}

// ---- short batches -------------------------------------------------------------------------------

// x [N, 1, 2, 2] -> Conv 1x1 (w = 1, bias -5) -> y. Inputs in [1, 2]: y in [-4, -3]. A padded zero row
// would show up as x = 0 in the input's statistics and y = -5 in the convolution's.
Graph bias_graph() {
  test::GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 2, 2}, /*batched=*/true);
  const ValueId y = b.node(OpKind::Conv, "conv",
                           {x, b.constant("w", {1, 1, 1, 1}, {1.0f}), b.constant("b", {1}, {-5.0f})}, conv_attrs(1, 0));
  b.output(y);
  infer_shapes(b.graph);
  return b.graph;
}

TEST(CalibratorShortBatches, PaddedRowsAreNotObserved) {
  const Graph graph = bias_graph();
  for (int64_t chunk : {0, 3}) {  // 0: only the last batch is short; 3: the source returns short batches
    MemorySource source({1, 2, 2}, uniform_values(5 * 4, 1.0f, 2.0f, 5), {}, chunk);
    for (int64_t batch : {4, 8}) {
      const CalibrationData data = calibrate(graph, source, cpu_options(batch));
      const std::string what = "batch " + std::to_string(batch) + ", chunk " + std::to_string(chunk);
      ASSERT_EQ(data.tensors.size(), 2u);
      EXPECT_GE(data.tensors[0].stats.min, 1.0f) << what;
      EXPECT_LE(data.tensors[1].stats.max, -3.0f) << what;
      EXPECT_GE(data.tensors[1].stats.min, -4.0f) << what;
      EXPECT_LE(data.tensors[1].stats.absmax, 4.0f) << what;
      expect_complete(graph, data, what);
    }
  }
}

TEST(CalibratorShortBatches, ATapWhoseDim0IsNotTheBatchIsAnError) {
  // Transpose swaps batch and channels: at batch 4 relu:0 is [3, 4, 2, 2]; at batch 3 it is
  // [3, 3, 2, 2], whose dim 0 equals the batch only by chance (batch 4 tells).
  test::GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 2, 2}, /*batched=*/true);
  TransposeAttrs perm;
  perm.perm = {1, 0, 2, 3};
  const ValueId t = b.node(OpKind::Transpose, "transpose", {x}, perm);
  b.output(b.node(OpKind::Relu, "relu", {t}, ActivationParams{Activation::kRelu, 0, 0}));
  infer_shapes(b.graph);
  MemorySource source({3, 2, 2}, uniform_values(5 * 12, -1.0f, 1.0f, 6));
  for (int64_t batch : {3, 4}) {
    try {
      calibrate(b.graph, source, cpu_options(batch));
      ADD_FAILURE() << "batch " << batch << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("relu:0"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not the batch"), std::string::npos) << e.what();
    }
  }
  // At batch 1 there is no padding to leave out.
  const CalibrationData data = calibrate(b.graph, source, cpu_options(1));
  EXPECT_EQ(data.tensors.back().stats.count, 5u * 12u);
}

// ---- options, progress, errors -------------------------------------------------------------------

TEST(CalibratorOptions, MaxImagesAndProgress) {
  const Graph graph = bias_graph();
  MemorySource source({1, 2, 2}, uniform_values(10 * 4, 1.0f, 2.0f, 8));
  CalibratorOptions options = cpu_options(3);
  options.max_images = 7;
  std::vector<std::vector<int64_t>> calls;
  const CalibrationData data = calibrate(graph, source, options, [&](int pass, int64_t done, int64_t total) {
    calls.push_back({pass, done, total});
  });
  EXPECT_EQ(data.images, 7);
  EXPECT_EQ(data.tensors[0].stats.count, 7u * 4u);
  const std::vector<std::vector<int64_t>> expected = {{1, 0, 7}, {1, 3, 7}, {1, 6, 7}, {1, 7, 7},
                                                      {2, 0, 7}, {2, 3, 7}, {2, 6, 7}, {2, 7, 7}};
  EXPECT_EQ(calls, expected);
}

TEST(CalibratorOptions, SamplesThatDoNotFitTheInputNameBoth) {
  const Graph graph = bias_graph();
  MemorySource source({1, 3, 3}, uniform_values(2 * 9, 0.0f, 1.0f, 9));
  try {
    calibrate(graph, source, cpu_options(2));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("[1, 3, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("'x'"), std::string::npos) << what;
    EXPECT_NE(what.find("[1, 1, 2, 2]"), std::string::npos) << what;
  }
}

TEST(CalibratorOptions, EmptySourceGivesNoImages) {
  const Graph graph = bias_graph();
  MemorySource source({1, 2, 2}, {});
  const CalibrationData data = calibrate(graph, source, cpu_options(4));
  EXPECT_EQ(data.images, 0);
  ASSERT_EQ(data.tensors.size(), 2u);
  EXPECT_EQ(data.tensors[1].stats.count, 0u);
}

// ---- single-pass mode ----------------------------------------------------------------------------

TEST(CalibratorSinglePass, OneBatchEqualsTwoPasses) {
  const Graph graph = every_op_graph();
  MemorySource source({2, 6, 6}, uniform_values(6 * 72, -1.0f, 1.0f, 12));
  CalibratorOptions single = cpu_options(8);
  single.single_pass = true;
  expect_identical(calibrate(graph, source, cpu_options(8)), calibrate(graph, source, single), "single vs two passes");
}

TEST(CalibratorSinglePass, RangeGrowsByDoublingAndKeepsEveryCount) {
  // Sample i holds values up to about 2^i: the range starts at sample 0's abs-max and doubles.
  const Graph graph = bias_graph();
  std::vector<float> values;
  for (int i = 0; i < 6; ++i)
    for (float v : uniform_values(4, -1.0f, 1.0f, 20 + static_cast<uint32_t>(i))) values.push_back(std::ldexp(v, i));
  MemorySource source({1, 2, 2}, values);
  CalibratorOptions options = cpu_options(1);
  options.single_pass = true;
  const CalibrationData data = calibrate(graph, source, options);
  const TensorCalibration& x = data.tensors[0];
  TensorStats first;
  kernels::tensor_stats_ref(values.data(), 4, first);
  EXPECT_GE(x.histogram.range, x.stats.absmax);
  EXPECT_LT(x.histogram.range, 2.0f * x.stats.absmax);
  int exponent = 0;
  EXPECT_EQ(std::frexp(x.histogram.range / first.absmax, &exponent), 0.5f) << "not a power-of-two multiple";
  EXPECT_EQ(sum_of(x.histogram.counts), 24u);
  expect_complete(graph, data, "single pass", /*two_pass=*/false);
}

// ---- determinism on the reference models ----------------------------------------------------------

std::unique_ptr<BatchSource> open_fashion_mnist() {
  SourceOptions options;
  options.preprocessing = preprocessing_preset("fashion-mnist");
  return open_batch_source(test::fashion_mnist_test_images(), options);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The TensorRT cache `data` gives with every range method, as bytes.
std::vector<std::string> caches_of(const CalibrationData& data) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::vector<std::string> caches;
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse}) {
    RangeOptions range;
    range.method = method;
    const std::string path =
        (dir / ("octet_test_calibrator_" + std::to_string(static_cast<int>(method)) + ".cache")).string();
    write_trt_cache(path, make_scale_table(data, range));
    caches.push_back(read_bytes(path));
    std::filesystem::remove(path);
  }
  return caches;
}

// reference: the plain reference kernels, else the fast path (which the calibrator runs
// batch-invariant); the fast path also compares the caches of every method byte for byte.
void check_model_determinism(const std::string& model, int64_t images, bool reference) {
  const std::string data_file = test::fashion_mnist_test_images();
  if (!std::filesystem::exists(data_file)) GTEST_SKIP() << "no Fashion-MNIST at " << data_file;
  const Graph graph = import_onnx_file(test::source_dir() + "/models/" + model);
  auto idx = open_fashion_mnist();
  auto options = [&](int64_t batch) {
    CalibratorOptions o = cpu_options(batch);
    o.backend_options.reference = reference;
    o.max_images = images;
    return o;
  };
  const CalibrationData base = calibrate(graph, *idx, options(64));
  EXPECT_EQ(base.images, images);
  expect_complete(graph, base, model + " batch 64");
  const std::vector<std::string> base_caches = reference ? std::vector<std::string>{} : caches_of(base);
  auto expect_same = [&](const CalibrationData& data, const std::string& what) {
    expect_identical(base, data, what);
    if (reference) return;
    const std::vector<std::string> caches = caches_of(data);
    ASSERT_EQ(caches.size(), base_caches.size());
    for (size_t m = 0; m < caches.size(); ++m) {
      EXPECT_FALSE(caches[m].empty()) << what;
      EXPECT_EQ(caches[m], base_caches[m]) << what << ": the cache of range method " << m << " differs";
    }
  };
  for (int64_t batch : {1, 7})
    expect_same(calibrate(graph, *idx, options(batch)), model + " batch 64 vs " + std::to_string(batch));
  MemorySource shuffled = MemorySource::read_all(*idx, images, /*shuffle_seed=*/2024, /*chunk=*/0);
  expect_same(calibrate(graph, shuffled, options(64)), model + " shuffled, batch 64");
  MemorySource short_batches = MemorySource::read_all(*idx, images, /*shuffle_seed=*/77, /*chunk=*/5);
  expect_same(calibrate(graph, short_batches, options(7)), model + " shuffled, batches of at most 5");
}

TEST(CalibratorDeterminism, MlpFashionMnistBatchSizesAndOrder) {
  check_model_determinism("mlp_fmnist.onnx", 300, /*reference=*/true);
}

TEST(CalibratorDeterminism, ResnetFashionMnistBatchSizesAndOrder) {
  check_model_determinism("resnet_fmnist.onnx", 32, /*reference=*/true);
}

TEST(CalibratorDeterminism, MlpFashionMnistFastPathBatchInvariantCaches) {
  check_model_determinism("mlp_fmnist.onnx", 300, /*reference=*/false);
}

TEST(CalibratorDeterminism, ResnetFashionMnistFastPathBatchInvariantCaches) {
  check_model_determinism("resnet_fmnist.onnx", 64, /*reference=*/false);
}

}  // namespace
}  // namespace octet
