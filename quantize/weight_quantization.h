// Pass 3 of the INT8 builder (quantize/int8_builder.h): per-output-channel int8 weights of the INT8
// Conv and Gemm layers (quantize/qscheme.h, kernels::quantize_weights_per_channel).
#pragma once

#include <vector>

#include "engine/graph.h"

namespace octet {

struct QuantizedWeights {
  Tensor weights;             // int8: Conv KCRS as given; Gemm [N_out, K_in]
  std::vector<float> scales;  // one per output channel (dim 0 of `weights`)
};

QuantizedWeights quantize_conv_weights(const Tensor& kcrs);
// B [K_in, N_out] (trans_b false) or [N_out, K_in] (trans_b true) -> [N_out, K_in].
QuantizedWeights quantize_gemm_weights(const Tensor& b, bool trans_b);

// Every INT8 Conv/Gemm (Node::precision) of `graph` reads int8 weights afterwards: the model's own
// integers and scales when an explicitly quantized model gave them (engine/graph.h Value::quantized,
// per output channel or per tensor, still equal to the float weights), else quantized here; the node
// holds their scales in Node::weight_scales. A Gemm gets trans_b = true (and beta = 1 when it has no C, where
// beta meant nothing). A weight read by this node alone is replaced in place (same value, same
// name); a shared one gets a new value "<weight>:int8" so other readers keep the float weights.
// Float weights nobody reads any more stay in the graph until the builder drops them.
void quantize_layer_weights(Graph& graph);

}  // namespace octet
