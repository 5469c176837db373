#include "kernels/cpu/tensor_ops_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/broadcast.h"
#include "kernels/softmax.h"

namespace octet::kernels {

namespace {

Dims resolved_perm(const Dims& x_dims, const Dims& perm) {
  const auto rank = static_cast<int64_t>(x_dims.size());
  if (perm.empty()) {
    Dims reversed(x_dims.size());
    for (int64_t d = 0; d < rank; ++d) reversed[static_cast<size_t>(d)] = rank - 1 - d;
    return reversed;
  }
  OCTET_CHECK(static_cast<int64_t>(perm.size()) == rank, "Transpose: perm ", to_string(perm), " does not fit rank ",
              rank);
  std::vector<bool> seen(x_dims.size(), false);
  for (int64_t p : perm) {
    OCTET_CHECK(p >= 0 && p < rank && !seen[static_cast<size_t>(p)], "Transpose: perm ", to_string(perm),
                " is not a permutation of 0..", rank - 1);
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

}  // namespace

Dims transpose_output_dims(const Dims& x_dims, const Dims& perm) {
  const Dims p = resolved_perm(x_dims, perm);
  Dims y(x_dims.size());
  for (size_t d = 0; d < p.size(); ++d) y[d] = x_dims[static_cast<size_t>(p[d])];
  return y;
}

void transpose_ref(const void* x, const Dims& x_dims, const Dims& perm, size_t element_bytes, void* y) {
  const Dims p = resolved_perm(x_dims, perm);
  const Dims y_dims = transpose_output_dims(x_dims, p);
  const Dims x_strides = contiguous_strides(x_dims);
  // Stepping y's dimension d steps x's dimension perm[d].
  Dims read_strides(p.size());
  for (size_t d = 0; d < p.size(); ++d) read_strides[d] = x_strides[static_cast<size_t>(p[d])];
  const auto* src = static_cast<const unsigned char*>(x);
  auto* dst = static_cast<unsigned char*>(y);
  const int64_t count = numel(y_dims);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t from = strided_offset(i, y_dims, read_strides);
    std::memcpy(dst + static_cast<size_t>(i) * element_bytes, src + static_cast<size_t>(from) * element_bytes,
                element_bytes);
  }
}

Dims concat_output_dims(const std::vector<Dims>& input_dims, int64_t axis) {
  OCTET_CHECK(!input_dims.empty(), "Concat: no inputs");
  const Dims& first = input_dims.front();
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(first.size()), "Concat: axis ", axis,
              " is outside the rank of ", to_string(first));
  Dims y = first;
  y[static_cast<size_t>(axis)] = 0;
  for (const Dims& dims : input_dims) {
    OCTET_CHECK(dims.size() == first.size(), "Concat: inputs ", to_string(first), " and ", to_string(dims),
                " differ in rank");
    for (size_t d = 0; d < dims.size(); ++d)
      OCTET_CHECK(static_cast<int64_t>(d) == axis || dims[d] == first[d], "Concat: inputs ", to_string(first),
                  " and ", to_string(dims), " differ outside axis ", axis);
    y[static_cast<size_t>(axis)] += dims[static_cast<size_t>(axis)];
  }
  return y;
}

void concat_ref(const std::vector<const void*>& inputs, const std::vector<Dims>& input_dims, int64_t axis,
                size_t element_bytes, void* y) {
  OCTET_CHECK(inputs.size() == input_dims.size(), "Concat: ", inputs.size(), " inputs but ", input_dims.size(),
              " shapes");
  const Dims y_dims = concat_output_dims(input_dims, axis);
  // Every input contributes one contiguous block of dims[axis] * inner elements per outer index.
  const int64_t outer = numel(Dims(y_dims.begin(), y_dims.begin() + axis));
  const int64_t inner = numel(Dims(y_dims.begin() + axis + 1, y_dims.end()));
  auto* dst = static_cast<unsigned char*>(y);
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto block = static_cast<size_t>(input_dims[i][static_cast<size_t>(axis)] * inner) * element_bytes;
      std::memcpy(dst, static_cast<const unsigned char*>(inputs[i]) + static_cast<size_t>(o) * block, block);
      dst += block;
    }
  }
}

void softmax_ref(const float* x, const Dims& dims, int64_t axis, bool coerce_2d, float* y) {
  const auto rank = static_cast<int64_t>(dims.size());
  OCTET_CHECK(axis >= 0 && axis < rank, "Softmax: axis ", axis, " is outside the rank of ", to_string(dims));
  // Slices of `length` elements, `inner` apart, the first at o*length*inner + in.
  const int64_t outer = numel(Dims(dims.begin(), dims.begin() + axis));
  const int64_t length = coerce_2d ? numel(Dims(dims.begin() + axis, dims.end())) : dims[static_cast<size_t>(axis)];
  const int64_t inner = coerce_2d ? 1 : numel(Dims(dims.begin() + axis + 1, dims.end()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) softmax_slice(x + o * length * inner + in, y + o * length * inner + in, length, inner);
}

Dims pad_output_dims(const Dims& x_dims, const Dims& pads) {
  const size_t rank = x_dims.size();
  OCTET_CHECK(pads.size() == 2 * rank, "Pad: ", pads.size(), " pads for an input of rank ", rank, " (need ",
              2 * rank, ")");
  Dims y(rank);
  for (size_t d = 0; d < rank; ++d) {
    y[d] = x_dims[d] + pads[d] + pads[rank + d];
    OCTET_CHECK(y[d] >= 0, "Pad: pads ", to_string(pads), " crop more than dimension ", d, " of ",
                to_string(x_dims), " holds");
  }
  return y;
}

void pad_ref(const float* x, const Dims& x_dims, const Dims& pads, float value, float* y) {
  const Dims y_dims = pad_output_dims(x_dims, pads);
  const Dims x_strides = contiguous_strides(x_dims);
  const size_t rank = x_dims.size();
  const int64_t count = numel(y_dims);
  for (int64_t i = 0; i < count; ++i) {
    // Walk y's index from the last dimension; x's index is it minus the begin pads.
    int64_t rest = i;
    int64_t from = 0;
    bool inside = true;
    for (size_t d = rank; d-- > 0;) {
      const int64_t at = rest % y_dims[d] - pads[d];
      rest /= y_dims[d];
      inside = inside && at >= 0 && at < x_dims[d];
      from += at * x_strides[d];
    }
    y[i] = inside ? x[from] : value;
  }
}

void copy_ref(const void* x, size_t bytes, void* y) {
  if (x != y && bytes > 0) std::memmove(y, x, bytes);
}

}  // namespace octet::kernels
