// Pattern fusions (engine/pattern_fusion.h).
#include "engine/pattern_fusion.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>

namespace octet {
namespace {

// The graph's wiring, as the matchers read it.
class Wiring {
 public:
  explicit Wiring(const Graph& graph) : graph_(graph), producer_(find_producers(graph)), uses_(count_uses(graph)) {}

  // The node producing `id` when its output feeds nothing but the pattern (one reader, not a graph
  // output) and its op is `op`; nullptr otherwise.
  const Node* private_producer(ValueId id, OpKind op) const {
    if (id == kNoValue || uses_[static_cast<size_t>(id)] != 1 || is_graph_output(graph_, id)) return nullptr;
    const int p = producer_[static_cast<size_t>(id)];
    if (p < 0 || graph_.nodes[static_cast<size_t>(p)].op != op) return nullptr;
    return &graph_.nodes[static_cast<size_t>(p)];
  }

  // The node producing `id` when its op is `op` and `id` has exactly `readers` readers, none a graph
  // output (a pattern whose inner tensor is read twice inside it, like LayerNorm's x - mean).
  const Node* producer_read_by(ValueId id, OpKind op, int readers) const {
    if (id == kNoValue || uses_[static_cast<size_t>(id)] != readers || is_graph_output(graph_, id)) return nullptr;
    const int p = producer_[static_cast<size_t>(id)];
    if (p < 0 || graph_.nodes[static_cast<size_t>(p)].op != op) return nullptr;
    return &graph_.nodes[static_cast<size_t>(p)];
  }

  const Graph& graph() const { return graph_; }

  // The value of a float32 scalar constant, if `id` is one.
  std::optional<float> scalar(ValueId id) const {
    const Value& v = graph_.value(id);
    if (!v.is_constant() || v.type != DataType::kFloat32 || numel(v.dims) != 1) return std::nullopt;
    return v.initializer->data<float>()[0];
  }

 private:
  const Graph& graph_;
  std::vector<int> producer_;
  std::vector<int> uses_;
};

// One match: the fused node that replaces the matched nodes (by name: indices move as nodes go).
struct Match {
  Node fused;
  std::vector<const Node*> replaced;  // the fused node takes the place of the last one
};

Node fused_node(const Node& last, OpKind op, ValueId x, OpAttributes attrs) {
  Node n;
  n.name = last.name;
  n.op = op;
  n.inputs = {x};
  n.outputs = {last.outputs.at(0)};
  n.attrs = std::move(attrs);
  return n;
}

// Mul(x, G(x)) with G a private Sigmoid or HardSigmoid.
std::optional<Match> match_gated(const Wiring& w, const Node& mul) {
  for (int side = 0; side < 2; ++side) {
    const ValueId x = mul.inputs[static_cast<size_t>(side)];
    const ValueId gate = mul.inputs[static_cast<size_t>(1 - side)];
    if (const Node* s = w.private_producer(gate, OpKind::Sigmoid); s && s->inputs.at(0) == x)
      return Match{fused_node(mul, OpKind::Silu, x, {}), {s, &mul}};
    if (const Node* h = w.private_producer(gate, OpKind::HardSigmoid); h && h->inputs.at(0) == x) {
      const auto& p = std::get<ActivationParams>(h->attrs);
      return Match{fused_node(mul, OpKind::XHardSigmoid, x, OpAttributes().set("alpha", p.alpha).set("beta", p.beta)),
                   {h, &mul}};
    }
  }
  return std::nullopt;
}

// The operand of a binary node that is not the scalar constant `value`, when the other one is.
ValueId other_than_scalar(const Wiring& w, const Node& node, float value) {
  for (int side = 0; side < 2; ++side)
    if (w.scalar(node.inputs[static_cast<size_t>(side)]) == value) return node.inputs[static_cast<size_t>(1 - side)];
  return kNoValue;
}

// Mul(Mul(x, Add(Erf(Div(x, c)), 1)), 0.5).
std::optional<Match> match_gelu(const Wiring& w, const Node& half) {
  const Node* product = w.private_producer(other_than_scalar(w, half, 0.5f), OpKind::Mul);
  if (!product) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const ValueId x = product->inputs[static_cast<size_t>(side)];
    const Node* plus_one = w.private_producer(product->inputs[static_cast<size_t>(1 - side)], OpKind::Add);
    if (!plus_one) continue;
    const Node* erf = w.private_producer(other_than_scalar(w, *plus_one, 1.0f), OpKind::Erf);
    if (!erf) continue;
    const Node* div = w.private_producer(erf->inputs.at(0), OpKind::Div);
    if (!div || div->inputs.at(0) != x) continue;
    const std::optional<float> c = w.scalar(div->inputs.at(1));
    if (!c || !(*c > 0.0f) || !std::isfinite(*c)) continue;
    return Match{fused_node(half, OpKind::Gelu, x, OpAttributes().set("alpha", *c)), {div, erf, plus_one, product, &half}};
  }
  return std::nullopt;
}

// Div(Mul(x, Clip(Add(x, shift), 0, 6)), divisor), shift and divisor scalar constants (3 and 6 as
// exporters write hard-swish; the fused node keeps whatever the model stores).
std::optional<Match> match_clip_div(const Wiring& w, const Node& div) {
  const std::optional<float> divisor = w.scalar(div.inputs.at(1));
  if (!divisor || !(*divisor != 0.0f) || !std::isfinite(*divisor)) return std::nullopt;
  const Node* product = w.private_producer(div.inputs.at(0), OpKind::Mul);
  if (!product) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const ValueId x = product->inputs[static_cast<size_t>(side)];
    const Node* clip = w.private_producer(product->inputs[static_cast<size_t>(1 - side)], OpKind::Clip);
    if (!clip) continue;
    const auto& bounds = std::get<ActivationParams>(clip->attrs);
    if (bounds.alpha != 0.0f || bounds.beta != 6.0f) continue;
    const Node* add = w.private_producer(clip->inputs.at(0), OpKind::Add);
    if (!add) continue;
    for (int a = 0; a < 2; ++a) {
      const std::optional<float> shift = w.scalar(add->inputs[static_cast<size_t>(1 - a)]);
      if (add->inputs[static_cast<size_t>(a)] != x || !shift || !std::isfinite(*shift)) continue;
      return Match{fused_node(div, OpKind::XClipDiv, x, OpAttributes().set("alpha", *shift).set("beta", *divisor)),
                   {add, clip, product, &div}};
    }
  }
  return std::nullopt;
}

// The trailing axes [k, rank) a keepdims ReduceMean reduces: k, or -1 when it reduces others.
int64_t trailing_mean_axis(const Wiring& w, const Node& mean) {
  const auto& a = std::get<OpAttributes>(mean.attrs);
  const auto rank = static_cast<int64_t>(w.graph().value(mean.inputs.at(0)).dims.size());
  const Dims& axes = a.ints("axes");
  if (a.i("keepdims") != 1 || axes.empty()) return -1;
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != rank - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i)) return -1;
  return axes.front();
}

// A float32 constant LayerNormalization reads as Scale or B (engine/ops/layer_norm.cpp): one element,
// or the normalised dims after leading 1s.
bool is_norm_parameter(const Wiring& w, ValueId id, const Dims& normalized) {
  const Value& v = w.graph().value(id);
  if (!v.is_constant() || v.type != DataType::kFloat32) return false;
  if (numel(v.dims) == 1) return true;
  size_t lead = 0;
  while (lead < v.dims.size() && v.dims[lead] == 1 && v.dims.size() - lead > normalized.size()) ++lead;
  return Dims(v.dims.begin() + static_cast<std::ptrdiff_t>(lead), v.dims.end()) == normalized;
}

// Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))) with d = Sub(x, ReduceMean(x)), both means over the
// same trailing axes with keepdims, then Mul(., scale) and Add(., bias) when the model has them.
std::optional<Match> match_layer_norm(const Wiring& w, const Node& last) {
  const Node* add = last.op == OpKind::Add ? &last : nullptr;
  const Node* mul = nullptr;
  ValueId scale = kNoValue, bias = kNoValue;
  const auto operand = [&](const Node& n, int side) { return n.inputs[static_cast<size_t>(side)]; };
  ValueId normalized_id = kNoValue;
  if (add) {
    for (int side = 0; side < 2 && !mul; ++side)
      if (w.graph().value(operand(*add, 1 - side)).is_constant()) {
        mul = w.private_producer(operand(*add, side), OpKind::Mul);
        bias = operand(*add, 1 - side);
      }
  } else if (last.op == OpKind::Mul) {
    mul = &last;
  }
  if (!mul) return std::nullopt;
  for (int side = 0; side < 2 && normalized_id == kNoValue; ++side)
    if (w.graph().value(operand(*mul, 1 - side)).is_constant()) {
      normalized_id = operand(*mul, side);
      scale = operand(*mul, 1 - side);
    }
  const Node* div = w.private_producer(normalized_id, OpKind::Div);
  if (!div) return std::nullopt;
  const Node* sqrt = w.private_producer(div->inputs.at(1), OpKind::Sqrt);
  const Node* plus_eps = sqrt ? w.private_producer(sqrt->inputs.at(0), OpKind::Add) : nullptr;
  if (!plus_eps) return std::nullopt;
  std::optional<float> epsilon;
  const Node* variance = nullptr;
  for (int side = 0; side < 2 && !variance; ++side) {
    epsilon = w.scalar(operand(*plus_eps, 1 - side));
    if (epsilon) variance = w.private_producer(operand(*plus_eps, side), OpKind::ReduceMean);
  }
  const Node* square = variance ? w.private_producer(variance->inputs.at(0), OpKind::Pow) : nullptr;
  if (!square || w.scalar(square->inputs.at(1)) != 2.0f || square->inputs.at(0) != div->inputs.at(0)) return std::nullopt;
  const Node* centred = w.producer_read_by(div->inputs.at(0), OpKind::Sub, 2);
  if (!centred) return std::nullopt;
  const ValueId x = centred->inputs.at(0);
  const Node* mean = w.private_producer(centred->inputs.at(1), OpKind::ReduceMean);
  if (!mean || mean->inputs.at(0) != x) return std::nullopt;
  const int64_t axis = trailing_mean_axis(w, *mean);
  if (axis < 0 || trailing_mean_axis(w, *variance) != axis) return std::nullopt;
  const Dims& x_dims = w.graph().value(x).dims;
  const Dims normalized(x_dims.begin() + axis, x_dims.end());
  if (!is_norm_parameter(w, scale, normalized) || (bias != kNoValue && !is_norm_parameter(w, bias, normalized)))
    return std::nullopt;
  Node fused = fused_node(last, OpKind::LayerNormalization, x,
                          OpAttributes().set("axis", axis).set("epsilon", *epsilon));
  fused.inputs = {x, scale};
  if (bias != kNoValue) fused.inputs.push_back(bias);
  std::vector<const Node*> replaced = {mean, centred, square, variance, plus_eps, sqrt, div, mul};
  if (add) replaced.push_back(add);
  return Match{std::move(fused), std::move(replaced)};
}

// The pattern that ends at `node`, if any.
std::optional<Match> match_pattern(const Wiring& w, const Node& node) {
  if (node.op == OpKind::Add) return match_layer_norm(w, node);
  if (node.op == OpKind::Div) return match_clip_div(w, node);
  if (node.op != OpKind::Mul) return std::nullopt;
  if (std::optional<Match> m = match_gelu(w, node)) return m;
  if (std::optional<Match> m = match_gated(w, node)) return m;
  return match_layer_norm(w, node);  // the bias-free form ends in its Mul
}

// One pass over the graph; returns whether it fused anything. Last node first, so that a pattern is
// matched from its end: LayerNorm's final Add before the Mul that ends its bias-free form.
bool fuse_once(Graph& graph) {
  const Wiring wiring(graph);
  for (auto it = graph.nodes.rbegin(); it != graph.nodes.rend(); ++it) {
    const Node& node = *it;
    std::optional<Match> m = match_pattern(wiring, node);
    if (!m) continue;
    for (const Node* r : m->replaced)
      if (r != m->replaced.back()) m->fused.fused_nodes.push_back(r->name);
    std::vector<bool> removed(graph.nodes.size(), false);
    for (const Node* r : m->replaced) removed[static_cast<size_t>(r - graph.nodes.data())] = true;
    const size_t last = static_cast<size_t>(m->replaced.back() - graph.nodes.data());
    graph.nodes[last] = std::move(m->fused);
    removed[last] = false;
    std::vector<Node> kept;
    for (size_t i = 0; i < graph.nodes.size(); ++i)
      if (!removed[i]) kept.push_back(std::move(graph.nodes[i]));
    graph.nodes = std::move(kept);
    return true;
  }
  return false;
}

}  // namespace

void fuse_patterns(Graph& graph) {
  while (fuse_once(graph)) {
  }
}

// Patterns share no nodes (their intermediates are read inside them only), so one look at the
// unfused graph, from the end as fuse_once looks, finds what the repeated fusion passes fuse.
std::vector<ValueId> fused_pattern_outputs(const Graph& graph) {
  const Wiring wiring(graph);
  std::vector<ValueId> outputs;
  std::vector<bool> inside(graph.values.size(), false);  // values a found pattern already holds
  for (auto it = graph.nodes.rbegin(); it != graph.nodes.rend(); ++it) {
    if (inside[static_cast<size_t>(it->outputs.at(0))]) continue;
    const std::optional<Match> m = match_pattern(wiring, *it);
    if (!m) continue;
    outputs.push_back(it->outputs.at(0));
    for (const Node* r : m->replaced) inside[static_cast<size_t>(r->outputs.at(0))] = true;
  }
  std::reverse(outputs.begin(), outputs.end());
  return outputs;
}

}  // namespace octet
