// Graph passes that keep FP32 semantics (the INT8 builder adds its own later).
//
// fold_batchnorm: Conv -> a per-channel affine node becomes one Conv, when the Conv output feeds only
//   that node and is not a graph output:
//     BatchNormalization  w'[k] = w[k] * s[k],  b'[k] = (b[k] - mean[k]) * s[k] + beta[k],  s = g / sqrt(var + eps)
//     Mul by a constant m  w'[k] = w[k] * m[k],  b'[k] = b[k] * m[k]
//     Add of a constant a  w' = w,               b'[k] = b[k] + a[k]
//   where the constant is one value or one per output channel (for a 2-D Conv's [N, K, H, W]:
//   [K, 1, 1] or [1, K, 1, 1]; a [K] would broadcast along W), so the node's output has the Conv's
//   dims. (PaddlePaddle's exports write a convolution's bias as an
//   Add, and PP-LCNetV3's learnable affine blocks as a Mul and an Add of scalars.) The folded node
//   keeps the Conv's name and lists the absorbed nodes in fused_nodes.
// fold_input_affine: a Mul by or Add of such a constant (one value or one per channel) whose only
//   reader is a Conv with all pads 0 folds into that Conv. Without padding every tap reads an
//   element of x, so, with c the input channel (of its group) and a[c] the constant's value there:
//     Conv(x * m)  w'[k, c, r, s] = w[k, c, r, s] * m[c]
//     Conv(x + a)  b'[k] = b[k] + sum over (c, r, s) of w[k, c, r, s] * a[c]   (summed in that order)
//   With padding the border taps would read 0, not a: a padded Conv keeps the node. PP-LCNetV3's
//   affine block after each activation folds this way into the pointwise convolution after it.
// fuse_epilogues: Conv/Gemm followed by (Add of a same-shape tensor) and/or an activation
//   (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, and the registered operators with an
//   OpDef::activation: Silu, XHardSigmoid, Gelu) becomes one node with an Epilogue,
//   again only when the intermediate tensors have no other consumer and are not graph outputs.
// The passes only remove single-consumer intermediates, so graph outputs are unchanged; results
// differ from the unfused graph only by float rounding of the folded weights.
#pragma once

#include "engine/graph.h"

namespace octet {

void fold_batchnorm(Graph& graph);
void fold_input_affine(Graph& graph);
void fuse_epilogues(Graph& graph);
// Removes Identity nodes by rewiring their consumers (graph outputs keep their names).
void remove_identities(Graph& graph);

// All FP32 optimisation passes in their order, then shape inference.
void optimize_fp32(Graph& graph);

}  // namespace octet
