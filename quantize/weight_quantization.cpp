#include "quantize/weight_quantization.h"

#include <string>
#include <utility>

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
    if (node.precision != Precision::kInt8) continue;
    if (node.op == OpKind::Conv) {
      install_weights(graph, node, quantize_conv_weights(*graph.value(node.inputs[1]).initializer));
    } else if (node.op == OpKind::Gemm) {
      auto& attrs = std::get<GemmAttrs>(node.attrs);
      install_weights(graph, node, quantize_gemm_weights(*graph.value(node.inputs[1]).initializer, attrs.trans_b));
      attrs.trans_b = true;
      attrs.beta = 1.0f;  // 1 already when C is present (precision assignment requires it)
    }
  }
}

}  // namespace octet
