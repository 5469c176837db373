// octet debug precision MODEL --calib CACHE --data DATA (--min-agreement PCT | --min-sqnr DB | --max-drop PTS)
// — Polygraphy's `debug precision` for octet's INT8 builder: which layers lose the accuracy, and the fewest
// to keep in FP32 for a target, measured on the user's own samples against the FP32 model.
//
//   1. The FP32 model runs once over the samples; its outputs are the reference.
//   2. The INT8 engine with every scaled layer INT8 (what `octet build --int8` makes) is measured.
//   3. Sensitivity, one engine per INT8 layer, chosen by the target:
//      --min-sqnr: only that layer INT8; layers ranked by the SQNR it leaves, noisiest first. If the
//        layers' noise adds up, that order meets an SQNR budget with the fewest layers, and it finds a
//        layer that wrecks the output by itself even where another such layer hides it from the measure
//        below (PP-LCNetV3's ppocr_det_v5: 30 of 75 layers FP32 met 25 dB in this order; in the other,
//        40 layers FP32 still left 12.5 dB; docs/accuracy_debugging.md).
//      agreement, labelled top-1: only that layer FP32; layers ranked by the target's metric, best first,
//        then by SQNR (agreement on a few hundred samples moves in steps). One INT8 layer alone rarely
//        moves a top-1 at all, so the first measure ranks these targets worse (the shipped MobileNetV2,
//        --max-drop 0: 11 of 24 layers kept FP32 in its order, 3 in this one).
//   4. Fallback (greedy, Polygraphy's "linear" mode in sensitivity order): layers go to FP32 one at a
//      time in that order, the engine re-measured after each, until the target holds. Nothing is
//      written when even every candidate in FP32 misses it.
// Metrics, over the samples (a short last batch's padding is never counted):
//   agreement  share of samples whose top-1 (argmax of output 0, per sample) equals FP32's, in %
//   sqnr       10 log10(sum r^2 / sum (x - r)^2) over every graph output, in dB (engine/tensor_diff.h)
//   top-1      labelled accuracy of output 0 (argmax per sample == label), in %; --max-drop PTS asks
//              for FP32's own top-1 on the samples minus PTS
// --outputs NAME[,NAME] measures these tensors instead (Polygraphy's --onnx-outputs): each becomes an
// extra graph output of both engines. A detector's output mixes box coordinates in pixels with class
// probabilities in [0, 1], so the SQNR of the whole output is the boxes': on 8 photographs YOLOv8n's
// output reads 21.5 dB where its class probabilities are at 0.8 dB (docs/accuracy_debugging.md).
// The rules go to --save-rules (one `NAME:fp32` per line; `octet build --layer-precisions @FILE` reads
// them) and, with --save-engine, into a plan built here.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/file_util.h"
#include "engine/nearest_names.h"
#include "octet/build_config.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/plan.h"
#include "engine/shape_inference.h"
#include "quantize/int8_builder.h"
#include "tools/octet/cli.h"

#if OCTET_HAVE_CUDA
#include "engine/cuda_backend.h"
#endif

namespace octet::cli {
namespace {

enum class Metric { kAgreement, kSqnr, kTop1 };

// What must hold: the metric at or above `value` (for --max-drop, FP32's labelled top-1 minus the drop).
struct Target {
  Metric metric = Metric::kAgreement;
  double value = 0;  // % or dB
  const char* name() const {
    return metric == Metric::kAgreement ? "top-1 agreement" : metric == Metric::kSqnr ? "SQNR" : "labelled top-1";
  }
};

// The samples, in batches of the context's size (the last padded with zeros), and FP32's outputs.
struct Samples {
  std::vector<size_t> measured;  // the outputs the metrics read (all, or those --outputs names)
  std::vector<Tensor> batches;
  std::vector<int64_t> rows;  // real samples in each batch
  std::vector<std::vector<int64_t>> labels;  // per batch, per real sample; -1 where the data has none
  std::vector<std::vector<Tensor>> reference;
  int64_t total = 0;
};

// Both metrics of an engine on the samples; `of(target)` is the one the target names.
struct Measured {
  double agreement = 0, sqnr = 0;
  double top1 = 0;  // labelled top-1 accuracy of output 0, % (samples without a label count as wrong)
  double images_per_second = 0;  // the engine's runs over the samples (what a fallback costs in speed)
  double of(const Target& target) const {
    return target.metric == Metric::kAgreement ? agreement : target.metric == Metric::kSqnr ? sqnr : top1;
  }
  // Ranking order: the target's metric, then SQNR, which is continuous where agreement on a few
  // samples moves in steps (ties would otherwise leave the order to chance).
  bool better_than(const Measured& other, const Target& target) const {
    if (of(target) != other.of(target)) return of(target) > other.of(target);
    return sqnr > other.sqnr;
  }
};

// The metrics of `graph` on the samples against the FP32 reference.
Measured measure(const Graph& graph, const Samples& samples, const ExecutionChoice& exec) {
  auto context = create_context(graph, exec.backend, exec.options);
  int64_t agree = 0, correct = 0;
  double signal = 0, noise = 0;
  double seconds = 0;
  context->run({samples.batches[0]});  // untimed: a context's first run also sets itself up
  for (size_t b = 0; b < samples.batches.size(); ++b) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Tensor> outputs = context->run({samples.batches[b]});
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t rows = samples.rows[b];
    for (size_t o : samples.measured) {
      const Tensor& x = outputs[o];
      const Tensor& r = samples.reference[b][o];
      if (x.type() != DataType::kFloat32) continue;  // indices, masks: nothing to measure in dB
      OCTET_CHECK(x.rank() >= 1 && x.dims()[0] == r.dims()[0] && x.dims() == r.dims(),
                  "octet debug precision compares outputs with the batch as dim 0; output ", o, " is ",
                  to_string(x.dims()), " (FP32: ", to_string(r.dims()), ")");
      const int64_t per_row = x.numel() / x.dims()[0];
      if (o == samples.measured[0]) {
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t top = top1_class(x.data<float>() + i * per_row, per_row);
          agree += top == top1_class(r.data<float>() + i * per_row, per_row);
          correct += top == samples.labels[b][static_cast<size_t>(i)];
        }
      }
      for (int64_t i = 0; i < rows * per_row; ++i) {
        const double d = static_cast<double>(x.data<float>()[i]) - r.data<float>()[i];
        signal += static_cast<double>(r.data<float>()[i]) * r.data<float>()[i];
        noise += d * d;
      }
    }
  }
  Measured m;
  m.agreement = 100.0 * static_cast<double>(agree) / static_cast<double>(samples.total);
  m.top1 = 100.0 * static_cast<double>(correct) / static_cast<double>(samples.total);
  m.sqnr = noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
  m.images_per_second = seconds > 0 ? static_cast<double>(samples.total) / seconds : 0;
  return m;
}

// Appends the tensors named in `list` (comma-separated) to the graph outputs, where they are not
// outputs already; returns their output indices in that order.
std::vector<size_t> mark_outputs(Graph& graph, const std::string& list, const std::string& model_path) {
  const auto activation_names = [&graph] {  // for the error only
    std::vector<std::string> names;
    for (const Value& v : graph.values)
      if (!v.is_constant()) names.push_back(v.name);
    return names;
  };
  std::vector<size_t> marked;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    const ValueId id = graph.find_value(name);
    OCTET_CHECK(id != kNoValue && !graph.value(id).is_constant(), "--outputs: '", model_path,
                "' has no activation tensor ", quoted_with_nearest(name, activation_names(), "none, the model has no tensors"));
    auto at = std::find(graph.outputs.begin(), graph.outputs.end(), id);
    if (at == graph.outputs.end()) at = graph.outputs.insert(graph.outputs.end(), id);
    marked.push_back(static_cast<size_t>(at - graph.outputs.begin()));
  }
  OCTET_CHECK(!marked.empty(), "--outputs names no tensor");
  return marked;
}

std::string rules_text(const std::vector<std::string>& layers) {
  std::string text;
  for (const std::string& layer : layers) text += (text.empty() ? "" : ",") + layer + ":fp32";
  return text;
}

Graph build_with_fallback(const Graph& fp32, const Scales& scales, const std::vector<std::string>& fp32_layers,
                          BuildReport* report = nullptr) {
  BuildConfig config;
  config.int8 = true;
  for (const std::string& layer : fp32_layers) config.layer_precisions.push_back({layer, Precision::kFloat32});
  return build_int8_graph(fp32, scales.by_tensor, config, report);
}

std::string format(double v, const Target& target) {
  if (std::isinf(v)) return "inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, target.metric == Metric::kSqnr ? "%.1f dB" : "%.2f%%", v);
  return buffer;
}

int debug_precision(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "the FP32 ONNX model")
    ("calib", po::value<std::string>()->required(), "its activation scales (octet calibrate --cache / --table)")
    ("max-images", po::value<int64_t>()->default_value(200), "samples measured on (the first N of --data)")
    ("min-agreement", po::value<double>(), "target: top-1 agreement with FP32 of output 0, in % (classifiers)")
    ("min-sqnr", po::value<double>(), "target: SQNR of every graph output against FP32, in dB (any model)")
    ("max-drop", po::value<double>(), "target: labelled top-1 accuracy of output 0 at most this many points below "
                                      "FP32's (labelled data)")
    ("outputs", po::value<std::string>(), "measure these tensors (comma-separated ONNX names; the first for "
                                          "agreement and top-1) instead of the graph outputs, e.g. a detector's "
                                          "class probabilities. Each becomes an extra graph output of both "
                                          "engines, so its producer writes float32 (Polygraphy's --onnx-outputs)")
    ("save-rules", po::value<std::string>(), "write the layers kept FP32, one NAME:fp32 per line "
                                             "(octet build --layer-precisions @FILE)")
    ("save-engine", po::value<std::string>(), "build the plan with those layers FP32 and write it here");
  options.add(data_options());
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet debug precision MODEL --calib CACHE --data DATA [preprocessing] [--max-images N]\n"
          "                             (--min-agreement PCT | --min-sqnr DB | --max-drop PTS) [--outputs NAME,...]\n"
          "                             [--save-rules FILE] [--save-engine PLAN]\n\n"
          "Measures the INT8 engine against the FP32 model on the samples and ranks the INT8 layers: with "
          "--min-sqnr by the SQNR each leaves alone in INT8 (noisiest first), otherwise by what each gives alone "
          "in FP32 (best first). Then moves layers to FP32 in that order, re-measuring, until the target holds. "
          "Prints the ranking and the layers kept FP32; writes them as rules (--save-rules) and builds the plan "
          "(--save-engine). Nothing is written when the target cannot be met.",
          options, positional, vm))
    return 0;
  OCTET_CHECK(vm.count("data"), "octet debug precision needs --data PATH (the samples to measure on)");
  OCTET_CHECK(vm.count("min-agreement") + vm.count("min-sqnr") + vm.count("max-drop") == 1,
              "give exactly one target: --min-agreement PCT, --min-sqnr DB or --max-drop PTS");
  Target target;
  double max_drop = 0;
  if (vm.count("min-agreement")) {
    target.value = vm["min-agreement"].as<double>();
    OCTET_CHECK(target.value > 0 && target.value <= 100, "--min-agreement must be in (0, 100], got ", target.value);
  } else if (vm.count("min-sqnr")) {
    target.metric = Metric::kSqnr;
    target.value = vm["min-sqnr"].as<double>();
  } else {
    target.metric = Metric::kTop1;
    max_drop = vm["max-drop"].as<double>();
    OCTET_CHECK(max_drop >= 0, "--max-drop must be >= 0 points, got ", max_drop);
  }
  const int64_t max_images = vm["max-images"].as<int64_t>();
  OCTET_CHECK(max_images >= 1, "--max-images must be >= 1, got ", max_images);
  for (const char* option : {"save-rules", "save-engine"})
    if (vm.count(option)) check_output_path(std::string("--") + option, vm[option].as<std::string>());

  ExecutionChoice exec = read_execution_options(vm);
  if (vm["batch"].defaulted()) exec.batch = 32;
  const std::string model_path = vm["model"].as<std::string>();
  ImportOptions import_options;
  import_options.batch = exec.batch;
  import_options.input_shapes = exec.shapes;
  Graph imported = import_onnx_file(model_path, import_options);
  Samples samples;
  if (vm.count("outputs")) samples.measured = mark_outputs(imported, vm["outputs"].as<std::string>(), model_path);
  for (size_t o = 0; samples.measured.empty() && o < imported.outputs.size(); ++o) samples.measured.push_back(o);
  const Scales scales = read_scales(vm["calib"].as<std::string>(), model_path, imported);
  Graph fp32 = imported;
  optimize_fp32(fp32);
  set_batch(fp32, exec.batch);

  // The samples and the FP32 reference.
  const std::string data_path = vm["data"].as<std::string>();
  auto source = open_batch_source(data_path, read_data_options(vm, &fp32, model_path));
  feed_samples(fp32, source->sample_dims());
  OCTET_CHECK(fp32.inputs.size() == 1, "'", model_path, "' has ", fp32.inputs.size(),
              " inputs; octet debug precision feeds single-input models");
  const Dims& input_dims = fp32.value(fp32.inputs[0]).dims;
  {
    auto reference = create_context(fp32, exec.backend, exec.options);
    Batch batch;
    while (samples.total < max_images && source->next(std::min(exec.batch, max_images - samples.total), batch)) {
      const int64_t n = batch.images.dims()[0];
      Tensor padded(DataType::kFloat32, input_dims);
      fill_padded(padded, batch);
      samples.reference.push_back(reference->run({padded}));
      samples.labels.push_back(batch.labels);
      if (target.metric == Metric::kTop1)
        for (int64_t label : batch.labels)
          OCTET_CHECK(label >= 0, "--max-drop needs labelled samples; '", data_path, "' has none for sample ",
                      samples.total);
      samples.batches.push_back(std::move(padded));
      samples.rows.push_back(n);
      samples.total += n;
    }
  }
  OCTET_CHECK(samples.total > 0, "dataset '", data_path, "' is empty");
  std::printf("model        %s\n", model_path.c_str());
  std::printf("data         %s, %lld samples\n", source->describe().c_str(), static_cast<long long>(samples.total));
  if (target.metric == Metric::kTop1) {
    double fp32_top1 = 0;
    for (size_t b = 0; b < samples.batches.size(); ++b)
      for (int64_t i = 0; i < samples.rows[b]; ++i) {
        const Tensor& r = samples.reference[b][samples.measured[0]];
        const int64_t per_row = r.numel() / r.dims()[0];
        fp32_top1 += top1_class(r.data<float>() + i * per_row, per_row) == samples.labels[b][static_cast<size_t>(i)];
      }
    fp32_top1 = 100.0 * fp32_top1 / static_cast<double>(samples.total);
    target.value = fp32_top1 - max_drop;
    std::printf("FP32         labelled top-1 %.2f%%\n", fp32_top1);
  }
  std::printf("target       %s >= %s%s\n", target.name(), format(target.value, target).c_str(),
              target.metric == Metric::kTop1 ? "" : " against FP32");
  if (vm.count("outputs")) {
    std::string list;
    for (size_t o : samples.measured) list += (list.empty() ? "'" : ", '") + fp32.value(fp32.outputs[o]).name + "'";
    std::printf("measured on  %s\n", list.c_str());
  }

  // The engine as `octet build --int8` makes it, and its INT8 layers.
  BuildReport report;
  const Measured baseline_measured = measure(build_with_fallback(fp32, scales, {}, &report), samples, exec);
  const double baseline = baseline_measured.of(target);
  std::vector<std::string> candidates;
  for (const LayerDecision& d : report.layers)
    if (d.precision == Precision::kInt8) candidates.push_back(d.layer);
  std::printf("INT8         %s with %zu INT8 layers (top-1 agreement %.2f%%, SQNR %.1f dB)\n",
              format(baseline, target).c_str(), candidates.size(), baseline_measured.agreement, baseline_measured.sqnr);

  std::vector<std::string> kept_fp32;
  double reached = baseline;
  Measured final_measured = baseline_measured;
  if (baseline < target.value) {
    // Sensitivity: each INT8 layer alone in INT8 (SQNR target) or alone in FP32 (the others).
    const bool by_noise = target.metric == Metric::kSqnr;
    struct Ranked {
      std::string layer;
      Measured measured;
    };
    std::vector<Ranked> ranked;
    Progress progress("sensitivity", static_cast<int64_t>(candidates.size()), "layers");
    for (const std::string& layer : candidates) {
      std::vector<std::string> fallback;  // the layers kept FP32: all others, or this one
      for (const std::string& other : candidates)
        if ((other == layer) != by_noise) fallback.push_back(other);
      ranked.push_back({layer, measure(build_with_fallback(fp32, scales, fallback), samples, exec)});
      progress.update(static_cast<int64_t>(ranked.size()));
    }
    progress.finish();
    std::stable_sort(ranked.begin(), ranked.end(), [&](const Ranked& a, const Ranked& b) {
      return by_noise ? a.measured.sqnr < b.measured.sqnr : a.measured.better_than(b.measured, target);
    });
    std::printf("\nsensitivity  the engine with only this layer %s (top %zu of %zu):\n",
                by_noise ? "INT8, noisiest first" : "FP32, best first", std::min<size_t>(ranked.size(), 15),
                ranked.size());
    for (size_t i = 0; i < ranked.size() && i < 15; ++i) {
      const Measured& m = ranked[i].measured;
      if (by_noise)
        std::printf("  %3zu  %-48s %10s\n", i + 1, ranked[i].layer.c_str(), format(m.sqnr, target).c_str());
      else
        std::printf("  %3zu  %-48s %10s  (%+.2f; SQNR %.1f dB)\n", i + 1, ranked[i].layer.c_str(),
                    format(m.of(target), target).c_str(), m.of(target) - baseline, m.sqnr);
    }

    // Greedy fallback in that order.
    std::printf("\nfallback\n");
    for (const Ranked& r : ranked) {
      kept_fp32.push_back(r.layer);
      final_measured = measure(build_with_fallback(fp32, scales, kept_fp32), samples, exec);
      reached = final_measured.of(target);
      std::printf("  + %-48s -> %s\n", r.layer.c_str(), format(reached, target).c_str());
      if (reached >= target.value) break;
    }
    OCTET_CHECK(reached >= target.value, "the target ", target.name(), " >= ", format(target.value, target),
                " is not met even with all ", candidates.size(), " INT8 layers in FP32 (", format(reached, target),
                "): nothing written");
  }
  std::printf("\nresult       %s with %zu of %zu INT8 layers kept FP32\n", format(reached, target).c_str(),
              kept_fp32.size(), candidates.size());
  if (!kept_fp32.empty()) {
    std::printf("rules        --layer-precisions %s\n", rules_text(kept_fp32).c_str());
    // On these few samples and this backend; octet bench measures a plan properly.
    std::printf("speed        %.0f images/s with the fallback, %.0f with every layer INT8 (%s, batch %lld)\n",
                final_measured.images_per_second, baseline_measured.images_per_second, to_string(exec.backend),
                static_cast<long long>(exec.batch));
  }

  if (vm.count("save-rules")) {
    std::string text;
    for (const std::string& layer : kept_fp32) text += layer + ":fp32\n";
    write_file_atomic(vm["save-rules"].as<std::string>(), text);
    std::printf("wrote        %s\n", vm["save-rules"].as<std::string>().c_str());
  }
  if (vm.count("save-engine")) {
    Plan plan;
    plan.backend = exec.backend;
    plan.build_settings = "octet debug precision " + model_path + " --calib " + vm["calib"].as<std::string>() +
                          (kept_fp32.empty() ? "" : " --layer-precisions " + rules_text(kept_fp32));
    plan.graph = build_with_fallback(fp32, scales, kept_fp32);
#if OCTET_HAVE_CUDA
    if (exec.backend == BackendKind::kCuda) {
      choose_int8_tactics(plan.graph, exec.options, {});  // every tactic, timed on this device
      plan.gpu_arch = cuda_device_arch(exec.options.device);
      plan.gpu_name = cuda_describe_device(exec.options.device);
    }
#endif
    save_plan(vm["save-engine"].as<std::string>(), plan);
    std::printf("plan         %s\n", vm["save-engine"].as<std::string>().c_str());
  }
  return 0;
}

}  // namespace

int command_debug(const Args& args) {
  if (!args.empty() && args[0] == "precision") return debug_precision(Args(args.begin() + 1, args.end()));
  const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
  if (help || args.empty()) {
    std::printf("usage: octet debug precision MODEL --calib CACHE --data DATA (--min-agreement PCT | --min-sqnr DB) "
                "...\n\ntools:\n  precision   rank the INT8 layers by sensitivity and keep the fewest in FP32 for a "
                "target (octet debug precision --help)\n");
    return help ? 0 : 1;
  }
  OCTET_CHECK(false, "unknown tool '", args[0], "' (tools: precision)");
  return 1;
}

}  // namespace octet::cli
