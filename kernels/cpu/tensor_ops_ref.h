// Data movement and Softmax, reference (row-major, any rank).
//
//   transpose_ref: y[i_0, ..., i_{r-1}] = x[j] with j_{perm[d]} = i_d, so y's dims are
//                  x_dims[perm[0]], ..., x_dims[perm[r-1]]; an empty perm reverses the dimensions
//                  (ONNX's default).
//   concat_ref:    y is the inputs one after another along `axis`; every other dimension equal.
//   softmax_ref:   over each slice along `axis` (or, with coerce_2d, over the flattened dimensions
//                  axis..r-1, as ONNX Softmax before opset 13):
//                    y_i = exp(x_i - max_j x_j) / sum_j exp(x_j - max_j x_j)
//                  as kernels/softmax.h defines it (the operations and their order, shared with
//                  the CUDA kernels).
//   pad_ref:       constant mode. pads = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}];
//                  y_dims[d] = x_dims[d] + begin_d + end_d and y[i] = x[i - begin] where that index
//                  is inside x, else `value`. Negative pads crop.
//   copy_ref:      Reshape and Identity: the same bytes.
// transpose_ref, concat_ref and copy_ref move elements of any type (element_bytes each); softmax_ref
// and pad_ref are float32.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/tensor.h"

namespace octet::kernels {

// y's dims for a transpose; throws Error when perm is not a permutation of 0..rank-1 (or empty).
Dims transpose_output_dims(const Dims& x_dims, const Dims& perm);
void transpose_ref(const void* x, const Dims& x_dims, const Dims& perm, size_t element_bytes, void* y);

// y's dims for a concatenation; throws Error when ranks or the dimensions besides axis differ.
Dims concat_output_dims(const std::vector<Dims>& input_dims, int64_t axis);
void concat_ref(const std::vector<const void*>& inputs, const std::vector<Dims>& input_dims, int64_t axis,
                size_t element_bytes, void* y);

void softmax_ref(const float* x, const Dims& dims, int64_t axis, bool coerce_2d, float* y);

// y's dims for a pad; throws Error when pads has the wrong length or a dimension becomes negative.
Dims pad_output_dims(const Dims& x_dims, const Dims& pads);
void pad_ref(const float* x, const Dims& x_dims, const Dims& pads, float value, float* y);

void copy_ref(const void* x, size_t bytes, void* y);

}  // namespace octet::kernels
