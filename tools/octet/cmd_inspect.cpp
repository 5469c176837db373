// octet inspect FILE — what a calibration cache, JSON scale table or histogram file holds: one row per
// tensor (abs-max, chosen amax, scale, method, saturation) as text, CSV or JSON; --diff A B compares
// two of them tensor by tensor; --plot DIR draws a histogram file's tensors as PNGs; --model MODEL
// checks the tensor names against a model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "calibration/calibration_io.h"
#include "engine/file_util.h"
#include "engine/onnx_import.h"
#include "octet/build_config.h"
#include "tools/octet/cli.h"
#include "tools/octet/plot.h"

namespace octet::cli {
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

enum class FileKind { kCache, kTable, kHistograms };

struct Row {
  std::string name;
  double absmax = kUnknown;  // unknown in a cache
  double amax = 0.0;         // a cache's amax is scale * 127
  float scale = 1.0f;
  double saturation = kUnknown;  // share of values clipped; unknown in a cache
};

// One file as rows, whatever its kind.
struct Listing {
  std::string path;
  FileKind kind = FileKind::kCache;
  std::string description;  // "TensorRT calibration cache (TRT-8601-EntropyCalibration2)"
  std::string model;        // empty for a cache
  std::string method;       // "entropy", "percentile 99.99", or a cache's calibrator name
  int64_t images = -1;      // -1 for a cache
  std::vector<Row> rows;    // file order (graph order for octet's files)
  CalibrationData histograms;  // kHistograms only
};

FileKind detect_kind(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  OCTET_CHECK(std::filesystem::exists(path), "'", path, "': no such file");
  OCTET_CHECK(!std::filesystem::is_directory(path), "'", path, "' is a folder, not a file");
  OCTET_CHECK(in.good(), "'", path, "': cannot open (", std::strerror(errno), ")");
  char head[512] = {};
  in.read(head, sizeof head);
  const std::string bytes(head, static_cast<size_t>(in.gcount()));
  if (bytes.compare(0, 8, "\x89HDF\r\n\x1a\n") == 0) return FileKind::kHistograms;
  if (bytes.compare(0, 4, "TRT-") == 0) return FileKind::kCache;
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') return FileKind::kTable;
  OCTET_CHECK(false, "'", path, "' is neither a TensorRT calibration cache (first line TRT-<version>-<calibrator>), "
              "a JSON scale table nor an HDF5 histogram file");
  return FileKind::kCache;
}

std::string method_text(RangeMethod method, double percentile) {
  if (method != RangeMethod::kPercentile) return to_string(method);
  char buf[48];
  std::snprintf(buf, sizeof buf, "percentile %g", percentile);
  return buf;
}

Listing listing_from_table(const ScaleTable& table) {
  Listing l;
  l.model = table.model;
  l.method = method_text(table.method, table.percentile);
  l.images = table.images;
  for (const TensorScale& t : table.tensors) l.rows.push_back({t.name, t.absmax, t.amax, t.scale, t.saturation});
  return l;
}

Listing read_cache(const std::string& path) {
  const std::map<std::string, float> scales = read_trt_cache(path);  // validates every line
  // read_trt_cache answers by name; the file's own order (the graph's, for octet's caches) and its
  // header come from the text.
  std::istringstream text(read_file(path));
  std::string header, line;
  std::getline(text, header);
  if (!header.empty() && header.back() == '\r') header.pop_back();
  Listing l;
  l.kind = FileKind::kCache;
  l.description = "TensorRT calibration cache (" + header + ")";
  l.method = header.substr(header.rfind('-') + 1);
  std::set<std::string> seen;
  const auto add = [&](const std::string& name, float scale) {
    if (!seen.insert(name).second) return;
    l.rows.push_back({name, kUnknown, static_cast<double>(scale) * 127.0, scale, kUnknown});
  };
  while (std::getline(text, line)) {
    const size_t colon = line.rfind(": ");
    if (colon == std::string::npos) continue;
    const auto it = scales.find(line.substr(0, colon));
    if (it != scales.end()) add(it->first, it->second);
  }
  for (const auto& [name, scale] : scales) add(name, scale);
  return l;
}

struct ModelCheck {
  std::string model;
  std::vector<std::string> unscaled;  // tensors the model calibrates that the file has no scale for
};

// Every row must name a tensor of the model (any non-constant value: TensorRT's caches may scale
// more tensors than octet calibrates); Error listing those that do not, each with the model's
// nearest names.
ModelCheck check_against_model(const Listing& l, const std::string& model_path, const Graph& graph) {
  std::vector<std::string> model_names;
  for (const Value& v : graph.values)
    if (!v.is_constant()) model_names.push_back(v.name);
  std::map<std::string, float> scales;
  for (const Row& row : l.rows) scales.emplace(row.name, row.scale);
  try {
    require_known_tensors(l.path, scales, model_names);
  } catch (const Error& e) {
    throw Error("model '" + model_path + "' (a file for another model?): " + e.what());
  }
  ModelCheck check{model_path, {}};
  std::set<std::string> in_file;
  for (const Row& row : l.rows) in_file.insert(row.name);
  for (const std::string& name : calibrated_tensor_names(graph))
    if (!in_file.count(name)) check.unscaled.push_back(name);
  return check;
}

struct ReadOptions {
  std::optional<RangeOptions> range;  // --method/--percentile (histogram files)
  const Graph* model = nullptr;       // --model
  bool range_for_histograms_only = false;  // --diff: a table or cache beside histograms ignores --method
};

Listing read_listing(const std::string& path, const ReadOptions& options) {
  const FileKind kind = detect_kind(path);
  OCTET_CHECK(kind == FileKind::kHistograms || !options.range || options.range_for_histograms_only,
              "--method and --percentile apply to histogram files; '", path, "' already holds selected scales");
  Listing l;
  if (kind == FileKind::kCache) {
    l = read_cache(path);
  } else if (kind == FileKind::kTable) {
    l = listing_from_table(read_json_table(path));
    l.description = "JSON scale table";
  } else {
#if OCTET_HDF5
    // Without a model the file is read as it is (an empty list skips the model check).
    CalibrationData data =
        load_histograms(path, options.model ? calibrated_tensor_names(*options.model) : std::vector<std::string>{});
    const RangeOptions range = options.range.value_or(RangeOptions{});
    l = listing_from_table(make_scale_table(data, range));
    l.model = data.model;
    l.description = "histograms (" + std::to_string(kHistogramBins) + " bins), ranges selected now with " +
                    method_text(range.method, range.percentile);
    l.histograms = std::move(data);
#else
    OCTET_CHECK(false, "'", path, "' is an HDF5 histogram file, and this octet was built without HDF5 "
                "(OCTET_HDF5=OFF or libhdf5-dev missing)");
#endif
  }
  l.kind = kind;
  l.path = path;
  return l;
}

// ---- formatting ----

std::string number(double v, const char* spec = "%.6g") {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string hex_of(float scale) {
  uint32_t bits = 0;
  std::memcpy(&bits, &scale, sizeof bits);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

nlohmann::ordered_json json_number(double v) {
  return std::isnan(v) ? nlohmann::ordered_json() : nlohmann::ordered_json(v);
}

enum class Format { kText, kCsv, kJson };

Format parse_format(const std::string& name) {
  if (name == "text") return Format::kText;
  if (name == "csv") return Format::kCsv;
  if (name == "json") return Format::kJson;
  OCTET_CHECK(false, "--format '", name, "' is not one of text, csv, json");
  return Format::kText;
}

// Stable sorts; numeric keys put the largest first and unknown values last.
void sort_rows(std::vector<Row>& rows, const std::string& key) {
  const auto by = [&](auto value) {
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      const double x = value(a), y = value(b);
      if (std::isnan(y)) return !std::isnan(x);
      return !std::isnan(x) && x > y;
    });
  };
  if (key == "order") return;
  if (key == "name")
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name < b.name; });
  else if (key == "amax") by([](const Row& r) { return r.amax; });
  else if (key == "absmax") by([](const Row& r) { return r.absmax; });
  else if (key == "scale") by([](const Row& r) { return static_cast<double>(r.scale); });
  else if (key == "saturation") by([](const Row& r) { return r.saturation; });
  else OCTET_CHECK(false, "--sort '", key, "' is not one of order, name, amax, absmax, scale, saturation");
}

void print_listing(const Listing& l, Format format, const std::optional<ModelCheck>& check) {
  if (format == Format::kCsv) {
    std::printf("tensor,absmax,amax,scale,scale_hex,method,saturation_percent\n");
    for (const Row& r : l.rows)
      std::printf("%s,%s,%s,%s,%s,%s,%s\n", csv_field(r.name).c_str(),
                  std::isnan(r.absmax) ? "" : number(r.absmax, "%.9g").c_str(), number(r.amax, "%.9g").c_str(),
                  number(r.scale, "%.9g").c_str(), hex_of(r.scale).c_str(), csv_field(l.method).c_str(),
                  std::isnan(r.saturation) ? "" : number(100.0 * r.saturation, "%.6g").c_str());
    return;
  }
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["file"] = l.path;
    j["kind"] = l.kind == FileKind::kCache ? "cache" : l.kind == FileKind::kTable ? "table" : "histograms";
    j["description"] = l.description;
    j["model"] = l.model.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(l.model);
    j["method"] = l.method;
    j["images"] = l.images < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(l.images);
    auto& tensors = j["tensors"] = nlohmann::ordered_json::array();
    for (const Row& r : l.rows)
      tensors.push_back({{"name", r.name}, {"absmax", json_number(r.absmax)}, {"amax", json_number(r.amax)},
                         {"scale", r.scale}, {"scale_hex", hex_of(r.scale)}, {"method", l.method},
                         {"saturation_percent", json_number(100.0 * r.saturation)}});
    if (check) j["model_check"] = {{"model", check->model}, {"tensors_without_scale", check->unscaled}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("file     %s: %s\n", l.path.c_str(), l.description.c_str());
  if (!l.model.empty()) std::printf("model    %s\n", l.model.c_str());
  if (l.images >= 0) std::printf("images   %s\n", with_thousands(l.images).c_str());
  std::printf("tensors  %zu\n\n", l.rows.size());
  size_t width = 6;
  for (const Row& r : l.rows) width = std::max(width, r.name.size());
  const int w = static_cast<int>(width), mw = static_cast<int>(std::max<size_t>(6, l.method.size()));
  std::printf("%-*s  %11s  %11s  %13s  %-*s  %10s\n", w, "tensor", "abs-max", "amax", "scale", mw, "method",
              "saturation");
  for (const Row& r : l.rows)
    std::printf("%-*s  %11s  %11s  %13s  %-*s  %10s\n", w, r.name.c_str(), number(r.absmax).c_str(),
                number(r.amax).c_str(), number(r.scale, "%.7g").c_str(), mw, l.method.c_str(),
                std::isnan(r.saturation) ? "-" : (number(100.0 * r.saturation, "%.4f") + "%").c_str());
  if (check) {
    std::printf("\nmodel    %s: all %zu tensors found", check->model.c_str(), l.rows.size());
    if (check->unscaled.empty()) {
      std::printf("; every tensor octet calibrates has a scale\n");
    } else {
      std::printf("; %zu calibrated tensors have no scale (they stay FP32):\n", check->unscaled.size());
      for (const std::string& name : check->unscaled) std::printf("  %s\n", name.c_str());
    }
  }
}

// ---- diff ----

struct DiffRow {
  std::string name;
  float scale_a = 0.0f, scale_b = 0.0f;
  double ratio() const { return static_cast<double>(scale_b) / static_cast<double>(scale_a); }
};

int print_diff(const Listing& a, const Listing& b, Format format, const std::string& sort_key) {
  std::map<std::string, float> b_scales;
  for (const Row& r : b.rows) b_scales.emplace(r.name, r.scale);
  std::set<std::string> a_names;
  std::vector<DiffRow> rows;
  std::vector<std::string> only_a, only_b;
  for (const Row& r : a.rows) {
    a_names.insert(r.name);
    const auto it = b_scales.find(r.name);
    if (it == b_scales.end()) only_a.push_back(r.name);
    else rows.push_back({r.name, r.scale, it->second});
  }
  for (const Row& r : b.rows)
    if (!a_names.count(r.name)) only_b.push_back(r.name);

  if (sort_key == "name") {
    std::stable_sort(rows.begin(), rows.end(), [](const DiffRow& x, const DiffRow& y) { return x.name < y.name; });
  } else if (sort_key == "ratio") {
    std::stable_sort(rows.begin(), rows.end(), [](const DiffRow& x, const DiffRow& y) {
      return std::fabs(std::log(x.ratio())) > std::fabs(std::log(y.ratio()));
    });
  } else if (sort_key == "scale") {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const DiffRow& x, const DiffRow& y) { return x.scale_a > y.scale_a; });
  } else {
    OCTET_CHECK(sort_key == "order", "--sort '", sort_key, "' with --diff is not one of order, name, ratio, scale");
  }

  if (format == Format::kCsv) {
    std::printf("tensor,scale_a,scale_b,ratio_b_over_a,in\n");
    for (const DiffRow& r : rows)
      std::printf("%s,%.9g,%.9g,%.9g,both\n", csv_field(r.name).c_str(), r.scale_a, r.scale_b, r.ratio());
    for (const std::string& name : only_a) std::printf("%s,,,,a\n", csv_field(name).c_str());
    for (const std::string& name : only_b) std::printf("%s,,,,b\n", csv_field(name).c_str());
    return 0;
  }
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["a"] = {{"file", a.path}, {"description", a.description}, {"method", a.method}};
    j["b"] = {{"file", b.path}, {"description", b.description}, {"method", b.method}};
    auto& tensors = j["tensors"] = nlohmann::ordered_json::array();
    for (const DiffRow& r : rows)
      tensors.push_back({{"name", r.name}, {"scale_a", r.scale_a}, {"scale_b", r.scale_b}, {"ratio", r.ratio()}});
    j["only_in_a"] = only_a;
    j["only_in_b"] = only_b;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  // A cache's description already names its calibrator; a table's and histograms' add the method.
  const auto header = [](const char* label, const Listing& l) {
    std::printf("%s  %s: %s%s\n", label, l.path.c_str(), l.description.c_str(),
                l.kind == FileKind::kTable ? (", " + l.method).c_str() : "");
  };
  header("A", a);
  header("B", b);
  std::printf("\n");
  size_t width = 6;
  for (const DiffRow& r : rows) width = std::max(width, r.name.size());
  const int w = static_cast<int>(width);
  std::printf("%-*s  %13s  %13s  %9s\n", w, "tensor", "scale A", "scale B", "B/A");
  size_t equal = 0;
  const DiffRow* largest = nullptr;
  for (const DiffRow& r : rows) {
    std::printf("%-*s  %13.7g  %13.7g  %9.4f\n", w, r.name.c_str(), r.scale_a, r.scale_b, r.ratio());
    equal += r.scale_a == r.scale_b;
    if (!largest || std::fabs(std::log(r.ratio())) > std::fabs(std::log(largest->ratio()))) largest = &r;
  }
  const auto list = [](const char* label, const std::vector<std::string>& names) {
    std::printf("%s (%zu)%s", label, names.size(), names.empty() ? "\n" : ":\n");
    for (const std::string& name : names) std::printf("  %s\n", name.c_str());
  };
  std::printf("\n");
  list("only in A", only_a);
  list("only in B", only_b);
  std::printf("%zu tensors in both, %zu with equal scales", rows.size(), equal);
  if (largest && largest->scale_a != largest->scale_b)
    std::printf("; largest change '%s' (B/A %.4f)", largest->name.c_str(), largest->ratio());
  std::printf("\n");
  return 0;
}

// ---- plots ----

void write_plots(const Listing& l, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  OCTET_CHECK(fs::is_directory(dir), "--plot '", dir, "': cannot create the folder",
              ec ? " (" + ec.message() + ")" : std::string());
  const std::vector<TensorCalibration>& tensors = l.histograms.tensors;
  std::vector<std::string> names;
  for (const TensorCalibration& t : tensors) names.push_back(t.name);
  const std::vector<std::string> files = plot_file_names(names);
  std::map<std::string, const Row*> rows;
  for (const Row& r : l.rows) rows.emplace(r.name, &r);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorCalibration& t = tensors[i];
    const Row& row = *rows.at(t.name);
    HistogramPlot plot;
    plot.tensor = t.name;
    plot.histogram = t.histogram;
    plot.absmax = t.stats.absmax;
    plot.amax = static_cast<float>(row.amax);
    plot.method = l.method;
    plot.saturation = std::isnan(row.saturation) ? 0.0 : row.saturation;
    plot.count = t.stats.count;
    write_file_atomic((fs::path(dir) / files[i]).string(), render_histogram_png(plot));
  }
  std::printf("wrote %zu plots to '%s' (one PNG per tensor, amax by %s)\n", tensors.size(), dir.c_str(),
              l.method.c_str());
}

}  // namespace

int command_inspect(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("files", po::value<std::vector<std::string>>()->multitoken(), "the file (two with --diff)")
    ("format", po::value<std::string>()->default_value("text"), "text | csv | json")
    ("sort", po::value<std::string>()->default_value("order"),
     "row order: order (as in the file) | name | amax | absmax | scale | saturation (largest first); "
     "with --diff: order | name | ratio (largest change first) | scale")
    ("model", po::value<std::string>(), "ONNX model: check that every tensor the file names exists in it (unknown "
                                        "names are listed with the model's nearest names)")
    ("method", po::value<std::string>(), "histogram files: range selection for amax and the plot line: entropy "
                                         "(default) | max | percentile | mse")
    ("percentile", po::value<double>(), "histogram files, --method percentile: share kept, in (0, 100]")
    ("plot", po::value<std::string>(), "histogram files: write one PNG per tensor into this folder")
    ("diff", po::bool_switch(), "compare two files (caches, tables or histograms) tensor by tensor");
  po::positional_options_description positional;
  positional.add("files", -1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet inspect FILE [--format text|csv|json] [--sort KEY] [--model MODEL]\n"
          "       octet inspect FILE.h5 [--method M] [--plot DIR]\n"
          "       octet inspect --diff A B [--format text|csv|json] [--sort KEY]\n\n"
          "FILE is a TensorRT calibration cache, a JSON scale table (octet calibrate --table) or an HDF5\n"
          "histogram file (--save-histograms); the kind is recognised from the content. One row per tensor:\n"
          "abs-max, chosen amax, scale (= amax / 127), method and the share of values saturated at amax (a cache\n"
          "holds scales only). --diff lists the ratio of scales B/A per tensor and the tensors only in one file.",
          options, positional, vm))
    return 0;

  OCTET_CHECK(vm.count("files"), "octet inspect needs a FILE (see --help)");
  const std::vector<std::string> files = vm["files"].as<std::vector<std::string>>();
  const bool diff = vm["diff"].as<bool>();
  OCTET_CHECK(files.size() == (diff ? 2u : 1u),
              diff ? "--diff compares exactly two files, got " + std::to_string(files.size())
                   : "octet inspect takes one file (two with --diff), got " + std::to_string(files.size()));
  const Format format = parse_format(vm["format"].as<std::string>());
  const std::string sort_key = vm["sort"].as<std::string>();
  const std::vector<std::string> sort_keys = diff ? std::vector<std::string>{"order", "name", "ratio", "scale"}
                                                  : std::vector<std::string>{"order", "name", "amax", "absmax",
                                                                             "scale", "saturation"};
  if (std::find(sort_keys.begin(), sort_keys.end(), sort_key) == sort_keys.end()) {
    std::string list;
    for (const std::string& key : sort_keys) list += (list.empty() ? "" : ", ") + key;
    OCTET_CHECK(false, "--sort '", sort_key, "'", diff ? " with --diff" : "", " is not one of ", list);
  }
  OCTET_CHECK(!(diff && vm.count("plot")), "--plot draws one file's histograms; leave out --diff");
  if (vm.count("plot"))
    OCTET_CHECK(plot_available(), "--plot draws the PNGs with OpenCV, and this octet was built without OpenCV "
                "(install libopencv-dev and rebuild with OCTET_OPENCV=ON)");

  ReadOptions read;
  if (vm.count("method") || vm.count("percentile")) {
    RangeOptions range;
    if (vm.count("method")) range.method = parse_range_method(vm["method"].as<std::string>());
    if (vm.count("percentile")) {
      OCTET_CHECK(range.method == RangeMethod::kPercentile, "--percentile applies to --method percentile only");
      range.percentile = vm["percentile"].as<double>();
      OCTET_CHECK(range.percentile > 0.0 && range.percentile <= 100.0, "--percentile must be in (0, 100], got ",
                  range.percentile);
    }
    read.range = range;
  }
  Graph model;
  std::string model_path;
  if (vm.count("model")) {
    OCTET_CHECK(!diff, "--model checks one file; leave out --diff");
    model_path = vm["model"].as<std::string>();
    model = import_onnx_file(model_path);
    read.model = &model;
  }

  read.range_for_histograms_only = diff;
  if (diff) return print_diff(read_listing(files[0], read), read_listing(files[1], read), format, sort_key);

  Listing listing = read_listing(files[0], read);
  if (vm.count("plot")) {
    OCTET_CHECK(listing.kind == FileKind::kHistograms, "--plot needs histograms; '", listing.path, "' is a ",
                listing.description, " (write histograms with octet calibrate --save-histograms FILE.h5)");
    write_plots(listing, vm["plot"].as<std::string>());
    if (vm["format"].defaulted()) return 0;  // the listing only when a format is asked for
  }
  std::optional<ModelCheck> check;
  if (read.model) check = check_against_model(listing, model_path, model);
  sort_rows(listing.rows, sort_key);
  print_listing(listing, format, check);
  return 0;
}

}  // namespace octet::cli
