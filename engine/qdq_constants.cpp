#include "engine/qdq_constants.h"

#include "engine/error.h"
#include "quantize/qscheme.h"

namespace octet {

float scale_of_element(const QdqScales& q, const Dims& dims, int64_t index) {
  if (!q.per_axis()) return q.scales[0];
  // Row-major: the index along `axis` is (index / inner) % dims[axis], inner = product of later dims.
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(q.axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  return q.scales[static_cast<size_t>(index / inner % dims[static_cast<size_t>(q.axis)])];
}

Tensor quantize_constant(const Tensor& x, const QdqScales& q) {
  OCTET_CHECK(x.type() == DataType::kFloat32, "QuantizeLinear of a ", to_string(x.type()), " constant");
  Tensor out(DataType::kInt8, x.dims());
  const float* in = x.data<float>();
  int8_t* o = out.data<int8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) o[i] = quant::quantize(in[i], scale_of_element(q, x.dims(), i));
  return out;
}

Tensor dequantize_constant(const Tensor& q, const QdqScales& scales) {
  Tensor out(DataType::kFloat32, q.dims());
  float* o = out.data<float>();
  if (q.type() == DataType::kInt8) {
    const int8_t* in = q.data<int8_t>();
    for (int64_t i = 0; i < q.numel(); ++i) o[i] = quant::dequantize(in[i], scale_of_element(scales, q.dims(), i));
  } else {
    OCTET_CHECK(q.type() == DataType::kInt32, "DequantizeLinear of a ", to_string(q.type()), " constant");
    const int32_t* in = q.data<int32_t>();
    for (int64_t i = 0; i < q.numel(); ++i) o[i] = quant::dequantize(in[i], scale_of_element(scales, q.dims(), i));
  }
  return out;
}

}  // namespace octet
