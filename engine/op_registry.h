// The operator registry: an operator is one registered unit.
//
// An operator (or a family of operators sharing code) lives in one op file, engine/ops/<name>.cpp,
// which states everything octet knows about it in one OpDef:
//   - its ONNX import: which op_types it reads, their attributes and opset differences, and what
//     it emits (OnnxNode below: attributes, inputs, constants; emit() a node or a constant);
//   - its shape rule and output types;
//   - its validation beyond what the registry checks for every operator;
//   - its CPU kernel binding (the reference in kernels/cpu, the plainest loop stating the formula)
//     and, in CUDA builds, its CUDA kernel binding (kernels/cuda), which must equal the reference;
//   - optionally its MACs (octet info) and whether its outputs are calibrated.
// It is registered with one line in engine/ops.def: OCTET_REGISTERED_OP(Kind, "OnnxName"), which
// declares OpKind::Kind and binds it to the function `const OpDef& define_Kind()` the op file
// defines. Nothing else changes: the importer, shape inference, validation, both backends, plans,
// layer info, graph statistics and the calibrator dispatch every registered operator through its
// OpDef. The recipe, step by step, is docs/adding_an_operator.md.
//
// What the registry checks for every registered operator (engine/node_validation.cpp), so op files
// need not: the input count lies in [min_inputs, max_inputs]; outputs 0..max_outputs-1 only; the
// attributes are OpAttributes; the element types follow `types` (below); every output's dims equal
// the shape rule's. A kernel may rely on all of it.
//
// Constant folding: when every input of an emitted node is a constant, the importer runs the node's
// CPU kernel on the constants and keeps the results as constants instead of the node. This is how
// shape sub-graphs (Shape -> Gather -> Concat -> Reshape) disappear once input shapes are fixed:
// backends never see them. Operators used on shapes must therefore accept int64 on the CPU.
//
// The operators from before the registry (OCTET_OP lines in ops.def) still dispatch through switch
// statements at each site; each of those switches routes the registered kinds here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"

typedef struct CUstream_st* cudaStream_t;  // as cuda_runtime_api.h declares it

namespace octet {

// ---- import ----------------------------------------------------------------------------------------
// One ONNX node as an operator's import sees it. Every message should start with where().
class OnnxNode {
 public:
  virtual ~OnnxNode() = default;

  virtual const std::string& name() const = 0;     // octet's (unique) node name
  virtual const std::string& op_type() const = 0;  // the ONNX op_type, e.g. "Upsample"
  virtual int64_t opset() const = 0;               // the model's default-domain opset
  std::string where() const;                       // "node 'name' (OpType)"

  // Attributes, with ONNX's default when absent; Error when present with another type.
  virtual bool has(const std::string& attr) const = 0;
  virtual int64_t get_int(const std::string& attr, int64_t fallback) const = 0;
  virtual float get_float(const std::string& attr, float fallback) const = 0;
  virtual std::string get_string(const std::string& attr, const std::string& fallback) const = 0;
  virtual Dims get_ints(const std::string& attr, const Dims& fallback) const = 0;
  virtual std::vector<float> get_floats(const std::string& attr, const std::vector<float>& fallback) const = 0;
  virtual Tensor get_tensor(const std::string& attr) const = 0;  // Error when absent

  // Inputs: input(i) is kNoValue when the node omits it (absent or an empty name).
  virtual int input_count() const = 0;
  virtual ValueId input(int i) const = 0;
  ValueId required_input(int i, const char* what) const;  // Error naming it when omitted
  virtual const Value& value(ValueId id) const = 0;
  const Dims& dims(ValueId id) const { return value(id).dims; }
  // The value of input i when it is a constant (initializer, Constant, folded); nullptr otherwise.
  const Tensor* constant(int i) const;
  // Input i, which octet consumes at import (sizes, scales, axes): UnsupportedError when computed at
  // run time, naming the input and `what`.
  const Tensor& constant_input(int i, const char* what) const;

  virtual int output_count() const = 0;
  virtual bool output_requested(int i) const = 0;
  // UnsupportedError naming output i when any output past `allowed` is requested.
  void refuse_outputs_past(int allowed, const char* why) const;

  // Results: a node producing the ONNX node's first `outputs` outputs (dims and types from the
  // operator's rules, folded to constants when every input is one), or output i as a constant.
  virtual void emit(OpKind op, std::vector<ValueId> inputs, NodeAttributes attrs, int outputs = 1) = 0;
  virtual void emit_constant(int output, Tensor value) = 0;
  // Output 0 is input `from` itself (Identity-like): no node.
  virtual void emit_alias(ValueId from) = 0;
};

// Integer values of an int64/int32 constant (axes, sizes, pads); Error naming `what` otherwise.
Dims int_values(const OnnxNode& node, const Tensor& t, const char* what);
// Float values of a float32 constant (scales); UnsupportedError naming `what` otherwise.
std::vector<float> float_values(const OnnxNode& node, const Tensor& t, const char* what);
// An axis in [-rank, rank) made non-negative; Error naming the node otherwise.
int64_t normalize_axis(const OnnxNode& node, int64_t axis, int64_t rank, const char* what = "axis");

// ---- kernels -------------------------------------------------------------------------------------------
// What a kernel binding gets: the node, its values, and where their data are (host memory for the CPU
// backend and constant folding, device memory for CUDA; nullptr for an omitted optional input).
struct OpKernelArgs {
  // The values' names, types and dims. On the CUDA backend the constants' data are on the device
  // only: a kernel reads every input through `inputs`, never through an initializer.
  const Graph& graph;
  const Node& node;
  std::vector<const void*> inputs;  // per node input
  std::vector<void*> outputs;       // per node output
  int threads = 1;                  // CPU: threads a kernel may use
  cudaStream_t stream = nullptr;    // CUDA: the stream every launch goes to

  const OpAttributes& attrs() const { return std::get<OpAttributes>(node.attrs); }
  size_t input_count() const { return node.inputs.size(); }
  bool has_input(size_t i) const { return i < node.inputs.size() && node.inputs[i] != kNoValue; }
  const Value& in_value(size_t i) const { return graph.value(node.inputs.at(i)); }
  const Dims& in_dims(size_t i) const { return in_value(i).dims; }
  DataType in_type(size_t i) const { return in_value(i).type; }
  const Value& out_value(size_t i = 0) const { return graph.value(node.outputs.at(i)); }
  const Dims& out_dims(size_t i = 0) const { return out_value(i).dims; }
  DataType out_type(size_t i = 0) const { return out_value(i).type; }
  template <typename T>
  const T* in(size_t i) const { return static_cast<const T*>(inputs.at(i)); }
  template <typename T>
  T* out(size_t i = 0) const { return static_cast<T*>(outputs.at(i)); }
};

// ---- the definition --------------------------------------------------------------------------------
struct OpDef {
  // The element types of the operator's tensors, which the registry validates:
  //   kFloat     every input and output is float32 (arithmetic);
  //   kAnyData   input 0 and every output share one type, any of DataType (data movement: the kernel
  //              copies element_size() bytes); inputs past 0 are int64/int32/float index data;
  //   kCustom    `output_types` gives the outputs' types and `validate` checks the inputs.
  enum class Types : uint8_t { kFloat, kAnyData, kCustom };

  std::vector<std::string> onnx_types;  // the ONNX op_types whose import this operator owns
  void (*import)(OnnxNode& node) = nullptr;

  Types types = Types::kFloat;
  int min_inputs = 1, max_inputs = 1;
  int max_outputs = 1;
  // Output dims from the inputs' current dims and the attributes; Error naming the node otherwise.
  // nullptr only for operators that never emit a node (they always fold to a constant at import).
  std::vector<Dims> (*infer)(const Graph& graph, const Node& node) = nullptr;
  std::vector<DataType> (*output_types)(const Graph& graph, const Node& node) = nullptr;  // kCustom
  // Checks beyond the registry's (attribute ranges, index data); Error naming the node.
  void (*validate)(const Graph& graph, const Node& node) = nullptr;

  void (*run_cpu)(const OpKernelArgs& args) = nullptr;
  void (*run_cuda)(const OpKernelArgs& args) = nullptr;  // set by CUDA builds only
  // How far the CUDA kernel's float outputs may be from the CPU reference's, relative to the
  // reference's magnitude: 0 means bit-identical (integer outputs always are). The op file derives it
  // in a comment (e.g. CUDA's expf is within 2 ulp, glibc's within 1: 3 * 2^-23).
  double cuda_relative_error = 0.0;

  // INT8 data movement (quantize/precision_assignment.cpp): an INT8 layer of this operator reads input 0
  // as int8 and writes every output int8 at input 0's scale, which it passes through unchanged, as
  // TensorRT does for Slice, Split and nearest Resize: every output element is an element of input 0
  // (or a pad 0), so no value is computed and none needs a scale of its own. int8_obstacle says why a
  // node cannot (a linear Resize computes new values; a Slice stepping over channels has no NHWCp
  // kernel), "" when it can; nullptr: the operator has no INT8 layer. The kernels move int8 in each
  // backend's layout (kernels/int8_layout.h): run_int8_cpu NCHW (a data-movement kernel that copies
  // element_size() bytes is its own int8 kernel there), run_int8_cuda NHWCp.
  std::string (*int8_obstacle)(const Graph& graph, const Node& node) = nullptr;
  void (*run_int8_cpu)(const OpKernelArgs& args) = nullptr;
  void (*run_int8_cuda)(const OpKernelArgs& args) = nullptr;  // set by CUDA builds only

  int64_t (*macs)(const Graph& graph, const Node& node) = nullptr;  // nullptr: none worth counting
  // A pointwise activation that Conv/Gemm epilogues can apply (engine/passes.h fuse_epilogues): its
  // parameters for a node of this operator.
  ActivationParams (*activation)(const Node& node) = nullptr;
  bool calibrated = true;  // its float outputs get a scale (calibration/calibrator.cpp)
};

// The definition of a registered operator; nullptr for the operators from before the registry.
const OpDef* find_op_def(OpKind op);
// The definition of a registered operator; Error for an operator from before the registry.
const OpDef& op_def(OpKind op);
// The registered operator that imports `onnx_type` (default domain), with its kind; nullptr if none.
const OpDef* find_onnx_op(const std::string& onnx_type, OpKind* kind);
// Every ONNX op_type the registered operators import.
std::vector<std::string> registered_onnx_types();

// The registry's own checks of a node of a registered operator (see the top of this file), then the
// operator's validate(). Error naming the node.
void validate_registered_node(const Graph& graph, const Node& node);

// Runs a node of a registered operator on host data, its INT8 kernel when the node is INT8. Used by
// the CPU backend and constant folding.
void run_registered_cpu(const OpKernelArgs& args);

// Whether nodes of `op` can be INT8 layers: a registered operator with an int8_obstacle rule.
bool is_int8_data_movement(OpKind op);

}  // namespace octet
