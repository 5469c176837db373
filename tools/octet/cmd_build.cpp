// octet build MODEL [--int8 --calib CACHE] --save-engine FILE.plan — a plan from a model and a scale
// table (trtexec's flags and their trtexec spellings): the FP32 passes, the INT8 builder
// (quantize/int8_builder.h), on CUDA the tactic choice by timing, then the plan file
// (engine/plan.h) and optionally the layer info (engine/layer_info.h). The summary says how many
// layers run INT8, which stay FP32 and why, which tensors had no scale, and where the files went.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "calibration/calibration_io.h"
#include "engine/layer_info.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "kernels/int8_tactic_names.h"
#include "octet/build_config.h"
#include "quantize/int8_builder.h"
#include "quantize/qdq_fusion.h"
#include "tools/octet/cli.h"
#if OCTET_HAVE_CUDA
#include "engine/cuda_backend.h"
#endif

namespace octet::cli {
namespace {

// The value of `name`, or of its trtexec spelling `alias`; Error when both are given.
std::string option_or_alias(const po::variables_map& vm, const char* name, const char* alias) {
  OCTET_CHECK(!(vm.count(name) && vm.count(alias)), "give --", name, " or --", alias, ", not both");
  if (vm.count(name)) return vm[name].as<std::string>();
  if (vm.count(alias)) return vm[alias].as<std::string>();
  return "";
}

// "auto" (every tactic) or a comma list of kernels/int8_tactic_names.h's names; empty list = all.
std::vector<std::string> parse_tactics(const std::string& text) {
  std::vector<std::string> tactics;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (item == "auto") continue;
    OCTET_CHECK(octet::kernels::is_int8_tactic_name(item), "--tactics: unknown tactic '", item, "' (choose from ",
                octet::kernels::int8_tactic_name_list(), ", auto)");
    tactics.push_back(item);
  }
  return tactics;
}

// The command line as the plan records it ("octet build model.onnx --int8 ...").
std::string command_text(const Args& args) {
  std::string text = "octet build";
  for (const std::string& a : args) text += " " + (a.find(' ') == std::string::npos ? a : "'" + a + "'");
  return text;
}

void print_layers(const BuildReport& report) {
  int64_t int8 = 0, mixed = 0, fp32 = 0;
  for (const LayerDecision& d : report.layers) {
    const bool is_int8 = d.precision == Precision::kInt8;
    int8 += is_int8;
    fp32 += !is_int8;
    mixed += is_int8 && d.output_type == DataType::kFloat32;
  }
  std::printf("layers       %lld INT8 (%lld of them INT8-in/FP32-out), %lld FP32\n", static_cast<long long>(int8),
              static_cast<long long>(mixed), static_cast<long long>(fp32));
  std::printf("reformats    %d QuantizeLinear, %d DequantizeLinear\n", report.quantize_nodes, report.dequantize_nodes);
  for (const LayerDecision& d : report.layers) {
    if (d.reason.empty()) continue;
    const char* what = d.precision == Precision::kInt8 ? "int8 in, fp32 out" : "fp32";
    std::printf("  %s (%s) %s: %s\n", d.layer.c_str(), to_string(d.op), what, d.reason.c_str());
  }
}

void print_missing_scales(const BuildReport& report, const std::string& cache_path) {
  if (report.tensors_without_scale.empty()) return;
  std::printf("warning: %zu tensor(s) have no scale in '%s'; the layers that read or write them stay FP32:\n",
              report.tensors_without_scale.size(), cache_path.c_str());
  for (const std::string& name : report.tensors_without_scale) std::printf("  %s\n", name.c_str());
}

#if OCTET_HAVE_CUDA
void print_tactics(const std::vector<TacticTiming>& timings) {
  if (timings.empty()) return;
  std::printf("tactics      (timed on the device, ms per layer; * = chosen)\n");
  std::string layer;
  for (const TacticTiming& t : timings) {
    if (t.layer != layer) {
      if (!layer.empty()) std::printf("\n");
      layer = t.layer;
      std::printf("  %-32s", layer.c_str());
    }
    std::printf("  %s%s %.4f", t.chosen ? "*" : "", t.tactic.c_str(), t.milliseconds);
  }
  std::printf("\n");
}
#endif

}  // namespace

int command_build(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>(), "ONNX model file (also --onnx)")
    ("onnx", po::value<std::string>(), "the ONNX model (trtexec spelling)")
    ("int8", po::bool_switch(), "allow INT8 layers (needs --calib, or a model with QuantizeLinear/"
                                "DequantizeLinear nodes, whose scales are used); without it the plan is FP32")
    ("calib", po::value<std::string>(), "scales: a TensorRT calibration cache or an octet JSON table "
                                        "(octet calibrate --cache / --table)")
    ("layer-precisions", po::value<std::string>(), "per-layer precision, NAME:fp32|int8 comma separated; "
                                                   "* and ? match names; @FILE reads them from a file (octet "
                                                   "debug precision --save-rules) (alias --layerPrecisions)")
    ("layerPrecisions", po::value<std::string>(), "same as --layer-precisions")
    ("layer-output-types", po::value<std::string>(), "per-layer output type, NAME:fp32|int8 comma separated "
                                                     "(alias --layerOutputTypes)")
    ("layerOutputTypes", po::value<std::string>(), "same as --layer-output-types")
    ("precision-constraints", po::value<std::string>(), "none (rules are hints, silently dropped) | prefer (warn "
                                                        "and fall back) | obey (fail); default none "
                                                        "(alias --precisionConstraints)")
    ("precisionConstraints", po::value<std::string>(), "same as --precision-constraints")
    ("tactics", po::value<std::string>()->default_value("auto"), "cuda: INT8 kernel families to time and choose "
                                                                 "from: dp4a, tensorcore (mma.sync, sm_80+), wgmma "
                                                                 "(sm_90), cublaslt (1x1/GEMM), or auto (all that "
                                                                 "run on the GPU); comma list")
    ("save-engine", po::value<std::string>(), "write the plan here (required; alias --saveEngine)")
    ("saveEngine", po::value<std::string>(), "same as --save-engine")
    ("export-layer-info", po::value<std::string>(), "write each layer's precision, tensors, layouts, scales and "
                                                    "tactic as JSON (alias --exportLayerInfo)")
    ("exportLayerInfo", po::value<std::string>(), "same as --export-layer-info");
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet build MODEL [--int8 --calib CACHE] [--backend cpu|cuda] [--batch N]\n"
          "                   [--layer-precisions NAME:fp32,...] [--layer-output-types NAME:fp32,...]\n"
          "                   [--precision-constraints none|prefer|obey] [--tactics dp4a,tensorcore,wgmma,cublaslt|auto]\n"
          "                   --save-engine FILE.plan [--export-layer-info FILE.json]\n\n"
          "Builds a plan: the model with BatchNorm folded and epilogues fused, with --int8 the layers that have "
          "an INT8 kernel and scales for their tensors in INT8 (weights per output channel), reformats at the "
          "precision boundaries, and on CUDA each INT8 layer's fastest tactic timed on this GPU (the plan then "
          "runs on this GPU architecture only). Tensors without a scale keep their layers FP32 (listed). "
          "An explicitly quantized model (QuantizeLinear -> DequantizeLinear pairs, symmetric int8, e.g. from "
          "ONNX Runtime's quantize_static or octet export-qdq) needs no --calib: each pair becomes the scale of "
          "its tensor, the weights keep the model's integers and scales, and the layer info lists the pairs "
          "fused into each layer. "
          "run, eval, info and bench take the plan where they take a model.",
          options, positional, vm))
    return 0;

  const std::string model_path = option_or_alias(vm, "model", "onnx");
  OCTET_CHECK(!model_path.empty(), "octet build needs a MODEL (see --help)");
  const std::string plan_path = option_or_alias(vm, "save-engine", "saveEngine");
  OCTET_CHECK(!plan_path.empty(), "octet build needs --save-engine FILE.plan (see --help)");
  const std::string layer_info_path = option_or_alias(vm, "export-layer-info", "exportLayerInfo");
  OCTET_CHECK(plan_path != layer_info_path, "--save-engine and --export-layer-info name one file '", plan_path, "'");
  const bool int8 = vm["int8"].as<bool>();
  OCTET_CHECK(int8 || !vm.count("calib"), "--calib is only read with --int8");
  ExecutionChoice exec = read_execution_options(vm);
  ImportOptions import_options;
  import_options.batch = exec.batch;
  import_options.input_shapes = exec.shapes;
  const Graph imported = import_onnx_file(model_path, import_options);
  // An explicitly quantized model brings its scales in its QuantizeLinear/DequantizeLinear nodes.
  const bool explicit_qdq = has_qdq(imported);
  OCTET_CHECK(!explicit_qdq || !vm.count("calib"), "'", model_path, "' is explicitly quantized (QuantizeLinear / "
              "DequantizeLinear nodes): its scales come from those nodes; leave --calib out");
  OCTET_CHECK(!int8 || explicit_qdq || vm.count("calib"), "--int8 needs --calib CACHE (a TensorRT cache or JSON "
              "table from octet calibrate), or a model with QuantizeLinear/DequantizeLinear nodes");

  BuildConfig config;
  config.int8 = int8;
  config.explicit_quantization = explicit_qdq;
  config.layer_precisions = parse_layer_precisions(
      rules_argument("--layer-precisions", option_or_alias(vm, "layer-precisions", "layerPrecisions")));
  config.layer_output_types = parse_layer_output_types(
      rules_argument("--layer-output-types", option_or_alias(vm, "layer-output-types", "layerOutputTypes")));
  const std::string constraints = option_or_alias(vm, "precision-constraints", "precisionConstraints");
  config.constraints = parse_precision_constraints(constraints.empty() ? "none" : constraints);
  OCTET_CHECK(int8 || (config.layer_precisions.empty() && config.layer_output_types.empty()),
              "--layer-precisions and --layer-output-types need --int8 (without it every layer is FP32)");
  [[maybe_unused]] const std::vector<std::string> tactics = parse_tactics(vm["tactics"].as<std::string>());
  if (exec.backend == BackendKind::kCpu && !vm["tactics"].defaulted())
    std::fprintf(stderr, "octet build: note: --tactics applies to --backend cuda; the CPU has one INT8 kernel\n");

  Scales scales;
  Graph graph = imported;
  QdqFusionReport qdq;
  if (int8 && explicit_qdq) {
    scales.by_tensor = fuse_qdq(graph, &qdq);
    scales.format = "the model's QuantizeLinear/DequantizeLinear pairs";
  } else if (int8) {
    scales = read_scales(vm["calib"].as<std::string>(), model_path, imported);
  }
  optimize_fp32(graph);
  set_batch(graph, exec.batch);

  BuildReport report;
  if (int8) graph = build_int8_graph(graph, scales.by_tensor, config, &report);
  Plan plan;
  plan.backend = exec.backend;
  plan.build_settings = command_text(args);
#if OCTET_HAVE_CUDA
  std::vector<TacticTiming> timings;
  if (exec.backend == BackendKind::kCuda) {
    if (int8) timings = choose_int8_tactics(graph, exec.options, tactics);
    plan.gpu_arch = cuda_device_arch(exec.options.device);
    plan.gpu_name = cuda_describe_device(exec.options.device);
  }
#endif
  // The backend validates the graph as run/eval will, so a plan that cannot run is never written.
  create_context(graph, exec.backend, exec.options);
  plan.graph = std::move(graph);
  save_plan(plan_path, plan);
  if (!layer_info_path.empty())
    write_layer_info(layer_info_path, {&plan.graph, plan.backend, plan.gpu_arch, nullptr});

  std::printf("model        %s\n", model_path.c_str());
  if (int8 && explicit_qdq)
    std::printf("scales       %s: %zu pairs fused, %zu tensors (%zu across Relu/MaxPool/Reshape/Concat)\n",
                scales.format.c_str(), qdq.fused.size(), scales.by_tensor.size(), qdq.propagated.size());
  else if (int8)
    std::printf("scales       %s (%s, %zu tensors)\n", vm["calib"].as<std::string>().c_str(), scales.format.c_str(),
                scales.by_tensor.size());
  std::printf("backend      %s%s%s, batch %lld\n", to_string(plan.backend), plan.gpu_arch.empty() ? "" : " ",
              plan.gpu_arch.c_str(), static_cast<long long>(exec.batch));
  if (int8) {
    std::printf("constraints  %s\n", to_string(config.constraints));
    print_layers(report);
    print_missing_scales(report, explicit_qdq ? model_path : vm["calib"].as<std::string>());
    for (const std::string& w : report.warnings) std::printf("warning: %s\n", w.c_str());
#if OCTET_HAVE_CUDA
    print_tactics(timings);
#endif
  } else {
    std::printf("layers       %zu FP32 (no --int8)\n", plan.graph.nodes.size());
  }
  std::printf("plan         %s (%s bytes)\n", plan_path.c_str(),
              with_thousands(static_cast<int64_t>(std::filesystem::file_size(plan_path))).c_str());
  if (!layer_info_path.empty()) std::printf("layer info   %s\n", layer_info_path.c_str());
  return 0;
}

}  // namespace octet::cli
