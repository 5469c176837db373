// Graph validation shared by the backends (engine/node_validation.h).
#include "engine/node_validation.h"

#include "engine/op_registry.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "kernels/cpu/window.h"

namespace octet {

std::string node_label(const Node& node) { return detail::concat("node '", node.name, "' (", to_string(node.op), ")"); }

namespace {

// The operands of Conv, Gemm and MatMul: inputs 0 and 1, the optional bias (Conv's B, Gemm's C;
// never MatMul's) and residual (input 3), output 0.
struct FusedOperands {
  const Value& a;         // Conv: X; Gemm, MatMul: A
  const Value& b;         // Conv: W; Gemm, MatMul: B
  const Value* bias;      // input 2, may be absent
  const Value* residual;  // input 3, may be absent
  const Value& y;
};

// Checks one node against the graph; every failure starts with the node's label.
class NodeChecker {
 public:
  NodeChecker(const Graph& graph, const Node& node, const BackendCapabilities& capabilities)
      : graph_(graph), node_(node), capabilities_(capabilities) {}

  // A graph that contradicts the operator: Error.
  template <typename... Parts>
  void check(bool condition, Parts&&... parts) const {
    if (!condition) throw Error(detail::concat(node_label(node_), ": ", std::forward<Parts>(parts)...));
  }
  // Valid ONNX that this backend does not implement: UnsupportedError.
  template <typename... Parts>
  void supported(bool condition, Parts&&... parts) const {
    if (!condition) OCTET_UNSUPPORTED(node_label(node_), ": ", std::forward<Parts>(parts)...);
  }

  // Runs a shape rule of the kernels and puts the node's label on its Error.
  template <typename Rule>
  Dims rule(Rule&& compute) const {
    try {
      return compute();
    } catch (const Error& error) {
      throw Error(node_label(node_) + ": " + error.what());
    }
  }

  void input_count(size_t at_least, size_t at_most) const {
    const size_t count = node_.inputs.size();
    check(count >= at_least && count <= at_most, "takes ", at_least, at_least == at_most ? "" : " to ",
          at_least == at_most ? std::string() : std::to_string(at_most), " inputs, has ", count);
  }
  // Output 0 is written; outputs past it are the operator's optional ones (at most `at_most` in all).
  void output_count(size_t at_most) const {
    check(!node_.outputs.empty() && node_.outputs[0] != kNoValue, "output 0 is missing");
    check(node_.outputs.size() <= at_most, "has ", node_.outputs.size(), " outputs, the operator writes at most ",
          at_most);
  }
  void single_output() const { output_count(1); }

  const Value& in(size_t i) const {
    check(i < node_.inputs.size() && node_.inputs[i] != kNoValue, "input ", i, " is missing");
    return graph_.value(node_.inputs[i]);
  }
  const Value* optional_in(size_t i) const {
    if (i >= node_.inputs.size() || node_.inputs[i] == kNoValue) return nullptr;
    return &graph_.value(node_.inputs[i]);
  }
  const Value& out() const { return graph_.value(node_.outputs[0]); }
  const Graph& graph() const { return graph_; }
  const Value* optional_out(size_t i) const {
    if (i >= node_.outputs.size() || node_.outputs[i] == kNoValue) return nullptr;
    return &graph_.value(node_.outputs[i]);
  }

  // On an INT8 layer the types are checked by check_int8_layer instead.
  void float32(const Value& value) const {
    if (node_.precision == Precision::kInt8) return;
    supported(value.type == DataType::kFloat32, "tensor '", value.name, "' is ", to_string(value.type), ", the ",
              capabilities_.name, " backend runs this operator on float32 only");
  }
  void same_type(const Value& a, const Value& b) const {
    check(a.type == b.type, "tensor '", b.name, "' is ", to_string(b.type), " but '", a.name, "' is ",
          to_string(a.type));
  }
  void dims(const Value& value, const Dims& expected) const {
    check(value.dims == expected, "tensor '", value.name, "' has dims ", to_string(value.dims), ", expected ",
          to_string(expected));
  }

  template <typename Attrs>
  const Attrs& attrs() const {
    const Attrs* found = std::get_if<Attrs>(&node_.attrs);
    check(found != nullptr, "carries the wrong attribute kind for its operator");
    return *found;
  }

  // Conv/Gemm/MatMul: two to four inputs and one output, all float32.
  FusedOperands fused_operands() const {
    input_count(2, 4);
    single_output();
    const FusedOperands o{in(0), in(1), optional_in(2), optional_in(3), out()};
    for (const Value* v : {&o.a, &o.b, o.bias, o.residual, &o.y})
      if (v) float32(*v);
    return o;
  }
  // Conv/Gemm/MatMul: input 3 is present exactly when the epilogue adds a residual, with Y's dims.
  void residual(bool has_residual) const {
    const Value* r = optional_in(3);
    check(has_residual == (r != nullptr), "epilogue.has_residual is ", has_residual, " but input 3 (the residual) is ",
          r ? "present" : "absent");
    if (r) dims(*r, out().dims);
  }

  const Node& node() const { return node_; }
  const BackendCapabilities& capabilities() const { return capabilities_; }

 private:
  const Graph& graph_;
  const Node& node_;
  const BackendCapabilities& capabilities_;
};

ActivationParams check_conv(const NodeChecker& c) {
  const auto& a = c.attrs<ConvAttrs>();
  const FusedOperands o = c.fused_operands();
  const Value& x = o.a;
  const Value& w = o.b;
  const size_t rank = x.dims.size();
  c.check(rank == 3 || rank == 4, "input '", x.name, "' must be [N, C, H, W] or [N, C, L], has dims ",
          to_string(x.dims));
  // A 1-D weight may be [K, C/group, S] or already lifted to [K, C/group, 1, S]: same memory.
  c.check(w.dims.size() == 4 || (rank == 3 && w.dims.size() == 3), "weight '", w.name, "' has dims ",
          to_string(w.dims), ", which do not fit input ", to_string(x.dims));
  c.check(a.group >= 1 && a.kernel_h >= 1 && a.kernel_w >= 1 && a.stride_h >= 1 && a.stride_w >= 1 &&
              a.dilation_h >= 1 && a.dilation_w >= 1 && a.pad_top >= 0 && a.pad_left >= 0 && a.pad_bottom >= 0 &&
              a.pad_right >= 0,
          "kernel, strides, dilations and group must be positive and pads non-negative");
  const int64_t channels = x.dims[1];
  const int64_t filters = w.dims[0];
  c.check(channels > 0 && channels % a.group == 0 && w.dims[1] == channels / a.group, "weight '", w.name,
          "' has dims ", to_string(w.dims), ": ", channels, " input channels in ", a.group, " groups need dim 1 = ",
          channels / a.group);
  c.check(filters > 0 && filters % a.group == 0, "weight '", w.name, "': ", filters,
          " output channels do not split into ", a.group, " groups");
  const int64_t kernel_h = w.dims.size() == 4 ? w.dims[2] : 1;
  c.check(kernel_h == a.kernel_h && w.dims.back() == a.kernel_w, "weight '", w.name, "' has dims ",
          to_string(w.dims), " but kernel_shape is ", a.kernel_h, "x", a.kernel_w);
  const int64_t in_h = rank == 4 ? x.dims[2] : 1;
  const int64_t oh = kernels::window_output_extent(in_h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom,
                                                   a.dilation_h, false);
  const int64_t ow = kernels::window_output_extent(x.dims.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right,
                                                   a.dilation_w, false);
  c.check(oh > 0 && ow > 0, "the kernel does not fit the padded input ", to_string(x.dims));
  c.check(rank == 4 || oh == 1, "a 1-D convolution cannot pad or stride along H");
  c.dims(o.y, rank == 4 ? Dims{x.dims[0], filters, oh, ow} : Dims{x.dims[0], filters, ow});
  if (o.bias) c.dims(*o.bias, {filters});
  c.residual(a.epilogue.has_residual);
  return a.epilogue.activation;
}

ActivationParams check_gemm(const NodeChecker& c) {
  const auto& a = c.attrs<GemmAttrs>();
  const FusedOperands o = c.fused_operands();
  const Value& mat_a = o.a;
  const Value& mat_b = o.b;
  const Value* mat_c = o.bias;
  c.check(mat_a.dims.size() == 2 && mat_b.dims.size() == 2, "A '", mat_a.name, "' ", to_string(mat_a.dims),
          " and B '", mat_b.name, "' ", to_string(mat_b.dims), " must be matrices");
  const int64_t m = a.trans_a ? mat_a.dims[1] : mat_a.dims[0];
  const int64_t k = a.trans_a ? mat_a.dims[0] : mat_a.dims[1];
  const int64_t k_b = a.trans_b ? mat_b.dims[1] : mat_b.dims[0];
  const int64_t n = a.trans_b ? mat_b.dims[0] : mat_b.dims[1];
  c.check(k == k_b, "inner dimensions differ: A ", to_string(mat_a.dims), (a.trans_a ? " (transposed)" : ""), ", B ",
          to_string(mat_b.dims), (a.trans_b ? " (transposed)" : ""));
  c.dims(o.y, {m, n});
  // broadcasts_to also bounds C's rank by 2.
  if (mat_c)
    c.check(kernels::broadcasts_to(mat_c->dims, {m, n}), "C '", mat_c->name, "' ", to_string(mat_c->dims),
            " does not broadcast to ", to_string(Dims{m, n}));
  c.residual(a.epilogue.has_residual);
  return a.epilogue.activation;
}

ActivationParams check_matmul(const NodeChecker& c) {
  const auto* a = std::get_if<GemmAttrs>(&c.node().attrs);
  c.check(a || std::holds_alternative<std::monostate>(c.node().attrs), "carries the wrong attribute kind for MatMul");
  c.check(!a || (!a->trans_a && !a->trans_b && a->alpha == 1.0f), "MatMul takes no transposes and alpha 1");
  c.check(c.optional_in(2) == nullptr, "MatMul has no bias input (input 2 must be absent)");
  const FusedOperands o = c.fused_operands();
  c.dims(o.y, c.rule([&] { return kernels::matmul_output_dims(o.a.dims, o.b.dims); }));
  c.residual(a && a->epilogue.has_residual);
  return a ? a->epilogue.activation : ActivationParams{};
}

void check_binary(const NodeChecker& c) {
  c.input_count(2, 2);
  c.single_output();
  const Value& a = c.in(0);
  const Value& b = c.in(1);
  for (const Value* v : {&a, &b, &c.out()}) c.float32(*v);
  c.dims(c.out(), c.rule([&] { return kernels::broadcast_shape(a.dims, b.dims, "inputs"); }));
}

// Clip's bounds may still be listed as (constant) inputs 1 and 2; the importer put them in the
// attributes, which are what counts. Attribute-less activations take ONNX's defaults.
ActivationParams check_activation(const NodeChecker& c, Activation kind) {
  c.input_count(1, kind == Activation::kClip ? 3 : 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.dims(c.out(), x.dims);
  ActivationParams params;
  if (const auto* given = std::get_if<ActivationParams>(&c.node().attrs)) {
    c.check(given->kind == Activation::kNone || given->kind == kind, "its attributes describe another activation");
    params = *given;
  } else {
    c.check(std::holds_alternative<std::monostate>(c.node().attrs), "carries the wrong attribute kind");
    if (kind == Activation::kClip) {
      params.alpha = -std::numeric_limits<float>::infinity();
      params.beta = std::numeric_limits<float>::infinity();
    }
    if (kind == Activation::kLeakyRelu) params.alpha = 0.01f;
    if (kind == Activation::kHardSigmoid) {
      params.alpha = 0.2f;
      params.beta = 0.5f;
    }
  }
  params.kind = kind;
  return params;
}

void check_batchnorm(const NodeChecker& c) {
  c.attrs<BatchNormAttrs>();
  c.input_count(5, 5);
  c.single_output();
  const Value& x = c.in(0);
  for (size_t i = 0; i < 5; ++i) c.float32(c.in(i));
  c.float32(c.out());
  c.check(x.dims.size() >= 2, "input '", x.name, "' needs rank >= 2, has dims ", to_string(x.dims));
  for (size_t i = 1; i < 5; ++i) c.dims(c.in(i), {x.dims[1]});
  c.dims(c.out(), x.dims);
}

void check_pool(const NodeChecker& c) {
  const auto& a = c.attrs<PoolAttrs>();
  const bool max = c.node().op == OpKind::MaxPool;
  c.input_count(1, 1);
  c.output_count(max ? 2 : 1);
  const Value* indices = max ? c.optional_out(1) : nullptr;
  c.supported(!indices || c.capabilities().maxpool_indices, "has ", c.node().outputs.size(), " outputs; the ",
              c.capabilities().name, " backend computes only the first (MaxPool's Indices is not supported)");
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  const size_t rank = x.dims.size();
  c.check(rank == 3 || rank == 4, "input '", x.name, "' must be [N, C, H, W] or [N, C, L], has dims ",
          to_string(x.dims));
  c.check(a.kernel_h >= 1 && a.kernel_w >= 1 && a.stride_h >= 1 && a.stride_w >= 1 && a.dilation_h >= 1 &&
              a.dilation_w >= 1 && a.pad_top >= 0 && a.pad_left >= 0 && a.pad_bottom >= 0 && a.pad_right >= 0,
          "kernel, strides and dilations must be positive and pads non-negative");
  // ONNX requires pads smaller than the window, so that every window holds an input cell.
  const int64_t span_h = (a.kernel_h - 1) * a.dilation_h + 1;
  const int64_t span_w = (a.kernel_w - 1) * a.dilation_w + 1;
  c.check(c.capabilities().pool_pads_past_window ||
              (a.pad_top < span_h && a.pad_bottom < span_h && a.pad_left < span_w && a.pad_right < span_w),
          "pads must be smaller than the window");
  const int64_t in_h = rank == 4 ? x.dims[2] : 1;
  const int64_t oh = kernels::window_output_extent(in_h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom,
                                                   a.dilation_h, a.ceil_mode);
  const int64_t ow = kernels::window_output_extent(x.dims.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right,
                                                   a.dilation_w, a.ceil_mode);
  c.check(oh > 0 && ow > 0, "the window does not fit the padded input ", to_string(x.dims));
  c.check(rank == 4 || oh == 1, "a 1-D pool cannot pad or stride along H");
  c.dims(c.out(), rank == 4 ? Dims{x.dims[0], x.dims[1], oh, ow} : Dims{x.dims[0], x.dims[1], ow});
  if (indices) {
    c.check(indices->type == DataType::kInt64, "Indices '", indices->name, "' is ", to_string(indices->type),
            ", must be int64");
    c.dims(*indices, c.out().dims);
  }
}

void check_global_pool(const NodeChecker& c) {
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.check(x.dims.size() >= 3, "input '", x.name, "' must be [N, C, spatial...], has dims ", to_string(x.dims));
  Dims expected(x.dims.size(), 1);
  expected[0] = x.dims[0];
  expected[1] = x.dims[1];
  c.dims(c.out(), expected);
}

void check_reshape(const NodeChecker& c) {
  c.input_count(1, 2);  // ONNX Reshape's shape input, if still listed, is a constant the rule replaced
  c.single_output();
  const Value& x = c.in(0);
  const Value& y = c.out();
  c.same_type(x, y);
  c.check(numel(x.dims) == numel(y.dims), "output '", y.name, "' ", to_string(y.dims), " does not hold the ",
          numel(x.dims), " elements of input '", x.name, "' ", to_string(x.dims));
}

void check_identity(const NodeChecker& c) {
  c.input_count(1, 1);
  c.single_output();
  c.same_type(c.in(0), c.out());
  c.dims(c.out(), c.in(0).dims);
}

void check_transpose(const NodeChecker& c) {
  const auto& a = c.attrs<TransposeAttrs>();
  c.input_count(1, 1);
  c.single_output();
  c.same_type(c.in(0), c.out());
  c.dims(c.out(), c.rule([&] { return kernels::transpose_output_dims(c.in(0).dims, a.perm); }));
}

void check_concat(const NodeChecker& c) {
  const auto& a = c.attrs<ConcatAttrs>();
  c.input_count(1, std::numeric_limits<size_t>::max());
  c.single_output();
  std::vector<Dims> dims;
  for (size_t i = 0; i < c.node().inputs.size(); ++i) {
    c.same_type(c.out(), c.in(i));
    dims.push_back(c.in(i).dims);
  }
  c.dims(c.out(), c.rule([&] { return kernels::concat_output_dims(dims, a.axis); }));
}

void check_softmax(const NodeChecker& c) {
  const auto& a = c.attrs<SoftmaxAttrs>();
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.check(a.axis >= 0 && a.axis < static_cast<int64_t>(x.dims.size()), "axis ", a.axis,
          " is outside the rank of input '", x.name, "' ", to_string(x.dims));
  c.dims(c.out(), x.dims);
}

void check_pad(const NodeChecker& c) {
  const auto& a = c.attrs<PadAttrs>();
  c.input_count(1, 4);  // pads/constant_value/axes inputs, if still listed, were folded into the attributes
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.dims(c.out(), c.rule([&] { return kernels::pad_output_dims(x.dims, a.pads); }));
}

}  // namespace

void validate_wiring(const Graph& graph) {
  const auto count = static_cast<ValueId>(graph.values.size());
  auto valid = [&](ValueId id) { return id >= 0 && id < count; };
  std::vector<bool> available(graph.values.size(), false);
  for (size_t i = 0; i < graph.values.size(); ++i) {
    const Value& v = graph.values[i];
    for (int64_t d : v.dims)
      OCTET_CHECK(d >= 0, "tensor '", v.name, "' has a negative dimension in ", to_string(v.dims));
    if (v.is_constant()) {
      OCTET_CHECK(v.initializer->type() == v.type && v.initializer->dims() == v.dims, "constant '", v.name, "' holds ",
                  to_string(v.initializer->type()), " ", to_string(v.initializer->dims()), " but is declared ",
                  to_string(v.type), " ", to_string(v.dims));
      available[i] = true;
    }
  }
  for (ValueId id : graph.inputs) {
    OCTET_CHECK(valid(id), "graph input id ", id, " is not a value of the graph");
    OCTET_CHECK(!graph.value(id).is_constant(), "graph input '", graph.value(id).name, "' is a constant");
    available[static_cast<size_t>(id)] = true;
  }
  for (const Node& node : graph.nodes) {
    for (ValueId id : node.inputs) {
      if (id == kNoValue) continue;
      OCTET_CHECK(valid(id), node_label(node), ": input id ", id, " is not a value of the graph");
      OCTET_CHECK(available[static_cast<size_t>(id)], node_label(node), ": reads '", graph.value(id).name,
                  "' before any node writes it (nodes must be in topological order)");
    }
    OCTET_CHECK(!node.outputs.empty(), node_label(node), ": has no outputs");
    for (ValueId id : node.outputs) {
      if (id == kNoValue) continue;
      OCTET_CHECK(valid(id), node_label(node), ": output id ", id, " is not a value of the graph");
      OCTET_CHECK(!available[static_cast<size_t>(id)], node_label(node), ": writes '", graph.value(id).name,
                  "', which is a constant, a graph input or another node's output");
      available[static_cast<size_t>(id)] = true;
    }
  }
  for (ValueId id : graph.outputs) {
    OCTET_CHECK(valid(id), "graph output id ", id, " is not a value of the graph");
    OCTET_CHECK(available[static_cast<size_t>(id)], "graph output '", graph.value(id).name, "' is written by no node");
  }
}

namespace {

// QuantizeLinear: float32 -> int8 with a scale; DequantizeLinear the reverse; same dims.
void check_reformat(const NodeChecker& c, DataType from, DataType to) {
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  const Value& y = c.out();
  c.check(x.type == from && y.type == to, "converts '", x.name, "' (", to_string(x.type), ") to '", y.name, "' (",
          to_string(y.type), "), expected ", to_string(from), " to ", to_string(to));
  const Value& quantized = from == DataType::kInt8 ? x : y;
  c.check(quantized.scale && std::isfinite(*quantized.scale) && *quantized.scale > 0.0f, "INT8 tensor '",
          quantized.name, "' has no positive finite scale");
  c.dims(y, x.dims);
}

// An INT8 data-movement layer (engine/op_registry.h OpDef::int8_obstacle): input 0 and every output
// int8 at one scale, and the operator's own conditions.
void check_int8_data_movement(const NodeChecker& c) {
  const Node& node = c.node();
  const Value& x = c.in(0);
  c.check(x.type == DataType::kInt8 && x.scale && std::isfinite(*x.scale) && *x.scale > 0.0f, "INT8 layer input '",
          x.name, "' must be int8 with a positive finite scale");
  for (ValueId id : node.outputs) {
    if (id == kNoValue) continue;
    const Value& y = c.graph().value(id);
    c.check(y.type == DataType::kInt8 && y.scale && *y.scale == *x.scale, "output '", y.name,
            "' of an INT8 data-movement layer must be int8 at its input's scale");
  }
  const std::string why = op_def(node.op).int8_obstacle(c.graph(), node);
  c.supported(why.empty(), why);
}

// The registered operators with an INT8 layer, for messages: "Slice, Split, Resize".
std::string int8_data_movement_names() {
  std::string names;
#define OCTET_REGISTERED_OP(kind, name) \
  if (is_int8_data_movement(OpKind::kind)) names += std::string(names.empty() ? "" : ", ") + name;
#include "engine/ops.def"
  return names;
}

// The operands of an INT8 layer (quantize/qscheme.h, engine/graph.h Node::weight_scales), after the
// operator's own structural check.
void check_int8_layer(const NodeChecker& c) {
  const Node& node = c.node();
  const auto int8_activation = [&](const Value& v) {
    c.check(v.type == DataType::kInt8 && v.scale && std::isfinite(*v.scale) && *v.scale > 0.0f, "INT8 layer input '",
            v.name, "' must be int8 with a positive finite scale (it is ", to_string(v.type),
            v.scale ? "" : ", no scale", ")");
  };
  const auto int8_or_float = [&](const Value& v) {
    if (v.type != DataType::kFloat32) int8_activation(v);
  };
  switch (node.op) {
    case OpKind::Conv:
    case OpKind::Gemm: {
      int8_activation(c.in(0));
      const Value& w = c.in(1);
      c.check(w.is_constant() && w.type == DataType::kInt8, "weight '", w.name, "' must be an int8 constant");
      const int64_t out_channels = w.dims[0];
      c.check(static_cast<int64_t>(node.weight_scales.size()) == out_channels, "has ", node.weight_scales.size(),
              " weight scales for ", out_channels, " output channels");
      for (float s : node.weight_scales)
        c.check(std::isfinite(s) && s > 0.0f, "weight scale ", s, " is not positive and finite");
      c.supported(numel(w.dims) / out_channels < (int64_t{1} << 17), "a dot product of ", numel(w.dims) / out_channels,
                  " int8 terms could overflow int32 (limit 131071)");
      if (const Value* bias = c.optional_in(2)) {
        c.check(bias->type == DataType::kFloat32 && numel(bias->dims) == out_channels, "bias '", bias->name,
                "' must be float32 with ", out_channels, " elements");
      }
      if (const Value* residual = c.optional_in(3)) int8_or_float(*residual);
      int8_or_float(c.out());
      const quant::EpilogueRounding& rounding = epilogue_of(node)->rounding;
      for (float s : {rounding.after_bias, rounding.after_residual})
        c.check(s == 0.0f || (std::isfinite(s) && s > 0.0f), "epilogue rounding scale ", s,
                " is neither 0 (none) nor positive and finite");
      c.check(rounding.after_residual == 0.0f || c.optional_in(3), "rounds after a residual add it does not have");
      if (node.op == OpKind::Gemm) {
        const auto& a = c.attrs<GemmAttrs>();
        c.check(!a.trans_a && a.trans_b && a.alpha == 1.0f && a.beta == 1.0f,
                "an INT8 Gemm takes A untransposed, B as [N_out, K_in] (transB = 1) and alpha = beta = 1");
      }
      return;
    }
    case OpKind::MaxPool:
      int8_activation(c.in(0));
      int8_activation(c.out());
      c.check(*c.in(0).scale == *c.out().scale, "an INT8 MaxPool keeps its input's scale");
      c.supported(c.optional_out(1) == nullptr, "an INT8 MaxPool has no Indices output");
      return;
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
      int8_activation(c.in(0));
      int8_activation(c.out());
      c.check(c.in(0).dims.size() == 4, "an INT8 pooling takes [N, C, H, W]");
      return;
    case OpKind::Concat:
      for (size_t i = 0; i < node.inputs.size(); ++i) int8_activation(c.in(i));
      int8_activation(c.out());
      c.supported(c.attrs<ConcatAttrs>().axis == 1 && (c.out().dims.size() == 4 || c.out().dims.size() == 2),
                  "an INT8 Concat joins channels (axis 1) of [N, C, H, W] or [N, C]");
      return;
    case OpKind::Mul:
      int8_activation(c.in(0));
      int8_activation(c.out());
      c.check(c.in(1).type == DataType::kFloat32, "the gate '", c.in(1).name, "' of an INT8 channel scale is float32");
      c.supported(c.in(0).dims.size() == 4 && c.out().dims == c.in(0).dims && c.in(1).dims.size() == 4 &&
                      (c.in(1).dims[0] == 1 || c.in(1).dims[0] == c.in(0).dims[0]) &&
                      c.in(1).dims[1] == c.in(0).dims[1] && c.in(1).dims[2] == 1 && c.in(1).dims[3] == 1,
                  "an INT8 Mul scales the channels of x [N, C, H, W] by a gate [N or 1, C, 1, 1] (x first)");
      return;
    case OpKind::Add:
      int8_activation(c.in(0));
      int8_activation(c.in(1));
      int8_activation(c.out());
      c.supported(c.in(0).dims == c.in(1).dims && c.out().dims == c.in(0).dims &&
                      (c.out().dims.size() == 4 || c.out().dims.size() == 2),
                  "an INT8 Add joins two tensors of one shape, [N, C, H, W] or [N, C] (no broadcast)");
      return;
    case OpKind::MatMul: case OpKind::Sub: case OpKind::Div:
    case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid:
    case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::BatchNormalization:
    case OpKind::GlobalMaxPool: case OpKind::Reshape: case OpKind::Transpose: case OpKind::Softmax:
    case OpKind::Identity: case OpKind::Pad: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
      break;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      if (is_int8_data_movement(node.op)) {
        check_int8_data_movement(c);
        return;
      }
      break;
  }
  c.supported(false, "has no INT8 implementation (INT8 layers: Conv, Gemm, MaxPool, AveragePool, ",
              "GlobalAveragePool, Concat, Add of two tensors of one shape, Mul as a channel scale, and data movement: ",
              int8_data_movement_names(),
              ")");
}

}  // namespace

bool has_int8_layer(OpKind op) {
  switch (op) {
    case OpKind::Conv:
    case OpKind::Gemm:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::Concat:
    case OpKind::Add:  // two activations of one shape
    case OpKind::Mul: return true;  // a channel scale only (engine/channel_scale.h)
    case OpKind::MatMul: case OpKind::Sub: case OpKind::Div:
    case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid:
    case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::BatchNormalization:
    case OpKind::GlobalMaxPool: case OpKind::Reshape: case OpKind::Transpose: case OpKind::Softmax:
    case OpKind::Identity: case OpKind::Pad: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
      return false;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      return is_int8_data_movement(op);
  }
  return false;
}

ValidatedNode validate_node(const Graph& graph, const Node& node, const BackendCapabilities& capabilities) {
  const NodeChecker c(graph, node, capabilities);
  ValidatedNode result;
  switch (node.op) {
    case OpKind::Conv: result.activation = check_conv(c); break;
    case OpKind::Gemm: result.activation = check_gemm(c); break;
    case OpKind::MatMul: result.activation = check_matmul(c); break;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: check_binary(c); break;
    case OpKind::Relu: result.activation = check_activation(c, Activation::kRelu); break;
    case OpKind::Clip: result.activation = check_activation(c, Activation::kClip); break;
    case OpKind::LeakyRelu: result.activation = check_activation(c, Activation::kLeakyRelu); break;
    case OpKind::Sigmoid: result.activation = check_activation(c, Activation::kSigmoid); break;
    case OpKind::HardSigmoid: result.activation = check_activation(c, Activation::kHardSigmoid); break;
    case OpKind::HardSwish: result.activation = check_activation(c, Activation::kHardSwish); break;
    case OpKind::BatchNormalization: check_batchnorm(c); break;
    case OpKind::MaxPool:
    case OpKind::AveragePool: check_pool(c); break;
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: check_global_pool(c); break;
    case OpKind::Reshape: check_reshape(c); break;
    case OpKind::Identity: check_identity(c); break;
    case OpKind::Transpose: check_transpose(c); break;
    case OpKind::Concat: check_concat(c); break;
    case OpKind::Softmax: check_softmax(c); break;
    case OpKind::Pad: check_pad(c); break;
    case OpKind::QuantizeLinear: check_reformat(c, DataType::kFloat32, DataType::kInt8); break;
    case OpKind::DequantizeLinear: check_reformat(c, DataType::kInt8, DataType::kFloat32); break;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      validate_registered_node(graph, node);
      break;
  }
  if (node.precision == Precision::kInt8) check_int8_layer(c);
  if (const Epilogue* e = epilogue_of(node); e && node.precision != Precision::kInt8)
    c.check(!e->rounding.any(), "rounds inside its epilogue (explicit quantization), which only INT8 layers do");
  return result;
}

}  // namespace octet
