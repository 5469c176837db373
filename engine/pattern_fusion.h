// Pattern fusions: activations and normalizations that exporters write as several nodes, rewritten
// as one operator: the activations as registered operators (engine/ops/fused_activations.cpp) that
// Conv/Gemm epilogues can take over, so INT8 engines need no scale for the intermediate tensors;
// LayerNorm as one LayerNormalization (engine/ops/layer_norm.cpp). Each rewrite computes exactly what
// the nodes it replaces computed (kernels/activation.h, kernels/normalization.h: the same operations
// in the same order), except Gelu, whose erf(z) + 1 becomes erfc(-z).
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
//   LayerNormalization
//                 d = Sub(x, ReduceMean(x)); Add(Mul(Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))),
//                 scale), bias)                              (Paddle's layer_norm at opsets < 17,
//                                                             PP-OCR's SVTR recognisers; both means over
//                                                             the same trailing axes with keepdims;
//                                                             the Add of a constant bias optional; Pow
//                                                             by 2 is a * a, kernels/binary_math.h)
// A pattern is fused only when its intermediate tensors have no reader outside it and are not graph
// outputs; the fused node takes the name of the last node it replaces and lists the others in
// fused_nodes.
#pragma once

#include <vector>

#include "engine/graph.h"

namespace octet {

void fuse_patterns(Graph& graph);

// The tensors fuse_patterns would leave as fused nodes' outputs (each pattern's last node's output),
// found without changing the graph. The calibrator taps them in the graph as imported: they are the
// tensors a Conv with the fused activation (or the fused LayerNormalization) writes in an engine.
std::vector<ValueId> fused_pattern_outputs(const Graph& graph);

}  // namespace octet
