// Layout and normalisation ops on the GPU: Transpose, Concat, Pad (constant), Softmax.
//
// Transpose and Concat move elements of any size (1, 4 or 8 bytes: every octet DataType) and are
// exact. Pad and Softmax are FP32 and bit-identical to their CPU references.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace octet::kernels {

constexpr int kMaxLayoutRank = 8;

// y = x.transpose(perm): y dims[d] = x_dims[perm[d]].
void transpose_cuda(const void* x, const Dims& x_dims, const Dims& perm, void* y, size_t element_bytes,
                    cudaStream_t stream);

// y = concat(inputs, axis): every input has y's dims except along `axis`. Each input is one strided
// device-to-device copy (cudaMemcpy2DAsync) into its slab of y.
void concat_cuda(const std::vector<const void*>& inputs, const std::vector<Dims>& input_dims, int64_t axis, void* y,
                 size_t element_bytes, cudaStream_t stream);

// Constant pad: pads = [begin_0 .. begin_{r-1}, end_0 .. end_{r-1}], negative entries crop.
//   y[j] = x[j - begin] when every coordinate is inside x, else value.
void pad_constant_cuda(const float* x, const Dims& x_dims, const Dims& pads, float value, float* y, const Dims& y_dims,
                       cudaStream_t stream);

// Softmax over rows of `length` elements, stride `inner`, x viewed as [outer, length, inner]:
//   m = max_j x_j,  e_j = e^(x_j - m),  y_j = e_j / sum_j e_j
// with kernels/softmax.h's operations in its order: bit-identical to softmax_ref.
// ONNX opset >= 13 (one axis): outer = prod(dims[:axis]), length = dims[axis], inner = prod(dims[axis+1:]).
// Opset < 13 (coerce_2d):      outer = prod(dims[:axis]), length = prod(dims[axis:]), inner = 1.
void softmax_cuda(const float* x, float* y, int64_t outer, int64_t length, int64_t inner, cudaStream_t stream);

}  // namespace octet::kernels
