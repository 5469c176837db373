#include "quantize/precision_assignment.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/channel_scale.h"
#include "engine/error.h"
#include "engine/nearest_names.h"
#include "engine/node_validation.h"
#include "engine/op_registry.h"

namespace octet {
namespace {

// An int32 accumulator holds K products of int8 values when K * 128 * 128 < 2^31 (qscheme.h).
constexpr int64_t kMaxDotLength = (int64_t{1} << 17) - 1;

// An INT8 Concat writes all its inputs at one scale, its output's. When one input's range is more
// than this many times narrower than another's, the narrow one keeps fewer than 127 / 4 ~ 32 of the
// 127 levels, and a convolution reading the Concat sees it as noise. U²-Net's decoder joins a
// Resize of the stage below (range 227) with the encoder's skip tensor (range 18): 10 levels, and
// the convolution after it fell to -5.6 dB SQNR (docs/real_models.md). Such a Concat and every
// layer reading its output run FP32.
constexpr float kMaxConcatRangeRatio = 4.0f;

bool is_reshape(OpKind op) { return op == OpKind::Reshape || op == OpKind::Identity; }

// An INT8 layer that moves values without computing new ones writes its input's scale on every
// output: MaxPool and the registered data movement (Slice, Split, nearest Resize; engine/op_registry.h).
bool passes_scale_through(OpKind op) { return op == OpKind::MaxPool || is_int8_data_movement(op); }

// The inputs an INT8 layer reads as int8 activations (weights, bias and residual are not among them).
std::vector<size_t> int8_activation_slots(const Node& node) {
  if (node.op == OpKind::Concat || node.op == OpKind::Add) {
    std::vector<size_t> all(node.inputs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    return all;
  }
  return has_int8_layer(node.op) ? std::vector<size_t>{0} : std::vector<size_t>{};
}

// [N, C, 1, 1] <-> [N, C] (either direction, or the same shape): one pixel of C channels, the same
// bytes in NCHW and in NHWCp, so an int8 tensor passes through unchanged on every backend.
bool is_noop_on_nhwc(const Dims& in, const Dims& out) {
  const auto one_pixel = [](const Dims& d) { return d.size() == 2 || (d.size() == 4 && d[2] == 1 && d[3] == 1); };
  return one_pixel(in) && one_pixel(out) && in[0] == out[0] && in[1] == out[1];
}

template <typename Rule>
const Rule* first_match(const std::vector<Rule>& rules, const std::string& layer) {
  for (const Rule& rule : rules)
    if (wildcard_match(rule.pattern, layer)) return &rule;
  return nullptr;
}

const char* type_name(Precision precision) { return precision == Precision::kInt8 ? "int8" : "fp32"; }
const char* type_name(DataType type) { return type == DataType::kInt8 ? "int8" : "fp32"; }

std::string rule_text(const LayerPrecisionRule& rule) { return rule.pattern + ":" + type_name(rule.precision); }
std::string rule_text(const LayerOutputTypeRule& rule) { return rule.pattern + ":" + type_name(rule.type); }

// Every rule must match a layer: a typo would otherwise silently change nothing.
template <typename Rule>
void require_matches(const char* flag, const std::vector<Rule>& rules, const std::vector<std::string>& layers) {
  for (const Rule& rule : rules) {
    bool matched = false;
    for (const std::string& layer : layers) matched = matched || wildcard_match(rule.pattern, layer);
    OCTET_CHECK(matched, flag, " rule '", rule_text(rule), "': no layer matches ",
                quoted_with_nearest(rule.pattern, layers, "none, the model has no layers"));
  }
}

// ---- structural conditions of the INT8 kernels (scales aside) -------------------------------------

std::string activation_inputs_obstacle(const Graph& graph, const Node& node) {
  for (size_t slot : int8_activation_slots(node)) {
    const Value& v = graph.value(node.inputs[slot]);
    if (v.is_constant()) return "input '" + v.name + "' is a constant, not an activation";
    if (v.type != DataType::kFloat32) return "input '" + v.name + "' is " + to_string(v.type) + ", not float32";
  }
  return "";
}

std::string dot_length_obstacle(int64_t length) {
  if (length <= kMaxDotLength) return "";
  return "a dot product of " + std::to_string(length) + " int8 terms could overflow int32 (limit 131071)";
}

bool is_float_constant(const Graph& graph, ValueId id) {
  return graph.value(id).is_constant() && graph.value(id).type == DataType::kFloat32;
}

std::string conv_obstacle(const Graph& graph, const Node& node) {
  const Value& x = graph.value(node.inputs[0]);
  const Value& w = graph.value(node.inputs[1]);
  if (x.dims.size() != 4) return "a 1-D convolution has no INT8 kernel (input " + to_string(x.dims) + ")";
  if (!is_float_constant(graph, node.inputs[1]) || w.dims.size() != 4)
    return "weight '" + w.name + "' is not a float32 KCRS constant";
  if (node.inputs.size() > 2 && node.inputs[2] != kNoValue && !is_float_constant(graph, node.inputs[2]))
    return "bias '" + graph.value(node.inputs[2]).name + "' is not a float32 constant";
  return dot_length_obstacle(numel(w.dims) / w.dims[0]);
}

// An INT8 Gemm is X [M, K_in] * W[N_out, K_in]^T + bias[N_out]: the builder can transpose a constant
// B, not A, and folds no alpha/beta.
std::string gemm_obstacle(const Graph& graph, const Node& node) {
  const auto& a = std::get<GemmAttrs>(node.attrs);
  const Value& b = graph.value(node.inputs[1]);
  const bool has_c = node.inputs.size() > 2 && node.inputs[2] != kNoValue;
  if (a.trans_a) return "A is transposed (transA = 1)";
  if (a.alpha != 1.0f) return "alpha is " + std::to_string(a.alpha) + ", not 1";
  if (has_c && a.beta != 1.0f) return "beta is " + std::to_string(a.beta) + ", not 1";
  if (!is_float_constant(graph, node.inputs[1]) || b.dims.size() != 2)
    return "B '" + b.name + "' is not a float32 constant matrix";
  const int64_t n_out = a.trans_b ? b.dims[0] : b.dims[1];
  const int64_t k_in = a.trans_b ? b.dims[1] : b.dims[0];
  if (has_c) {
    const Value& c = graph.value(node.inputs[2]);
    const bool bias_shape = c.dims == Dims{n_out} || c.dims == Dims{1, n_out};
    if (!is_float_constant(graph, node.inputs[2]) || !bias_shape)
      return "C '" + c.name + "' " + to_string(c.dims) + " is not a float32 [" + std::to_string(n_out) + "] constant";
  }
  return dot_length_obstacle(k_in);
}

std::string pool_obstacle(const Graph& graph, const Node& node) {
  const Value& x = graph.value(node.inputs[0]);
  if (x.dims.size() != 4) return "an INT8 pooling takes [N, C, H, W], input is " + to_string(x.dims);
  if (node.outputs.size() > 1 && node.outputs[1] != kNoValue) return "MaxPool writes Indices (no INT8 kernel does)";
  return "";
}

// A Mul runs INT8 only as a channel scale with x first (engine/channel_scale.h; the FP32 passes put
// it first).
std::string mul_obstacle(const Graph& graph, const Node& node) {
  if (channel_scale_gate_slot(graph, node) == size_t{1}) return "";
  return "a Mul has an INT8 layer only as a channel scale, x [N, C, H, W] times a gate [N or 1, C, 1, 1]";
}

// An INT8 Add joins two activations of one shape (a residual after its activation: YOLOv8's
// bottlenecks); an Add that broadcasts (a bias, an anchor grid) stays float.
std::string add_obstacle(const Graph& graph, const Node& node) {
  const Value& a = graph.value(node.inputs[0]);
  const Value& b = graph.value(node.inputs[1]);
  if (a.dims != b.dims || (a.dims.size() != 4 && a.dims.size() != 2))
    return "an INT8 Add joins two tensors of one shape, [N, C, H, W] or [N, C] (here " + to_string(a.dims) + " and " +
           to_string(b.dims) + ")";
  return "";
}

std::string concat_obstacle(const Graph& graph, const Node& node) {
  const Value& y = graph.value(node.outputs[0]);
  if (std::get<ConcatAttrs>(node.attrs).axis != 1 || (y.dims.size() != 4 && y.dims.size() != 2))
    return "an INT8 Concat joins channels (axis 1) of [N, C, H, W] or [N, C]";
  return "";
}

// Why `node` cannot run INT8 whatever the scales; "" when it can.
std::string structural_obstacle(const Graph& graph, const Node& node) {
  if (!has_int8_layer(node.op)) return std::string(to_string(node.op)) + " has no INT8 implementation";
  if (std::string why = activation_inputs_obstacle(graph, node); !why.empty()) return why;
  // has_int8_layer() let through Conv, Gemm, Concat, Add, Mul, the three pools and the registered data movement.
  if (is_int8_data_movement(node.op)) return op_def(node.op).int8_obstacle(graph, node);
  if (node.op == OpKind::Conv) return conv_obstacle(graph, node);
  if (node.op == OpKind::Gemm) return gemm_obstacle(graph, node);
  if (node.op == OpKind::Concat) return concat_obstacle(graph, node);
  if (node.op == OpKind::Add) return add_obstacle(graph, node);
  if (node.op == OpKind::Mul) return mul_obstacle(graph, node);
  return pool_obstacle(graph, node);
}


std::string reshape_reason(OpKind op) {
  return std::string("a ") + to_string(op) +
         " moves int8 only as [N, C, 1, 1] <-> [N, C] from an INT8 layer to INT8 readers";
}

// Conv and Gemm may write float32 from the INT8 kernel; pools, Concat, Add, Mul and data movement write int8 only.
bool can_write_float(OpKind op) { return op == OpKind::Conv || op == OpKind::Gemm; }

// How a node reads one of its inputs, once precisions are known.
enum class Vote { kInt8, kFloat, kEither };

struct Reader {
  size_t node;
  size_t slot;
};

class PrecisionAssigner {
 public:
  PrecisionAssigner(const Graph& graph, const std::map<std::string, float>& table, const BuildConfig& config)
      : graph_(graph),
        table_(table),
        config_(config),
        readers_(graph.values.size()),
        graph_output_(graph.values.size(), false),
        carrier_(graph.nodes.size(), false),
        asked_fp32_(graph.nodes.size(), false) {
    for (size_t i = 0; i < graph.nodes.size(); ++i)
      for (size_t slot = 0; slot < graph.nodes[i].inputs.size(); ++slot)
        if (graph.nodes[i].inputs[slot] != kNoValue) readers_[index(graph.nodes[i].inputs[slot])].push_back({i, slot});
    for (ValueId id : graph.outputs) graph_output_[index(id)] = true;
    plan_.layers.resize(graph.nodes.size());
    plan_.scales.resize(graph.values.size());
    for (ValueId id : graph.inputs) plan_.scales[index(id)] = table_scale(id);
  }

  PrecisionPlan run() {
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      decide_precision(i);
      resolve_output_scales(i);
    }
    for (size_t i = graph_.nodes.size(); i-- > 0;) {
      demote_if_unread(i);
      carrier_[i] = is_carrier_candidate(i);
    }
    for (size_t i = 0; i < graph_.nodes.size(); ++i) decide_output_type(i);
    assign_value_types();
    check_late_requests();
    return std::move(plan_);
  }

 private:
  static size_t index(ValueId id) { return static_cast<size_t>(id); }
  const Node& node(size_t i) const { return graph_.nodes[i]; }
  const Value& value(ValueId id) const { return graph_.value(id); }
  bool is_int8(size_t i) const { return plan_.layers[i].precision == Precision::kInt8; }

  std::optional<float> table_scale(ValueId id) const {
    const auto it = table_.find(value(id).name);
    if (it == table_.end()) return std::nullopt;
    return it->second;
  }

  void note_missing_scale(ValueId id) {
    if (missing_.insert(id).second) plan_.tensors_without_scale.push_back(value(id).name);
  }

  // A rule asked for something the layer cannot do: TensorRT's three meanings of the constraints.
  void request_failed(size_t i, const std::string& message) {
    const std::string text = node_label(node(i)) + ": " + message;
    switch (config_.constraints) {
      case PrecisionConstraints::kNone: return;
      case PrecisionConstraints::kPrefer: plan_.warnings.push_back(text); return;
      case PrecisionConstraints::kObey: throw Error(text + " (--precision-constraints obey)");
    }
  }

  // ---- pass 1 ----------------------------------------------------------------------------------

  // Why node i cannot run INT8 with the scales at hand; "" when it can. Notes missing scales only
  // when they are the last obstacle, so the list names what a user could add to the table.
  std::string int8_obstacle(size_t i) {
    const Node& n = node(i);
    if (is_reshape(n.op)) return reshape_reason(n.op);  // never INT8 itself; may carry int8 (pass 2)
    if (std::string why = structural_obstacle(graph_, n); !why.empty()) return why;
    if (!can_write_float(n.op)) {
      if (const LayerOutputTypeRule* rule = first_match(config_.layer_output_types, n.name);
          rule && rule->type == DataType::kFloat32)
        return "--layer-output-types asks fp32 ('" + rule_text(*rule) + "') and an INT8 " + to_string(n.op) +
               " writes int8 only";
    }
    std::string missing;
    for (size_t slot : int8_activation_slots(n)) {
      if (plan_.scales[index(n.inputs[slot])]) continue;
      note_missing_scale(n.inputs[slot]);
      if (missing.empty()) missing = "no scale for input '" + value(n.inputs[slot]).name + "'";
    }
    // Conv/Gemm fall back to float output without an output scale; the others need one (MaxPool and
    // data movement keep their input's).
    const bool needs_output_scale = !can_write_float(n.op) && !passes_scale_through(n.op);
    if (needs_output_scale && !table_scale(n.outputs[0])) {
      note_missing_scale(n.outputs[0]);
      if (missing.empty()) missing = "no scale for output '" + value(n.outputs[0]).name + "'";
    }
    if (!missing.empty()) return missing;
    if (config_.explicit_quantization && is_int8_data_movement(n.op)) return requantized_output(i);
    if (config_.explicit_quantization || asks_int8(i)) return "";
    for (size_t slot : int8_activation_slots(n))
      if (const auto it = mixed_range_.find(n.inputs[slot]); it != mixed_range_.end()) return it->second;
    return n.op == OpKind::Concat ? mixed_range_obstacle(i) : "";
  }

  // An explicitly quantized model may round a data-movement output at a scale of its own (a Q/DQ
  // pair after a Split); the INT8 layer would pass the input's through instead, so that node runs
  // FP32 and the model's Q/DQ pairs round as written.
  std::string requantized_output(size_t i) const {
    const Node& n = node(i);
    const float in = *plan_.scales[index(n.inputs[0])];
    for (ValueId out : n.outputs)
      if (const auto s = out == kNoValue ? std::nullopt : table_scale(out); s && *s != in)
        return "output '" + value(out).name + "' is quantized at a scale other than its input's";
    return "";
  }

  bool asks_int8(size_t i) const {
    const LayerPrecisionRule* rule = first_match(config_.layer_precisions, node(i).name);
    return rule && rule->precision == Precision::kInt8;
  }

  // Why Concat i's inputs cannot share one int8 scale (kMaxConcatRangeRatio); "" when they can. Notes
  // the output, so that its readers run FP32 too.
  std::string mixed_range_obstacle(size_t i) {
    const Node& n = node(i);
    const auto scale = [this](ValueId id) { return *plan_.scales[index(id)]; };
    const auto [narrowest, widest] = std::minmax_element(
        n.inputs.begin(), n.inputs.end(), [&scale](ValueId a, ValueId b) { return scale(a) < scale(b); });
    const float wide = scale(*widest), narrow = scale(*narrowest);
    if (!(wide > kMaxConcatRangeRatio * narrow)) return "";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.1fx", wide / narrow);
    const std::string& narrow_name = value(*narrowest).name;
    const std::string apart = "ranges " + std::string(ratio) + " apart ('" + value(*widest).name + "' and '" +
                              narrow_name + "'; at one int8 scale '" + narrow_name + "' keeps " +
                              std::to_string(static_cast<int>(127.0f * narrow / wide)) + " of 127 levels)";
    mixed_range_[n.outputs[0]] = "input '" + value(n.outputs[0]).name + "' of " + node_label(n) + " joins " + apart;
    return "it joins " + apart;
  }

  void decide_precision(size_t i) {
    const Node& n = node(i);
    LayerDecision& decision = plan_.layers[i];
    decision.layer = n.name;
    decision.op = n.op;
    const LayerPrecisionRule* rule = first_match(config_.layer_precisions, n.name);
    if (rule && rule->precision == Precision::kFloat32) {
      decision.reason = "--layer-precisions asks fp32 ('" + rule_text(*rule) + "')";
      asked_fp32_[i] = true;
      return;
    }
    decision.reason = config_.int8 ? int8_obstacle(i) : "INT8 is not enabled";
    if (decision.reason.empty()) {
      decision.precision = Precision::kInt8;
      return;
    }
    // A reshape's request is judged once pass 2 knows whether it moves int8.
    if (rule && !is_reshape(n.op))
      request_failed(i,
                     "--layer-precisions asks int8 ('" + rule_text(*rule) + "') but it runs fp32: " + decision.reason);
  }

  void resolve_output_scales(size_t i) {
    const Node& n = node(i);
    for (ValueId out : n.outputs)
      if (out != kNoValue) plan_.scales[index(out)] = table_scale(out);
    const ValueId in = n.inputs[0];
    const bool passes = passes_scale_through(n.op) && is_int8(i);
    if (passes || (is_reshape(n.op) && plan_.scales[index(in)]))
      for (ValueId out : n.outputs)
        if (out != kNoValue) plan_.scales[index(out)] = plan_.scales[index(in)];
    // A reshape, MaxPool or data movement of a mixed-range Concat's output holds the same mixed ranges.
    if (is_reshape(n.op) || passes_scale_through(n.op))
      if (const auto it = mixed_range_.find(in); it != mixed_range_.end())
        for (ValueId out : n.outputs)
          if (out != kNoValue) mixed_range_[out] = it->second;
  }

  // ---- pass 2 ----------------------------------------------------------------------------------

  Vote vote(const Reader& reader) const {
    const Node& n = node(reader.node);
    if (is_int8(reader.node)) {
      for (size_t slot : int8_activation_slots(n))
        if (slot == reader.slot) return Vote::kInt8;
      return reader.slot == 3 ? Vote::kEither : Vote::kFloat;  // the fused residual takes either type
    }
    return carrier_[reader.node] && reader.slot == 0 ? Vote::kInt8 : Vote::kFloat;
  }

  // The first reader of `id` that needs float32, or nullptr when every reader takes int8.
  const Reader* float_reader(ValueId id) const {
    for (const Reader& reader : readers_[index(id)])
      if (vote(reader) == Vote::kFloat) return &reader;
    return nullptr;
  }

  // Readers come after their producers, so walking the nodes backwards decides a chain of
  // reshapes from its end.
  bool is_carrier_candidate(size_t i) const {
    const Node& n = node(i);
    if (!config_.int8 || !is_reshape(n.op) || asked_fp32_[i]) return false;
    const ValueId in = n.inputs[0], out = n.outputs[0];
    if (value(in).is_constant() || n.outputs.size() != 1 || graph_output_[index(out)]) return false;
    return is_noop_on_nhwc(value(in).dims, value(out).dims) && float_reader(out) == nullptr;
  }

  // An INT8 pool, Concat, Add, Mul or data movement writes int8 only. When no layer reads its outputs as
  // int8 (a detector head's Concat feeding Reshape/Sigmoid/decode, a graph output), INT8 buys nothing but a rounding
  // of the output at one scale for all its inputs: YOLOv8's head Concat joins box-distribution
  // logits and class logits, and entropy's clipped range lifts every class logit above the score
  // threshold. Such a layer runs FP32 unless a --layer-precisions rule asks int8, or the model is
  // explicitly quantized (its Q/DQ nodes say what is int8). Readers come after their producers, so
  // walking backwards sees every reader decided, and a demoted Concat in turn frees its producers
  // to write float32.
  void demote_if_unread(size_t i) {
    const Node& n = node(i);
    if (!is_int8(i) || can_write_float(n.op) || config_.explicit_quantization || asks_int8(i)) return;
    for (ValueId out : n.outputs)
      if (out != kNoValue)
        for (const Reader& reader : readers_[index(out)])
          if (vote(reader) == Vote::kInt8) return;
    LayerDecision& decision = plan_.layers[i];
    decision.precision = Precision::kFloat32;
    decision.reason = n.outputs.size() == 1 ? "no layer reads output '" + value(n.outputs[0]).name + "' as int8"
                                            : "no layer reads any of its outputs as int8";
  }

  void decide_output_type(size_t i) {
    LayerDecision& decision = plan_.layers[i];
    if (!is_int8(i)) return;
    decision.output_type = DataType::kInt8;
    const Node& n = node(i);
    if (!can_write_float(n.op)) return;
    const ValueId out = n.outputs[0];
    const std::string name = "output '" + value(out).name + "'";
    const LayerOutputTypeRule* rule = first_match(config_.layer_output_types, n.name);
    std::string why_float;
    if (rule && rule->type == DataType::kFloat32) {
      why_float = "--layer-output-types asks fp32 ('" + rule_text(*rule) + "')";
    } else if (!plan_.scales[index(out)]) {
      why_float = "no scale for " + name;
      if (rule) note_missing_scale(out);
    } else if (graph_output_[index(out)] && !config_.explicit_quantization) {
      why_float = name + " is a graph output (graph outputs are float32)";
    } else if (const Reader* reader = float_reader(out); reader && !rule && !config_.explicit_quantization) {
      why_float = name + " is read as float32 by " + node_label(node(reader->node));
    }
    if (why_float.empty()) return;
    decision.output_type = DataType::kFloat32;
    decision.reason = why_float;
  }

  void assign_value_types() {
    plan_.value_types.resize(graph_.values.size());
    for (size_t v = 0; v < graph_.values.size(); ++v) plan_.value_types[v] = graph_.values[v].type;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = node(i);
      LayerDecision& decision = plan_.layers[i];
      const size_t out = index(n.outputs[0]);
      if (is_int8(i)) {
        for (ValueId id : n.outputs)
          if (id != kNoValue) plan_.value_types[index(id)] = decision.output_type;
      } else if (carrier_[i] && plan_.value_types[index(n.inputs[0])] == DataType::kInt8) {
        plan_.value_types[out] = DataType::kInt8;
        decision.reason.clear();
      }
      decision.output_type = plan_.value_types[out];
    }
  }

  // Requests judged on the final types: int8 output, int8 "precision" of a reshape (it moves int8).
  void check_late_requests() {
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const LayerPrecisionRule* precision = first_match(config_.layer_precisions, node(i).name);
      if (is_reshape(node(i).op) && precision && precision->precision == Precision::kInt8 &&
          plan_.layers[i].output_type != DataType::kInt8)
        request_failed(i, "--layer-precisions asks int8 ('" + rule_text(*precision) +
                              "') but it moves fp32: " + plan_.layers[i].reason);
      const LayerOutputTypeRule* rule = first_match(config_.layer_output_types, node(i).name);
      if (!rule || rule->type != DataType::kInt8 || plan_.layers[i].output_type == DataType::kInt8) continue;
      request_failed(i, "--layer-output-types asks int8 ('" + rule_text(*rule) +
                            "') but it writes fp32: " + plan_.layers[i].reason);
    }
  }

  const Graph& graph_;
  const std::map<std::string, float>& table_;
  const BuildConfig& config_;
  std::vector<std::vector<Reader>> readers_;  // per value
  std::vector<bool> graph_output_;            // per value
  std::vector<bool> carrier_;                 // per node: a reshape that may move int8
  std::vector<bool> asked_fp32_;              // per node: a --layer-precisions rule asks fp32
  std::set<ValueId> missing_;
  std::map<ValueId, std::string> mixed_range_;  // mixed-range Concat outputs (and reshapes, MaxPools of them): why no INT8 layer reads them
  PrecisionPlan plan_;
};

}  // namespace

bool is_int8_activation_input(const Node& node, size_t slot) {
  const std::vector<size_t> slots = int8_activation_slots(node);
  return std::find(slots.begin(), slots.end(), slot) != slots.end();
}

PrecisionPlan assign_precisions(const Graph& graph, const std::map<std::string, float>& scales,
                                const BuildConfig& config) {
  std::vector<std::string> layers;
  for (const Node& node : graph.nodes) layers.push_back(node.name);
  require_matches("--layer-precisions", config.layer_precisions, layers);
  require_matches("--layer-output-types", config.layer_output_types, layers);
  return PrecisionAssigner(graph, scales, config).run();
}

}  // namespace octet
