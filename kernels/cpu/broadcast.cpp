#include "kernels/cpu/broadcast.h"

#include <algorithm>

namespace octet::kernels {

Dims broadcast_shape(const Dims& a, const Dims& b, const std::string& context) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    OCTET_CHECK(da == db || da == 1 || db == 1, context, ": shapes ", to_string(a), " and ", to_string(b),
                " do not broadcast");
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcasts_to(const Dims& dims, const Dims& out_dims) {
  if (dims.size() > out_dims.size()) return false;
  const size_t lead = out_dims.size() - dims.size();
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] != 1 && dims[i] != out_dims[lead + i]) return false;
  return true;
}

Dims broadcast_strides(const Dims& dims, const Dims& out_dims) {
  OCTET_CHECK(broadcasts_to(dims, out_dims), "shape ", to_string(dims), " does not broadcast to ",
              to_string(out_dims));
  const Dims own = contiguous_strides(dims);
  const size_t lead = out_dims.size() - dims.size();
  Dims strides(out_dims.size(), 0);
  for (size_t i = 0; i < dims.size(); ++i) strides[lead + i] = dims[i] == 1 ? 0 : own[i];
  return strides;
}

int64_t strided_offset(int64_t linear, const Dims& dims, const Dims& strides) {
  int64_t offset = 0;
  for (size_t d = dims.size(); d-- > 0;) {
    offset += (linear % dims[d]) * strides[d];
    linear /= dims[d];
  }
  return offset;
}

}  // namespace octet::kernels
