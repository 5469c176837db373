// placeholder: being written (issue 5); replaced by its implementation.
#include "kernels/cuda/int8_ops_cuda.h"
#include "engine/error.h"
namespace octet::kernels {
void quantize_nchw_to_nhwcp_cuda(const float*, int64_t, int64_t, int64_t, int64_t, float, int8_t*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
void dequantize_nhwcp_to_nchw_cuda(const int8_t*, int64_t, int64_t, int64_t, int64_t, float, float*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
void maxpool2d_int8_cuda(const Pool2dShape&, const int8_t*, int8_t*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
void avgpool2d_int8_cuda(const Pool2dShape&, const int8_t*, float, float, int8_t*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
void global_avgpool_int8_cuda(const int8_t*, int64_t, int64_t, int64_t, int64_t, float, float, int8_t*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
void concat_int8_cuda(const std::vector<const int8_t*>&, const std::vector<int64_t>&, const std::vector<float>&, int64_t, int64_t, int64_t, float, int8_t*, cudaStream_t) { OCTET_UNSUPPORTED("not yet written"); }
}  // namespace octet::kernels
