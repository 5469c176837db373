// DeviceBuffer: one cudaMalloc'd block owned by an object, for the backend and the calibrator.
//
// The destructor never throws: a failure while tearing down is ignored (there is no one left to
// tell). An allocation failure throws octet::Error naming what the memory was for, and clears the
// (non-sticky) out-of-memory error so later calls report their own.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "engine/error.h"

namespace octet {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept : ptr_(other.ptr_) { other.ptr_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      if (ptr_ != nullptr) cudaFree(ptr_);
      ptr_ = other.ptr_;
      other.ptr_ = nullptr;
    }
    return *this;
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }

  void allocate(size_t bytes, const char* what) {
    if (bytes == 0) return;
    const cudaError_t status = cudaMalloc(&ptr_, bytes);
    if (status != cudaSuccess) {
      ptr_ = nullptr;
      cudaGetLastError();
      throw Error(
          detail::concat("cudaMalloc of ", bytes, " bytes for the ", what, " failed: ", cudaGetErrorString(status)));
    }
  }

  char* get() const { return static_cast<char*>(ptr_); }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

}  // namespace octet
