// The graph IR.
//
// A Graph is a list of Values (tensors: activations and constants) and a list of Nodes in
// topological order. Attributes are normalised at import so backends never re-derive them:
// auto_pad is resolved into explicit pads, 1-D convolution/pooling is lifted to 2-D (H = 1),
// Clip bounds given as inputs become attributes, negative axes are made positive.
//
// Batch: graph inputs whose first dimension is symbolic (or declared -1) are "batched"; the graph's
// shapes are always concrete, for the batch size last set with set_batch() (engine/shape_inference.h).
//
// Designed for the INT8 path from the start: every Node carries a precision and the output type it
// writes, Conv/Gemm carry a fused epilogue (bias, activation, residual add), and a Value can carry
// a quantization scale. Builder passes (BN folding, fusion, precision assignment) rewrite this IR.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/op_attributes.h"
#include "engine/tensor.h"
#include "kernels/activation.h"
#include "quantize/qscheme.h"

namespace octet {

enum class OpKind : uint8_t {
#define OCTET_OP(kind, onnx_name) kind,
#define OCTET_REGISTERED_OP(kind, name) kind,
#include "engine/ops.def"
};

const char* to_string(OpKind op);

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;  // an omitted optional input

// Epilogue fused into a Conv/Gemm/MatMul, applied in this order (DESIGN.md, quantization spec):
//   y = acc (+ bias[c]) (+ residual), then activation.
// The bias is input 2 of the node; the residual, when present, is input 3.
struct Epilogue {
  ActivationParams activation;
  bool has_residual = false;
  // The tensors the fusion made internal (engine/passes.h fuse_epilogues), by name, "" where none:
  // the Conv/Gemm's own output when anything was fused after it, and the residual Add's output when
  // an activation follows the Add. Build time only (plans do not keep them).
  std::string fused_output, fused_sum;
  // INT8 layers of explicitly quantized models: the scales of the Q/DQ pairs the model put on those two
  // tensors (quantize/qscheme.h, round_to_step); zeros otherwise. Set by the INT8 builder.
  quant::EpilogueRounding rounding;
};

// Conv: inputs X [N,C,H,W], W [K,C/group,R,S], optional B [K], optional residual [N,K,OH,OW].
// 1-D convolutions are imported with H = 1, R = 1 (spatial_rank records the original rank).
struct ConvAttrs {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t group = 1;
  int spatial_rank = 2;
  Epilogue epilogue;
};

// Gemm: Y = alpha * op(A) * op(B) + beta * C, op = transpose when trans_*. C broadcasts to [M,N].
// MatMul nodes use the same struct with trans = false, alpha = 1, beta = 0 (numpy matmul, batched).
struct GemmAttrs {
  bool trans_a = false;
  bool trans_b = false;
  float alpha = 1.0f;
  float beta = 1.0f;
  Epilogue epilogue;
};

// MaxPool / AveragePool (2-D; 1-D lifted). Output size uses floor, or ceil when ceil_mode, with
// ONNX's rule that the last window must start inside the input or left padding.
struct PoolAttrs {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
  int spatial_rank = 2;
};

struct BatchNormAttrs {
  float epsilon = 1e-5f;  // inputs: X, scale, B, mean, var
};

// Flatten, Reshape, Squeeze and Unsqueeze all import as OpKind::Reshape: same bytes, new shape.
// The rule is kept (not the resolved shape) so the graph can be re-shaped for another batch size.
struct ReshapeAttrs {
  enum class Rule : uint8_t { kShape, kFlatten, kSqueeze, kUnsqueeze };
  Rule rule = Rule::kShape;
  Dims shape;            // kShape: ONNX target (0 copies the input dim unless allowzero, -1 inferred)
  bool allowzero = false;
  int64_t axis = 1;      // kFlatten
  Dims axes;             // kSqueeze (empty = all ones) / kUnsqueeze, sorted, non-negative
};

struct TransposeAttrs {
  Dims perm;
};

struct ConcatAttrs {
  int64_t axis = 1;  // non-negative
};

// Softmax before opset 13 flattens the input to 2-D at `axis` and normalises each row
// (coerce_2d = true); from opset 13 it normalises along `axis` alone.
struct SoftmaxAttrs {
  int64_t axis = 1;  // non-negative
  bool coerce_2d = false;
};

// Pad, constant mode only: pads = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}], may be negative.
struct PadAttrs {
  Dims pads;
  float value = 0.0f;
};

// Add/Sub/Mul/Div (numpy broadcasting), Identity, GlobalAveragePool, GlobalMaxPool: no attributes.
// Relu/Clip/LeakyRelu/Sigmoid/HardSigmoid/HardSwish: ActivationParams.
// Every registered operator (engine/op_registry.h): OpAttributes, which its op file defines.
using NodeAttributes = std::variant<std::monostate, ConvAttrs, GemmAttrs, PoolAttrs, BatchNormAttrs,
                                    ReshapeAttrs, TransposeAttrs, ConcatAttrs, SoftmaxAttrs, PadAttrs,
                                    ActivationParams, OpAttributes>;

// Arithmetic a layer runs in. Set by the builder (issue: INT8 build path); import leaves kFloat32.
enum class Precision : uint8_t { kFloat32, kInt8 };
const char* to_string(Precision precision);

struct Node {
  std::string name;  // the ONNX node name, or "<OpType>_<index>" when the model leaves it empty
  OpKind op = OpKind::Identity;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  NodeAttributes attrs;
  Precision precision = Precision::kFloat32;
  std::vector<std::string> fused_nodes;  // names of nodes a builder pass folded into this one

  // INT8 layers (precision kInt8), set by the INT8 builder (quantize/int8_builder.h):
  // Conv/Gemm: the per-output-channel weight scales of the int8 weights (input 1, DataType::kInt8;
  // Gemm weights are [N_out, K_in], trans_b, alpha = beta = 1). The input/output/residual scales are
  // their Values' scales.
  std::vector<float> weight_scales;
  // The CUDA kernel family chosen for the layer ("dp4a", "tensorcore", "wgmma", "cublaslt"), empty when the
  // backend picks (CPU, or a plan built without timing).
  std::string tactic;
};

// The fused epilogue of a Conv, Gemm or MatMul; nullptr for every other node.
const Epilogue* epilogue_of(const Node& node);
Epilogue* epilogue_of(Node& node);

// A float32 constant that an explicitly quantized model gives as integers and scales: a
// DequantizeLinear of an int8 (weights) or int32 (biases) initializer, folded at import, so that
// initializer = dequantize(values, scales) (quantize/qscheme.h) and every FP32 path reads floats. The
// INT8 builder takes int8 weights and their scales from here as they are (quantize/weight_quantization.h)
// while the initializer still equals their dequantization (a pass that rewrote it, e.g. a folded
// BatchNormalization, makes it re-quantize).
struct ConstantQuantization {
  Tensor values;              // int8 or int32, the initializer's dims
  std::vector<float> scales;  // one (per tensor), or one per index of `axis`
  int64_t axis = 0;
  std::string node;           // the DequantizeLinear, for layer info
};

struct Value {
  std::string name;
  DataType type = DataType::kFloat32;
  Dims dims;                          // concrete, at the graph's current batch size
  std::optional<Tensor> initializer;  // set for constants (weights, biases, shapes)
  // INT8 activations: real = q * scale (quantize/qscheme.h). Set exactly when type is kInt8 and the
  // value is an activation.
  std::optional<float> scale;
  std::optional<ConstantQuantization> quantized;  // explicitly quantized constants only
  bool is_constant() const { return initializer.has_value(); }
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;     // topological order
  std::vector<ValueId> inputs;   // runtime inputs (constants excluded)
  std::vector<ValueId> outputs;
  std::vector<bool> input_batched;  // per entry of inputs: dim 0 is the batch dimension
  int64_t batch = 1;                // the batch size the shapes are inferred for
  // Non-empty when import folded shape computations that read the batch (a Shape node, named here):
  // the graph then holds constants of that batch and runs only at it (set_batch refuses others);
  // import it again at another batch (ImportOptions::batch).
  std::string batch_pinned_by;

  int64_t opset = 0;  // default-domain opset the model imports
  std::string producer;
  std::map<std::string, std::string> metadata;  // ONNX metadata_props (e.g. preprocessing)

  ValueId find_value(const std::string& name) const;  // kNoValue when absent
  ValueId add_value(Value value);
  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  Value& value(ValueId id) { return values.at(static_cast<size_t>(id)); }
};

bool is_graph_output(const Graph& graph, ValueId id);
// How many node inputs read each value (a node reading a value twice counts twice).
std::vector<int> count_uses(const Graph& graph);
// The index of the node producing each value, -1 for graph inputs and constants.
std::vector<int> find_producers(const Graph& graph);

}  // namespace octet
