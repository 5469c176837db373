// Error checks for the CUDA runtime and cuBLAS.
//
// Every runtime call, every cuBLAS call and every kernel launch in kernels/cuda and in the CUDA
// backend goes through one of these macros; a failure throws octet::Error naming the call, the file
// and the line ("cudaMemcpyAsync(...) failed: cudaErrorInvalidValue (invalid argument) at
// kernels/cuda/conv_cuda.cu:120"). The backend adds the node name when it catches it.
//
// A kernel launch reports configuration errors (bad grid, too much shared memory) at once, through
// cudaGetLastError(); faults inside a kernel surface at the next synchronizing call. Running with
// CUDA_LAUNCH_BLOCKING=1 makes every launch synchronous, so such a fault is reported at its launch.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "engine/error.h"

namespace octet::cuda_detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  throw Error(detail::concat(call, " failed: ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ") at ",
                             file, ":", line));
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(detail::concat(call, " failed: ", cublasGetStatusName(status), " (", cublasGetStatusString(status),
                             ") at ", file, ":", line));
}

}  // namespace octet::cuda_detail

#define OCTET_CUDA_CHECK(call)                                                               \
  do {                                                                                       \
    const cudaError_t octet_cuda_status_ = (call);                                           \
    if (octet_cuda_status_ != cudaSuccess)                                                   \
      ::octet::cuda_detail::throw_cuda_error(octet_cuda_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define OCTET_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                           \
    const cublasStatus_t octet_cublas_status_ = (call);                                          \
    if (octet_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::octet::cuda_detail::throw_cublas_error(octet_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)

// After `kernel<<<grid, block, smem, stream>>>(...)`: OCTET_CUDA_CHECK_LAUNCH("kernel name").
#define OCTET_CUDA_CHECK_LAUNCH(kernel_name)                                                                    \
  do {                                                                                                          \
    const cudaError_t octet_cuda_status_ = cudaGetLastError();                                                  \
    if (octet_cuda_status_ != cudaSuccess)                                                                      \
      ::octet::cuda_detail::throw_cuda_error(octet_cuda_status_, "launch of " kernel_name, __FILE__, __LINE__); \
  } while (0)
