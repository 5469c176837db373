// The operator registry (engine/op_registry.h): the table built from engine/ops.def, the checks every
// registered operator gets, and the helpers op files share.
#include "engine/op_registry.h"

#include <map>
#include <utility>

namespace octet {

// Each registered operator's definition, in its op file (engine/ops/).
#define OCTET_REGISTERED_OP(kind, name) const OpDef& define_##kind();
#include "engine/ops.def"

const OpDef* find_op_def(OpKind op) {
  switch (op) {
#define OCTET_OP(kind, onnx_name) \
  case OpKind::kind:              \
    return nullptr;
#define OCTET_REGISTERED_OP(kind, name) \
  case OpKind::kind:                    \
    return &define_##kind();
#include "engine/ops.def"
  }
  return nullptr;
}

const OpDef& op_def(OpKind op) {
  const OpDef* def = find_op_def(op);
  OCTET_CHECK(def != nullptr, "operator ", to_string(op), " is not a registered operator");
  return *def;
}

namespace {

// ONNX op_type -> the registered kind that imports it.
const std::map<std::string, OpKind>& onnx_type_table() {
  static const std::map<std::string, OpKind> table = [] {
    std::map<std::string, OpKind> t;
    const auto add = [&](OpKind kind) {
      for (const std::string& type : op_def(kind).onnx_types) {
        OCTET_CHECK(t.emplace(type, kind).second, "ONNX op_type '", type, "' is imported by two registered operators");
      }
    };
#define OCTET_REGISTERED_OP(kind, name) add(OpKind::kind);
#include "engine/ops.def"
    return t;
  }();
  return table;
}

std::string label(const Node& node) { return detail::concat("node '", node.name, "' (", to_string(node.op), ")"); }

bool is_index_type(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }

}  // namespace

const OpDef* find_onnx_op(const std::string& onnx_type, OpKind* kind) {
  const auto& table = onnx_type_table();
  const auto it = table.find(onnx_type);
  if (it == table.end()) return nullptr;
  if (kind) *kind = it->second;
  return &op_def(it->second);
}

std::vector<std::string> registered_onnx_types() {
  std::vector<std::string> types;
  for (const auto& entry : onnx_type_table()) types.push_back(entry.first);
  return types;
}

// ---- OnnxNode -----------------------------------------------------------------------------------------

std::string OnnxNode::where() const { return detail::concat("node '", name(), "' (", op_type(), ")"); }

ValueId OnnxNode::required_input(int i, const char* what) const {
  const ValueId id = input(i);
  OCTET_CHECK(id != kNoValue, where(), ": required input ", i, " (", what, ") is missing");
  return id;
}

const Tensor* OnnxNode::constant(int i) const {
  const ValueId id = input(i);
  if (id == kNoValue) return nullptr;
  const Value& v = value(id);
  return v.is_constant() ? &*v.initializer : nullptr;
}

const Tensor& OnnxNode::constant_input(int i, const char* what) const {
  const ValueId id = required_input(i, what);
  const Value& v = value(id);
  if (!v.is_constant())
    OCTET_UNSUPPORTED(where(), ": input ", i, " '", v.name, "' (", what,
                      ") is computed at run time; octet needs it to be a constant once the input shapes are fixed "
                      "(an initializer, a Constant, or a shape computation; fix dynamic input dims with --shapes)");
  return *v.initializer;
}

void OnnxNode::refuse_outputs_past(int allowed, const char* why) const {
  for (int i = allowed; i < output_count(); ++i)
    if (output_requested(i)) OCTET_UNSUPPORTED(where(), ": output ", i, " is requested; ", why);
}

Dims int_values(const OnnxNode& node, const Tensor& t, const char* what) {
  if (t.type() == DataType::kInt64) return Dims(t.data<int64_t>(), t.data<int64_t>() + t.numel());
  if (t.type() == DataType::kInt32) return Dims(t.data<int32_t>(), t.data<int32_t>() + t.numel());
  OCTET_CHECK(false, node.where(), ": ", what, " must be int64 or int32, got ", to_string(t.type()));
  return {};
}

std::vector<float> float_values(const OnnxNode& node, const Tensor& t, const char* what) {
  if (t.type() != DataType::kFloat32)
    OCTET_UNSUPPORTED(node.where(), ": ", what, " has type ", to_string(t.type()), "; octet reads float32 here");
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

int64_t normalize_axis(const OnnxNode& node, int64_t axis, int64_t rank, const char* what) {
  OCTET_CHECK(axis >= -rank && axis < rank, node.where(), ": ", what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

// ---- the registry's checks ----------------------------------------------------------------------------

void validate_registered_node(const Graph& graph, const Node& node) {
  const OpDef& def = op_def(node.op);
  const auto check = [&](bool condition, auto&&... parts) {
    if (!condition) throw Error(detail::concat(label(node), ": ", parts...));
  };
  const auto count = static_cast<int>(node.inputs.size());
  check(count >= def.min_inputs && count <= def.max_inputs, "takes ", def.min_inputs, " to ", def.max_inputs,
        " inputs, has ", count);
  check(!node.outputs.empty() && node.outputs[0] != kNoValue, "output 0 is missing");
  check(static_cast<int>(node.outputs.size()) <= def.max_outputs, "has ", node.outputs.size(),
        " outputs, the operator writes at most ", def.max_outputs);
  check(std::holds_alternative<OpAttributes>(node.attrs), "attributes of another operator");
  for (int i = 0; i < def.min_inputs; ++i) check(node.inputs[static_cast<size_t>(i)] != kNoValue, "input ", i, " is missing");

  // Types; an INT8 layer's are checked by engine/node_validation.cpp's check_int8_layer.
  const auto type_of = [&](ValueId id) { return graph.value(id).type; };
  if (node.precision == Precision::kInt8) {
    check(def.int8_obstacle != nullptr, "is INT8, but the operator has no INT8 layer");
  } else switch (def.types) {
    case OpDef::Types::kFloat:
      for (ValueId id : node.inputs)
        if (id != kNoValue && type_of(id) != DataType::kFloat32)
          OCTET_UNSUPPORTED(label(node), ": input '", graph.value(id).name, "' has type ", to_string(type_of(id)),
                            "; the operator computes in float32");
      for (ValueId id : node.outputs)
        if (id != kNoValue) check(type_of(id) == DataType::kFloat32, "output '", graph.value(id).name, "' must be float32");
      break;
    case OpDef::Types::kAnyData: {
      const DataType data = type_of(node.inputs[0]);
      for (size_t i = 1; i < node.inputs.size(); ++i) {
        const ValueId id = node.inputs[i];
        if (id == kNoValue) continue;
        check(is_index_type(type_of(id)) || type_of(id) == DataType::kFloat32 || type_of(id) == data, "input ", i, " '",
              graph.value(id).name, "' has type ", to_string(type_of(id)));
      }
      for (ValueId id : node.outputs)
        if (id != kNoValue)
          check(type_of(id) == data, "output '", graph.value(id).name, "' must have its input's type ", to_string(data));
      break;
    }
    case OpDef::Types::kCustom: {
      check(def.output_types != nullptr, "the operator declares custom types but no output_types rule");
      const std::vector<DataType> types = def.output_types(graph, node);
      for (size_t i = 0; i < node.outputs.size(); ++i)
        if (node.outputs[i] != kNoValue)
          check(i < types.size() && type_of(node.outputs[i]) == types[i], "output ", i, " must be ",
                i < types.size() ? to_string(types[i]) : "absent");
      break;
    }
  }

  // Dims: the shape rule's, exactly.
  const std::vector<Dims> dims = def.infer(graph, node);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i] == kNoValue) continue;
    check(i < dims.size() && graph.value(node.outputs[i]).dims == dims[i], "output ", i, " '",
          graph.value(node.outputs[i]).name, "' has dims ", to_string(graph.value(node.outputs[i]).dims),
          ", the operator computes ", i < dims.size() ? to_string(dims[i]) : std::string("none"));
  }
  if (def.validate) def.validate(graph, node);
}

void run_registered_cpu(const OpKernelArgs& args) {
  const OpDef& def = op_def(args.node.op);
  const bool int8 = args.node.precision == Precision::kInt8;
  void (*kernel)(const OpKernelArgs&) = int8 ? def.run_int8_cpu : def.run_cpu;
  OCTET_CHECK(kernel != nullptr, label(args.node), ": the operator has no ", int8 ? "INT8 " : "", "CPU kernel");
  kernel(args);
}

bool is_int8_data_movement(OpKind op) {
  const OpDef* def = find_op_def(op);
  return def != nullptr && def->int8_obstacle != nullptr;
}

}  // namespace octet
