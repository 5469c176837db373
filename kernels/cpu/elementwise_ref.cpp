#include "kernels/cpu/elementwise_ref.h"

#include <cmath>

#include "kernels/cpu/broadcast.h"

namespace octet::kernels {

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "Add";
    case BinaryOp::kSub: return "Sub";
    case BinaryOp::kMul: return "Mul";
    case BinaryOp::kDiv: return "Div";
  }
  return "?";
}

namespace {
float apply_binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
  }
  return a;
}
}  // namespace

void binary_ref(BinaryOp op, const float* a, const Dims& a_dims, const float* b, const Dims& b_dims, float* y) {
  const Dims y_dims = broadcast_shape(a_dims, b_dims, binary_op_name(op));
  const int64_t count = numel(y_dims);
  if (a_dims == b_dims) {  // no broadcasting: the index walk below would give i for both operands
    for (int64_t i = 0; i < count; ++i) y[i] = apply_binary(op, a[i], b[i]);
    return;
  }
  const Dims a_strides = broadcast_strides(a_dims, y_dims);
  const Dims b_strides = broadcast_strides(b_dims, y_dims);
  for (int64_t i = 0; i < count; ++i)
    y[i] = apply_binary(op, a[strided_offset(i, y_dims, a_strides)], b[strided_offset(i, y_dims, b_strides)]);
}

void activation_ref(const ActivationParams& params, const float* x, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = apply_activation(params, x[i]);
}

void batchnorm_ref(const float* x, const Dims& x_dims, const float* scale, const float* bias, const float* mean,
                   const float* var, float epsilon, float* y) {
  OCTET_CHECK(x_dims.size() >= 2, "BatchNormalization needs an input of rank >= 2, got ", to_string(x_dims));
  const int64_t batch = x_dims[0];
  const int64_t channels = x_dims[1];
  const int64_t inner = numel(Dims(x_dims.begin() + 2, x_dims.end()));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const float deviation = std::sqrt(var[c] + epsilon);
      const int64_t base = (n * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) y[base + i] = (x[base + i] - mean[c]) / deviation * scale[c] + bias[c];
    }
  }
}

}  // namespace octet::kernels
