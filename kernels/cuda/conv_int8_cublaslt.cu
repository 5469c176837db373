// placeholder: being written (issue 5); replaced by its implementation.
#include "kernels/cuda/conv_int8_cuda.h"
#include "engine/error.h"
namespace octet::kernels {
bool conv_int8_cublaslt_supports(const Conv2dShape&) { return false; }
size_t conv_int8_cublaslt_workspace_bytes(const Conv2dShape&) { return 0; }
void conv_int8_cublaslt(const Int8ConvCudaArgs&, cublasLtHandle_t, cudaStream_t) { OCTET_UNSUPPORTED("cublaslt: not yet written"); }
}  // namespace octet::kernels
