#include "kernels/cpu/data_movement_ref.h"

#include <cstring>

namespace octet::kernels {

namespace {

// Copies x's element `from` to y's element `to`.
inline void copy_element(const void* x, int64_t from, void* y, int64_t to, size_t element_bytes) {
  std::memcpy(static_cast<unsigned char*>(y) + static_cast<size_t>(to) * element_bytes,
              static_cast<const unsigned char*>(x) + static_cast<size_t>(from) * element_bytes, element_bytes);
}

// Steps `c` to the next coordinates of `dims` in row-major order (the last dimension fastest).
inline void advance(Dims& c, const Dims& dims) {
  for (size_t d = c.size(); d-- > 0;) {
    if (++c[d] < dims[d]) return;
    c[d] = 0;
  }
}

}  // namespace

void slice_ref(const void* x, const Dims& x_dims, const std::vector<SliceAxis>& axes, size_t element_bytes, void* y) {
  OCTET_CHECK(axes.size() == x_dims.size(), "Slice: ", axes.size(), " axes for ", to_string(x_dims));
  Dims y_dims;
  for (const SliceAxis& a : axes) y_dims.push_back(a.count);
  const Dims xs = contiguous_strides(x_dims);
  const int64_t total = numel(y_dims);
  Dims c(y_dims.size(), 0);  // y coordinates
  for (int64_t i = 0; i < total; ++i, advance(c, y_dims)) {
    int64_t from = 0;
    for (size_t d = 0; d < c.size(); ++d) from += (axes[d].start + c[d] * axes[d].step) * xs[d];
    copy_element(x, from, y, i, element_bytes);
  }
}

void split_ref(const void* x, const Dims& x_dims, int64_t axis, const Dims& sizes, size_t element_bytes,
               const std::vector<void*>& outputs) {
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x_dims.size()) && sizes.size() == outputs.size(),
              "Split: axis ", axis, " and ", sizes.size(), " sizes for ", outputs.size(), " outputs of ",
              to_string(x_dims));
  // x as [outer, n, inner]: output k takes rows [offset_k, offset_k + sizes[k]) of every outer block.
  const int64_t outer = numel(Dims(x_dims.begin(), x_dims.begin() + axis));
  const int64_t n = x_dims[static_cast<size_t>(axis)];
  const int64_t inner = numel(Dims(x_dims.begin() + axis + 1, x_dims.end()));
  int64_t offset = 0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    for (int64_t o = 0; outputs[k] != nullptr && o < outer; ++o)
      for (int64_t j = 0; j < sizes[k]; ++j)
        for (int64_t in = 0; in < inner; ++in)
          copy_element(x, (o * n + offset + j) * inner + in, outputs[k], (o * sizes[k] + j) * inner + in,
                       element_bytes);
    offset += sizes[k];
  }
  OCTET_CHECK(offset == n, "Split: sizes ", to_string(sizes), " do not sum to dimension ", axis, " of ",
              to_string(x_dims));
}

void gather_ref(const void* x, const Dims& x_dims, int64_t axis, const void* indices, DataType index_type,
                int64_t count, size_t element_bytes, void* y) {
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x_dims.size()), "Gather: axis ", axis, " for ",
              to_string(x_dims));
  OCTET_CHECK(index_type == DataType::kInt64 || index_type == DataType::kInt32, "Gather: indices of type ",
              to_string(index_type));
  const int64_t outer = numel(Dims(x_dims.begin(), x_dims.begin() + axis));
  const int64_t n = x_dims[static_cast<size_t>(axis)];
  const int64_t inner = numel(Dims(x_dims.begin() + axis + 1, x_dims.end()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j) {
      const int64_t v = index_type == DataType::kInt64 ? static_cast<const int64_t*>(indices)[j]
                                                       : static_cast<const int32_t*>(indices)[j];
      const int64_t at = v < 0 ? v + n : v;
      for (int64_t k = 0; k < inner; ++k)
        copy_element(x, (o * n + at) * inner + k, y, (o * count + j) * inner + k, element_bytes);
    }
}

void expand_ref(const void* x, const Dims& x_dims, const Dims& y_dims, size_t element_bytes, void* y) {
  OCTET_CHECK(x_dims.size() <= y_dims.size(), "Expand: input ", to_string(x_dims), " has more dims than ",
              to_string(y_dims));
  const size_t lead = y_dims.size() - x_dims.size();
  const Dims xs = contiguous_strides(x_dims);
  const int64_t total = numel(y_dims);
  Dims c(y_dims.size(), 0);  // y coordinates
  for (int64_t i = 0; i < total; ++i, advance(c, y_dims)) {
    int64_t from = 0;
    for (size_t d = 0; d < x_dims.size(); ++d) from += (x_dims[d] == 1 ? 0 : c[lead + d]) * xs[d];
    copy_element(x, from, y, i, element_bytes);
  }
}

void tile_ref(const void* x, const Dims& x_dims, const Dims& repeats, size_t element_bytes, void* y) {
  OCTET_CHECK(repeats.size() == x_dims.size(), "Tile: ", repeats.size(), " repeats for ", to_string(x_dims));
  Dims y_dims;
  for (size_t d = 0; d < x_dims.size(); ++d) y_dims.push_back(x_dims[d] * repeats[d]);
  const Dims xs = contiguous_strides(x_dims);
  const int64_t total = numel(y_dims);
  Dims c(y_dims.size(), 0);  // y coordinates
  for (int64_t i = 0; i < total; ++i, advance(c, y_dims)) {
    int64_t from = 0;
    for (size_t d = 0; d < c.size(); ++d) from += (c[d] % x_dims[d]) * xs[d];
    copy_element(x, from, y, i, element_bytes);
  }
}

void depth_to_space_ref(const void* x, const Dims& x_dims, int64_t blocksize, bool crd, size_t element_bytes,
                        void* y) {
  OCTET_CHECK(x_dims.size() == 4 && blocksize > 0 && x_dims[1] % (blocksize * blocksize) == 0,
              "DepthToSpace: input ", to_string(x_dims), " with blocksize ", blocksize);
  const int64_t b = blocksize, n = x_dims[0], c = x_dims[1], h = x_dims[2], w = x_dims[3];
  const int64_t cp = c / (b * b), oh = h * b, ow = w * b;
  int64_t i = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t oc = 0; oc < cp; ++oc)
      for (int64_t y_h = 0; y_h < oh; ++y_h)
        for (int64_t y_w = 0; y_w < ow; ++y_w, ++i) {
          const int64_t bh = y_h % b, bw = y_w % b;
          const int64_t src = crd ? oc * b * b + bh * b + bw : (bh * b + bw) * cp + oc;
          copy_element(x, ((in * c + src) * h + y_h / b) * w + y_w / b, y, i, element_bytes);
        }
}

void space_to_depth_ref(const void* x, const Dims& x_dims, int64_t blocksize, size_t element_bytes, void* y) {
  OCTET_CHECK(x_dims.size() == 4 && blocksize > 0 && x_dims[2] % blocksize == 0 && x_dims[3] % blocksize == 0,
              "SpaceToDepth: input ", to_string(x_dims), " with blocksize ", blocksize);
  const int64_t b = blocksize, n = x_dims[0], c = x_dims[1], h = x_dims[2], w = x_dims[3];
  const int64_t oc = c * b * b, oh = h / b, ow = w / b;
  int64_t i = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t y_c = 0; y_c < oc; ++y_c)
      for (int64_t y_h = 0; y_h < oh; ++y_h)
        for (int64_t y_w = 0; y_w < ow; ++y_w, ++i) {
          // y channel (bh * b + bw) * C + src
          const int64_t src = y_c % c, bw = (y_c / c) % b, bh = y_c / (c * b);
          copy_element(x, ((in * c + src) * h + y_h * b + bh) * w + y_w * b + bw, y, i, element_bytes);
        }
}

}  // namespace octet::kernels
