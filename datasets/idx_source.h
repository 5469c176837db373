// IDX files, the format of MNIST and Fashion-MNIST (Debian: dataset-fashion-mnist).
//
// Layout: magic 0x00 0x00 <type> <rank>, then `rank` big-endian uint32 dims, then the data, row
// major. octet reads type 0x08 (unsigned byte): images of rank 3 [N, H, W], labels of rank 1 [N].
// Files may be gzip-compressed (.gz) or raw. The labels file is found beside the images file by
// name: "<prefix>-images-idx3-ubyte[.gz]" -> "<prefix>-labels-idx1-ubyte[.gz]".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/batch_source.h"

namespace octet {

struct IdxArray {
  Dims dims;
  std::vector<uint8_t> data;
};

// Reads a whole IDX file; Error naming the file on a bad magic number, an unsupported type or
// truncated data.
IdxArray read_idx_file(const std::string& path);

// The labels file that belongs to an images file ("" when the name does not follow the convention
// or no such file exists).
std::string idx_labels_path_for(const std::string& images_path);

bool looks_like_idx_images(const std::string& path);

std::unique_ptr<BatchSource> open_idx_source(const std::string& images_path, const SourceOptions& options);

}  // namespace octet
