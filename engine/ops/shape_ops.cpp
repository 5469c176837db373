// The operators of shape sub-graphs: Shape, Size, ConstantOfShape, Range and Cast. Once the input
// shapes are fixed at import (ImportOptions: --shapes, --batch), each of them has constant inputs or
// reads only dims, so the importer replaces it by its value (constant folding, engine/op_registry.h):
// backends never see them. A Cast between float32 tensors is the identity and becomes no node; a Cast
// of a runtime activation to another type is refused (octet's activations are float32).
//
//   Shape            int64 [rank] = the input's dims; opset 15 `start`/`end` slice them (negative
//                    counts from the back, clamped to [0, rank]).
//   Size             int64 scalar = the input's element count.
//   ConstantOfShape  a tensor of the dims given by its int64 input, every element the `value`
//                    attribute's one element (default float32 0).
//   Range            [start, start + delta, ...) below `limit` (above it for a negative delta):
//                    max(ceil((limit - start) / delta), 0) elements, computed in the inputs' type.
//   Cast             each element converted to `to`: float -> integer truncates toward zero (C++'s
//                    conversion, as ONNX Runtime), integer -> float rounds to nearest, any -> bool is
//                    x != 0.
#include <cmath>
#include <cstring>

#include "engine/op_registry.h"

namespace octet {
namespace {

// The ONNX TensorProto.DataType codes octet stores.
bool data_type_from_onnx_code(int64_t code, DataType& type) {
  switch (code) {
    case 1: type = DataType::kFloat32; return true;
    case 2: type = DataType::kUInt8; return true;
    case 3: type = DataType::kInt8; return true;
    case 6: type = DataType::kInt32; return true;
    case 7: type = DataType::kInt64; return true;
    case 9: type = DataType::kBool; return true;
    default: return false;
  }
}

Tensor int64_vector(const Dims& values) {
  Tensor t(DataType::kInt64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

// ---- Shape, Size ------------------------------------------------------------------------------------
void import_shape(OnnxNode& node) {
  const Dims& dims = node.dims(node.required_input(0, "data"));
  const auto rank = static_cast<int64_t>(dims.size());
  const auto clamp = [&](int64_t v) { return std::min(std::max(v < 0 ? v + rank : v, int64_t{0}), rank); };
  const int64_t start = clamp(node.get_int("start", 0));
  const int64_t end = clamp(node.get_int("end", rank));
  node.emit_constant(0, int64_vector(start < end ? Dims(dims.begin() + start, dims.begin() + end) : Dims{}));
}

void import_size(OnnxNode& node) {
  Tensor t(DataType::kInt64, {});
  t.data<int64_t>()[0] = numel(node.dims(node.required_input(0, "data")));
  node.emit_constant(0, std::move(t));
}

// ---- ConstantOfShape -----------------------------------------------------------------------------
void import_constant_of_shape(OnnxNode& node) {
  const Dims dims = int_values(node, node.constant_input(0, "input"), "input");
  for (int64_t d : dims) OCTET_CHECK(d >= 0, node.where(), ": dims ", to_string(dims), " have a negative entry");
  Tensor value(DataType::kFloat32, {1});  // ONNX's default: float32 0
  if (node.has("value")) value = node.get_tensor("value");
  OCTET_CHECK(value.numel() == 1, node.where(), ": attribute 'value' must hold one element, it holds ", value.numel());
  Tensor out(value.type(), dims);
  const size_t size = element_size(value.type());
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(static_cast<char*>(out.raw()) + i * size, value.raw(), size);
  node.emit_constant(0, std::move(out));
}

// ---- Range -----------------------------------------------------------------------------------------
template <typename T>
Tensor range_of(T start, T limit, T delta) {
  const double count = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
  const auto n = static_cast<int64_t>(std::max(count, 0.0));
  Tensor out(data_type_of<T>(), {n});
  for (int64_t i = 0; i < n; ++i) out.data<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  return out;
}

void import_range(OnnxNode& node) {
  const Tensor& start = node.constant_input(0, "start");
  const Tensor& limit = node.constant_input(1, "limit");
  const Tensor& delta = node.constant_input(2, "delta");
  for (const Tensor* t : {&start, &limit, &delta})
    OCTET_CHECK(t->numel() == 1 && t->type() == start.type(), node.where(), ": start, limit and delta must be "
                "scalars of one type");
  switch (start.type()) {
    case DataType::kFloat32: {
      const float d = delta.data<float>()[0];
      OCTET_CHECK(d != 0.0f, node.where(), ": delta is 0");
      node.emit_constant(0, range_of<float>(start.data<float>()[0], limit.data<float>()[0], d));
      return;
    }
    case DataType::kInt64: {
      const int64_t d = delta.data<int64_t>()[0];
      OCTET_CHECK(d != 0, node.where(), ": delta is 0");
      node.emit_constant(0, range_of<int64_t>(start.data<int64_t>()[0], limit.data<int64_t>()[0], d));
      return;
    }
    case DataType::kInt32: {
      const int32_t d = delta.data<int32_t>()[0];
      OCTET_CHECK(d != 0, node.where(), ": delta is 0");
      node.emit_constant(0, range_of<int32_t>(start.data<int32_t>()[0], limit.data<int32_t>()[0], d));
      return;
    }
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kBool: break;
  }
  OCTET_UNSUPPORTED(node.where(), ": Range of ", to_string(start.type()), " (float32, int32 and int64 are supported)");
}

// ---- Cast ------------------------------------------------------------------------------------------
template <typename To, typename From>
void convert(const void* in, void* out, int64_t n) {
  const From* x = static_cast<const From*>(in);
  To* y = static_cast<To*>(out);
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, bool>) y[i] = x[i] != From{};
    else y[i] = static_cast<To>(x[i]);
  }
}

template <typename To>
void convert_from(DataType from, const void* in, void* out, int64_t n) {
  switch (from) {
    case DataType::kFloat32: convert<To, float>(in, out, n); return;
    case DataType::kInt8: convert<To, int8_t>(in, out, n); return;
    case DataType::kUInt8: convert<To, uint8_t>(in, out, n); return;
    case DataType::kInt32: convert<To, int32_t>(in, out, n); return;
    case DataType::kInt64: convert<To, int64_t>(in, out, n); return;
    case DataType::kBool: convert<To, bool>(in, out, n); return;
  }
}

void run_cast_cpu(const OpKernelArgs& a) {
  const int64_t n = numel(a.out_dims());
  switch (a.out_type()) {
    case DataType::kFloat32: convert_from<float>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
    case DataType::kInt8: convert_from<int8_t>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
    case DataType::kUInt8: convert_from<uint8_t>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
    case DataType::kInt32: convert_from<int32_t>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
    case DataType::kInt64: convert_from<int64_t>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
    case DataType::kBool: convert_from<bool>(a.in_type(0), a.inputs[0], a.outputs[0], n); return;
  }
}

DataType cast_target(const OpAttributes& attrs) { return static_cast<DataType>(attrs.i("to")); }

void import_cast(OnnxNode& node) {
  const ValueId x = node.required_input(0, "input");
  const int64_t code = node.get_int("to", -1);
  DataType to = DataType::kFloat32;
  if (!data_type_from_onnx_code(code, to))
    OCTET_UNSUPPORTED(node.where(), ": attribute 'to' = ", code, " (an ONNX type octet does not store; float, int8, "
                      "uint8, int32, int64 and bool are)");
  const Value& in = node.value(x);
  if (in.type == to && !in.is_constant()) {
    node.emit_alias(x);
    return;
  }
  if (!in.is_constant())
    OCTET_UNSUPPORTED(node.where(), ": casts the run-time tensor '", in.name, "' from ", to_string(in.type), " to ",
                      to_string(to), "; octet computes activations in float32");
  node.emit(OpKind::Cast, {x}, OpAttributes().set("to", static_cast<int64_t>(to)));
}

std::vector<DataType> cast_types(const Graph&, const Node& node) {
  return {cast_target(std::get<OpAttributes>(node.attrs))};
}

std::vector<Dims> same_dims(const Graph& graph, const Node& node) { return {graph.value(node.inputs[0]).dims}; }

}  // namespace

const OpDef& define_Shape() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Shape"};
    d.import = import_shape;
    return d;
  }();
  return def;
}

const OpDef& define_Size() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Size"};
    d.import = import_size;
    return d;
  }();
  return def;
}

const OpDef& define_ConstantOfShape() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"ConstantOfShape"};
    d.import = import_constant_of_shape;
    return d;
  }();
  return def;
}

const OpDef& define_Range() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Range"};
    d.import = import_range;
    return d;
  }();
  return def;
}

const OpDef& define_Cast() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"Cast"};
    d.import = import_cast;
    d.types = OpDef::Types::kCustom;
    d.infer = same_dims;
    d.output_types = cast_types;
    d.run_cpu = run_cast_cpu;
    d.calibrated = false;
    return d;
  }();
  return def;
}

}  // namespace octet
