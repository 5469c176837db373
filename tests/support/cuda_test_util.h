// Device plumbing shared by the CUDA test suites: a skip when no device is present, a checked call,
// an owning device array and a non-blocking stream. A failed CUDA call throws, which GoogleTest
// reports as a failure of the running test with the call's name.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cuda_backend.h"

#define OCTET_SKIP_WITHOUT_CUDA() \
  if (!::octet::cuda_device_present()) GTEST_SKIP() << "no CUDA device: " << ::octet::cuda_describe_device(0)

namespace octet::test {

inline void cuda_ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) {
    void* p = nullptr;
    if (n > 0) cuda_ok(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    ptr_ = static_cast<T*>(p);
  }
  explicit DeviceArray(const std::vector<T>& v) : DeviceArray(v.size()) { upload(v); }
  ~DeviceArray() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  void upload(const std::vector<T>& v) {
    if (!v.empty()) cuda_ok(cudaMemcpy(ptr_, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  // Fills every byte with `byte`, so an element a kernel never writes shows up in the comparison.
  void poison(uint8_t byte, cudaStream_t stream) {
    if (n_ > 0) cuda_ok(cudaMemsetAsync(ptr_, byte, n_ * sizeof(T), stream), "cudaMemsetAsync");
  }
  std::vector<T> download() const {
    std::vector<T> v(n_);
    if (n_ > 0) cuda_ok(cudaMemcpy(v.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return v;
  }

 private:
  T* ptr_ = nullptr;
  size_t n_;
};

class Stream {
 public:
  Stream() { cuda_ok(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  void sync() const { cuda_ok(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

 private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace octet::test
