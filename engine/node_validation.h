// Graph validation shared by the backends: what a graph must satisfy before any kernel runs on it.
//
// Every backend validates its Graph once, when a context is created, with these two functions, and
// then plans each node from the validated node without checking again; run() checks only the
// caller's tensors. Errors (engine/error.h) start with node_label() and name the tensor at fault:
//   Error             the graph contradicts itself or the operator (wrong input count, dims that
//                     do not follow the operator's rule, an attribute kind of another operator);
//   UnsupportedError  valid ONNX that the backend does not implement (a non-float32 tensor where a
//                     kernel computes, an INT8 layer of a kind without INT8 kernels, an output listed
//                     in BackendCapabilities).
//
// What validate_node() guarantees, for planners to rely on (inputs numbered as in engine/graph.h):
//   every op       the input count of the operator, every required input present;
//                  output 0 present and no other output, except MaxPool's optional output 1
//                  (Indices); the NodeAttributes alternative of the operator; output 0's dims are
//                  exactly what the operator computes from its inputs.
//   compute ops    every input and output a kernel reads or writes is float32 (all but Reshape,
//                  Identity, Transpose and Concat, which move any type: Y's type is X's).
//   Conv           X [N, C, H, W] or [N, C, L]; W rank 4 (rank 3 only for a 1-D X) with
//                  W[0] = K, W[1] = C / group, kernel dims = kernel_shape; group divides C and K;
//                  kernel, strides, dilations, group >= 1, pads >= 0; Y [N, K, OH, OW] or [N, K, OW]
//                  with OH, OW >= 1 (1-D: OH = 1); bias [K]; a residual exactly when
//                  epilogue.has_residual, with Y's dims.
//   Gemm           A and B matrices, inner dims equal, Y [M, N]; C (rank <= 2) broadcasts to [M, N];
//                  residual as Conv.
//   MatMul         attrs monostate or GemmAttrs with no transposes and alpha 1; no input 2; Y by
//                  numpy matmul rules; residual as Conv.
//   Add/Sub/Mul/Div  Y = the numpy broadcast of the two inputs.
//   activations    Y has X's dims; Clip may still list its (folded) bounds as inputs 1 and 2.
//   BatchNorm      X rank >= 2, scale/B/mean/var [C], Y = X's dims.
//   Max/AveragePool  X [N, C, H, W] or [N, C, L], window, strides, dilations >= 1, pads >= 0, Y by
//                  kernels/cpu/window.h (OH, OW >= 1; 1-D: OH = 1); pads smaller than the window
//                  unless BackendCapabilities::pool_pads_past_window; MaxPool's Indices, when
//                  written, int64 with Y's dims.
//   Global*Pool    X rank >= 3, Y [N, C, 1, ...].
//   Reshape        Y holds X's element count; a listed shape input (folded at import) is ignored.
//   Identity       Y = X's dims.
//   Transpose      Y's dims by the perm (empty = reversal).
//   Concat         at least one input, all of Y's type; Y's dims by the axis.
//   Softmax        0 <= axis < rank(X); Y = X's dims.
//   Pad            Y's dims by the pads; listed pads/value/axes inputs (folded at import) ignored.
//   Quantize/DequantizeLinear  float32 -> int8 (or back), same dims, the int8 side with a positive
//                  finite Value::scale.
//   INT8 layers    (precision kInt8; quantize/qscheme.h) the operator's structural checks above, then:
//                  Conv/Gemm: X int8 with a scale, W an int8 constant with one positive finite weight
//                  scale per output channel and fewer than 2^17 terms per dot product, bias float32
//                  [K], residual int8 with a scale or float32, Y int8 with a scale or float32 (the
//                  INT8-in/FP32-out layer); Gemm untransposed A, B as [N_out, K_in], alpha = beta = 1.
//                  MaxPool: int8 in and out with the same scale, no Indices. AveragePool and
//                  GlobalAveragePool: int8 [N, C, H, W] in and out with scales. Concat: axis 1, all int8
//                  with scales. Other operators have no INT8 layer (UnsupportedError).
#pragma once

#include <string>

#include "engine/graph.h"

namespace octet {

// The operators with INT8 layers (check_int8_layer below accepts precision kInt8 for these only):
// Conv, Gemm, MaxPool, AveragePool, GlobalAveragePool, Concat.
bool has_int8_layer(OpKind op);

// "node 'name' (Op)": how every error names a node.
std::string node_label(const Node& node);

// Where backends differ on purpose. Everything not listed here is validated the same way for all.
struct BackendCapabilities {
  const char* name = "";  // "CPU", "CUDA": named in UnsupportedError messages

  // MaxPool's optional output 1, Indices (int64, Y's dims: the flat index of each maximum). Without
  // it, a MaxPool that writes Indices is UnsupportedError (the CPU reference has no Indices).
  // Omitting it (no output 1, or kNoValue) is valid either way.
  bool maxpool_indices = false;

  // Pooling pads as large as a window's span, so that a window may hold no input cell. ONNX
  // requires pads smaller than the window; the CPU reference still defines the result (max -inf,
  // average NaN: kernels/cpu/pool_ref.h), the CUDA kernels assume every window holds a cell.
  // Without it, such a pool is Error "pads must be smaller than the window".
  bool pool_pads_past_window = false;
};

// What validate_node() resolves that a backend needs for planning or running the node.
struct ValidatedNode {
  // The activation the node applies: an activation op's own parameters (ONNX's defaults when the
  // node carries no attributes: Clip unbounded, LeakyRelu alpha 0.01, HardSigmoid 0.2 / 0.5), the
  // fused epilogue's for Conv, Gemm and MatMul, Activation::kNone otherwise.
  ActivationParams activation;
};

// The wiring of the whole graph; Error naming the value or node otherwise: every dim >= 0; each
// constant's initializer matches its declared type and dims; every id in range; graph inputs are
// not constants; nodes come in topological order (a value is read only after a constant, a graph
// input or an earlier node provides it) and each value is written once; every graph output is
// written. An omitted optional input or output is kNoValue and is not a value.
void validate_wiring(const Graph& graph);

// One node of a graph that passed validate_wiring(), against its operator (the guarantees above).
ValidatedNode validate_node(const Graph& graph, const Node& node, const BackendCapabilities& capabilities);

}  // namespace octet
