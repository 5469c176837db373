#include "quantize/weight_quantization.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "engine/qdq_constants.h"
#include "kernels/cpu/int8_ref.h"

namespace octet {
namespace {

QuantizedWeights quantize_rows(const float* rows, int64_t channels, int64_t row_length, Dims dims) {
  QuantizedWeights result;
  result.weights = Tensor(DataType::kInt8, std::move(dims));
  result.scales = kernels::quantize_weights_per_channel(rows, channels, row_length, result.weights.data<int8_t>());
  return result;
}

// [K_in, N_out] -> [N_out, K_in], so that every output channel is one contiguous row.
std::vector<float> transposed(const float* b, int64_t k_in, int64_t n_out) {
  std::vector<float> t(static_cast<size_t>(k_in * n_out));
  for (int64_t k = 0; k < k_in; ++k)
    for (int64_t n = 0; n < n_out; ++n) t[static_cast<size_t>(n * k_in + k)] = b[k * n_out + n];
  return t;
}

size_t reader_count(const Graph& graph, ValueId id) {
  size_t count = 0;
  for (const Node& node : graph.nodes)
    for (ValueId input : node.inputs) count += input == id;
  for (ValueId output : graph.outputs) count += output == id;
  return count;
}

// Puts `quantized` where node.inputs[1] was: in place when the node is the only reader.
void install_weights(Graph& graph, Node& node, QuantizedWeights quantized) {
  const ValueId original = node.inputs[1];
  node.weight_scales = std::move(quantized.scales);
  Value weights;
  weights.type = DataType::kInt8;
  weights.dims = quantized.weights.dims();
  weights.initializer = std::move(quantized.weights);
  if (reader_count(graph, original) == 1) {
    weights.name = graph.value(original).name;
    graph.value(original) = std::move(weights);
    return;
  }
  weights.name = graph.value(original).name + ":int8";
  for (int suffix = 2; graph.find_value(weights.name) != kNoValue; ++suffix)
    weights.name = graph.value(original).name + ":int8_" + std::to_string(suffix);
  node.inputs[1] = graph.add_value(std::move(weights));
}

// The int8 weights an explicitly quantized model gave (Value::quantized), one scale per output
// channel, when they still describe the float initializer exactly; nullopt otherwise (no record, a
// per-axis scale along another axis than `channel_axis`, or a pass rewrote the floats, e.g. a folded
// BatchNormalization). `transpose`: the stored weights are [K_in, N_out] (a Gemm without transB) and
// the result must be [N_out, K_in].
std::optional<QuantizedWeights> weights_from_model(const Value& w, int64_t channel_axis, bool transpose) {
  if (!w.quantized || w.quantized->values.type() != DataType::kInt8) return std::nullopt;
  const ConstantQuantization& q = *w.quantized;
  if (q.scales.size() > 1 && q.axis != channel_axis) return std::nullopt;
  const Tensor floats = dequantize_constant(q.values, QdqScales{q.scales, q.axis});
  if (floats.dims() != w.initializer->dims() ||
      std::memcmp(floats.data<float>(), w.initializer->data<float>(), static_cast<size_t>(floats.numel()) * sizeof(float)))
    return std::nullopt;
  const int64_t channels = q.values.dims().at(static_cast<size_t>(channel_axis));
  const int64_t row = q.values.numel() / channels;
  QuantizedWeights result;
  result.scales = q.scales.size() > 1 ? q.scales : std::vector<float>(static_cast<size_t>(channels), q.scales[0]);
  if (!transpose) {
    result.weights = q.values;
    return result;
  }
  result.weights = Tensor(DataType::kInt8, {channels, row});
  const int8_t* in = q.values.data<int8_t>();
  int8_t* out = result.weights.data<int8_t>();
  for (int64_t k = 0; k < row; ++k)
    for (int64_t n = 0; n < channels; ++n) out[n * row + k] = in[k * channels + n];
  return result;
}

// The model's own integers when it gave them (its DequantizeLinear then counts as fused into the
// node), else octet's per-channel quantization of the floats.
template <class Quantize>
QuantizedWeights layer_weights(Node& node, const Value& w, int64_t channel_axis, bool transpose, Quantize quantize) {
  if (std::optional<QuantizedWeights> given = weights_from_model(w, channel_axis, transpose)) {
    node.fused_nodes.push_back(w.quantized->node);
    return std::move(*given);
  }
  return quantize(*w.initializer);
}

}  // namespace

QuantizedWeights quantize_conv_weights(const Tensor& kcrs) {
  const int64_t channels = kcrs.dims().at(0);
  return quantize_rows(kcrs.data<float>(), channels, kcrs.numel() / channels, kcrs.dims());
}

QuantizedWeights quantize_gemm_weights(const Tensor& b, bool trans_b) {
  const int64_t n_out = trans_b ? b.dims().at(0) : b.dims().at(1);
  const int64_t k_in = trans_b ? b.dims().at(1) : b.dims().at(0);
  if (trans_b) return quantize_rows(b.data<float>(), n_out, k_in, {n_out, k_in});
  const std::vector<float> rows = transposed(b.data<float>(), k_in, n_out);
  return quantize_rows(rows.data(), n_out, k_in, {n_out, k_in});
}

void quantize_layer_weights(Graph& graph) {
  for (Node& node : graph.nodes) {
    if (node.precision != Precision::kInt8 || (node.op != OpKind::Conv && node.op != OpKind::Gemm)) continue;
    const Value& w = graph.value(node.inputs.at(1));
    if (node.op == OpKind::Conv) {
      install_weights(graph, node, layer_weights(node, w, 0, false, quantize_conv_weights));
    } else if (node.op == OpKind::Gemm) {
      auto& attrs = std::get<GemmAttrs>(node.attrs);
      const bool trans_b = attrs.trans_b;
      install_weights(graph, node, layer_weights(node, w, trans_b ? 0 : 1, !trans_b, [trans_b](const Tensor& b) {
                        return quantize_gemm_weights(b, trans_b);
                      }));
      attrs.trans_b = true;
      attrs.beta = 1.0f;  // 1 already when C is present (precision assignment requires it)
    }
  }
}

}  // namespace octet
