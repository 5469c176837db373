// Graph passes that keep FP32 semantics (the INT8 builder adds its own later).
//
// fold_batchnorm: Conv -> BatchNormalization becomes one Conv with
//     w'[k] = w[k] * g[k] / sqrt(var[k] + eps),  b'[k] = (b[k] - mean[k]) * g[k] / sqrt(var[k] + eps) + beta[k]
//   when the Conv output feeds only the BatchNormalization and is not a graph output. The folded
//   node keeps the Conv's name and lists the BatchNormalization in fused_nodes.
// fuse_epilogues: Conv/Gemm followed by (Add of a same-shape tensor) and/or an activation
//   (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, and the registered operators with an
//   OpDef::activation: Silu, XHardSigmoid, Gelu) becomes one node with an Epilogue,
//   again only when the intermediate tensors have no other consumer and are not graph outputs.
// Both passes only remove single-consumer intermediates, so graph outputs are unchanged; results
// differ from the unfused graph only by float rounding of the folded weights.
#pragma once

#include "engine/graph.h"

namespace octet {

void fold_batchnorm(Graph& graph);
void fuse_epilogues(Graph& graph);
// Removes Identity nodes by rewiring their consumers (graph outputs keep their names).
void remove_identities(Graph& graph);

// All FP32 optimisation passes in their order, then shape inference.
void optimize_fp32(Graph& graph);

}  // namespace octet
