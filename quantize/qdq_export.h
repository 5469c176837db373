// Q/DQ export: an FP32 ONNX model rewritten with QuantizeLinear/DequantizeLinear pairs ("explicit
// quantization", what TensorRT 10+/11 and ONNX Runtime take) where octet's own INT8 engine quantizes.
//
// Placement. The Q/DQ positions are read from the graph octet's INT8 builder makes
// (quantize/int8_builder.h) for the model and the scales, so the exported model computes what the INT8
// engine computes (up to the float rounding of a float convolution of dequantized values):
//   - activations: every non-constant value of the built graph that is int8 with a scale. Its model
//     tensor T (a reformat output "<T>:int8" maps back to T) gets
//       T -> QuantizeLinear(scale, zero point int8 0) -> DequantizeLinear -> T_dq
//     right after T's producer (first for graph inputs). Which readers take T_dq: all of them when the
//     engine writes T as int8 (its FP32 readers see the dequantized value there too); when the engine
//     writes T as float and quantizes a copy for its INT8 readers, only those readers. Graph outputs keep
//     reading T.
//   - weights: every INT8 Conv/Gemm reads DequantizeLinear(int8 initializer, scales, zero points int8 0)
//     in place of its float weight. Per output channel (the default; axis 0 for Conv KCRS and Gemm with
//     transB = 1, axis 1 for Gemm with transB = 0, whose [K_in, N_out] layout is kept): the engine's own
//     int8 weights and Node::weight_scales. When the engine's weights are not the model's (a
//     BatchNormalization folded into the Conv: it stays a float node in the model) or the weight is
//     shared with another node, the model's float weights are quantized per output channel with the
//     engine's function (quantize/weight_quantization.h) instead, and the report says so. Per tensor
//     (per_channel_weights = false): one scale, max|w| / 127 (quantize/qscheme.h). Biases stay float.
//     A float weight initializer nothing reads any more is removed.
// Names: "<T>_quantized", "<T>_dequantized", "<T>_scale", "<T>_zero_point", nodes "<T>_QuantizeLinear" /
// "<T>_DequantizeLinear", each made unique against the model's names ("_1", "_2", ... appended).
// Everything else of the model is kept (nodes, value_info, opset, metadata_props); metadata_props gets
// "octet_export_qdq" = options.provenance.
// Requirements: default-domain opset >= 13 for per-channel weights (per-axis DequantizeLinear), >= 10
// per tensor; the opset is never raised silently. The result passes libonnx's checker
// (onnx::checker::check_model); a model newer than that libonnx knows (IR version or opset) is not
// checked and the report says so.
// Errors (octet::Error, naming the model): not ONNX, opset too low, already explicitly quantized (it has
// QuantizeLinear/DequantizeLinear nodes), no INT8 layer under these scales, a result the checker refuses.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "quantize/int8_builder.h"

namespace octet {

struct QdqExportOptions {
  bool per_channel_weights = true;
  std::string provenance;  // metadata_props["octet_export_qdq"]: where the scales came from
};

struct QdqExportReport {
  int64_t opset = 0;                     // the model's default-domain opset
  int activations = 0;                   // tensors given a QuantizeLinear/DequantizeLinear pair
  int weights = 0;                       // weights given a DequantizeLinear
  int weights_requantized = 0;           // of them quantized from the model's floats (see notes)
  std::vector<std::string> notes;        // why weights were re-quantized; a model the checker cannot judge
  BuildReport build;                     // the INT8 builder's report (layers, tensors without a scale)
};

struct QdqExport {
  std::string model_bytes;  // the serialized Q/DQ model, checked
  QdqExportReport report;
};

// `model_bytes`: the FP32 ONNX file as read from `model_path` (named in errors); `imported`: it imported
// (engine/onnx_import.h, before the FP32 passes); `scales`: tensor name -> scale (a TensorRT cache or a
// JSON table, already checked against the model).
QdqExport export_qdq(const std::string& model_bytes, const std::string& model_path, const Graph& imported,
                     const std::map<std::string, float>& scales, const QdqExportOptions& options);

}  // namespace octet
