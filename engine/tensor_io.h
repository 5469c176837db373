// Tensor files for `octet run --input/--output` and tests.
//
// Two formats, chosen by the extension:
//   .pb   a serialized ONNX TensorProto (the layout of ONNX's backend tests: input_0.pb, output_0.pb)
//   .npy  a NumPy array file, format version 1.0/2.0, little-endian, C order; float32, int8, uint8,
//         int32, int64 or bool
// Writing is atomic (engine/file_util.h).
#pragma once

#include <string>

#include "engine/tensor.h"

namespace octet {

Tensor read_tensor_file(const std::string& path);
void write_tensor_file(const std::string& path, const Tensor& tensor, const std::string& name = "");

// The .npy encoding on its own (used by write_tensor_file and tests).
std::string encode_npy(const Tensor& tensor);
Tensor decode_npy(const std::string& bytes, const std::string& origin);

}  // namespace octet
