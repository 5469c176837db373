// Data movement, CPU reference: Slice, Split, Gather, Expand, Tile, DepthToSpace, SpaceToDepth, each
// the plainest loop over y stating its formula (kernels/data_movement.h). Elements of any type are
// copied as element_bytes bytes, so the results are exact and float32, int8, int32, int64 and bool
// all work (the importer folds int64 shape arithmetic through these).
#pragma once

#include <cstddef>
#include <vector>

#include "engine/tensor.h"
#include "kernels/data_movement.h"

namespace octet::kernels {

// axes: one SliceAxis per dimension of x (resolve_slice); y's dims are their counts.
void slice_ref(const void* x, const Dims& x_dims, const std::vector<SliceAxis>& axes, size_t element_bytes, void* y);

// outputs[k] (nullptr: not wanted) receives sizes[k] entries along `axis`; the sizes sum to x_dims[axis].
void split_ref(const void* x, const Dims& x_dims, int64_t axis, const Dims& sizes, size_t element_bytes,
               const std::vector<void*>& outputs);

// indices: `count` int64 or int32 values (index_type), each in [-x_dims[axis], x_dims[axis]) (the caller
// checks: engine/ops/gather.cpp). y holds outer * count * inner elements.
void gather_ref(const void* x, const Dims& x_dims, int64_t axis, const void* indices, DataType index_type,
                int64_t count, size_t element_bytes, void* y);

// y_dims: the broadcast of x_dims and Expand's shape (x's dims aligned on the right).
void expand_ref(const void* x, const Dims& x_dims, const Dims& y_dims, size_t element_bytes, void* y);

// repeats: one per dimension of x, non-negative.
void tile_ref(const void* x, const Dims& x_dims, const Dims& repeats, size_t element_bytes, void* y);

// x [N, C, H, W] with C divisible by blocksize^2; crd: CRD mode, else DCR.
void depth_to_space_ref(const void* x, const Dims& x_dims, int64_t blocksize, bool crd, size_t element_bytes, void* y);

// x [N, C, H, W] with H and W divisible by blocksize.
void space_to_depth_ref(const void* x, const Dims& x_dims, int64_t blocksize, size_t element_bytes, void* y);

}  // namespace octet::kernels
