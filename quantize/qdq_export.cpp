#include "quantize/qdq_export.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "kernels/cpu/int8_ref.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "quantize/weight_quantization.h"

namespace octet {
namespace {

constexpr int64_t kPerChannelOpset = 13;  // DequantizeLinear's axis attribute
constexpr int64_t kPerTensorOpset = 10;   // QuantizeLinear/DequantizeLinear themselves

// The model tensor behind a value of the INT8 graph: a reformat output "<T>:int8" is T.
std::string model_tensor_name(const std::string& value_name) {
  const std::string suffix = ":int8";
  const bool copy = value_name.size() > suffix.size() &&
                    value_name.compare(value_name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return copy ? value_name.substr(0, value_name.size() - suffix.size()) : value_name;
}

int64_t default_domain_opset(const onnx::ModelProto& model) {
  for (const auto& import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx") return import.version();
  return 0;
}

int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

// An activation tensor of the model that the INT8 engine reads quantized.
struct ActivationQdq {
  float scale = 1.0f;
  // The engine writes the tensor int8, so every reader sees the quantized value; otherwise it quantizes
  // a copy for its INT8 readers only, named here (node names, the model's).
  bool all_readers = true;
  std::set<std::string> readers;
};

// Reads the activation placement off the built graph (see the header).
std::map<std::string, ActivationQdq> place_activations(const Graph& int8_graph) {
  std::vector<int> producer(int8_graph.values.size(), -1);
  for (size_t n = 0; n < int8_graph.nodes.size(); ++n)
    for (ValueId out : int8_graph.nodes[n].outputs)
      if (out != kNoValue) producer[static_cast<size_t>(out)] = static_cast<int>(n);
  std::map<std::string, ActivationQdq> placement;
  for (size_t id = 0; id < int8_graph.values.size(); ++id) {
    const Value& value = int8_graph.values[id];
    // Graph inputs stay float32, so an int8 activation has a producer; a value without one is a leftover of
    // the builder's rewrites that nothing computes.
    if (value.is_constant() || value.type != DataType::kInt8 || !value.scale || producer[id] < 0) continue;
    const std::string tensor = model_tensor_name(value.name);
    ActivationQdq& qdq = placement[tensor];
    qdq.scale = *value.scale;
    const Node& writer = int8_graph.nodes[static_cast<size_t>(producer[id])];
    const bool quantized_copy =
        writer.op == OpKind::QuantizeLinear && int8_graph.value(writer.inputs[0]).name == tensor;
    qdq.all_readers = !quantized_copy;
    if (quantized_copy)
      for (const Node& node : int8_graph.nodes)
        for (ValueId in : node.inputs)
          if (in == static_cast<ValueId>(id)) qdq.readers.insert(node.name);
  }
  return placement;
}

// Rewrites the model proto in place; one instance per export.
class QdqRewriter {
 public:
  QdqRewriter(onnx::ModelProto& model, std::string path, const Graph& imported, const QdqExportOptions& options,
              QdqExportReport& report)
      : graph_(*model.mutable_graph()), path_(std::move(path)), imported_(imported),
        options_(options), report_(report) {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const onnx::NodeProto& node = graph_.node(i);
      // The importer's name for an unnamed node (engine/onnx_import.cpp), which the IR keeps.
      node_index_.emplace(node.name().empty() ? node.op_type() + "_" + std::to_string(i) : node.name(), i);
      used_names_.insert(node.name());
      for (const std::string& out : node.output()) {
        producer_.emplace(out, i);
        used_names_.insert(out);
      }
      for (const std::string& in : node.input()) {
        ++readers_[in];
        used_names_.insert(in);
      }
    }
    for (const auto& v : graph_.input()) {
      graph_inputs_.insert(v.name());
      used_names_.insert(v.name());
    }
    for (const auto& v : graph_.output()) {
      ++readers_[v.name()];
      used_names_.insert(v.name());
    }
    for (const auto& v : graph_.value_info()) used_names_.insert(v.name());
    for (const auto& t : graph_.initializer()) used_names_.insert(t.name());
    before_.resize(static_cast<size_t>(graph_.node_size()));
    after_.resize(static_cast<size_t>(graph_.node_size()));
  }

  void quantize_weights_of(const Node& layer, const Graph& int8_graph) {
    const int index = model_node(layer.name);
    onnx::NodeProto& node = *graph_.mutable_node(index);
    OCTET_CHECK(node.op_type() == to_string(layer.op) && node.input_size() >= 2, path_, ": node '", layer.name,
                "' is a ", node.op_type(), " in the model and a ", to_string(layer.op), " in octet's INT8 graph");
    const std::string weight = node.input(1);
    // Rows are output channels in the engine's layout; a Gemm with transB = 0 keeps [K_in, N_out].
    const bool rows_are_channels = layer.op == OpKind::Conv || int_attribute(node, "transB", 0) != 0;
    const Value& engine_weights = int8_graph.value(layer.inputs.at(1));
    const std::string reason = requantize_reason(layer, weight, model_tensor_name(engine_weights.name));

    QuantizedWeights q;
    if (!options_.per_channel_weights) {
      const Tensor& w = float_weights(weight, layer.name);
      q.weights = Tensor(DataType::kInt8, w.dims());
      q.scales = kernels::quantize_weights_per_channel(w.data<float>(), 1, w.numel(), q.weights.data<int8_t>());
    } else if (reason.empty()) {
      q = {*engine_weights.initializer, layer.weight_scales};
    } else {
      const Tensor& w = float_weights(weight, layer.name);
      q = layer.op == OpKind::Conv ? quantize_conv_weights(w) : quantize_gemm_weights(w, rows_are_channels);
      report_.notes.push_back("weight '" + weight + "' of '" + layer.name + "': " + reason +
                              "; its int8 weights are the model's own float weights quantized per output channel");
      ++report_.weights_requantized;
    }
    if (options_.per_channel_weights && !rows_are_channels) {
      Tensor kn(DataType::kInt8, {q.weights.dims()[1], q.weights.dims()[0]});
      kernels::transpose_ref(q.weights.raw(), q.weights.dims(), {1, 0}, 1, kn.raw());
      q.weights = std::move(kn);
    }
    const Dims scale_dims = options_.per_channel_weights ? Dims{static_cast<int64_t>(q.scales.size())} : Dims{};
    onnx::NodeProto dq = dequantize_node(weight, add_initializer(weight + "_quantized", q.weights),
                                         add_scale(weight, scale_dims, q.scales));
    if (options_.per_channel_weights) {
      onnx::AttributeProto* axis = dq.add_attribute();
      axis->set_name("axis");
      axis->set_type(onnx::AttributeProto::INT);
      axis->set_i(rows_are_channels ? 0 : 1);
    }
    node.set_input(1, dq.output(0));
    replaced_weights_.insert(weight);
    before_[static_cast<size_t>(index)].push_back(std::move(dq));
    ++report_.weights;
  }

  void quantize_activation(const std::string& tensor, const ActivationQdq& qdq) {
    const auto producer = producer_.find(tensor);
    OCTET_CHECK(producer != producer_.end() || graph_inputs_.count(tensor), path_, ": tensor '", tensor,
                "' of octet's INT8 graph is neither a node output nor a graph input of the model");
    onnx::NodeProto q;
    q.set_op_type("QuantizeLinear");
    q.set_name(unique(tensor + "_QuantizeLinear"));
    q.add_input(tensor);
    const std::vector<std::string> scale = add_scale(tensor, {}, {qdq.scale});
    q.add_input(scale[0]);
    q.add_input(scale[1]);
    q.add_output(unique(tensor + "_quantized"));
    onnx::NodeProto dq = dequantize_node(tensor, q.output(0), scale);
    std::vector<onnx::NodeProto>& at = producer == producer_.end() ? first_ : after_[static_cast<size_t>(producer->second)];
    at.push_back(std::move(q));
    at.push_back(dq);
    dequantized_[tensor] = {dq.output(0), qdq.all_readers, reader_nodes(qdq.readers)};
    ++report_.activations;
  }

  // Rewires the readers, puts the new nodes in place and drops the float weights nobody reads.
  void finish() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      onnx::NodeProto& node = *graph_.mutable_node(i);
      for (int j = 0; j < node.input_size(); ++j) {
        const auto d = dequantized_.find(node.input(j));
        if (d != dequantized_.end() && (d->second.all_readers || d->second.readers.count(i)))
          node.set_input(j, d->second.name);
      }
    }
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (onnx::NodeProto& n : first_) *nodes.Add() = std::move(n);
    for (int i = 0; i < graph_.node_size(); ++i) {
      for (onnx::NodeProto& n : before_[static_cast<size_t>(i)]) *nodes.Add() = std::move(n);
      *nodes.Add() = std::move(*graph_.mutable_node(i));
      for (onnx::NodeProto& n : after_[static_cast<size_t>(i)]) *nodes.Add() = std::move(n);
    }
    graph_.mutable_node()->Swap(&nodes);
    remove_unread_weights();
  }

 private:
  struct Dequantized {
    std::string name;
    bool all_readers = true;
    std::set<int> readers;  // model node indices, when not all
  };

  int model_node(const std::string& name) const {
    const auto it = node_index_.find(name);
    OCTET_CHECK(it != node_index_.end(), path_, ": node '", name, "' of octet's INT8 graph is not in the model");
    return it->second;
  }

  std::set<int> reader_nodes(const std::set<std::string>& names) const {
    std::set<int> indices;
    for (const std::string& name : names) indices.insert(model_node(name));
    return indices;
  }

  // Why the engine's int8 weights cannot stand for the model's weight (empty: they can).
  std::string requantize_reason(const Node& layer, const std::string& weight, const std::string& engine_name) const {
    const auto readers = readers_.find(weight);
    if (readers != readers_.end() && readers->second > 1)
      return "it is shared with " + std::to_string(readers->second - 1) + " other reader(s)";
    if (engine_name == weight) return "";
    std::string folded;
    for (const std::string& f : layer.fused_nodes) {
      const auto it = node_index_.find(f);
      if (it != node_index_.end() && graph_.node(it->second).op_type() == "BatchNormalization")
        folded += (folded.empty() ? "'" : ", '") + f + "'";
    }
    return folded.empty() ? "octet's engine computes the layer with other weights ('" + engine_name + "')"
                          : "octet folds " + folded + " into the layer (the BatchNormalization stays a float node of "
                            "the exported model)";
  }

  const Tensor& float_weights(const std::string& weight, const std::string& layer) const {
    const ValueId id = imported_.find_value(weight);
    OCTET_CHECK(id != kNoValue && imported_.value(id).is_constant() &&
                    imported_.value(id).type == DataType::kFloat32,
                path_, ": weight '", weight, "' of '", layer, "' is not a float32 constant of the model");
    return *imported_.value(id).initializer;
  }

  std::string unique(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_names_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_names_.insert(name);
    return name;
  }

  std::string add_initializer(const std::string& base, const Tensor& tensor) {
    const std::string name = unique(base);
    tensor_to_proto(tensor, name, *graph_.add_initializer());
    return name;
  }

  // {scale, zero point} initializers for `tensor`: the scales as given, zero points int8 0.
  std::vector<std::string> add_scale(const std::string& tensor, const Dims& dims, const std::vector<float>& scales) {
    Tensor scale(DataType::kFloat32, dims);
    std::copy(scales.begin(), scales.end(), scale.data<float>());
    return {add_initializer(tensor + "_scale", scale),
            add_initializer(tensor + "_zero_point", Tensor(DataType::kInt8, dims))};
  }

  onnx::NodeProto dequantize_node(const std::string& tensor, const std::string& quantized,
                                  const std::vector<std::string>& scale) {
    onnx::NodeProto dq;
    dq.set_op_type("DequantizeLinear");
    dq.set_name(unique(tensor + "_DequantizeLinear"));
    dq.add_input(quantized);
    dq.add_input(scale[0]);
    dq.add_input(scale[1]);
    dq.add_output(unique(tensor + "_dequantized"));
    return dq;
  }

  void remove_unread_weights() {
    std::unordered_set<std::string> read;
    for (const auto& node : graph_.node()) read.insert(node.input().begin(), node.input().end());
    for (const auto& out : graph_.output()) read.insert(out.name());
    auto drop = [&](auto& field) {
      for (int i = field.size() - 1; i >= 0; --i)
        if (replaced_weights_.count(field.Get(i).name()) && !read.count(field.Get(i).name())) field.DeleteSubrange(i, 1);
    };
    drop(*graph_.mutable_initializer());
    drop(*graph_.mutable_input());  // an initializer may be listed among the inputs too (required before IR 4)
  }

  onnx::GraphProto& graph_;
  std::string path_;
  const Graph& imported_;
  const QdqExportOptions& options_;
  QdqExportReport& report_;
  std::unordered_map<std::string, int> node_index_;  // by the IR's node name
  std::unordered_map<std::string, int> producer_;    // tensor -> node index
  std::unordered_map<std::string, int> readers_;     // tensor -> node inputs and graph outputs reading it
  std::unordered_set<std::string> graph_inputs_;
  std::unordered_set<std::string> used_names_;
  std::unordered_set<std::string> replaced_weights_;
  std::map<std::string, Dequantized> dequantized_;          // activation tensor -> its DequantizeLinear output
  std::vector<onnx::NodeProto> first_;                      // Q/DQ of graph inputs
  std::vector<std::vector<onnx::NodeProto>> before_, after_;  // per model node
};

void set_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  for (auto& prop : *model.mutable_metadata_props())
    if (prop.key() == key) return prop.set_value(value);
  onnx::StringStringEntryProto* prop = model.add_metadata_props();
  prop->set_key(key);
  prop->set_value(value);
}

// libonnx's checker, where it knows the model's IR version and opset (Debian's knows up to opset 17,
// octet imports up to 21).
void check_model(const onnx::ModelProto& model, int64_t opset, const std::string& path, QdqExportReport& report) {
  const int checker_opset = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at(onnx::ONNX_DOMAIN).second;
  if (model.ir_version() > onnx::IR_VERSION || opset > checker_opset) {
    report.notes.push_back("not checked: the ONNX checker of this libonnx knows IR version " +
                           std::to_string(onnx::IR_VERSION) + " and opset " + std::to_string(checker_opset) +
                           ", the model has IR version " + std::to_string(model.ir_version()) + " and opset " +
                           std::to_string(opset));
    return;
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    OCTET_CHECK(false, path, ": the Q/DQ model fails the ONNX checker: ", e.what());
  }
}

}  // namespace

QdqExport export_qdq(const std::string& model_bytes, const std::string& model_path, const Graph& imported,
                     const std::map<std::string, float>& scales, const QdqExportOptions& options) {
  QdqExport result;
  QdqExportReport& report = result.report;
  onnx::ModelProto model;
  OCTET_CHECK(model.ParseFromString(model_bytes), model_path, ": cannot parse as an ONNX model");
  report.opset = default_domain_opset(model);
  const int64_t needed = options.per_channel_weights ? kPerChannelOpset : kPerTensorOpset;
  OCTET_CHECK(report.opset >= needed, "model '", model_path, "' imports opset ", report.opset,
              " of the default domain; ", options.per_channel_weights ? "per-channel" : "per-tensor",
              " Q/DQ needs opset ", needed, " or newer (DequantizeLinear", options.per_channel_weights ? "'s axis" : "",
              "). octet does not raise the opset itself: re-export the model with opset >= ", needed,
              options.per_channel_weights ? " (or use --per-tensor-weights, which needs opset 10)" : "");
  for (const auto& node : model.graph().node())
    OCTET_CHECK(node.op_type() != "QuantizeLinear" && node.op_type() != "DequantizeLinear", "model '", model_path,
                "' is already explicitly quantized (node '", node.name(), "' is a ", node.op_type(), ")");

  Graph graph = imported;
  optimize_fp32(graph);
  BuildConfig config;
  config.int8 = true;
  const Graph int8_graph = build_int8_graph(graph, scales, config, &report.build);

  QdqRewriter rewriter(model, model_path, imported, options, report);
  int int8_layers = 0;
  for (const Node& node : int8_graph.nodes) {
    if (node.precision != Precision::kInt8) continue;
    ++int8_layers;
    if (node.op == OpKind::Conv || node.op == OpKind::Gemm) rewriter.quantize_weights_of(node, int8_graph);
  }
  OCTET_CHECK(int8_layers > 0, "model '", model_path, "': no layer runs INT8 with these scales (",
              report.build.tensors_without_scale.size(), " tensor(s) the INT8 layers need have no scale",
              report.build.tensors_without_scale.empty() ? "" : ", e.g. '" + report.build.tensors_without_scale[0] + "'",
              "); nothing to export");
  for (const auto& [tensor, qdq] : place_activations(int8_graph)) rewriter.quantize_activation(tensor, qdq);
  rewriter.finish();
  set_metadata(model, "octet_export_qdq", options.provenance);

  check_model(model, report.opset, model_path, report);
  OCTET_CHECK(model.SerializeToString(&result.model_bytes), model_path, ": cannot serialize the Q/DQ model");
  return result;
}

}  // namespace octet
