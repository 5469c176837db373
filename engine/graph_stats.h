// Counting what a graph does: parameters and multiply-accumulates, for `octet info` and the
// "count the ideal first" step of every benchmark.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/graph.h"

namespace octet {

// MACs of one node at the graph's current batch size: Conv N*K*OH*OW*(C/group)*R*S; Gemm and
// MatMul M*N*K (times the batch of a batched MatMul); 0 for every other op (their cost is memory).
int64_t node_macs(const Graph& graph, const Node& node);

struct GraphStats {
  int64_t parameters = 0;       // elements of float constants used by nodes
  int64_t parameter_bytes = 0;  // bytes of all constants used by nodes
  int64_t macs = 0;             // for the graph's current batch
  std::map<std::string, int64_t> op_counts;  // ONNX op type -> nodes
};

GraphStats graph_stats(const Graph& graph);

}  // namespace octet
