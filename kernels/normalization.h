// LayerNormalization of float32 (ONNX opset 17 with stash_type float), one definition for the CPU
// reference (kernels/cpu/normalization_ref.h) and the CUDA kernel (kernels/cuda/normalization_cuda.h).
//
// X is viewed as [rows, n], n the product of X's dims from `axis` on; each row is normalised alone:
//   mean = (x_0 + ... + x_{n-1}) / n
//   var  = ((x_0 - mean)^2 + ... + (x_{n-1} - mean)^2) / n     two passes, so no E[x^2] - mean^2
//                                                               cancellation
//   y_j  = (x_j - mean) / sqrtf(var + epsilon) * scale_j + bias_j
// Both sums are taken in the order of kernels/reduce.h (32 round-robin lanes from 0, then their tree),
// each square as (x_j - mean) * (x_j - mean), each division by n a true division of float(n), y_j in
// the order written, every operation rounded to float (no FMA: kernels/cuda is built with
// --fmad=false, sqrtf and the divisions are correctly rounded on both sides), so the CPU reference and
// the CUDA kernel are bit-identical (NaN payloads aside, kernels/reduce.h). scale_j is
// scale[j * scale_stride] and bias_j bias[j * bias_stride], a stride 1 for a Scale/B holding the
// normalised dims and 0 for a one-element one; without B there is no addition at all (bias == nullptr).
#pragma once

#include <cstdint>

namespace octet::kernels {

struct LayerNormShape {
  int64_t rows = 0;
  int64_t n = 0;  // elements per row
  int64_t scale_stride = 1;
  int64_t bias_stride = 1;
  float epsilon = 1e-5f;
};

}  // namespace octet::kernels
