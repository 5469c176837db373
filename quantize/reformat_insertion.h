// Pass 4 of the INT8 builder (quantize/int8_builder.h): QuantizeLinear / DequantizeLinear nodes
// where a tensor's type differs from what a reader takes.
//
// Input: a graph whose nodes carry their precision and whose values carry their final types
// (kInt8 values with their scale). Readers take:
//   an INT8 layer's activation inputs (Conv/Gemm/pool input 0, every Concat input): int8;
//   the residual of an INT8 Conv/Gemm: either type, as the tensor is;
//   a Reshape/Identity whose output is int8 (a carrier): int8, as its input is;
//   every other reader: float32 in place of int8 (other types, e.g. int64, pass untouched).
// Each tensor gets at most one QuantizeLinear ("<tensor>:int8", scale from `scales`) and one
// DequantizeLinear ("<tensor>:fp32"), right after its producer (at the start for graph inputs),
// shared by all its readers, so the node order stays topological.
// Graph outputs stay float32 under their names: an int8 graph output (an INT8 pool or Concat
// writing it) is renamed "<tensor>:int8" and a DequantizeLinear writes the original name.
// Explicit quantization (BuildConfig::explicit_quantization): a float32 tensor with a scale is one the
// model rounds (a Q/DQ pair), so its float readers read "<tensor>:int8:fp32", the DequantizeLinear of
// its int8 copy, and an INT8 Conv/Gemm reads it as an INT8 residual.
#pragma once

#include <optional>
#include <vector>

#include "engine/graph.h"

namespace octet {

struct ReformatCounts {
  int quantize = 0;
  int dequantize = 0;
};

// `scales`: per value id of `graph`, the scale a QuantizeLinear of that tensor uses.
ReformatCounts insert_reformats(Graph& graph, const std::vector<std::optional<float>>& scales,
                               bool explicit_quantization);

}  // namespace octet
