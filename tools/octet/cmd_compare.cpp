// octet compare MODEL|PLAN (--reference MODEL|PLAN | --load-outputs FILE.npz) (--input FILE | --random |
// --data DATA) — Polygraphy's `run --compare` for octet: the same input through two executions, every
// graph output checked against the reference's with engine/tensor_diff.h (atol / rtol /
// --check-error-stat), a table of the statistics, exit status 1 when a check fails. With --data the
// dataset runs in batches and the statistics cover every sample.
//
// Outputs are matched by name; when no name matches and both sides have as many outputs, by position
// (a reference exported under other names), which the table says. The reference runs at the
// subject's batch, on --reference-backend (default: the subject's backend; a plan runs on its own).
//
// --mark all (Polygraphy's spelling) also compares every intermediate tensor both executions
// compute, by ONNX name: an INT8 tensor dequantized with its scale, under its name without the
// ":int8" the builder appends to an int8 copy; tensors a fusion made internal exist on one side only
// and are skipped. They are reported, not checked: INT8 intermediates are never within FP32
// tolerances, and the exit status stays the graph outputs'. Each row says how much SQNR its
// producer lost against the worst of its compared inputs, and the largest losses are listed: where
// the error first grows; --plot draws them along the network (tools/octet/plot.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "datasets/batch_source.h"
#include "engine/backend.h"
#include "engine/file_util.h"
#include "engine/npz.h"
#include "engine/tensor_diff.h"
#include "engine/tensor_io.h"
#include "quantize/qscheme.h"
#include "tools/octet/cli.h"
#include "tools/octet/plot.h"

namespace octet::cli {
namespace {

// The input of a single-input model from the tensors of an --input file: a .npy / .pb holds one; of an
// .npz, the one named as the model's input, else its only one.
Tensor pick_input(NamedTensors& tensors, const std::string& path, const std::string& input_name) {
  for (auto& [name, tensor] : tensors)
    if (name == input_name) return std::move(tensor);
  OCTET_CHECK(tensors.size() == 1, "'", path, "' holds ", tensors.size(), " tensors and none is named '", input_name,
              "' (the model's input)");
  return std::move(tensors[0].second);
}

struct Match {
  std::string name;       // the subject's output
  std::string reference;  // the reference tensor it is compared with
  TensorDiff diff;
};

// Pairs the subject's outputs with the reference's: by name, else by position when the counts agree.
std::vector<std::pair<size_t, size_t>> pair_outputs(const std::vector<std::string>& subject,
                                                    const std::vector<std::string>& reference, bool& by_position,
                                                    const std::string& reference_label) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < reference.size(); ++i) index[reference[i]] = i;
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < subject.size(); ++i)
    if (const auto it = index.find(subject[i]); it != index.end()) pairs.emplace_back(i, it->second);
  by_position = pairs.empty() && subject.size() == reference.size();
  if (by_position)
    for (size_t i = 0; i < subject.size(); ++i) pairs.emplace_back(i, i);
  std::string names;
  for (const std::string& n : reference) names += (names.empty() ? "'" : ", '") + n + "'";
  OCTET_CHECK(!pairs.empty(), "no output of the compared model matches ", reference_label, " by name (it has ",
              names.empty() ? std::string("no tensors") : names, ") and the counts differ (", subject.size(), " vs ",
              reference.size(), ")");
  return pairs;
}

std::string number(double v, const char* format = "%.3g") {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(number(v));
}

// Every float tensor a run computes, by ONNX name, in the order the graph produces them.
struct MarkedTensors {
  std::map<std::string, Tensor> by_name;
  std::vector<std::string> order;
  std::map<std::string, const Node*> producer;
};

std::string onnx_name(const std::string& name) {
  static const std::string kSuffix = ":int8";
  return ends_with(name, kSuffix) ? name.substr(0, name.size() - kSuffix.size()) : name;
}

// Sets an observer on `context` that keeps a host copy of each float or int8 node output (int8
// dequantized with its scale; the first tensor of a name wins, the float original before an int8 copy).
void mark_all(const Graph& graph, ExecutionContext& context, MarkedTensors& marked) {
  context.set_observer([&graph, &marked](const Node& node, ValueId id, const TensorView& view) {
    const Value& v = graph.value(id);
    if (v.type != DataType::kFloat32 && v.type != DataType::kInt8) return;
    const std::string name = onnx_name(v.name);
    if (marked.by_name.count(name)) return;
    Tensor t = copy_observed_to_host(view);
    if (v.type == DataType::kInt8) {
      Tensor f(DataType::kFloat32, t.dims());
      const float scale = v.scale.value_or(1.0f);
      for (int64_t i = 0; i < t.numel(); ++i) f.data<float>()[i] = quant::dequantize(t.data<int8_t>()[i], scale);
      t = std::move(f);
    }
    marked.by_name.emplace(name, std::move(t));
    marked.order.push_back(name);
    marked.producer[name] = &node;
  });
}

struct MarkedRow {
  std::string tensor, op, precision;
  TensorDiff diff;
  // SQNR of the worst compared input minus this tensor's (> 0: the error grew here); not finite when
  // no input was compared (the graph input, which both sides share exactly, or fused-away tensors).
  double loss_db = 0;
};

std::vector<MarkedRow> compare_marked(const Graph& graph, const MarkedTensors& subject,
                                      const MarkedTensors& reference, const Tolerance& tolerance) {
  std::vector<MarkedRow> rows;
  std::map<std::string, double> sqnr;
  for (const std::string& name : subject.order) {
    const auto it = reference.by_name.find(name);
    const Tensor& x = subject.by_name.at(name);
    if (it == reference.by_name.end() || it->second.dims() != x.dims()) continue;
    const Node& node = *subject.producer.at(name);
    MarkedRow row{name, to_string(node.op), node.precision == Precision::kInt8 ? "int8" : "fp32",
                  diff_tensors(x, it->second, tolerance, "tensor '" + name + "'")};
    double worst_input = std::numeric_limits<double>::infinity();
    for (ValueId in : node.inputs)
      if (in != kNoValue)
        if (const auto s = sqnr.find(onnx_name(graph.value(in).name)); s != sqnr.end())
          worst_input = std::min(worst_input, s->second);
    row.loss_db = std::isinf(worst_input) && std::isinf(row.diff.sqnr_db) ? 0 : worst_input - row.diff.sqnr_db;
    sqnr[name] = row.diff.sqnr_db;
    rows.push_back(std::move(row));
  }
  return rows;
}

// The rows where the most SQNR is lost (at most `count`, largest first).
std::vector<size_t> largest_losses(const std::vector<MarkedRow>& rows, size_t count) {
  std::vector<size_t> worst;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].loss_db > 0 && std::isfinite(rows[i].loss_db)) worst.push_back(i);
  std::sort(worst.begin(), worst.end(), [&](size_t a, size_t b) { return rows[a].loss_db > rows[b].loss_db; });
  if (worst.size() > count) worst.resize(count);
  return worst;
}

void print_marked(const std::vector<MarkedRow>& rows, size_t skipped) {
  std::printf("\n--mark all: %zu tensor(s) computed by both (%zu on one side only: fused or renamed)\n", rows.size(),
              skipped);
  std::printf("%-40s %-22s %9s %9s %10s %10s %9s\n", "tensor", "producer", "SQNR dB", "cosine", "rel L2", "max abs",
              "loss dB");
  for (const MarkedRow& r : rows)
    std::printf("%-40s %-22s %9s %9s %10s %10s %9s\n", r.tensor.c_str(), (r.op + " " + r.precision).c_str(),
                number(r.diff.sqnr_db, "%.1f").c_str(), number(r.diff.cosine, "%.6f").c_str(),
                number(r.diff.rel_l2).c_str(), number(r.diff.max_abs).c_str(),
                std::isfinite(r.loss_db) ? number(r.loss_db, "%.1f").c_str() : "-");
  const std::vector<size_t> worst = largest_losses(rows, 5);
  if (!worst.empty()) std::printf("largest SQNR losses (where the error grows):\n");
  for (size_t i : worst)
    std::printf("  %-40s %s %s: -%.1f dB (SQNR %s dB)\n", rows[i].tensor.c_str(), rows[i].op.c_str(),
                rows[i].precision.c_str(), rows[i].loss_db, number(rows[i].diff.sqnr_db, "%.1f").c_str());
}

// The first `rows` samples (dim 0) of each tensor, gathered batch after batch and joined at the end.
class RowCollector {
 public:
  void add(const std::vector<Tensor>& tensors, int64_t rows) {
    if (parts_.empty()) parts_.resize(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Tensor& t = tensors[i];
      OCTET_CHECK(t.rank() >= 1, "--data compares outputs with the batch as dim 0; output ", i, " is a scalar");
      Dims dims = t.dims();
      dims[0] = rows;
      Tensor part(t.type(), dims);
      std::memcpy(part.raw(), t.raw(), part.bytes());
      parts_[i].push_back(std::move(part));
    }
  }
  std::vector<Tensor> joined() const {
    std::vector<Tensor> out;
    for (const std::vector<Tensor>& parts : parts_) {
      if (parts.size() == 1) {
        out.push_back(parts[0]);
        continue;
      }
      Dims dims = parts[0].dims();
      dims[0] = 0;
      for (const Tensor& p : parts) dims[0] += p.dims()[0];
      Tensor t(parts[0].type(), dims);
      size_t offset = 0;
      for (const Tensor& p : parts) {
        std::memcpy(static_cast<char*>(t.raw()) + offset, p.raw(), p.bytes());
        offset += p.bytes();
      }
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::vector<std::vector<Tensor>> parts_;  // per tensor, per batch
};

void print_table(const std::vector<Match>& matches, const Tolerance& tolerance) {
  std::printf("%-28s %10s %10s %10s %10s %10s %9s %9s %10s  %s\n", "output", "max abs", "mean abs", "median abs",
              "max rel", "rel L2", "SQNR dB", "cosine", "failing", "check");
  for (const Match& m : matches) {
    const TensorDiff& d = m.diff;
    std::printf("%-28s %10s %10s %10s %10s %10s %9s %9s %10s  %s\n", m.name.c_str(), number(d.max_abs).c_str(),
                number(d.mean_abs).c_str(), number(d.median_abs).c_str(), number(d.max_rel).c_str(),
                number(d.rel_l2).c_str(), number(d.sqnr_db, "%.1f").c_str(), number(d.cosine, "%.6f").c_str(),
                with_thousands(d.failing).c_str(), d.passed ? "PASS" : "FAIL");
    if (m.reference != m.name) std::printf("  (compared with the reference's '%s')\n", m.reference.c_str());
    if (d.nans > 0) std::printf("  %s NaN value(s)\n", with_thousands(d.nans).c_str());
  }
  static const char* stats[] = {"elemwise", "max", "mean", "median"};
  std::printf("check: %s with atol %g, rtol %g (absdiff <= atol or reldiff <= rtol)\n",
              stats[static_cast<int>(tolerance.stat)], tolerance.atol, tolerance.rtol);
}

void write_json(const std::string& path, const std::vector<Match>& matches, const Tolerance& tolerance,
                const std::vector<MarkedRow>* marked) {
  nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
  for (const Match& m : matches) {
    const TensorDiff& d = m.diff;
    outputs.push_back({{"output", m.name}, {"reference", m.reference}, {"elements", d.elements},
                       {"max_abs", json_number(d.max_abs)}, {"mean_abs", json_number(d.mean_abs)},
                       {"median_abs", json_number(d.median_abs)}, {"max_rel", json_number(d.max_rel)},
                       {"mean_rel", json_number(d.mean_rel)}, {"median_rel", json_number(d.median_rel)},
                       {"rel_l2", json_number(d.rel_l2)}, {"sqnr_db", json_number(d.sqnr_db)},
                       {"cosine", json_number(d.cosine)}, {"failing", d.failing}, {"nans", d.nans},
                       {"passed", d.passed}});
  }
  static const char* stats[] = {"elemwise", "max", "mean", "median"};
  const nlohmann::ordered_json doc = {
      {"check", {{"stat", stats[static_cast<int>(tolerance.stat)]}, {"atol", tolerance.atol}, {"rtol", tolerance.rtol}}},
      {"outputs", outputs}};
  nlohmann::ordered_json full = doc;
  if (marked) {
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const MarkedRow& r : *marked)
      tensors.push_back({{"tensor", r.tensor}, {"op", r.op}, {"precision", r.precision},
                         {"sqnr_db", json_number(r.diff.sqnr_db)}, {"cosine", json_number(r.diff.cosine)},
                         {"rel_l2", json_number(r.diff.rel_l2)}, {"max_abs", json_number(r.diff.max_abs)},
                         {"loss_db", json_number(r.loss_db)}});
    full["tensors"] = tensors;
  }
  write_file_atomic(path, full.dump(2) + "\n");
}

}  // namespace

int command_compare(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "the ONNX model or plan to check")
    ("reference", po::value<std::string>(), "the ONNX model or plan to compare with (e.g. the FP32 model of an "
                                            "INT8 plan)")
    ("load-outputs", po::value<std::string>(), "compare with outputs saved earlier (.npz, one array per output "
                                               "name: octet compare --save-outputs, numpy.savez of ONNX Runtime's "
                                               "outputs)")
    ("input", po::value<std::string>(), "the input: .npy, .pb (ONNX TensorProto) or .npz (the array named as the "
                                        "model's input, or its only one); dim 0 is the batch")
    ("random", po::bool_switch(), "a random N(0, 1) input of the model's shape instead of --input")
    ("max-images", po::value<int64_t>()->default_value(0), "with --data: compare on at most this many samples "
                                                           "(0 = all)")
    ("seed", po::value<uint32_t>()->default_value(0), "seed for --random")
    ("atol", po::value<double>()->default_value(1e-5, "1e-5"), "absolute tolerance")
    ("rtol", po::value<double>()->default_value(1e-5, "1e-5"), "relative tolerance (of the reference's value)")
    ("check-error-stat", po::value<std::string>()->default_value("elemwise"),
     "what must be within tolerance: elemwise (every element), max, mean or median (of the differences)")
    ("reference-backend", po::value<std::string>(), "backend of a --reference model: cpu or cuda (default: the "
                                                    "compared one's)")
    ("save-inputs", po::value<std::string>(), "write the input to this .npz (to replay a --random run)")
    ("save-outputs", po::value<std::string>(), "write the compared model's outputs to this .npz")
    ("export-json", po::value<std::string>(), "write the statistics as JSON to this file")
    ("mark", po::value<std::string>(), "all: also compare every intermediate tensor both executions compute "
                                       "(reported with the SQNR each layer loses, not checked; needs --reference)")
    ("plot", po::value<std::string>(), "with --mark all: draw the SQNR of every tensor along the network into this "
                                       "PNG");
  options.add(data_options());
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet compare MODEL|PLAN (--reference MODEL|PLAN | --load-outputs FILE.npz) (--input FILE | "
          "--random | --data DATA [preprocessing])\n                     [--atol X] [--rtol X] [--check-error-stat elemwise|max|mean|median] "
          "[--save-outputs FILE.npz] [--export-json FILE] [--mark all]\n\n"
          "Runs MODEL|PLAN and a reference on the same input and checks every graph output against the reference's "
          "(matched by name; by position when no name matches and the counts agree): an element passes when "
          "|x - r| <= atol or |x - r| <= rtol * |r| (Polygraphy's check). Prints max / mean / median absolute and "
          "relative error, relative L2, SQNR and cosine similarity per output. Exit status 1 when a check fails. "
          "With --data the samples of a dataset (images, IDX, HDF5; preprocessing as octet eval) run in batches "
          "and the statistics cover all of them. "
          "--mark all adds every intermediate tensor both compute (INT8 ones dequantized), with the SQNR each layer "
          "loses against its inputs: where the error grows.",
          options, positional, vm))
    return 0;

  const bool random = vm["random"].as<bool>();
  const bool data = vm.count("data") > 0;
  OCTET_CHECK(int(random) + int(vm.count("input") > 0) + int(data) == 1,
              "give exactly one of --input FILE, --random or --data DATA");
  OCTET_CHECK((vm.count("reference") > 0) != (vm.count("load-outputs") > 0),
              "give exactly one of --reference MODEL|PLAN or --load-outputs FILE.npz");
  OCTET_CHECK(!vm.count("plot") || vm.count("mark"), "--plot draws the tensors of --mark all; add --mark all");
  for (const char* option : {"save-inputs", "save-outputs", "export-json", "plot"})
    if (vm.count(option)) check_output_path(std::string("--") + option, vm[option].as<std::string>());
  Tolerance tolerance;
  tolerance.atol = vm["atol"].as<double>();
  tolerance.rtol = vm["rtol"].as<double>();
  OCTET_CHECK(tolerance.atol >= 0 && tolerance.rtol >= 0, "--atol and --rtol must be >= 0");
  tolerance.stat = parse_error_stat(vm["check-error-stat"].as<std::string>());
  const int64_t max_images = vm["max-images"].as<int64_t>();
  OCTET_CHECK(max_images >= 0, "--max-images must be >= 0, got ", max_images);
  const bool mark_all_tensors = vm.count("mark") > 0;
  if (mark_all_tensors) {
    OCTET_CHECK(vm["mark"].as<std::string>() == "all", "--mark '", vm["mark"].as<std::string>(),
                "': only 'all' is supported (every tensor)");
    OCTET_CHECK(vm.count("reference") > 0, "--mark all needs --reference MODEL|PLAN (saved outputs hold no "
                                           "intermediate tensors)");
    OCTET_CHECK(!data, "--mark all compares one batch: use --input FILE or --random, not --data");
  }

  ExecutionChoice exec = read_execution_options(vm);
  if (data && vm["batch"].defaulted()) exec.batch = 32;
  const std::string model_path = vm["model"].as<std::string>();
  const std::string input_path = vm.count("input") ? vm["input"].as<std::string>() : "";
  NamedTensors input_file;  // --input's tensors; the batch is the first one's dim 0
  if (!input_path.empty()) {
    if (ends_with(input_path, ".npz")) {
      input_file = read_npz_file(input_path);
    } else {
      input_file.emplace_back("", read_tensor_file(input_path));
    }
    OCTET_CHECK(!input_file.empty() && input_file[0].second.rank() >= 1, "input '", input_path,
                "' holds no tensor with a batch dimension");
    const int64_t file_batch = input_file[0].second.dims()[0];
    if (!vm["batch"].defaulted())
      OCTET_CHECK(exec.batch == file_batch, "--batch ", exec.batch, " differs from the batch of '", input_path, "' (",
                  file_batch, ")");
    exec.batch = file_batch;
  }
  const int64_t batch = random && vm["batch"].defaulted() ? 0 : exec.batch;  // 0: a plan's own batch
  LoadedGraph subject = load_model_or_plan(model_path, batch, exec);
  OCTET_CHECK(subject.graph.inputs.size() == 1, subject.kind(), " '", model_path, "' has ",
              subject.graph.inputs.size(), " inputs; octet compare feeds single-input models");
  std::unique_ptr<BatchSource> source;
  if (data) {
    source = open_batch_source(vm["data"].as<std::string>(), read_data_options(vm, &subject.graph, model_path));
    feed_samples(subject.graph, source->sample_dims());
  }
  const Value& in_value = subject.graph.value(subject.graph.inputs[0]);

  // The reference, when it is a model or plan, runs beside the subject on every batch.
  std::optional<LoadedGraph> reference;
  std::unique_ptr<ExecutionContext> reference_context;
  ExecutionChoice reference_exec = exec;
  if (vm.count("reference")) {
    const std::string path = vm["reference"].as<std::string>();
    reference_exec.backend_given = vm.count("reference-backend") > 0;
    if (reference_exec.backend_given) reference_exec.backend = parse_backend(vm["reference-backend"].as<std::string>());
    reference = load_model_or_plan(path, exec.batch, reference_exec);
    if (source) feed_samples(reference->graph, source->sample_dims());
    OCTET_CHECK(reference->graph.inputs.size() == 1 &&
                    reference->graph.value(reference->graph.inputs[0]).dims == in_value.dims,
                "the reference ", reference->kind(), " '", path, "' does not take the compared one's input ",
                to_string(in_value.dims));
    reference_context = create_context(reference->graph, reference_exec.backend, reference_exec.options);
  }
  MarkedTensors subject_marked, reference_marked;
  auto subject_context = create_context(subject.graph, exec.backend, exec.options);
  if (mark_all_tensors) {
    mark_all(subject.graph, *subject_context, subject_marked);
    mark_all(reference->graph, *reference_context, reference_marked);
  }

  // Batches: the one input (--input, --random), or the dataset's, the last padded with zeros whose
  // rows are left out.
  RowCollector subject_rows, reference_rows, input_rows;
  int64_t samples = 0;
  const auto run_batch = [&](const Tensor& in, int64_t rows) {
    subject_rows.add(subject_context->run({in}), rows);
    if (reference_context) reference_rows.add(reference_context->run({in}), rows);
    if (vm.count("save-inputs")) input_rows.add({in}, rows);
    samples += rows;
  };
  if (source) {
    const int64_t total = max_images > 0 ? std::min(max_images, source->size()) : source->size();
    Progress progress("compare", total);
    Batch next;
    Tensor padded(DataType::kFloat32, in_value.dims);
    while (samples < total && source->next(std::min(exec.batch, total - samples), next)) {
      const int64_t n = next.images.dims()[0];
      fill_padded(padded, next);
      run_batch(padded, n);
      progress.update(samples);
    }
    progress.finish();
    OCTET_CHECK(samples > 0, "dataset '", vm["data"].as<std::string>(), "' is empty");
  } else {
    const Tensor input = random ? random_input(in_value.dims, vm["seed"].as<uint32_t>())
                                : pick_input(input_file, input_path, in_value.name);
    OCTET_CHECK(input.type() == DataType::kFloat32 && input.dims() == in_value.dims, "the input is ",
                to_string(input.type()), " ", to_string(input.dims()), ", ", subject.kind(), " '", model_path,
                "' takes float32 ", to_string(in_value.dims), " ('", in_value.name, "')");
    run_batch(input, input.dims()[0]);
  }
  const std::vector<Tensor> outputs = subject_rows.joined();
  std::vector<std::string> names;
  for (ValueId id : subject.graph.outputs) names.push_back(subject.graph.value(id).name);
  std::printf("ran %s '%s' on %s, batch %lld, %lld sample(s)%s\n", subject.kind(), model_path.c_str(),
              to_string(exec.backend), static_cast<long long>(exec.batch), static_cast<long long>(samples),
              source ? (" of " + source->describe()).c_str() : "");

  std::vector<Tensor> reference_outputs;
  std::vector<std::string> reference_names;
  std::string reference_label;
  if (reference) {
    reference_outputs = reference_rows.joined();
    for (ValueId id : reference->graph.outputs) reference_names.push_back(reference->graph.value(id).name);
    reference_label = std::string("the reference ") + reference->kind() + " '" + reference->path + "'";
    std::printf("ran reference %s '%s' on %s\n", reference->kind(), reference->path.c_str(),
                to_string(reference_exec.backend));
  } else {
    const std::string path = vm["load-outputs"].as<std::string>();
    for (auto& [name, tensor] : read_npz_file(path)) {
      reference_names.push_back(name);
      reference_outputs.push_back(std::move(tensor));
    }
    reference_label = "the outputs in '" + path + "'";
    std::printf("loaded %zu reference output(s) from '%s'\n", reference_outputs.size(), path.c_str());
  }

  bool by_position = false;
  std::vector<Match> matches;
  for (const auto& [s, r] : pair_outputs(names, reference_names, by_position, reference_label))
    matches.push_back({names[s], reference_names[r],
                       diff_tensors(outputs[s], reference_outputs[r], tolerance, "output '" + names[s] + "'")});
  if (by_position) std::printf("no output name matches: outputs compared by position\n");
  std::vector<MarkedRow> marked;
  if (mark_all_tensors) {
    marked = compare_marked(subject.graph, subject_marked, reference_marked, tolerance);
    print_marked(marked, subject_marked.order.size() - marked.size());
    if (vm.count("plot")) {
      SqnrPlot plot;
      plot.title = std::string(subject.kind()) + " '" + model_path + "' against '" + reference->path + "'";
      for (const MarkedRow& r : marked) {
        plot.tensors.push_back(r.tensor);
        plot.sqnr_db.push_back(r.diff.sqnr_db);
        plot.int8.push_back(r.precision == "int8");
      }
      plot.marked = largest_losses(marked, 5);
      write_file_atomic(vm["plot"].as<std::string>(), render_sqnr_png(plot));
      std::printf("wrote '%s'\n", vm["plot"].as<std::string>().c_str());
    }
    std::printf("\n");
  }
  print_table(matches, tolerance);
  for (size_t i = 0; i < names.size(); ++i) {
    bool compared = false;
    for (const Match& m : matches) compared = compared || m.name == names[i];
    if (!compared) std::printf("not compared: output '%s' (the reference has no such tensor)\n", names[i].c_str());
  }

  if (vm.count("save-inputs")) {
    write_npz_file(vm["save-inputs"].as<std::string>(), {{in_value.name, input_rows.joined().at(0)}});
    std::printf("wrote '%s'\n", vm["save-inputs"].as<std::string>().c_str());
  }
  if (vm.count("save-outputs")) {
    NamedTensors saved;
    for (size_t i = 0; i < names.size(); ++i) saved.emplace_back(names[i], outputs[i]);
    write_npz_file(vm["save-outputs"].as<std::string>(), saved);
    std::printf("wrote '%s'\n", vm["save-outputs"].as<std::string>().c_str());
  }
  if (vm.count("export-json")) {
    write_json(vm["export-json"].as<std::string>(), matches, tolerance, mark_all_tensors ? &marked : nullptr);
    std::printf("wrote '%s'\n", vm["export-json"].as<std::string>().c_str());
  }
  int failed = 0;
  for (const Match& m : matches) failed += m.diff.passed ? 0 : 1;
  std::printf("%s: %d of %zu compared output(s) outside the tolerance\n", failed ? "FAILED" : "PASSED", failed,
              matches.size());
  return failed ? 1 : 0;
}

}  // namespace octet::cli
