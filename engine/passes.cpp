// FP32 graph passes. Each pass rewires node inputs/outputs and drops nodes; it never changes a
// value that a graph output or a surviving consumer reads, so only intermediates disappear. Values
// left without users stay in graph.values (backends allocate only what nodes use).
//
// Choices the header leaves open:
// - fuse_epilogues fuses into Gemm only when alpha == 1 and (C is absent or beta == 1), so the
//   fused result is the same whether a backend treats C as a scaled input or as a plain bias;
//   MatMul (alpha 1, no C) always qualifies. The residual must have exactly the output's dims (no
//   broadcasting): an Add of a broadcast bias is left as a node.
// - The fused node takes the position of the last node it absorbs, so a residual produced between
//   the Conv and the Add is still computed before it is read.
// - fold_batchnorm and fold_input_affine compute the folded parameters in float, in the header's expression order
//   (s = g / sqrt(var + eps) first), and writes them to new initializers named after the Conv; the
//   original weights stay, in case another node shares them.
#include "engine/passes.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/channel_scale.h"
#include "engine/op_registry.h"
#include "engine/pattern_fusion.h"
#include "engine/shape_inference.h"

namespace octet {
namespace {

// The only node reading `id`, or -1 when it has none, several, or is a graph output.
int single_consumer(const Graph& graph, const std::vector<int>& uses, ValueId id) {
  if (uses[static_cast<size_t>(id)] != 1 || is_graph_output(graph, id)) return -1;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (ValueId in : graph.nodes[i].inputs)
      if (in == id) return static_cast<int>(i);
  return -1;
}

void replace_uses(Graph& graph, ValueId from, ValueId to) {
  for (Node& node : graph.nodes)
    for (ValueId& in : node.inputs)
      if (in == from) in = to;
}

void erase_nodes(Graph& graph, const std::vector<bool>& removed) {
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

std::string unused_value_name(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int i = 1; graph.find_value(name) != kNoValue; ++i) name = base + "_" + std::to_string(i);
  return name;
}

ValueId add_initializer(Graph& graph, const std::string& base, Tensor tensor) {
  Value value;
  value.name = unused_value_name(graph, base);
  value.type = tensor.type();
  value.dims = tensor.dims();
  value.initializer = std::move(tensor);
  return graph.add_value(std::move(value));
}

const Tensor* float_constant(const Graph& graph, ValueId id) {
  if (id == kNoValue) return nullptr;
  const Value& v = graph.value(id);
  return v.is_constant() && v.type == DataType::kFloat32 ? &*v.initializer : nullptr;
}

bool has_epilogue(const Epilogue& e) { return e.activation.kind != Activation::kNone || e.has_residual; }

void absorb(Node& into, const Node& absorbed) {
  into.fused_nodes.push_back(absorbed.name);
  into.fused_nodes.insert(into.fused_nodes.end(), absorbed.fused_nodes.begin(), absorbed.fused_nodes.end());
}

// ---- remove_identities ---------------------------------------------------------------------------
// Drops one Identity if it can; returns false when it must stay (its output is a graph output and
// its input cannot take that name: a graph input, a constant or another graph output).
bool bypass_identity(Graph& graph, const std::vector<int>& producer, const Node& identity) {
  const ValueId in = identity.inputs.at(0);
  const ValueId out = identity.outputs.at(0);
  if (!is_graph_output(graph, out)) {
    replace_uses(graph, out, in);
    return true;
  }
  const int from = producer[static_cast<size_t>(in)];
  if (from < 0 || is_graph_output(graph, in)) return false;
  // The graph output keeps its name: the producer writes it directly, its other readers follow.
  for (ValueId& o : graph.nodes[static_cast<size_t>(from)].outputs)
    if (o == in) o = out;
  replace_uses(graph, in, out);
  return true;
}

// ---- per-channel constants --------------------------------------------------------------------------
// The value per channel of a constant that is one value, or one per channel along axis 1 of a rank-D
// tensor (its dims right-aligned against the tensor's: K on axis 1, ones elsewhere, e.g. [K, 1, 1] or
// [1, K, 1, 1] for rank 4): what broadcasts over [N, K, ...] without changing its dims. Empty when the
// constant is neither.
std::vector<float> per_channel_values(const Tensor& constant, int64_t channels, size_t rank) {
  const Dims& d = constant.dims();
  if (d.size() > rank || constant.numel() < 1) return {};
  bool per_channel = false;
  for (size_t i = 0; i < d.size(); ++i) {
    const size_t axis = rank - d.size() + i;
    if (d[i] == 1) continue;
    if (axis != 1 || d[i] != channels) return {};
    per_channel = true;
  }
  std::vector<float> values(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) values[static_cast<size_t>(c)] = constant.data<float>()[per_channel ? c : 0];
  return values;
}

// A Mul or Add of one float constant and one computed tensor: the constant, its other input in *x.
const Tensor* affine_operand(const Graph& graph, const Node& node, ValueId* x) {
  if ((node.op != OpKind::Mul && node.op != OpKind::Add) || node.inputs.size() != 2) return nullptr;
  for (size_t i = 0; i < 2; ++i) {
    const Tensor* constant = float_constant(graph, node.inputs[i]);
    const ValueId other = node.inputs[1 - i];
    if (constant && !graph.value(other).is_constant() && graph.value(other).type == DataType::kFloat32) {
      *x = other;
      return constant;
    }
  }
  return nullptr;
}

// ---- fold_batchnorm ------------------------------------------------------------------------------
// w'[k, ...] = w[k, ...] * scale[k]: filter k of a Conv's KCRS weights scaled.
Tensor scale_filters(const Tensor& w, const std::vector<float>& scale) {
  const auto k = static_cast<int64_t>(scale.size());
  const int64_t per_filter = w.numel() / k;
  Tensor scaled(DataType::kFloat32, w.dims());
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < per_filter; ++j)
      scaled.data<float>()[c * per_filter + j] = w.data<float>()[c * per_filter + j] * scale[static_cast<size_t>(c)];
  return scaled;
}

// The Conv computes `next`'s output from now on, with weights `w_id` and the bias `folded_b`.
void take_over(Graph& graph, Node& conv, const Node& next, ValueId w_id, Tensor folded_b,
               const std::string& bias_name) {
  const ValueId b_id = add_initializer(graph, conv.name + bias_name, std::move(folded_b));
  conv.inputs = {conv.inputs[0], w_id, b_id};
  conv.outputs = {next.outputs.at(0)};
  absorb(conv, next);
}

// BatchNormalization `bn` into `conv` (weights w, bias b or nullptr), in the header's expression order.
bool fold_batchnorm_into_conv(Graph& graph, Node& conv, const Node& bn, const Tensor* w, const Tensor* b) {
  const Tensor* gamma = float_constant(graph, bn.inputs.at(1));
  const Tensor* beta = float_constant(graph, bn.inputs.at(2));
  const Tensor* mean = float_constant(graph, bn.inputs.at(3));
  const Tensor* var = float_constant(graph, bn.inputs.at(4));
  if (!gamma || !beta || !mean || !var) return false;
  const int64_t k = w->dims()[0];
  for (const Tensor* p : {gamma, beta, mean, var})
    if (p->numel() != k) return false;
  if (b && b->numel() != k) return false;

  const float eps = std::get<BatchNormAttrs>(bn.attrs).epsilon;
  std::vector<float> s(static_cast<size_t>(k));
  Tensor folded_b(DataType::kFloat32, {k});
  for (int64_t c = 0; c < k; ++c) {
    s[static_cast<size_t>(c)] = gamma->data<float>()[c] / std::sqrt(var->data<float>()[c] + eps);
    const float bias = b ? b->data<float>()[c] : 0.0f;
    folded_b.data<float>()[c] = (bias - mean->data<float>()[c]) * s[static_cast<size_t>(c)] + beta->data<float>()[c];
  }
  const ValueId w_id = add_initializer(graph, conv.name + ".weight_bn_folded", scale_filters(*w, s));
  take_over(graph, conv, bn, w_id, std::move(folded_b), ".bias_bn_folded");
  return true;
}

// Folds the per-channel affine node `next` (BatchNormalization, or a Mul/Add of a per-channel
// constant) into the Conv `conv` when every parameter is a float constant.
bool fold_into_conv(Graph& graph, Node& conv, const Node& next) {
  const auto& attrs = std::get<ConvAttrs>(conv.attrs);
  if (has_epilogue(attrs.epilogue)) return false;
  const Tensor* w = float_constant(graph, conv.inputs.at(1));
  const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] != kNoValue;
  const Tensor* b = has_bias ? float_constant(graph, conv.inputs[2]) : nullptr;
  if (!w || (has_bias && !b) || w->rank() < 1) return false;
  if (next.op == OpKind::BatchNormalization) return fold_batchnorm_into_conv(graph, conv, next, w, b);
  ValueId x = kNoValue;
  const Tensor* constant = affine_operand(graph, next, &x);
  const int64_t k = w->dims()[0];
  if (!constant || x != conv.outputs.at(0) || (b && b->numel() != k)) return false;
  const std::vector<float> v = per_channel_values(*constant, k, graph.value(x).dims.size());
  if (v.empty()) return false;
  Tensor folded_b(DataType::kFloat32, {k});
  const ValueId w_id = next.op == OpKind::Mul
                           ? add_initializer(graph, conv.name + ".weight_folded", scale_filters(*w, v))
                           : conv.inputs[1];
  for (int64_t c = 0; c < k; ++c) {
    const float bias = b ? b->data<float>()[c] : 0.0f;
    const float value = v[static_cast<size_t>(c)];
    folded_b.data<float>()[c] = next.op == OpKind::Mul ? bias * value : bias + value;
  }
  take_over(graph, conv, next, w_id, std::move(folded_b), ".bias_folded");
  return true;
}

// ---- fold_input_affine ---------------------------------------------------------------------------
// Folds `affine` (a Mul/Add of a per-channel constant, read only by `conv`) into `conv` when the
// Conv has no padding and float constant parameters (the header states the formulas).
bool fold_before_conv(Graph& graph, Node& conv, const Node& affine) {
  const auto& attrs = std::get<ConvAttrs>(conv.attrs);
  if (attrs.pad_top != 0 || attrs.pad_left != 0 || attrs.pad_bottom != 0 || attrs.pad_right != 0) return false;
  ValueId x = kNoValue;
  const Tensor* constant = affine_operand(graph, affine, &x);
  const Tensor* w = float_constant(graph, conv.inputs.at(1));
  const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] != kNoValue;
  const Tensor* b = has_bias ? float_constant(graph, conv.inputs[2]) : nullptr;
  if (!constant || !w || (has_bias && !b) || w->rank() < 2 || attrs.group < 1) return false;
  const Dims& x_dims = graph.value(x).dims;
  if (x_dims.size() < 2 || graph.value(affine.outputs.at(0)).dims != x_dims) return false;
  const std::vector<float> v = per_channel_values(*constant, x_dims[1], x_dims.size());
  const int64_t k = w->dims()[0], group_channels = w->dims()[1];
  if (v.empty() || k % attrs.group != 0 || group_channels * attrs.group != x_dims[1] || (b && b->numel() != k))
    return false;
  const int64_t taps = w->numel() / (k * group_channels);  // R * S
  const auto channel = [&](int64_t filter, int64_t c) {    // input channel c of filter's group
    return static_cast<size_t>(filter / (k / attrs.group) * group_channels + c);
  };
  ValueId w_id = conv.inputs[1], b_id = has_bias ? conv.inputs[2] : kNoValue;
  if (affine.op == OpKind::Mul) {
    Tensor folded(DataType::kFloat32, w->dims());
    for (int64_t f = 0; f < k; ++f)
      for (int64_t c = 0; c < group_channels; ++c)
        for (int64_t t = 0; t < taps; ++t) {
          const int64_t at = (f * group_channels + c) * taps + t;
          folded.data<float>()[at] = w->data<float>()[at] * v[channel(f, c)];
        }
    w_id = add_initializer(graph, conv.name + ".weight_folded", std::move(folded));
  } else {
    Tensor folded(DataType::kFloat32, {k});
    for (int64_t f = 0; f < k; ++f) {
      float sum = b ? b->data<float>()[f] : 0.0f;
      for (int64_t c = 0; c < group_channels; ++c)
        for (int64_t t = 0; t < taps; ++t)
          sum += w->data<float>()[(f * group_channels + c) * taps + t] * v[channel(f, c)];
      folded.data<float>()[f] = sum;
    }
    b_id = add_initializer(graph, conv.name + ".bias_folded", std::move(folded));
  }
  std::vector<ValueId> inputs = conv.inputs;
  inputs[0] = x;
  inputs[1] = w_id;
  if (b_id != kNoValue) {
    if (inputs.size() < 3) inputs.resize(3, kNoValue);
    inputs[2] = b_id;
  }
  conv.inputs = std::move(inputs);
  absorb(conv, affine);
  return true;
}

// ---- fuse_epilogues ------------------------------------------------------------------------------
bool accepts_epilogue(const Node& node) {
  switch (node.op) {
    case OpKind::Conv: return !has_epilogue(std::get<ConvAttrs>(node.attrs).epilogue);
    case OpKind::Gemm: {
      const auto& a = std::get<GemmAttrs>(node.attrs);
      const bool has_c = node.inputs.size() > 2 && node.inputs[2] != kNoValue;
      return !has_epilogue(a.epilogue) && a.alpha == 1.0f && (!has_c || a.beta == 1.0f);
    }
    case OpKind::MatMul: return !has_epilogue(std::get<GemmAttrs>(node.attrs).epilogue);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::BatchNormalization:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Concat:
    case OpKind::Softmax:
    case OpKind::Identity:
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear:
    case OpKind::Pad:
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      return false;
  }
  return false;
}

// The activation a node applies when it is a pointwise activation an epilogue can take over
// (the activation operators, registered ones with OpDef::activation); kNone otherwise.
ActivationParams activation_of(const Node& node) {
  if (const auto* params = std::get_if<ActivationParams>(&node.attrs)) return *params;
  if (const OpDef* def = find_op_def(node.op); def && def->activation) return def->activation(node);
  return {};
}

bool is_activation(const Node& node) {
  return activation_of(node).kind != Activation::kNone;
}

// Tries to fuse the Add/activation that follow node `index`; returns whether the graph changed.
bool fuse_after(Graph& graph, const std::vector<int>& uses, size_t index) {
  const Node& head = graph.nodes[index];
  ValueId out = head.outputs.at(0);
  ValueId residual = kNoValue;
  ActivationParams activation;
  std::vector<int> absorbed;

  const int add = single_consumer(graph, uses, out);
  if (add >= 0 && graph.nodes[static_cast<size_t>(add)].op == OpKind::Add) {
    const Node& node = graph.nodes[static_cast<size_t>(add)];
    const ValueId other = node.inputs.at(0) == out ? node.inputs.at(1) : node.inputs.at(0);
    const Value& r = graph.value(other);
    if (r.type == DataType::kFloat32 && r.dims == graph.value(out).dims &&
        graph.value(node.outputs.at(0)).dims == r.dims) {
      residual = other;
      absorbed.push_back(add);
      out = node.outputs.at(0);
    }
  }
  const int act = single_consumer(graph, uses, out);
  if (act >= 0 && is_activation(graph.nodes[static_cast<size_t>(act)])) {
    activation = activation_of(graph.nodes[static_cast<size_t>(act)]);
    absorbed.push_back(act);
    out = graph.nodes[static_cast<size_t>(act)].outputs.at(0);
  }
  if (absorbed.empty()) return false;

  Node fused = head;
  Epilogue& epilogue = *epilogue_of(fused);
  epilogue.activation = activation;
  epilogue.has_residual = residual != kNoValue;
  epilogue.fused_output = graph.value(head.outputs.at(0)).name;
  if (residual != kNoValue && activation.kind != Activation::kNone)
    epilogue.fused_sum = graph.value(graph.nodes[static_cast<size_t>(absorbed.front())].outputs.at(0)).name;
  fused.inputs.resize(3, kNoValue);  // input 2: bias / C, or kNoValue
  if (residual != kNoValue) fused.inputs.push_back(residual);
  fused.outputs = {out};
  for (int i : absorbed) absorb(fused, graph.nodes[static_cast<size_t>(i)]);

  std::vector<bool> removed(graph.nodes.size(), false);
  removed[index] = true;
  for (int i : absorbed) removed[static_cast<size_t>(i)] = true;
  const auto last = static_cast<size_t>(absorbed.back());
  graph.nodes[last] = std::move(fused);
  removed[last] = false;
  erase_nodes(graph, removed);
  return true;
}

}  // namespace

void remove_identities(Graph& graph) {
  std::vector<bool> removed(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op != OpKind::Identity) continue;
    // Producers change as identities are bypassed, so they are looked up for each one.
    removed[i] = bypass_identity(graph, find_producers(graph), graph.nodes[i]);
    // A bypassed node must look like nothing to later bypasses (no reader, no producer).
    if (removed[i]) {
      graph.nodes[i].inputs.clear();
      graph.nodes[i].outputs.clear();
    }
  }
  erase_nodes(graph, removed);
}

void fold_batchnorm(Graph& graph) {
  const std::vector<int> uses = count_uses(graph);
  std::vector<int> producer = find_producers(graph);
  std::vector<bool> removed(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& next = graph.nodes[i];
    ValueId x = kNoValue;
    if (next.op == OpKind::BatchNormalization)
      x = next.inputs.at(0);
    else if (!affine_operand(graph, next, &x))
      continue;
    const int conv = producer[static_cast<size_t>(x)];
    if (conv < 0 || graph.nodes[static_cast<size_t>(conv)].op != OpKind::Conv) continue;
    if (uses[static_cast<size_t>(x)] != 1 || is_graph_output(graph, x)) continue;
    if (!fold_into_conv(graph, graph.nodes[static_cast<size_t>(conv)], next)) continue;
    removed[i] = true;
    // The Conv now produces the node's output: another affine node right after it may fold too.
    producer[static_cast<size_t>(next.outputs.at(0))] = conv;
  }
  erase_nodes(graph, removed);
}

void fold_input_affine(Graph& graph) {
  // One fold at a time, then a fresh look: x * m + a folds its Add first, then its Mul.
  bool changed = true;
  while (changed) {
    changed = false;
    const std::vector<int> uses = count_uses(graph);
    const std::vector<int> producer = find_producers(graph);
    for (size_t i = 0; i < graph.nodes.size() && !changed; ++i) {
      if (graph.nodes[i].op != OpKind::Conv) continue;
      const int from = producer[static_cast<size_t>(graph.nodes[i].inputs.at(0))];
      if (from < 0 || uses[static_cast<size_t>(graph.nodes[i].inputs[0])] != 1 ||
          is_graph_output(graph, graph.nodes[i].inputs[0]))
        continue;
      if (!fold_before_conv(graph, graph.nodes[i], graph.nodes[static_cast<size_t>(from)])) continue;
      std::vector<bool> removed(graph.nodes.size(), false);
      removed[static_cast<size_t>(from)] = true;
      erase_nodes(graph, removed);
      changed = true;
    }
  }
}

void fuse_epilogues(Graph& graph) {
  // One fusion at a time, then a fresh look: a fusion changes consumers and node positions, and
  // two Convs may compete for the same Add (the first in node order takes it).
  bool changed = true;
  while (changed) {
    changed = false;
    const std::vector<int> uses = count_uses(graph);
    for (size_t i = 0; i < graph.nodes.size() && !changed; ++i)
      if (accepts_epilogue(graph.nodes[i])) changed = fuse_after(graph, uses, i);
  }
}

void optimize_fp32(Graph& graph) {
  // fuse_epilogues compares dims (a residual must match the output), so they must be current.
  infer_shapes(graph);
  remove_identities(graph);
  fuse_patterns(graph);
  order_channel_scale_inputs(graph);
  fold_batchnorm(graph);
  fuse_epilogues(graph);
  fold_input_affine(graph);
  infer_shapes(graph);
}

}  // namespace octet
