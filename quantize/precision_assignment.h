// Passes 1 and 2 of the INT8 builder (quantize/int8_builder.h): which layers run INT8 and which
// type every activation has afterwards. Decides only; quantize/int8_builder.cpp applies the plan.
//
// Scales are resolved per value, in node order, from the table by the value's name, except:
//   an INT8 MaxPool's output takes its input's scale (max commutes with a positive scale);
//   a Reshape/Identity output takes its input's scale when the input has one, else its own table
//   entry (the calibrator taps no reshape outputs, and a reshape changes no value, so the input's
//   range is the output's range; an INT8 reshape must keep the scale anyway, its bytes are the same).
// An INT8 Reshape/Identity ("carrier") keeps precision fp32 and moves int8 bytes: only when it is a
// no-op on the CUDA NHWCp layout ([N, C, 1, 1] <-> [N, C], same N and C), its input is INT8, its
// output is no graph output and every reader of its output reads INT8.
// A Concat whose inputs' scales are more than 4x apart runs FP32, and so does every layer reading its
// output (directly or through a reshape or MaxPool): one shared int8 scale would leave the narrow
// input too few levels. Explicit quantization and --layer-precisions NAME:int8 override it.
// "Reads INT8": an INT8 layer's activation input (Conv/Gemm/pools input 0, every Concat input), a
// carrier. The residual of an INT8 Conv/Gemm takes either type, so it does not vote.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "quantize/int8_builder.h"

namespace octet {

struct PrecisionPlan {
  std::vector<LayerDecision> layers;         // per node of the graph, in node order
  std::vector<std::optional<float>> scales;  // per value id: the resolved scale (see above)
  std::vector<DataType> value_types;         // per value id: its type in the INT8 graph
  std::vector<std::string> tensors_without_scale;
  std::vector<std::string> warnings;
};

// Whether an INT8 layer of node's kind reads input `slot` as an int8 activation: Conv, Gemm and the
// pools input 0, Concat every input (weights, bias and a fused residual are not activations read
// as int8). False for kinds without an INT8 layer.
bool is_int8_activation_input(const Node& node, size_t slot);

// Errors (obey mode, a rule that matches no layer) name the layer or the rule.
PrecisionPlan assign_precisions(const Graph& graph, const std::map<std::string, float>& scales,
                                const BuildConfig& config);

}  // namespace octet
