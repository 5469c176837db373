// Builds ONNX models in tests, without Python or files checked into the repository.
//
// Header-only; link the test with onnx_proto and protobuf (octet_test() does). Example:
//
//   octet::test::ModelBuilder b(/*opset=*/17);
//   b.input("x", {octet::test::kSymbolicDim, 3, 8, 8})          // dim 0 symbolic: a batched input
//    .initializer("w", {4, 3, 3, 3}, std::vector<float>(108, 0.5f))
//    .output("y", {octet::test::kSymbolicDim, 4, 6, 6});
//   b.node("Conv", {"x", "w"}, {"y"}, "conv1").attr_ints("kernel_shape", {3, 3});
//   std::string path = b.write(octet::test::temp_path("conv.onnx"));
//
// Dims given to input()/output()/value_info() are concrete values, or kSymbolicDim (a dim_param
// named "N") or kUnknownDim (a dim with neither value nor param). Tensors are written with typed
// fields (float_data, int64_data, ...) unless Storage::kRaw asks for raw_data.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

namespace octet::test {

inline constexpr int64_t kSymbolicDim = -1;
inline constexpr int64_t kUnknownDim = -2;

enum class Storage { kTyped, kRaw };

// The ONNX element type of a C++ type.
template <typename T>
constexpr onnx::TensorProto_DataType onnx_type_of() {
  if constexpr (std::is_same_v<T, float>) return onnx::TensorProto_DataType_FLOAT;
  else if constexpr (std::is_same_v<T, int8_t>) return onnx::TensorProto_DataType_INT8;
  else if constexpr (std::is_same_v<T, uint8_t>) return onnx::TensorProto_DataType_UINT8;
  else if constexpr (std::is_same_v<T, int32_t>) return onnx::TensorProto_DataType_INT32;
  else if constexpr (std::is_same_v<T, int64_t>) return onnx::TensorProto_DataType_INT64;
  else if constexpr (std::is_same_v<T, bool>) return onnx::TensorProto_DataType_BOOL;
  else static_assert(!sizeof(T), "no ONNX element type for this C++ type");
}

// A TensorProto holding `values` with `dims`. The element count is not checked, so tests can
// build inconsistent tensors on purpose.
template <typename T>
onnx::TensorProto make_tensor(const std::string& name, const std::vector<int64_t>& dims, const std::vector<T>& values,
                              Storage storage = Storage::kTyped) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx_type_of<T>());
  for (int64_t d : dims) t.add_dims(d);
  if (storage == Storage::kRaw) {
    std::string raw(values.size() * sizeof(T), '\0');
    for (size_t i = 0; i < values.size(); ++i) {
      const T v = values[i];
      std::memcpy(&raw[i * sizeof(T)], &v, sizeof(T));  // little-endian host, as ONNX stores it
    }
    t.set_raw_data(raw);
    return t;
  }
  for (const T& v : values) {
    if constexpr (std::is_same_v<T, float>) t.add_float_data(v);
    else if constexpr (std::is_same_v<T, int64_t>) t.add_int64_data(v);
    else t.add_int32_data(static_cast<int32_t>(v));  // int8/uint8/int32/bool share int32_data
  }
  return t;
}

// Attribute setters for a node added with ModelBuilder::node(). Valid while the builder lives.
class NodeRef {
 public:
  explicit NodeRef(onnx::NodeProto* node) : node_(node) {}

  NodeRef& attr_int(const std::string& name, int64_t value) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_INT);
    a->set_i(value);
    return *this;
  }
  NodeRef& attr_float(const std::string& name, float value) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(value);
    return *this;
  }
  NodeRef& attr_string(const std::string& name, const std::string& value) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_STRING);
    a->set_s(value);
    return *this;
  }
  NodeRef& attr_ints(const std::string& name, const std::vector<int64_t>& values) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_INTS);
    for (int64_t v : values) a->add_ints(v);
    return *this;
  }
  NodeRef& attr_floats(const std::string& name, const std::vector<float>& values) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_FLOATS);
    for (float v : values) a->add_floats(v);
    return *this;
  }
  NodeRef& attr_tensor(const std::string& name, const onnx::TensorProto& value) {
    auto* a = add(name, onnx::AttributeProto_AttributeType_TENSOR);
    *a->mutable_t() = value;
    return *this;
  }
  NodeRef& domain(const std::string& domain) {
    node_->set_domain(domain);
    return *this;
  }
  onnx::NodeProto& proto() { return *node_; }

 private:
  onnx::AttributeProto* add(const std::string& name, onnx::AttributeProto_AttributeType type) {
    auto* a = node_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }

  onnx::NodeProto* node_;
};

class ModelBuilder {
 public:
  // A model importing the default domain at `opset`, IR version 8, producer "octet-tests".
  explicit ModelBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    model_.set_producer_name("octet-tests");
    model_.mutable_graph()->set_name("test_graph");
    this->opset(opset);
  }

  // Sets (or adds) the opset imported for `domain` ("" is the default ONNX domain).
  ModelBuilder& opset(int64_t version, const std::string& domain = "") {
    for (auto& op : *model_.mutable_opset_import())
      if (op.domain() == domain) {
        op.set_version(version);
        return *this;
      }
    auto* op = model_.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
    return *this;
  }
  ModelBuilder& producer(const std::string& name) {
    model_.set_producer_name(name);
    return *this;
  }
  ModelBuilder& metadata(const std::string& key, const std::string& value) {
    auto* p = model_.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
    return *this;
  }

  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims,
                      onnx::TensorProto_DataType type = onnx::TensorProto_DataType_FLOAT) {
    fill_value_info(model_.mutable_graph()->add_input(), name, &dims, type);
    return *this;
  }
  ModelBuilder& input_without_shape(const std::string& name,
                                    onnx::TensorProto_DataType type = onnx::TensorProto_DataType_FLOAT) {
    fill_value_info(model_.mutable_graph()->add_input(), name, nullptr, type);
    return *this;
  }
  ModelBuilder& output(const std::string& name, const std::vector<int64_t>& dims,
                       onnx::TensorProto_DataType type = onnx::TensorProto_DataType_FLOAT) {
    fill_value_info(model_.mutable_graph()->add_output(), name, &dims, type);
    return *this;
  }
  ModelBuilder& output_without_shape(const std::string& name,
                                     onnx::TensorProto_DataType type = onnx::TensorProto_DataType_FLOAT) {
    fill_value_info(model_.mutable_graph()->add_output(), name, nullptr, type);
    return *this;
  }
  // Declares the shape of an intermediate tensor (graph.value_info).
  ModelBuilder& value_info(const std::string& name, const std::vector<int64_t>& dims,
                           onnx::TensorProto_DataType type = onnx::TensorProto_DataType_FLOAT) {
    fill_value_info(model_.mutable_graph()->add_value_info(), name, &dims, type);
    return *this;
  }

  ModelBuilder& initializer(const onnx::TensorProto& tensor) {
    *model_.mutable_graph()->add_initializer() = tensor;
    return *this;
  }
  template <typename T>
  ModelBuilder& initializer(const std::string& name, const std::vector<int64_t>& dims, const std::vector<T>& values,
                            Storage storage = Storage::kTyped) {
    return initializer(make_tensor<T>(name, dims, values, storage));
  }
  // Also lists an initializer among the graph inputs (what exporters before IR 4 did).
  ModelBuilder& initializer_as_input(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<float>& values) {
    initializer<float>(name, dims, values);
    return input(name, dims);
  }

  // Appends a node; an empty input name is an omitted optional input.
  NodeRef node(const std::string& op_type, const std::vector<std::string>& inputs,
               const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const auto& in : inputs) n->add_input(in);
    for (const auto& out : outputs) n->add_output(out);
    return NodeRef(n);
  }

  onnx::ModelProto& model() { return model_; }
  const onnx::ModelProto& model() const { return model_; }

  std::string bytes() const {
    std::string out;
    if (!model_.SerializeToString(&out)) throw std::runtime_error("onnx_builder: cannot serialize the model");
    return out;
  }
  // Writes the serialized model to `path` and returns the path.
  std::string write(const std::string& path) const;

 private:
  static void fill_value_info(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>* dims,
                              onnx::TensorProto_DataType type) {
    info->set_name(name);
    auto* tensor_type = info->mutable_type()->mutable_tensor_type();
    tensor_type->set_elem_type(type);
    if (!dims) return;
    auto* shape = tensor_type->mutable_shape();
    for (int64_t d : *dims) {
      auto* dim = shape->add_dim();
      if (d == kSymbolicDim) dim->set_dim_param("N");
      else if (d != kUnknownDim) dim->set_dim_value(d);
    }
  }

  onnx::ModelProto model_;
};

// Writes bytes to a file; throws std::runtime_error when it cannot.
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("onnx_builder: cannot write " + path);
}

inline std::string ModelBuilder::write(const std::string& path) const {
  write_file(path, bytes());
  return path;
}

// A path for `file_name` in a per-process folder under the system temp directory (created on first
// use), so tests running in parallel do not overwrite each other's files.
inline std::string temp_path(const std::string& file_name) {
  const auto dir = std::filesystem::temp_directory_path() / ("octet-tests-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / file_name).string();
}

}  // namespace octet::test
