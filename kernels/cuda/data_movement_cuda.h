// Data movement on the GPU: Slice, Split, Gather, Expand, Tile, DepthToSpace, SpaceToDepth
// (kernels/data_movement.h). Elements of 1, 2, 4 or 8 bytes (every octet DataType) are copied whole, so
// the results equal the CPU reference bit for bit. Enqueued on `stream`; launches are checked.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "kernels/data_movement.h"

namespace octet::kernels {

// y[i] = x[view.offset + sum_d coordinate_d(i) * view.strides[d]] for i < numel(view.dims): Slice,
// Expand, Tile, DepthToSpace and SpaceToDepth through their *_view (kernels/data_movement.h). x holds
// x_elements elements, which every offset the view reaches lies within.
void strided_copy_cuda(const void* x, int64_t x_elements, const StridedView& view, void* y, size_t element_bytes,
                       cudaStream_t stream);

// Split: outputs[k] (nullptr: not wanted) receives sizes[k] entries along `axis`, one strided
// device-to-device copy each (cudaMemcpy2DAsync), as Concat does the other way.
void split_cuda(const void* x, const Dims& x_dims, int64_t axis, const Dims& sizes, size_t element_bytes,
                const std::vector<void*>& outputs, cudaStream_t stream);

// INT8 data movement on NHWCp int8 (kernels/int8_layout.h), x logically [N, C, H, W] = x_dims: a
// window of x, one SliceAxis {start, step, count} per NCHW dimension, the channel one with step 1:
//   y[n, c, h, w] = x[n0 + n * step_n, c0 + c, h0 + h * step_h, w0 + w * step_w]   for c < count_c,
// stored NHWCp with y's pad channels 0, one 32-bit word (4 channels) per thread. An INT8 Slice is one
// window, an INT8 Split one per part; on NCHW int8 both are the byte copies above. y 4-byte aligned.
void window_int8_nhwcp_cuda(const int8_t* x, const Dims& x_dims, const std::vector<SliceAxis>& window, int8_t* y,
                            cudaStream_t stream);

// Gather of `count` int64 or int32 indices along `axis`. A kernel cannot raise an error, so an index
// outside [-n, n) is clamped to [0, n - 1] here (it reads inside x); the CPU backend reports it instead.
void gather_cuda(const void* x, const Dims& x_dims, int64_t axis, const void* indices, DataType index_type,
                 int64_t count, size_t element_bytes, void* y, cudaStream_t stream);

}  // namespace octet::kernels
