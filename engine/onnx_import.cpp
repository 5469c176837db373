// ONNX ModelProto -> octet Graph.
//
// The model is read with the protobuf classes only (no libonnx schema checker: Debian's libonnx
// knows opsets up to 17, octet accepts up to 21). Import runs in fixed steps:
//   1. opsets: the default-domain opset decides which version of each operator applies;
//   2. validation: every node's operator is checked first, and all unsupported ones are reported
//      in one UnsupportedError;
//   3. initializers, runtime inputs (symbolic dim 0 = batched, set to 1), then nodes in order. Each
//      node's outputs are inferred as soon as it is added, because attribute normalisation needs the
//      input dims (auto_pad, negative axes, Transpose's default perm);
//   4. a final infer_shapes() and a comparison with every shape the model declares.
// Errors raised inside the steps name the node and tensor; run() prefixes the origin (the file).
#include "engine/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/file_util.h"
#include "engine/op_registry.h"
#include "engine/qdq_constants.h"
#include "engine/shape_inference.h"
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/elementwise_ref.h"
#include "kernels/cpu/tensor_ops_ref.h"

namespace octet {
namespace {

// Raw tensor data in ONNX is little-endian; octet copies it as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "octet's ONNX reader assumes a little-endian host");

constexpr int64_t kMaxOpset = 21;

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string onnx_type_name(int32_t type) {
  if (onnx::TensorProto_DataType_IsValid(type))
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type));
  return detail::concat("type ", type);
}

// The ONNX element types octet stores. Activations are float32; the integer types and bool hold
// constants (shapes, axes, flags).
bool data_type_from_onnx(int32_t type, DataType& out) {
  switch (type) {
    case onnx::TensorProto_DataType_FLOAT: out = DataType::kFloat32; return true;
    case onnx::TensorProto_DataType_INT8: out = DataType::kInt8; return true;
    case onnx::TensorProto_DataType_UINT8: out = DataType::kUInt8; return true;
    case onnx::TensorProto_DataType_INT32: out = DataType::kInt32; return true;
    case onnx::TensorProto_DataType_INT64: out = DataType::kInt64; return true;
    case onnx::TensorProto_DataType_BOOL: out = DataType::kBool; return true;
    default: return false;  // a switch over ONNX's enum, not octet's: every other type is refused
  }
}

// Copies `count` typed-field values into the tensor's buffer, converting to the element type.
template <typename Dst, typename Field>
void copy_typed(const Field& field, Tensor& tensor) {
  Dst* dst = static_cast<Dst*>(tensor.raw());
  for (int i = 0; i < field.size(); ++i) dst[i] = static_cast<Dst>(field.Get(i));
}

int typed_field_size(const onnx::TensorProto& proto, DataType type) {
  switch (type) {
    case DataType::kFloat32: return proto.float_data_size();
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kInt32:
    case DataType::kBool: return proto.int32_data_size();
    case DataType::kInt64: return proto.int64_data_size();
  }
  return 0;
}

void copy_typed_field(const onnx::TensorProto& proto, Tensor& tensor) {
  switch (tensor.type()) {
    case DataType::kFloat32: copy_typed<float>(proto.float_data(), tensor); return;
    case DataType::kInt8: copy_typed<int8_t>(proto.int32_data(), tensor); return;
    case DataType::kUInt8: copy_typed<uint8_t>(proto.int32_data(), tensor); return;
    case DataType::kInt32: copy_typed<int32_t>(proto.int32_data(), tensor); return;
    case DataType::kBool: copy_typed<bool>(proto.int32_data(), tensor); return;
    case DataType::kInt64: copy_typed<int64_t>(proto.int64_data(), tensor); return;
  }
}

// "[batch, 3, ?, ?]" — a declared ONNX shape as the model writes it.
std::string declared_shape_string(const onnx::TensorShapeProto& shape) {
  std::ostringstream out;
  out << '[';
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto& d = shape.dim(i);
    out << (i ? ", " : "");
    if (d.has_dim_value()) out << d.dim_value();
    else if (d.has_dim_param() && !d.dim_param().empty()) out << d.dim_param();
    else out << '?';
  }
  out << ']';
  return out.str();
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& where, const char* what) {
  OCTET_CHECK(axis >= -rank && axis < rank, where, ": ", what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

// --------------------------------------------------------------------------------------------------
// One ONNX node being converted: its attributes and inputs, with messages that name it.
class NodeContext {
 public:
  NodeContext(const onnx::NodeProto& proto, std::string name, int64_t opset)
      : proto_(proto), name_(std::move(name)), opset_(opset) {}

  const onnx::NodeProto& proto() const { return proto_; }
  const std::string& name() const { return name_; }
  int64_t opset() const { return opset_; }
  std::string where() const { return detail::concat("node '", name_, "' (", proto_.op_type(), ")"); }

  const onnx::AttributeProto* find(const std::string& attr) const {
    for (const auto& a : proto_.attribute())
      if (a.name() == attr) return &a;
    return nullptr;
  }
  bool has(const std::string& attr) const { return find(attr) != nullptr; }

  int64_t get_int(const std::string& attr, int64_t fallback) const {
    const auto* a = typed(attr, onnx::AttributeProto_AttributeType_INT, "an int");
    return a ? a->i() : fallback;
  }
  float get_float(const std::string& attr, float fallback) const {
    const auto* a = typed(attr, onnx::AttributeProto_AttributeType_FLOAT, "a float");
    return a ? a->f() : fallback;
  }
  std::string get_string(const std::string& attr, const std::string& fallback) const {
    const auto* a = typed(attr, onnx::AttributeProto_AttributeType_STRING, "a string");
    return a ? a->s() : fallback;
  }
  Dims get_ints(const std::string& attr, const Dims& fallback) const {
    const auto* a = typed(attr, onnx::AttributeProto_AttributeType_INTS, "a list of ints");
    return a ? Dims(a->ints().begin(), a->ints().end()) : fallback;
  }
  std::vector<float> get_floats(const std::string& attr, const std::vector<float>& fallback) const {
    const auto* a = typed(attr, onnx::AttributeProto_AttributeType_FLOATS, "a list of floats");
    return a ? std::vector<float>(a->floats().begin(), a->floats().end()) : fallback;
  }

  // The name of input i, or "" when the node omits it (absent or empty name).
  std::string input_name(int i) const { return i < proto_.input_size() ? proto_.input(i) : std::string(); }
  bool output_requested(int i) const { return i < proto_.output_size() && !proto_.output(i).empty(); }

 private:
  const onnx::AttributeProto* typed(const std::string& attr, onnx::AttributeProto_AttributeType type,
                                    const char* what) const {
    const auto* a = find(attr);
    if (!a) return nullptr;
    // Old exporters leave `type` unset (UNDEFINED); accept the value's field then.
    OCTET_CHECK(a->type() == type || a->type() == onnx::AttributeProto_AttributeType_UNDEFINED, where(),
                ": attribute '", attr, "' must be ", what);
    return a;
  }

  const onnx::NodeProto& proto_;
  std::string name_;
  int64_t opset_;
};

// Geometry attributes shared by Conv, MaxPool and AveragePool, before lifting to 2-D.
struct SpatialWindow {
  int spatial_rank = 2;
  Dims kernel, strides, dilations;
  Dims pads;  // [begin_0.., end_0..]
};

// --------------------------------------------------------------------------------------------------
class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string origin, const ImportOptions& options)
      : model_(model), origin_(std::move(origin)), options_(options) {}

  Graph run() {
    try {
      read_model_info();
      validate_operators();
      OCTET_CHECK(opset_ >= 1, "the model imports no opset for the default ONNX domain");
      add_initializers();
      add_inputs();
      convert_nodes();
      refuse_non_float_inputs();
      set_outputs();
      infer_shapes(graph_);
      check_declared_shapes();
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(detail::concat(origin_, ": ", e.what()));
    } catch (const Error& e) {
      throw Error(detail::concat(origin_, ": ", e.what()));
    }
    return std::move(graph_);
  }

  // The default-domain operator types with a converter, sorted.
  static std::vector<std::string> operator_names() {
    std::vector<std::string> names;
    for (const auto& entry : converters()) names.push_back(entry.first);
    for (const std::string& type : registered_onnx_types()) names.push_back(type);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  using Converter = void (Importer::*)(const NodeContext&);

  // The ONNX operators octet imports, each with its converter. Validation and conversion both read
  // this table, so an operator is either fully supported or reported.
  static const std::map<std::string, Converter>& converters() {
    static const std::map<std::string, Converter> table = {
        {"Conv", &Importer::convert_conv},
        {"Gemm", &Importer::convert_gemm},
        {"MatMul", &Importer::convert_matmul},
        {"Add", &Importer::convert_binary},
        {"Sub", &Importer::convert_binary},
        {"Mul", &Importer::convert_binary},
        {"Div", &Importer::convert_binary},
        {"Relu", &Importer::convert_activation},
        {"Clip", &Importer::convert_activation},
        {"LeakyRelu", &Importer::convert_activation},
        {"Sigmoid", &Importer::convert_activation},
        {"HardSigmoid", &Importer::convert_activation},
        {"HardSwish", &Importer::convert_activation},
        {"BatchNormalization", &Importer::convert_batchnorm},
        {"MaxPool", &Importer::convert_pool},
        {"AveragePool", &Importer::convert_pool},
        {"GlobalAveragePool", &Importer::convert_global_pool},
        {"GlobalMaxPool", &Importer::convert_global_pool},
        {"Reshape", &Importer::convert_reshape},
        {"Flatten", &Importer::convert_flatten},
        {"Squeeze", &Importer::convert_squeeze},
        {"Unsqueeze", &Importer::convert_unsqueeze},
        {"Transpose", &Importer::convert_transpose},
        {"Concat", &Importer::convert_concat},
        {"Softmax", &Importer::convert_softmax},
        {"Identity", &Importer::convert_identity},
        {"Dropout", &Importer::convert_dropout},
        {"Pad", &Importer::convert_pad},
        {"Constant", &Importer::convert_constant},
        {"QuantizeLinear", &Importer::convert_quantize_linear},
        {"DequantizeLinear", &Importer::convert_dequantize_linear},
    };
    return table;
  }

  static bool is_imported(const std::string& op_type) {
    return converters().count(op_type) != 0 || find_onnx_op(op_type, nullptr) != nullptr;
  }

  // ---- steps ---------------------------------------------------------------------------------------
  // Model-level facts: producer, metadata and the opset of each domain. A model that imports no
  // default opset can only use other domains; run() lets validate_operators() report those nodes
  // before it refuses the missing opset.
  void read_model_info() {
    graph_.producer = model_.producer_name();
    for (const auto& prop : model_.metadata_props()) graph_.metadata[prop.key()] = prop.value();
    for (const auto& op : model_.opset_import()) domain_opsets_[op.domain()] = op.version();
    const auto it = domain_opsets_.count("") ? domain_opsets_.find("") : domain_opsets_.find("ai.onnx");
    if (it == domain_opsets_.end()) return;
    opset_ = it->second;
    OCTET_CHECK(opset_ >= 1, "default-domain opset ", opset_, " is not a valid ONNX opset");
    if (opset_ > kMaxOpset)
      OCTET_UNSUPPORTED("default-domain opset ", opset_, " is newer than octet supports (opsets 1..", kMaxOpset,
                        "); re-export the model with opset ", kMaxOpset, " or lower");
    graph_.opset = opset_;
  }

  std::string node_name(int index) const {
    const auto& node = model_.graph().node(index);
    return node.name().empty() ? detail::concat(node.op_type(), "_", index) : node.name();
  }

  // Lists every node whose operator octet does not import, after a per-operator count (a large
  // model can have hundreds; the count says at a glance what is missing).
  void validate_operators() {
    std::ostringstream list;
    std::map<std::string, int> per_op;
    int unsupported = 0;
    const auto& nodes = model_.graph().node();
    for (int i = 0; i < nodes.size(); ++i) {
      const auto& node = nodes[i];
      if (is_default_domain(node.domain()) && is_imported(node.op_type())) continue;
      const std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
      const auto opset = domain_opsets_.find(node.domain());
      list << "\n  node '" << node_name(i) << "': op '" << node.op_type() << "', domain '" << domain << "', opset "
           << (opset == domain_opsets_.end() ? std::string("not imported") : std::to_string(opset->second));
      ++per_op[is_default_domain(node.domain()) ? node.op_type() : domain + "." + node.op_type()];
      ++unsupported;
    }
    if (unsupported == 0) return;
    std::ostringstream summary;
    for (const auto& [op, count] : per_op) summary << (summary.tellp() > 0 ? ", " : "") << op << " x" << count;
    OCTET_UNSUPPORTED(unsupported, " node(s) use operators octet does not support (", summary.str(), "):", list.str());
  }

  void add_initializers() {
    for (const auto& init : model_.graph().initializer()) {
      OCTET_CHECK(!ids_.count(init.name()), "initializer '", init.name(), "' is defined twice");
      Tensor tensor = tensor_from_proto(init, detail::concat("initializer '", init.name(), "'"));
      add_constant(init.name(), std::move(tensor), "an initializer");
    }
  }

  void add_inputs() {
    check_shape_names();
    for (const auto& input : model_.graph().input()) {
      if (ids_.count(input.name())) continue;  // an initializer listed as an input is a constant
      const bool batched = add_runtime_input(input);
      graph_.input_batched.push_back(batched);
    }
    // The batch: dim 0 of the first batched input, else the one the first input fixes.
    const auto first_batched = std::find(graph_.input_batched.begin(), graph_.input_batched.end(), true);
    const bool any_batched = first_batched != graph_.input_batched.end();
    graph_.batch = 1;
    for (size_t i = 0; i < graph_.inputs.size(); ++i) {
      const Dims& dims = graph_.value(graph_.inputs[i]).dims;
      if (dims.empty() || (any_batched && i != static_cast<size_t>(first_batched - graph_.input_batched.begin())))
        continue;
      graph_.batch = std::max<int64_t>(dims[0], 1);
      break;
    }
  }

  // Every --shapes name must be a runtime input.
  void check_shape_names() const {
    std::vector<std::string> runtime;
    for (const auto& input : model_.graph().input())
      if (!std::any_of(model_.graph().initializer().begin(), model_.graph().initializer().end(),
                       [&](const auto& init) { return init.name() == input.name(); }))
        runtime.push_back(input.name());
    for (const auto& [name, dims] : options_.input_shapes) {
      if (std::find(runtime.begin(), runtime.end(), name) != runtime.end()) continue;
      std::ostringstream list;
      for (const std::string& r : runtime) list << (list.tellp() > 0 ? ", " : "") << "'" << r << "'";
      OCTET_CHECK(false, "--shapes names '", name, "', which is not an input of the model; its inputs are ",
                  list.str());
    }
  }

  // The dims of a runtime input: --shapes when given, else the declared ones with dim 0 set by
  // ImportOptions::batch. Sets `batched` when dim 0 is the batch (symbolic, or a fixed 1 given anew).
  Dims input_dims(const std::string& name, const onnx::TensorShapeProto& shape, bool& batched) const {
    const auto given = options_.input_shapes.find(name);
    Dims dims;
    for (int i = 0; i < shape.dim_size(); ++i) {
      const auto& d = shape.dim(i);
      const bool known = d.has_dim_value() && d.dim_value() >= 0;
      if (given != options_.input_shapes.end()) {
        const Dims& want = given->second;
        OCTET_CHECK(static_cast<int>(want.size()) == shape.dim_size(), "--shapes gives input '", name, "' ",
                    want.size(), " dims (", to_string(want), "), the model declares ", shape.dim_size(), " (",
                    declared_shape_string(shape), ")");
        const int64_t v = want[static_cast<size_t>(i)];
        OCTET_CHECK(v >= 1, "--shapes gives input '", name, "' dim ", i, " = ", v, "; dims must be >= 1");
        OCTET_CHECK(!known || d.dim_value() == v || (i == 0 && d.dim_value() == 1), "--shapes gives input '", name,
                    "' ", to_string(want), " but the model fixes dim ", i, " to ", d.dim_value(), " (",
                    declared_shape_string(shape), ")");
        if (i == 0) {
          batched = !known || d.dim_value() == 1;
          // The batch asked for (calibration's, --batch) takes dim 0 of a batched input.
          dims.push_back(batched && options_.batch > 0 ? options_.batch : v);
          continue;
        }
        dims.push_back(v);
        continue;
      }
      if (i == 0 && (!known || (d.dim_value() == 1 && options_.batch > 0))) {
        batched = true;
        dims.push_back(options_.batch > 0 ? options_.batch : 1);
        continue;
      }
      OCTET_CHECK(known, "graph input '", name, "' has shape ", declared_shape_string(shape), ": dim ", i,
                  " is not fixed; give it with --shapes ", name, ":", example_shape(shape));
      dims.push_back(d.dim_value());
    }
    return dims;
  }

  // "1x3x640x640" for a declared shape, 640 standing in for every unknown spatial dim.
  static std::string example_shape(const onnx::TensorShapeProto& shape) {
    std::string out;
    for (int i = 0; i < shape.dim_size(); ++i) {
      const auto& d = shape.dim(i);
      const bool known = d.has_dim_value() && d.dim_value() >= 0;
      out += (i ? "x" : "") + std::to_string(known ? d.dim_value() : (i == 0 ? 1 : 640));
    }
    return out;
  }

  // Adds one runtime input; returns whether its dim 0 is a symbolic batch.
  bool add_runtime_input(const onnx::ValueInfoProto& input) {
    const std::string& name = input.name();
    if (!input.type().has_tensor_type())
      OCTET_UNSUPPORTED("graph input '", name, "' is not a tensor (sequences, maps and optionals are not supported)");
    const auto& tensor_type = input.type().tensor_type();
    // A non-float input is kept for now: the node reading it gives the more precise message (an
    // operand octet has no kernel for, or a shape that must be a constant); refuse_non_float_inputs()
    // catches the ones nothing reads.
    DataType type = DataType::kFloat32;
    if (!data_type_from_onnx(tensor_type.elem_type(), type))
      OCTET_UNSUPPORTED("graph input '", name, "' has type ", onnx_type_name(tensor_type.elem_type()),
                        "; octet runs float32 activations only");
    OCTET_CHECK(tensor_type.has_shape(), "graph input '", name, "' declares no shape; octet needs concrete dims");
    bool batched = false;
    Dims dims = input_dims(name, tensor_type.shape(), batched);
    Value value;
    value.name = name;
    value.type = type;
    value.dims = std::move(dims);
    const ValueId id = graph_.add_value(std::move(value));
    ids_[name] = id;
    producers_[id] = "a graph input";
    graph_.inputs.push_back(id);
    return batched;
  }

  // Node names identify layers to users (--layer-precisions, layer info), so they are made unique:
  // a repeated name gets "_<index>" appended.
  void convert_nodes() {
    std::set<std::string> used;
    const auto& nodes = model_.graph().node();
    for (int i = 0; i < nodes.size(); ++i) {
      std::string name = node_name(i);
      if (!used.insert(name).second) {
        name += detail::concat("_", i);
        used.insert(name);
      }
      NodeContext ctx(nodes[i], std::move(name), opset_);
      const auto legacy = converters().find(nodes[i].op_type());
      if (legacy != converters().end()) {
        (this->*(legacy->second))(ctx);
        continue;
      }
      OpKind kind = OpKind::Identity;
      const OpDef* def = find_onnx_op(nodes[i].op_type(), &kind);
      RegisteredNode node(*this, ctx);
      def->import(node);
      // Shapes computed from the input dims were folded at this batch: the graph now holds it.
      if ((kind == OpKind::Shape || kind == OpKind::Size) && graph_.batch_pinned_by.empty() &&
          std::find(graph_.input_batched.begin(), graph_.input_batched.end(), true) != graph_.input_batched.end())
        graph_.batch_pinned_by = ctx.where();
    }
  }

  void refuse_non_float_inputs() const {
    for (ValueId id : graph_.inputs) {
      const Value& v = graph_.value(id);
      if (v.type != DataType::kFloat32)
        OCTET_UNSUPPORTED("graph input '", v.name, "' has type ", to_string(v.type),
                          "; octet runs float32 activations only");
    }
  }

  void set_outputs() {
    for (const auto& output : model_.graph().output()) {
      const auto it = ids_.find(output.name());
      OCTET_CHECK(it != ids_.end(), "graph output '", output.name(), "' is not produced by any node");
      graph_.outputs.push_back(it->second);
    }
  }

  // Compares the inferred dims with every concrete dim the model declares. In a batched model dim 0
  // was inferred at batch 1 and is not compared.
  void check_declared_shapes() const {
    const bool batched =
        std::find(graph_.input_batched.begin(), graph_.input_batched.end(), true) != graph_.input_batched.end();
    auto check = [&](const onnx::ValueInfoProto& info) {
      const auto it = ids_.find(info.name());
      if (it == ids_.end() || !info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return;
      const auto& shape = info.type().tensor_type().shape();
      const Dims& inferred = graph_.value(it->second).dims;
      bool matches = static_cast<size_t>(shape.dim_size()) == inferred.size();
      for (int i = 0; matches && i < shape.dim_size(); ++i) {
        const auto& d = shape.dim(i);
        if (!d.has_dim_value() || d.dim_value() < 0 || (batched && i == 0)) continue;
        matches = d.dim_value() == inferred[static_cast<size_t>(i)];
      }
      OCTET_CHECK(matches, "tensor '", info.name(), "' (output of ", producer_of(it->second), ") is declared as ",
                  declared_shape_string(shape), " but its inputs give ", to_string(inferred));
    };
    for (const auto& output : model_.graph().output()) check(output);
    for (const auto& info : model_.graph().value_info()) check(info);
  }

  std::string producer_of(ValueId id) const {
    const auto it = producers_.find(id);
    return it == producers_.end() ? std::string("an unknown producer") : it->second;
  }

  // ---- registered operators (engine/op_registry.h) ------------------------------------------------
  // A registered operator's view of the ONNX node being converted.
  class RegisteredNode final : public OnnxNode {
   public:
    RegisteredNode(Importer& importer, const NodeContext& ctx) : im_(importer), ctx_(ctx) {}

    const std::string& name() const override { return ctx_.name(); }
    const std::string& op_type() const override { return ctx_.proto().op_type(); }
    int64_t opset() const override { return ctx_.opset(); }
    bool has(const std::string& attr) const override { return ctx_.has(attr); }
    int64_t get_int(const std::string& attr, int64_t fallback) const override { return ctx_.get_int(attr, fallback); }
    float get_float(const std::string& attr, float fallback) const override { return ctx_.get_float(attr, fallback); }
    std::string get_string(const std::string& attr, const std::string& fallback) const override {
      return ctx_.get_string(attr, fallback);
    }
    Dims get_ints(const std::string& attr, const Dims& fallback) const override { return ctx_.get_ints(attr, fallback); }
    std::vector<float> get_floats(const std::string& attr, const std::vector<float>& fallback) const override {
      return ctx_.get_floats(attr, fallback);
    }
    Tensor get_tensor(const std::string& attr) const override {
      const onnx::AttributeProto* a = ctx_.find(attr);
      OCTET_CHECK(a != nullptr && (a->type() == onnx::AttributeProto_AttributeType_TENSOR || a->has_t()), where(),
                  ": attribute '", attr, "' must be a tensor");
      return tensor_from_proto(a->t(), detail::concat(where(), " attribute '", attr, "'"));
    }
    int input_count() const override { return ctx_.proto().input_size(); }
    ValueId input(int i) const override { return im_.input(ctx_, i); }
    const Value& value(ValueId id) const override { return im_.graph_.value(id); }
    int output_count() const override { return ctx_.proto().output_size(); }
    bool output_requested(int i) const override { return ctx_.output_requested(i); }

    void emit(OpKind op, std::vector<ValueId> inputs, NodeAttributes attrs, int outputs) override {
      im_.emit_registered(ctx_, op, std::move(inputs), std::move(attrs), outputs);
    }
    void emit_constant(int output, Tensor value) override {
      OCTET_CHECK(ctx_.output_requested(output), where(), ": output ", output, " is not requested");
      im_.define_output(ctx_, output);
      im_.add_constant(ctx_.proto().output(output), std::move(value),
                       detail::concat("node '", ctx_.name(), "' (folded to a constant)"));
    }
    void emit_alias(ValueId from) override {
      const Value& in = im_.graph_.value(from);
      if (in.is_constant()) {
        emit_constant(0, *in.initializer);
        return;
      }
      im_.emit_typed(ctx_, OpKind::Identity, {from}, std::monostate{}, in.type, in.scale);
    }

   private:
    Importer& im_;
    const NodeContext& ctx_;
  };

  void define_output(const NodeContext& ctx, int i) const {
    const std::string& name = ctx.proto().output(i);
    OCTET_CHECK(!ids_.count(name), ctx.where(), ": output '", name, "' is already defined");
  }

  // A node of a registered operator with the ONNX node's first `outputs` outputs; their dims and
  // types from the operator's rules. When every input is a constant the node is run on the CPU here
  // and its outputs become constants (engine/op_registry.h, constant folding).
  void emit_registered(const NodeContext& ctx, OpKind op, std::vector<ValueId> inputs, NodeAttributes attrs,
                       int outputs) {
    const OpDef& def = op_def(op);
    OCTET_CHECK(outputs >= 1 && outputs <= ctx.proto().output_size() && ctx.output_requested(0), ctx.where(),
                ": has no output");
    if (def.types == OpDef::Types::kFloat) require_float(ctx, inputs);
    Node node;
    node.name = ctx.name();
    node.op = op;
    node.inputs = std::move(inputs);
    node.attrs = std::move(attrs);
    std::vector<Dims> dims = def.infer(graph_, node);
    std::vector<DataType> types(static_cast<size_t>(outputs), DataType::kFloat32);
    if (def.types == OpDef::Types::kAnyData) std::fill(types.begin(), types.end(), graph_.value(node.inputs[0]).type);
    if (def.types == OpDef::Types::kCustom) types = def.output_types(graph_, node);
    OCTET_CHECK(dims.size() >= static_cast<size_t>(outputs) && types.size() >= static_cast<size_t>(outputs),
                ctx.where(), ": the operator's rules give ", dims.size(), " outputs, the node has ", outputs);
    for (int i = 0; i < outputs; ++i) {
      if (!ctx.output_requested(i)) {
        node.outputs.push_back(kNoValue);
        continue;
      }
      define_output(ctx, i);
      Value out;
      out.name = ctx.proto().output(i);
      out.type = types[static_cast<size_t>(i)];
      out.dims = std::move(dims[static_cast<size_t>(i)]);
      const ValueId id = graph_.add_value(std::move(out));
      ids_[graph_.value(id).name] = id;
      producers_[id] = detail::concat("node '", ctx.name(), "'");
      node.outputs.push_back(id);
    }
    const bool all_constant =
        !node.inputs.empty() && std::all_of(node.inputs.begin(), node.inputs.end(), [&](ValueId id) {
          return id == kNoValue || graph_.value(id).is_constant();
        });
    if (all_constant && def.run_cpu) {
      fold(node);
      return;
    }
    graph_.nodes.push_back(std::move(node));
  }

  // Runs a node whose inputs are all constants and turns its outputs into constants.
  void fold(const Node& node) {
    validate_registered_node(graph_, node);
    std::vector<Tensor> results;
    results.reserve(node.outputs.size());  // args.outputs points into it
    OpKernelArgs args{graph_, node, {}, {}};
    for (ValueId id : node.inputs) args.inputs.push_back(id == kNoValue ? nullptr : graph_.value(id).initializer->raw());
    for (ValueId id : node.outputs) {
      results.emplace_back(id == kNoValue ? Tensor() : Tensor(graph_.value(id).type, graph_.value(id).dims));
      args.outputs.push_back(id == kNoValue ? nullptr : results.back().raw());
    }
    run_registered_cpu(args);
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] == kNoValue) continue;
      graph_.value(node.outputs[i]).initializer = std::move(results[i]);
      producers_[node.outputs[i]] = detail::concat("node '", node.name, "' (folded to a constant)");
    }
  }

  // ---- values --------------------------------------------------------------------------------------
  ValueId add_constant(const std::string& name, Tensor tensor, const std::string& producer) {
    Value value;
    value.name = name;
    value.type = tensor.type();
    value.dims = tensor.dims();
    value.initializer = std::move(tensor);
    const ValueId id = graph_.add_value(std::move(value));
    ids_[name] = id;
    producers_[id] = producer;
    return id;
  }

  // Input i of the node, kNoValue when omitted. A name that nothing defined earlier is an error:
  // ONNX requires nodes in topological order.
  ValueId input(const NodeContext& ctx, int i) const {
    const std::string name = ctx.input_name(i);
    if (name.empty()) return kNoValue;
    const auto it = ids_.find(name);
    OCTET_CHECK(it != ids_.end(), ctx.where(), ": input '", name,
                "' is not a graph input, an initializer or the output of an earlier node");
    return it->second;
  }

  ValueId required_input(const NodeContext& ctx, int i, const char* what) const {
    const ValueId id = input(ctx, i);
    OCTET_CHECK(id != kNoValue, ctx.where(), ": required input ", i, " (", what, ") is missing");
    return id;
  }

  const Dims& dims_of(ValueId id) const { return graph_.value(id).dims; }
  int64_t rank_of(ValueId id) const { return static_cast<int64_t>(dims_of(id).size()); }

  // An input octet consumes at import (a shape, axes, bounds, pads): it must be a constant.
  const Tensor& constant_input(const NodeContext& ctx, int i, const char* what) const {
    const ValueId id = required_input(ctx, i, what);
    const Value& v = graph_.value(id);
    if (!v.is_constant())
      OCTET_UNSUPPORTED(ctx.where(), ": input ", i, " '", v.name, "' (", what,
                        ") is computed at run time; octet needs it to be a constant (an initializer or Constant)");
    return *v.initializer;
  }

  Dims int_values(const NodeContext& ctx, const Tensor& t, const char* what) const {
    if (t.type() == DataType::kInt64) return Dims(t.data<int64_t>(), t.data<int64_t>() + t.numel());
    if (t.type() == DataType::kInt32) return Dims(t.data<int32_t>(), t.data<int32_t>() + t.numel());
    OCTET_CHECK(false, ctx.where(), ": ", what, " must be int64, got ", to_string(t.type()));
    return {};
  }

  float scalar_float(const NodeContext& ctx, const Tensor& t, const char* what) const {
    OCTET_CHECK(t.numel() == 1, ctx.where(), ": ", what, " must be a scalar, got dims ", to_string(t.dims()));
    if (t.type() != DataType::kFloat32)
      OCTET_UNSUPPORTED(ctx.where(), ": ", what, " has type ", to_string(t.type()), "; octet computes in float32 only");
    return t.data<float>()[0];
  }

  // The inputs a kernel computes on must be float32 (runtime activations always are; constants may not be).
  void require_float(const NodeContext& ctx, const std::vector<ValueId>& ids) const {
    for (ValueId id : ids) {
      if (id == kNoValue) continue;
      const Value& v = graph_.value(id);
      if (v.type != DataType::kFloat32)
        OCTET_UNSUPPORTED(ctx.where(), ": input '", v.name, "' (", producer_of(id), ") has type ", to_string(v.type),
                          "; octet computes in float32 only");
    }
  }

  void refuse_extra_outputs(const NodeContext& ctx, int allowed, const char* why) const {
    for (int i = allowed; i < ctx.proto().output_size(); ++i)
      if (ctx.output_requested(i))
        OCTET_UNSUPPORTED(ctx.where(), ": output ", i, " '", ctx.proto().output(i), "' is requested; ", why);
  }

  // Appends a node producing the ONNX node's first output and infers its dims right away.
  void emit(const NodeContext& ctx, OpKind op, std::vector<ValueId> inputs, NodeAttributes attrs) {
    require_float(ctx, inputs);
    emit_typed(ctx, op, std::move(inputs), std::move(attrs), DataType::kFloat32, std::nullopt);
  }

  // emit for any input and output types: the Q/DQ reformats, whose int8 side carries the scale.
  void emit_typed(const NodeContext& ctx, OpKind op, std::vector<ValueId> inputs, NodeAttributes attrs,
                  DataType out_type, std::optional<float> out_scale) {
    Node node;
    node.name = ctx.name();
    node.op = op;
    node.inputs = std::move(inputs);
    node.attrs = std::move(attrs);
    OCTET_CHECK(ctx.output_requested(0), ctx.where(), ": has no output");
    std::vector<Dims> dims = infer_node_shapes(graph_, node);
    const std::string& out_name = ctx.proto().output(0);
    OCTET_CHECK(!ids_.count(out_name), ctx.where(), ": output '", out_name, "' is already defined");
    Value out;
    out.name = out_name;
    out.type = out_type;
    out.scale = out_scale;
    out.dims = std::move(dims.at(0));
    const ValueId id = graph_.add_value(std::move(out));
    ids_[out_name] = id;
    producers_[id] = detail::concat("node '", ctx.name(), "'");
    node.outputs = {id};
    graph_.nodes.push_back(std::move(node));
  }

  // Identity and the Reshape family on a constant: the output is a constant too, no node needed.
  bool fold_if_constant(const NodeContext& ctx, ValueId data, OpKind op, const NodeAttributes& attrs) {
    const Value& in = graph_.value(data);
    if (!in.is_constant()) return false;
    Node probe;
    probe.name = ctx.name();
    probe.op = op;
    probe.inputs = {data};
    probe.attrs = attrs;
    Tensor folded = *in.initializer;
    folded.reshape(infer_node_shapes(graph_, probe).at(0));
    const std::string& out_name = ctx.proto().output(0);
    OCTET_CHECK(!ids_.count(out_name), ctx.where(), ": output '", out_name, "' is already defined");
    add_constant(out_name, std::move(folded), detail::concat("node '", ctx.name(), "' (folded to a constant)"));
    return true;
  }

  // ---- geometry ------------------------------------------------------------------------------------
  // Reads kernel/strides/pads/dilations/auto_pad for an input of dims x and resolves auto_pad into
  // explicit pads. `kernel` comes from the attribute or, for Conv, from the weights.
  SpatialWindow read_window(const NodeContext& ctx, const Dims& x, Dims kernel, const char* what) const {
    const int64_t rank = static_cast<int64_t>(x.size()) - 2;
    if (rank == 3) OCTET_UNSUPPORTED(ctx.where(), ": 3-D ", what, ": octet targets 2-D image CNNs");
    OCTET_CHECK(rank == 1 || rank == 2, ctx.where(), ": input ", to_string(x), " must be [N, C, L] or [N, C, H, W]");
    SpatialWindow w;
    w.spatial_rank = static_cast<int>(rank);
    w.kernel = std::move(kernel);
    w.strides = ctx.get_ints("strides", Dims(static_cast<size_t>(rank), 1));
    w.dilations = ctx.get_ints("dilations", Dims(static_cast<size_t>(rank), 1));
    w.pads = ctx.get_ints("pads", Dims(static_cast<size_t>(2 * rank), 0));
    auto check_size = [&](const Dims& d, int64_t n, const char* attr) {
      OCTET_CHECK(static_cast<int64_t>(d.size()) == n, ctx.where(), ": ", attr, " ", to_string(d), " must have ", n,
                  " entries for input ", to_string(x));
    };
    check_size(w.kernel, rank, "kernel_shape");
    check_size(w.strides, rank, "strides");
    check_size(w.dilations, rank, "dilations");
    check_size(w.pads, 2 * rank, "pads");
    for (int64_t i = 0; i < rank; ++i)
      OCTET_CHECK(w.kernel[i] >= 1 && w.strides[i] >= 1 && w.dilations[i] >= 1 && w.pads[i] >= 0 &&
                      w.pads[i + rank] >= 0,
                  ctx.where(), ": kernel_shape, strides and dilations must be positive and pads non-negative");

    const std::string auto_pad = ctx.get_string("auto_pad", "NOTSET");
    if (auto_pad == "NOTSET") return w;
    OCTET_CHECK(auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER", ctx.where(),
                ": auto_pad '", auto_pad, "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    for (int64_t i = 0; i < rank; ++i) {
      int64_t begin = 0, end = 0;
      if (auto_pad != "VALID") {
        // SAME: output = ceil(input / stride); the padding that makes it so, the odd cell at the end
        // (SAME_UPPER) or at the beginning (SAME_LOWER).
        const int64_t in = x[static_cast<size_t>(i + 2)];
        const int64_t out = (in + w.strides[i] - 1) / w.strides[i];
        const int64_t effective = (w.kernel[i] - 1) * w.dilations[i] + 1;
        const int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + effective - in);
        begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end = total - begin;
      }
      w.pads[i] = begin;
      w.pads[i + rank] = end;
    }
    return w;
  }

  // Lifts a 1-D window to 2-D (H = 1) and stores it in Conv/Pool attributes.
  template <typename Attrs>
  static void store_window(const SpatialWindow& w, Attrs& a) {
    a.spatial_rank = w.spatial_rank;
    const size_t last = w.kernel.size() - 1;
    const size_t rank = w.kernel.size();
    a.kernel_w = w.kernel[last];
    a.stride_w = w.strides[last];
    a.dilation_w = w.dilations[last];
    a.pad_left = w.pads[last];
    a.pad_right = w.pads[last + rank];
    if (w.spatial_rank == 2) {
      a.kernel_h = w.kernel[0];
      a.stride_h = w.strides[0];
      a.dilation_h = w.dilations[0];
      a.pad_top = w.pads[0];
      a.pad_bottom = w.pads[rank];
    }
  }

  // ---- converters ----------------------------------------------------------------------------------
  void convert_conv(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "X");
    const ValueId weights = required_input(ctx, 1, "W");
    const ValueId bias = input(ctx, 2);
    const Dims& xd = dims_of(x);
    const Dims& wd = dims_of(weights);
    if (xd.size() == 5 || wd.size() == 5) OCTET_UNSUPPORTED(ctx.where(), ": 3-D convolution: octet targets 2-D image CNNs");
    OCTET_CHECK(wd.size() == xd.size(), ctx.where(), ": weights ", to_string(wd), " do not fit input ", to_string(xd));
    const Dims kernel = ctx.get_ints("kernel_shape", Dims(wd.begin() + std::min<size_t>(2, wd.size()), wd.end()));
    ConvAttrs a;
    store_window(read_window(ctx, xd, kernel, "convolution"), a);
    a.group = ctx.get_int("group", 1);
    emit(ctx, OpKind::Conv, bias == kNoValue ? std::vector<ValueId>{x, weights} : std::vector<ValueId>{x, weights, bias},
         a);
  }

  void convert_pool(const NodeContext& ctx) {
    const bool is_max = ctx.proto().op_type() == "MaxPool";
    if (is_max) {
      refuse_extra_outputs(ctx, 1, "octet does not compute MaxPool indices");
      if (ctx.get_int("storage_order", 0) != 0)
        OCTET_UNSUPPORTED(ctx.where(), ": storage_order ", ctx.get_int("storage_order", 0),
                          " (column-major indices) is not supported");
    }
    const ValueId x = required_input(ctx, 0, "X");
    OCTET_CHECK(ctx.has("kernel_shape"), ctx.where(), ": attribute kernel_shape is required");
    PoolAttrs a;
    store_window(read_window(ctx, dims_of(x), ctx.get_ints("kernel_shape", {}), "pooling"), a);
    a.ceil_mode = ctx.get_int("ceil_mode", 0) != 0;
    a.count_include_pad = !is_max && ctx.get_int("count_include_pad", 0) != 0;
    emit(ctx, is_max ? OpKind::MaxPool : OpKind::AveragePool, {x}, a);
  }

  void convert_global_pool(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "X");
    const int64_t rank = rank_of(x);
    if (rank == 5) OCTET_UNSUPPORTED(ctx.where(), ": 3-D pooling: octet targets 2-D image CNNs");
    OCTET_CHECK(rank == 3 || rank == 4, ctx.where(), ": input ", to_string(dims_of(x)),
                " must be [N, C, L] or [N, C, H, W]");
    const bool is_max = ctx.proto().op_type() == "GlobalMaxPool";
    emit(ctx, is_max ? OpKind::GlobalMaxPool : OpKind::GlobalAveragePool, {x}, std::monostate{});
  }

  void convert_gemm(const NodeContext& ctx) {
    GemmAttrs a;
    a.trans_a = ctx.get_int("transA", 0) != 0;
    a.trans_b = ctx.get_int("transB", 0) != 0;
    a.alpha = ctx.get_float("alpha", 1.0f);
    a.beta = ctx.get_float("beta", 1.0f);
    const ValueId c = input(ctx, 2);
    std::vector<ValueId> inputs{required_input(ctx, 0, "A"), required_input(ctx, 1, "B")};
    if (c != kNoValue) inputs.push_back(c);
    emit(ctx, OpKind::Gemm, std::move(inputs), a);
  }

  void convert_matmul(const NodeContext& ctx) {
    GemmAttrs a;
    a.beta = 0.0f;
    emit(ctx, OpKind::MatMul, {required_input(ctx, 0, "A"), required_input(ctx, 1, "B")}, a);
  }

  void convert_binary(const NodeContext& ctx) {
    // Before opset 7, broadcasting was opt-in and could align B at `axis`; numpy rules cover the
    // default (trailing) alignment only.
    if (ctx.opset() < 7 && ctx.get_int("broadcast", 0) != 0 && ctx.has("axis"))
      OCTET_UNSUPPORTED(ctx.where(), ": legacy broadcasting with an axis attribute (opset < 7)");
    const std::string& op = ctx.proto().op_type();
    const OpKind kind = op == "Add" ? OpKind::Add : op == "Sub" ? OpKind::Sub : op == "Mul" ? OpKind::Mul : OpKind::Div;
    const ValueId a = required_input(ctx, 0, "A");
    const ValueId b = required_input(ctx, 1, "B");
    if (graph_.value(a).is_constant() && graph_.value(b).is_constant()) {
      add_constant(ctx.proto().output(0), fold_arithmetic(ctx, kind, *graph_.value(a).initializer,
                                                          *graph_.value(b).initializer),
                   detail::concat("node '", ctx.name(), "' (folded to a constant)"));
      return;
    }
    emit(ctx, kind, {a, b}, std::monostate{});
  }

  // Add/Sub/Mul/Div of two constants (shape arithmetic, mostly int64), numpy broadcasting. Integer
  // division truncates toward zero, as ONNX Runtime's; float32 uses the kernels' expression.
  Tensor fold_arithmetic(const NodeContext& ctx, OpKind kind, const Tensor& a, const Tensor& b) const {
    OCTET_CHECK(a.type() == b.type(), ctx.where(), ": operands of types ", to_string(a.type()), " and ",
                to_string(b.type()));
    const Dims dims = broadcast_dims(a.dims(), b.dims(), ctx.where());
    Tensor y(a.type(), dims);
    if (a.type() == DataType::kFloat32) {
      const kernels::BinaryOp op = kind == OpKind::Add   ? kernels::BinaryOp::kAdd
                                   : kind == OpKind::Sub ? kernels::BinaryOp::kSub
                                   : kind == OpKind::Mul ? kernels::BinaryOp::kMul
                                                         : kernels::BinaryOp::kDiv;
      kernels::binary_ref(op, a.data<float>(), a.dims(), b.data<float>(), b.dims(), y.data<float>());
      return y;
    }
    const auto apply = [&](auto* out, const auto* x, const auto* z) {
      const Dims sa = kernels::broadcast_strides(a.dims(), dims), sb = kernels::broadcast_strides(b.dims(), dims);
      for (int64_t i = 0; i < numel(dims); ++i) {
        const auto u = x[kernels::strided_offset(i, dims, sa)];
        const auto v = z[kernels::strided_offset(i, dims, sb)];
        if (kind == OpKind::Div) OCTET_CHECK(v != 0, ctx.where(), ": integer division by zero");
        out[i] = kind == OpKind::Add ? u + v : kind == OpKind::Sub ? u - v : kind == OpKind::Mul ? u * v : u / v;
      }
    };
    if (a.type() == DataType::kInt64) apply(y.data<int64_t>(), a.data<int64_t>(), b.data<int64_t>());
    else if (a.type() == DataType::kInt32) apply(y.data<int32_t>(), a.data<int32_t>(), b.data<int32_t>());
    else OCTET_UNSUPPORTED(ctx.where(), ": arithmetic on ", to_string(a.type()), " constants");
    return y;
  }

  ActivationParams clip_bounds(const NodeContext& ctx) const {
    ActivationParams p{Activation::kClip, std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
    if (ctx.opset() < 11) {
      p.alpha = ctx.get_float("min", p.alpha);
      p.beta = ctx.get_float("max", p.beta);
      return p;
    }
    if (!ctx.input_name(1).empty()) p.alpha = scalar_float(ctx, constant_input(ctx, 1, "min"), "min");
    if (!ctx.input_name(2).empty()) p.beta = scalar_float(ctx, constant_input(ctx, 2, "max"), "max");
    return p;
  }

  void convert_activation(const NodeContext& ctx) {
    const std::string& op = ctx.proto().op_type();
    const ValueId x = required_input(ctx, 0, "X");
    require_float(ctx, {x});  // before the Clip bounds: an int8 Clip is refused for its operand type
    ActivationParams p;
    OpKind kind = OpKind::Relu;
    if (op == "Relu") {
      p.kind = Activation::kRelu;
    } else if (op == "Clip") {
      kind = OpKind::Clip;
      p = clip_bounds(ctx);
    } else if (op == "LeakyRelu") {
      kind = OpKind::LeakyRelu;
      p = {Activation::kLeakyRelu, ctx.get_float("alpha", 0.01f), 0.0f};
    } else if (op == "Sigmoid") {
      kind = OpKind::Sigmoid;
      p.kind = Activation::kSigmoid;
    } else if (op == "HardSigmoid") {
      kind = OpKind::HardSigmoid;
      p = {Activation::kHardSigmoid, ctx.get_float("alpha", 0.2f), ctx.get_float("beta", 0.5f)};
    } else {
      kind = OpKind::HardSwish;
      p.kind = Activation::kHardSwish;
    }
    emit(ctx, kind, {x}, p);
  }

  void convert_batchnorm(const NodeContext& ctx) {
    if (ctx.get_int("training_mode", 0) != 0)
      OCTET_UNSUPPORTED(ctx.where(), ": training_mode=1; octet runs inference only");
    refuse_extra_outputs(ctx, 1, "running statistics are training outputs; octet runs inference only");
    if (ctx.get_int("spatial", 1) == 0)
      OCTET_UNSUPPORTED(ctx.where(), ": spatial=0 (per-element statistics, opset < 9)");
    BatchNormAttrs a;
    a.epsilon = ctx.get_float("epsilon", 1e-5f);
    std::vector<ValueId> inputs;
    static const char* const kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 5; ++i) inputs.push_back(required_input(ctx, i, kNames[i]));
    emit(ctx, OpKind::BatchNormalization, std::move(inputs), a);
  }

  void emit_reshape(const NodeContext& ctx, ValueId data, const ReshapeAttrs& a) {
    if (!fold_if_constant(ctx, data, OpKind::Reshape, a)) emit(ctx, OpKind::Reshape, {data}, a);
  }

  void convert_reshape(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "data");
    ReshapeAttrs a;
    a.rule = ReshapeAttrs::Rule::kShape;
    a.shape = ctx.opset() < 5 ? ctx.get_ints("shape", {}) : int_values(ctx, constant_input(ctx, 1, "shape"), "shape");
    a.allowzero = ctx.get_int("allowzero", 0) != 0;
    emit_reshape(ctx, data, a);
  }

  void convert_flatten(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "input");
    ReshapeAttrs a;
    a.rule = ReshapeAttrs::Rule::kFlatten;
    // Flatten's axis lies in [-r, r]: it may equal the rank (everything in the first dimension).
    const int64_t rank = rank_of(data);
    const int64_t axis = ctx.get_int("axis", 1);
    OCTET_CHECK(axis >= -rank && axis <= rank, ctx.where(), ": axis ", axis, " is out of range for rank ", rank);
    a.axis = axis < 0 ? axis + rank : axis;
    emit_reshape(ctx, data, a);
  }

  // Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13.
  Dims axes_of(const NodeContext& ctx, bool required) const {
    if (ctx.opset() < 13) {
      OCTET_CHECK(!required || ctx.has("axes"), ctx.where(), ": attribute axes is required");
      return ctx.get_ints("axes", {});
    }
    if (ctx.input_name(1).empty()) {
      OCTET_CHECK(!required, ctx.where(), ": input 1 (axes) is required");
      return {};
    }
    return int_values(ctx, constant_input(ctx, 1, "axes"), "axes");
  }

  Dims normalized_axes(const NodeContext& ctx, Dims axes, int64_t rank) const {
    for (int64_t& axis : axes) axis = normalize_axis(axis, rank, ctx.where(), "axis");
    std::sort(axes.begin(), axes.end());
    OCTET_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), ctx.where(), ": axes ",
                to_string(axes), " repeat an axis");
    return axes;
  }

  void convert_squeeze(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "data");
    ReshapeAttrs a;
    a.rule = ReshapeAttrs::Rule::kSqueeze;
    a.axes = normalized_axes(ctx, axes_of(ctx, false), rank_of(data));
    emit_reshape(ctx, data, a);
  }

  void convert_unsqueeze(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "data");
    ReshapeAttrs a;
    a.rule = ReshapeAttrs::Rule::kUnsqueeze;
    const Dims axes = axes_of(ctx, true);
    // Unsqueeze axes index the output, whose rank includes the inserted dimensions.
    a.axes = normalized_axes(ctx, axes, rank_of(data) + static_cast<int64_t>(axes.size()));
    emit_reshape(ctx, data, a);
  }

  void convert_transpose(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "data");
    TransposeAttrs a;
    Dims reversed;
    for (int64_t i = rank_of(data) - 1; i >= 0; --i) reversed.push_back(i);
    a.perm = ctx.get_ints("perm", reversed);
    emit(ctx, OpKind::Transpose, {data}, a);
  }

  void convert_concat(const NodeContext& ctx) {
    std::vector<ValueId> inputs;
    for (int i = 0; i < ctx.proto().input_size(); ++i) inputs.push_back(required_input(ctx, i, "inputs"));
    OCTET_CHECK(!inputs.empty(), ctx.where(), ": has no inputs");
    OCTET_CHECK(ctx.has("axis") || ctx.opset() < 4, ctx.where(), ": attribute axis is required");
    ConcatAttrs a;
    a.axis = normalize_axis(ctx.get_int("axis", 1), rank_of(inputs[0]), ctx.where(), "axis");
    if (std::all_of(inputs.begin(), inputs.end(), [&](ValueId id) { return graph_.value(id).is_constant(); })) {
      fold_concat(ctx, inputs, a.axis);  // shape vectors put together
      return;
    }
    emit(ctx, OpKind::Concat, std::move(inputs), a);
  }

  void fold_concat(const NodeContext& ctx, const std::vector<ValueId>& inputs, int64_t axis) {
    std::vector<const void*> data;
    std::vector<Dims> dims;
    for (ValueId id : inputs) {
      const Tensor& t = *graph_.value(id).initializer;
      OCTET_CHECK(t.type() == graph_.value(inputs[0]).type, ctx.where(), ": inputs of different types");
      data.push_back(t.raw());
      dims.push_back(t.dims());
    }
    const DataType type = graph_.value(inputs[0]).type;
    Tensor y(type, kernels::concat_output_dims(dims, axis));
    kernels::concat_ref(data, dims, axis, element_size(type), y.raw());
    add_constant(ctx.proto().output(0), std::move(y), detail::concat("node '", ctx.name(), "' (folded to a constant)"));
  }

  void convert_softmax(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "input");
    SoftmaxAttrs a;
    a.coerce_2d = ctx.opset() < 13;
    a.axis = normalize_axis(ctx.get_int("axis", a.coerce_2d ? 1 : -1), rank_of(x), ctx.where(), "axis");
    emit(ctx, OpKind::Softmax, {x}, a);
  }

  void convert_identity(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "input");
    if (!fold_if_constant(ctx, x, OpKind::Identity, std::monostate{}))
      emit(ctx, OpKind::Identity, {x}, std::monostate{});
  }

  // Dropout at inference is the identity. Training mode or the mask output are refused.
  void convert_dropout(const NodeContext& ctx) {
    refuse_extra_outputs(ctx, 1, "the dropout mask is a training output; octet runs inference only");
    if (ctx.opset() >= 12 && !ctx.input_name(2).empty()) {
      const Tensor& mode = constant_input(ctx, 2, "training_mode");
      OCTET_CHECK(mode.numel() == 1 && mode.type() == DataType::kBool, ctx.where(),
                  ": training_mode must be a bool scalar");
      if (mode.data<bool>()[0]) OCTET_UNSUPPORTED(ctx.where(), ": training_mode is true; octet runs inference only");
    }
    convert_identity(ctx);
  }

  void convert_pad(const NodeContext& ctx) {
    const ValueId data = required_input(ctx, 0, "data");
    require_float(ctx, {data});
    const std::string mode = ctx.get_string("mode", "constant");
    if (mode != "constant")
      OCTET_UNSUPPORTED(ctx.where(), ": mode '", mode, "' is not supported (octet pads with a constant only)");
    const int64_t rank = rank_of(data);
    PadAttrs a;
    if (ctx.opset() < 11) {
      a.pads = ctx.get_ints(ctx.opset() < 2 ? "paddings" : "pads", {});
      a.value = ctx.get_float("value", 0.0f);
    } else {
      a.pads = int_values(ctx, constant_input(ctx, 1, "pads"), "pads");
      if (!ctx.input_name(2).empty())
        a.value = scalar_float(ctx, constant_input(ctx, 2, "constant_value"), "constant_value");
      if (!ctx.input_name(3).empty()) a.pads = pads_for_axes(ctx, a.pads, rank);
    }
    OCTET_CHECK(static_cast<int64_t>(a.pads.size()) == 2 * rank, ctx.where(), ": pads ", to_string(a.pads),
                " must have ", 2 * rank, " entries for input ", to_string(dims_of(data)));
    emit(ctx, OpKind::Pad, {data}, a);
  }

  // Opset 18's axes input: pads cover only the listed axes; the others get 0.
  Dims pads_for_axes(const NodeContext& ctx, const Dims& pads, int64_t rank) const {
    Dims axes = int_values(ctx, constant_input(ctx, 3, "axes"), "axes");
    OCTET_CHECK(pads.size() == 2 * axes.size(), ctx.where(), ": pads ", to_string(pads), " must have ",
                2 * axes.size(), " entries for axes ", to_string(axes));
    Dims full(static_cast<size_t>(2 * rank), 0);
    const size_t n = axes.size();
    for (size_t i = 0; i < n; ++i) {
      const auto axis = static_cast<size_t>(normalize_axis(axes[i], rank, ctx.where(), "axis"));
      full[axis] = pads[i];
      full[axis + static_cast<size_t>(rank)] = pads[i + n];
    }
    return full;
  }

  void convert_constant(const NodeContext& ctx) {
    OCTET_CHECK(ctx.output_requested(0), ctx.where(), ": has no output");
    OCTET_CHECK(ctx.proto().attribute_size() == 1, ctx.where(), ": must have exactly one value attribute");
    const onnx::AttributeProto& attr = ctx.proto().attribute(0);
    const std::string& name = attr.name();
    Tensor value;
    if (name == "value") {
      value = tensor_from_proto(attr.t(), ctx.where() + " attribute 'value'");
    } else if (name == "value_float") {
      value = Tensor(DataType::kFloat32, {});
      value.data<float>()[0] = attr.f();
    } else if (name == "value_floats") {
      value = Tensor(DataType::kFloat32, {attr.floats_size()});
      std::copy(attr.floats().begin(), attr.floats().end(), value.data<float>());
    } else if (name == "value_int") {
      value = Tensor(DataType::kInt64, {});
      value.data<int64_t>()[0] = attr.i();
    } else if (name == "value_ints") {
      value = Tensor(DataType::kInt64, {attr.ints_size()});
      std::copy(attr.ints().begin(), attr.ints().end(), value.data<int64_t>());
    } else {
      OCTET_UNSUPPORTED(ctx.where(), ": attribute '", name, "' (sparse or string constants) is not supported");
    }
    const std::string& out_name = ctx.proto().output(0);
    OCTET_CHECK(!ids_.count(out_name), ctx.where(), ": output '", out_name, "' is already defined");
    add_constant(out_name, std::move(value), detail::concat("node '", ctx.name(), "' (Constant)"));
  }

  // ---- explicit quantization (QuantizeLinear / DequantizeLinear, opsets 10-21) ----------------------
  // Symmetric int8 only (what TensorRT and ONNX Runtime's symmetric quantization write): the scale a
  // positive finite float32 constant, a scalar or (opset 13+) one per index of `axis`; the zero point
  // absent (DequantizeLinear) or a constant of zeros, int8 (or int32 for a DequantizeLinear of int32
  // biases). On constants both fold (engine/qdq_constants.h) and the dequantized float constant keeps
  // its integers (Value::quantized); on activations they become octet's reformat nodes, the int8 value
  // carrying the scale (quantize/qdq_fusion.h later turns each Q -> DQ pair into a scale of the tensor).
  QdqScales read_qdq_scales(const NodeContext& ctx, ValueId x) const {
    const Tensor& scale = constant_input(ctx, 1, "scale");
    if (scale.type() != DataType::kFloat32)
      OCTET_UNSUPPORTED(ctx.where(), ": scale has type ", to_string(scale.type()), "; octet supports float32 scales");
    QdqScales q;
    q.scales.assign(scale.data<float>(), scale.data<float>() + scale.numel());
    OCTET_CHECK(!q.scales.empty(), ctx.where(), ": scale is empty");
    for (float s : q.scales)
      OCTET_CHECK(s > 0.0f && s <= std::numeric_limits<float>::max(), ctx.where(), ": scale ", s,
                  " is not a positive finite number (a zero scale would divide by zero)");
    if (ctx.get_int("block_size", 0) != 0)
      OCTET_UNSUPPORTED(ctx.where(), ": blocked quantization (block_size) is not supported");
    if (scale.rank() == 1 && scale.numel() > 1 && ctx.opset() >= 13) {
      q.axis = normalize_axis(ctx.get_int("axis", 1), rank_of(x), ctx.where(), "axis");
      const int64_t length = dims_of(x)[static_cast<size_t>(q.axis)];
      OCTET_CHECK(scale.numel() == length, ctx.where(), ": scale has ", scale.numel(), " entries but axis ", q.axis,
                  " of '", graph_.value(x).name, "' ", to_string(dims_of(x)), " has ", length);
    } else {  // one scale, given as a scalar or a 1-element vector (ONNX Runtime writes both): per tensor
      OCTET_CHECK(scale.numel() == 1, ctx.where(), ": scale must be a scalar (per-axis scales need opset 13), got dims ",
                  to_string(scale.dims()));
    }
    check_zero_point(ctx, q);
    return q;
  }

  void check_zero_point(const NodeContext& ctx, const QdqScales& q) const {
    const bool is_quantize = ctx.proto().op_type() == "QuantizeLinear";
    if (ctx.input_name(2).empty()) {
      // Without a zero point ONNX's QuantizeLinear writes uint8 (opset 21: unless output_dtype says).
      if (is_quantize && ctx.get_int("output_dtype", onnx::TensorProto_DataType_UINT8) != onnx::TensorProto_DataType_INT8)
        OCTET_UNSUPPORTED(ctx.where(), ": no zero point, so it quantizes to uint8; octet supports symmetric int8 "
                          "(zero point an int8 0)");
      return;
    }
    const Tensor& zero = constant_input(ctx, 2, "zero_point");
    if (zero.type() == DataType::kUInt8)
      OCTET_UNSUPPORTED(ctx.where(), ": uint8 quantization (zero point type uint8); octet supports symmetric int8 "
                        "with zero point 0 (ONNX Runtime: activation_type=QInt8, weight_type=QInt8, "
                        "ActivationSymmetric and WeightSymmetric)");
    OCTET_CHECK(zero.type() == DataType::kInt8 || (!is_quantize && zero.type() == DataType::kInt32), ctx.where(),
                ": zero point has type ", to_string(zero.type()), "; octet supports int8 (int32 for biases)");
    OCTET_CHECK(zero.numel() == static_cast<int64_t>(q.scales.size()), ctx.where(), ": zero point has ", zero.numel(),
                " entries for ", q.scales.size(), " scales");
    for (int64_t i = 0; i < zero.numel(); ++i) {
      const int64_t z = zero.type() == DataType::kInt8 ? zero.data<int8_t>()[i] : zero.data<int32_t>()[i];
      if (z != 0)
        OCTET_UNSUPPORTED(ctx.where(), ": zero point ", z, " (asymmetric quantization); octet supports symmetric int8 "
                          "quantization, zero point 0");
    }
  }

  void convert_quantize_linear(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "x");
    require_float(ctx, {x});
    const QdqScales q = read_qdq_scales(ctx, x);
    const Value& in = graph_.value(x);
    if (in.is_constant()) {  // weights quantized in the model (float weights -> Q -> DQ)
      add_constant(ctx.proto().output(0), quantize_constant(*in.initializer, q),
                   detail::concat("node '", ctx.name(), "' (folded to a constant)"));
      return;
    }
    if (q.per_axis())
      OCTET_UNSUPPORTED(ctx.where(), ": per-axis quantization of the activation '", in.name,
                        "'; octet quantizes activations per tensor");
    emit_typed(ctx, OpKind::QuantizeLinear, {x}, std::monostate{}, DataType::kInt8, q.scales[0]);
  }

  void convert_dequantize_linear(const NodeContext& ctx) {
    const ValueId x = required_input(ctx, 0, "x");
    const Value& in = graph_.value(x);
    if (in.type != DataType::kInt8 && !(in.is_constant() && in.type == DataType::kInt32))
      OCTET_UNSUPPORTED(ctx.where(), ": input '", in.name, "' has type ", to_string(in.type),
                        "; octet dequantizes symmetric int8 (and int32 bias constants)");
    const QdqScales q = read_qdq_scales(ctx, x);
    if (in.is_constant()) {
      const std::string out_name = ctx.proto().output(0);
      ConstantQuantization record{*in.initializer, q.scales, q.axis, ctx.name()};
      const ValueId id = add_constant(out_name, dequantize_constant(*in.initializer, q),
                                      detail::concat("node '", ctx.name(), "' (folded to a constant)"));
      graph_.value(id).quantized = std::move(record);
      return;
    }
    if (q.per_axis())
      OCTET_UNSUPPORTED(ctx.where(), ": per-axis dequantization of the activation '", in.name,
                        "'; octet quantizes activations per tensor");
    OCTET_CHECK(in.scale.has_value(), ctx.where(), ": reads '", in.name, "', an int8 tensor that no QuantizeLinear of "
                "this model produced; octet needs a QuantizeLinear before every DequantizeLinear of an activation");
    OCTET_CHECK(*in.scale == q.scales[0], ctx.where(), ": dequantizes '", in.name, "' with scale ", q.scales[0],
                " but it was quantized with scale ", *in.scale, "; octet needs the pair to use one scale");
    emit_typed(ctx, OpKind::DequantizeLinear, {x}, std::monostate{}, DataType::kFloat32, std::nullopt);
  }

  const onnx::ModelProto& model_;
  std::string origin_;
  const ImportOptions& options_;
  std::map<std::string, int64_t> domain_opsets_;
  int64_t opset_ = 0;
  Graph graph_;
  std::unordered_map<std::string, ValueId> ids_;  // ONNX tensor name -> value
  std::unordered_map<ValueId, std::string> producers_;  // for messages: "node 'conv1'", "an initializer"
};

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& context) {
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    OCTET_UNSUPPORTED(context, ": data is stored in an external file; octet reads self-contained models only "
                      "(save the model without external data)");
  if (proto.has_segment()) OCTET_UNSUPPORTED(context, ": segmented tensors are not supported");
  DataType type = DataType::kFloat32;
  if (!data_type_from_onnx(proto.data_type(), type))
    OCTET_UNSUPPORTED(context, ": type ", onnx_type_name(proto.data_type()),
                      " is not supported (float32, int8, uint8, int32, int64 and bool are)");
  Dims dims(proto.dims().begin(), proto.dims().end());
  for (int64_t d : dims) OCTET_CHECK(d >= 0, context, ": dims ", to_string(dims), " have a negative entry");
  Tensor tensor(type, dims);
  if (proto.has_raw_data()) {
    OCTET_CHECK(proto.raw_data().size() == tensor.bytes(), context, ": raw data holds ", proto.raw_data().size(),
                " bytes, dims ", to_string(dims), " of ", to_string(type), " need ", tensor.bytes());
    if (tensor.bytes() > 0) std::memcpy(tensor.raw(), proto.raw_data().data(), tensor.bytes());
    return tensor;
  }
  const int stored = typed_field_size(proto, type);
  OCTET_CHECK(stored == tensor.numel(), context, ": holds ", stored, " values, dims ", to_string(dims), " need ",
              tensor.numel());
  copy_typed_field(proto, tensor);
  return tensor;
}

Tensor read_tensor_proto_file(const std::string& path) {
  const std::string bytes = read_file(path);
  onnx::TensorProto proto;
  OCTET_CHECK(proto.ParseFromString(bytes), path, ": cannot parse as an ONNX TensorProto (truncated or another format)");
  return tensor_from_proto(proto, proto.name().empty() ? path : detail::concat(path, " (tensor '", proto.name(), "')"));
}

void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto& proto) {
  static const std::pair<DataType, int32_t> kTypes[] = {
      {DataType::kFloat32, onnx::TensorProto::FLOAT}, {DataType::kInt8, onnx::TensorProto::INT8},
      {DataType::kUInt8, onnx::TensorProto::UINT8},   {DataType::kInt32, onnx::TensorProto::INT32},
      {DataType::kInt64, onnx::TensorProto::INT64},   {DataType::kBool, onnx::TensorProto::BOOL}};
  proto.Clear();
  proto.set_name(name);
  for (const auto& [type, onnx_type] : kTypes)
    if (type == tensor.type()) proto.set_data_type(onnx_type);
  for (int64_t d : tensor.dims()) proto.add_dims(d);
  proto.set_raw_data(tensor.raw(), tensor.bytes());
}

Graph import_onnx_bytes(const std::string& bytes, const std::string& origin, const ImportOptions& options) {
  onnx::ModelProto model;
  OCTET_CHECK(model.ParseFromString(bytes), origin,
              ": cannot parse as an ONNX model (the file is truncated or not in ONNX format)");
  OCTET_CHECK(model.has_graph() && model.graph().node_size() > 0, origin,
              ": not an ONNX model (it holds no graph nodes; the file may be truncated or in another format)");
  // A bound input becomes an initializer of the same name; the importer treats an input that has an
  // initializer as a constant.
  for (const auto& [name, value] : options.constant_inputs) {
    const auto& inputs = model.graph().input();
    const bool is_input = std::any_of(inputs.begin(), inputs.end(), [&](const auto& in) { return in.name() == name; });
    OCTET_CHECK(is_input, origin, ": cannot bind '", name, "' to a constant: the model has no input of that name");
    tensor_to_proto(value, name, *model.mutable_graph()->add_initializer());
  }
  return Importer(model, origin, options).run();
}

Graph import_onnx_file(const std::string& path, const ImportOptions& options) {
  return import_onnx_bytes(read_file(path), path, options);
}

std::map<std::string, Dims> parse_input_shapes(const std::string& text) {
  std::map<std::string, Dims> shapes;
  std::stringstream entries(text);
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    // The name may itself hold ':' (e.g. "input:0"): the dims follow the last one.
    const size_t colon = entry.rfind(':');
    OCTET_CHECK(colon != std::string::npos && colon > 0 && colon + 1 < entry.size(), "--shapes entry '", entry,
                "' is not name:dims (e.g. images:1x3x640x640)");
    Dims dims;
    std::stringstream parts(entry.substr(colon + 1));
    std::string part;
    while (std::getline(parts, part, 'x')) {
      char* end = nullptr;
      const long long v = std::strtoll(part.c_str(), &end, 10);
      OCTET_CHECK(!part.empty() && end != nullptr && *end == '\0' && v >= 1, "--shapes entry '", entry,
                  "': dim '", part, "' is not a positive integer");
      dims.push_back(v);
    }
    OCTET_CHECK(shapes.emplace(entry.substr(0, colon), dims).second, "--shapes names '", entry.substr(0, colon),
                "' twice");
  }
  return shapes;
}

const std::vector<std::string>& supported_onnx_operators() {
  static const std::vector<std::string> names = Importer::operator_names();
  return names;
}

}  // namespace octet
