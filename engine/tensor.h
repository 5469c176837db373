// Data types, shapes and the host tensor.
//
// A Tensor owns a contiguous, row-major host buffer. Device tensors live inside the CUDA backend;
// what crosses module boundaries is either a Tensor (host) or a TensorView (pointer + shape +
// where the memory lives), which is what observers (calibration taps) receive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/error.h"

namespace octet {

// Switches over DataType have no default: adding a type makes the compiler list every place to
// update.
enum class DataType : uint8_t { kFloat32, kInt8, kUInt8, kInt32, kInt64, kBool };

size_t element_size(DataType type);
const char* to_string(DataType type);

template <typename T>
constexpr DataType data_type_of();
template <> constexpr DataType data_type_of<float>() { return DataType::kFloat32; }
template <> constexpr DataType data_type_of<int8_t>() { return DataType::kInt8; }
template <> constexpr DataType data_type_of<uint8_t>() { return DataType::kUInt8; }
template <> constexpr DataType data_type_of<int32_t>() { return DataType::kInt32; }
template <> constexpr DataType data_type_of<int64_t>() { return DataType::kInt64; }
template <> constexpr DataType data_type_of<bool>() { return DataType::kBool; }

using Dims = std::vector<int64_t>;

// Number of elements of a shape; 1 for a scalar (rank 0).
int64_t numel(const Dims& dims);
// "[1, 3, 224, 224]"
std::string to_string(const Dims& dims);
// Row-major strides in elements.
Dims contiguous_strides(const Dims& dims);

class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType type, Dims dims);  // zero-filled

  DataType type() const { return type_; }
  const Dims& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t numel() const { return octet::numel(dims_); }
  size_t bytes() const { return bytes_.size(); }
  bool empty() const { return dims_.empty() && bytes_.empty(); }

  void* raw() { return bytes_.data(); }
  const void* raw() const { return bytes_.data(); }

  // Typed access; throws Error when T does not match type().
  template <typename T>
  T* data() {
    check_type(data_type_of<T>());
    return reinterpret_cast<T*>(bytes_.data());
  }
  template <typename T>
  const T* data() const {
    check_type(data_type_of<T>());
    return reinterpret_cast<const T*>(bytes_.data());
  }

  // Same bytes, new shape with the same element count (Reshape/Flatten/Squeeze are views of this).
  void reshape(Dims dims);

 private:
  void check_type(DataType expected) const;

  DataType type_ = DataType::kFloat32;
  Dims dims_;
  std::vector<uint8_t> bytes_;
};

enum class MemoryLocation : uint8_t { kHost, kCuda };

// A non-owning view of a tensor that may live on the host or on a CUDA device.
struct TensorView {
  DataType type = DataType::kFloat32;
  Dims dims;
  const void* data = nullptr;
  MemoryLocation location = MemoryLocation::kHost;
};

}  // namespace octet
