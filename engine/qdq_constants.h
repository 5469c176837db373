// The arithmetic of ONNX QuantizeLinear / DequantizeLinear on constants, as octet folds them at
// import (engine/onnx_import.cpp): per tensor (one scale) or per axis (one scale per index of `axis`,
// opset 13+). Symmetric only: the zero point is 0, so
//   QuantizeLinear:   q = saturate_int8(round_half_even(x / scale))   quant::quantize
//   DequantizeLinear: x = float(q) * scale                             quant::dequantize
// (quantize/qscheme.h; ONNX's definitions with zero point 0). int32 inputs (biases that a quantizer
// stored as int32 with scale input_scale * weight_scale) dequantize the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace octet {

struct QdqScales {
  std::vector<float> scales;  // one: per tensor; else one per index of `axis`
  int64_t axis = 0;           // non-negative
  bool per_axis() const { return scales.size() > 1; }
};

// The scale of element `index` of a tensor of `dims`.
float scale_of_element(const QdqScales& q, const Dims& dims, int64_t index);

// float32 -> int8; int8 or int32 -> float32. The caller has checked that a per-axis scale vector has
// dims[axis] entries.
Tensor quantize_constant(const Tensor& x, const QdqScales& q);
Tensor dequantize_constant(const Tensor& q, const QdqScales& scales);

}  // namespace octet
