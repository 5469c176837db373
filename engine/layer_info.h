// Layer info: what each layer of a built graph is, as JSON, in the spirit of trtexec
// --exportLayerInfo (and, with timings, --exportProfile), so a TREx-style analysis can read it.
//
// Document:
//   { "octet_version": "0.1.0", "backend": "cpu" | "cuda", "gpu_arch": "sm_90" | "", "batch": N,
//     "bindings": [{"name", "dims", "type", "role": "input" | "output"}],
//     "layers": [ {
//        "name":       node name (the model's, or "<OpType>_<index>"),
//        "type":       the op ("Conv", "QuantizeLinear", ...),
//        "fused_ops":  names of the nodes a builder pass folded into this one,
//        "precision":  "fp32" | "int8" (the arithmetic the layer runs in),
//        "inputs" / "outputs": activation tensors only (constants are the layer's weights):
//             [{"name", "dims" (NCHW order, at the plan's batch), "type": "float32" | "int8",
//               "layout", "scale" (only when the value has one: real = q * scale)}],
//        "tactic":     the CUDA kernel family chosen ("dp4a", "tensorcore", "wgmma", "cublaslt"), "" when the
//                      backend picks at run time,
//        "mixed_output": true only for an INT8 layer that writes float32 (INT8-in/FP32-out),
//        "epilogue_rounding": only for a layer of an explicitly quantized model that rounds inside its
//                      fused epilogue: {"after_bias", "after_residual"}, the scales (0: no rounding there),
//        "time_ms", "time_share" (fraction of the sum over layers): only when timings are given
//     } ] }
// Layout: "NCHW" (row major, whatever the rank) for every float32 value and for int8 values on the
// CPU; "NHWC4" for int8 values on CUDA, channels padded to a multiple of 4 (kernels/int8_layout.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/graph.h"

namespace octet {

struct LayerInfoSource {
  const Graph* graph = nullptr;
  BackendKind backend = BackendKind::kCpu;
  std::string gpu_arch;                   // "" for the CPU
  const std::vector<double>* node_ms = nullptr;  // per graph node (graph.nodes order), or null
};

// The layout name of a value on a backend ("NCHW" or "NHWC4"), as described above.
std::string value_layout(const Value& value, BackendKind backend);
// True for an INT8 layer whose (first) output is float32.
bool is_mixed_output(const Graph& graph, const Node& node);

nlohmann::ordered_json layer_info_json(const LayerInfoSource& source);
// Writes layer_info_json atomically (engine/file_util.h), pretty-printed.
void write_layer_info(const std::string& path, const LayerInfoSource& source);

}  // namespace octet
