// Calibration files (calibration/calibration_io.h): the TensorRT cache, the JSON table and the HDF5
// histograms. Round trips compare float bits; expected scales of hand-written caches come from the
// literal hex through memcpy, never from octet's writer; every malformed input is refused with the
// file and line or tensor named; a failed or killed write leaves the earlier file intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "calibration/calibration_io.h"
#include "engine/error.h"
#include "octet/build_config.h"
#include "kernels/cpu/histogram_ref.h"
#include "quantize/qscheme.h"

#if OCTET_HDF5
#include <H5Cpp.h>
#endif

namespace fs = std::filesystem;

namespace octet {
namespace {

// ---- helpers -------------------------------------------------------------------------------------

using kernels::float_bits;       // kernels/cpu/histogram_ref.h
using kernels::float_from_bits;

class CalibrationIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("octet_calibration_io_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_text(const std::string& name, const std::string& text) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  static std::string read_text(const std::string& p) {
    std::stringstream s;
    s << std::ifstream(p, std::ios::binary).rdbuf();
    return s.str();
  }

  // The Error message of read_trt_cache on `text` ("" when it reads).
  std::string cache_error(const std::string& text) const {
    try {
      read_trt_cache(write_text("cache.txt", text));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TensorScale scale_entry(const std::string& name, uint32_t scale_bits) {
  TensorScale t;
  t.name = name;
  t.scale = float_from_bits(scale_bits);
  t.amax = t.scale * 127.0f;
  t.absmax = t.amax;
  return t;
}

ScaleTable table_of(std::vector<TensorScale> tensors, RangeMethod method = RangeMethod::kEntropy) {
  ScaleTable table;
  table.model = "model.onnx";
  table.method = method;
  table.images = 500;
  table.tensors = std::move(tensors);
  return table;
}

// A table of `n` tensors with scales drawn from every positive finite float.
ScaleTable random_table(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> bits(1, 0x7f7fffff);  // +denormal min .. FLT_MAX
  std::vector<TensorScale> tensors;
  for (size_t i = 0; i < n; ++i) tensors.push_back(scale_entry("tensor_" + std::to_string(i), bits(rng)));
  return table_of(std::move(tensors));
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in:\n" << text;
}

// ---- scales --------------------------------------------------------------------------------------

TEST(ScaleFromAmax, TrueDivisionAndOneForZero) {
  EXPECT_EQ(float_bits(quant::scale_from_amax(12.7f)), float_bits(12.7f / 127.0f));
  EXPECT_EQ(float_bits(quant::scale_from_amax(1e-30f)), float_bits(1e-30f / 127.0f));
  EXPECT_EQ(quant::scale_from_amax(0.0f), 1.0f);
}

TEST(MakeScaleTable, AppliesTheMethodPerTensor) {
  CalibrationData data;
  data.model = "net.onnx";
  data.images = 64;
  TensorCalibration a;
  a.name = "input";
  a.stats.min = -2000.0f, a.stats.max = 2048.0f, a.stats.absmax = 2048.0f, a.stats.count = 100;
  a.histogram.range = 2048.0f;  // bin width 1
  a.histogram.counts.assign(kHistogramBins, 0);
  a.histogram.counts[0] = 50, a.histogram.counts[10] = 30, a.histogram.counts[100] = 15, a.histogram.counts[2047] = 5;
  TensorCalibration zeros;
  zeros.name = "relu:0";
  zeros.stats.min = zeros.stats.max = 0.0f, zeros.stats.count = 7;
  zeros.histogram.counts.assign(kHistogramBins, 0);
  zeros.histogram.counts[0] = 7;
  data.tensors = {a, zeros};

  const ScaleTable table = make_scale_table(data, {RangeMethod::kPercentile, 80.0});
  EXPECT_EQ(table.model, "net.onnx");
  EXPECT_EQ(table.images, 64);
  EXPECT_EQ(table.method, RangeMethod::kPercentile);
  EXPECT_EQ(table.percentile, 80.0);
  ASSERT_EQ(table.tensors.size(), 2u);
  const TensorScale& s = table.tensors[0];
  EXPECT_EQ(s.name, "input");
  EXPECT_EQ(s.amax, 11.0f);  // cumulative 80 of 100 at bin 10
  EXPECT_EQ(float_bits(s.scale), float_bits(11.0f / 127.0f));
  EXPECT_EQ(s.min, -2000.0f);
  EXPECT_EQ(s.max, 2048.0f);
  EXPECT_EQ(s.absmax, 2048.0f);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.saturation, 0.2);  // bins 100 and 2047
  const TensorScale& z = table.tensors[1];
  EXPECT_EQ(z.amax, 0.0f);
  EXPECT_EQ(z.scale, 1.0f);
  EXPECT_EQ(z.saturation, 0.0);

  const ScaleTable max_table = make_scale_table(data, {RangeMethod::kMax, 99.99});
  EXPECT_EQ(max_table.tensors[0].amax, 2048.0f);
  EXPECT_EQ(max_table.tensors[0].saturation, 0.0);
}

// Many tensors (make_scale_table spreads them over threads): each scale is select_amax's, in
// order; an error names its tensor.
TEST(MakeScaleTable, ManyTensorsInOrder) {
  CalibrationData data;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 12; ++i) {
    TensorCalibration t;
    t.name = "t" + std::to_string(i);
    t.stats.absmax = t.histogram.range = 0.5f + i;
    t.histogram.counts.resize(kHistogramBins);
    for (uint64_t& c : t.histogram.counts) c = rng() % (i + 2);
    data.tensors.push_back(t);
  }
  for (RangeMethod m : {RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse}) {
    const ScaleTable table = make_scale_table(data, {m, 99.9});
    ASSERT_EQ(table.tensors.size(), data.tensors.size());
    for (size_t i = 0; i < data.tensors.size(); ++i) {
      EXPECT_EQ(table.tensors[i].name, data.tensors[i].name);
      EXPECT_EQ(float_bits(table.tensors[i].amax), float_bits(select_amax(data.tensors[i], {m, 99.9})));
    }
  }
  data.tensors[5].histogram.counts.clear();  // data but no histogram
  data.tensors[9].histogram.counts.clear();
  try {
    make_scale_table(data, {RangeMethod::kEntropy, 99.99});
    FAIL() << "no error";
  } catch (const Error& e) {
    expect_contains(e.what(), "tensor 't5'");
  }
}

// ---- TensorRT cache: writing and round trips -----------------------------------------------------

TEST_F(CalibrationIo, TrtCacheWriterFormat) {
  const ScaleTable table = table_of({scale_entry("input", 0x3c010204), scale_entry("conv1:0", 0x3d1e2f4a),
                                     scale_entry("(Unnamed Layer* 3) [Convolution]_output", 0x00000001)});
  write_trt_cache(path("entropy.cache"), table);
  EXPECT_EQ(read_text(path("entropy.cache")),
            "TRT-8601-EntropyCalibration2\n"
            "input: 3c010204\n"
            "conv1:0: 3d1e2f4a\n"
            "(Unnamed Layer* 3) [Convolution]_output: 00000001\n");
  ScaleTable max_table = table;
  max_table.method = RangeMethod::kMax;
  write_trt_cache(path("max.cache"), max_table, 100300);
  expect_contains(read_text(path("max.cache")), "TRT-100300-MinMaxCalibration\ninput: 3c010204\n");
  for (RangeMethod m : {RangeMethod::kPercentile, RangeMethod::kMse}) {
    max_table.method = m;
    write_trt_cache(path("other.cache"), max_table, 8502);
    expect_contains(read_text(path("other.cache")), "TRT-8502-EntropyCalibration2\n");
  }
}

TEST_F(CalibrationIo, TrtCacheRoundTripsBitForBit) {
  ScaleTable table = random_table(500, 1);
  table.tensors.push_back(scale_entry("smallest subnormal", 0x00000001));
  table.tensors.push_back(scale_entry("largest: float", 0x7f7fffff));
  table.tensors.push_back(scale_entry("a: b: c", 0x3f800000));
  table.tensors.push_back(scale_entry("trailing colon:", 0x3e000000));
  table.tensors.push_back(scale_entry("/model/layer1/conv/Conv_output_0", 0x3b808081));
  table.tensors.push_back(scale_entry("ünïcode ✓", 0x3c23d70a));
  write_trt_cache(path("cache.txt"), table);
  const std::map<std::string, float> scales = read_trt_cache(path("cache.txt"));
  ASSERT_EQ(scales.size(), table.tensors.size());
  for (const TensorScale& t : table.tensors) {
    ASSERT_EQ(scales.count(t.name), 1u) << t.name;
    EXPECT_EQ(float_bits(scales.at(t.name)), float_bits(t.scale)) << t.name;
  }
}

TEST_F(CalibrationIo, TrtCacheWriterRefusesWhatCannotBeReadBack) {
  const std::string p = path("cache.txt");
  const auto refused = [&](const ScaleTable& table, const std::string& part) {
    try {
      write_trt_cache(p, table);
      ADD_FAILURE() << "no error for " << part;
    } catch (const Error& e) {
      expect_contains(e.what(), part);
    }
    EXPECT_FALSE(fs::exists(p)) << part;
  };
  refused(table_of({scale_entry("input", 0x7fc00000)}), "'input'");  // NaN
  refused(table_of({scale_entry("input", 0x7f800000)}), "infinite");
  refused(table_of({scale_entry("input", 0x00000000)}), "zero");
  refused(table_of({scale_entry("input", 0xbf800000)}), "negative");
  refused(table_of({scale_entry("", 0x3f800000)}), "empty name");
  refused(table_of({scale_entry("a\nb", 0x3f800000)}), "line break");
  refused(table_of({scale_entry("x", 0x3f800000), scale_entry("x", 0x3f800000)}), "'x' appears twice");
}

// ---- TensorRT cache: reading caches TensorRT wrote -----------------------------------------------

// Written by hand in TensorRT's format (the shape of a TensorRT 8.6 EntropyCalibration2 cache);
// expected scales are the floats whose bits the hex digits spell.
TEST_F(CalibrationIo, ReadsAHandWrittenTensorRtCache) {
  const std::string text =
      "TRT-8601-EntropyCalibration2\n"
      "input: 3c010204\n"
      "/conv1/Conv_output_0: 3d1e2f4a\n"
      "(Unnamed Layer* 12) [Activation]_output: 3caa7b5c\n"
      "onnx::Relu_7: 3b8b0c1f\n"
      "output: 3e4ccccd\n";
  const struct {
    const char* name;
    uint32_t bits;
  } expected[] = {{"input", 0x3c010204u},
                  {"/conv1/Conv_output_0", 0x3d1e2f4au},
                  {"(Unnamed Layer* 12) [Activation]_output", 0x3caa7b5cu},
                  {"onnx::Relu_7", 0x3b8b0c1fu},
                  {"output", 0x3e4ccccdu}};
  for (const std::string& variant : {text, std::regex_replace(text, std::regex("\n"), "\r\n")}) {
    const std::map<std::string, float> scales = read_trt_cache(write_text("trt.cache", variant));
    ASSERT_EQ(scales.size(), 5u);
    for (const auto& e : expected) {
      float want;
      std::memcpy(&want, &e.bits, sizeof want);
      ASSERT_EQ(scales.count(e.name), 1u) << e.name;
      EXPECT_EQ(float_bits(scales.at(e.name)), e.bits) << e.name;
      EXPECT_EQ(scales.at(e.name), want) << e.name;
    }
  }
  // 0x3e4ccccd is the float nearest 0.2; 0x3c010204 is 1/127 (amax 1) to float precision.
  EXPECT_EQ(read_trt_cache(path("trt.cache")).at("output"), 0.2f);
  EXPECT_EQ(read_trt_cache(path("trt.cache")).at("input"), 1.0f / 127.0f);
}

TEST_F(CalibrationIo, ReadsEveryTensorRtHeaderAndLenientEndings) {
  for (const char* algorithm :
       {"EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration"}) {
    const std::string header = std::string("TRT-7000-") + algorithm;
    EXPECT_EQ(cache_error(header + "\nx: 3f800000\n"), "") << algorithm;
  }
  // No final newline; blank lines after the last entry; upper-case hex; fewer than 8 digits.
  std::map<std::string, float> scales =
      read_trt_cache(write_text("a.cache", "TRT-8601-MinMaxCalibration\nx: 3F800000"));
  EXPECT_EQ(scales.at("x"), 1.0f);
  scales = read_trt_cache(write_text("b.cache", "TRT-8601-EntropyCalibration2\r\nx: 1\r\n\r\n\n"));
  EXPECT_EQ(float_bits(scales.at("x")), 1u);
  EXPECT_TRUE(read_trt_cache(write_text("c.cache", "TRT-8601-EntropyCalibration2\n")).empty());
}

// ---- TensorRT cache: bad input -------------------------------------------------------------------

TEST_F(CalibrationIo, TrtCacheBadHeader) {
  expect_contains(cache_error(""), "empty file");
  expect_contains(cache_error("\n\n"), "empty file");
  for (const std::string header :
       {"TRT--EntropyCalibration2", "TRT-8601-Entropy", "trt-8601-EntropyCalibration2", "TRT-8601-EntropyCalibration2 ",
        "TRT-86a1-EntropyCalibration2", "TRT-8601", "input: 3c010204", "TRT-8601-EntropyCalibration3"}) {
    const std::string error = cache_error(header + "\nconv: 3c010204\n");
    expect_contains(error, "cache.txt', line 1: bad header");
    expect_contains(error, "TRT-<version>-EntropyCalibration2");
  }
}

TEST_F(CalibrationIo, TrtCacheMalformedLineNamesTheLine) {
  for (const std::string line :
       {"conv1 3c010204", "conv1:3c010204", ": 3c010204", "conv1: ", "conv1: 3c01020g", "conv1: 3c0102041",
        "conv1: 3c010204 ", "conv1: 0x3c0102", "conv1: -3c01020", "", " "}) {
    const std::string error =
        cache_error("TRT-8601-EntropyCalibration2\ninput: 3c010204\n" + line + "\nlast: 3c010204\n");
    expect_contains(error, "cache.txt', line 3: ");
  }
}

TEST_F(CalibrationIo, TrtCacheRefusesScalesThatAreNotFinitePositive) {
  const struct {
    const char* hex;
    const char* problem;
  } cases[] = {{"7fc00000", "NaN"},      {"ffc00000", "NaN"},     {"7f800001", "NaN"}, {"7f800000", "infinite"},
               {"ff800000", "negative"}, {"00000000", "zero"},    {"0", "zero"},       {"80000000", "zero"},
               {"bf800000", "negative"}, {"80000001", "negative"}};
  for (const auto& c : cases) {
    const std::string error = cache_error(std::string("TRT-8601-EntropyCalibration2\nconv/out:0: ") + c.hex + "\n");
    expect_contains(error, "cache.txt', line 2: tensor 'conv/out:0'");
    expect_contains(error, c.problem);
  }
}

TEST_F(CalibrationIo, TrtCacheRefusesARepeatedTensor) {
  const std::string error = cache_error("TRT-8601-EntropyCalibration2\na: 3f800000\nb: 3f800000\na: 3f000000\n");
  expect_contains(error, "line 4: tensor 'a' appears again (first on line 2)");
}

TEST_F(CalibrationIo, TrtCacheMissingFile) {
  try {
    read_trt_cache(path("absent.cache"));
    FAIL() << "no error";
  } catch (const Error& e) {
    expect_contains(e.what(), "absent.cache");
  }
}

// ---- unknown tensors -----------------------------------------------------------------------------

// Distances (Levenshtein): conv1_out -> conv1_output 3, conv2_output 4, input 6; relu1 -> relu_1 1,
// input 4, fc 5; Input -> input 1, then relu_1 and fc both 5 (model order decides).
TEST_F(CalibrationIo, UnknownTensorsListTheNearestModelNames) {
  const std::vector<std::string> model = {"input", "conv1_output", "conv2_output", "relu_1", "fc"};
  const std::map<std::string, float> cache = {
      {"conv1_out", 1.0f}, {"relu1", 1.0f}, {"Input", 1.0f}, {"input", 1.0f}, {"fc", 1.0f}};
  const std::vector<std::string> report = unknown_tensor_report(cache, model);
  const std::vector<std::string> expected = {"'Input' (nearest: 'input', 'relu_1', 'fc')",
                                             "'conv1_out' (nearest: 'conv1_output', 'conv2_output', 'input')",
                                             "'relu1' (nearest: 'relu_1', 'input', 'fc')"};
  EXPECT_EQ(report, expected);
  try {
    require_known_tensors("scales.cache", cache, model);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    expect_contains(what, "'scales.cache': 3 tensors not in the model:");
    for (const std::string& line : expected) expect_contains(what, "\n  " + line);
  }
  EXPECT_TRUE(unknown_tensor_report({{"fc", 1.0f}, {"input", 2.0f}}, model).empty());
  EXPECT_NO_THROW(require_known_tensors("scales.cache", {{"fc", 1.0f}}, model));
  EXPECT_EQ(unknown_tensor_report({{"x", 1.0f}}, {"a"}), std::vector<std::string>{"'x' (nearest: 'a')"});
}

// ---- JSON table ----------------------------------------------------------------------------------

ScaleTable rich_table() {
  ScaleTable table = random_table(50, 2);
  table.model = "models/\"quoted\" ünïcode.onnx";
  table.method = RangeMethod::kPercentile;
  table.percentile = 99.999;
  table.images = 12345;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> value(-100.0f, 100.0f);
  for (TensorScale& t : table.tensors) {
    t.min = value(rng);
    t.max = value(rng);
    t.absmax = std::max(std::fabs(t.min), std::fabs(t.max));
    t.saturation = std::uniform_real_distribution<double>(0.0, 0.01)(rng);
    t.count = rng();
  }
  TensorScale nan_only = scale_entry("only NaN seen", 0x3f800000);
  nan_only.amax = 0.0f;
  nan_only.min = std::numeric_limits<float>::infinity();
  nan_only.max = -std::numeric_limits<float>::infinity();
  table.tensors.push_back(nan_only);
  return table;
}

TEST_F(CalibrationIo, JsonTableRoundTripsBitForBit) {
  const ScaleTable table = rich_table();
  write_json_table(path("table.json"), table);
  const ScaleTable back = read_json_table(path("table.json"));
  EXPECT_EQ(back.model, table.model);
  EXPECT_EQ(back.method, table.method);
  EXPECT_EQ(back.percentile, table.percentile);
  EXPECT_EQ(back.images, table.images);
  ASSERT_EQ(back.tensors.size(), table.tensors.size());
  for (size_t i = 0; i < table.tensors.size(); ++i) {
    const TensorScale &a = table.tensors[i], &b = back.tensors[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(float_bits(b.scale), float_bits(a.scale)) << a.name;
    EXPECT_EQ(float_bits(b.amax), float_bits(a.amax)) << a.name;
    EXPECT_EQ(float_bits(b.absmax), float_bits(a.absmax)) << a.name;
    EXPECT_EQ(float_bits(b.min), float_bits(a.min)) << a.name;
    EXPECT_EQ(float_bits(b.max), float_bits(a.max)) << a.name;
    EXPECT_EQ(b.saturation, a.saturation) << a.name;
    EXPECT_EQ(b.count, a.count) << a.name;
  }
}

TEST_F(CalibrationIo, JsonTableFieldsAsWritten) {
  ScaleTable table = table_of({scale_entry("conv:0", 0x3c010204)}, RangeMethod::kMse);
  table.tensors[0].saturation = 0.125;
  table.tensors[0].count = 4096;
  write_json_table(path("table.json"), table);
  const nlohmann::json j = nlohmann::json::parse(read_text(path("table.json")));
  EXPECT_EQ(j.at("octet_version"), OCTET_VERSION_STRING);
  EXPECT_EQ(j.at("model"), "model.onnx");
  EXPECT_EQ(j.at("method"), "mse");
  EXPECT_EQ(j.at("images"), 500);
  const nlohmann::json& t = j.at("tensors").at(0);
  EXPECT_EQ(t.at("name"), "conv:0");
  EXPECT_EQ(t.at("scale_hex"), "3c010204");
  EXPECT_EQ(static_cast<float>(t.at("scale").get<double>()), float_from_bits(0x3c010204));
  EXPECT_EQ(t.at("saturation"), 0.125);
  EXPECT_EQ(t.at("count"), 4096);
  for (const char* key : {"amax", "absmax", "min", "max"}) EXPECT_TRUE(t.contains(key)) << key;
}

TEST_F(CalibrationIo, JsonTableScaleHexIsAuthoritative) {
  write_json_table(path("table.json"), table_of({scale_entry("conv", 0x3c010204)}));
  nlohmann::json j = nlohmann::json::parse(read_text(path("table.json")));
  j["tensors"][0]["scale"] = 0.5;  // a person edited the decimal only
  write_text("edited.json", j.dump());
  EXPECT_EQ(float_bits(read_json_table(path("edited.json")).tensors.at(0).scale), 0x3c010204u);
}

TEST_F(CalibrationIo, JsonTableBadInputNamesFileAndTensor) {
  write_json_table(path("table.json"), table_of({scale_entry("a", 0x3f800000), scale_entry("conv", 0x3c010204)}));
  const nlohmann::json good = nlohmann::json::parse(read_text(path("table.json")));
  const auto error_of = [&](const std::string& text) -> std::string {
    try {
      read_json_table(write_text("bad.json", text));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  expect_contains(error_of("{\"model\": "), "'" + path("bad.json") + "': not valid JSON");
  nlohmann::json j = good;
  j["tensors"][1].erase("scale_hex");
  expect_contains(error_of(j.dump()), "tensors[1] ('conv'): missing \"scale_hex\"");
  for (const char* hex : {"7fc00000", "7f800000", "00000000", "bf800000", "xyz", "123456789"}) {
    j = good;
    j["tensors"][1]["scale_hex"] = hex;
    expect_contains(error_of(j.dump()), "tensors[1] ('conv')");
  }
  j = good;
  j["method"] = "kl";
  expect_contains(error_of(j.dump()), "unknown calibration method 'kl'");
  j = good;
  j["tensors"][0]["count"] = -3;
  expect_contains(error_of(j.dump()), "tensors[0] ('a'): \"count\" must be a non-negative integer");
  j = good;
  j.erase("tensors");
  expect_contains(error_of(j.dump()), "missing \"tensors\"");
}

// ---- atomic writes -------------------------------------------------------------------------------

// A directory where write_file_atomic puts its temporary file makes the write fail after the
// earlier file exists: it must stay as it was.
TEST_F(CalibrationIo, FailedWritesLeaveTheEarlierFiles) {
  const ScaleTable old_table = random_table(10, 4), new_table = random_table(10, 5);
  const std::string cache = path("scales.cache"), json = path("scales.json");
  write_trt_cache(cache, old_table);
  write_json_table(json, old_table);
  const std::string old_cache = read_text(cache), old_json = read_text(json);
  fs::create_directories(cache + ".tmp." + std::to_string(::getpid()));
  fs::create_directories(json + ".tmp." + std::to_string(::getpid()));
  EXPECT_THROW(write_trt_cache(cache, new_table), Error);
  EXPECT_THROW(write_json_table(json, new_table), Error);
  EXPECT_EQ(read_text(cache), old_cache);
  EXPECT_EQ(read_text(json), old_json);
  // A table that fails validation writes nothing either.
  ScaleTable bad = new_table;
  bad.tensors[3].scale = std::numeric_limits<float>::quiet_NaN();
  fs::remove_all(cache + ".tmp." + std::to_string(::getpid()));
  EXPECT_THROW(write_trt_cache(cache, bad), Error);
  EXPECT_EQ(read_text(cache), old_cache);
}

// A writer killed mid-write (as by Ctrl-C or `kill -9`) leaves the earlier cache or the new one,
// complete: never a half-written file. The child rewrites the cache in a loop; the parent kills it
// as soon as the child's temporary file appears, so the kill lands while the bytes are being
// written (or, at worst, just after the rename).
TEST_F(CalibrationIo, KilledWriterLeavesACompleteCache) {
  ScaleTable first = random_table(20000, 6), second = random_table(20000, 7);
  for (ScaleTable* table : {&first, &second})
    for (TensorScale& t : table->tensors) t.name = "/model/stage_" + t.name + "/" + std::string(200, 'x');
  const std::string cache = path("scales.cache");
  write_trt_cache(cache, first);
  const std::string first_text = read_text(cache);
  write_trt_cache(path("second.cache"), second);
  const std::string second_text = read_text(path("second.cache"));
  int killed_mid_write = 0;
  for (int round = 0; round < 5; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        for (int i = 0;; ++i) write_trt_cache(cache, i % 2 ? first : second);
      } catch (...) {
        ::_exit(1);
      }
    }
    const std::string temp = cache + ".tmp." + std::to_string(child);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(temp) && std::chrono::steady_clock::now() < deadline) {
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself (status " << status << ")";
    if (fs::exists(temp)) ++killed_mid_write;
    const std::string text = read_text(cache);
    EXPECT_TRUE(text == first_text || text == second_text) << "round " << round << ": " << text.size() << " bytes";
    EXPECT_EQ(read_trt_cache(cache).size(), 20000u);
  }
  // Each kill follows the temporary file's appearance by microseconds, within a write of ~5 MB.
  EXPECT_GT(killed_mid_write, 0);
}

// ---- HDF5 histograms -----------------------------------------------------------------------------

#if OCTET_HDF5
CalibrationData histogram_data() {
  CalibrationData data;
  data.model = "nets/resnet.onnx";
  data.images = 1000;
  std::mt19937_64 rng(8);
  for (const char* name : {"input", "layer1/conv:0", "relu 1", "onnx::Add_7"}) {
    TensorCalibration t;
    t.name = name;
    t.stats.min = -std::uniform_real_distribution<float>(0.0f, 5.0f)(rng);
    t.stats.max = std::uniform_real_distribution<float>(0.0f, 5.0f)(rng);
    t.stats.absmax = std::max(-t.stats.min, t.stats.max);
    t.stats.count = rng() >> 8;
    t.stats.nan_count = 3;
    t.histogram.range = t.stats.absmax;
    t.histogram.counts.resize(kHistogramBins);
    for (uint64_t& c : t.histogram.counts) c = rng() >> std::uniform_int_distribution<int>(20, 63)(rng);
    data.tensors.push_back(t);
  }
  TensorCalibration nan_only;  // stats of a tensor that saw only NaN: +inf / -inf extremes, no histogram
  nan_only.name = "nan_only";
  nan_only.stats.count = nan_only.stats.nan_count = 9;
  data.tensors.push_back(nan_only);
  return data;
}

std::vector<std::string> names_of(const CalibrationData& data, std::vector<std::string> extra = {}) {
  std::vector<std::string> names;
  for (const TensorCalibration& t : data.tensors) names.push_back(t.name);
  names.insert(names.end(), extra.begin(), extra.end());
  return names;
}

TEST_F(CalibrationIo, HistogramsRoundTripBitForBit) {
  const CalibrationData data = histogram_data();
  const std::vector<std::string> model = names_of(data, {"never_calibrated"});
  save_histograms(path("hist.h5"), data, model);
  const CalibrationData back = load_histograms(path("hist.h5"), model);
  EXPECT_EQ(back.model, data.model);
  EXPECT_EQ(back.images, data.images);
  ASSERT_EQ(back.tensors.size(), data.tensors.size());
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    const TensorCalibration &a = data.tensors[i], &b = back.tensors[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.histogram.counts, a.histogram.counts) << a.name;
    EXPECT_EQ(float_bits(b.histogram.range), float_bits(a.histogram.range)) << a.name;
    EXPECT_EQ(float_bits(b.stats.min), float_bits(a.stats.min)) << a.name;
    EXPECT_EQ(float_bits(b.stats.max), float_bits(a.stats.max)) << a.name;
    EXPECT_EQ(float_bits(b.stats.absmax), float_bits(a.stats.absmax)) << a.name;
    EXPECT_EQ(b.stats.count, a.stats.count) << a.name;
    EXPECT_EQ(b.stats.nan_count, a.stats.nan_count) << a.name;
  }
  // Any method re-applied to the saved histograms gives the same scales.
  for (RangeMethod m : {RangeMethod::kMax, RangeMethod::kEntropy, RangeMethod::kPercentile, RangeMethod::kMse}) {
    const ScaleTable original = make_scale_table(data, {m, 99.9}), reloaded = make_scale_table(back, {m, 99.9});
    for (size_t i = 0; i < original.tensors.size(); ++i)
      EXPECT_EQ(float_bits(reloaded.tensors[i].scale), float_bits(original.tensors[i].scale)) << to_string(m);
  }
  // Inspecting the file alone (no model): no check.
  EXPECT_EQ(load_histograms(path("hist.h5"), {}).tensors.size(), data.tensors.size());
}

TEST_F(CalibrationIo, HistogramsFromAnotherModelAreRefused) {
  const CalibrationData data = histogram_data();
  save_histograms(path("hist.h5"), data, names_of(data));
  std::vector<std::string> other = names_of(data);
  other[1] = "layer1/conv:1";
  other.push_back("fc");
  try {
    load_histograms(path("hist.h5"), other);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    expect_contains(what, "hist.h5': histograms of another model ('nets/resnet.onnx'");
    expect_contains(what, "only in this model: 'layer1/conv:1', 'fc'");
    expect_contains(what, "only in the file: 'layer1/conv:0'");
  }
  std::vector<std::string> reordered = names_of(data);
  std::swap(reordered[0], reordered[1]);
  try {
    load_histograms(path("hist.h5"), reordered);
    FAIL() << "no error";
  } catch (const Error& e) {
    expect_contains(e.what(), "the same names in another order");
  }
}

TEST_F(CalibrationIo, HistogramsBadFiles) {
  const CalibrationData data = histogram_data();
  const std::vector<std::string> model = names_of(data);
  EXPECT_THROW(load_histograms(path("absent.h5"), model), Error);
  try {
    load_histograms(write_text("text.h5", "not HDF5"), model);
    FAIL() << "no error";
  } catch (const Error& e) {
    expect_contains(e.what(), "is not an HDF5 file");
  }
  // A tensor the model does not calibrate, or twice, is not saved.
  EXPECT_THROW(save_histograms(path("x.h5"), data, {"input"}), Error);
  EXPECT_FALSE(fs::exists(path("x.h5")));
  // A counts dataset of the wrong length (written by another tool).
  save_histograms(path("hist.h5"), data, model);
  {
    H5::H5File file(path("hist.h5"), H5F_ACC_RDWR);
    H5::Group group = file.openGroup("/tensors/000001");
    group.unlink("counts");
    const hsize_t n = 1024;
    std::vector<uint64_t> counts(n, 1);
    group.createDataSet("counts", H5::PredType::STD_U64LE, H5::DataSpace(1, &n))
        .write(counts.data(), H5::PredType::NATIVE_UINT64);
  }
  try {
    load_histograms(path("hist.h5"), model);
    FAIL() << "no error";
  } catch (const Error& e) {
    expect_contains(e.what(), "/tensors/000001 ('layer1/conv:0'): counts has 1024 bins, expected 2048");
  }
}

TEST_F(CalibrationIo, HistogramsOfAModelWithoutTensors) {
  CalibrationData empty;
  empty.model = "empty.onnx";
  save_histograms(path("empty.h5"), empty, {});
  const CalibrationData back = load_histograms(path("empty.h5"), {});
  EXPECT_EQ(back.model, "empty.onnx");
  EXPECT_TRUE(back.tensors.empty());
}

TEST_F(CalibrationIo, FailedHistogramWriteLeavesTheEarlierFile) {
  const CalibrationData data = histogram_data();
  const std::string p = path("hist.h5");
  save_histograms(p, data, names_of(data));
  const std::string old_bytes = read_text(p);
  fs::create_directories(p + ".tmp." + std::to_string(::getpid()));
  CalibrationData changed = data;
  changed.images = 1;
  EXPECT_THROW(save_histograms(p, changed, names_of(data)), Error);
  EXPECT_EQ(read_text(p), old_bytes);
  EXPECT_EQ(load_histograms(p, names_of(data)).images, 1000);
}
#endif

}  // namespace
}  // namespace octet
