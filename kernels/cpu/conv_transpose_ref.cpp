#include "kernels/cpu/conv_transpose_ref.h"

namespace octet::kernels {

void conv_transpose2d_ref(const ConvTranspose2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  const int64_t outputs = s.n * s.m * s.oh * s.ow;
  for (int64_t i = 0; i < outputs; ++i) y[i] = conv_transpose2d_output(s, x, w, bias, i);
}

}  // namespace octet::kernels
