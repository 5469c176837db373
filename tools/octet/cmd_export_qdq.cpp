// octet export-qdq MODEL --calib CACHE --out FILE.onnx — the model with explicit QuantizeLinear /
// DequantizeLinear pairs where octet's INT8 engine quantizes (quantize/qdq_export.h), for TensorRT 10+/11
// (which no longer calibrates) and ONNX Runtime. The summary says how many activations and weights got
// Q/DQ, which tensors had no scale (they and their layers stay FP32) and where the file went.
#include <cstdio>
#include <filesystem>

#include "engine/file_util.h"
#include "engine/onnx_import.h"
#include "octet/build_config.h"
#include "quantize/qdq_export.h"
#include "tools/octet/cli.h"

namespace octet::cli {

int command_export_qdq(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>(), "FP32 ONNX model file (default-domain opset >= 13; >= 10 with "
                                        "--per-tensor-weights)")
    ("calib", po::value<std::string>(), "activation scales: a TensorRT calibration cache or an octet JSON table "
                                        "(octet calibrate --cache / --table) made for this model (required)")
    ("out", po::value<std::string>(), "write the Q/DQ model here (required; written to a temporary file in the "
                                      "same folder, then renamed)")
    ("per-channel", po::bool_switch(), "weights: one scale per output channel (DequantizeLinear axis 0 for Conv and "
                                       "Gemm transB=1, axis 1 for Gemm transB=0), the engine's own int8 weights; the "
                                       "default, as in octet's engines and TensorRT's recommendation")
    ("per-tensor-weights", po::bool_switch(), "weights: one scale per weight tensor, max|w| / 127 (the exported "
                                              "model then differs from octet's INT8 engine, which is per channel)");
  options.add(shape_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args,
          "usage: octet export-qdq MODEL --calib CACHE --out FILE.onnx [--per-channel | --per-tensor-weights]\n"
          "                         [--shapes name:1x3x640x640]\n\n"
          "Writes the model explicitly quantized, for TensorRT 10+/11 (which no longer calibrates) and ONNX "
          "Runtime: octet builds its INT8 engine from the model and the scales, and every activation that engine "
          "keeps in INT8 gets QuantizeLinear -> DequantizeLinear (scale from CACHE, zero point 0) right after its "
          "producer; every INT8 Conv/Gemm reads its weight through DequantizeLinear from an int8 initializer "
          "(biases stay float). Layers octet keeps FP32 (tensors without a scale, operators without an INT8 "
          "kernel) stay FP32 in the file. Everything else of the model is kept; metadata_props gets "
          "octet_export_qdq (the source of the scales). The result passes the ONNX checker before it is written.",
          options, positional, vm))
    return 0;

  OCTET_CHECK(vm.count("model"), "octet export-qdq needs a MODEL (see --help)");
  OCTET_CHECK(vm.count("calib"), "octet export-qdq needs --calib CACHE (a TensorRT cache or JSON table from octet "
                                 "calibrate)");
  OCTET_CHECK(vm.count("out"), "octet export-qdq needs --out FILE.onnx (see --help)");
  OCTET_CHECK(!(vm["per-channel"].as<bool>() && vm["per-tensor-weights"].as<bool>()),
              "give --per-channel or --per-tensor-weights, not both");
  const std::string model_path = vm["model"].as<std::string>();
  const std::string calib_path = vm["calib"].as<std::string>();
  const std::string out_path = vm["out"].as<std::string>();
  check_output_path("--out", out_path);

  const std::string model_bytes = read_file(model_path);
  // --shapes fixes dynamic dims for octet's own import only (where Q/DQ goes); the file written keeps
  // the model's declared dims.
  ImportOptions import_options;
  import_options.input_shapes = read_shape_options(vm);
  const Graph imported = import_onnx_bytes(model_bytes, model_path, import_options);
  const Scales scales = read_scales(calib_path, model_path, imported);
  QdqExportOptions export_options;
  export_options.per_channel_weights = !vm["per-tensor-weights"].as<bool>();
  const char* weights_kind = export_options.per_channel_weights ? "per-channel" : "per-tensor";
  export_options.provenance = "octet " OCTET_VERSION_STRING " export-qdq: activation scales from '" +
                              std::filesystem::path(calib_path).filename().string() + "' (" + scales.format + ", " +
                              std::to_string(scales.by_tensor.size()) + " tensors), " + weights_kind +
                              " int8 weights, zero points 0";
  const QdqExport exported = export_qdq(model_bytes, model_path, imported, scales.by_tensor, export_options);
  for (const std::string& note : exported.report.notes) std::fprintf(stderr, "octet export-qdq: note: %s\n", note.c_str());
  write_file_atomic(out_path, exported.model_bytes);

  const QdqExportReport& report = exported.report;
  std::printf("model        %s (opset %lld)\n", model_path.c_str(), static_cast<long long>(report.opset));
  std::printf("scales       %s (%s, %zu tensors)\n", calib_path.c_str(), scales.format.c_str(), scales.by_tensor.size());
  std::printf("activations  %d tensors with QuantizeLinear/DequantizeLinear\n", report.activations);
  std::printf("weights      %d %s", report.weights, weights_kind);
  if (report.weights_requantized > 0)
    std::printf(" (%d quantized from the model's float weights, see the notes)", report.weights_requantized);
  std::printf("\n");
  if (!report.build.tensors_without_scale.empty()) {
    std::printf("no scale     %zu tensor(s) have no scale in '%s'; they and the layers that read or write them stay "
                "FP32:\n", report.build.tensors_without_scale.size(), calib_path.c_str());
    for (const std::string& name : report.build.tensors_without_scale) std::printf("  %s\n", name.c_str());
  }
  for (const LayerDecision& d : report.build.layers)
    if (d.precision != Precision::kInt8 && !d.reason.empty())
      std::printf("fp32         %s (%s): %s\n", d.layer.c_str(), to_string(d.op), d.reason.c_str());
  std::printf("written      %s (%s bytes)\n", out_path.c_str(),
              with_thousands(static_cast<int64_t>(std::filesystem::file_size(out_path))).c_str());
  return 0;
}

}  // namespace octet::cli
