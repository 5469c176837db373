#include "calibration/calibration_io.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

#include "engine/error.h"
#include "engine/file_util.h"
#include "engine/nearest_names.h"
#include "quantize/qscheme.h"

#if OCTET_HDF5
#include "datasets/hdf5_util.h"
#include "kernels/cpu/histogram_ref.h"
#endif

namespace octet {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kTrtAlgorithms[] = {"EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration",
                                          "LegacyCalibration"};

using kernels::float_bits;       // kernels/cpu/histogram_ref.h
using kernels::float_from_bits;

std::string hex_bits(float value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", float_bits(value));
  return text;
}

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// 1 to 8 hex digits (either case) as a 32-bit pattern; false on anything else (signs, "0x", spaces).
bool parse_hex_bits(const std::string& text, uint32_t& bits) {
  if (text.empty() || text.size() > 8 || !std::all_of(text.begin(), text.end(), is_hex_digit)) return false;
  bits = static_cast<uint32_t>(std::stoul(text, nullptr, 16));
  return true;
}

// Why `scale` cannot be a quantization scale; empty when it can.
std::string scale_problem(float scale) {
  if (std::isnan(scale)) return "NaN";
  if (std::isinf(scale)) return scale > 0 ? "infinite" : "negative (and infinite)";
  if (scale == 0.0f) return std::signbit(scale) ? "zero (negative zero)" : "zero";
  if (scale < 0.0f) return "negative";
  return "";
}

// Lines quoted in errors are cut so a binary file does not flood the terminal.
std::string quoted(const std::string& line) {
  constexpr size_t kMax = 80;
  return "'" + (line.size() <= kMax ? line : line.substr(0, kMax) + "...") + "'";
}

// Everything the readers require of a table, checked before any byte is written.
void check_writable(const std::string& path, const ScaleTable& table) {
  std::set<std::string> seen;
  for (size_t i = 0; i < table.tensors.size(); ++i) {
    const TensorScale& t = table.tensors[i];
    OCTET_CHECK(!t.name.empty(), "'", path, "': tensor ", i, " has an empty name");
    OCTET_CHECK(std::none_of(t.name.begin(), t.name.end(), [](char c) { return c == '\n' || c == '\r'; }), "'", path,
                "': tensor ", i, " has a line break in its name");
    OCTET_CHECK(seen.insert(t.name).second, "'", path, "': tensor '", t.name, "' appears twice in the scale table");
    const std::string problem = scale_problem(t.scale);
    OCTET_CHECK(problem.empty(), "'", path, "': tensor '", t.name, "': scale ", t.scale, " (", hex_bits(t.scale),
                ", amax ", t.amax, ") is ", problem, "; nothing written");
  }
}

// ---- JSON helpers --------------------------------------------------------------------------------

// JSON has no inf or NaN; those few values travel as strings.
Json float_to_json(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;  // float -> double is exact, and nlohmann prints doubles so they read back exactly
}

const Json& field(const Json& object, const char* key, const std::string& where) {
  OCTET_CHECK(object.is_object(), where, ": expected a JSON object, found ", object.type_name());
  const auto it = object.find(key);
  OCTET_CHECK(it != object.end(), where, ": missing \"", key, "\"");
  return *it;
}

float float_field(const Json& object, const char* key, const std::string& where) {
  const Json& value = field(object, key, where);
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text == "inf") return std::numeric_limits<float>::infinity();
    if (text == "-inf") return -std::numeric_limits<float>::infinity();
    if (text == "nan") return std::numeric_limits<float>::quiet_NaN();
  }
  OCTET_CHECK(value.is_number(), where, ": \"", key, "\" must be a number (or \"inf\", \"-inf\", \"nan\"), found ",
              value.dump());
  return static_cast<float>(value.get<double>());
}

template <typename T>
T integer_field(const Json& object, const char* key, const std::string& where) {
  const Json& value = field(object, key, where);
  const bool fits =
      std::is_signed<T>::value
          ? value.is_number_integer() && (!value.is_number_unsigned() || value.get<uint64_t>() <= uint64_t(INT64_MAX))
          : value.is_number_unsigned();
  OCTET_CHECK(fits, where, ": \"", key, "\" must be a", std::is_signed<T>::value ? "n" : " non-negative",
              " integer, found ", value.dump());
  return value.get<T>();
}

std::string string_field(const Json& object, const char* key, const std::string& where) {
  const Json& value = field(object, key, where);
  OCTET_CHECK(value.is_string(), where, ": \"", key, "\" must be a string, found ", value.dump());
  return value.get<std::string>();
}

}  // namespace

ScaleTable make_scale_table(const CalibrationData& data, const RangeOptions& options) {
  ScaleTable table;
  table.model = data.model;
  table.method = options.method;
  table.percentile = options.percentile;
  table.images = data.images;
  table.tensors.resize(data.tensors.size());
  const auto select = [&](size_t i) {
    const TensorCalibration& tensor = data.tensors[i];
    TensorScale& s = table.tensors[i];
    s.name = tensor.name;
    s.amax = select_amax(tensor, options);
    s.scale = quant::scale_from_amax(s.amax);
    s.absmax = tensor.stats.absmax;
    s.min = tensor.stats.min;
    s.max = tensor.stats.max;
    // No value exceeds the observed abs-max; the histogram estimate is for amax inside the range.
    s.saturation = s.amax >= tensor.stats.absmax ? 0.0 : saturation_fraction(tensor.histogram, s.amax);
    s.count = tensor.stats.count;
  };
  // Entropy and mse take tens of milliseconds per tensor (2048 candidates x up to 2048 bins), so
  // tensors are shared among threads; each is independent and the result does not depend on the
  // split. The first error in tensor order is the one reported.
  const size_t workers = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), data.tensors.size());
  std::vector<std::exception_ptr> errors(data.tensors.size());
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < data.tensors.size(); i = next++) {
      try {
        select(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return table;
}

// ---- TensorRT cache ------------------------------------------------------------------------------

void write_trt_cache(const std::string& path, const ScaleTable& table, int trt_version) {
  OCTET_CHECK(trt_version >= 0, "'", path, "': TensorRT version ", trt_version,
              " must be a non-negative integer such as 8601 (8.6.1)");
  check_writable(path, table);
  std::string text = "TRT-" + std::to_string(trt_version) + "-" +
                     (table.method == RangeMethod::kMax ? "MinMaxCalibration" : "EntropyCalibration2") + "\n";
  for (const TensorScale& t : table.tensors) text += t.name + ": " + hex_bits(t.scale) + "\n";
  write_file_atomic(path, text);
}

std::map<std::string, float> read_trt_cache(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();  // Windows line endings
    lines.push_back(std::move(line));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline, blank lines after
  const std::string expected_header = "TRT-<version>-EntropyCalibration2 (or -MinMaxCalibration, ...)";
  OCTET_CHECK(!lines.empty(), "'", path, "': empty file; a TensorRT calibration cache starts with ", expected_header);

  const std::string& header = lines[0];
  bool header_ok = header.compare(0, 4, "TRT-") == 0;
  size_t digits_end = 4;
  while (header_ok && digits_end < header.size() && header[digits_end] >= '0' && header[digits_end] <= '9')
    ++digits_end;
  header_ok = header_ok && digits_end > 4 && digits_end < header.size() && header[digits_end] == '-' &&
              std::any_of(std::begin(kTrtAlgorithms), std::end(kTrtAlgorithms), [&](const char* algorithm) {
                return header.compare(digits_end + 1, std::string::npos, algorithm) == 0;
              });
  OCTET_CHECK(header_ok, "'", path, "', line 1: bad header ", quoted(header), "; expected ", expected_header);

  std::map<std::string, float> scales;
  std::map<std::string, size_t> line_of;
  for (size_t n = 1; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    const size_t number = n + 1;
    const size_t colon = line.rfind(": ");
    OCTET_CHECK(colon != std::string::npos, "'", path, "', line ", number, ": malformed line ", quoted(line),
                "; expected '<tensor>: <8 hex digits>'");
    OCTET_CHECK(colon > 0, "'", path, "', line ", number, ": malformed line ", quoted(line), ": empty tensor name");
    const std::string name = line.substr(0, colon), hex = line.substr(colon + 2);
    uint32_t bits = 0;
    OCTET_CHECK(parse_hex_bits(hex, bits), "'", path, "', line ", number, ": tensor '", name, "': scale ", quoted(hex),
                " is not 1 to 8 hex digits");
    const float scale = float_from_bits(bits);
    const std::string problem = scale_problem(scale);
    OCTET_CHECK(problem.empty(), "'", path, "', line ", number, ": tensor '", name, "': scale ", hex, " (", scale,
                ") is ", problem, "; a scale must be finite and > 0");
    const auto [it, inserted] = line_of.emplace(name, number);
    OCTET_CHECK(inserted, "'", path, "', line ", number, ": tensor '", name, "' appears again (first on line ",
                it->second, ")");
    scales.emplace(name, scale);
  }
  return scales;
}

std::vector<std::string> unknown_tensor_report(const std::map<std::string, float>& scales,
                                               const std::vector<std::string>& model_tensors) {
  const std::set<std::string> known(model_tensors.begin(), model_tensors.end());
  std::vector<std::string> report;
  for (const auto& entry : scales) {
    const std::string& name = entry.first;
    if (known.count(name)) continue;
    report.push_back(quoted_with_nearest(name, model_tensors, "none, the model has no tensors"));
  }
  return report;
}

void require_known_tensors(const std::string& cache_path, const std::map<std::string, float>& scales,
                           const std::vector<std::string>& model_tensors) {
  const std::vector<std::string> report = unknown_tensor_report(scales, model_tensors);
  if (report.empty()) return;
  std::string message = "'" + cache_path + "': " + std::to_string(report.size()) + " tensor" +
                        (report.size() == 1 ? "" : "s") + " not in the model:";
  for (const std::string& line : report) message += "\n  " + line;
  throw Error(message);
}

// ---- JSON table ----------------------------------------------------------------------------------

void write_json_table(const std::string& path, const ScaleTable& table) {
  check_writable(path, table);
  Json tensors = Json::array();
  for (const TensorScale& t : table.tensors) {
    tensors.push_back({{"name", t.name},
                       {"amax", float_to_json(t.amax)},
                       {"scale", float_to_json(t.scale)},
                       {"scale_hex", hex_bits(t.scale)},
                       {"absmax", float_to_json(t.absmax)},
                       {"min", float_to_json(t.min)},
                       {"max", float_to_json(t.max)},
                       {"saturation", t.saturation},
                       {"count", t.count}});
  }
  const Json root = {
      {"octet_version", OCTET_VERSION_STRING}, {"model", table.model},   {"method", to_string(table.method)},
      {"percentile", table.percentile},        {"images", table.images}, {"tensors", std::move(tensors)}};
  write_file_atomic(path, root.dump(2) + "\n");
}

ScaleTable read_json_table(const std::string& path) {
  const std::string text = read_file(path);
  Json root;
  try {
    root = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path + "': not valid JSON: " + e.what());
  }
  const std::string where = "'" + path + "'";
  ScaleTable table;
  table.model = string_field(root, "model", where);
  table.method = parse_range_method(string_field(root, "method", where));
  const Json& percentile = field(root, "percentile", where);
  OCTET_CHECK(percentile.is_number(), where, ": \"percentile\" must be a number, found ", percentile.dump());
  table.percentile = percentile.get<double>();
  table.images = integer_field<int64_t>(root, "images", where);
  const Json& tensors = field(root, "tensors", where);
  OCTET_CHECK(tensors.is_array(), where, ": \"tensors\" must be an array, found ", tensors.type_name());
  std::set<std::string> seen;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Json& entry = tensors[i];
    std::string at = where + ": tensors[" + std::to_string(i) + "]";
    TensorScale t;
    t.name = string_field(entry, "name", at);
    at += " ('" + t.name + "')";
    OCTET_CHECK(seen.insert(t.name).second, at, ": the tensor appears twice");
    const std::string hex = string_field(entry, "scale_hex", at);
    uint32_t bits = 0;
    OCTET_CHECK(parse_hex_bits(hex, bits), at, ": \"scale_hex\" ", quoted(hex), " is not 1 to 8 hex digits");
    t.scale = float_from_bits(bits);  // authoritative; "scale" is the same value for people
    const std::string problem = scale_problem(t.scale);
    OCTET_CHECK(problem.empty(), at, ": scale ", hex, " (", t.scale, ") is ", problem,
                "; a scale must be finite and > 0");
    t.amax = float_field(entry, "amax", at);
    t.absmax = float_field(entry, "absmax", at);
    t.min = float_field(entry, "min", at);
    t.max = float_field(entry, "max", at);
    const Json& saturation = field(entry, "saturation", at);
    OCTET_CHECK(saturation.is_number(), at, ": \"saturation\" must be a number, found ", saturation.dump());
    t.saturation = saturation.get<double>();
    t.count = integer_field<uint64_t>(entry, "count", at);
    table.tensors.push_back(std::move(t));
  }
  return table;
}

// ---- HDF5 histograms -----------------------------------------------------------------------------

#if OCTET_HDF5
namespace {

std::string group_name(size_t index) {
  char text[32];
  std::snprintf(text, sizeof text, "%06zu", index);
  return text;
}

template <typename T>
void write_scalar(const H5::H5Object& object, const std::string& name, const H5::PredType& file_type,
                  const H5::PredType& memory_type, T value) {
  object.createAttribute(name, file_type, H5::DataSpace(H5S_SCALAR)).write(memory_type, &value);
}

template <typename T>
T read_scalar(const H5::H5Object& object, const std::string& name, const H5::PredType& memory_type,
              const std::string& file, const std::string& object_name) {
  OCTET_CHECK(object.attrExists(name), "'", file, "': ", object_name, " has no attribute '", name, "'");
  const H5::Attribute attribute = object.openAttribute(name);
  OCTET_CHECK(attribute.getSpace().getSimpleExtentNpoints() == 1, "'", file, "': attribute '", name, "' of ",
              object_name, " must be a single value");
  T value{};
  attribute.read(memory_type, &value);
  return value;
}

void write_string_list(const H5::H5Object& object, const std::string& name, const std::vector<std::string>& values) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  const hsize_t n = values.size();
  std::vector<const char*> pointers;
  for (const std::string& v : values) pointers.push_back(v.c_str());
  const H5::Attribute attribute = object.createAttribute(name, type, H5::DataSpace(1, &n));
  if (n > 0) attribute.write(type, pointers.data());
}

std::vector<std::string> read_string_list(const H5::H5Object& object, const std::string& name,
                                          const std::string& file) {
  OCTET_CHECK(object.attrExists(name), "'", file, "': the root has no attribute '", name, "'");
  const H5::Attribute attribute = object.openAttribute(name);
  OCTET_CHECK(attribute.getTypeClass() == H5T_STRING && attribute.getStrType().isVariableStr(), "'", file,
              "': attribute '", name, "' must be a list of variable-length strings, found ",
              hdf5::type_name(attribute.getDataType()));
  const H5::DataSpace space = attribute.getSpace();
  OCTET_CHECK(space.getSimpleExtentNdims() == 1, "'", file, "': attribute '", name, "' must be one-dimensional");
  std::vector<char*> pointers(static_cast<size_t>(space.getSimpleExtentNpoints()), nullptr);
  if (pointers.empty()) return {};
  attribute.read(attribute.getStrType(), pointers.data());
  std::vector<std::string> values;
  for (char* p : pointers) {
    values.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return values;
}

// Up to `limit` names of `names` that `others` lacks, as "'a', 'b', ... (N in all)".
std::string names_missing_from(const std::vector<std::string>& names, const std::vector<std::string>& others) {
  constexpr size_t kLimit = 10;
  const std::set<std::string> other_set(others.begin(), others.end());
  std::string listed;
  size_t missing = 0;
  for (const std::string& name : names) {
    if (other_set.count(name)) continue;
    if (missing < kLimit) listed += (missing ? ", '" : "'") + name + "'";
    ++missing;
  }
  if (missing > kLimit) listed += ", ... (" + std::to_string(missing) + " in all)";
  return missing == 0 ? "none" : listed;
}

// The file's bytes, built in memory (HDF5's core driver) so write_file_atomic can publish them.
std::string histogram_file_image(const std::string& path, const CalibrationData& data,
                                 const std::vector<std::string>& model_tensors) {
  H5::FileAccPropList access;
  access.setCore(size_t(1) << 20, false);  // grow by 1 MiB, never touch the disk
  H5::H5File file(path, H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
  hdf5::write_string_attribute(file, "model", data.model);
  write_string_list(file, "model_tensors", model_tensors);
  write_scalar(file, "images", H5::PredType::STD_I64LE, H5::PredType::NATIVE_INT64, data.images);
  write_scalar(file, "bins", H5::PredType::STD_I32LE, H5::PredType::NATIVE_INT32, int32_t{kHistogramBins});
  const H5::Group tensors = file.createGroup("tensors");
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    const TensorCalibration& t = data.tensors[i];
    const H5::Group group = tensors.createGroup(group_name(i));
    hdf5::write_string_attribute(group, "name", t.name);
    const hsize_t bins = t.histogram.counts.size();
    const H5::DataSet counts = group.createDataSet("counts", H5::PredType::STD_U64LE, H5::DataSpace(1, &bins));
    if (bins > 0) counts.write(t.histogram.counts.data(), H5::PredType::NATIVE_UINT64);
    write_scalar(group, "range", H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT, t.histogram.range);
    write_scalar(group, "min", H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT, t.stats.min);
    write_scalar(group, "max", H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT, t.stats.max);
    write_scalar(group, "absmax", H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT, t.stats.absmax);
    write_scalar(group, "count", H5::PredType::STD_U64LE, H5::PredType::NATIVE_UINT64, t.stats.count);
    write_scalar(group, "nan_count", H5::PredType::STD_U64LE, H5::PredType::NATIVE_UINT64, t.stats.nan_count);
  }
  file.flush(H5F_SCOPE_GLOBAL);
  const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
  OCTET_CHECK(size > 0, "'", path, "': HDF5 could not size the in-memory file");
  std::string bytes(static_cast<size_t>(size), '\0');
  OCTET_CHECK(H5Fget_file_image(file.getId(), bytes.data(), bytes.size()) == size, "'", path,
              "': HDF5 could not copy the in-memory file");
  return bytes;
}

}  // namespace

void save_histograms(const std::string& path, const CalibrationData& data,
                     const std::vector<std::string>& model_tensors) {
  const std::set<std::string> known(model_tensors.begin(), model_tensors.end());
  std::set<std::string> seen;
  for (const TensorCalibration& t : data.tensors) {
    OCTET_CHECK(known.count(t.name), "'", path, "': tensor '", t.name, "' is not among the model's calibrated tensors");
    OCTET_CHECK(seen.insert(t.name).second, "'", path, "': tensor '", t.name, "' appears twice");
    OCTET_CHECK(t.histogram.counts.empty() || t.histogram.counts.size() == static_cast<size_t>(kHistogramBins), "'",
                path, "': tensor '", t.name, "': histogram has ", t.histogram.counts.size(), " bins, expected ",
                kHistogramBins);
  }
  const std::string bytes = hdf5::guarded(path, "cannot build the histogram file",
                                          [&] { return histogram_file_image(path, data, model_tensors); });
  write_file_atomic(path, bytes);
}

CalibrationData load_histograms(const std::string& path, const std::vector<std::string>& expected_model_tensors) {
  hdf5::require_hdf5_file(path);
  return hdf5::guarded(path, "cannot read the histograms", [&] {
    const H5::H5File file(path, H5F_ACC_RDONLY);
    CalibrationData data;
    data.model = hdf5::read_string_attribute(file, "model", path, "the root").value_or("");
    const std::vector<std::string> model_tensors = read_string_list(file, "model_tensors", path);
    if (!expected_model_tensors.empty() && model_tensors != expected_model_tensors) {
      const std::string only_model = names_missing_from(expected_model_tensors, model_tensors);
      const std::string only_file = names_missing_from(model_tensors, expected_model_tensors);
      const bool reordered = only_model == "none" && only_file == "none";
      throw Error(detail::concat("'", path, "': histograms of another model ('", data.model, "', ",
                                 model_tensors.size(), " calibrated tensors; this model has ",
                                 expected_model_tensors.size(), ")\n  only in this model: ", only_model,
                                 "\n  only in the file: ", only_file,
                                 reordered ? "\n  (the same names in another order)" : ""));
    }
    const int32_t bins = read_scalar<int32_t>(file, "bins", H5::PredType::NATIVE_INT32, path, "the root");
    OCTET_CHECK(bins == kHistogramBins, "'", path, "': histograms of ", bins, " bins; this octet uses ",
                kHistogramBins);
    data.images = read_scalar<int64_t>(file, "images", H5::PredType::NATIVE_INT64, path, "the root");
    OCTET_CHECK(file.nameExists("tensors"), "'", path, "': no group /tensors");
    const H5::Group tensors = file.openGroup("tensors");
    const std::set<std::string> known(model_tensors.begin(), model_tensors.end());
    std::set<std::string> seen;
    const hsize_t n = tensors.getNumObjs();
    for (hsize_t i = 0; i < n; ++i) {
      const std::string key = group_name(i);
      const std::string object = "/tensors/" + key;
      OCTET_CHECK(tensors.nameExists(key), "'", path, "': /tensors holds ", n, " entries but no '", key,
                  "' (groups are numbered 000000, 000001, ...)");
      const H5::Group group = tensors.openGroup(key);
      TensorCalibration t;
      const std::optional<std::string> name = hdf5::read_string_attribute(group, "name", path, object);
      OCTET_CHECK(name && !name->empty(), "'", path, "': ", object, " has no tensor name");
      t.name = *name;
      OCTET_CHECK(known.count(t.name), "'", path, "': ", object, " holds tensor '", t.name,
                  "', which is not in the file's model_tensors");
      OCTET_CHECK(seen.insert(t.name).second, "'", path, "': tensor '", t.name, "' appears twice");
      const std::string what = object + " ('" + t.name + "')";
      OCTET_CHECK(group.nameExists("counts"), "'", path, "': ", what, " has no dataset 'counts'");
      const H5::DataSet counts = group.openDataSet("counts");
      const H5::DataSpace space = counts.getSpace();
      hsize_t extent = 0;
      OCTET_CHECK(space.getSimpleExtentNdims() == 1, "'", path, "': ", what, ": counts must be one-dimensional");
      space.getSimpleExtentDims(&extent);
      OCTET_CHECK(extent == 0 || extent == static_cast<hsize_t>(kHistogramBins), "'", path, "': ", what,
                  ": counts has ", extent, " bins, expected ", kHistogramBins);
      OCTET_CHECK(counts.getTypeClass() == H5T_INTEGER, "'", path, "': ", what, ": counts must be integers, found ",
                  hdf5::type_name(counts.getDataType()));
      t.histogram.counts.resize(static_cast<size_t>(extent));
      if (extent > 0) counts.read(t.histogram.counts.data(), H5::PredType::NATIVE_UINT64);
      t.histogram.range = read_scalar<float>(group, "range", H5::PredType::NATIVE_FLOAT, path, what);
      t.stats.min = read_scalar<float>(group, "min", H5::PredType::NATIVE_FLOAT, path, what);
      t.stats.max = read_scalar<float>(group, "max", H5::PredType::NATIVE_FLOAT, path, what);
      t.stats.absmax = read_scalar<float>(group, "absmax", H5::PredType::NATIVE_FLOAT, path, what);
      t.stats.count = read_scalar<uint64_t>(group, "count", H5::PredType::NATIVE_UINT64, path, what);
      t.stats.nan_count = read_scalar<uint64_t>(group, "nan_count", H5::PredType::NATIVE_UINT64, path, what);
      data.tensors.push_back(std::move(t));
    }
    return data;
  });
}
#endif

}  // namespace octet
