// The INT8 builder: from an optimised FP32 graph and a scale table, the graph an INT8 engine runs.
//
// Input: a Graph after optimize_fp32 (engine/passes.h: BatchNorm folded, Conv/Gemm + bias + activation
// + residual Add fused), shapes inferred; scales: tensor name -> scale (real = q * scale), as read from
// a TensorRT cache or a JSON table (calibration/calibration_io.h).
//
// Passes, in order (one file each: precision_assignment.cpp does 1 and 2, weight_quantization.cpp 3,
// reformat_insertion.cpp 4; layer_rules.cpp parses the configuration):
//   1. precision assignment. A layer runs INT8 when the config allows INT8, no --layer-precisions rule
//      asks for fp32, the layer kind has an INT8 implementation (Conv, Gemm with bias [N_out] and
//      alpha = beta = 1, MaxPool, AveragePool, GlobalAveragePool, Concat on channels) and every tensor it
//      reads as INT8 has a scale (its input; for Concat all inputs) and, for INT8 output, its output has
//      a scale (MaxPool always outputs with its input's scale). Otherwise it stays FP32 and the report
//      says why. A rule asking int8 for a layer that cannot be: prefer -> warning and FP32; obey ->
//      Error naming the layer; none -> FP32 silently (TensorRT's meaning of the three modes).
//      Decided here where the above leaves it open:
//        - Gemm: a Gemm without C is INT8 too (no bias; beta becomes 1, it meant nothing); C must be a
//          float32 constant [N_out] or [1, N_out]; A untransposed; B a float32 constant (either
//          transB). Conv: 2-D only (a 1-D, lifted Conv stays FP32), constant float32 weights and bias.
//          Pools: [N, C, H, W] only; a MaxPool that writes Indices stays FP32. Every INT8 layer:
//          its activation inputs are float32 non-constants, dot products shorter than 2^17 terms.
//        - scales: looked up by tensor name, except that an INT8 MaxPool's output takes its input's
//          scale and a Reshape/Identity output takes its input's scale when the input has one (the
//          calibrator taps no reshape; a reshape changes no value, so the ranges are equal).
//        - a rule pattern that matches no layer is an Error in every mode (a typo would otherwise
//          change nothing silently).
//   2. output types. An INT8 Conv/Gemm writes INT8 when its output has a scale and every consumer
//      reads INT8 (an INT8 layer, or a graph output never: graph outputs are FP32), else FP32 from the
//      same kernel (INT8-in/FP32-out, no separate dequantize; explicit quantization: an output with
//      a scale is written INT8 even for float readers and graph outputs, which get a DequantizeLinear,
//      since the model rounds it). --layer-output-types overrides per layer
//      (fp32 always possible for Conv/Gemm; int8 needs a scale: prefer warns, obey fails).
//      Pools and Concat write INT8 only; an FP32 consumer gets a DequantizeLinear. Decided here: a
//      pool or Concat asked fp32 output runs FP32; so does one that no layer reads as INT8 (only
//      float readers, a residual or a graph output: INT8 would only round its output; a detector
//      head's Concat of box and class logits loses its scores that way), unless a
//      --layer-precisions rule asks int8 for it or the model is explicitly quantized; an int8 output
//      asked of any other layer is satisfied when its output ends int8 (a reshape between INT8
//      layers), else it is a failed request as above; a fused residual reader takes either type and
//      does not vote.
//      Explicit quantization: each INT8 Conv/Gemm's epilogue rounds at the scales of its fused tensors.
//   3. weights. Conv weights KCRS and Gemm weights (made [N_out, K_in], transB = 1) quantized per output
//      channel (quantize/qscheme.h); Node::weight_scales holds the scales; the FP32 weights are dropped
//      (constants no node reads any more are removed). A weight read by one layer keeps its name;
//      one shared with another reader becomes a new constant "<weight>:int8".
//   4. reformats. A QuantizeLinear where an FP32 tensor feeds an INT8 reader, a DequantizeLinear where
//      an INT8 tensor feeds an FP32 reader, each inserted once per tensor and shared by its readers
//      (explicit quantization: both, where an FP32 tensor with a scale feeds an FP32 reader);
//      a Reshape/Identity between INT8 layers stays INT8 when it only drops unit dims (a flatten of
//      [N, C, 1, 1]), otherwise it is a boundary. Such a reshape keeps precision fp32 (it computes
//      nothing) and its output value becomes int8 with its input's scale. Reformats are placed right
//      after the tensor's producer (first for graph inputs), so the node order stays topological;
//      nodes are named "<tensor>:quantize" / "<tensor>:dequantize".
//   The residual of a fused Add is read as INT8 when its tensor is INT8 anyway, else as FP32.
// Value names are kept (a reformat's output is "<tensor>:int8" / "<tensor>:fp32"), so layer info and
// errors speak the model's names. Graph inputs and outputs keep their names and float32: an INT8 pool
// or Concat writing a graph output (asked int8 by a rule, or explicit quantization) writes
// "<tensor>:int8" and a DequantizeLinear writes "<tensor>".
// Shapes are re-inferred at the end (engine/shape_inference.h); every node of the result passes
// engine/node_validation.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet {

enum class PrecisionConstraints : uint8_t { kNone, kPrefer, kObey };
PrecisionConstraints parse_precision_constraints(const std::string& text);  // none|prefer|obey
const char* to_string(PrecisionConstraints constraints);

// `pattern` matches layer (node) names with * (any run) and ? (one character).
struct LayerPrecisionRule {
  std::string pattern;
  Precision precision = Precision::kFloat32;
};
struct LayerOutputTypeRule {
  std::string pattern;
  DataType type = DataType::kFloat32;  // kFloat32 | kInt8
};

// "NAME:fp32,NAME2:int8" (names may hold ':' — the last one splits); Error on a bad entry.
std::vector<LayerPrecisionRule> parse_layer_precisions(const std::string& text);
std::vector<LayerOutputTypeRule> parse_layer_output_types(const std::string& text);
bool wildcard_match(const std::string& pattern, const std::string& name);

struct BuildConfig {
  bool int8 = false;  // FP32 is always allowed
  // The scales come from the model's QuantizeLinear/DequantizeLinear pairs (quantize/qdq_fusion.h), so
  // every pair is a rounding the engine must do: an INT8 Conv/Gemm rounds the tensors its epilogue
  // fused (Epilogue::fused_output, fused_sum) at their scales where they have one
  // (quant::EpilogueRounding), and one writing a graph output that has a scale writes INT8, which a
  // DequantizeLinear turns into the float32 output (the model's last pair). With a calibration cache
  // (false) neither happens: a cache's scales say where values may be rounded, not where they must be.
  bool explicit_quantization = false;
  std::vector<LayerPrecisionRule> layer_precisions;    // the first rule that matches a layer applies
  std::vector<LayerOutputTypeRule> layer_output_types;  // likewise
  PrecisionConstraints constraints = PrecisionConstraints::kNone;
};

struct LayerDecision {
  std::string layer;  // node name
  OpKind op = OpKind::Identity;
  Precision precision = Precision::kFloat32;
  DataType output_type = DataType::kFloat32;
  std::string reason;  // why FP32, or why FP32 output ("" for plain INT8)
};

struct BuildReport {
  // Every node of the input graph, in order (reshapes too: precision fp32, output_type int8 when
  // they move int8).
  std::vector<LayerDecision> layers;
  // Tensors whose missing scale kept a layer (or an asked int8 output) from INT8, in graph order.
  std::vector<std::string> tensors_without_scale;
  std::vector<std::string> warnings;              // prefer-mode fallbacks and the like
  int quantize_nodes = 0, dequantize_nodes = 0;   // reformats inserted
};

// Error (naming the layer or rule) for: a rule whose pattern matches no layer (the nearest layer names
// suggested), obey with an impossible request. `scales` may hold names the graph lacks (ignored here;
// callers check the cache against the model first).
Graph build_int8_graph(const Graph& fp32_graph, const std::map<std::string, float>& scales, const BuildConfig& config,
                       BuildReport* report);

}  // namespace octet
