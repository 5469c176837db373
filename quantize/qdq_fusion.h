// Explicit quantization in, implicit out: a model whose activations pass through QuantizeLinear ->
// DequantizeLinear pairs (imported as reformat nodes by engine/onnx_import.cpp, the weights already
// folded to floats that remember their integers, engine/graph.h Value::quantized) becomes what the
// INT8 builder takes (quantize/int8_builder.h): an FP32 graph and one scale per tensor.
//
//   x -> QuantizeLinear(s) -> q -> DequantizeLinear(s) -> y -> readers   becomes   x -> readers, scale[x] = s
//
// The pair is replaced by an Identity x -> y and engine/passes.h remove_identities rewires the readers
// (a graph output y keeps its name); the readers list the Q and DQ in Node::fused_nodes, so the layer
// info shows which pairs went into which layer. The builder then makes INT8 layers wherever the
// scales allow, exactly as with a calibration cache, and takes the weights' integers and scales from
// the model (quantize/weight_quantization.h).
//
// Then scales cross the ops that commute with quantization, so that a tensor between a pair and an
// INT8 layer has one when the model placed the pair on the other side:
//   forward, input -> output (when the output has none): Relu, MaxPool and the Reshape family
//     (for a positive scale quantize(relu(x)) = relu(quantize(x)), max likewise; a reshape moves values);
//   backward, output -> input (when the input has none and no other reader): MaxPool, and each input
//     of a Concat (a concat of tensors with one scale is the concat of their quantized values). Not
//     across Relu: its input is usually a convolution's output that the builder fuses with it.
// Decided here: a pair whose readers all stay FP32 is dropped like the others (those readers get the
// unrounded tensor, as without the pair); a tensor quantized by two pairs with different scales is an
// Error naming both (octet keeps one scale per tensor).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet {

struct QdqFusionReport {
  std::vector<std::string> fused;       // "tensor 't': QuantizeLinear 'a' + DequantizeLinear 'b' (scale s)"
  std::vector<std::string> propagated;  // "tensor 'u': scale of 't' across Relu 'r'"
};

// Whether the graph holds QuantizeLinear / DequantizeLinear nodes or constants folded from them.
bool has_qdq(const Graph& graph);

// Removes every Q -> DQ pair of `graph` (before optimize_fp32: Q/DQ would keep the epilogues apart) and
// returns the scales by tensor name. Error when a QuantizeLinear output is a graph output or read by
// anything but DequantizeLinear nodes (the importer already refuses a DequantizeLinear without its Q).
std::map<std::string, float> fuse_qdq(Graph& graph, QdqFusionReport* report);

}  // namespace octet
