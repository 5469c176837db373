// NumPy .npz archives: named tensors in one file (octet compare --save-outputs / --load-outputs, so
// ONNX Runtime's, TensorRT's or PyTorch's outputs saved with numpy.savez can be a reference).
//
// An .npz is a zip archive with one .npy member per array, named "<name>.npy" (engine/tensor_io.h
// encodes each). Written: members stored (not deflated), as numpy.savez does; no zip64, so each
// member and the archive stay under 4 GiB. Read: stored or deflated members (numpy.savez_compressed),
// CRC-32 checked (zlib). Zip is written here rather than through libzip: these ~150 lines are the
// whole of the format numpy uses, and the GPU machine has no libzip.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace octet {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// In archive order; names without the ".npy" suffix. Error naming the file on anything malformed.
NamedTensors read_npz_file(const std::string& path);
// Atomic (engine/file_util.h). Names must be unique and non-empty.
void write_npz_file(const std::string& path, const NamedTensors& tensors);

// The archive's bytes on their own (tests).
std::string encode_npz(const NamedTensors& tensors);
NamedTensors decode_npz(const std::string& bytes, const std::string& origin);

}  // namespace octet
