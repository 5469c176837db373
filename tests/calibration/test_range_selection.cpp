// Range selection (calibration/range_selection.h): hand-computed cases on hand-made histograms, then
// every method against reference_ranges.py, an independent NumPy implementation, on hand-made and
// sampled histograms. The reference must pick the same bin (so the same float amax) for entropy,
// percentile and mse, and the same abs-max for max.
//
// The reference runs under OCTET_PYTHON (a CMake cache variable, overridable from the environment).
// A missing interpreter or NumPy fails these tests; OCTET_SKIP_PYTHON_TESTS=1 turns that into a
// skip for machines that carry no Python (the CPU-only GPU bundle).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "calibration/range_selection.h"
#include "engine/error.h"
#include "tests/support/paths.h"
#include "kernels/cpu/histogram_ref.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

constexpr double kNoPercentile = 99.99;

// range 2048 makes the bin width 1, so every expected amax below is a small exact number.
Histogram hand_histogram(const std::map<int, uint64_t>& nonzero, float range = 2048.0f) {
  Histogram h;
  h.range = range;
  h.counts.assign(kHistogramBins, 0);
  for (const auto& [bin, count] : nonzero) h.counts[bin] = count;
  return h;
}

using kernels::float_bits;       // kernels/cpu/histogram_ref.h
using kernels::float_from_bits;

// ---- statistics ----------------------------------------------------------------------------------

TEST(TensorStats, MergeTakesExtremesAndAddsCounts) {
  TensorStats a;
  a.min = -2.0f, a.max = 1.0f, a.absmax = 2.0f, a.count = 10, a.nan_count = 1;
  TensorStats b;
  b.min = -0.5f, b.max = 3.0f, b.absmax = 3.0f, b.count = 5, b.nan_count = 2;
  TensorStats merged = a;
  merged.merge(b);
  EXPECT_EQ(merged.min, -2.0f);
  EXPECT_EQ(merged.max, 3.0f);
  EXPECT_EQ(merged.absmax, 3.0f);
  EXPECT_EQ(merged.count, 15u);
  EXPECT_EQ(merged.nan_count, 3u);
}

TEST(TensorStats, MergeWithEmptyIsIdentity) {
  TensorStats a;
  a.min = 0.25f, a.max = 0.5f, a.absmax = 0.5f, a.count = 3;
  TensorStats merged;  // empty: +inf, -inf, 0
  merged.merge(a);
  EXPECT_EQ(merged.min, 0.25f);
  EXPECT_EQ(merged.max, 0.5f);
  EXPECT_EQ(merged.absmax, 0.5f);
  EXPECT_EQ(merged.count, 3u);
  a.merge(TensorStats{});
  EXPECT_EQ(a.min, 0.25f);
  EXPECT_EQ(a.max, 0.5f);
}

TEST(Histogram, TotalSumsCountsBeyond32Bits) {
  Histogram h = hand_histogram({{0, uint64_t(1) << 40}, {2047, 3}});
  EXPECT_EQ(h.total(), (uint64_t(1) << 40) + 3);
  EXPECT_EQ(Histogram{}.total(), 0u);
}

// ---- names ---------------------------------------------------------------------------------------

TEST(RangeMethod, NamesRoundTrip) {
  for (RangeMethod m : {RangeMethod::kMax, RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse})
    EXPECT_EQ(parse_range_method(to_string(m)), m);
}

TEST(RangeMethod, UnknownNameListsTheMethods) {
  try {
    parse_range_method("kl");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'kl'"), std::string::npos) << what;
    for (const char* name : {"max", "entropy", "percentile", "mse"}) EXPECT_NE(what.find(name), std::string::npos);
  }
}

// ---- hand-computed cases -------------------------------------------------------------------------

TEST(RangeSelectionByHand, MaxIsTheObservedAbsMax) {
  TensorStats stats;
  stats.absmax = 3.75f;
  EXPECT_EQ(amax_max(stats), 3.75f);
}

// 100 values: 50 in bin 0, 30 in bin 10, 15 in bin 100, 5 in bin 1000 (bin width 1). Cumulative
// counts 50, 80, 95, 100, so p <= 50 stops at bin 0 (edge 1), p <= 80 at bin 10 (edge 11), ...
TEST(RangeSelectionByHand, PercentileOnFourPopulatedBins) {
  const Histogram h = hand_histogram({{0, 50}, {10, 30}, {100, 15}, {1000, 5}});
  EXPECT_EQ(amax_percentile(h, 10.0), 1.0f);
  EXPECT_EQ(amax_percentile(h, 50.0), 1.0f);
  EXPECT_EQ(amax_percentile(h, 50.5), 11.0f);
  EXPECT_EQ(amax_percentile(h, 80.0), 11.0f);
  EXPECT_EQ(amax_percentile(h, 80.01), 101.0f);
  EXPECT_EQ(amax_percentile(h, 95.0), 101.0f);
  EXPECT_EQ(amax_percentile(h, 99.99), 1001.0f);
  EXPECT_EQ(amax_percentile(h, 100.0), 1001.0f);  // the last non-empty bin's upper edge, not the range
}

// 9999 of 10000 values in bin 0: exactly 99.99 % is reached there (9999 >= 0.9999 * 10000), one
// more digit is not.
TEST(RangeSelectionByHand, PercentileReachesAnExactShare) {
  const Histogram h = hand_histogram({{0, 9999}, {2047, 1}}, 4.0f);  // bin width 1/512
  EXPECT_EQ(amax_percentile(h, 99.99), 1.0f / 512);
  EXPECT_EQ(amax_percentile(h, 99.991), 4.0f);
}

TEST(RangeSelectionByHand, PercentileOutsideZeroToHundredIsAnError) {
  const Histogram h = hand_histogram({{0, 1}});
  for (double p : {0.0, -1.0, 100.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(amax_percentile(h, p), Error) << p;
}

// Every value in bin 5: for every candidate P = Q = one spike, KL = 0, and the tie goes to the
// smallest candidate, 128 bins kept: amax = 128.5.
TEST(RangeSelectionByHand, EntropyAllInOneBinTakesTheSmallestCandidate) {
  EXPECT_EQ(amax_entropy(hand_histogram({{5, 1000}})), 128.5f);
}

// Spikes in bins 0 and 200. Candidates 128..200 move bin 200 into an empty bin i-1 (q = 0 where
// p > 0: KL = inf); i = 201 keeps both spikes, each alone in its level (the last level spans bins
// 127..200), so Q = P and KL = 0.
TEST(RangeSelectionByHand, EntropyKeepsTwoIsolatedSpikes) {
  EXPECT_EQ(amax_entropy(hand_histogram({{0, 40}, {200, 1}})), 201.5f);
}

// A flat histogram: any cut piles the tail onto bin i-1, which the flat levels of Q cannot match
// (KL > 0); keeping all 2048 bins gives Q = P. amax = 2048.5 bins, half a bin past the range.
TEST(RangeSelectionByHand, EntropyOfAFlatHistogramKeepsEveryBin) {
  std::map<int, uint64_t> flat;
  for (int k = 0; k < kHistogramBins; ++k) flat[k] = 3;
  EXPECT_EQ(amax_entropy(hand_histogram(flat)), 2048.5f);
}

// All values equal to the abs-max land in the last bin: only i = 2048 has q > 0 there.
TEST(RangeSelectionByHand, EntropyAllInTheLastBin) { EXPECT_EQ(amax_entropy(hand_histogram({{2047, 17}})), 2048.5f); }

// All values at the centre of bin 0 (0.5): with amax >= 128 bins the scale exceeds 1 bin, 0.5
// rounds to level 0 and every candidate has the same error 0.25 per value; the smallest wins.
TEST(RangeSelectionByHand, MseAllInBinZeroTakesTheSmallestCandidate) {
  EXPECT_EQ(amax_mse(hand_histogram({{0, 7}})), 128.0f);
}

// All values at the centre of bin 2047 (2047.5). amax = 2047 clips them to 2047, amax = 2048
// rounds 2047.5 * 127 / 2048 = 126.97 to level 127 = 2048: both err by 0.5; any smaller amax
// clips further. The tie goes to the smaller amax.
TEST(RangeSelectionByHand, MseTieBetweenClippingAndRoundingTakesTheSmallerAmax) {
  EXPECT_EQ(amax_mse(hand_histogram({{2047, 5}})), 2047.0f);
}

TEST(RangeSelectionByHand, AllZeroTensorGivesZero) {
  TensorCalibration zeros;
  zeros.name = "zeros";
  zeros.stats.min = zeros.stats.max = 0.0f;
  zeros.stats.count = 1000;
  zeros.histogram = hand_histogram({{0, 1000}}, 0.0f);
  for (RangeMethod m : {RangeMethod::kMax, RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse})
    EXPECT_EQ(select_amax(zeros, {m, kNoPercentile}), 0.0f) << to_string(m);
}

TEST(RangeSelectionByHand, HistogramWithoutCountsGivesZero) {
  Histogram h = hand_histogram({}, 1.0f);
  EXPECT_EQ(amax_entropy(h), 0.0f);
  EXPECT_EQ(amax_percentile(h, 99.9), 0.0f);
  EXPECT_EQ(amax_mse(h), 0.0f);
  EXPECT_EQ(amax_entropy(Histogram{}), 0.0f);
}

TEST(RangeSelection, SelectDispatchesOnTheMethod) {
  TensorCalibration t;
  t.name = "conv1";
  t.stats.absmax = 2048.0f;
  t.histogram = hand_histogram({{0, 50}, {10, 30}, {100, 15}, {1000, 5}});
  EXPECT_EQ(select_amax(t, {RangeMethod::kMax, kNoPercentile}), 2048.0f);
  EXPECT_EQ(select_amax(t, {RangeMethod::kPercentile, 80.0}), 11.0f);
  EXPECT_EQ(select_amax(t, {RangeMethod::kEntropy, kNoPercentile}), amax_entropy(t.histogram));
  EXPECT_EQ(select_amax(t, {RangeMethod::kMse, kNoPercentile}), amax_mse(t.histogram));
}

TEST(RangeSelection, MissingOrMisshapenHistogramNamesTheTensor) {
  TensorCalibration t;
  t.name = "layer3/conv:0";
  t.stats.absmax = 1.0f;
  EXPECT_EQ(select_amax(t, {RangeMethod::kMax, kNoPercentile}), 1.0f);  // max needs no histogram
  for (RangeMethod m : {RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse}) {
    try {
      select_amax(t, {m, kNoPercentile});
      ADD_FAILURE() << to_string(m) << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'layer3/conv:0'"), std::string::npos) << e.what();
    }
  }
  t.histogram.range = 1.0f;
  t.histogram.counts.assign(100, 1);
  try {
    select_amax(t, {RangeMethod::kEntropy, kNoPercentile});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("100 bins"), std::string::npos) << e.what();
  }
  EXPECT_THROW(amax_mse(t.histogram), Error);
}

// Bin width 1; 100 values: 50 in bin 0, 30 in bin 10, 15 in bin 100, 5 in bin 1000.
TEST(RangeSelectionByHand, SaturationCountsWholeBinsAndTheStraddledShare) {
  const Histogram h = hand_histogram({{0, 50}, {10, 30}, {100, 15}, {1000, 5}});
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 1001.0f), 0.0);    // bin 1000 ends at amax
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 1000.5f), 0.025);  // half of bin 1000
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 1000.0f), 0.05);   // all of it
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 50.0f), 0.2);
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 0.0f), 1.0);
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 2048.0f), 0.0);
  EXPECT_DOUBLE_EQ(saturation_fraction(h, 3000.0f), 0.0);
  EXPECT_DOUBLE_EQ(saturation_fraction(Histogram{}, 1.0f), 0.0);
}

// ---- against the NumPy reference -----------------------------------------------------------------

const std::vector<double> kPercentiles = {50.0, 99.0, 99.9, 99.99, 99.999, 100.0};

struct Case {
  std::string name;
  TensorStats stats;
  Histogram histogram;
};

// Stats and histogram of `values` as the two-pass calibrator builds them (histogram.h).
Case sampled(const std::string& name, const std::vector<float>& values) {
  Case c;
  c.name = name;
  for (float v : values) {
    c.stats.min = std::min(c.stats.min, v);
    c.stats.max = std::max(c.stats.max, v);
    c.stats.absmax = std::max(c.stats.absmax, std::fabs(v));
  }
  c.stats.count = values.size();
  c.histogram.range = c.stats.absmax;
  c.histogram.counts.assign(kHistogramBins, 0);
  const float inv_width = c.histogram.inverse_bin_width();
  for (float v : values) ++c.histogram.counts[histogram_bin(v, inv_width)];
  return c;
}

Case counted(const std::string& name, float range, std::vector<uint64_t> counts) {
  Case c;
  c.name = name;
  c.stats.absmax = range;
  c.histogram.range = range;
  c.histogram.counts = std::move(counts);
  for (uint64_t n : c.histogram.counts) c.stats.count += n;
  return c;
}

template <typename Draw>
std::vector<float> draw(size_t n, Draw&& one) {
  std::vector<float> values(n);
  for (float& v : values) v = one();
  return values;
}

std::vector<Case> reference_cases() {
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::exponential_distribution<float> exponential(1.0f);
  std::student_t_distribution<float> student(1.5f);
  std::bernoulli_distribution coin(0.5);
  constexpr size_t kSamples = 200000;

  std::vector<Case> cases;
  cases.push_back(sampled("uniform", draw(kSamples, [&] { return uniform(rng); })));
  cases.push_back(sampled("gaussian", draw(kSamples, [&] { return 0.3f * normal(rng); })));
  cases.push_back(sampled("laplace", draw(kSamples, [&] { return (coin(rng) ? 1.0f : -1.0f) * exponential(rng); })));
  cases.push_back(sampled("heavy_tailed", draw(kSamples, [&] { return student(rng); })));
  // After a ReLU: half the values exactly 0 (all in bin 0), the rest half-Gaussian.
  cases.push_back(sampled("relu_gaussian", draw(kSamples, [&] { return std::max(0.0f, 2.0f * normal(rng)); })));
  cases.push_back(sampled("small_gaussian", draw(1000, [&] { return normal(rng); })));
  // All values equal: |x| == range lands in the last bin.
  cases.push_back(sampled("all_equal", std::vector<float>(5000, -0.75f)));
  cases.push_back(sampled("zeros", std::vector<float>(4096, 0.0f)));

  std::vector<uint64_t> counts(kHistogramBins, 0);
  counts[700] = 123456;
  cases.push_back(counted("one_middle_bin", 3.0f, counts));
  // Everything in bin 0: every entropy and mse candidate ties, the smallest must win.
  counts.assign(kHistogramBins, 0);
  counts[0] = 999;
  cases.push_back(counted("first_bin_only", 0.5f, counts));
  // Sparse: a few populated bins among many empty ones.
  counts.assign(kHistogramBins, 0);
  std::uniform_int_distribution<int> any_bin(0, kHistogramBins - 1);
  std::uniform_int_distribution<uint64_t> some(1, 5000);
  for (int i = 0; i < 40; ++i) counts[any_bin(rng)] = some(rng);
  cases.push_back(counted("sparse", 0.01f, counts));
  // Every bin random, and a Gaussian shape with counts far past 2^32 (exact MSE sums matter).
  for (uint64_t& n : counts) n = some(rng);
  cases.push_back(counted("random_counts", 12.5f, counts));
  for (int k = 0; k < kHistogramBins; ++k) {
    const double z = (k + 0.5) / 400.0;
    counts[k] = static_cast<uint64_t>(std::llround(1e12 * std::exp(-0.5 * z * z))) + (k == 2047 ? 5 : 0);
  }
  cases.push_back(counted("large_counts", 7.0f, counts));
  counts.assign(kHistogramBins, 0);
  cases.push_back(counted("no_counts", 1.0f, counts));
  return cases;
}

std::string python_interpreter() {
  const char* env = std::getenv("OCTET_PYTHON");
  return env && *env ? env : OCTET_PYTHON;
}

bool skip_python_tests() {
  const char* env = std::getenv("OCTET_SKIP_PYTHON_TESTS");
  return env && std::string(env) == "1";
}

class ReferenceRanges : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cases_ = reference_cases(); }

  // Runs reference_ranges.py on one case: one process per case, so a ctest run of a single test
  // pays for its own case only. Throws with the reason when the reference cannot run.
  static nlohmann::json run_reference(const Case& c) {
    const std::string python = python_interpreter();
    const std::string script = test::source_dir() + "/tests/calibration/reference_ranges.py";
    OCTET_CHECK(
        ::access(python.c_str(), X_OK) == 0, "Python interpreter '", python,
        "' not found (configure -DOCTET_PYTHON=..., or set OCTET_PYTHON; Debian: apt-get install python3-numpy)");
    OCTET_CHECK(fs::exists(script), "reference script '", script, "' not found (set OCTET_SOURCE_DIR)");

    const fs::path dir =
        fs::temp_directory_path() / ("octet_reference_ranges_" + std::to_string(::getpid()) + "_" + c.name);
    fs::create_directories(dir);
    const nlohmann::json input = {{"histograms",
                                   {{{"name", c.name},
                                     {"range_bits", float_bits(c.histogram.range)},
                                     {"absmax_bits", float_bits(c.stats.absmax)},
                                     {"counts", c.histogram.counts},
                                     {"percentiles", kPercentiles}}}}};
    const std::string in = (dir / "histograms.json").string(), out = (dir / "results.json").string(),
                      err = (dir / "stderr.txt").string();
    std::ofstream(in) << input.dump();
    const std::string command = "'" + python + "' '" + script + "' '" + in + "' > '" + out + "' 2> '" + err + "'";
    const int status = std::system(command.c_str());
    std::stringstream output, errors;
    output << std::ifstream(out).rdbuf();
    errors << std::ifstream(err).rdbuf();
    fs::remove_all(dir);
    OCTET_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "reference_ranges.py failed (",
                status != -1 && WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status)) : "killed",
                "):\n", errors.str(), "command: ", command);
    const nlohmann::json results = nlohmann::json::parse(output.str()).at("results");
    OCTET_CHECK(results.size() == 1 && results[0].at("name") == c.name, "reference_ranges.py answered ",
                results.dump().substr(0, 200), " for case ", c.name);
    return results[0];
  }

  // C++ and reference agree on every method for case `name`.
  static void check(const std::string& name) {
    const Case* c = nullptr;
    for (const Case& each : cases_)
      if (each.name == name) c = &each;
    ASSERT_NE(c, nullptr) << name;
    nlohmann::json r;
    try {
      r = run_reference(*c);
    } catch (const std::exception& e) {
      if (skip_python_tests()) GTEST_SKIP() << "OCTET_SKIP_PYTHON_TESTS=1: " << e.what();
      FAIL() << e.what() << "\n(set OCTET_SKIP_PYTHON_TESTS=1 to skip the NumPy comparisons on a machine without them)";
    }
    const float width = c->histogram.bin_width();
    // Bins in the messages: amax / width - 1 (percentile, mse) or - 0.5 (entropy).
    auto same = [&](const char* method, float amax, const nlohmann::json& ref, double offset) {
      const float ref_amax = float_from_bits(ref.at("amax_bits").get<uint32_t>());
      EXPECT_EQ(float_bits(amax), float_bits(ref_amax))
          << name << " " << method << ": octet amax " << amax << " (bin " << (width > 0 ? amax / width - offset : -1)
          << "), reference " << ref_amax << " (bin " << ref.at("bin") << ")";
    };
    EXPECT_EQ(float_bits(amax_max(c->stats)), r.at("max_bits").get<uint32_t>()) << name << " max";
    same("entropy", amax_entropy(c->histogram), r.at("entropy"), 0.5);
    same("mse", amax_mse(c->histogram), r.at("mse"), 1.0);
    const nlohmann::json& percentiles = r.at("percentile");
    ASSERT_EQ(percentiles.size(), kPercentiles.size());
    for (size_t i = 0; i < kPercentiles.size(); ++i) {
      const std::string method = "percentile " + std::to_string(kPercentiles[i]);
      same(method.c_str(), amax_percentile(c->histogram, kPercentiles[i]), percentiles[i], 1.0);
    }
  }

  static std::vector<Case> cases_;
};

std::vector<Case> ReferenceRanges::cases_;

TEST_F(ReferenceRanges, Uniform) { check("uniform"); }
TEST_F(ReferenceRanges, Gaussian) { check("gaussian"); }
TEST_F(ReferenceRanges, Laplace) { check("laplace"); }
TEST_F(ReferenceRanges, HeavyTailed) { check("heavy_tailed"); }
TEST_F(ReferenceRanges, ReluGaussian) { check("relu_gaussian"); }
TEST_F(ReferenceRanges, SmallSample) { check("small_gaussian"); }
TEST_F(ReferenceRanges, AllValuesEqual) { check("all_equal"); }
TEST_F(ReferenceRanges, TensorOfZeros) { check("zeros"); }
TEST_F(ReferenceRanges, AllInOneMiddleBin) { check("one_middle_bin"); }
TEST_F(ReferenceRanges, AllInTheFirstBin) { check("first_bin_only"); }
TEST_F(ReferenceRanges, SparseWithEmptyBins) { check("sparse"); }
TEST_F(ReferenceRanges, RandomCounts) { check("random_counts"); }
TEST_F(ReferenceRanges, CountsBeyond32Bits) { check("large_counts"); }
TEST_F(ReferenceRanges, NoCounts) { check("no_counts"); }

}  // namespace
}  // namespace octet
