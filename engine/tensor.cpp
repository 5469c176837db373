#include "engine/tensor.h"

#include <sstream>

namespace octet {

size_t element_size(DataType type) {
  switch (type) {
    case DataType::kFloat32: return 4;
    case DataType::kInt8: return 1;
    case DataType::kUInt8: return 1;
    case DataType::kInt32: return 4;
    case DataType::kInt64: return 8;
    case DataType::kBool: return 1;
  }
  return 0;
}

const char* to_string(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "float32";
    case DataType::kInt8: return "int8";
    case DataType::kUInt8: return "uint8";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kBool: return "bool";
  }
  return "?";
}

int64_t numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string to_string(const Dims& dims) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? ", " : "") << dims[i];
  out << ']';
  return out.str();
}

Dims contiguous_strides(const Dims& dims) {
  Dims strides(dims.size(), 1);
  for (int64_t i = static_cast<int64_t>(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

Tensor::Tensor(DataType type, Dims dims) : type_(type), dims_(std::move(dims)) {
  for (int64_t d : dims_) OCTET_CHECK(d >= 0, "tensor dimension ", d, " in ", to_string(dims_), " is negative");
  bytes_.assign(static_cast<size_t>(octet::numel(dims_)) * element_size(type_), 0);
}

void Tensor::reshape(Dims dims) {
  OCTET_CHECK(octet::numel(dims) == numel(), "cannot reshape ", to_string(dims_), " to ", to_string(dims));
  dims_ = std::move(dims);
}

void Tensor::check_type(DataType expected) const {
  OCTET_CHECK(expected == type_, "tensor holds ", to_string(type_), ", accessed as ", to_string(expected));
}

}  // namespace octet
