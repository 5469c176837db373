// Pattern fusions (engine/pattern_fusion.h).
#include "engine/pattern_fusion.h"

#include <cmath>
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

std::optional<Match> match_pattern(const Wiring& w, const Node& node) {
  if (node.op == OpKind::Div) return match_clip_div(w, node);
  if (node.op != OpKind::Mul) return std::nullopt;
  std::optional<Match> m = match_gelu(w, node);
  return m ? m : match_gated(w, node);
}

// One pass over the graph; returns whether it fused anything.
bool fuse_once(Graph& graph) {
  const Wiring wiring(graph);
  for (const Node& node : graph.nodes) {
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

void fuse_activation_patterns(Graph& graph) {
  while (fuse_once(graph)) {
  }
}

// Patterns share no nodes (every intermediate has one reader), so one look at the unfused graph
// finds what the repeated fusion passes fuse.
std::vector<ValueId> activation_pattern_outputs(const Graph& graph) {
  const Wiring wiring(graph);
  std::vector<ValueId> outputs;
  for (const Node& node : graph.nodes)
    if (match_pattern(wiring, node)) outputs.push_back(node.outputs.at(0));
  return outputs;
}

}  // namespace octet
