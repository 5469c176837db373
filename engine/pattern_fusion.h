// Pattern fusions: activations that exporters write as several nodes, rewritten as one registered
// operator (engine/ops/fused_activations.cpp) so that Conv/Gemm epilogues can take them over and
// INT8 engines need no scale for the intermediate tensors. Each rewrite computes exactly what the
// nodes it replaces computed (kernels/activation.h), except Gelu, whose erf(z) + 1 becomes erfc(-z).
//
//   Silu          Mul(x, Sigmoid(x))                         (either operand order; PyTorch SiLU,
//                                                             YOLOv5/v8, EfficientNet)
//   XHardSigmoid  Mul(x, HardSigmoid(x; alpha, beta))        (PaddlePaddle's hard_swish, PP-LCNet,
//                                                             PP-OCR; MobileNetV3 exports)
//   Gelu          Mul(Mul(x, Add(Erf(Div(x, c)), 1)), 0.5)   (PyTorch and Paddle exports of GELU; c is
//                                                             sqrt(2) as stored, kept as the divisor)
//   XClipDiv      Div(Mul(x, Clip(Add(x, s), 0, 6)), d)      (hard-swish written out: PyTorch's
//                                                             x * relu6(x + 3) / 6, Paddle's hard_swish
//                                                             at opset 11, PP-OCR's MobileNetV3; s and
//                                                             d scalar constants, 3 and 6 as written)
// A pattern is fused only when its intermediate tensors have no other reader and are not graph
// outputs; the fused node takes the name of the last node it replaces and lists the others in
// fused_nodes.
#pragma once

#include <vector>

#include "engine/graph.h"

namespace octet {

void fuse_activation_patterns(Graph& graph);

// The tensors fuse_activation_patterns would leave as fused activations' outputs (each pattern's
// last Mul or Div output), found without changing the graph. The calibrator taps them in the graph as
// imported: they are the tensors a Conv with the fused activation writes in an INT8 engine.
std::vector<ValueId> activation_pattern_outputs(const Graph& graph);

}  // namespace octet
